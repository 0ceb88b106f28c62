import Foundation
import Histogram
import Kinesis
import Synchronization

/// Latencies in microseconds, up to an hour, with two significant digits (about 13 KB each).
package typealias LatencyHistogram = Histogram<UInt32>

extension Histogram where Count == UInt32 {
    package static func latency() -> LatencyHistogram {
        LatencyHistogram(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .two)
    }

    mutating func recordClamped(_ micros: UInt64) {
        _ = record(Swift.min(Swift.max(micros, 1), highestTrackableValue))
    }
}

/// Counts of one event type in one second of a run.
package struct TypeSecond: Sendable {
    package var started = 0
    package var succeeded = 0
    package var failed = 0
    package var dropped = 0
    /// Payload bytes of the events that succeeded.
    package var bytes = 0
    package var latency = LatencyHistogram.latency()
    package var errors: [String: Int] = [:]
}

/// One shard in one second: what Kinesis answered, in Kinesis records (an aggregate counts
/// once, retries count), and the events that landed there, with their latencies.
package struct ShardSecond: Sendable {
    package var records = 0
    /// Data plus partition key bytes of the records accepted.
    package var bytes = 0
    package var throttled = 0
    package var failed = 0
    package var errors: [String: Int] = [:]
    /// Events delivered to the shard.
    package var events = 0
    package var latency = LatencyHistogram.latency()
}

/// The read side of one shard in one second: what the consumers' GetRecords calls brought,
/// how far behind the tip they were, and how long events took from intended start to a consumer.
package struct ReadShardSecond: Sendable {
    package var calls = 0
    /// Calls refused with ProvisionedThroughputExceededException.
    package var throttled = 0
    /// Kinesis records read (an aggregate counts once), and their data plus partition key bytes.
    package var records = 0
    package var bytes = 0
    /// User records handed to the consumers (deaggregated).
    package var userRecords = 0
    /// The largest MillisBehindLatest seen in the second (nil when no call answered).
    package var maxBehindMs: Int?
    /// End-to-end latency of the events matched in the second.
    package var endToEnd = LatencyHistogram.latency()
}

/// How the schedule went in one second: planned, started and dropped events, and lateness.
package struct ScheduleSecond: Sendable {
    package var planned = 0
    package var started = 0
    package var dropped = 0
    package var targetRate = 0.0
    package var lateness = LatencyHistogram.latency()
}

