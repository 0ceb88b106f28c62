import Foundation
import Kinesis
import Logging

/// Publishes events to one stream: the NestJS module's `KinesisService`, done properly.
///
/// - `publish(_:partitionKey:)` encodes an event as JSON (the encoder is yours to configure)
///   and sends it with PutRecord, retrying throttling and transient failures.
/// - `publishBatch(_:)` splits by 500 entries and by the request byte limit, resends only
///   the entries that failed, with backoff, until they succeed or the deadline passes, and
///   reports the fate of every entry.
///
/// ```swift
/// let service = KinesisService(api: client, streamName: "orders")
/// let result = try await service.publish(OrderCreated(orderId: "o-1"), partitionKey: "o-1")
/// print(result.shardId, result.sequenceNumber)
/// ```
public struct KinesisService: EventPublisher {
    /// Where records are sent.
    public let api: any KinesisAPI
    /// The stream every event goes to.
    public let streamName: String
    /// The record checks made before sending.
    public var limits: RecordLimits
    /// Retries of whole calls and of failed batch entries.
    public var retry: RetryPolicy
    /// Whether ``publishBatch(_:)`` keeps the entries of one partition key in order (`.none` by
    /// default: a batch goes out in as few requests as the limits allow). ``publish(_:partitionKey:)``
    /// needs no setting: one call at a time keeps order for a caller that awaits each.
    public var ordering: RecordOrdering = .none
    private let encode: @Sendable (any Encodable) throws -> Data
    private let logger: Logger?

    /// A service for `streamName`; retries throttling for up to 30 s by default.
    public init(
        api: any KinesisAPI, streamName: String, limits: RecordLimits = .default,
        retry: RetryPolicy = RetryPolicy(maxAttempts: 10, baseDelay: .milliseconds(50), maxDelay: .seconds(2), deadline: .seconds(30)),
        encoder: @escaping @Sendable () -> JSONEncoder = { JSONEncoder() }, logger: Logger? = nil
    ) {
        self.api = api
        self.streamName = streamName
        self.limits = limits
        self.retry = retry
        self.encode = { value in try encoder().encode(value) }
        self.logger = logger
    }

    /// Encodes `event` as JSON and sends it with PutRecord; throws ``PublishError``.
    public func publish<Event: Encodable & Sendable>(_ event: Event, partitionKey: String) async throws -> PublishResult {
        try await publish(data: PublishError.encoding(event, with: encode), partitionKey: partitionKey, explicitHashKey: nil)
    }

    /// Sends raw bytes with PutRecord, retrying what can be retried; throws ``PublishError``.
    public func publish(data: Data, partitionKey: String, explicitHashKey: String?) async throws -> PublishResult {
        let entry = PublishEntry(data: data, partitionKey: partitionKey, explicitHashKey: explicitHashKey)
        if let problem = limits.problem(with: entry) { throw problem }
        var attempts = 0
        do {
            let output = try await retry.run { attempt in
                attempts = attempt
                return try await api.putRecord(
                    PutRecordInput(streamName: streamName, data: data, partitionKey: partitionKey, explicitHashKey: explicitHashKey))
            }
            return PublishResult(shardId: output.shardId, sequenceNumber: output.sequenceNumber)
        } catch let error as KinesisError {
            throw PublishError(failedWith: error, attempts: attempts)
        }
    }

