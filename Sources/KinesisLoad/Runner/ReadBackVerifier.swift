import DequeModule
import Foundation
import Kinesis
import KinesisConsumer
import KinesisProducer
import Synchronization

/// Matches what the consumers read to what the publisher had acknowledged, by where Kinesis put
/// each record (shard, sequence number, index inside an aggregate), never by the payload: the
/// user's data is not touched. Gives each event's end-to-end latency (intended start to a
/// consumer's receipt, on this process's clock alone) and, at the end, what was lost,
/// duplicated, out of order per partition key, or unexpected.
///
/// Reads are matched in the order each shard delivered them, so the per-key order check sees
/// the stream's order. A read that comes before its acknowledgement (a consumer can be faster
/// than the answer to the put) waits at the head of its shard's queue until the answer comes;
/// one whose answer never comes is a copy of an acknowledged event (duplicated: the same
/// partition key and data as one acknowledged) or unexpected. The state holds only what is in
/// flight: acknowledged and not yet read, read and not yet matched, the last few seconds of
/// read fingerprints, and one position per partition key (up to a limit): it does not grow
/// with the length of a run.
package final class ReadBackVerifier: Sendable {
    package struct Position: Hashable, Sendable {
        var shard: String
        var sequence: String
        var sub: Int
    }

    struct Acknowledged {
        var type: Int32
        var index: UInt64
        var intended: ContinuousClock.Instant
        var key: String
        var fingerprint: UInt64
    }

    struct Read {
        var position: Position
        var key: String
        var fingerprint: UInt64
        var at: ContinuousClock.Instant
    }

    /// One record that did not match, as the reports show it.
    package struct Example: Sendable, Hashable, Codable {
        package var kind: String
        package var eventType: String?
        package var partitionKey: String
        package var shardId: String
        package var sequenceNumber: String
        package var subSequenceNumber: Int
    }

    /// The verdict of a read-back.
    package struct Result: Sendable, Hashable, Codable {
        package var acknowledged = 0
        /// Acknowledged events read (each counted once).
        package var read = 0
        /// Acknowledged and never read.
        package var lost = 0
        /// Read again: a second copy of an acknowledged event.
        package var duplicated = 0
        /// Read before an earlier event of the same partition key.
        package var outOfOrder = 0
        /// Read, never acknowledged, and no copy of anything acknowledged.
        package var unexpected = 0
        /// Copies inside an aggregate that landed on a shard not covering all its records: the
        /// Producer sent those records again, so readers skip them (not counted as duplicates).
        package var resentCopies = 0
        /// Every shard was read to its tip within the catch-up timeout.
        package var caughtUp = true
        package var examples: [Example] = []
    }

    static let examplesPerKind = 5
    /// How long a read waits for its acknowledgement before it is judged a copy or unexpected.
    static let grace: Duration = .seconds(10)
    /// Seconds of read fingerprints kept to recognise a copy read after its original: longer
    /// than the grace period, so that a copy read with its original (the usual case: the copy
    /// lands right after it) is still recognised when it is judged.
    static let fingerprintSeconds = 25
    static let trackedKeyLimit = 100_000

    private struct State {
        var pending: [Position: Acknowledged] = [:]
        /// Fingerprints of the pending events: how many, and the type of one.
        var pendingFingerprints: [UInt64: (count: Int32, type: Int32)] = [:]
        var queues: [String: Deque<Read>] = [:]
        /// Fingerprints of recently matched reads (with their event type), one map per second, newest last.
        var recent: Deque<[UInt64: Int32]> = [[:]]
        var lastIndexByKey: [String: UInt64] = [:]
        var result = Result()
        var examples: [String: [Example]] = [:]
    }

    private let state = Mutex(State())
    private let recorder: Recorder
    private let typeNames: [String]
    private let clock = ContinuousClock()

    package init(recorder: Recorder, typeNames: [String]) {
        self.recorder = recorder
        self.typeNames = typeNames
    }

    static func fingerprint(partitionKey: String, data: Data) -> UInt64 {
        var hasher = Hasher()
        hasher.combine(partitionKey)
        data.withUnsafeBytes { hasher.combine(bytes: $0) }
        return UInt64(bitPattern: Int64(hasher.finalize()))
    }

    /// The publisher's acknowledgement of event number `index` (publishing order).
    package func acknowledged(_ event: LoadEvent, index: UInt64, intended: ContinuousClock.Instant, at landed: PublishResult) {
        let position = Position(shard: landed.shardId, sequence: landed.sequenceNumber, sub: landed.subSequenceNumber)
        let entry = Acknowledged(
            type: Int32(event.type), index: index, intended: intended, key: event.partitionKey,
            fingerprint: Self.fingerprint(partitionKey: event.partitionKey, data: event.data))
        let latencies = state.withLock { state in
            state.result.acknowledged += 1
            state.pending[position] = entry
            state.pendingFingerprints[entry.fingerprint, default: (0, entry.type)].count += 1
            return drain(&state, shard: position.shard, now: nil)
        }
        if !latencies.isEmpty { recorder.consumed(shard: position.shard, userRecords: 0, latencies: latencies) }
    }

    /// Records a consumer received at `at`, in the order its shard gave them.
    package func received(_ records: [ConsumerRecord], at: ContinuousClock.Instant) {
        guard let shard = records.first?.shardId else { return }
        let latencies = state.withLock { state in
            for record in records {
                if record.inMisroutedAggregate {
                    state.result.resentCopies += 1
                    continue
                }
                state.queues[record.shardId, default: []].append(
                    Read(
                        position: Position(shard: record.shardId, sequence: record.sequenceNumber, sub: record.subSequenceNumber),
                        key: record.partitionKey, fingerprint: Self.fingerprint(partitionKey: record.partitionKey, data: record.data), at: at))
            }
            return drain(&state, shard: shard, now: nil)
        }
        recorder.consumed(shard: shard, userRecords: records.count, latencies: latencies)
    }

    /// Judges reads that waited past the grace period; called about once a second.
    package func tick() {
        let now = clock.now
        let matched = state.withLock { state in
            state.recent.append([:])
            while state.recent.count > Self.fingerprintSeconds { state.recent.removeFirst() }
            return state.queues.keys.map { ($0, drain(&state, shard: $0, now: now)) }
        }
        for (shard, latencies) in matched where !latencies.isEmpty { recorder.consumed(shard: shard, userRecords: 0, latencies: latencies) }
    }

    /// Acknowledged events not read yet, and reads not matched yet.
    package var outstanding: (acknowledged: Int, reads: Int) {
        state.withLock { state in (state.pending.count, state.queues.values.reduce(0) { $0 + $1.count }) }
    }

    /// The verdict: every read still waiting is judged now, and what was acknowledged and never
    /// read is lost. Call once publishing and reading are over.
    package func finish(caughtUp: Bool) -> Result {
        let distantFuture = clock.now.advanced(by: .seconds(86_400 * 365))
        return state.withLock { state in
            for shard in state.queues.keys { _ = drain(&state, shard: shard, now: distantFuture) }
            state.result.lost = state.pending.count
            let lost = state.pending.sorted { $0.value.index < $1.value.index }.prefix(Self.examplesPerKind)
            for (position, entry) in lost {
                note(&state, kind: "lost", type: entry.type, key: entry.key, position: position)
            }
            state.result.caughtUp = caughtUp
            var result = state.result
            result.examples = ["lost", "duplicated", "outOfOrder", "unexpected"].flatMap { state.examples[$0] ?? [] }
            return result
        }
    }

    private func note(_ state: inout State, kind: String, type: Int32?, key: String, position: Position) {
        guard state.examples[kind, default: []].count < Self.examplesPerKind else { return }
        state.examples[kind, default: []].append(
            Example(
                kind: kind, eventType: type.map { typeNames[Int($0)] }, partitionKey: key, shardId: position.shard,
                sequenceNumber: position.sequence, subSequenceNumber: position.sub))
    }

    /// Matches the reads at the head of `shard`'s queue; a read with no acknowledgement is
    /// judged once it is older than the grace period at `now` (never when `now` is nil).
    /// Returns the end-to-end latencies of the matches, in microseconds.
    private func drain(_ state: inout State, shard: String, now: ContinuousClock.Instant?) -> [UInt64] {
        var latencies: [UInt64] = []
        while let head = state.queues[shard]?.first {
            if let entry = state.pending.removeValue(forKey: head.position) {
                state.result.read += 1
                if let known = state.pendingFingerprints[entry.fingerprint], known.count > 1 {
                    state.pendingFingerprints[entry.fingerprint]!.count -= 1
                } else {
                    state.pendingFingerprints.removeValue(forKey: entry.fingerprint)
                }
                state.recent[state.recent.count - 1][entry.fingerprint] = entry.type
                latencies.append(UInt64(max(0, entry.intended.duration(to: head.at).wholeNanoseconds / 1000)))
                if let index = state.lastIndexByKey.index(forKey: entry.key) {
                    if entry.index < state.lastIndexByKey.values[index] {
                        state.result.outOfOrder += 1
                        note(&state, kind: "outOfOrder", type: entry.type, key: entry.key, position: head.position)
                    } else {
                        state.lastIndexByKey.values[index] = entry.index
                    }
                } else if state.lastIndexByKey.count < Self.trackedKeyLimit {
                    state.lastIndexByKey[entry.key] = entry.index
                }
            } else if let now, head.at.advanced(by: Self.grace) <= now {
                let original = state.pendingFingerprints[head.fingerprint]?.type ?? state.recent.lazy.compactMap { $0[head.fingerprint] }.first
                if let original {
                    state.result.duplicated += 1
                    note(&state, kind: "duplicated", type: original, key: head.key, position: head.position)
                } else {
                    state.result.unexpected += 1
                    note(&state, kind: "unexpected", type: nil, key: head.key, position: head.position)
                }
            } else {
                break
            }
            state.queues[shard]!.removeFirst()
        }
        return latencies
    }
}
