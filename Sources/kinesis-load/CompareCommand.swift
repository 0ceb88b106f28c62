import ArgumentParser
import Foundation
import KinesisLoad

struct CompareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two stored runs (merged runs too): B against A, figure by figure.",
        discussion: """
            A and B are run ids, `latest` or `previous`. Shows achieved rate, latency percentiles, \
            error, drop and throttle rates, shard skew and lateness, and end-to-end latency, lag and \
            verification when both runs read back; marks each difference beyond the tolerance.

            Exit codes: 0 B is not worse than A beyond the tolerance on any figure, 99 it is, 1 a run \
            cannot be found or read.
            """)

    @Argument(help: "The baseline run: an id, latest or previous.") var a: String
    @Argument(help: "The run judged against it: an id, latest or previous.") var b: String
    @Option(help: "How far a figure may move the wrong way before it counts as worse, in percent (5% or 5).") var tolerance = "5%"
    @Option(help: "SQLite file the runs are stored in.") var db = "Reports/metrics.sqlite"
    @Flag(help: "A Markdown table (for a pull-request comment).") var markdown = false
    @Flag(help: "JSON (for scripts).") var json = false

    func validate() throws {
        guard Self.fraction(tolerance) != nil else {
            throw ValidationError("--tolerance '\(tolerance)': a percentage such as 5% or 2.5")
        }
        if markdown && json { throw ValidationError("--markdown and --json exclude each other: pick one") }
    }

    static func fraction(_ text: String) -> Double? {
        let number = text.hasSuffix("%") ? String(text.dropLast()) : text
        guard let value = Double(number.trimmingCharacters(in: .whitespaces)), value >= 0, value.isFinite else { return nil }
        return value / 100
    }

    func run() async throws {
        guard FileManager.default.fileExists(atPath: db) else { throw CommandFailure("--db \(db): no such file (no runs stored there)") }
        let metrics = try StoreOptions.open(db)
        let ids = try await metrics.runIds()
        func resolve(_ text: String, _ name: String) throws -> Int64 {
            switch text {
            case "latest":
                guard let id = ids.first else { throw CommandFailure("\(name) latest: \(db) holds no run") }
                return id
            case "previous":
                guard ids.count > 1 else { throw CommandFailure("\(name) previous: \(db) holds \(ids.count) run\(ids.count == 1 ? "" : "s"), so no previous one") }
                return ids[1]
            default:
                guard let id = Int64(text) else { throw CommandFailure("\(name) '\(text)': a run id, latest or previous") }
                guard ids.contains(id) else { throw CommandFailure("\(name) \(id): no such run in \(db) (`kinesis-load runs` lists them)") }
                return id
            }
        }
        let first = try resolve(a, "A"), second = try resolve(b, "B")
        let comparison = RunComparison(
            try await metrics.summary(run: first), try await metrics.summary(run: second), tolerance: Self.fraction(tolerance) ?? 0.05)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(comparison), as: UTF8.self))
        } else {
            print(markdown ? comparison.markdown : comparison.text)
        }
        if comparison.worse { throw ExitCode(99) }
    }
}
