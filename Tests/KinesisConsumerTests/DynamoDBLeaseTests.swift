import Foundation
import Kinesis
import KinesisConsumer
import Synchronization
import TestSupport
import Testing

/// Leases in DynamoDB, against moto_server's DynamoDB and Kinesis (one port). moto's
/// conditional writes may not be atomic under concurrent requests, so the fencing and
/// concurrency tests use the in-memory table (LeaseTests); these test the wire and the format.
@Suite("Leases in DynamoDB (moto_server)", .serialized)
struct DynamoDBLeaseTests {
    static let credentials = StaticCredentialProvider(AWSCredentials(accessKeyId: "testing", secretAccessKey: "testing"))

    /// A Kinesis client and a DynamoDB client for moto, a fresh stream of `shards` and a table name.
    func withMoto(shards: Int, _ body: (HTTPKinesisClient, DynamoDBClient, String, String) async throws -> Void) async throws {
        let endpoint = try await MotoServer.endpoint()
        let kinesis = HTTPKinesisClient(configuration: KinesisConfiguration(region: "us-east-1", endpoint: endpoint, credentials: AWSCredentials(accessKeyId: "testing", secretAccessKey: "testing")))
        let dynamo = try DynamoDBClient(region: "us-east-1", endpoint: endpoint, credentials: Self.credentials, environment: [:])
        let suffix = UUID().uuidString.prefix(8).lowercased()
        let stream = "leases-\(suffix)", table = "app-\(suffix)"
        _ = try await StreamManager(api: kinesis, pollInterval: .milliseconds(50), waitTimeout: .seconds(30)).ensureExists(stream, capacity: .provisioned(shards: shards))
        do {
            try await body(kinesis, dynamo, stream, table)
        } catch {
            try? await kinesis.shutdown()
            try? await dynamo.shutdown()
            throw error
        }
        try await kinesis.shutdown()
        try await dynamo.shutdown()
    }

    @Test("a missing table is an error naming it unless creation is asked for; created, it is PAY_PER_REQUEST and keyed by leaseKey")
    func tableCreation() async throws {
        try await withMoto(shards: 1) { _, dynamo, _, table in
            let leases = DynamoDBLeaseTable(name: table, client: dynamo)
            do {
                try await leases.prepare(create: false)
                Issue.record("a missing table was accepted")
            } catch {
                #expect("\(error)".contains("lease table \(table) does not exist") && "\(error)".contains("--create"))
            }
            #expect(try await dynamo.describeTable(table) == nil, "nothing was created")
            try await leases.prepare(create: true)
            let described = try #require(try await dynamo.describeTable(table))
            #expect(described.tableStatus == "ACTIVE" && described.billingModeSummary?.billingMode == "PAY_PER_REQUEST")
            try await leases.prepare(create: false)
            // A failed condition is an answer, not an error.
            #expect(try await leases.create(Lease(leaseKey: "s-1", checkpoint: .trimHorizon)))
            #expect(try await !leases.create(Lease(leaseKey: "s-1", checkpoint: .latest)))
            let seen = try #require(try await leases.lease("s-1"))
            #expect(try await leases.take(seen, owner: "a") != nil)
            #expect(try await leases.take(seen, owner: "b") == nil, "taken since it was read")
        }
    }

