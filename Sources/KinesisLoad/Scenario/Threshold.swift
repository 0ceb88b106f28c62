import Foundation

/// A pass or fail condition on a run's figures: `"latency.p99": "< 200ms"`.
public struct Threshold: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable {
        /// Milliseconds; the text takes `us`, `ms` (the default) or `s`.
        case time
        /// A fraction; the text takes `%` or a plain fraction.
        case ratio
        /// A plain number.
        case number
    }

    public enum Comparison: String, Sendable, Codable, CaseIterable {
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

    /// The metrics a threshold can name, and how their values read.
    public static let metrics: [String: (kind: Kind, meaning: String)] = [
        "latency.p50": (.time, "median latency from intended start to acknowledgement"),
        "latency.p90": (.time, "90th percentile latency"),
        "latency.p95": (.time, "95th percentile latency"),
        "latency.p99": (.time, "99th percentile latency"),
        "latency.p99.9": (.time, "99.9th percentile latency"),
        "latency.max": (.time, "largest latency"),
        "latency.mean": (.time, "mean latency"),
        "lateness.p99": (.time, "99th percentile of how late events started after their intended time"),
        "errors.rate": (.ratio, "events that failed, of events finished"),
        "errors.count": (.number, "events that failed"),
        "throttled.rate": (.ratio, "Kinesis records refused with ProvisionedThroughputExceededException, of records sent"),
        "throttled.count": (.number, "Kinesis records refused for throughput"),
        "dropped.rate": (.ratio, "events not started because too many were in flight, of events planned"),
        "dropped.count": (.number, "events not started because too many were in flight"),
        "rate.achieved": (.number, "events started per second over the schedule"),
        "rate.accuracy": (.ratio, "achieved rate over target rate"),
        "delivery.lost": (.number, "events started that neither succeeded nor failed by the end"),
    ]

    public var metric: String
    public var comparison: Comparison
    /// Normalized: milliseconds for time, a fraction for ratios.
    public var limit: Double
    /// As written in the scenario.
    public var expression: String

    public var kind: Kind { Self.metrics[metric]?.kind ?? .number }

    /// Parses `expression` for `metric`; the error says what was expected.
    public static func parse(metric: String, expression: String) throws(ThresholdError) -> Threshold {
        guard let kind = metrics[metric]?.kind else {
            let hint = Suggest.hint(for: metric, in: Array(metrics.keys))
            throw ThresholdError(
                message: "unknown metric \"\(metric)\"\(hint) Metrics: \(metrics.keys.sorted().joined(separator: ", "))")
        }
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
    public func format(_ value: Double) -> String {
        switch kind {
        case .time: value >= 1000 ? String(format: "%.3gs", value / 1000) : String(format: "%.3gms", value)
        case .ratio: String(format: "%.3g%%", value * 100)
        case .number: value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format: "%.1f", value)
        }
    }

    public func holds(_ observed: Double) -> Bool { comparison.holds(observed, limit) }
}

public struct ThresholdError: Error, Sendable, Hashable {
    public var message: String
}
