import Foundation
import Kinesis

/// When each event is meant to start, in seconds from the start of the run: evenly spaced
/// or Poisson, at a constant rate or along linear ramps. Absolute times, never re-anchored,
/// so a runner that falls behind catches up instead of drifting.
package struct ArrivalSchedule: Sendable {
    /// A stretch of the schedule where the rate goes linearly from `startRate` to `endRate`.
    struct Segment: Sendable {
        var start: Double
        var length: Double
        var startRate: Double
        var endRate: Double
        /// Events expected before the segment.
        var before: Double
        var expected: Double { length * (startRate + endRate) / 2 }
    }

    let segments: [Segment]
    /// Total events, for a fixed count; nil when the schedule ends with time.
    let count: Int?
    /// Unpaced: every event is due as soon as the runner reaches it.
    package let unpaced: Bool
    let poisson: Bool
    var random: SplitMix64
    var index = 0
    /// Cumulative expected events of the next arrival (Poisson: a sum of Exp(1) draws).
    var position = 0.0
    var segment = 0

    package init(load: Scenario.LoadSpec, seed: UInt64) {
        random = SplitMix64(seed: seed ^ 0x5EED_A11)
        poisson = load.poisson
        var segments: [Segment] = []
        var before = 0.0
        var start = 0.0
        func add(_ length: Double, _ from: Double, _ to: Double) {
            let segment = Segment(start: start, length: length, startRate: from, endRate: to, before: before)
            segments.append(segment)
            before += segment.expected
            start += length
        }
        switch load.executor {
        case .constantArrivalRate(let rate, let duration):
            add(duration.timeInterval, rate, rate)
            count = nil
            unpaced = false
        case .rampingArrivalRate(let startRate, let stages):
            var from = startRate
            for stage in stages {
                add(stage.duration.timeInterval, from, stage.target)
                from = stage.target
            }
            count = nil
            unpaced = false
        case .fixedEvents(let total, let rate):
            if let rate { add(Double(total) / rate, rate, rate) }
            count = total
            unpaced = rate == nil
        }
        self.segments = segments
    }

    /// Events the schedule plans (the expected count for Poisson arrivals).
    package var plannedCount: Int {
        if let count { return count }
        return Int((segments.last.map { $0.before + $0.expected } ?? 0).rounded(.down))
    }

    /// Seconds the schedule spans (0 when unpaced).
    package var duration: Double { segments.last.map { $0.start + $0.length } ?? 0 }

    /// The rate the schedule asks for at `time` seconds.
    package func targetRate(at time: Double) -> Double {
        guard let segment = segments.last(where: { $0.start <= time }), time < segment.start + segment.length else { return 0 }
        return segment.startRate + (segment.endRate - segment.startRate) * (time - segment.start) / segment.length
    }

    /// The next event's intended start in seconds (0 for every event when unpaced), or nil
    /// when the schedule is done.
    package mutating func next() -> Double? {
        if let count, index >= count { return nil }
        defer { index += 1 }
        if unpaced { return 0 }
        if poisson {
            position += -log(1 - random.unit())
        } else {
            position = Double(index)
        }
        // Find the time at which the expected number of events reaches `position`.
        while segment < segments.count {
            let current = segments[segment]
            let offset = position - current.before
            if offset < current.expected {
                return current.start + invert(offset, current)
            }
            segment += 1
        }
        // Past the end: a fixed count goes on at the last rate (Poisson draws or rounding).
        if count != nil, let last = segments.last, last.endRate > 0 {
            return last.start + last.length + (position - last.before - last.expected) / last.endRate
        }
        return nil
    }

    /// Time into `segment` at which `events` events are expected: solves
    /// r0*t + (r1-r0)*t^2/(2L) = events.
    private func invert(_ events: Double, _ segment: Segment) -> Double {
        let r0 = segment.startRate, r1 = segment.endRate, length = segment.length
        let slope = (r1 - r0) / length
        if abs(slope) < 1e-12 { return r0 > 0 ? events / r0 : 0 }
        let discriminant = max(0, r0 * r0 + 2 * slope * events)
        return min(length, (-r0 + discriminant.squareRoot()) / slope)
    }
}
