import Foundation
import Kinesis
import KinesisConsumer
import Logging
import Metrics
import Synchronization

/// Unit-tests a `RecordProcessor` with no Kinesis at all: script what one shard's GetRecords
/// calls answer (records, KPL aggregates, a throttle, an expired iterator, the shard's end
/// after a split or a merge), run the processor through the same loop `StreamConsumer` uses,
/// and assert what it checkpointed, retried and sent to its failure hook.
///
/// ```swift
/// var harness = RecordProcessorHarness(processor: BillingProcessor())
/// harness.records([("order-1", #"{"id":1}"#), ("order-2", #"{"id":2}"#)])
/// harness.throttle()
/// harness.aggregate([("order-3", #"{"id":3}"#), ("order-4", #"{"id":4}"#)])
/// harness.endOfShard(children: ["shardId-000000000001", "shardId-000000000002"])
/// let result = try await harness.run()
/// #expect(result.checkpoints.last == .shardEnd)
/// #expect(result.failures.isEmpty)
/// ```
public struct RecordProcessorHarness<Processor: RecordProcessor>: Sendable {
    public enum Step: Sendable {
        case records([Record])
        case throttle
        case expiredIterator
        case internalFailure
        case endOfShard(children: [String])
    }

    /// What the run did.
    public struct Result: Sendable {
        /// Every checkpoint saved, in order (the last one is `.shardEnd` after ``endOfShard(children:)``).
        public var checkpoints: [ExtendedSequenceNumber]
        /// Records handed to the failure hook.
        public var failures: [RecordFailure]
        /// Processing attempts per record position (more than 1: retried).
        public var attempts: [ExtendedSequenceNumber: Int]
        /// The GetShardIterator calls made: after an expired iterator, AFTER_SEQUENCE_NUMBER of the last record.
        public var iteratorRequests: [GetShardIteratorInput]
        /// GetRecords calls made, throttled ones included.
        public var getRecordsCalls: Int
        /// Whether the shard was read to its end.
        public var shardEnded: Bool
        /// The positions retried (attempted more than once).
        public var retried: [ExtendedSequenceNumber] { attempts.filter { $0.value > 1 }.map(\.key).sorted() }
    }

    public let processor: Processor
    public var shardId: String
    /// The shard's hash key range, to flag out-of-range sub-records (default: the whole space).
    public var hashRange: ClosedRange<UInt128>?
    public var options: ProcessingOptions
    /// A checkpoint to resume after, as after a restart.
    public var resumeAfter: Checkpoint?
    public private(set) var steps: [Step] = []
    private var nextSequence = 0

    public init(processor: Processor, shardId: String = "shardId-000000000000", hashRange: ClosedRange<UInt128>? = UInt128.min...UInt128.max) {
        self.processor = processor
        self.shardId = shardId
        self.hashRange = hashRange
        var options = ProcessingOptions()
        options.maxAttempts = 3
        self.options = options
    }

    mutating func sequence() -> String {
        nextSequence += 1
        // 56 digits, as Kinesis writes them.
        return "49" + String(repeating: "0", count: 54 - String(nextSequence).count) + String(nextSequence)
    }

    /// A GetRecords page of plain records (partition key, data).
    public mutating func records(_ records: [(partitionKey: String, data: String)]) {
        steps.append(.records(records.map { Record(sequenceNumber: sequence(), data: Data($0.data.utf8), partitionKey: $0.partitionKey, approximateArrivalTimestamp: Date()) }))
    }

    /// A GetRecords page holding one KPL aggregate of these user records (partition key, data,
    /// explicit hash key): each becomes one record with its sub-sequence number.
    public mutating func aggregate(_ records: [(partitionKey: String, data: String)], explicitHashKeys: [String?]? = nil) {
        var builder = AggregatedRecordBuilder()
        for (index, record) in records.enumerated() {
            _ = builder.append(.init(partitionKey: record.partitionKey, explicitHashKey: explicitHashKeys?[index], data: Data(record.data.utf8)))
        }
        guard let built = builder.build() else { return }
        steps.append(.records([Record(sequenceNumber: sequence(), data: built.data, partitionKey: built.partitionKey, approximateArrivalTimestamp: Date())]))
    }

    /// A GetRecords page of what a `RecordingPublisher` recorded, in publishing order: publish
    /// app events in a test, then consume them.
    public mutating func published(_ publisher: RecordingPublisher) {
        steps.append(
            .records(
                publisher.published.map {
                    Record(sequenceNumber: $0.sequenceNumber, data: $0.data, partitionKey: $0.partitionKey, approximateArrivalTimestamp: Date())
                }))
    }

    /// The next GetRecords call is throttled (ProvisionedThroughputExceededException).
    public mutating func throttle() { steps.append(.throttle) }
    /// The next GetRecords call finds its iterator expired.
    public mutating func expiredIterator() { steps.append(.expiredIterator) }
    /// The next GetRecords call fails with InternalFailure.
    public mutating func internalFailure() { steps.append(.internalFailure) }
    /// The shard is closed and read to its end: two children after a split, one after a merge.
    public mutating func endOfShard(children: [String]) { steps.append(.endOfShard(children: children)) }
    /// Any step.
    public mutating func append(_ step: Step) { steps.append(step) }

