import ArgumentParser
import Foundation

/// Kept for the life of the process.
nonisolated(unsafe) var signalSources: [any DispatchSourceSignal] = []

@main
struct KinesisLoadCommand: AsyncParsableCommand {
    /// The toolkit's version, as `kinesis-load --version` prints it.
    static let version = "0.30.0"

    static let configuration = CommandConfiguration(
        commandName: "kinesis-load",
        abstract: "Publish to, inspect and load-test Kinesis Data Streams.",
        version: version,
        subcommands: [
            RunCommand.self, ValidateCommand.self, PartitionsCommand.self, RunsCommand.self, ReportCommand.self, StreamsCommand.self,
            ServeCommand.self, PutCommand.self, TailCommand.self, LeasesCommand.self, BenchCommand.self, MergeCommand.self, CompareCommand.self,
        ]
    )

    /// The subcommand a command line names, when its first word is not an option; nil when it
    /// names none or a known one.
    static func unknownSubcommand(_ arguments: [String]) -> String? {
        guard let first = arguments.first, !first.hasPrefix("-") else { return nil }
        let known = configuration.subcommands.map { $0._commandName } + ["help"]
        return known.contains(first) ? nil : first
    }

    /// As ArgumentParser's own entry, except that an unknown subcommand is an error even with
    /// `--help` (ArgumentParser prints the root help for `kinesis-load NOSUCH --help` and exits 0).
    static func main() async {
        let arguments = RunCommand.completingDashboard(Array(CommandLine.arguments.dropFirst()))
        if let unknown = unknownSubcommand(arguments) {
            let names = configuration.subcommands.map { $0._commandName }.joined(separator: ", ")
            FileHandle.standardError.write(Data("error: unknown subcommand '\(unknown)' (the subcommands are \(names); see kinesis-load --help)\n".utf8))
            Foundation.exit(64)
        }
        do {
            var command = try parseAsRoot(arguments)
            if !(command is RunCommand || command is TailCommand || command is ServeCommand) {
                // Commands without stop handling of their own still stop a credential_process with them.
                signalSources = onStopSignals([SIGINT, SIGTERM, SIGHUP]) { number in Foundation.exit(128 + number) }
            }
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
