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

    func run() async throws {
        let scenario = try loadScenario(self.scenario)
        guard let count = shards ?? scenario.stream.shards else {
            throw ValidationError("--shards: the scenario's stream is on-demand, so give a shard count")
        }
        guard ServiceLimits.shardCount.contains(count) else {
            throw ValidationError("--shards must be from 1 to \(ServiceLimits.shardCount.upperBound), got \(count)")
        }
        guard let peak = rate ?? scenario.load.peakRate, peak > 0 else {
            throw ValidationError("--rate: the scenario is unpaced (fixed-events without a rate), so give the rate to predict at")
        }
        if let sample, sample < 1 { throw ValidationError("--sample must be positive") }
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
        let metrics = try store.open()
        let ids = try await metrics.runIds().prefix(limit)
        var rows = [["run", "scenario", "target", "started", "seconds", "status", "events", "failed", "p99 ms"]]
        for id in ids {
            let s = try await metrics.summary(run: id)
            rows.append([
                String(id), s.run.scenario, s.run.target, s.run.startedAt, s.run.elapsedSeconds.map { String(format: "%.1f", $0) } ?? "-",
                s.run.status, String(s.totals.started), String(s.totals.failed), String(format: "%.2f", s.latencyMs.p99),
            ])
        }
        print(formatTable(rows))
    }
}

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Rebuild a run's reports (summary.md, summary.json, index.html, junit.xml) from SQLite.")

    @Argument(help: "A run id, or latest.") var run = "latest"
    @OptionGroup var store: StoreOptions

    func run() async throws {
        guard FileManager.default.fileExists(atPath: store.db) else {
            throw ValidationError("--db \(store.db): no such file; `kinesis-load run SCENARIO` creates it")
        }
        let metrics = try store.open()
        let id: Int64
        do {
            id = try await metrics.resolveRun(run)
        } catch let error as ReportError {
            throw ValidationError(error.description)
        }
        let summary = try await metrics.summary(run: id)
        let folder = try ReportWriter.write(summary, into: store.reports)
        print(ReportWriter.markdown(summary))
        print("reports: \(folder)")
    }
}
