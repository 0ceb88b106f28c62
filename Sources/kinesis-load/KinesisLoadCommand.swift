import ArgumentParser

@main
struct KinesisLoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kinesis-load",
        abstract: "Publish to, inspect and load-test Kinesis Data Streams.",
        subcommands: [
            RunCommand.self, ValidateCommand.self, PartitionsCommand.self, RunsCommand.self, ReportCommand.self, StreamsCommand.self,
            ServeCommand.self, PutCommand.self, TailCommand.self, BenchCommand.self,
        ]
    )
}
