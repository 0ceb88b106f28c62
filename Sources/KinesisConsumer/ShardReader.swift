import Foundation
import Kinesis
import Logging

/// Where a reader starts in a shard.
public enum StartingPosition: Sendable, Hashable {
    case trimHorizon
    case latest
    case atTimestamp(Date)
    case atSequenceNumber(String)
    case afterSequenceNumber(String)
}

/// Time as a consumer sees it: seconds since it was made, and a way to wait. Built from any
/// `Clock<Duration>`, so a test passes a manual clock and advances it instead of sleeping.
public struct ConsumerClock: Sendable {
    let now: @Sendable () -> Double
    let sleep: @Sendable (Duration) async throws -> Void

    public init(_ clock: some Clock<Duration>) {
        let origin = clock.now
        now = { origin.duration(to: clock.now).timeInterval }
        sleep = { try await clock.sleep(for: $0) }
    }

    public static var continuous: ConsumerClock { ConsumerClock(ContinuousClock()) }

    /// A clock from its two functions (the test harness runs on virtual time).
    package init(now: @escaping @Sendable () -> Double, sleep: @escaping @Sendable (Duration) async throws -> Void) {
        self.now = now
        self.sleep = sleep
    }
}

/// The wait before retry `retry` (1-based) in the consumer: `RetryPolicy`'s capped exponential
/// ceiling, drawn from its upper half, so that a retry never comes at once (a throttled shard
/// needs the time) yet retrying readers spread apart. Reads and processing retries share it.
func backoffDelay(base: Duration, max: Duration, retry: Int, using random: inout some RandomNumberGenerator) -> Duration {
    let ceiling = RetryPolicy(baseDelay: base, maxDelay: max).backoffCeiling(retry: retry).timeInterval
    return .nanoseconds(Int64(Double.random(in: ceiling / 2...ceiling, using: &random) * 1e9))
}

/// One GetRecords answer, deaggregated.
public struct ShardBatch: Sendable {
    public var shardId: String
    public var records: [ConsumerRecord]
    /// How far the shard's tip is ahead of this batch; 0 when caught up.
    public var millisBehindLatest: Int
    /// Kinesis records (an aggregate counts once) and their data bytes.
    public var kinesisRecords: Int
    public var bytes: Int
    /// The closed shard's end: no more batches follow; its children are in ``childShards``.
    public var isShardEnd: Bool
    public var childShards: [ChildShard]
    /// Deaggregated records whose hash key lies outside the shard (also flagged on the record).
    public var outOfRangeRecords: Int { records.lazy.filter(\.outOfShardRange).count }
}

/// Reading options of a shard.
public struct ShardReaderOptions: Sendable {
    /// Records asked for per GetRecords call (AWS's cap is 10,000 records and 10 MiB).
    public var maxRecordsPerCall = ServiceLimits.getRecordsMaxRecords
    /// At most 5 GetRecords calls per second per shard: calls are at least this far apart.
    public var minimumCallInterval: Duration = .milliseconds(200)
    /// Wait between calls once the reader is caught up (MillisBehindLatest 0).
    public var idleTime: Duration = .milliseconds(500)
    /// First backoff after ProvisionedThroughputExceeded or a server error; doubles, with jitter.
    public var backoffBase: Duration = .milliseconds(200)
    public var backoffMax: Duration = .seconds(5)
    /// Turn KPL aggregates into user records (true), or hand them over as they are.
    public var deaggregate = true
    /// Failed calls (throttles, server errors) retried in a row before the error is thrown.
    public var maxConsecutiveFailures = 20

    public init() {}
}

/// The records of one shard as an `AsyncSequence` of batches, from any starting position.
///
/// - An expired iterator is renewed AFTER_SEQUENCE_NUMBER of the last record delivered:
///   nothing skipped, nothing repeated.
/// - At most 5 calls per second; again at once while the shard is behind, after
///   ``ShardReaderOptions/idleTime`` once caught up; throttles and server errors back off with
///   jitter.
/// - The end of a closed shard (no next iterator) ends the sequence with a batch whose
///   ``ShardBatch/isShardEnd`` is set and which carries the children.
///
/// ```swift
/// for try await batch in ShardReader(api: client, stream: "orders", shardId: "shardId-000000000000", from: .trimHorizon) {
///     for record in batch.records { print(record.partitionKey, record.data.count) }
/// }
/// ```
public struct ShardReader: AsyncSequence, Sendable {
    public typealias Element = ShardBatch

