import Foundation
import Kinesis

/// What an app does with the records of a stream: the NestJS module's consumer base class done
/// properly. Implement ``processRecord(_:)`` (called once per user record, retried with backoff
/// when it throws) and ``recordFailed(_:)`` (the dead-letter hook: a record that kept failing
/// is handed over here, never dropped without the app being told); or take whole batches with
/// ``processRecords(_:checkpointer:)``.
///
/// Delivery is at least once: the consumer checkpoints after a batch is processed, so a crash
/// repeats at most the batch in hand.
public protocol RecordProcessor: Sendable {
    /// One user record.
    func processRecord(_ record: ConsumerRecord) async throws
    /// A batch; the default calls ``processRecord(_:)`` for each record through
    /// ``ProcessingBatch/process(_:_:)`` (retries, then the failure hook).
    func processRecords(_ batch: ProcessingBatch, checkpointer: Checkpointer) async throws
    /// A record that failed every attempt (or whose batch did): the app's dead-letter hook.
    func recordFailed(_ failure: RecordFailure) async
    /// A closed shard was read to its end (and checkpointed so); its children follow.
    func shardEnded(_ shardId: String, children: [String]) async
    /// With leases: another worker took the shard (or its lease could not be renewed in time).
    /// Processing of it has stopped and no checkpoint of this worker moves it any more; records
    /// processed since the last checkpoint will be processed again by the new owner.
    func leaseLost(_ shardId: String) async
}

extension RecordProcessor {
    public func processRecords(_ batch: ProcessingBatch, checkpointer: Checkpointer) async throws {
        for record in batch.records {
            await batch.process(record) { try await self.processRecord($0) }
        }
    }

    public func shardEnded(_ shardId: String, children: [String]) async {}

    public func leaseLost(_ shardId: String) async {}
}

/// A record handed to the failure hook, with why and after how many attempts.
public struct RecordFailure: Sendable {
    public var record: ConsumerRecord
    public var error: any Error
    public var attempts: Int
}

/// The records of one GetRecords answer, deaggregated, after those at or below the checkpoint.
public struct ProcessingBatch: Sendable {
    public var shardId: String
    public var records: [ConsumerRecord]
    public var millisBehindLatest: Int
    let retry: @Sendable (ConsumerRecord, @Sendable (ConsumerRecord) async throws -> Void) async -> Void

    /// Runs `body` on `record`, retrying with backoff; after the last attempt the record goes
    /// to the processor's ``RecordProcessor/recordFailed(_:)``.
    public func process(_ record: ConsumerRecord, _ body: @Sendable (ConsumerRecord) async throws -> Void) async {
        await retry(record, body)
    }
}

/// Saves how far a shard is processed. The consumer checkpoints after every batch; a
/// processor checkpoints sooner within a long batch.
public final class Checkpointer: Sendable {
    let save: @Sendable (ConsumerRecord) async throws -> Void
    let last: ConsumerRecord?

    init(last: ConsumerRecord?, save: @escaping @Sendable (ConsumerRecord) async throws -> Void) {
        self.last = last
        self.save = save
    }

    /// Checkpoints at the batch's last record.
    public func checkpoint() async throws {
        if let last { try await save(last) }
    }

    /// Checkpoints at `record`: a restart resumes after it.
    public func checkpoint(at record: ConsumerRecord) async throws { try await save(record) }
}