/// The per-second figures of a run, filled from any thread, drained in batches for SQLite.
/// Seconds count from the run's start; outcomes are filed under the second they finished in.
package final class Recorder: Sendable {
    package struct Batch: Sendable {
        package var types: [Int: [Int: TypeSecond]] = [:]
        package var shards: [Int: [String: ShardSecond]] = [:]
        package var schedule: [Int: ScheduleSecond] = [:]
        package var reads: [Int: [String: ReadShardSecond]] = [:]
        package var isEmpty: Bool { types.isEmpty && shards.isEmpty && schedule.isEmpty && reads.isEmpty }
    }

    /// Running totals for the live progress line.
    package struct Totals: Sendable, Hashable, Codable {
        package var planned = 0
        package var started = 0
        package var succeeded = 0
        package var failed = 0
        package var dropped = 0
        package var throttled = 0
        package var inFlight: Int { started - succeeded - failed }
    }

    private let clock = ContinuousClock()
    package let start: ContinuousClock.Instant
    private struct State {
        var batch = Batch()
        var totals = Totals()
        /// Latencies since the last progress line.
        var recent = LatencyHistogram.latency()
        /// User records consumed, and each shard's latest MillisBehindLatest.
        var consumed = 0
        var behind: [String: Int] = [:]
    }

    /// One lock for everything: an event costs one lock round trip here.
    private let state = Mutex(State())

    /// Where the figures also go as they happen (`run --metrics-port`); told outside the lock.
    let metrics: RunMetrics?

    package init(start: ContinuousClock.Instant = .now, metrics: RunMetrics? = nil) {
        self.start = start
        self.metrics = metrics
    }

    package func second(of instant: ContinuousClock.Instant) -> Int {
        Int(start.duration(to: instant).timeInterval.rounded(.down))
    }

    package var currentSecond: Int { second(of: clock.now) }

    /// An event started `lateness` after its intended time.
    package func started(type: Int, second: Int, lateness: Duration, targetRate: Double) {
        let micros = UInt64(max(0, lateness.wholeNanoseconds / 1000))
        state.withLock { state in
            // Mutated in place: a copy would copy the histogram's counts on every event.
            state.batch.types[second, default: [:]][type, default: TypeSecond()].started += 1
            Self.update(&state.batch.schedule[second, default: ScheduleSecond()]) { schedule in
                schedule.planned += 1
                schedule.started += 1
                schedule.targetRate = targetRate
                schedule.lateness.recordClamped(micros)
            }
            state.totals.planned += 1
            state.totals.started += 1
        }
        metrics?.started(type: type)
    }

    private static func update<T>(_ value: inout T, _ body: (inout T) -> Void) { body(&value) }

    /// An event was due but could not start: too many in flight, or the run was stopping.
    package func dropped(type: Int, second: Int, targetRate: Double) {
        state.withLock { state in
            state.batch.types[second, default: [:]][type, default: TypeSecond()].dropped += 1
            Self.update(&state.batch.schedule[second, default: ScheduleSecond()]) { schedule in
                schedule.planned += 1
                schedule.dropped += 1
                schedule.targetRate = targetRate
            }
            state.totals.planned += 1
            state.totals.dropped += 1
        }
        metrics?.dropped(type: type)
    }

    /// An event finished: `latency` from its intended start; `error` is the code when it
    /// failed, `shard` where it landed when it did not.
    package func finished(type: Int, latency: Duration, bytes: Int, error: String?, shard: String? = nil) {
        let micros = UInt64(max(0, latency.wholeNanoseconds / 1000))
        let second = currentSecond
        state.withLock { state in
            Self.update(&state.batch.types[second, default: [:]][type, default: TypeSecond()]) { counts in
                if let error {
                    counts.failed += 1
                    counts.errors[error, default: 0] += 1
                } else {
                    counts.succeeded += 1
                    counts.bytes += bytes
                }
                counts.latency.recordClamped(micros)
            }
            if let shard {
                Self.update(&state.batch.shards[second, default: [:]][shard, default: ShardSecond()]) { counts in
                    counts.events += 1
                    counts.latency.recordClamped(micros)
                }
            }
            if error == nil { state.totals.succeeded += 1 } else { state.totals.failed += 1 }
            state.recent.recordClamped(micros)
        }
        metrics?.finished(type: type, micros: micros, failed: error != nil)
    }

    /// What Kinesis answered for records bound to `shard`.
    package func shard(_ shard: String, accepted: Int, bytes: Int, errors: [String: Int]) {
        let second = currentSecond
        let throttled = errors["ProvisionedThroughputExceededException"] ?? 0
        state.withLock { state in
            Self.update(&state.batch.shards[second, default: [:]][shard, default: ShardSecond()]) { counts in
                counts.records += accepted
                counts.bytes += bytes
                counts.throttled += throttled
                for (code, count) in errors {
                    counts.failed += count
                    counts.errors[code, default: 0] += count
                }
            }
            state.totals.throttled += throttled
        }
        metrics?.shard(shard, accepted: accepted, bytes: bytes, errors: errors)
    }

    /// One GetRecords call on `shard`: its records and bytes, or a throttle.
    package func readCall(shard: String, records: Int, bytes: Int, millisBehind: Int?, throttled: Bool) {
        let second = currentSecond
        state.withLock { state in
            Self.update(&state.batch.reads[second, default: [:]][shard, default: ReadShardSecond()]) { counts in
                counts.calls += 1
                if throttled { counts.throttled += 1 }
                counts.records += records
                counts.bytes += bytes
                if let millisBehind { counts.maxBehindMs = max(counts.maxBehindMs ?? 0, millisBehind) }
            }
            if let millisBehind { state.behind[shard] = millisBehind }
        }
        metrics?.readCall(shard: shard, records: records, bytes: bytes, millisBehind: millisBehind, throttled: throttled)
    }

    /// User records handed to a consumer, and the end-to-end latencies of those matched to
    /// acknowledged events (`latencies`, in microseconds).
    package func consumed(shard: String, userRecords: Int, latencies: [UInt64]) {
        let second = currentSecond
        state.withLock { state in
            Self.update(&state.batch.reads[second, default: [:]][shard, default: ReadShardSecond()]) { counts in
                counts.userRecords += userRecords
                for micros in latencies { counts.endToEnd.recordClamped(micros) }
            }
            state.consumed += userRecords
        }
        metrics?.consumed(shard: shard, userRecords: userRecords, latencies: latencies)
    }

    package var currentTotals: Totals { state.withLock { $0.totals } }

    /// User records consumed so far, and the largest of the shards' latest MillisBehindLatest.
    package var readProgress: (consumed: Int, lagMs: Int) {
        state.withLock { ($0.consumed, $0.behind.values.max() ?? 0) }
    }

    /// The latencies recorded since the last call.
    package func takeRecentLatencies() -> LatencyHistogram {
        state.withLock { state in
            defer { state.recent = .latency() }
            return state.recent
        }
    }

    /// Removes and returns every second up to `through` (all of them when nil).
    package func drain(through last: Int? = nil) -> Batch {
        state.withLock { state in
            guard let last else {
                defer { state.batch = Batch() }
                return state.batch
            }
            return Batch(
                types: Self.take(&state.batch.types, through: last), shards: Self.take(&state.batch.shards, through: last),
                schedule: Self.take(&state.batch.schedule, through: last), reads: Self.take(&state.batch.reads, through: last))
        }
    }

    /// Removes and returns the seconds up to `last` of one table of the batch.
    private static func take<Value>(_ seconds: inout [Int: Value], through last: Int) -> [Int: Value] {
        var out: [Int: Value] = [:]
        for second in seconds.keys where second <= last { out[second] = seconds.removeValue(forKey: second) }
        return out
    }
}
