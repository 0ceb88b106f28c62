import Foundation
import Kinesis
import Logging
import Metrics

/// Processing settings shared by ``StreamConsumer`` and the test harness.
public struct ProcessingOptions: Sendable {
    /// Attempts per record (or per batch, for a processor that takes batches) before the
    /// failure hook gets it.
    public var maxAttempts = 3
    public var retryBaseDelay: Duration = .milliseconds(100)
    public var retryMaxDelay: Duration = .seconds(2)

    public init() {}
}

/// How one shard ended for its worker.
package enum ShardOutcome: Sendable {
    /// Read to its end and checkpointed at SHARD_END.
    case ended(children: [ChildShard])
    /// Stopped by a shutdown, after checkpointing the batch in hand.
    case stopped
}

/// Reads one shard and processes it: skips what the checkpoint covers, retries, hands failed
/// records to the failure hook, checkpoints after each batch and at the shard's end. The same
/// loop runs under ``StreamConsumer`` and under the test harness.
package struct ShardWorker: Sendable {
    package let application: String
    package let stream: String
    package let shardId: String
    package let reader: ShardReader
    package let processor: any RecordProcessor
    package let checkpoints: any CheckpointStore
    package let resumeAfter: Checkpoint?
    package let options: ProcessingOptions
    package let permits: AsyncSemaphore
    package let stop: StopFlag
    package let logger: Logger
    /// Called after each batch with the shard's MillisBehindLatest.
    package let progress: @Sendable (Int) -> Void
    package let metrics: ConsumerMetrics
    /// Told of every processing attempt of a record (the test harness counts retries).
    package var onAttempt: @Sendable (ConsumerRecord, Int) -> Void = { _, _ in }
    /// Writes the shard's end in place of a SHARD_END checkpoint (with leases: the children's
    /// leases, then SHARD_END naming them, then the lease released).
    package var endShard: (@Sendable ([ChildShard]) async throws -> Void)? = nil

    package init(
        application: String, stream: String, shardId: String, reader: ShardReader, processor: any RecordProcessor,
        checkpoints: any CheckpointStore, resumeAfter: Checkpoint?, options: ProcessingOptions, permits: AsyncSemaphore, stop: StopFlag,
        logger: Logger, metrics: ConsumerMetrics, progress: @escaping @Sendable (Int) -> Void = { _ in }
    ) {
        self.application = application
        self.stream = stream
        self.shardId = shardId
        self.reader = reader
        self.processor = processor
        self.checkpoints = checkpoints
        self.resumeAfter = resumeAfter
        self.options = options
        self.permits = permits
        self.stop = stop
        self.logger = logger
        self.metrics = metrics
        self.progress = progress
    }

    package func run() async throws -> ShardOutcome {
        let iterator = Box(reader.makeAsyncIterator())
        let skipThrough = resumeAfter.map(\.position)
        var checkedGap = resumeAfter?.position.kind != .sequence
        var lastCheckpoint = Date()
        while !stop.isSet {
            guard let batch = try await nextBatch(iterator) else { return .stopped }
            metrics.read(batch)
            progress(batch.millisBehindLatest)
            var records = batch.records
            if let skipThrough, skipThrough.kind == .sequence {
                if !checkedGap, let first = records.first {
                    checkedGap = true
                    reportTrimmedGap(first: first, checkpoint: resumeAfter!)
                }
                records.removeAll { $0.position <= skipThrough }
            }
            if !records.isEmpty {
                try await process(records, batch: batch)
                lastCheckpoint = Date()
            }
            metrics.checkpointAge(shardId, seconds: Date().timeIntervalSince(lastCheckpoint))
            if batch.isShardEnd {
                if let endShard {
                    try await endShard(batch.childShards)
                } else {
                    try await checkpoints.save(Checkpoint(position: .shardEnd), application: application, stream: stream, shardId: shardId)
                }
                await processor.shardEnded(shardId, children: batch.childShards.map(\.shardId))
                return .ended(children: batch.childShards)
            }
        }
        return .stopped
    }

    /// The next batch, or nil when a stop comes first (a stop never interrupts processing,
    /// only the wait for the next batch).
    func nextBatch(_ iterator: Box<ShardReader.Iterator>) async throws -> ShardBatch? {
        let stop = self.stop
        return try await withThrowingTaskGroup(of: ShardBatch?.self) { group in
            group.addTask { try await iterator.value.next() }
            group.addTask {
                await stop.wait()
                return nil
            }
            defer { group.cancelAll() }
            do {
                return try await group.next() ?? nil
            } catch is CancellationError where stop.isSet {
                return nil
            }
        }
    }

    /// A checkpoint whose record is gone (trimmed by retention): what was skipped, loudly.
    func reportTrimmedGap(first: ConsumerRecord, checkpoint: Checkpoint) {
        guard ExtendedSequenceNumber.compareSequenceNumbers(first.sequenceNumber, checkpoint.position.sequenceNumber) > 0 else { return }
        var span = "an unknown span"
        if let from = checkpoint.arrival, let to = first.approximateArrivalTimestamp {
            span = String(format: "%.1f s of records", max(0, to.timeIntervalSince(from)))
        }
        metrics.trimmedCheckpoint()
        logger.error(
            "checkpoint is past the shard's retention: records after it were trimmed before they were read",
            metadata: [
                "shard": "\(shardId)", "checkpoint": "\(checkpoint.position)", "firstAvailable": "\(first.sequenceNumber)",
                "skipped": "\(span)",
            ])
    }

    func process(_ records: [ConsumerRecord], batch: ShardBatch) async throws {
        await permits.acquire()
        defer { permits.release() }
        let processing = ProcessingBatch(shardId: shardId, records: records, millisBehindLatest: batch.millisBehindLatest) { record, body in
            await self.retrying(record, body)
        }
        let checkpointer = Checkpointer(last: records.last) { record in try await self.save(record) }
        var attempt = 0
        while true {
            attempt += 1
            do {
                try await processor.processRecords(processing, checkpointer: checkpointer)
                break
            } catch {
                metrics.processingError()
                guard attempt < options.maxAttempts else {
                    logger.error("batch failed every attempt: its records go to the failure hook", metadata: ["shard": "\(shardId)", "error": "\(error)"])
                    for record in records { await fail(record, error: error, attempts: attempt) }
                    break
                }
                try await sleep(attempt)
            }
        }
        try await save(records[records.count - 1])
    }

    func retrying(_ record: ConsumerRecord, _ body: @Sendable (ConsumerRecord) async throws -> Void) async {
        var attempt = 0
        while true {
            attempt += 1
            onAttempt(record, attempt)
            do {
                try await body(record)
                return
            } catch {
                metrics.processingError()
                if attempt >= options.maxAttempts || Task.isCancelled {
                    await fail(record, error: error, attempts: attempt)
                    return
                }
                try? await sleep(attempt)
            }
        }
    }

    func fail(_ record: ConsumerRecord, error: any Error, attempts: Int) async {
        metrics.failedRecord()
        await processor.recordFailed(RecordFailure(record: record, error: error, attempts: attempts))
    }

    func sleep(_ attempt: Int) async throws {
        var random = SystemRandomNumberGenerator()
        try await reader.clock.sleep(backoffDelay(base: options.retryBaseDelay, max: options.retryMaxDelay, retry: attempt, using: &random))
    }

    func save(_ record: ConsumerRecord) async throws {
        try await checkpoints.save(
            Checkpoint(position: record.position, arrival: record.approximateArrivalTimestamp), application: application, stream: stream,
            shardId: shardId)
    }
}