    public let stream: String
    public let shardId: String
    public let start: StartingPosition
    public let options: ShardReaderOptions
    /// The shard's hash key range, to flag deaggregated records outside it (nil: none flagged).
    public let hashRange: ClosedRange<UInt128>?
    /// A closed shard's last sequence number (ListShards' EndingSequenceNumber): an empty page
    /// at the tip after it ends the shard even where a service never stops handing out
    /// iterators for closed shards (moto does that).
    public let endingSequenceNumber: String?
    let iterator: @Sendable (GetShardIteratorInput) async throws -> GetShardIteratorOutput
    let records: @Sendable (GetRecordsInput) async throws -> GetRecordsOutput
    /// Enhanced fan-out: the registered consumer's ARN and SubscribeToShard; nil to poll.
    private(set) var fanOut: (consumerARN: String, subscribe: @Sendable (SubscribeToShardInput) async throws -> SubscribeToShardOutput)?
    let clock: ConsumerClock
    let logger: Logger?

    /// A reader of one shard. With `fanOutConsumerARN` (a consumer registered with
    /// RegisterStreamConsumer) it reads by SubscribeToShard instead of GetRecords: records are
    /// pushed as they arrive, with the consumer's own 2 MiB/s, and it subscribes again after
    /// each five-minute subscription from the last continuation sequence number.
    public init(
        api: any KinesisAPI, stream: String, shardId: String, from start: StartingPosition, hashRange: ClosedRange<UInt128>? = nil,
        endingSequenceNumber: String? = nil, options: ShardReaderOptions = ShardReaderOptions(), clock: ConsumerClock = .continuous,
        logger: Logger? = nil, fanOutConsumerARN: String? = nil
    ) {
        self.init(
            stream: stream, shardId: shardId, from: start, hashRange: hashRange, endingSequenceNumber: endingSequenceNumber, options: options,
            clock: clock, logger: logger,
            iterator: { try await api.getShardIterator($0) }, records: { try await api.getRecords($0) })
        if let fanOutConsumerARN {
            self.fanOut = (fanOutConsumerARN, { try await api.subscribeToShard($0) })
        }
    }

    /// A reader over any source of the two calls it makes (the test harness scripts them).
    package init(
        stream: String, shardId: String, from start: StartingPosition, hashRange: ClosedRange<UInt128>?, endingSequenceNumber: String? = nil,
        options: ShardReaderOptions, clock: ConsumerClock, logger: Logger?, iterator: @escaping @Sendable (GetShardIteratorInput) async throws -> GetShardIteratorOutput,
        records: @escaping @Sendable (GetRecordsInput) async throws -> GetRecordsOutput
    ) {
        self.stream = stream
        self.shardId = shardId
        self.start = start
        self.hashRange = hashRange
        self.endingSequenceNumber = endingSequenceNumber
        var options = options
        options.maxRecordsPerCall = Swift.min(Swift.max(options.maxRecordsPerCall, 1), ServiceLimits.getRecordsMaxRecords)
        self.options = options
        self.clock = clock
        self.logger = logger
        self.iterator = iterator
        self.records = records
        self.fanOut = nil
    }

    public func makeAsyncIterator() -> Iterator { Iterator(reader: self) }

    /// The user records one at a time, for code that does not care about batches.
    public var userRecords: UserRecords { UserRecords(reader: self) }

    public struct Iterator: AsyncIteratorProtocol {
        let reader: ShardReader
        var shardIterator: String?
        /// The last Kinesis record delivered: where an expired iterator resumes.
        var lastSequenceNumber: String?
        var lastCall: Double?
        var caughtUp = false
        var finished = false
        var failures = 0
        var random = SystemRandomNumberGenerator()
        /// The shard's partition keys met so far, for the range check (none without a range).
        var partitionKeys: PartitionKeyCache?

