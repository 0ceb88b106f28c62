import ArgumentParser
import Foundation
import Kinesis
import KinesisLoad

struct StreamsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "streams",
        abstract: "List, create, describe and delete streams.",
        subcommands: [List.self, Create.self, Describe.self, Delete.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the streams of the account and region.")
        @OptionGroup var connection: ConnectionOptions
        @Flag(help: "Print JSON instead of a table.") var json = false

        func run() async throws {
            let names = try await connection.withClient { client in
                try await StreamManager(api: client).listAllStreams()
            }
            if json {
                try printJSON(["streams": names])
            } else if names.isEmpty {
                print("No streams.")
            } else {
                names.forEach { print($0) }
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a stream and wait until it is ACTIVE.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Stream name: 1 to 128 characters from [a-zA-Z0-9_.-].") var name: String
        @Option(help: "Number of shards of a provisioned stream (1 to 100000; default KINESIS_SHARD_COUNT or 1).")
        var shards: Int?
        @Flag(help: "Create an on-demand stream instead of a provisioned one.") var onDemand = false
        @Option(help: "Hours to keep records (24 to 8760; default KINESIS_RETENTION_PERIOD or 24).") var retentionHours: Int?
        @Flag(help: "Return as soon as the stream is CREATING.") var noWait = false
        @Flag(help: "Print JSON instead of a table.") var json = false

        func validate() throws {
            try validateStreamName(name)
            if let shards, !KinesisConfiguration.shardCountRange.contains(shards) {
                throw ValidationError("--shards \(shards) is out of range: expected an integer from 1 to 100000")
            }
            if onDemand && shards != nil {
                throw ValidationError("--shards and --on-demand exclude each other: an on-demand stream has no fixed shard count")
            }
            if let retentionHours, !KinesisConfiguration.retentionRange.contains(retentionHours) {
                throw ValidationError("--retention-hours \(retentionHours) is out of range: expected 24 to 8760")
            }
        }

        func run() async throws {
            let configuration = try connection.configuration()
            let capacity: StreamManager.Capacity =
                onDemand ? .onDemand : .provisioned(shards: shards ?? configuration.shardCount)
            let retention = retentionHours ?? configuration.retentionPeriodHours
            try await connection.withClient { client in
                let manager = StreamManager(api: client)
                try await manager.create(name, capacity: capacity)
                guard !noWait else {
                    print("Creating stream \(name).")
                    return
                }
                try await manager.waitUntilActive(name)
                if retention > ServiceLimits.defaultRetentionHours {
                    try await client.increaseStreamRetentionPeriod(
                        .init(streamName: name, retentionPeriodHours: retention))
                    try await manager.waitUntilActive(name)
                }
                try await describeStream(name, manager: manager, json: json)
            }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a stream and its shards with their hash key ranges.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Stream name.") var name: String
        @Flag(help: "Print JSON instead of a table.") var json = false

        func validate() throws { try validateStreamName(name) }

        func run() async throws {
            try await connection.withClient { client in
                try await describeStream(name, manager: StreamManager(api: client), json: json)
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a stream and wait until it is gone.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Stream name.") var name: String
        @Flag(help: "Delete the stream's registered consumers too.") var enforceConsumerDeletion = false
        @Flag(help: "Return as soon as the stream is DELETING.") var noWait = false

        func validate() throws { try validateStreamName(name) }

        func run() async throws {
            try await connection.withClient { client in
                try await StreamManager(api: client).delete(
                    name, enforceConsumerDeletion: enforceConsumerDeletion, wait: !noWait)
            }
            print(noWait ? "Deleting stream \(name)." : "Deleted stream \(name).")
        }
    }
}

/// Checks a stream name given on the command line, as a usage error naming `source`.
func validateStreamName(_ name: String, source: String = "stream name") throws {
    do {
        try KinesisConfiguration.validateStreamName(name, source: source)
    } catch let error as ConfigurationError {
        throw ValidationError(error.description)
    }
}

/// A stream's summary and shards, as the `--json` output of `streams describe`.
struct StreamReport: Encodable {
    var name: String
    var arn: String?
    var status: String
    var mode: String
    var retentionPeriodHours: Int
    var openShardCount: Int
    var shards: [ShardReport]

    struct ShardReport: Encodable {
        var shardId: String
        var open: Bool
        var startingHashKey: String
        var endingHashKey: String
        var parentShardId: String?
        var adjacentParentShardId: String?
        var startingSequenceNumber: String
        var endingSequenceNumber: String?
    }
}

private func describeStream(_ name: String, manager: StreamManager, json: Bool) async throws {
    let summary = try await manager.describe(name)
    let shards = try await manager.listAllShards(stream: name)
    let report = StreamReport(
        name: summary.streamName, arn: summary.streamARN, status: summary.streamStatus.rawValue,
        mode: summary.streamModeDetails?.streamMode.rawValue ?? StreamMode.provisioned.rawValue,
        retentionPeriodHours: summary.retentionPeriodHours, openShardCount: summary.openShardCount,
        shards: shards.map { shard in
            .init(
                shardId: shard.shardId, open: shard.isOpen, startingHashKey: shard.hashKeyRange.startingHashKey,
                endingHashKey: shard.hashKeyRange.endingHashKey, parentShardId: shard.parentShardId,
                adjacentParentShardId: shard.adjacentParentShardId,
                startingSequenceNumber: shard.sequenceNumberRange.startingSequenceNumber,
                endingSequenceNumber: shard.sequenceNumberRange.endingSequenceNumber)
        })
    if json {
        try printJSON(report)
        return
    }
    print("Stream:     \(report.name)")
    if let arn = report.arn { print("ARN:        \(arn)") }
    print("Status:     \(report.status)")
    print("Mode:       \(report.mode)")
    print("Retention:  \(report.retentionPeriodHours) hours")
    print("Open shards: \(report.openShardCount) of \(report.shards.count)")
    print("")
    let rows = [["SHARD", "STATE", "STARTING HASH KEY", "ENDING HASH KEY", "PARENTS"]]
        + report.shards.map { shard in
            [
                shard.shardId, shard.open ? "open" : "closed", shard.startingHashKey, shard.endingHashKey,
                [shard.parentShardId, shard.adjacentParentShardId].compactMap { $0 }.joined(separator: ",").ifEmpty("-"),
            ]
        }
    print(formatTable(rows))
}

extension String {
    func ifEmpty(_ replacement: String) -> String { isEmpty ? replacement : self }
}

func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