    @Test("three workers over eight shards in DynamoDB: each shard held by one worker, nothing unprocessed; a killed worker's shards are taken; a split's children wait for their parent")
    func threeWorkers() async throws {
        try await withMoto(shards: 8) { kinesis, dynamo, stream, table in
            let fleet = LeaseFleet(
                api: kinesis, table: DynamoDBLeaseTable(name: table, client: dynamo), stream: stream, failover: .milliseconds(1500), takeInterval: .milliseconds(500),
                idleTime: .milliseconds(500))
            try await putRecords(kinesis, stream: stream, prefix: "a", count: 400)
            fleet.start("w1", create: true)
            fleet.start("w2", create: true)
            fleet.start("w3", release: false, create: true)
            let balanced = try await fleet.wait(.seconds(60)) { try await fleet.balanced(among: ["w1", "w2", "w3"]) }
            let owners = try await fleet.owners()
            #expect(balanced, "\(owners)")
            let first = Set((0..<400).map { "a-\($0)" })
            #expect(try await fleet.wait(.seconds(60)) { fleet.texts.isSuperset(of: first) })

            // kill -9, as the table sees it: w3's counters stop moving and nothing is released.
            let killed = ContinuousClock.now
            try await fleet.stop("w3")
            #expect(try await fleet.wait(.seconds(60)) { try await fleet.owners().values.allSatisfy { $0 == "w1" || $0 == "w2" } })
            let gap = killed.duration(to: .now)
            #expect(gap < fleet.failover + fleet.takeInterval + .seconds(4), "moto answers slowly on a busy machine: \(gap)")

            // A split while they read: the children's leases name their parent and wait for it.
            let parent = ShardMap.shardId(index: 0)
            _ = try await kinesis.splitShard(.init(streamName: stream, shardToSplit: parent, newStartingHashKey: String(UInt128.max / 16)))
            try await StreamManager(api: kinesis, pollInterval: .milliseconds(50), waitTimeout: .seconds(30)).waitUntilActive(stream)
            try await putRecords(kinesis, stream: stream, prefix: "b", count: 400)
            let second = Set((0..<400).map { "b-\($0)" })
            #expect(try await fleet.wait(.seconds(90)) { fleet.texts.isSuperset(of: second) }, "missing \(second.subtracting(fleet.texts).count)")
            let leases = try await fleet.table.leases()
            let children = leases.filter { $0.parentShardIds == [parent] }
            #expect(children.count == 2, "\(leases.map { "\($0.leaseKey) \($0.parentShardIds)" })")
            // moto keeps routing records to a split parent (its hash range still covers them), so
            // the parent never ends here and its children must keep waiting: unread, at
            // TRIM_HORIZON. (The engine closes parents as Kinesis does: LeaseTests follows a split
            // to its children.)
            let parentLease = try #require(leases.first { $0.leaseKey == parent })
            #expect(!parentLease.isFinished)
            #expect(children.allSatisfy { $0.checkpoint == .trimHorizon }, "children wait for their parent")
            #expect(!fleet.processed.all.contains { entry in children.contains { $0.leaseKey == entry.shard } })
            try await fleet.stopAll()
        }
    }

    @Test("a table the Java KCL wrote (a checkpoint mid-shard, a dead owner): a Swift worker takes it after the failover time and resumes after the checkpoint")
    func takesOverAKCLTable() async throws {
        try await withMoto(shards: 1) { kinesis, dynamo, stream, table in
            let shard = ShardMap.shardId(index: 0)
            var sequences: [String] = []
            for index in 0..<10 {
                sequences.append(try await kinesis.putRecord(.init(streamName: stream, data: Data("r-\(index)".utf8), partitionKey: "k")).sequenceNumber)
            }
            _ = try await dynamo.createTable(table, hashKey: "leaseKey")
            try await dynamo.waitUntilActive(table)
            // The item as the KCL 2.x DynamoDBLeaseSerializer writes it, attribute by attribute.
            let kclItem: DynamoDBItem = [
                "leaseKey": .s(shard), "leaseOwner": .s("java-kcl-worker-1"), "leaseCounter": .n("42"), "checkpoint": .s(sequences[4]),
                "checkpointSubSequenceNumber": .n("0"), "ownerSwitchesSinceCheckpoint": .n("3"),
                "startingHashKey": .s("0"), "endingHashKey": .s(String(UInt128.max)),
            ]
            #expect(try await dynamo.putItem(table, item: kclItem) == .written(nil))
            // What KCL 3.5 keeps beside leases is left alone.
            let other: DynamoDBItem = ["leaseKey": .s("worker-java-1"), "entityType": .s("WORKER_METRIC_STATS"), "lut": .n("1700000000")]
            #expect(try await dynamo.putItem(table, item: other) == .written(nil))

            let fleet = LeaseFleet(
                api: kinesis, table: DynamoDBLeaseTable(name: table, client: dynamo), stream: stream, failover: .seconds(2), takeInterval: .milliseconds(400), idleTime: .milliseconds(500))
            let started = ContinuousClock.now
            fleet.start("swift-1")
            #expect(try await fleet.wait(.seconds(30)) { fleet.texts.count >= 5 })
            let tookAfter = started.duration(to: .now)
            #expect(tookAfter >= fleet.failover, "the dead owner's lease is taken only once it has not moved for the failover time: \(tookAfter)")
            #expect(fleet.texts == Set((5..<10).map { "r-\($0)" }), "resumed after the checkpoint, not from the start: \(fleet.texts.sorted())")
            try await fleet.stopAll()

            let item = try #require(try await dynamo.getItem(table, key: ["leaseKey": .s(shard)]))
            #expect(item["leaseOwner"] == nil, "released at shutdown")
            #expect(item["checkpoint"] == .s(sequences[9]) && item["checkpointSubSequenceNumber"] == .n("0"))
            #expect((item["leaseCounter"]?.int64 ?? 0) > 42)
            #expect(item["ownerSwitchesSinceCheckpoint"] == .n("0"), "a checkpoint resets it, as the KCL's does")
            #expect(item["startingHashKey"] == .s("0") && item["endingHashKey"] == .s(String(UInt128.max)), "attributes it did not change are kept")
            #expect(try await dynamo.getItem(table, key: ["leaseKey": .s("worker-java-1")]) == other)
        }
    }
}