        init(reader: ShardReader) {
            self.reader = reader
            partitionKeys = reader.hashRange == nil ? nil : PartitionKeyCache()
        }

        /// The subscription being read, with fan-out.
        var events: AsyncThrowingStream<SubscribeToShardEvent, any Error>.AsyncIterator?

        public mutating func next() async throws -> ShardBatch? {
            guard !finished else { return nil }
            if let fanOut = reader.fanOut { return try await nextPushed(fanOut.consumerARN, subscribe: fanOut.subscribe) }
            while true {
                try Task.checkCancellation()
                if shardIterator == nil { shardIterator = try await newIterator() }
                guard let current = shardIterator else { return nil }
                try await pace()
                lastCall = reader.clock.now()
                let page: GetRecordsOutput
                do {
                    page = try await reader.records(GetRecordsInput(shardIterator: current, limit: reader.options.maxRecordsPerCall))
                    failures = 0
                } catch let error as KinesisError where error.code == .expiredIterator {
                    // Renewed after the last record delivered: nothing skipped, nothing repeated.
                    reader.logger?.debug("shard iterator expired; renewing", metadata: ["shard": "\(reader.shardId)"])
                    shardIterator = nil
                    caughtUp = false
                    continue
                } catch let error as KinesisError where Self.isTransient(error) {
                    failures += 1
                    if failures > reader.options.maxConsecutiveFailures { throw error }
                    try await reader.clock.sleep(backoff())
                    continue
                }
                return batch(from: page)
            }
        }

        /// The next batch of a subscription: a new subscription when the last one ended (after
        /// five minutes, or taken over), from the last continuation sequence number; a
        /// subscription refused because an older one still holds the shard is tried again after
        /// a backoff.
        mutating func nextPushed(
            _ consumerARN: String, subscribe: @Sendable (SubscribeToShardInput) async throws -> SubscribeToShardOutput
        ) async throws -> ShardBatch? {
            while true {
                try Task.checkCancellation()
                if events == nil {
                    do {
                        events = try await subscribe(
                            SubscribeToShardInput(consumerARN: consumerARN, shardId: reader.shardId, startingPosition: resumePosition()))
                            .events.makeAsyncIterator()
                        failures = 0
                    } catch let error as KinesisError where error.code == .resourceInUse || Self.isTransient(error) {
                        failures += 1
                        if failures > reader.options.maxConsecutiveFailures { throw error }
                        try await reader.clock.sleep(backoff())
                        continue
                    }
                }
                let event: SubscribeToShardEvent?
                do {
                    event = try await events!.next()
                } catch let error as KinesisError where Self.isTransient(error) {
                    events = nil
                    failures += 1
                    if failures > reader.options.maxConsecutiveFailures { throw error }
                    try await reader.clock.sleep(backoff())
                    continue
                }
                guard let event else {
                    events = nil  // the subscription ended: subscribe again where it stopped
                    continue
                }
                let page = GetRecordsOutput(
                    records: event.records, nextShardIterator: event.childShards == nil ? "" : nil,
                    millisBehindLatest: event.millisBehindLatest, childShards: event.childShards)
                var batch = batch(from: page)
                batch.isShardEnd = event.childShards != nil
                finished = batch.isShardEnd
                if let continuation = event.continuationSequenceNumber { lastSequenceNumber = continuation }
                return batch
            }
        }

        static func isTransient(_ error: KinesisError) -> Bool {
            error.code == .provisionedThroughputExceeded || error.code == .limitExceeded || error.isRetryable
        }

        /// Exponential with full jitter, capped.
        mutating func backoff() -> Duration {
            backoffDelay(base: reader.options.backoffBase, max: reader.options.backoffMax, retry: failures, using: &random)
        }