    /// Runs the processor over the script; returns when the shard ends or the script is used up.
    public func run() async throws -> Result {
        let script = Mutex((steps: steps[...], iterators: [GetShardIteratorInput](), calls: 0, issued: 0))
        let stop = StopFlag()
        let store = RecordingCheckpointStore(resumeAfter: resumeAfter)
        let attempts = Mutex<[ExtendedSequenceNumber: Int]>([:])
        let failures = FailureLog()
        let virtualTime = Mutex(0.0)
        let clock = ConsumerClock(now: { virtualTime.withLock { $0 } }, sleep: { duration in virtualTime.withLock { $0 += duration.timeInterval } })
        let shardId = self.shardId
        let children: @Sendable ([String]) -> [ChildShard] = { ids in
            ids.map { ChildShard(shardId: $0, parentShards: [shardId], hashKeyRange: HashKeyRange(startingHashKey: "0", endingHashKey: "0")) }
        }
        let start: StartingPosition = resumeAfter.map { .atSequenceNumber($0.position.sequenceNumber) } ?? .trimHorizon
        var readerOptions = ShardReaderOptions()
        readerOptions.idleTime = .zero
        let reader = ShardReader(
            stream: "harness", shardId: shardId, from: start, hashRange: hashRange, options: readerOptions, clock: clock, logger: nil,
            iterator: { input in
                script.withLock { state in
                    state.iterators.append(input)
                    state.issued += 1
                    return GetShardIteratorOutput(shardIterator: "iterator-\(state.issued)")
                }
            },
            records: { _ in
                try script.withLock { state in
                    state.calls += 1
                    guard let step = state.steps.popFirst() else {
                        stop.set()
                        return GetRecordsOutput(records: [], nextShardIterator: "iterator-idle", millisBehindLatest: 0)
                    }
                    let behind = state.steps.isEmpty ? 0 : 1000
                    switch step {
                    case .records(let records): return GetRecordsOutput(records: records, nextShardIterator: "iterator-next", millisBehindLatest: behind)
                    case .throttle:
                        throw KinesisError(code: .provisionedThroughputExceeded, message: "Rate exceeded for Shard - \(shardId) in stream harness under account 000000000000.", httpStatus: 400)
                    case .expiredIterator:
                        throw KinesisError(code: .expiredIterator, message: "Iterator expired.", httpStatus: 400)
                    case .internalFailure:
                        throw KinesisError(code: "InternalFailure", message: "Internal service failure.", httpStatus: 500)
                    case .endOfShard(let ids):
                        return GetRecordsOutput(records: [], nextShardIterator: nil, millisBehindLatest: 0, childShards: children(ids))
                    }
                }
            })
        let spy = FailureSpy(base: processor, failures: failures)
        var worker = ShardWorker(
            application: "harness", stream: "harness", shardId: shardId, reader: reader, processor: spy, checkpoints: store,
            resumeAfter: resumeAfter, options: options, permits: AsyncSemaphore(permits: 1), stop: stop, logger: Logger(label: "harness"),
            metrics: ConsumerMetrics(stream: "harness", factory: NOOPMetricsHandler.instance))
        worker.onAttempt = { record, attempt in attempts.withLock { $0[record.position] = attempt } }
        let outcome = try await worker.run()
        var ended = false
        if case .ended = outcome { ended = true }
        let (iterators, calls) = script.withLock { ($0.iterators, $0.calls) }
        return Result(
            checkpoints: store.saved, failures: failures.items.withLock { $0 }, attempts: attempts.withLock { $0 }, iteratorRequests: iterators,
            getRecordsCalls: calls, shardEnded: ended)
    }
}

/// The records that reached the failure hook.
final class FailureLog: Sendable {
    let items = Mutex<[RecordFailure]>([])
}

/// Forwards to the processor under test and keeps what reaches its failure hook.
struct FailureSpy<Base: RecordProcessor>: RecordProcessor {
    let base: Base
    let failures: FailureLog

    func processRecord(_ record: ConsumerRecord) async throws { try await base.processRecord(record) }
    func processRecords(_ batch: ProcessingBatch, checkpointer: Checkpointer) async throws { try await base.processRecords(batch, checkpointer: checkpointer) }
    func recordFailed(_ failure: RecordFailure) async {
        failures.items.withLock { $0.append(failure) }
        await base.recordFailed(failure)
    }
    func shardEnded(_ shardId: String, children: [String]) async { await base.shardEnded(shardId, children: children) }
}

/// A checkpoint store that keeps every save in order.
final class RecordingCheckpointStore: CheckpointStore {
    private let state: Mutex<(current: Checkpoint?, saved: [ExtendedSequenceNumber])>

    init(resumeAfter: Checkpoint?) { state = Mutex((resumeAfter, [])) }

    var saved: [ExtendedSequenceNumber] { state.withLock { $0.saved } }

    func checkpoint(application: String, stream: String, shardId: String) async throws -> Checkpoint? { state.withLock { $0.current } }

    func save(_ checkpoint: Checkpoint, application: String, stream: String, shardId: String) async throws {
        state.withLock {
            $0.current = checkpoint
            $0.saved.append(checkpoint.position)
        }
    }
}
