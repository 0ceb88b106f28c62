import Foundation
import Histogram
import Kinesis
import Synchronization

/// Latencies in microseconds, up to an hour, with two significant digits (about 13 KB each).
public typealias LatencyHistogram = Histogram<UInt32>

extension Histogram where Count == UInt32 {
    public static func latency() -> LatencyHistogram {
        LatencyHistogram(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .two)
    }

    mutating func recordClamped(_ micros: UInt64) {
        _ = record(Swift.min(Swift.max(micros, 1), highestTrackableValue))
    }
}

/// Counts of one event type in one second of a run.
public struct TypeSecond: Sendable {
    public var started = 0
    public var succeeded = 0
    public var failed = 0
    public var dropped = 0
    /// Payload bytes of the events that succeeded.
    public var bytes = 0
    public var latency = LatencyHistogram.latency()
    public var errors: [String: Int] = [:]
}

/// What Kinesis saw on one shard in one second: Kinesis records (an aggregate counts once).
public struct ShardSecond: Sendable, Hashable {
    public var records = 0
    /// Data plus partition key bytes of the records accepted.
    public var bytes = 0
    public var throttled = 0
    public var failed = 0
    public var errors: [String: Int] = [:]
}

/// How the schedule went in one second: planned, started and dropped events, and lateness.
public struct ScheduleSecond: Sendable {
    public var planned = 0
    public var started = 0
    public var dropped = 0
    public var targetRate = 0.0
    public var lateness = LatencyHistogram.latency()
}

/// The per-second figures of a run, filled from any thread, drained in batches for SQLite.
/// Seconds count from the run's start; outcomes are filed under the second they finished in.
public final class Recorder: Sendable {
    public struct Batch: Sendable {
        public var types: [Int: [Int: TypeSecond]] = [:]
        public var shards: [Int: [String: ShardSecond]] = [:]
        public var schedule: [Int: ScheduleSecond] = [:]
        public var isEmpty: Bool { types.isEmpty && shards.isEmpty && schedule.isEmpty }
    }

    /// Running totals for the live progress line.
    public struct Totals: Sendable, Hashable {
        public var planned = 0
        public var started = 0
        public var succeeded = 0
        public var failed = 0
        public var dropped = 0
        public var throttled = 0
        public var inFlight: Int { started - succeeded - failed }
    }

    private let clock = ContinuousClock()
    public let start: ContinuousClock.Instant
    private let events = Mutex(Batch())
    private let totals = Mutex(Totals())
    /// Latencies since the last progress line.
    private let recent = Mutex(LatencyHistogram.latency())

    public init(start: ContinuousClock.Instant = .now) { self.start = start }

    public func second(of instant: ContinuousClock.Instant) -> Int {
        Int(start.duration(to: instant).timeInterval.rounded(.down))
    }

    public var currentSecond: Int { second(of: clock.now) }

    /// An event started `lateness` after its intended time.
    public func started(type: Int, second: Int, lateness: Duration, targetRate: Double) {
        events.withLock { batch in
            batch.types[second, default: [:]][type, default: TypeSecond()].started += 1
            var schedule = batch.schedule[second, default: ScheduleSecond()]
            schedule.planned += 1
            schedule.started += 1
            schedule.targetRate = targetRate
            schedule.lateness.recordClamped(UInt64(max(0, lateness.wholeNanoseconds / 1000)))
            batch.schedule[second] = schedule
        }
        totals.withLock {
            $0.planned += 1
            $0.started += 1
        }
    }

    /// An event was due but could not start: too many in flight, or the run was stopping.
    public func dropped(type: Int, second: Int, targetRate: Double) {
        events.withLock { batch in
            batch.types[second, default: [:]][type, default: TypeSecond()].dropped += 1
            batch.schedule[second, default: ScheduleSecond()].planned += 1
            batch.schedule[second, default: ScheduleSecond()].dropped += 1
            batch.schedule[second, default: ScheduleSecond()].targetRate = targetRate
        }
        totals.withLock {
            $0.planned += 1
            $0.dropped += 1
        }
    }

    /// An event finished: `latency` from its intended start; `error` is the code when it failed.
    public func finished(type: Int, latency: Duration, bytes: Int, error: String?) {
        let micros = UInt64(max(0, latency.wholeNanoseconds / 1000))
        let second = currentSecond
        events.withLock { batch in
            var counts = batch.types[second, default: [:]][type, default: TypeSecond()]
            if let error {
                counts.failed += 1
                counts.errors[error, default: 0] += 1
            } else {
                counts.succeeded += 1
                counts.bytes += bytes
            }
            counts.latency.recordClamped(micros)
            batch.types[second, default: [:]][type] = counts
        }
        totals.withLock { if error == nil { $0.succeeded += 1 } else { $0.failed += 1 } }
        recent.withLock { $0.recordClamped(micros) }
    }

    /// What Kinesis answered for records bound to `shard`.
    public func shard(_ shard: String, accepted: Int, bytes: Int, errors: [String: Int]) {
        let second = currentSecond
        let throttled = errors["ProvisionedThroughputExceededException"] ?? 0
        events.withLock { batch in
            var counts = batch.shards[second, default: [:]][shard, default: ShardSecond()]
            counts.records += accepted
            counts.bytes += bytes
            counts.throttled += throttled
            for (code, count) in errors {
                counts.failed += count
                counts.errors[code, default: 0] += count
            }
            batch.shards[second, default: [:]][shard] = counts
        }
        if throttled > 0 { totals.withLock { $0.throttled += throttled } }
    }

    public var currentTotals: Totals { totals.withLock { $0 } }

    /// The latencies recorded since the last call.
    public func takeRecentLatencies() -> LatencyHistogram {
        recent.withLock { histogram in
            let taken = histogram
            histogram.reset()
            return taken
        }
    }

    /// Removes and returns every second up to `through` (all of them when nil).
    public func drain(through last: Int? = nil) -> Batch {
        events.withLock { batch in
            guard let last else {
                defer { batch = Batch() }
                return batch
            }
            var out = Batch()
            for second in batch.types.keys where second <= last { out.types[second] = batch.types.removeValue(forKey: second) }
            for second in batch.shards.keys where second <= last { out.shards[second] = batch.shards.removeValue(forKey: second) }
            for second in batch.schedule.keys where second <= last { out.schedule[second] = batch.schedule.removeValue(forKey: second) }
            return out
        }
    }
}
