import Foundation
import Kinesis
import KinesisProducer
import Synchronization

/// A stand-in for the publishing API in an app's own tests: keeps what the app published,
/// decodes it back into the app's types, waits for events without sleeping, and can make
/// the next publishes fail.
///
/// ```swift
/// let publisher = RecordingPublisher()
/// let orders = OrderService(publisher: publisher)         // your code, taking `any EventPublisher`
/// try await orders.place(Order(id: "o-1", amount: 20))
/// let events = try publisher.events(as: OrderCreated.self)
/// #expect(events == [OrderCreated(orderId: "o-1", amount: 20)])
/// #expect(publisher.published.first?.partitionKey == "o-1")
/// ```
public final class RecordingPublisher: EventPublisher {
    /// A record the app published.
    public struct Published: Sendable, Hashable {
        /// The record's bytes, as published.
        public var data: Data
        /// The partition key it was published with.
        public var partitionKey: String
        /// The explicit hash key, if one was given.
        public var explicitHashKey: String?
        /// The shard Kinesis would pick for it on a stream of ``shardCount`` even shards.
        public var shardId: String
        /// A 56-digit sequence number, increasing in publish order.
        public var sequenceNumber: String
    }

    /// Shards of the imagined stream that ``Published/shardId`` is computed for.
    public let shardCount: Int
    /// The checks every record passes, the same as ``KinesisService``'s, so a test cannot pass
    /// where production would throw.
    public let limits: RecordLimits
    private let map: ShardMap
    private let encode: @Sendable (any Encodable) throws -> Data

    private struct Waiter {
        var count: Int
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var published: [Published] = []
        var failures: [KinesisError] = []
        var waiters: [Waiter] = []
        var counter: UInt64 = 1
    }

    private let state = Mutex(State())

    /// - Parameters:
    ///   - shardCount: shards of the stream that shard ids are predicted for.
    ///   - limits: the record checks; the service's by default, as ``KinesisService`` applies them.
    ///   - encode: how events become bytes; JSON by default, as the real publisher does.
    public init(
        shardCount: Int = 1, limits: RecordLimits = .default,
        encode: @escaping @Sendable (any Encodable) throws -> Data = { try JSONEncoder().encode($0) }
    ) {
        self.shardCount = shardCount
        self.limits = limits
        self.encode = encode
        self.map = ShardMap.even(count: shardCount)
    }

    /// Everything published so far, in order.
    public var published: [Published] { state.withLock { $0.published } }

    /// The published records decoded as `type`.
    ///
    /// - Throws: the decoding error of the first record that is not a `type`, naming its index.
    public func events<Event: Decodable>(as type: Event.Type, decoder: JSONDecoder = JSONDecoder()) throws -> [Event] {
        try published.enumerated().map { index, record in
            do {
                return try decoder.decode(Event.self, from: record.data)
            } catch {
                throw RecordingPublisherError(
                    message: "record \(index) (partition key \(record.partitionKey)) is not a \(Event.self): \(error)")
            }
        }
    }

    /// Makes the next `count` publishes fail with `error` (throttling by default), thrown as the
    /// ``PublishError`` a real publisher throws once its retries are spent (`underlying` is
    /// `error`). In a batch, each entry counts as one publish.
    public func failNext(
        _ count: Int = 1,
        with error: KinesisError = KinesisError(
            code: .provisionedThroughputExceeded, message: "Rate exceeded (RecordingPublisher)", httpStatus: 400)
    ) {
        state.withLock { $0.failures += Array(repeating: error, count: count) }
    }

    /// Forgets everything published and every pending failure.
    public func reset() {
        state.withLock { state in
            state.published = []
            state.failures = []
        }
    }

    /// Waits until at least `count` records were published, then returns them all. Throws
    /// ``RecordingPublisherError`` if that has not happened within `timeout`.
    @discardableResult
    public func waitForEvents(count: Int, timeout: Duration = .seconds(10)) async throws -> [Published] {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let ready = self.state.withLock { state -> Bool in
                        if state.published.count >= count { return true }
                        state.waiters.append(Waiter(count: count, continuation: continuation))
                        return false
                    }
                    if ready { continuation.resume() }
                }
                return true
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return false
            }
            let arrived = try await group.next() ?? false
            group.cancelAll()
            if !arrived {
                let have = published.count
                // Release the waiter the timeout left behind.
                let stale = state.withLock { state in
                    let stale = state.waiters.filter { $0.count == count }
                    state.waiters.removeAll { $0.count == count }
                    return stale
                }
                stale.forEach { $0.continuation.resume() }
                throw RecordingPublisherError(message: "waited \(timeout) for \(count) events, \(have) were published")
            }
            return published
        }
    }

    // MARK: - EventPublisher

    /// Encodes `event` and records it; throws ``PublishError`` as ``KinesisService`` would.
    public func publish<Event: Encodable & Sendable>(_ event: Event, partitionKey: String) async throws -> PublishResult {
        try await publish(data: PublishError.encoding(event, with: encode), partitionKey: partitionKey, explicitHashKey: nil)
    }

    /// Records raw bytes; throws ``PublishError`` as ``KinesisService`` would.
    public func publish(data: Data, partitionKey: String, explicitHashKey: String?) async throws -> PublishResult {
        try record(PublishEntry(data: data, partitionKey: partitionKey, explicitHashKey: explicitHashKey)).get()
    }

    /// Records every entry; the outcomes say what ``KinesisService/publishBatch(_:)`` would.
    public func publishBatch(_ entries: [PublishEntry]) async throws -> BatchPublishResult {
        BatchPublishResult(
            outcomes: entries.enumerated().map { index, entry in
                switch record(entry, index: index) {
                case .success(let result): return .published(result)
                case .failure(let error): return .failed(code: error.reportedCode, message: error.message, attempts: error.attempts)
                }
            })
    }

    private func record(_ entry: PublishEntry, index: Int? = nil) -> Result<PublishResult, PublishError> {
        if let problem = limits.problem(with: entry, index: index) { return .failure(problem) }
        let hashKey = ShardMap.hashKey(forPartitionKey: entry.partitionKey, explicitHashKey: entry.explicitHashKey)
        let shard = map.shardId(forHashKey: hashKey)
        let (outcome, ready): (Result<PublishResult, PublishError>, [CheckedContinuation<Void, Never>]) = state.withLock { state in
            if !state.failures.isEmpty { return (.failure(PublishError(failedWith: state.failures.removeFirst(), attempts: 1)), []) }
            let counter = state.counter
            state.counter += 1
            let shardIndex = shard.flatMap(ShardState.index(of:)) ?? 0
            let sequenceNumber = SequenceNumber.format(
                streamCreation: Int(ServiceLimits.doublesStartEpochSeconds), shardIndex: shardIndex, counter: counter, millis: 0)
            let result = PublishResult(shardId: shard ?? ShardMap.shardId(index: 0), sequenceNumber: sequenceNumber)
            state.published.append(
                Published(
                    data: entry.data, partitionKey: entry.partitionKey, explicitHashKey: entry.explicitHashKey,
                    shardId: result.shardId, sequenceNumber: sequenceNumber))
            let count = state.published.count
            let ready = state.waiters.filter { $0.count <= count }.map(\.continuation)
            state.waiters.removeAll { $0.count <= count }
            return (.success(result), ready)
        }
        ready.forEach { $0.resume() }
        return outcome
    }
}

/// A RecordingPublisher expectation that did not hold.
public struct RecordingPublisherError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, in a sentence.
    public var message: String
    /// A one-line text for logs and messages.
    public var description: String { message }
}
