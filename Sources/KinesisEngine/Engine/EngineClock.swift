import Foundation
import Kinesis
import Synchronization

/// The engine's sense of wall-clock time: arrival timestamps, sequence numbers, iterator
/// expiry, retention, rate limits and lifecycle delays all read it.
public protocol EngineClock: Sendable {
    /// Seconds since 1970.
    func now() -> Double
}

/// The system's wall clock.
public struct SystemEngineClock: EngineClock {
    /// The wall clock.
    public init() {}
    /// Seconds since 1970, from the system clock.
    public func now() -> Double { Date().timeIntervalSince1970 }
}

/// A clock that moves only when told: for tests of iterator expiry, retention and rate limits.
///
/// ```swift
/// let clock = ManualEngineClock()
/// let kinesis = InMemoryKinesis(clock: clock)
/// clock.advance(by: .seconds(301))   // iterators issued before now are expired
/// ```
public final class ManualEngineClock: EngineClock {
    private let seconds: Mutex<Double>

    /// A clock standing at `start` until moved.
    public init(start: Date = Date(timeIntervalSince1970: ServiceLimits.doublesStartEpochSeconds)) {
        seconds = Mutex(start.timeIntervalSince1970)
    }

    /// Seconds since 1970, as last set or advanced.
    public func now() -> Double { seconds.withLock { $0 } }

    /// Moves time forward by `duration`.
    public func advance(by duration: Duration) {
        seconds.withLock { $0 += duration.timeInterval }
    }

    /// Puts the clock at `date`.
    public func set(_ date: Date) { seconds.withLock { $0 = date.timeIntervalSince1970 } }
}
