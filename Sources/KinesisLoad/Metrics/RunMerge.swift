import Foundation
import GRDB
import Kinesis

/// `kinesis-load merge`: the segments of one run (`run --segment i/n`, one SQLite file each)
/// made into one run whose figures are the exact sums of the parts. Rows are copied, not
/// summarized: per-second counts add up row by row, and every latency histogram (acknowledgement,
/// lateness, end to end) is the parts' buckets together, so a merged percentile is the
/// percentile of all the samples at the histogram's precision. Seconds are aligned on wall-clock
/// time: a part that started later has its seconds moved by the difference.
package enum RunMerge {
    /// One segment, as its file stores it: its row of `runs`, read as the merge needs it.
    package struct Part: Sendable {
        package var path: String
        package var runId: Int64
        package var segment: RunSegment
        package var row: RunRow

        package var scenarioHash: String { row.scenarioSha256 ?? "" }
        package var scenario: String { row.scenario }
        package var seed: Int64 { row.seed }
        package var status: RunStatus { row.status }
        package var startedAt: Date { row.startDate ?? Date(timeIntervalSince1970: 0) }
        package var plannedEvents: Int { row.plannedEvents }
        package var elapsedSeconds: Double { row.elapsedSeconds ?? 0 }
        package var generationSeconds: Double { row.generationSeconds ?? 0 }
        package var lateStartSeconds: Double { row.lateStartSeconds ?? 0 }
        package var counted: Recorder.Totals? { row.counted.flatMap { try? JSONDecoder().decode(Recorder.Totals.self, from: Data($0.utf8)) } }
    }

    /// Why parts cannot be merged, in a sentence that names the file and what is wrong.
    package struct Refusal: Error, Sendable, CustomStringConvertible {
        package var description: String
    }

    /// Reads each file's latest run and checks that together they are every segment of one run:
    /// the same scenario (by content hash), seed and segment count, each segment once, each
    /// complete. Returns the parts in segment order.
    package static func parts(_ paths: [String]) async throws -> [Part] {
        guard !paths.isEmpty else { throw Refusal(description: "merge needs the SQLite files of a segmented run's workers") }
        var parts: [Part] = []
        for path in paths {
            guard FileManager.default.fileExists(atPath: path) else { throw Refusal(description: "\(path): no such file") }
            let store: MetricsStore
            do { store = try MetricsStore(path: path) } catch {
                throw Refusal(description: "\(path): not a metrics database (\(MetricsStore.describe(error)))")
            }
            let found: Result<Part, Refusal>? = try await store.read { db in
                guard let row = try RunRow.latest(db), let id = row.id else { return nil }
                guard let text = row.segment, let segment = try? RunSegment(parsing: text) else {
                    return .failure(Refusal(description: "\(path): run \(id) is not a segment (a worker runs with --segment i/n)"))
                }
                return .success(Part(path: path, runId: id, segment: segment, row: row))
            }
            guard let found else { throw Refusal(description: "\(path): holds no run") }
            parts.append(try found.get())
        }
        let first = parts[0]
        for part in parts.dropFirst() {
            if part.seed != first.seed {
                throw Refusal(description: "\(part.path) ran with seed \(UInt64(bitPattern: part.seed)), \(first.path) with \(UInt64(bitPattern: first.seed)): the segments of one run share its seed")
            }
            if part.scenarioHash != first.scenarioHash {
                throw Refusal(
                    description: "\(part.path) ran another scenario than \(first.path) (\(part.scenario), sha256 \(part.scenarioHash.prefix(12)) against \(first.scenario), sha256 \(first.scenarioHash.prefix(12))): every segment must run the same file")
            }
            if part.segment.count != first.segment.count {
                throw Refusal(
                    description: "\(part.path) is segment \(part.segment) and \(first.path) is \(first.segment): the segments of one run are of the same count")
            }
        }
        for part in parts where !part.status.isComplete {
            throw Refusal(description: "\(part.path): run \(part.runId) (segment \(part.segment)) ended \(part.status.rawValue), not complete: merge only segments that ran to their end")
        }
        var byIndex: [Int: Part] = [:]
        for part in parts {
            if let other = byIndex[part.segment.index] {
                throw Refusal(description: "segment \(part.segment) is given twice: \(other.path) and \(part.path)")
            }
            byIndex[part.segment.index] = part
        }
        let missing = (0..<first.segment.count).filter { byIndex[$0] == nil }
        guard missing.isEmpty else {
            throw Refusal(
                description: "segment\(missing.count == 1 ? "" : "s") \(missing.map { "\($0)/\(first.segment.count)" }.joined(separator: ", ")) missing: a merge needs all \(first.segment.count) of the run")
        }
        return (0..<first.segment.count).map { byIndex[$0]! }
    }

    /// Writes the merged run into `store`; returns its id. Its status is `completed`: judge it
    /// (thresholds, reports) as a run is judged.
    package static func merge(_ parts: [Part], into store: MetricsStore, hotKeysKept: Int = 25) async throws -> Int64 {
        for part in parts where URL(fileURLWithPath: part.path).standardizedFileURL == URL(fileURLWithPath: store.path).standardizedFileURL {
            throw Refusal(description: "\(part.path) is a part and the output (--db) at once: write the merged run into another file")
        }
        let start = parts.map(\.startedAt).min()!
        let offsets = parts.map { Int($0.startedAt.timeIntervalSince(start).rounded()) }
        var counted = Recorder.Totals()
        for part in parts {
            guard let c = part.counted else { continue }
            counted.planned += c.planned
            counted.started += c.started
            counted.succeeded += c.succeeded
            counted.failed += c.failed
            counted.dropped += c.dropped
            counted.throttled += c.throttled
        }
        let mergedFrom = try String(
            decoding: JSONEncoder().encode(
                parts.map {
                    MergedPart(file: $0.path, run: $0.runId, segment: $0.segment.description, lateStartSeconds: $0.lateStartSeconds)
                }), as: UTF8.self)
        let countedText = String(decoding: try JSONEncoder().encode(counted), as: UTF8.self)
        let owner = RunOwner.current
        let elapsed = zip(parts, offsets).map { Double($1) + $0.elapsedSeconds }.max() ?? 0
        let generation = zip(parts, offsets).map { Double($1) + $0.generationSeconds }.max() ?? 0
        let planned = parts.map(\.plannedEvents).reduce(0, +)
        // The segments' read-backs, matched together: no worker could judge its own events.
        var readBack: ReadBackReplay.Outcome?
        if try await ReadBackReplay.kept(parts) {
            let typeNames = try JSONDecoder().decode([String].self, from: Data(parts[0].row.eventTypes.utf8))
            readBack = try await ReadBackReplay.replay(parts, typeNames: typeNames, runStartedAt: start, startUs: ReadBackHandoff.micros(start))
        }
        let verification = readBack
        return try await store.pool.writeWithoutTransaction { db in
            var runId: Int64 = 0
            var rates: [Int: Double] = [:]
            var keys: [String: (shard: String, events: Int, bytes: Int)] = [:]
            for (number, (part, offset)) in zip(parts, offsets).enumerated() {
                try db.execute(sql: "ATTACH DATABASE ? AS part", arguments: [part.path])
                defer { try? db.execute(sql: "DETACH DATABASE part") }
                try db.inTransaction {
                    if number == 0 {
                        // The run's description is its first segment's, with the whole run's figures.
                        var run = part.row
                        run.id = nil
                        run.plannedEvents = planned
                        run.startedAt = ISO8601DateFormatter().string(from: start)
                        run.endedAt = ISO8601DateFormatter().string(from: Date())
                        run.elapsedSeconds = elapsed
                        run.generationSeconds = generation
                        run.status = .running
                        run.exitCode = nil
                        (run.ownerHost, run.ownerPid, run.ownerStarted) = (owner.host, Int64(owner.pid), owner.started)
                        run.counted = countedText
                        run.problem = nil
                        run.segment = nil
                        run.lateStartSeconds = nil
                        run.mergedFrom = mergedFrom
                        try run.insert(db)
                        runId = run.id ?? db.lastInsertedRowID
                    }
                    let copies = [
                        ("event_seconds", "second, event_type, started, succeeded, failed, dropped, bytes, latency"),
                        ("shard_seconds", "second, shard_id, records, bytes, throttled, failed, events, latency"),
                        ("schedule_seconds", "second, planned, started, dropped, target_rate, lateness"),
                        ("read_seconds", "second, shard_id, calls, throttled, records, bytes, user_records, max_behind_ms, e2e"),
                        ("errors", "second, scope, name, code, count"),
                    ]
                    for (table, columns) in copies {
                        let moved = columns.replacingOccurrences(of: "second,", with: "second + ?,")
                        try db.execute(
                            sql: "INSERT INTO \(table) (run_id, \(columns)) SELECT ?, \(moved) FROM part.\(table) WHERE run_id = ?",
                            arguments: [runId, offset, part.runId])
                    }
                    // A second's target rate is the highest of its rows (several batches may hold it).
                    var partRates: [Int: Double] = [:]
                    for row in try ScheduleSecondRow.fetchAll(db, sql: "SELECT * FROM part.schedule_seconds WHERE run_id = ?", arguments: [part.runId]) {
                        partRates[row.second + offset] = max(partRates[row.second + offset] ?? 0, row.targetRate)
                    }
                    for (second, rate) in partRates { rates[second, default: 0] += rate }
                    for row in try HotKeyRow.fetchAll(db, sql: "SELECT * FROM part.hot_keys WHERE run_id = ?", arguments: [part.runId]) {
                        var entry = keys[row.partitionKey] ?? (row.shardId, 0, 0)
                        entry.events += row.events
                        entry.bytes += row.bytes
                        keys[row.partitionKey] = entry
                    }
                    try db.execute(
                        sql: """
                            INSERT INTO samples (run_id, event_type, seq, partition_key, explicit_hash_key, data)
                            SELECT ?, event_type, seq + ?, partition_key, explicit_hash_key, data FROM part.samples WHERE run_id = ?
                            """,
                        arguments: [runId, number * 1_000_000, part.runId])
                    return .commit
                }
            }
            try db.inTransaction {
                // Each segment was asked for its share of the rate: the run's target is their sum.
                for (second, rate) in rates {
                    try db.execute(
                        sql: "UPDATE schedule_seconds SET target_rate = ? WHERE run_id = ? AND second = ?", arguments: [rate, runId, second])
                }
                // A key's merged count is exact where it is among every part's hottest, a lower bound otherwise.
                let hottest = keys.sorted { $0.value.events != $1.value.events ? $0.value.events > $1.value.events : $0.key < $1.key }
                for (key, value) in hottest.prefix(hotKeysKept) {
                    try HotKeyRow(runId: runId, partitionKey: key, shardId: value.shard, events: value.events, bytes: value.bytes).insert(db)
                }
                if let verification {
                    try MetricsStore.insert(verification.result, run: runId, db)
                    // End-to-end latencies, known only now, as read rows of their own (no calls, no records).
                    for (second, shards) in verification.endToEnd {
                        for (shard, histogram) in shards {
                            try ReadSecondRow(
                                runId: runId, second: second, shardId: shard, calls: 0, throttled: 0, records: 0, bytes: 0, userRecords: 0, maxBehindMs: nil,
                                e2e: HistogramCoding.blob(histogram)
                            ).insert(db)
                        }
                    }
                }
                if var run = try RunRow.find(db, runId) {
                    run.status = .completed
                    run.exitCode = 0
                    try run.update(db)
                }
                return .commit
            }
            return runId
        }
    }

    /// `runs.merged_from`: what a merged run was made of.
    package struct MergedPart: Codable, Sendable, Hashable {
        package var file: String
        package var run: Int64
        package var segment: String
        package var lateStartSeconds: Double
    }
}
