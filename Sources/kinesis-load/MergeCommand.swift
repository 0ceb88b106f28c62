import ArgumentParser
import Foundation
import KinesisLoad

struct MergeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the segments of one run (run --segment i/n, one SQLite file per worker) into one run, judged and reported.",
        discussion: """
            Each file's latest run is its segment. The merged run's totals, per-second series (aligned \
            on wall-clock seconds), per-shard and per-type figures and every latency histogram are the \
            exact sums of the parts: merged percentiles are those of all the samples, at the \
            histogram's precision. Hot keys are summed over each part's hottest (a lower bound for a \
            key missing from a part's list). Thresholds are judged on the merged run, its reports \
            written.

            Refuses, naming the file: parts of different scenarios (by content hash), seeds or segment \
            counts, a missing or repeated segment, a part whose run did not complete.

            Exit codes: 0 passed, 99 a threshold failed, 2 the parts cannot be merged, 1 any other error.
            """)

    @Argument(help: "The workers' SQLite files.") var parts: [String]
    @OptionGroup var store: StoreOptions

    func run() async throws {
        let found: [RunMerge.Part]
        do {
            found = try await RunMerge.parts(parts)
        } catch let refusal as RunMerge.Refusal {
            FileHandle.standardError.write(Data("merge: \(refusal.description)\n".utf8))
            throw ExitCode(2)
        }
        let metrics = try store.open()
        do {
            try ReportWriter.checkWritable(store.reports)
        } catch {
            throw CommandFailure("\(error)")
        }
        let runId: Int64
        do {
            runId = try await RunMerge.merge(found, into: metrics)
        } catch let refusal as RunMerge.Refusal {
            FileHandle.standardError.write(Data("merge: \(refusal.description)\n".utf8))
            throw ExitCode(2)
        }
        try await RunCommand.finish(run: runId, interrupted: false, metrics: metrics, options: store, signal: nil)
    }
}