/// The consumer's swift-metrics: records and bytes read, MillisBehindLatest per shard,
/// processing errors, records sent to the failure hook, out-of-range sub-records, checkpoint age.
package struct ConsumerMetrics: Sendable {
    let stream: String
    let records: Counter
    let bytes: Counter
    let errors: Counter
    let failed: Counter
    let outOfRange: Counter
    let corrupt: Counter
    let trimmed: Counter
    let factory: any MetricsFactory

    package init(stream: String, factory: any MetricsFactory = MetricsSystem.factory) {
        self.stream = stream
        self.factory = factory
        let dimensions = [("stream", stream)]
        records = Counter(label: "kinesis_consumer_records_total", dimensions: dimensions, factory: factory)
        bytes = Counter(label: "kinesis_consumer_bytes_total", dimensions: dimensions, factory: factory)
        errors = Counter(label: "kinesis_consumer_processing_errors_total", dimensions: dimensions, factory: factory)
        failed = Counter(label: "kinesis_consumer_failed_records_total", dimensions: dimensions, factory: factory)
        outOfRange = Counter(label: "kinesis_consumer_out_of_range_records_total", dimensions: dimensions, factory: factory)
        corrupt = Counter(label: "kinesis_consumer_corrupt_aggregates_total", dimensions: dimensions, factory: factory)
        trimmed = Counter(label: "kinesis_consumer_trimmed_checkpoints_total", dimensions: dimensions, factory: factory)
    }

    func read(_ batch: ShardBatch) {
        records.increment(by: batch.records.count)
        bytes.increment(by: batch.bytes)
        let outside = batch.outOfRangeRecords
        if outside > 0 { outOfRange.increment(by: outside) }
        let broken = batch.records.lazy.filter(\.corruptAggregate).count
        if broken > 0 { corrupt.increment(by: broken) }
        Gauge(label: "kinesis_consumer_millis_behind_latest", dimensions: [("stream", stream), ("shard", batch.shardId)], factory: factory)
            .record(batch.millisBehindLatest)
    }

    func checkpointAge(_ shard: String, seconds: Double) {
        Gauge(label: "kinesis_consumer_checkpoint_age_seconds", dimensions: [("stream", stream), ("shard", shard)], factory: factory).record(seconds)
    }

    func processingError() { errors.increment() }
    func failedRecord() { failed.increment() }
    func trimmedCheckpoint() { trimmed.increment() }
}
