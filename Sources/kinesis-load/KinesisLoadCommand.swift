import ArgumentParser

@main
struct KinesisLoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kinesis-load",
        abstract: "Publish to, inspect and load-test Kinesis Data Streams.",
        subcommands: [StreamsCommand.self, ServeCommand.self, PutCommand.self, BenchCommand.self]
    )
}
