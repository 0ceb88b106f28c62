import Foundation
import Kinesis

/// Writes a run's summary as `summary.md`, `summary.json`, `index.html` (charts as inline
/// SVG, no scripts) and `junit.xml` (one test case per threshold) into `Reports/<run>/`.
package enum ReportWriter {
    /// `0007-quickstart`: the run id and the scenario's name (made safe for a file name and
    /// cut to fit one).
    package static func folderName(_ summary: RunSummary) -> String {
        let safe = String(
            String.UnicodeScalarView(
                summary.run.scenario.unicodeScalars.map { Scenario.isNameCharacter($0) ? $0 : "_" }
            ).prefix(Scenario.maximumNameLength))
        return String(format: "%04lld-", summary.run.id) + safe
    }

    /// Which run of which database a report folder holds: written into it as `.kinesis-load-run`.
    struct Owner: Codable, Equatable {
        var database: String
        var run: Int64
    }

    static let ownerFile = ".kinesis-load-run"

    /// The folder run `summary` writes into: `0007-quickstart` unless that holds another
    /// database's run 7 (or a folder this tool did not write), then `0007-quickstart-<database>`.
    package static func folder(for summary: RunSummary, in reports: String) throws -> String {
        let owner = Owner(database: summary.run.database, run: summary.run.id)
        let base = (reports as NSString).appendingPathComponent(folderName(summary))
        for candidate in [base, base + "-" + summary.run.database] {
            guard FileManager.default.fileExists(atPath: candidate) else { return candidate }
            let marker = FileManager.default.contents(atPath: candidate + "/" + ownerFile)
            if let marker, (try? JSONDecoder().decode(Owner.self, from: marker)) == owner { return candidate }
        }
        throw ReportError(
            description: "\(base) and \(base)-\(summary.run.database) hold other runs' reports: move them away, or give --reports another folder")
    }

    /// Checks, before a run starts, that reports can be written into `reports`: that it is (or
    /// can be made) a folder, and that a file can be created there.
    package static func checkWritable(_ reports: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: reports, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw ReportError(description: "--reports \(reports): is a file, not a folder")
        }
        do {
            try FileManager.default.createDirectory(atPath: reports, withIntermediateDirectories: true)
            let probe = (reports as NSString).appendingPathComponent(".kinesis-load-probe-\(getpid())")
            try Data().write(to: URL(fileURLWithPath: probe))
            try FileManager.default.removeItem(atPath: probe)
        } catch {
            throw ReportError(description: "--reports \(reports): cannot write reports there (\(error.localizedDescription))")
        }
    }

    /// Writes every file; returns the folder.
    @discardableResult
    package static func write(_ summary: RunSummary, into reports: String) throws -> String {
        let folder = try folder(for: summary, in: reports)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try JSONEncoder().encode(Owner(database: summary.run.database, run: summary.run.id)).write(to: URL(fileURLWithPath: folder + "/" + ownerFile))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(summary).write(to: URL(fileURLWithPath: folder + "/summary.json"))
        try Data(markdown(summary).utf8).write(to: URL(fileURLWithPath: folder + "/summary.md"))
        try Data(html(summary).utf8).write(to: URL(fileURLWithPath: folder + "/index.html"))
        try Data(junit(summary).utf8).write(to: URL(fileURLWithPath: folder + "/junit.xml"))
        return folder
    }

    static func number(_ value: Int) -> String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.groupingSeparator = ","
        formatter.usesGroupingSeparator = true
        return formatter.string(from: NSNumber(value: value)) ?? String(value)
    }

    static func fixed(_ value: Double, _ decimals: Int = 1) -> String { String(format: "%.\(decimals)f", value) }

    static func bytes(_ value: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB"]
        var amount = Double(value)
        var unit = 0
        while amount >= 1024, unit < units.count - 1 {
            amount /= 1024
            unit += 1
        }
        return unit == 0 ? "\(value) B" : "\(fixed(amount)) \(units[unit])"
    }

    // MARK: - Markdown

    package static func markdown(_ s: RunSummary) -> String {
        var out = "# Run \(s.run.id): \(s.run.scenario)\n\n"
        let verdict: String
        switch s.run.status {
        case "abandoned": verdict = "**ABANDONED**"
        case "error": verdict = "**ERROR**"
        case "running": verdict = "**RUNNING** (not finished)"
        default: verdict = !s.inconsistencies.isEmpty ? "**INCONSISTENT**" : s.thresholds.isEmpty ? "no thresholds" : s.passed ? "**PASSED**" : "**FAILED**"
        }
        if let problem = s.run.problem { out += "\(verdict): \(problem)\n\n" }
        if !s.inconsistencies.isEmpty {
            out += "The stored figures do not add up, so this run cannot pass:\n\n" + s.inconsistencies.map { "- \($0)\n" }.joined() + "\n"
        }
        out += "\(verdict) · status \(s.run.status) · target \(s.run.target) · stream `\(s.run.stream)` (\(s.run.shardCount) shards) · publisher \(s.run.publisher) · seed \(s.run.seed)\n\n"
        out += "Started \(s.run.startedAt)"
        if let elapsed = s.run.elapsedSeconds { out += ", ran \(fixed(elapsed)) s" }
        out += ".\n\n"
        if !s.thresholds.isEmpty {
            out += "## Thresholds\n\n| | metric | condition | observed |\n|---|---|---|---|\n"
            for t in s.thresholds { out += "| \(t.passed ? "✓ pass" : "✗ FAIL") | \(t.metric) | \(t.expression) | \(t.observedText) |\n" }
            out += "\n"
        }
        out += "## Totals\n\n| planned | started | succeeded | failed | dropped | lost | bytes delivered |\n|---|---|---|---|---|---|---|\n"
        let t = s.totals
        out += "| \(number(t.planned)) | \(number(t.started)) | \(number(t.succeeded)) | \(number(t.failed)) | \(number(t.dropped)) | \(number(t.lost)) | \(bytes(t.bytes)) |\n\n"
        out += "## Rate\n\n"
        if let target = s.rate.target {
            out += "- target: \(fixed(target)) events/s on average"
            if let peak = s.rate.peakTarget { out += " (peak \(fixed(peak)))" }
            out += "\n- achieved: \(fixed(s.rate.achieved)) events/s started"
            if let accuracy = s.rate.accuracy { out += " (\(fixed(accuracy * 100, 2))% of target)" }
            out += "\n"
        } else {
            out += "- unpaced (as fast as the publisher takes events): \(fixed(s.rate.achieved)) events/s started\n"
        }
        out += "- delivered: \(fixed(s.rate.delivered)) events/s succeeded over the whole run\n"
        out += "- scheduling lateness: p50 \(fixed(s.latenessMs.p50, 3)) ms, p99 \(fixed(s.latenessMs.p99, 3)) ms, max \(fixed(s.latenessMs.max, 3)) ms\n\n"
        out += "## Latency (ms, from each event's intended start to its acknowledgement)\n\n"
        out += "| type | events | p50 | p90 | p99 | p99.9 | max | mean |\n|---|---|---|---|---|---|---|---|\n"
        func row(_ name: String, _ p: RunSummary.Percentiles) -> String {
            "| \(name) | \(number(Int(p.count))) | \(fixed(p.p50, 2)) | \(fixed(p.p90, 2)) | \(fixed(p.p99, 2)) | \(fixed(p.p999, 2)) | \(fixed(p.max, 2)) | \(fixed(p.mean, 2)) |\n"
        }
        out += row("**all**", s.latencyMs)
        for type in s.types { out += row(type.type, type.latencyMs) }
        out += "\n## Errors\n\n"
        if s.errors.isEmpty && s.kinesisErrors.isEmpty {
            out += "None.\n\n"
        } else {
            if !s.errors.isEmpty {
                out += "Events that failed, by final error:\n\n| code | events |\n|---|---|\n"
                for e in s.errors { out += "| \(e.code) | \(number(e.count)) |\n" }
                out += "\n"
            }
            if !s.kinesisErrors.isEmpty {
                out += "Kinesis records refused, by error (retries included):\n\n| code | records |\n|---|---|\n"
                for e in s.kinesisErrors { out += "| \(e.code) | \(number(e.count)) |\n" }
                out += "\n"
            }
        }
        out += "## Shards\n\nLimits per shard: \(ServiceLimits.shardWriteRecordsPerSecond) records/s and \(ServiceLimits.shardWriteBytesPerSecond / 1_048_576) MiB/s (an aggregated record counts once).\n\n"
        if s.hotShards.isEmpty {
            out += "No hot shard: no shard was throttled or reached a limit.\n\n"
        } else {
            out += "**Hot shard\(s.hotShards.count == 1 ? "" : "s"): \(s.hotShards.joined(separator: ", "))**\n\n"
            for shard in s.shards where shard.hot {
                let keys = s.hotKeys.filter { $0.shardId == shard.shardId }.prefix(3)
                out += "- \(shard.shardId): \(shard.why ?? "")"
                if shard.events > 0 { out += "; its events' p99 latency \(fixed(shard.latencyMs.p99, 1)) ms (all events: \(fixed(s.latencyMs.p99, 1)) ms)" }
                if !keys.isEmpty {
                    out += "; keys behind it: " + keys.map { "`\($0.partitionKey)` (\(fixed($0.sharePercent))% of events)" }.joined(separator: ", ")
                }
                out += "\n"
            }
            out += "\n"
        }
        out += "Records and bytes are what Kinesis accepted (an aggregate counts once); events and latency are the events delivered to the shard.\n\n"
        out += "| shard | records | bytes | share | mean rec/s | peak rec/s | peak % of records | peak % of bytes | throttled | events | p99 ms | hot |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n"
        for shard in s.shards {
            out += "| \(shard.shardId) | \(number(shard.records)) | \(bytes(shard.bytes)) | \(fixed(shard.sharePercent))% | \(fixed(shard.meanRecordsPerSecond)) | \(number(shard.peakRecordsPerSecond)) | \(fixed(shard.peakRecordsPercent))% | \(fixed(shard.peakBytesPercent))% | \(number(shard.throttled)) | \(number(shard.events)) | \(fixed(shard.latencyMs.p99, 2)) | \(shard.hot ? "**yes**" : "") |\n"
        }
        if !s.hotKeys.isEmpty {
            out += "\n## Hottest partition keys\n\n| key | shard | events | share |\n|---|---|---|---|\n"
            for key in s.hotKeys.prefix(10) {
                out += "| `\(key.partitionKey)` | \(key.shardId) | \(number(key.events)) | \(fixed(key.sharePercent, 2))% |\n"
            }
        }
        return out
    }

    // MARK: - JUnit

    static func xml(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }

    package static func junit(_ s: RunSummary) -> String {
        // One more case: the run itself ended normally and its figures add up.
        var integrity: String?
        if !RunSummary.finishedStatuses.contains(s.run.status) {
            integrity = "the run is \(s.run.status)" + (s.run.problem.map { ": \($0)" } ?? "")
        } else if !s.inconsistencies.isEmpty {
            integrity = "the stored figures do not add up: " + s.inconsistencies.joined(separator: "; ")
        }
        let tests = s.thresholds.count + 1
        let failures = s.thresholds.filter { !$0.passed }.count + (integrity == nil ? 0 : 1)
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"kinesis-load\" tests=\"\(tests)\" failures=\"\(failures)\">\n"
        out += "  <testsuite name=\"\(xml(s.run.scenario))\" tests=\"\(tests)\" failures=\"\(failures)\" time=\"\(fixed(s.run.elapsedSeconds ?? 0, 3))\" timestamp=\"\(xml(s.run.startedAt))\">\n"
        out += "    <testcase classname=\"run\" name=\"finished with consistent figures\">"
        if let integrity { out += "\n      <failure message=\"\(xml(integrity))\" type=\"run\"/>\n    " }
        out += "</testcase>\n"
        for t in s.thresholds {
            out += "    <testcase classname=\"thresholds\" name=\"\(xml("\(t.metric) \(t.expression)"))\">"
            if !t.passed {
                out += "\n      <failure message=\"\(xml("\(t.metric) was \(t.observedText), expected \(t.expression)"))\" type=\"threshold\"/>\n    "
            }
            out += "</testcase>\n"
        }
        out += "  </testsuite>\n</testsuites>\n"
        return out
    }

    // MARK: - HTML

    /// A line chart as inline SVG: one or more series over seconds.
    static func lineChart(title: String, unit: String, series: [(name: String, color: String, points: [(Double, Double)])], limit: Double? = nil) -> String {
        let width = 720.0, height = 220.0, left = 60.0, bottom = 30.0, top = 24.0
        let xs = series.flatMap { $0.points.map(\.0) }
        let ys = series.flatMap { $0.points.map(\.1) } + (limit.map { [$0] } ?? [])
        let maxX = max(1, xs.max() ?? 1), maxY = max(1e-9, (ys.max() ?? 1) * 1.1)
        func x(_ v: Double) -> Double { left + v / maxX * (width - left - 10) }
        func y(_ v: Double) -> Double { height - bottom - v / maxY * (height - bottom - top) }
        var svg = "<figure><figcaption>\(xml(title))</figcaption><svg viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\">"
        svg += "<line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width - 10)\" y2=\"\(height - bottom)\" stroke=\"#999\"/>"
        svg += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(height - bottom)\" stroke=\"#999\"/>"
        for i in 0...4 {
            let value = maxY * Double(i) / 4
            svg += "<text x=\"\(left - 6)\" y=\"\(fixed(y(value) + 4))\" text-anchor=\"end\" font-size=\"10\">\(fixed(value, value < 10 ? 2 : 0))</text>"
        }
        svg += "<text x=\"\(width - 10)\" y=\"\(height - 8)\" text-anchor=\"end\" font-size=\"10\">seconds (max \(Int(maxX)))</text>"
        svg += "<text x=\"4\" y=\"14\" font-size=\"10\">\(xml(unit))</text>"
        if let limit {
            svg += "<line x1=\"\(left)\" y1=\"\(fixed(y(limit)))\" x2=\"\(width - 10)\" y2=\"\(fixed(y(limit)))\" stroke=\"#d33\" stroke-dasharray=\"4 3\"/>"
        }
        for (index, line) in series.enumerated() {
            let points = line.points.map { "\(fixed(x($0.0))),\(fixed(y($0.1)))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"1.5\" points=\"\(points)\"/>"
            svg += "<text x=\"\(left + 10 + Double(index) * 140)\" y=\"14\" font-size=\"11\" fill=\"\(line.color)\">■ \(xml(line.name))</text>"
        }
        return svg + "</svg></figure>"
    }

    static func barChart(title: String, bars: [(name: String, value: Double, hot: Bool)], limit: Double) -> String {
        let width = 720.0, rowHeight = 18.0, left = 170.0
        let height = Double(bars.count) * rowHeight + 30
        let maxValue = max(limit * 1.1, bars.map(\.value).max() ?? 1)
        func x(_ v: Double) -> Double { left + v / maxValue * (width - left - 60) }
        var svg = "<figure><figcaption>\(xml(title))</figcaption><svg viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\">"
        for (index, bar) in bars.enumerated() {
            let top = 10 + Double(index) * rowHeight
            svg += "<text x=\"\(left - 6)\" y=\"\(fixed(top + 12))\" text-anchor=\"end\" font-size=\"11\">\(xml(bar.name))</text>"
            svg += "<rect x=\"\(left)\" y=\"\(fixed(top + 2))\" width=\"\(fixed(max(0, x(bar.value) - left)))\" height=\"\(rowHeight - 4)\" fill=\"\(bar.hot ? "#d33" : "#4a7")\"/>"
            svg += "<text x=\"\(fixed(x(bar.value) + 4))\" y=\"\(fixed(top + 12))\" font-size=\"10\">\(fixed(bar.value, 0))%</text>"
        }
        svg += "<line x1=\"\(fixed(x(limit)))\" y1=\"4\" x2=\"\(fixed(x(limit)))\" y2=\"\(height - 16)\" stroke=\"#d33\" stroke-dasharray=\"4 3\"/>"
        svg += "<text x=\"\(fixed(x(limit)))\" y=\"\(height - 4)\" font-size=\"10\" text-anchor=\"middle\">limit</text>"
        return svg + "</svg></figure>"
    }

    package static func html(_ s: RunSummary) -> String {
        let series = s.series
        let rates = lineChart(
            title: "Events per second: target and started", unit: "events/s",
            series: [
                ("target", "#888", series.map { (Double($0.second), $0.targetRate) }),
                ("started", "#27c", series.map { (Double($0.second), Double($0.started)) }),
                ("failed", "#d33", series.map { (Double($0.second), Double($0.failed)) }),
            ])
        let latency = lineChart(title: "p99 latency per second", unit: "ms", series: [("p99", "#a4c", series.map { (Double($0.second), $0.p99Ms) })])
        let throttles = lineChart(
            title: "Kinesis records throttled per second", unit: "records/s", series: [("throttled", "#d33", series.map { (Double($0.second), Double($0.throttled)) })])
        let shards = barChart(
            title: "Peak load per shard (percent of the tighter of 1,000 records/s and 1 MiB/s)",
            bars: s.shards.map { ($0.shardId, max($0.peakRecordsPercent, $0.peakBytesPercent), $0.hot) }, limit: 100)
        let body = markdownToHTML(markdown(s))
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Run \(s.run.id): \(xml(s.run.scenario))</title>
            <style>body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
            table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
            td:first-child,th:first-child{text-align:left}figure{margin:1em 0}figcaption{font-weight:600;margin-bottom:4px}
            code{background:#f3f3f3;padding:0 3px}</style></head><body>
            \(rates)
            \(latency)
            \(throttles)
            \(shards)
            \(body)
            </body></html>

            """
    }

    /// Enough Markdown for our own summary: headings, tables, bullets, bold and code.
    static func markdownToHTML(_ markdown: String) -> String {
        func inline(_ text: String) -> String {
            var out = xml(text)
            while let open = out.range(of: "**"), let close = out[open.upperBound...].range(of: "**") {
                out.replaceSubrange(open.lowerBound..<close.upperBound, with: "<strong>\(out[open.upperBound..<close.lowerBound])</strong>")
            }
            while let open = out.range(of: "`"), let close = out[open.upperBound...].range(of: "`") {
                out.replaceSubrange(open.lowerBound..<close.upperBound, with: "<code>\(out[open.upperBound..<close.lowerBound])</code>")
            }
            return out
        }
        var html = ""
        var inTable = false, inList = false
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("|") {
                let cells = line.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast().map {
                    $0.trimmingCharacters(in: .whitespaces)
                }
                if cells.allSatisfy({ $0.allSatisfy { $0 == "-" } }) { continue }
                if !inTable {
                    html += "<table><tr>" + cells.map { "<th>\(inline($0))</th>" }.joined() + "</tr>\n"
                    inTable = true
                } else {
                    html += "<tr>" + cells.map { "<td>\(inline($0))</td>" }.joined() + "</tr>\n"
                }
                continue
            }
            if inTable {
                html += "</table>\n"
                inTable = false
            }
            if line.hasPrefix("- ") {
                if !inList { html += "<ul>\n" }
                inList = true
                html += "<li>\(inline(String(line.dropFirst(2))))</li>\n"
                continue
            }
            if inList {
                html += "</ul>\n"
                inList = false
            }
            if line.hasPrefix("## ") {
                html += "<h2>\(inline(String(line.dropFirst(3))))</h2>\n"
            } else if line.hasPrefix("# ") {
                html += "<h1>\(inline(String(line.dropFirst(2))))</h1>\n"
            } else if !line.isEmpty {
                html += "<p>\(inline(line))</p>\n"
            }
        }
        if inTable { html += "</table>\n" }
        if inList { html += "</ul>\n" }
        return html
    }
}