    /// Publishes `entries`; never throws for a failed entry (its outcome says why), only for
    /// cancellation. With ``ordering`` `.perKey`, a request carries at most one entry of a
    /// partition key and a failed entry is resent before the next entry of its key goes out, so
    /// the entries of one key land in the order given (at the price of a round per entry of the
    /// busiest key).
    public func publishBatch(_ entries: [PublishEntry]) async throws -> BatchPublishResult {
        var outcomes = [BatchPublishResult.Outcome?](repeating: nil, count: entries.count)
        var attempts = [Int](repeating: 0, count: entries.count)
        var pending: [Int] = []
        // Per-key order: the entries of each key still to send, in order; only the first of each is pending.
        var queues: [String: ArraySlice<Int>] = [:]
        for (index, entry) in entries.enumerated() {
            if let problem = limits.problem(with: entry, index: index) {
                outcomes[index] = .failed(code: problem.reportedCode, message: problem.message, attempts: 0)
            } else if ordering == .perKey {
                if queues[entry.partitionKey] == nil { pending.append(index) }
                queues[entry.partitionKey, default: []].append(index)
            } else {
                pending.append(index)
            }
        }
        let clock = ContinuousClock()
        let start = clock.now
        var random = SystemRandomNumberGenerator()
        var round = 0
        var failedRounds = 0
        while !pending.isEmpty {
            try Task.checkCancellation()
            round += 1
            var retryable: [Int] = []
            // The round's backoff is decided by a retryable error: a non-retryable entry in the
            // same round (say KMSAccessDeniedException) fails alone and must not abandon the rest.
            var lastRetryableError: KinesisError?
            for chunk in chunks(of: pending, entries: entries) {
                for index in chunk { attempts[index] += 1 }
                do {
                    let output = try await api.putRecords(
                        PutRecordsInput(
                            streamName: streamName,
                            records: chunk.map {
                                PutRecordsRequestEntry(
                                    data: entries[$0].data, partitionKey: entries[$0].partitionKey,
                                    explicitHashKey: entries[$0].explicitHashKey)
                            }))
                    guard output.records.count == chunk.count else {
                        throw KinesisError(
                            code: .invalidResponse,
                            message: "PutRecords answered \(output.records.count) entries for \(chunk.count) sent", operation: "PutRecords")
                    }
                    for (position, result) in output.records.enumerated() {
                        let index = chunk[position]
                        if let code = result.errorCode {
                            let error = KinesisError(code: .init(rawValue: code), message: result.errorMessage ?? "")
                            outcomes[index] = .failed(code: code, message: error.message, attempts: attempts[index])
                            if error.isRetryable {
                                retryable.append(index)
                                lastRetryableError = error
                            }
                        } else if let shardId = result.shardId, let sequenceNumber = result.sequenceNumber {
                            outcomes[index] = .published(PublishResult(shardId: shardId, sequenceNumber: sequenceNumber))
                        }
                    }
                } catch let error as KinesisError {
                    for index in chunk {
                        outcomes[index] = .failed(code: error.code.rawValue, message: error.message, attempts: attempts[index])
                    }
                    if error.isRetryable {
                        retryable += chunk
                        lastRetryableError = error
                    }
                }
            }
            if ordering == .perKey {
                // Entries that are done (landed, or failed for good) let the next of their key go.
                let resent = Set(retryable)
                var next = retryable
                for index in pending where !resent.contains(index) {
                    let key = entries[index].partitionKey
                    queues[key]?.removeFirst()
                    if let following = queues[key]?.first { next.append(following) } else { queues[key] = nil }
                }
                pending = next.sorted()
            } else {
                pending = retryable.sorted()
            }
            guard !pending.isEmpty else { break }
            guard let lastRetryableError else { continue }
            failedRounds += 1
            switch retry.decide(after: lastRetryableError, attempt: failedRounds, elapsed: start.duration(to: clock.now), using: &random) {
            case .fail:
                pending = []
            case .retry(let wait):
                logger?.debug(
                    "resending failed entries",
                    metadata: ["kinesis.stream": "\(streamName)", "kinesis.entries": "\(pending.count)", "kinesis.round": "\(round)"])
                try await Task.sleep(for: wait)
            }
        }
        // An entry without an outcome was never sent (it waited behind an earlier entry of its
        // key when the retries ran out), or was answered with neither an error nor a sequence number.
        return BatchPublishResult(
            outcomes: outcomes.enumerated().map { index, outcome in
                if let outcome { return outcome }
                if attempts[index] == 0 {
                    return .failed(
                        code: PublishError.Code.retriesExhausted.rawValue,
                        message: "not sent: the retries ran out while an earlier record of partition key '\(entries[index].partitionKey.prefix(40))' was being resent",
                        attempts: 0)
                }
                return .failed(
                    code: KinesisError.Code.invalidResponse.rawValue, message: "PutRecords answered entry \(index) without a sequence number",
                    attempts: attempts[index])
            })
    }

    /// Splits entry indices into PutRecords requests: at most 500 entries and the byte limit each.
    func chunks(of indices: [Int], entries: [PublishEntry]) -> [[Int]] {
        var result: [[Int]] = []
        var current: [Int] = []
        var bytes = 0
        for index in indices {
            let size = entries[index].data.count + entries[index].partitionKey.utf8.count
            if !current.isEmpty, current.count == limits.maximumRequestRecords || bytes + size > limits.maximumRequestBytes {
                result.append(current)
                current = []
                bytes = 0
            }
            current.append(index)
            bytes += size
        }
        if !current.isEmpty { result.append(current) }
        return result
    }
}
