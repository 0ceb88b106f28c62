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
        abstract: "Predict per-shard load at the scenario's peak rate, name hot shards and their keys; sends nothing.")

    @Argument(help: "The scenario file (JSON).") var scenario: String
    @Option(help: "Shards to spread over (default: the scenario's).") var shards: Int?
    @Option(help: "Events per second to predict at (default: the scenario's peak rate).") var rate: Double?
    @Option(help: "Events to sample.") var sample: Int?
    @Flag(help: "Print JSON.") var json = false

    /// The rates a scenario may ask for.
    static let rates = 0.001...10_000_000.0

    func run() async throws {
        let scenario = try loadScenario(self.scenario)
        guard let count = shards ?? scenario.stream.shards else {
            throw ValidationError("--shards: the scenario's stream is on-demand, so give a shard count")
        }
        guard ServiceLimits.shardCount.contains(count) else {
            throw ValidationError("--shards must be from 1 to \(ServiceLimits.shardCount.upperBound), got \(count)")
        }
        if let rate, !(Self.rates.contains(rate)) {
            throw ValidationError("--rate must be from 0.001 to 10000000 events per second, got \(rate)")
        }
        guard let peak = rate ?? scenario.load.peakRate, peak > 0 else {
            throw ValidationError("--rate: the scenario is unpaced (fixed-events without a rate), so give the rate to predict at")
        }
        if let sample, !(1...10_000_000).contains(sample) { throw ValidationError("--sample must be from 1 to 10000000, got \(sample)") }
        let analysis = PartitionAnalysis.analyze(scenario, shards: count, peakRate: peak, sampleEvents: sample)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(analysis), as: UTF8.self))
        } else {
            print(analysis.text, terminator: "")
        }
    }
}

struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "runs", abstract: "List the runs stored in the metrics database.")

    @OptionGroup var store: StoreOptions
    @Option(help: "How many, newest first.") var limit = 20

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
        var damaged: [String] = []
        for id in ids {
            do {
                let s = try await metrics.summary(run: id)
                rows.append([
                    String(id), s.run.scenario, s.run.target, s.run.startedAt, s.run.elapsedSeconds.map { String(format: "%.1f", $0) } ?? "-",
                    s.run.status, String(s.totals.started), String(s.totals.failed), String(format: "%.2f", s.latencyMs.p99),
                ])
            } catch {
                // One damaged run does not hide the others.
                rows.append([String(id), "-", "-", "-", "-", "damaged", "-", "-", "-"])
                damaged.append("run \(id) is damaged: \(MetricsStore.describe(error))")
            }
        }
        print(formatTable(rows))
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
