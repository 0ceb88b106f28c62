import Kinesis
import Synchronization

/// The fate of one record handed to a ``Producer``: await ``result()`` to learn where it
/// landed, or why it never will.
public final class RecordTicket: Sendable {
    typealias Callback = @Sendable (Result<PublishResult, ProducerError>) -> Void

    private enum State {
        case pending([CheckedContinuation<PublishResult, any Error>], [Callback])
        case done(Result<PublishResult, ProducerError>)
    }

    private let state = Mutex(State.pending([], []))

    init() {}

    /// Waits until the record is delivered (its shard and sequence number) or has failed.
    public func result() async throws -> PublishResult {
        try await withCheckedThrowingContinuation { continuation in
            let done: Result<PublishResult, ProducerError>? = state.withLock { state in
                switch state {
                case .pending(var waiting, let callbacks):
                    waiting.append(continuation)
                    state = .pending(waiting, callbacks)
                    return nil
                case .done(let result):
                    return result
                }
            }
            if let done { continuation.resume(with: done.mapError { $0 as any Error }) }
        }
    }

    /// The outcome if it is known already.
    public var outcome: Result<PublishResult, ProducerError>? {
        state.withLock { state in
            if case .done(let result) = state { return result }
            return nil
        }
    }

    /// Calls `body` once with the outcome: at once if it is known, else when it is. For
    /// callers that track many records and cannot afford a task per ticket (a load runner).
    /// `body` runs on the producer's task: keep it short.
    public func whenComplete(_ body: @escaping @Sendable (Result<PublishResult, ProducerError>) -> Void) {
        let done: Result<PublishResult, ProducerError>? = state.withLock { state in
            switch state {
            case .pending(let waiting, var callbacks):
                callbacks.append(body)
                state = .pending(waiting, callbacks)
                return nil
            case .done(let result):
                return result
            }
        }
        if let done { body(done) }
    }

    func complete(_ result: Result<PublishResult, ProducerError>) {
        let (waiting, callbacks): ([CheckedContinuation<PublishResult, any Error>], [Callback]) = state.withLock { state in
            guard case .pending(let waiting, let callbacks) = state else { return ([], []) }
            state = .done(result)
            return (waiting, callbacks)
        }
        for callback in callbacks { callback(result) }
        for continuation in waiting { continuation.resume(with: result.mapError { $0 as any Error }) }
    }
}

/// How the fate of one user record reaches whoever put it: a ticket to await, a callback, or
/// nothing but the producer's counts (``Producer/statistics`` and its metrics). The last two
/// cost no allocation per record beyond the closure a caller passes.
enum Completion: Sendable {
    case ticket(RecordTicket)
    case callback(@Sendable (Result<PublishResult, ProducerError>) -> Void)
    case counted

    /// Whether anyone hears of the outcome beyond the producer's counts.
    var isTracked: Bool {
        if case .counted = self { return false }
        return true
    }

    func complete(_ result: Result<PublishResult, ProducerError>) {
        switch self {
        case .ticket(let ticket): ticket.complete(result)
        case .callback(let body): body(result)
        case .counted: break
        }
    }
}
