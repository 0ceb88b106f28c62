import Foundation

/// `kinesis-load compare A B`: two runs side by side, figure by figure, each difference beyond
/// the tolerance marked. B is the candidate: it is worse when any figure moved the wrong way by
/// more than the tolerance (relative to A; from zero, any move the wrong way counts).
package struct RunComparison: Codable, Sendable {
    package struct Figure: Codable, Sendable {
        package var name: String
        package var unit: String
        package var a: Double
        package var b: Double
        /// (b - a) / a; nil when a is 0.
        package var change: Double?
        /// `worse`, `better` or `same` (within the tolerance).
        package var verdict: String
    }

    package var a: Int64
    package var b: Int64
    package var tolerance: Double
    package var figures: [Figure]
    /// Whether any figure is worse beyond the tolerance.
    package var worse: Bool

    /// The figures both runs have: rate, latency, error, drop and throttle rates, shard skew,
    /// lateness; end-to-end latency, lag and verification when both read back.
    package init(_ a: RunSummary, _ b: RunSummary, tolerance: Double) {
        self.a = a.run.id
        self.b = b.run.id
        self.tolerance = tolerance
        var figures: [Figure] = []
        func add(_ name: String, _ unit: String, _ x: Double, _ y: Double, higherIsBetter: Bool = false) {
            let change = x == 0 ? nil : (y - x) / abs(x)
            let worse: Bool, better: Bool
            if let change {
                worse = higherIsBetter ? -change > tolerance : change > tolerance
                better = higherIsBetter ? change > tolerance : -change > tolerance
            } else {
                worse = higherIsBetter ? y < x : y > x
                better = higherIsBetter ? y > x : y < x
            }
            figures.append(Figure(name: name, unit: unit, a: x, b: y, change: change, verdict: worse ? "worse" : better ? "better" : "same"))
        }
        add("achieved rate", "events/s", a.rate.achieved, b.rate.achieved, higherIsBetter: true)
        for (label, path) in [("p50", \RunSummary.Percentiles.p50), ("p90", \.p90), ("p99", \.p99), ("p99.9", \.p999), ("max", \.max)] {
            add("latency \(label)", "ms", a.latencyMs[keyPath: path], b.latencyMs[keyPath: path])
        }
        add("error rate", "%", Self.percent(a.totals.failed, of: a.totals.started), Self.percent(b.totals.failed, of: b.totals.started))
        add("drop rate", "%", Self.percent(a.totals.dropped, of: a.totals.planned), Self.percent(b.totals.dropped, of: b.totals.planned))
        add("throttle rate", "%", Self.throttleRate(a), Self.throttleRate(b))
        add("shard skew (busiest / mean)", "x", Self.skew(a), Self.skew(b))
        add("lateness p99", "ms", a.latenessMs.p99, b.latenessMs.p99)
        if let x = a.endToEndMs, let y = b.endToEndMs, x.count > 0, y.count > 0 {
            add("end to end p99", "ms", x.p99, y.p99)
        }
        if let x = a.reads, let y = b.reads { add("largest lag", "ms", Double(x.maxLagMs), Double(y.maxLagMs)) }
        if let x = a.verification, let y = b.verification {
            add("lost", "events", Double(x.lost), Double(y.lost))
            add("duplicated", "events", Double(x.duplicated), Double(y.duplicated))
        }
        self.figures = figures
        worse = figures.contains { $0.verdict == "worse" }
    }

    static func percent(_ part: Int, of whole: Int) -> Double { whole == 0 ? 0 : Double(part) * 100 / Double(whole) }

    static func throttleRate(_ s: RunSummary) -> Double {
        let throttled = s.shards.map(\.throttled).reduce(0, +)
        return percent(throttled, of: throttled + s.shards.map(\.records).reduce(0, +))
    }

    static func skew(_ s: RunSummary) -> Double {
        let records = s.shards.map(\.records)
        let total = records.reduce(0, +)
        guard total > 0 else { return 0 }
        return Double(records.max() ?? 0) / (Double(total) / Double(records.count))
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e12 ? String(Int(value)) : String(format: value < 10 ? "%.3f" : "%.1f", value)
    }

    static func changeText(_ figure: Figure) -> String {
        guard let change = figure.change else { return figure.a == figure.b ? "0%" : "from 0" }
        return String(format: "%+.1f%%", change * 100)
    }

    /// A Markdown table for a pull-request comment.
    package var markdown: String {
        var out = "### Run \(b) against run \(a) (tolerance \(Self.number(tolerance * 100))%)\n\n"
        out += "| figure | run \(a) | run \(b) | change | |\n|---|---:|---:|---:|---|\n"
        for f in figures {
            let mark = f.verdict == "worse" ? "**worse**" : f.verdict == "better" ? "better" : ""
            out += "| \(f.name) (\(f.unit)) | \(Self.number(f.a)) | \(Self.number(f.b)) | \(Self.changeText(f)) | \(mark) |\n"
        }
        let worse = figures.filter { $0.verdict == "worse" }.map(\.name)
        out += "\n" + (worse.isEmpty ? "No figure is worse beyond the tolerance." : "Worse beyond the tolerance: \(worse.joined(separator: ", ")).") + "\n"
        return out
    }

    /// A plain table for a terminal.
    package var text: String {
        var rows = [["figure", "run \(a)", "run \(b)", "change", ""]]
        for f in figures {
            rows.append(["\(f.name) (\(f.unit))", Self.number(f.a), Self.number(f.b), Self.changeText(f), f.verdict == "same" ? "" : f.verdict.uppercased()])
        }
        return formatTable(rows)
    }
}
