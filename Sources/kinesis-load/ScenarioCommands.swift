import ArgumentParser
import Foundation
import KinesisLoad
import Kinesis

struct ValidateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check scenario files: every problem with its JSON path and what was expected (exit 2 if any).")

    @Argument(help: "Scenario files.") var scenarios: [String]

    func run() async throws {
        var failed = false
        for path in scenarios {
            do {
                let scenario = try Scenario.load(path: path)
                let load = scenario.load
                let rate = load.peakRate.map { String(format: "peak %.0f events/s", $0) } ?? "unpaced"
                let duration = load.duration.map { " over " + DurationText.format($0) } ?? ""
                print(
                    "ok: \(path): \(scenario.name), \(scenario.events.count) event type\(scenario.events.count == 1 ? "" : "s"), \(rate)\(duration), \(scenario.publisher.mode.rawValue), \(scenario.thresholds.count) threshold\(scenario.thresholds.count == 1 ? "" : "s")"
                )
            } catch {
                failed = true
                FileHandle.standardError.write(Data("\(error)\n".utf8))
            }
        }
        if failed { throw ExitCode(2) }
    }
}

struct PartitionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "partitions",
        abstract: "Predict per-shard load at the peak rate, name hot shards and their keys, recommend a shard count.",
        discussion: """
            Keys come from the scenario's events, or from --keys FILE: real partition keys, one per line, \
            or a column of a CSV (--keys-column N, counting from 1), each line once or weighted \
            (--weight-column M). Shards are even ranges (--shards, default the scenario's), or the real \
            map of an existing stream (--stream NAME with --endpoint URL or --aws: ranges after splits and \
            merges). Nothing is sent, except one ListShards for --stream. \
            --headroom 30% recommends a shard count that keeps every shard under 100/1.3 = 77% of its \
            limits, and which shards of the map to split; --max-share 25% exits 99 when a shard takes more \
            than that share of the records (for CI).
            """)

    @Argument(help: "The scenario file (JSON); optional with --keys.") var scenario: String?
    @Option(help: "Shards to spread over (default: the scenario's).") var shards: Int?
    @Option(help: "Events per second to predict at (default: the scenario's peak rate).") var rate: Double?
    @Option(help: "Events to sample.") var sample: Int?
    @Option(help: "A file of real partition keys (one per line, or a CSV with --keys-column).") var keys: String?
    @Option(help: "The CSV column holding the keys, from 1.") var keysColumn: Int?
    @Option(help: "The CSV column holding each key's weight (how often it occurs), from 1.") var weightColumn: Int?
    @Option(help: "Bytes of data per record with --keys (default: the scenario's mean, else 1024).") var recordBytes: Int?
    @Option(help: "Use the real shard map of this stream (with --endpoint or --aws).") var stream: String?
    @OptionGroup var connection: ConnectionOptions
    @Flag(help: "With --stream: read the shard map from the real AWS service.") var aws = false
    @Option(help: "Recommend a shard count keeping this much spare capacity, such as 30%.") var headroom: String?
    @Option(help: "Exit 99 when a shard takes more than this share of the records, such as 25%.") var maxShare: String?
    @Flag(help: "Print JSON.") var json = false

    /// The rates a scenario may ask for.
    static let rates = 0.001...10_000_000.0

    /// `30%` or `0.3` as a fraction; the error names the flag.
    static func percent(_ text: String, flag: String, range: ClosedRange<Double>) throws -> Double {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let value = trimmed.hasSuffix("%") ? Double(trimmed.dropLast()).map { $0 / 100 } : Double(trimmed)
        guard let value, range.contains(value) else {
            throw ValidationError("\(flag): expected a percentage such as 30% (from \(Int(range.lowerBound * 100))% to \(Int(range.upperBound * 100))%), got '\(text)'")
        }
        return value
    }

    func validate() throws {
        if scenario == nil, keys == nil { throw ValidationError("give a scenario file, or real keys with --keys FILE") }
        if aws, connection.endpoint != nil { throw ValidationError("--aws and --endpoint exclude each other: pick one") }
        if stream != nil, !aws, connection.endpoint == nil { throw ValidationError("--stream reads a real shard map: add --endpoint URL or --aws") }
        if stream != nil, shards != nil { throw ValidationError("--stream uses the stream's own shards: drop --shards") }
        if keysColumn != nil || weightColumn != nil, keys == nil { throw ValidationError("--keys-column and --weight-column need --keys FILE") }
        if let keysColumn, keysColumn < 1 { throw ValidationError("--keys-column counts from 1, got \(keysColumn)") }
        if let weightColumn, weightColumn < 1 { throw ValidationError("--weight-column counts from 1, got \(weightColumn)") }
        if let recordBytes, !(0...ServiceLimits.recordMaxBytes).contains(recordBytes) {
            throw ValidationError("--record-bytes must be from 0 to \(ServiceLimits.recordMaxBytes), got \(recordBytes)")
        }
    }

    func run() async throws {
        let scenario = try self.scenario.map(loadScenario)
        let map: ShardMap
        if let stream {
            try validateStreamName(stream, source: "--stream")
            map = try await connection.withClient { client in
                do {
                    return try await StreamManager(api: client).shardMap(stream: stream)
                } catch let error as KinesisError where error.code == .resourceNotFound {
                    throw CommandFailure("--stream \(stream): no such stream at \(connection.endpoint ?? "AWS")")
                }
            }
        } else {
            guard let count = shards ?? scenario?.stream.shards else {
                throw ValidationError("--shards: give a shard count (the scenario's stream is on-demand, or there is no scenario)")
            }
            guard ServiceLimits.shardCount.contains(count) else {
                throw ValidationError("--shards must be from 1 to \(ServiceLimits.shardCount.upperBound), got \(count)")
            }
            map = .even(count: count)
        }
        if let rate, !(Self.rates.contains(rate)) {
            throw ValidationError("--rate must be from 0.001 to 10000000 events per second, got \(rate)")
        }
        guard let peak = rate ?? scenario?.load.peakRate, peak > 0 else {
            throw ValidationError("--rate: give the rate to predict at (the scenario is unpaced, or there is no scenario)")
        }
        if let sample, !(1...10_000_000).contains(sample) { throw ValidationError("--sample must be from 1 to 10000000, got \(sample)") }
        let room = try headroom.map { try Self.percent($0, flag: "--headroom", range: 0...10) }
        let limit = try maxShare.map { try Self.percent($0, flag: "--max-share", range: 0.0001...1) }
        let analysis: PartitionAnalysis
        if let keys {
            let weights = try KeyFile.read(keys, keysColumn: keysColumn, weightColumn: weightColumn)
            let bytes =
                recordBytes
                ?? scenario.map { Int(PartitionAnalysis.analyze($0, map: map, peakRate: peak, sampleEvents: 2_000).meanRecordBytes) } ?? 1024
            analysis = PartitionAnalysis.analyze(
                keys: weights, map: map, peakRate: peak, recordBytes: bytes, publisher: scenario?.publisher ?? .default, headroom: room)
        } else if let scenario {
            analysis = PartitionAnalysis.analyze(scenario, map: map, peakRate: peak, sampleEvents: sample, headroom: room)
        } else {
            throw ValidationError("give a scenario file, or real keys with --keys FILE")
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(analysis), as: UTF8.self))
        } else {
            print(analysis.text, terminator: "")
        }
        if let limit, let busiest = analysis.shardLoads.max(by: { $0.sharePercent < $1.sharePercent }), busiest.sharePercent > limit * 100 {
            FileHandle.standardError.write(
                Data(
                    "--max-share \(maxShare ?? ""): \(busiest.shardId) takes \(ReportWriter.fixed(busiest.sharePercent))% of the records\n".utf8))
            throw ExitCode(99)
        }
    }
}

