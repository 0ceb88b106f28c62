import Foundation
import KinesisConsumer
import KinesisProducer
import Synchronization

/// What the publisher and the consumers of a run tell its read side: the verifier in one
/// process, the handoff in a segmented worker.
protocol ReadBackWitness: Sendable {
    func acknowledged(_ event: LoadEvent, index: UInt64, intended: ContinuousClock.Instant, at landed: PublishResult)
    func received(_ records: [ConsumerRecord], at: ContinuousClock.Instant)
}

extension ReadBackVerifier: ReadBackWitness {}

/// The read side of a segmented worker (`run --segment i/n` with `$.consume` verifying): its
/// events land on every shard while it reads only its share, so it judges nothing itself. It
/// keeps every acknowledgement and every read, with wall-clock times, for `merge` to match
/// all the workers' together (``ReadBackReplay``); the background task writes them out each
/// second, so memory holds about a second of them.
final class ReadBackHandoff: ReadBackWitness {
    let runId: Int64
    let recorder: Recorder
    let runStartedAt: Date
    /// An instant of this process's clock and the same instant on the wall clock (µs since 1970).
    let base: ContinuousClock.Instant
    let baseWallUs: Int64
    private let clock = ContinuousClock()
    private let pending = Mutex<(acks: [ReadBackAckRow], reads: [ReadBackReadRow])>(([], []))

    init(runId: Int64, recorder: Recorder, runStartedAt: Date, base: ContinuousClock.Instant, baseWall: Date) {
        self.runId = runId
        self.recorder = recorder
        self.runStartedAt = runStartedAt
        self.base = base
        baseWallUs = Self.micros(baseWall)
    }

    static func micros(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1e6).rounded()) }

    /// `instant` on the wall clock, in microseconds since 1970.
    func wallUs(_ instant: ContinuousClock.Instant) -> Int64 {
        let (seconds, attoseconds) = base.duration(to: instant).components
        return baseWallUs + seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }

    func acknowledged(_ event: LoadEvent, index: UInt64, intended: ContinuousClock.Instant, at landed: PublishResult) {
        let row = ReadBackAckRow(
            runId: runId, eventIndex: Int64(index), eventType: event.type, partitionKey: event.partitionKey,
            fingerprint: Int64(bitPattern: ReadBackVerifier.fingerprint(partitionKey: event.partitionKey, data: event.data)), shardId: landed.shardId,
            sequenceNumber: landed.sequenceNumber, subSequenceNumber: landed.subSequenceNumber, intendedUs: wallUs(intended),
            acknowledgedUs: wallUs(clock.now))
        pending.withLock { $0.acks.append(row) }
    }

    func received(_ records: [ConsumerRecord], at: ContinuousClock.Instant) {
        guard let shard = records.first?.shardId else { return }
        let readUs = wallUs(at)
        let rows = records.map { record in
            let read = ReadBackVerifier.read(record, at: at, runStartedAt: runStartedAt)
            return ReadBackReadRow(
                runId: runId, shardId: record.shardId, sequenceNumber: record.sequenceNumber, subSequenceNumber: record.subSequenceNumber,
                partitionKey: record.partitionKey, fingerprint: Int64(bitPattern: read.fingerprint), readUs: readUs, beforeRun: read.beforeRun,
                resentCopy: record.inMisroutedAggregate)
        }
        pending.withLock { $0.reads += rows }
        recorder.consumed(shard: shard, userRecords: records.count, latencies: [])
    }

    /// What came since the last call.
    func drain() -> (acks: [ReadBackAckRow], reads: [ReadBackReadRow]) {
        pending.withLock { pending in
            defer { pending = ([], []) }
            return pending
        }
    }
}
