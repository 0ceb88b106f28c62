import ArgumentParser
import Foundation
import Kinesis
import KinesisConsumer
import KinesisLoad

/// `kinesis-load leases APP`: a lease table (ours or the Java KCL's) as a table.
struct LeasesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leases",
        abstract: "Print an application's lease table (the KCL's format): shard, owner, checkpoint, counter, owner switches, and how far behind.",
        discussion: """
            The table is the DynamoDB table named APP (as the KCL names it after the application). DynamoDB is --endpoint when \
            given (a local emulator such as moto serves Kinesis and DynamoDB on one port), otherwise AWS_ENDPOINT_URL_DYNAMODB, \
            then the region's. With --stream, each checkpoint's distance from the shard's tip is read from Kinesis (one \
            GetRecords of one record per shard): MillisBehindLatest after the checkpoint. Items the KCL 3.x keeps beside \
            leases (worker metrics, the coordinator's state) are left out.
            """)

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The application: its lease table's name.") var application: String
    @Flag(help: "The real AWS services (credentials from the usual chain).") var aws = false
    @Option(help: "The stream the leases are of: adds how far behind each checkpoint is.") var stream: String?
    @Flag(help: "One JSON array of the leases.") var json = false

    func validate() throws {
        if aws, connection.endpoint != nil { throw ValidationError("--aws and --endpoint exclude each other: pick one target") }
        guard (3...255).contains(application.utf8.count), application.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) }) else {
            throw ValidationError("'\(application)' cannot be a DynamoDB table name: 3 to 255 of a-z, A-Z, 0-9, '_', '-' and '.'")
        }
        if let stream { try validateStreamName(stream, source: "--stream") }
    }

    struct Row: Encodable {
        var shard: String
        var owner: String?
        var checkpoint: String
        var counter: Int64
        var ownerSwitchesSinceCheckpoint: Int64
        var parents: [String]
        var millisBehindLatest: Int?
    }

    func run() async throws {
        let leases: [Lease] = try await connection.withDynamoDB { dynamo in
            let table = DynamoDBLeaseTable(name: application, client: dynamo)
            guard try await dynamo.describeTable(application) != nil else {
                throw CommandFailure("lease table \(application) does not exist at \(dynamo.core.endpoint.absoluteString)")
            }
            return try await table.leases()
        }
        var behind: [String: Int] = [:]
        if let stream {
            behind = try await connection.withClient { client in
                var found: [String: Int] = [:]
                for lease in leases where !lease.isFinished {
                    found[lease.leaseKey] = try await Self.millisBehind(lease, stream: stream, client: client)
                }
                return found
            }
        }
        let rows = leases.map {
            Row(
                shard: $0.leaseKey, owner: $0.leaseOwner, checkpoint: "\($0.checkpoint)", counter: $0.leaseCounter,
                ownerSwitchesSinceCheckpoint: $0.ownerSwitchesSinceCheckpoint, parents: $0.parentShardIds, millisBehindLatest: behind[$0.leaseKey])
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(rows), as: UTF8.self))
            return
        }
        var table = [["shard", "owner", "checkpoint", "counter", "switches", "parents"] + (stream == nil ? [] : ["behind"])]
        for row in rows {
            table.append(
                [row.shard, row.owner ?? "(free)", row.checkpoint, "\(row.counter)", "\(row.ownerSwitchesSinceCheckpoint)", row.parents.joined(separator: ",")]
                    + (stream == nil ? [] : [row.millisBehindLatest.map { "\($0) ms" } ?? "-"]))
        }
        print(formatTable(table))
        let owners = Set(leases.compactMap(\.leaseOwner))
        print("\(leases.count) lease\(leases.count == 1 ? "" : "s"), \(owners.count) worker\(owners.count == 1 ? "" : "s"), \(leases.filter { $0.leaseOwner == nil && !$0.isFinished }.count) free, \(leases.filter(\.isFinished).count) finished")
    }

    /// MillisBehindLatest of the first record after the checkpoint (nil for a shard gone from the stream).
    static func millisBehind(_ lease: Lease, stream: String, client: HTTPKinesisClient) async throws -> Int? {
        var input = GetShardIteratorInput(streamName: stream, shardId: lease.leaseKey, shardIteratorType: .trimHorizon)
        switch lease.checkpoint.kind {
        case .sequence:
            input.shardIteratorType = .afterSequenceNumber
            input.startingSequenceNumber = lease.checkpoint.sequenceNumber
        case .latest: return 0
        default: break
        }
        do {
            guard let iterator = try await client.getShardIterator(input).shardIterator else { return nil }
            return try await client.getRecords(.init(shardIterator: iterator, limit: 1)).millisBehindLatest
        } catch let error as KinesisError where error.code == .resourceNotFound {
            return nil
        }
    }
}
