import Foundation

/// A pass or fail condition on a run's figures: `"latency.p99": "< 200ms"`.
package struct Threshold: Sendable, Hashable, Codable {
    package enum Kind: String, Sendable, Codable {
        /// Milliseconds; the text takes `us`, `ms` (the default) or `s`.
        case time
        /// A fraction; the text takes `%` or a plain fraction.
        case ratio
        /// A plain number.
        case number
    }

    package enum Comparison: String, Sendable, Codable, CaseIterable {
        case lessOrEqual = "<="
        case less = "<"
        case greaterOrEqual = ">="
        case greater = ">"
        case equal = "=="
        case notEqual = "!="

        func holds(_ observed: Double, _ limit: Double) -> Bool {
            switch self {
            case .lessOrEqual: observed <= limit
            case .less: observed < limit
            case .greaterOrEqual: observed >= limit
            case .greater: observed > limit
            case .equal: observed == limit
            case .notEqual: observed != limit
            }
        }
    }

    /// What is compared.
    package var metric: ThresholdMetric
    /// How it is compared.
    package var comparison: Comparison
    /// Normalized: milliseconds for time, a fraction for ratios.
    package var limit: Double
    /// As written in the scenario.
    package var expression: String

    /// How the metric's values read.
    package var kind: Kind { metric.kind }

    /// Parses `expression` for the metric named `name`; the error says what was expected.
    package static func parse(metric name: String, expression: String) throws(ThresholdError) -> Threshold {
        guard let metric = ThresholdMetric(rawValue: name) else {
            let names = ThresholdMetric.allCases.map(\.rawValue)
            let hint = Suggest.hint(for: name, in: names)
            throw ThresholdError(message: "unknown metric \"\(name)\"\(hint) Metrics: \(names.sorted().joined(separator: ", "))")
        }
        let kind = metric.kind
        var text = Substring(expression.trimmingCharacters(in: .whitespaces))
        guard let comparison = Comparison.allCases.first(where: { text.hasPrefix($0.rawValue) }) else {
            throw ThresholdError(message: "expected a comparison (<, <=, >, >=, ==, !=) then a value, as in \"< 200ms\"; got \"\(expression)\"")
        }
        text = text.dropFirst(comparison.rawValue.count).drop { $0 == " " }
        let number = text.prefix { $0.isNumber || $0 == "." || $0 == "-" }
        let unit = text.dropFirst(number.count).trimmingCharacters(in: .whitespaces)
        guard let value = Double(number) else {
            throw ThresholdError(message: "expected a number after \"\(comparison.rawValue)\" in \"\(expression)\"")
        }
        let limit: Double
        switch (kind, unit) {
        case (.time, ""), (.time, "ms"): limit = value
        case (.time, "s"): limit = value * 1000
        case (.time, "us"): limit = value / 1000
        case (.ratio, "%"): limit = value / 100
        case (.ratio, ""): limit = value
        case (.number, ""): limit = value
        default:
            let allowed = kind == .time ? "us, ms or s" : kind == .ratio ? "% or none (a fraction)" : "none"
            throw ThresholdError(message: "unit \"\(unit)\" does not fit \(metric); it takes \(allowed)")
        }
        return Threshold(metric: metric, comparison: comparison, limit: limit, expression: expression)
    }

    /// The limit as the scenario would write it.
    package func format(_ value: Double) -> String {
        switch kind {
        case .time: value >= 1000 ? String(format: "%.3gs", value / 1000) : String(format: "%.3gms", value)
        case .ratio: String(format: "%.3g%%", value * 100)
        case .number: value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format: "%.1f", value)
        }
    }

    package func holds(_ observed: Double) -> Bool { comparison.holds(observed, limit) }
}

package struct ThresholdError: Error, Sendable, Hashable {
    package var message: String
}