        /// Calls at least `minimumCallInterval` apart; `idleTime` apart once caught up.
        func pace() async throws {
            guard let lastCall else { return }
            let gap = (caughtUp ? Swift.max(reader.options.idleTime, reader.options.minimumCallInterval) : reader.options.minimumCallInterval).timeInterval
            let wait = lastCall + gap - reader.clock.now()
            if wait > 0 { try await reader.clock.sleep(.nanoseconds(Int64(wait * 1e9))) }
        }

        /// Where reading (re)starts, for GetShardIterator and SubscribeToShard alike: after the
        /// last record delivered, or where the reader was told to start.
        func resumePosition() -> SubscribeStartingPosition {
            if let lastSequenceNumber { return SubscribeStartingPosition(type: .afterSequenceNumber, sequenceNumber: lastSequenceNumber) }
            switch reader.start {
            case .trimHorizon: return SubscribeStartingPosition(type: .trimHorizon)
            case .latest: return SubscribeStartingPosition(type: .latest)
            case .atTimestamp(let date): return SubscribeStartingPosition(type: .atTimestamp, timestamp: date)
            case .atSequenceNumber(let sequence): return SubscribeStartingPosition(type: .atSequenceNumber, sequenceNumber: sequence)
            case .afterSequenceNumber(let sequence): return SubscribeStartingPosition(type: .afterSequenceNumber, sequenceNumber: sequence)
            }
        }

        mutating func newIterator() async throws -> String? {
            let position = resumePosition()
            var input = GetShardIteratorInput(streamName: reader.stream, shardId: reader.shardId, shardIteratorType: position.type)
            input.startingSequenceNumber = position.sequenceNumber
            input.timestamp = position.timestamp
            var attempts = 0
            while true {
                do {
                    return try await reader.iterator(input).shardIterator
                } catch let error as KinesisError where Self.isTransient(error) && attempts < reader.options.maxConsecutiveFailures {
                    attempts += 1
                    failures = attempts
                    try await reader.clock.sleep(backoff())
                }
            }
        }

        mutating func batch(from page: GetRecordsOutput) -> ShardBatch {
            if let last = page.records.last { lastSequenceNumber = last.sequenceNumber }
            var users: [ConsumerRecord]
            if reader.options.deaggregate {
                users = Deaggregator.userRecords(page.records, shardId: reader.shardId, range: reader.hashRange, keys: &partitionKeys)
            } else {
                users = page.records.map {
                    ConsumerRecord(
                        shardId: reader.shardId, sequenceNumber: $0.sequenceNumber, partitionKey: $0.partitionKey, data: $0.data,
                        approximateArrivalTimestamp: $0.approximateArrivalTimestamp)
                }
            }
            let behind = page.millisBehindLatest ?? 0
            // A full page means more may be waiting, even when the tip is under a millisecond away.
            caughtUp = behind == 0 && page.records.count < reader.options.maxRecordsPerCall
            shardIterator = page.nextShardIterator
            var ended = page.nextShardIterator == nil
            if !ended, let ending = reader.endingSequenceNumber, page.records.isEmpty, behind == 0,
                lastSequenceNumber.map({ ExtendedSequenceNumber.compareSequenceNumbers($0, ending) >= 0 }) ?? true
            {
                ended = true
            }
            if ended { finished = true }
            return ShardBatch(
                shardId: reader.shardId, records: users, millisBehindLatest: behind, kinesisRecords: page.records.count,
                bytes: page.records.reduce(0) { $0 + $1.data.count }, isShardEnd: ended, childShards: page.childShards ?? [])
        }
    }

    /// A reader's user records one at a time.
    public struct UserRecords: AsyncSequence, Sendable {
        public typealias Element = ConsumerRecord
        let reader: ShardReader
        public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(batches: reader.makeAsyncIterator()) }

        public struct AsyncIterator: AsyncIteratorProtocol {
            var batches: ShardReader.Iterator
            var pending: [ConsumerRecord] = []
            var index = 0
            public mutating func next() async throws -> ConsumerRecord? {
                while index >= pending.count {
                    guard let batch = try await batches.next() else { return nil }
                    pending = batch.records
                    index = 0
                }
                defer { index += 1 }
                return pending[index]
            }
        }
    }
}