/// `--keys FILE`: partition keys one per line, or a column of a CSV, optionally weighted.
enum KeyFile {
    static func read(_ path: String, keysColumn: Int?, weightColumn: Int?) throws -> PartitionAnalysis.KeyWeights {
        guard let data = FileManager.default.contents(atPath: path) else { throw CommandFailure("--keys \(path): cannot be read") }
        guard let text = String(data: data, encoding: .utf8) else { throw CommandFailure("--keys \(path): is not UTF-8 text") }
        var weights: [String: Double] = [:]
        var order: [String] = []
        let csv = keysColumn != nil || weightColumn != nil
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : String(raw)
            if line.isEmpty { continue }
            var key = line
            var weight = 1.0
            if csv {
                let cells = splitCSV(line)
                let column = (keysColumn ?? 1) - 1
                guard column < cells.count else {
                    throw CommandFailure("--keys \(path) line \(offset + 1): no column \(column + 1) (the line has \(cells.count))")
                }
                key = cells[column]
                if let weightColumn {
                    guard weightColumn - 1 < cells.count, let value = Double(cells[weightColumn - 1].trimmingCharacters(in: .whitespaces)), value >= 0
                    else {
                        // A first line whose weight is not a number is a header.
                        if order.isEmpty, offset == 0 { continue }
                        throw CommandFailure("--keys \(path) line \(offset + 1): column \(weightColumn) is not a weight (a number, 0 or more)")
                    }
                    weight = value
                }
            }
            guard (1...256).contains(key.count) else {
                throw CommandFailure("--keys \(path) line \(offset + 1): a partition key has 1 to 256 characters, this one \(key.count)")
            }
            if weights[key] == nil { order.append(key) }
            weights[key, default: 0] += weight
        }
        guard !order.isEmpty else { throw CommandFailure("--keys \(path): no keys in it") }
        // Weights that add up to nothing predict no load anywhere: a shard share would be 0/0.
        guard weights.values.contains(where: { $0 > 0 }) else {
            throw CommandFailure("--keys \(path): every weight in column \(weightColumn ?? 0) is 0, so no key occurs: nothing to predict")
        }
        return PartitionAnalysis.KeyWeights(keys: order.map { ($0, weights[$0]!) }, source: (path as NSString).lastPathComponent)
    }

    /// One CSV line's cells: commas separate, double quotes group, "" is a quote.
    static func splitCSV(_ line: String) -> [String] {
        var cells: [String] = []
        var cell = ""
        var quoted = false
        var iterator = line.makeIterator()
        while let character = iterator.next() {
            switch character {
            case "\"" where quoted:
                if let following = iterator.next() {
                    if following == "\"" {
                        cell.append("\"")
                    } else {
                        quoted = false
                        if following == "," {
                            cells.append(cell)
                            cell = ""
                        } else {
                            cell.append(following)
                        }
                    }
                } else {
                    quoted = false
                }
            case "\"" where cell.isEmpty: quoted = true
            case "," where !quoted:
                cells.append(cell)
                cell = ""
            default: cell.append(character)
            }
        }
        cells.append(cell)
        return cells
    }
}

struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List the runs stored in the metrics database.")

    @OptionGroup var store: StoreOptions
    @Option(help: "How many, newest first.") var limit = 20
    @Flag(help: "JSON: one object per run (for scripts).") var json = false

    /// A run as `runs --json` lists it.
    struct Listed: Encodable {
        var id: Int64
        var scenario: String
        var target: String
        var startedAt: String
        var elapsedSeconds: Double?
        var status: String
        var events: Int
        var failed: Int
        var p99Ms: Double
        var segment: String?
        var mergedFrom: Int?
        var problem: String?
    }

    func run() async throws {
        guard FileManager.default.fileExists(atPath: store.db) else {
            print("no runs yet: \(store.db) does not exist")
            return
        }
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1, got \(limit)") }
        let metrics = try store.open()
        let ids: ArraySlice<Int64>
        do {
            ids = try await metrics.runIds().prefix(limit)
        } catch {
            throw CommandFailure("--db \(store.db): the runs table cannot be read: \(MetricsStore.describe(error))")
        }
        var rows = [["run", "scenario", "target", "started", "seconds", "status", "events", "failed", "p99 ms"]]
        var listed: [Listed] = []
        var damaged: [String] = []
        for id in ids {
            do {
                let s = try await metrics.summary(run: id)
                listed.append(
                    Listed(
                        id: id, scenario: s.run.scenario, target: s.run.target, startedAt: s.run.startedAt, elapsedSeconds: s.run.elapsedSeconds,
                        status: s.run.status.rawValue, events: s.totals.started, failed: s.totals.failed, p99Ms: s.latencyMs.p99, segment: s.run.segment,
                        mergedFrom: s.run.mergedFrom?.count, problem: s.run.problem))
                rows.append([
                    String(id), s.run.scenario, s.run.target, s.run.startedAt, s.run.elapsedSeconds.map { String(format: "%.1f", $0) } ?? "-",
                    s.run.status.rawValue, String(s.totals.started), String(s.totals.failed), String(format: "%.2f", s.latencyMs.p99),
                ])
            } catch {
                // One damaged run does not hide the others.
                rows.append([String(id), "-", "-", "-", "-", "damaged", "-", "-", "-"])
                listed.append(
                    Listed(
                        id: id, scenario: "", target: "", startedAt: "", status: "damaged", events: 0, failed: 0, p99Ms: 0,
                        problem: MetricsStore.describe(error)))
                damaged.append("run \(id) is damaged: \(MetricsStore.describe(error))")
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(listed), as: UTF8.self))
        } else {
            print(formatTable(rows))
        }
        for line in damaged { FileHandle.standardError.write(Data("\(line)\n".utf8)) }
    }
}

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Rebuild a run's reports (summary.md, summary.json, index.html, junit.xml) from SQLite.")

    @Argument(help: "A run id, or latest.") var run = "latest"
    @OptionGroup var store: StoreOptions

    func run() async throws {
        guard FileManager.default.fileExists(atPath: store.db) else {
            throw CommandFailure("--db \(store.db): no such file; `kinesis-load run SCENARIO` creates it")
        }
        let metrics = try store.open()
        let id: Int64
        let summary: RunSummary
        let folder: String
        do {
            id = try await metrics.resolveRun(run)
        } catch {
            throw CommandFailure("\(error)")
        }
        do {
            summary = try await metrics.summary(run: id)
        } catch {
            throw CommandFailure("run \(id) in \(store.db) is damaged: \(MetricsStore.describe(error))")
        }
        do {
            folder = try ReportWriter.write(summary, into: store.reports)
        } catch {
            throw CommandFailure("the reports of run \(id) could not be written: \(error)")
        }
        print(ReportWriter.markdown(summary))
        print("reports: \(folder)")
    }
}