/// The figures a threshold can name. Each knows how its value reads and where it comes from
/// in a run's figures, so adding a metric is one case here, and the compiler finds every
/// place that must learn it.
package enum ThresholdMetric: String, Sendable, Hashable, Codable, CaseIterable {
    case latencyP50 = "latency.p50"
    case latencyP90 = "latency.p90"
    case latencyP95 = "latency.p95"
    case latencyP99 = "latency.p99"
    case latencyP999 = "latency.p99.9"
    case latencyMax = "latency.max"
    case latencyMean = "latency.mean"
    case latenessP99 = "lateness.p99"
    case errorsRate = "errors.rate"
    case errorsCount = "errors.count"
    case throttledRate = "throttled.rate"
    case throttledCount = "throttled.count"
    case droppedRate = "dropped.rate"
    case droppedCount = "dropped.count"
    case rateAchieved = "rate.achieved"
    case rateAccuracy = "rate.accuracy"
    case deliveryLost = "delivery.lost"
    case endToEndP50 = "e2e.p50"
    case endToEndP99 = "e2e.p99"
    case endToEndMax = "e2e.max"
    case lagMax = "lag.max"
    case lostCount = "lost.count"
    case duplicatedRate = "duplicated.rate"
    case outOfOrderCount = "outOfOrder.count"
    case readThrottledRate = "readThrottled.rate"

    /// Measured by the run's consumers: a scenario naming it needs a `consume` section.
    package var needsConsumers: Bool {
        switch self {
        case .endToEndP50, .endToEndP99, .endToEndMax, .lagMax, .lostCount, .duplicatedRate, .outOfOrderCount, .readThrottledRate: true
        default: false
        }
    }

    /// How its values read.
    package var kind: Threshold.Kind {
        switch self {
        case .latencyP50, .latencyP90, .latencyP95, .latencyP99, .latencyP999, .latencyMax, .latencyMean, .latenessP99: .time
        case .endToEndP50, .endToEndP99, .endToEndMax, .lagMax: .time
        case .errorsRate, .throttledRate, .droppedRate, .rateAccuracy, .duplicatedRate, .readThrottledRate: .ratio
        case .errorsCount, .throttledCount, .droppedCount, .rateAchieved, .deliveryLost, .lostCount, .outOfOrderCount: .number
        }
    }

    /// What it measures, in a sentence.
    package var meaning: String {
        switch self {
        case .latencyP50: "median latency from intended start to acknowledgement"
        case .latencyP90: "90th percentile latency"
        case .latencyP95: "95th percentile latency"
        case .latencyP99: "99th percentile latency"
        case .latencyP999: "99.9th percentile latency"
        case .latencyMax: "largest latency"
        case .latencyMean: "mean latency"
        case .latenessP99: "99th percentile of how late events started after their intended time"
        case .errorsRate: "events that failed, of events finished"
        case .errorsCount: "events that failed"
        case .throttledRate: "Kinesis records refused with ProvisionedThroughputExceededException, of records sent"
        case .throttledCount: "Kinesis records refused for throughput"
        case .droppedRate: "events not started because too many were in flight, of events planned"
        case .droppedCount: "events not started because too many were in flight"
        case .rateAchieved: "events started per second over the schedule"
        case .rateAccuracy: "achieved rate over target rate"
        case .deliveryLost: "events started that neither succeeded nor failed by the end"
        case .endToEndP50: "median time from an event's intended start to a consumer receiving it"
        case .endToEndP99: "99th percentile end-to-end latency"
        case .endToEndMax: "largest end-to-end latency"
        case .lagMax: "largest MillisBehindLatest any consumer saw"
        case .lostCount: "events acknowledged and never read back (with verify)"
        case .duplicatedRate: "copies read of acknowledged events, of events read"
        case .outOfOrderCount: "events read before an earlier event of the same partition key"
        case .readThrottledRate: "GetRecords calls refused with ProvisionedThroughputExceededException, of calls made"
        }
    }

    /// Its value among a run's figures, or why there is none (nothing was measured for it: a
    /// threshold over no samples fails, never passes).
    func value(in figures: RunFigures) -> Result<Double, NoData> {
        func ratio(_ part: Int, _ whole: Int, _ of: String) -> Result<Double, NoData> {
            whole > 0 ? .success(Double(part) / Double(whole)) : .failure(NoData("no \(of)"))
        }
        func sampled(_ percentiles: RunSummary.Percentiles?, _ what: String, _ value: (RunSummary.Percentiles) -> Double) -> Result<Double, NoData> {
            guard let percentiles, percentiles.count > 0 else { return .failure(NoData("0 \(what) samples")) }
            return .success(value(percentiles))
        }
        func counted(_ value: Int, over events: Int) -> Result<Double, NoData> {
            events > 0 ? .success(Double(value)) : .failure(NoData("no events"))
        }
        /// The read-back's figures, when it measured something and finished.
        func verified(_ value: (RunSummary.Verification) -> Int) -> Result<Double, NoData> {
            guard let v = figures.verification else { return .failure(NoData("no read-back")) }
            if v.notVerified > 0 { return .failure(NoData("\(v.notVerified) acknowledged events not verified (the read-back did not finish)")) }
            if v.acknowledged == 0 { return .failure(NoData("no acknowledged events")) }
            return .success(Double(value(v)))
        }
        let started = figures.totals.started
        switch self {
        case .latencyP50: return sampled(figures.latency, "latency", \.p50)
        case .latencyP90: return sampled(figures.latency, "latency", \.p90)
        case .latencyP95: return sampled(figures.latency, "latency") { _ in figures.latencyP95 }
        case .latencyP99: return sampled(figures.latency, "latency", \.p99)
        case .latencyP999: return sampled(figures.latency, "latency", \.p999)
        case .latencyMax: return sampled(figures.latency, "latency", \.max)
        case .latencyMean: return sampled(figures.latency, "latency", \.mean)
        case .latenessP99: return sampled(figures.lateness, "lateness", \.p99)
        case .errorsRate: return ratio(figures.totals.failed, figures.totals.succeeded + figures.totals.failed, "events finished")
        case .errorsCount: return counted(figures.totals.failed, over: started)
        case .throttledRate: return ratio(figures.throttled, figures.attempted, "records sent")
        case .throttledCount: return counted(figures.throttled, over: started)
        case .droppedRate: return ratio(figures.totals.dropped, figures.totals.planned, "events planned")
        case .droppedCount: return counted(figures.totals.dropped, over: figures.totals.planned)
        case .rateAchieved: return counted(0, over: figures.totals.planned).map { _ in figures.rate.achieved }
        case .rateAccuracy:
            guard let accuracy = figures.rate.accuracy, accuracy.isFinite else { return .failure(NoData("no target rate")) }
            return .success(accuracy)
        case .deliveryLost: return counted(figures.totals.lost, over: started)
        case .endToEndP50: return sampled(figures.endToEnd, "end-to-end", \.p50)
        case .endToEndP99: return sampled(figures.endToEnd, "end-to-end", \.p99)
        case .endToEndMax: return sampled(figures.endToEnd, "end-to-end", \.max)
        case .lagMax:
            guard let reads = figures.reads, reads.calls > 0 else { return .failure(NoData("no GetRecords calls")) }
            return .success(Double(reads.maxLagMs))
        case .lostCount: return verified(\.lost)
        case .duplicatedRate:
            return verified(\.read).flatMap { _ in ratio(figures.verification!.duplicated, figures.verification!.read, "events read") }
        case .outOfOrderCount: return verified(\.outOfOrder)
        case .readThrottledRate: return ratio(figures.reads?.throttled ?? 0, figures.reads?.calls ?? 0, "GetRecords calls")
        }
    }
}

/// Why a threshold has no value to judge: it fails, saying so.
package struct NoData: Error, Sendable, CustomStringConvertible {
    package var description: String
    init(_ why: String) { description = "no data: \(why)" }
}

/// What thresholds are judged on: a run's figures as the summary computed them.
struct RunFigures {
    var latency: RunSummary.Percentiles
    /// Kept apart: the summary's percentiles do not include p95.
    var latencyP95: Double
    var lateness: RunSummary.Percentiles
    var totals: RunSummary.Totals
    var rate: RunSummary.Rate
    /// Kinesis records refused for throughput, and Kinesis records sent in all.
    var throttled: Int
    var attempted: Int
    var endToEnd: RunSummary.Percentiles?
    var reads: RunSummary.Reads?
    var verification: RunSummary.Verification?
}
