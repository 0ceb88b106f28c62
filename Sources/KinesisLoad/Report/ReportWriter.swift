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

    package static func fixed(_ value: Double, _ decimals: Int = 1) -> String { String(format: "%.\(decimals)f", value) }

    package static func bytes(_ value: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB"]
        var amount = Double(value)
        var unit = 0
        while amount >= 1024, unit < units.count - 1 {
            amount /= 1024
            unit += 1
        }
        return unit == 0 ? "\(value) B" : "\(fixed(amount)) \(units[unit])"
    }

    // MARK: - The report's model

    package static func markdown(_ s: RunSummary) -> String { document(s).markdown }

    /// The verdict word of a run, as the report leads with it.
    static func verdict(_ s: RunSummary) -> Inline {
        switch s.run.status {
        case .abandoned: return "\(strong: "ABANDONED")"
        case .error: return "\(strong: "ERROR")"
        case .running: return "\(strong: "RUNNING") (not finished)"
        case _ where s.run.segment != nil && s.inconsistencies.isEmpty: return "\(strong: "SEGMENT") (judged when merged)"
        default:
            if !s.inconsistencies.isEmpty { return "\(strong: "INCONSISTENT")" }
            return s.thresholds.isEmpty ? "no thresholds" : Inline(strong: s.passed ? "PASSED" : "FAILED")
        }
    }

    /// The run's report: what `summary.md` and `index.html` both render.
    package static func document(_ s: RunSummary) -> ReportDocument {
        var doc = ReportDocument()
        doc.lead.append(.heading(level: 1, "Run \(s.run.id): \(s.run.scenario)"))
        let verdict = verdict(s)
        if let problem = s.run.problem { doc.lead.append(.paragraph("\(verdict): \(problem)")) }
        if !s.inconsistencies.isEmpty {
            doc.lead.append(.paragraph("The stored figures do not add up, so this run cannot pass:"))
            doc.lead.append(.list(s.inconsistencies.map { "\($0)" }))
        }
        doc.lead.append(
            .paragraph(
                "\(verdict) · status \(s.run.status.rawValue) · target \(s.run.target) · stream \(code: s.run.stream) (\(s.run.shardCount) shards) · publisher \(s.run.publisher) · seed \(s.run.seed)"
            ))
        doc.lead.append(.paragraph("Started \(s.run.startedAt)" + (s.run.elapsedSeconds.map { ", ran \(fixed($0)) s" } ?? "") + "."))
        if let segment = s.run.segment {
            var text: Inline = "Segment \(segment) of a run across workers: the events whose index in the whole run is \(segment.replacingOccurrences(of: "/", with: " modulo ")). "
            if let late = s.run.lateStartSeconds, late > 0 { text += "This worker started \(fixed(late)) s after --start-at; its lateness counts it. " }
            doc.lead.append(.paragraph(text + "\(code: "kinesis-load merge") makes the whole run of its segments and judges its thresholds."))
            if let kept = s.readBackKept {
                doc.lead.append(
                    .paragraph(
                        "Read-back kept for the merge: \(number(kept.acknowledged)) acknowledgements of this segment's events (on every shard) and \(number(kept.received)) records read from its \(kept.shards) shards (number modulo \(segment.split(separator: "/").last ?? "n")), \(kept.shardsCaughtUp) of them read to their tip after the schedule. No worker can judge its own events: they are matched with every segment's reads when merged."
                    ))
            }
        }
        if let parts = s.run.mergedFrom {
            let listed = parts.map { part -> Inline in
                "\(part.segment) (\(code: part.file) run \(part.run)\(part.lateStartSeconds > 0 ? ", started \(fixed(part.lateStartSeconds)) s late" : ""))"
            }
            doc.lead.append(.paragraph("Merged from \(parts.count) segments: " + Inline.joined(listed, separator: ", ") + "."))
        }
        if !s.thresholds.isEmpty {
            doc.lead.append(.heading(level: 2, "Thresholds"))
            doc.lead.append(
                .table(
                    header: ["", "metric", "condition", "observed"],
                    rows: s.thresholds.map { ["\($0.passed ? "✓ pass" : "✗ FAIL")", "\($0.metric)", "\($0.expression)", "\($0.observedText)"] }))
        }
        doc.lead += verificationSection(s)

        let t = s.totals
        doc.details.append(.heading(level: 2, "Totals"))
        doc.details.append(
            .table(
                header: ["planned", "started", "succeeded", "failed", "dropped", "lost", "bytes delivered"],
                rows: [[t.planned, t.started, t.succeeded, t.failed, t.dropped, t.lost].map { "\(number($0))" } + ["\(bytes(t.bytes))"]]))
        doc.details.append(.heading(level: 2, "Rate"))
        var rate: [Inline] = []
        if let target = s.rate.target {
            rate.append("target: \(fixed(target)) events/s on average" + (s.rate.peakTarget.map { " (peak \(fixed($0)))" } ?? ""))
            rate.append("achieved: \(fixed(s.rate.achieved)) events/s started" + (s.rate.accuracy.map { " (\(fixed($0 * 100, 2))% of target)" } ?? ""))
        } else {
            rate.append("unpaced (as fast as the publisher takes events): \(fixed(s.rate.achieved)) events/s started")
        }
        rate.append("delivered: \(fixed(s.rate.delivered)) events/s succeeded over the whole run")
        rate.append("scheduling lateness: p50 \(fixed(s.latenessMs.p50, 3)) ms, p99 \(fixed(s.latenessMs.p99, 3)) ms, max \(fixed(s.latenessMs.max, 3)) ms")
        doc.details.append(.list(rate))
        doc.details.append(.heading(level: 2, "Latency (ms, from each event's intended start to its acknowledgement)"))
        doc.details.append(
            .table(
                header: ["type", "events", "p50", "p90", "p99", "p99.9", "max", "mean"],
                rows: [[Inline(strong: "all")] + percentiles(s.latencyMs)] + s.types.map { ["\($0.type)"] + percentiles($0.latencyMs) }))
        doc.details += readSection(s)
        doc.details += leaseSection(s)
        doc.details.append(.heading(level: 2, "Errors"))
        if s.errors.isEmpty && s.kinesisErrors.isEmpty {
            doc.details.append(.paragraph("None."))
        } else {
            if !s.errors.isEmpty {
                doc.details.append(.paragraph("Events that failed, by final error:"))
                doc.details.append(.table(header: ["code", "events"], rows: s.errors.map { ["\($0.code)", "\(number($0.count))"] }))
            }
            if !s.kinesisErrors.isEmpty {
                doc.details.append(.paragraph("Kinesis records refused, by error (retries included):"))
                doc.details.append(.table(header: ["code", "records"], rows: s.kinesisErrors.map { ["\($0.code)", "\(number($0.count))"] }))
            }
        }
        doc.details += shardSection(s)
        if !s.hotKeys.isEmpty {
            doc.details.append(.heading(level: 2, "Hottest partition keys"))
            doc.details.append(
                .table(
                    header: ["key", "shard", "events", "share"],
                    rows: s.hotKeys.prefix(10).map { ["\(code: $0.partitionKey)", "\($0.shardId)", "\(number($0.events))", "\(fixed($0.sharePercent, 2))%"] }))
        }
        return doc
    }

    /// count, p50, p90, p99, p99.9, max and mean of a latency, as table cells.
    static func percentiles(_ p: RunSummary.Percentiles, count: Bool = true) -> [Inline] {
        (count ? ["\(number(Int(p.count)))"] : []) + [p.p50, p.p90, p.p99, p.p999, p.max, p.mean].map { "\(fixed($0, 2))" }
    }

    /// The shards: the hot ones and why, then the write side and the read side per shard.
    static func shardSection(_ s: RunSummary) -> [ReportBlock] {
        var out: [ReportBlock] = [
            .heading(level: 2, "Shards"),
            .paragraph(
                "Limits per shard: \(ServiceLimits.shardWriteRecordsPerSecond) records/s and \(ServiceLimits.shardWriteBytesPerSecond / 1_048_576) MiB/s (an aggregated record counts once)."
            ),
        ]
        if s.hotShards.isEmpty {
            out.append(.paragraph("No hot shard: no shard was throttled or reached a limit."))
        } else {
            out.append(.paragraph(Inline(strong: "Hot shard\(s.hotShards.count == 1 ? "" : "s"): \(s.hotShards.joined(separator: ", "))")))
            out.append(
                .list(
                    s.shards.filter(\.hot).map { shard in
                        var line: Inline = "\(shard.shardId): \(shard.why ?? "")"
                        if shard.events > 0 { line += "; its events' p99 latency \(fixed(shard.latencyMs.p99, 1)) ms (all events: \(fixed(s.latencyMs.p99, 1)) ms)" }
                        let keys = s.hotKeys.filter { $0.shardId == shard.shardId }.prefix(3)
                        if !keys.isEmpty {
                            line += "; keys behind it: " + Inline.joined(keys.map { "\(code: $0.partitionKey) (\(fixed($0.sharePercent))% of events)" }, separator: ", ")
                        }
                        return line
                    }))
        }
        out.append(.paragraph("Records and bytes are what Kinesis accepted (an aggregate counts once); events and latency are the events delivered to the shard."))
        out.append(
            .table(
                header: ["shard", "records", "bytes", "share", "mean rec/s", "peak rec/s", "peak % of records", "peak % of bytes", "throttled", "events", "p99 ms", "hot"],
                rows: s.shards.map { shard in
                    [
                        "\(shard.shardId)", "\(number(shard.records))", "\(bytes(shard.bytes))", "\(fixed(shard.sharePercent))%", "\(fixed(shard.meanRecordsPerSecond))",
                        "\(number(shard.peakRecordsPerSecond))", "\(fixed(shard.peakRecordsPercent))%", "\(fixed(shard.peakBytesPercent))%", "\(number(shard.throttled))",
                        "\(number(shard.events))", "\(fixed(shard.latencyMs.p99, 2))", shard.hot ? Inline(strong: "yes") : "",
                    ]
                }))
        if s.reads != nil {
            out.append(
                .paragraph(
                    "Read side, per shard (limits: \(RunSummary.shardReadCallsPerSecond) GetRecords calls/s and 2 MiB/s per shard, shared by every reader):"))
            out.append(
                .table(
                    header: ["shard", "calls", "peak calls/s", "throttled", "records", "user records", "bytes", "peak % of 2 MiB/s", "max lag ms", "e2e p99 ms", "behind"],
                    rows: s.shards.compactMap { shard in
                        shard.read.map { read in
                            [
                                "\(shard.shardId)", "\(number(read.calls))", "\(read.peakCallsPerSecond)", "\(number(read.throttled))", "\(number(read.records))",
                                "\(number(read.userRecords))", "\(bytes(read.bytes))", "\(fixed(read.peakBytesPercent))%", "\(number(read.maxLagMs))",
                                "\(fixed(read.endToEndMs.p99, 2))", read.behind ? Inline(strong: "yes") : "",
                            ]
                        }
                    }))
        }
        return out
    }

    /// What read-back verification found, with the first examples of each kind.
    static func verificationSection(_ s: RunSummary) -> [ReportBlock] {
        guard let v = s.verification else { return [] }
        var out: [ReportBlock] = [.heading(level: 2, "Read-back verification")]
        let findings = v.findings
        out.append(
            .paragraph(
                findings.isEmpty
                    ? "Every acknowledged event was read back exactly once, in order per partition key." : Inline(strong: findings.joined(separator: ", ") + ".")))
        if !v.caughtUp {
            out.append(
                .paragraph(
                    "\(strong: "The read-back did not finish") (the consumers did not catch up within the catch-up timeout, or the run was stopped): events not read by then are not verified, neither read nor lost, and no loss threshold can pass."
                ))
        }
        for problem in v.inconsistencies { out.append(.paragraph("\(strong: "These figures do not add up"): \(problem).")) }
        out.append(
            .table(
                header: ["acknowledged", "read", "lost", "not verified", "duplicated", "reread", "out of order", "unexpected", "shared positions", "reused positions"],
                rows: [
                    [v.acknowledged, v.read, v.lost, v.notVerified, v.duplicated, v.reread, v.outOfOrder, v.unexpected, v.sharedPositions, v.reusedPositions].map {
                        "\(number($0))"
                    }
                ]))
        out.append(
            .paragraph(
                "Acknowledged = read + lost + not verified: \(number(v.acknowledged)) = \(number(v.read)) + \(number(v.lost)) + \(number(v.notVerified)). "
                    + "Read: an acknowledged event read at its position with its key and data (each counted once). Lost: acknowledged, never read, though the consumers read every shard to its end. Not verified: acknowledged, not read when the read-back stopped. "
                    + "Duplicated: a copy of an acknowledged event read at another position (a retried put whose first attempt landed). Reread: a position read a second time (a consumer restarted from an older checkpoint). Out of order: read before an earlier event of its partition key. Unexpected: read, never acknowledged, no copy of anything acknowledged (records from before the run are unexpected). "
                    + "Shared positions: the service acknowledged two events at one position, where it keeps one (the one not read is lost). Reused positions: a position read with another key or data than the event acknowledged there."
            ))
        if v.lateAcknowledgements > 0 {
            out.append(.paragraph("\(number(v.lateAcknowledgements)) acknowledgements came after their record was read and judged; those reads count as read."))
        }
        if v.resentCopies > 0 {
            out.append(
                .paragraph(
                    "\(number(v.resentCopies)) records were read inside aggregates that landed on a shard not covering them all (a reshard); the Producer sent them again, so they are not counted as duplicates."
                ))
        }
        if !v.examples.isEmpty {
            out.append(.paragraph("First examples:"))
            out.append(
                .table(
                    header: ["kind", "event type", "partition key", "shard", "sequence number", "sub", "other event"],
                    rows: v.examples.map { e in
                        [
                            "\(e.kind)", "\(e.eventType ?? "?")", "\(code: e.partitionKey)", "\(e.shardId)", "\(e.sequenceNumber)", "\(e.subSequenceNumber)",
                            e.otherPartitionKey.map { "\(e.otherEventType ?? "?") \(code: $0)" } ?? "",
                        ]
                    }))
        }
        return out
    }

    /// Lease-sharing workers: how each shard changed hands, how long it went unread, and what
    /// was processed twice because of it.
    static func leaseSection(_ s: RunSummary) -> [ReportBlock] {
        guard let leases = s.leases else { return [] }
        var text: Inline = "\(leases.workers) workers sharing the shards through one lease table (failover \(fixed(leases.failoverSeconds, 1)) s)."
        if let fault = leases.fault { text += " Fault: \(fault)" + (leases.struck.map { Inline(stringLiteral: " (\($0))") } ?? " (the run ended before it)") + "." }
        let changed = leases.shards.filter { $0.ownerChanges > 0 }
        let twice = leases.shards.reduce(0) { $0 + $1.reprocessed }
        text += " \(changed.count) of \(leases.shards.count) shards changed hands; \(number(twice)) records were processed twice."
        return [
            .heading(level: 2, "Lease-sharing workers"),
            .paragraph(text),
            .table(
                header: ["shard", "workers, in turn", "owner changes", "longest unread (ms)", "processed twice"],
                rows: leases.shards.map { shard in
                    [
                        "\(shard.shardId)", "\(shard.workers.joined(separator: " → "))", shard.ownerChanges > 0 ? Inline(strong: "\(shard.ownerChanges)") : "0",
                        "\(fixed(shard.longestUnreadMs, 0))", "\(number(shard.reprocessed))",
                    ]
                }),
            .paragraph(
                "Longest unread: the longest a record of the shard waited in the stream before a worker received it (a failover shows as the failover time plus a taking cycle). Processed twice: records received again at a position already received, as after a lease moved before its last batch was checkpointed (delivery is at least once)."
            ),
        ]
    }

    /// The consumers: end-to-end latency, lag, reads and throttles.
    static func readSection(_ s: RunSummary) -> [ReportBlock] {
        guard let reads = s.reads else { return [] }
        var out: [ReportBlock] = [.heading(level: 2, "Consumers")]
        out.append(
            .paragraph(
                "\(reads.consumers) consumer\(reads.consumers == 1 ? "" : "s") from \(reads.from)"
                    + (reads.processingTimeMs > 0 ? Inline(stringLiteral: ", \(fixed(reads.processingTimeMs, 2)) ms of simulated work per record") : "")
                    + "; verification \(reads.verify ? "on" : "off")."))
        if let e2e = s.endToEndMs {
            let clock: Inline =
                s.run.mergedFrom == nil
                ? "one clock, this process's" : "the publishing worker's clock against the reading worker's: across hosts, as good as their clocks' sync"
            out.append(.paragraph("End-to-end latency (ms, from each event's intended start to a consumer receiving it; " + clock + "):"))
            out.append(.table(header: ["events", "p50", "p90", "p99", "p99.9", "max", "mean"], rows: [percentiles(e2e)]))
        }
        var items: [Inline] = [
            "GetRecords calls: \(number(reads.calls)), throttled \(number(reads.throttled))",
            "read: \(number(reads.records)) Kinesis records (\(bytes(reads.bytes))), \(number(reads.userRecords)) user records",
            "largest MillisBehindLatest: \(number(reads.maxLagMs)) ms",
        ]
        for shard in s.shards where reads.laggingShards.contains(shard.shardId) {
            items.append(
                "\(strong: "the consumer of \(shard.shardId) fell behind"): up to \(fixed(Double(shard.read?.maxLagMs ?? 0) / 1000, 1)) s behind the tip"
                    + (shard.hot ? Inline(stringLiteral: " (a hot shard: \(shard.why ?? ""))") : ""))
        }
        out.append(.list(items))
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
        if !s.run.status.isFinished {
            integrity = "the run is \(s.run.status.rawValue)" + (s.run.problem.map { ": \($0)" } ?? "")
        } else if !s.inconsistencies.isEmpty {
            integrity = "the stored figures do not add up: " + s.inconsistencies.joined(separator: "; ")
        }
        let tests = s.thresholds.count + 1
        let failures = s.thresholds.filter { !$0.passed }.count + (integrity == nil ? 0 : 1)
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"kinesis-load\" tests=\"\(tests)\" failures=\"\(failures)\">\n"
        out += "  <testsuite name=\"\(xml(s.run.scenario))\" tests=\"\(tests)\" failures=\"\(failures)\" time=\"\(fixed(s.run.elapsedSeconds ?? 0, 3))\" timestamp=\"\(xml(s.run.startedAt))\">\n"
        var properties: [(String, String)] = []
        if let v = s.verification {
            properties += [
                ("verification.acknowledged", "\(v.acknowledged)"), ("verification.read", "\(v.read)"), ("verification.lost", "\(v.lost)"),
                ("verification.duplicated", "\(v.duplicated)"), ("verification.outOfOrder", "\(v.outOfOrder)"),
                ("verification.unexpected", "\(v.unexpected)"), ("verification.caughtUp", "\(v.caughtUp)"),
                ("verification.notVerified", "\(v.notVerified)"), ("verification.reread", "\(v.reread)"),
                ("verification.sharedPositions", "\(v.sharedPositions)"), ("verification.reusedPositions", "\(v.reusedPositions)"),
            ]
        }
        if let e = s.endToEndMs {
            properties += [("e2e.p50", fixed(e.p50, 3)), ("e2e.p99", fixed(e.p99, 3)), ("e2e.max", fixed(e.max, 3))]
        }
        if let reads = s.reads { properties.append(("lag.max", "\(reads.maxLagMs)")) }
        if !properties.isEmpty {
            out += "    <properties>\n" + properties.map { "      <property name=\"\($0.0)\" value=\"\(xml($0.1))\"/>\n" }.joined() + "    </properties>\n"
        }
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

    /// Ticks for an axis from 0 to `maximum`: about `count` round steps (1, 2 or 5 times a power
    /// of ten), the labels as precise as the step needs and no more.
    static func ticks(upTo maximum: Double, count: Int = 4) -> (values: [Double], top: Double, label: (Double) -> String) {
        guard maximum > 0, maximum.isFinite else { return ([0, 1], 1, { $0 == 0 ? "0" : fixed($0, 0) }) }
        let rough = maximum / Double(count)
        let power = pow(10, (log10(rough)).rounded(.down))
        let step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= rough } ?? power * 10
        let top = (maximum / step).rounded(.up) * step
        let values = stride(from: 0.0, through: top + step / 2, by: step).map { $0 }
        let decimals = max(0, Int(-(log10(step)).rounded(.down)))
        return (values, top, { value in
            let text = fixed(value, decimals)
            if decimals == 0, abs(value) >= 1000 { return number(Int(value.rounded())) }
            return text
        })
    }

    /// Opens a chart: a figure the browser check finds by `data-chart`, its caption, its SVG.
    static func figureStart(id: String, title: String, width: Double, height: Double) -> String {
        "<figure class=\"chart\" data-chart=\"\(id)\"><figcaption>\(xml(title))</figcaption>"
            + "<svg viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"\(xml(title))\">"
    }

    /// A line chart as inline SVG: one or more series against seconds, with ticks on both axes.
    /// A chart whose values are all zero says so instead of drawing a flat line on "0.00" ticks.
    static func lineChart(
        id: String, title: String, unit: String, series: [(name: String, color: String, points: [(Double, Double)])], limit: Double? = nil,
        xLabel: String = "seconds into the run", xMarks: [(value: Double, label: String)]? = nil
    ) -> String {
        let width = 760.0, height = 240.0, left = 64.0, right = 16.0, bottom = 40.0, top = 28.0
        let xs = series.flatMap { $0.points.map(\.0) }
        let ys = series.flatMap { $0.points.map(\.1) } + (limit.map { [$0] } ?? [])
        var xTicks = ticks(upTo: max(1, xs.max() ?? 1), count: 8)
        if let xMarks, let last = xMarks.last {
            xTicks = (xMarks.map(\.value), last.value, { value in xMarks.first { $0.value == value }?.label ?? "" })
        }
        let yTicks = ticks(upTo: ys.max() ?? 0)
        func x(_ v: Double) -> Double { left + v / xTicks.top * (width - left - right) }
        func y(_ v: Double) -> Double { height - bottom - v / yTicks.top * (height - bottom - top) }
        var svg = figureStart(id: id, title: title, width: width, height: height)
        for value in yTicks.values {
            svg += "<line x1=\"\(left)\" y1=\"\(fixed(y(value)))\" x2=\"\(width - right)\" y2=\"\(fixed(y(value)))\" stroke=\"#eee\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(fixed(y(value) + 4))\" text-anchor=\"end\" font-size=\"11\">\(yTicks.label(value))</text>"
        }
        for value in xTicks.values {
            svg += "<line x1=\"\(fixed(x(value)))\" y1=\"\(height - bottom)\" x2=\"\(fixed(x(value)))\" y2=\"\(height - bottom + 4)\" stroke=\"#999\"/>"
            svg += "<text x=\"\(fixed(x(value)))\" y=\"\(height - bottom + 16)\" text-anchor=\"middle\" font-size=\"11\">\(xTicks.label(value))</text>"
        }
        svg += "<line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width - right)\" y2=\"\(height - bottom)\" stroke=\"#999\"/>"
        svg += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(height - bottom)\" stroke=\"#999\"/>"
        svg += "<text x=\"\((width + left) / 2)\" y=\"\(height - 6)\" text-anchor=\"middle\" font-size=\"11\">\(xml(xLabel))</text>"
        svg += "<text x=\"4\" y=\"14\" font-size=\"11\">\(xml(unit))</text>"
        if let limit {
            svg += "<line x1=\"\(left)\" y1=\"\(fixed(y(limit)))\" x2=\"\(width - right)\" y2=\"\(fixed(y(limit)))\" stroke=\"#d33\" stroke-dasharray=\"4 3\"/>"
        }
        if ys.allSatisfy({ $0 == 0 }) {
            svg += "<text x=\"\((width + left) / 2)\" y=\"\((height - bottom + top) / 2)\" text-anchor=\"middle\" font-size=\"13\" fill=\"#777\">all zero: none in this run</text>"
        }
        var legendX = left + 60
        var legendRow = 0
        for (index, line) in series.enumerated() {
            let points = line.points.map { "\(fixed(x($0.0))),\(fixed(y($0.1)))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"1.5\" points=\"\(points)\"/>"
            svg += "<text x=\"\(fixed(legendX))\" y=\"\(14 + Double(legendRow) * 13)\" font-size=\"11\" fill=\"\(line.color)\">■ \(xml(line.name))</text>"
            // Legends side by side, as wide as their names, wrapping onto a second row.
            legendX += 24 + Double(line.name.count) * 6.5
            if legendX > width - 160, index < series.count - 1 {
                legendX = left + 60
                legendRow += 1
            }
        }
        return svg + "</svg></figure>"
    }

    /// Horizontal bars in percent of a limit, one group per name (write and read per shard).
    static func barChart(id: String, title: String, bars: [(name: String, value: Double, hot: Bool)], limit: Double) -> String {
        let width = 760.0, rowHeight = 18.0, left = 210.0
        let height = Double(bars.count) * rowHeight + 34
        let maxValue = max(limit * 1.1, bars.map(\.value).max() ?? 1)
        func x(_ v: Double) -> Double { left + v / maxValue * (width - left - 60) }
        var svg = figureStart(id: id, title: title, width: width, height: height)
        for (index, bar) in bars.enumerated() {
            let top = 10 + Double(index) * rowHeight
            svg += "<text x=\"\(left - 6)\" y=\"\(fixed(top + 12))\" text-anchor=\"end\" font-size=\"11\">\(xml(bar.name))</text>"
            svg += "<rect x=\"\(left)\" y=\"\(fixed(top + 2))\" width=\"\(fixed(max(0, x(bar.value) - left)))\" height=\"\(rowHeight - 4)\" fill=\"\(bar.hot ? "#d33" : "#4a7")\"/>"
            svg += "<text x=\"\(fixed(x(bar.value) + 4))\" y=\"\(fixed(top + 12))\" font-size=\"10\">\(fixed(bar.value, 0))%</text>"
        }
        svg += "<line x1=\"\(fixed(x(limit)))\" y1=\"4\" x2=\"\(fixed(x(limit)))\" y2=\"\(height - 18)\" stroke=\"#d33\" stroke-dasharray=\"4 3\"/>"
        svg += "<text x=\"\(fixed(x(limit)))\" y=\"\(height - 4)\" font-size=\"10\" text-anchor=\"middle\">limit (100%)</text>"
        return svg + "</svg></figure>"
    }

    /// A latency distribution: milliseconds at each percentile, the percentiles spread so that
    /// the tail (99, 99.9, 99.99) gets as much room as the body.
    static func distributionChart(id: String, title: String, series: [(name: String, color: String, points: [[Double]])]) -> String {
        // x = -log10(1 - p/100), capped: 0 at p0, 1 at p90, 2 at p99, 3 at p99.9, 4 at p99.99 and p100.
        func spread(_ percentile: Double) -> Double { min(4, -log10(max(1e-4, 1 - percentile / 100))) }
        let lines = series.map { line in (line.name, line.color, line.points.map { (spread($0[0]), $0[1]) }) }
        let marks: [(value: Double, label: String)] = [(0, "p0"), (1, "p90"), (2, "p99"), (3, "p99.9"), (4, "p99.99")]
        return lineChart(id: id, title: title, unit: "ms", series: lines, xLabel: "percentile", xMarks: marks)
    }

    package static func html(_ s: RunSummary) -> String {
        """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Run \(s.run.id): \(xml(s.run.scenario))</title>
            <style>\(htmlStyle)</style></head><body>
            \(htmlBody(s))
            </body></html>

            """
    }

    /// The report's style sheet (the live page uses it too).
    package static let htmlStyle = """
        body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
        table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
        td:first-child,th:first-child{text-align:left}figure{margin:1.2em 0}figcaption{font-weight:600;margin-bottom:4px}
        code{background:#f3f3f3;padding:0 3px}.verdict{padding:.4em .8em;border-radius:4px;display:inline-block}
        .verdict.pass{background:#e6f4ea}.verdict.fail{background:#fce8e6}
        """

    /// What the report's body holds: the verdict, the charts, the details (the live page shows
    /// it, rebuilt every second from the running run's stored figures).
    package static func htmlBody(_ s: RunSummary) -> String {
        typealias Line = (name: String, color: String, points: [(Double, Double)])
        let series = s.series
        func line(_ name: String, _ color: String, _ value: (RunSummary.Second) -> Double) -> Line {
            (name, color, series.map { (Double($0.second), value($0)) })
        }
        var charts: [String] = []
        var rateLines = [line("target", "#888") { $0.targetRate }, line("started", "#27c") { Double($0.started) }, line("failed", "#d33") { Double($0.failed) }]
        if s.reads != nil { rateLines.append(line("consumed", "#2a7") { Double($0.consumed) }) }
        charts.append(lineChart(id: "rate", title: "Events per second: target, started, failed" + (s.reads == nil ? "" : ", consumed"), unit: "events/s", series: rateLines))
        var latencyLines: [(name: String, color: String, points: [(Double, Double)])] = [
            ("acknowledged p99", "#a4c", series.filter { $0.succeeded + $0.failed > 0 }.map { (Double($0.second), $0.p99Ms) })
        ]
        if s.endToEndMs != nil {
            latencyLines.append(("end-to-end p99", "#e80", series.compactMap { second in second.endToEndP99Ms.map { (Double(second.second), $0) } }))
        }
        charts.append(lineChart(id: "latency", title: "p99 latency per second: acknowledged and end to end", unit: "ms", series: latencyLines))
        var distributions: [(name: String, color: String, points: [[Double]])] = [("acknowledged", "#a4c", s.latencyDistribution)]
        if !s.endToEndDistribution.isEmpty { distributions.append(("end to end", "#e80", s.endToEndDistribution)) }
        charts.append(distributionChart(id: "distribution", title: "Latency distribution (ms at each percentile)", series: distributions))
        if s.reads != nil {
            let palette = ["#27c", "#e80", "#2a7", "#d33", "#a4c", "#888", "#c63", "#08a"]
            // The shards that fell furthest behind, at most eight lines.
            let worst = s.lag.sorted { ($0.points.map { $0[1] }.max() ?? 0) > ($1.points.map { $0[1] }.max() ?? 0) }.prefix(8)
            charts.append(
                lineChart(
                    id: "lag", title: "Consumer lag: MillisBehindLatest per shard (the \(worst.count) furthest behind)", unit: "ms behind",
                    series: worst.enumerated().map { index, lag in
                        (lag.shardId, palette[index % palette.count], lag.points.map { (Double($0[0]), Double($0[1])) })
                    }))
        }
        var throttleLines = [line("write records", "#d33") { Double($0.throttled) }]
        if s.reads != nil { throttleLines.append(line("read calls", "#27c") { Double($0.readThrottled) }) }
        charts.append(
            lineChart(
                id: "throttles", title: "Throttled per second: Kinesis records refused on write" + (s.reads == nil ? "" : ", GetRecords calls refused on read"),
                unit: "per second", series: throttleLines))
        var bars = s.shards.map { ("\($0.shardId) write", max($0.peakRecordsPercent, $0.peakBytesPercent), $0.hot) }
        if s.reads != nil {
            bars = s.shards.flatMap { shard -> [(String, Double, Bool)] in
                var pair = [("\(shard.shardId) write", max(shard.peakRecordsPercent, shard.peakBytesPercent), shard.hot)]
                if let read = shard.read {
                    let calls = Double(read.peakCallsPerSecond) / Double(RunSummary.shardReadCallsPerSecond) * 100
                    pair.append(("\(shard.shardId) read", max(read.peakBytesPercent, calls), read.behind))
                }
                return pair
            }
        }
        charts.append(
            barChart(
                id: "shards",
                title: "Peak load per shard, percent of its limit (write: the tighter of 1,000 records/s and 1 MiB/s; read: 5 calls/s and 2 MiB/s)",
                bars: bars, limit: 100))
        // The verdict, the thresholds and the verification come first; the charts next; the details last.
        let doc = document(s)
        let verdictClass = s.passed ? "pass" : "fail"
        return """
            <div class="verdict \(verdictClass)">
            \(doc.lead.map(\.html).joined(separator: "\n"))
            </div>
            <h2>Charts</h2>
            \(charts.joined(separator: "\n"))
            \(doc.details.map(\.html).joined(separator: "\n"))
            """
    }
}
