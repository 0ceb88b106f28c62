import Foundation
import KinesisConsumer
import Synchronization
import TestSupport
import Testing

@testable import Kinesis

/// The client against moto_server, a Kinesis implementation no one here wrote.
/// `scripts/test.sh` installs moto, starts it on a free port of 127.0.0.1 and sets MOTO_ENDPOINT;
/// without it, ``MotoServer`` starts one for this process.
@Suite("HTTPKinesisClient against moto_server", .serialized)
struct MotoIntegrationTests {
    /// Runs `body` with a client for moto and a fresh stream name; shuts the client down.
    func withClient(_ body: (HTTPKinesisClient, StreamManager, String) async throws -> Void) async throws {
        let configuration = KinesisConfiguration(
            region: "us-east-1", endpoint: try await MotoServer.endpoint(),
            credentials: AWSCredentials(accessKeyId: "testing", secretAccessKey: "testing"))
        let client = HTTPKinesisClient(configuration: configuration)
        let manager = StreamManager(api: client, pollInterval: .milliseconds(50), waitTimeout: .seconds(30))
        let name = "it-\(UUID().uuidString.prefix(8).lowercased())"
        do {
            try await body(client, manager, name)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    @Test("create, wait, put, read back in order, delete")
    func roundTrip() async throws {
        try await withClient { client, manager, name in
            #expect(try await manager.ensureExists(name, capacity: .provisioned(shards: 2)))
            let summary = try await manager.describe(name)
            #expect(summary.streamStatus == .active)
            #expect(summary.openShardCount == 2)
            #expect(try await manager.listAllStreams().contains(name))

            let map = try await manager.shardMap(stream: name)
            #expect(map.count == 2)
            let key = "user-123"
            let payloads = (0..<20).map { Data("event-\($0)-\u{1F600}".utf8) + Data([0, 255]) }
            var sequenceNumbers: [String] = []
            for payload in payloads {
                let out = try await client.putRecord(.init(streamName: name, data: payload, partitionKey: key))
                #expect(out.shardId == map.shardId(forPartitionKey: key))
                sequenceNumbers.append(out.sequenceNumber)
            }
            let batch = try await client.putRecords(
                .init(streamName: name, records: (0..<10).map { .init(data: Data("b\($0)".utf8), partitionKey: "k\($0)") }))
            #expect((batch.failedRecordCount ?? 0) == 0)
            #expect(batch.records.count == 10)
            for (index, entry) in batch.records.enumerated() {
                #expect(entry.shardId == map.shardId(forPartitionKey: "k\(index)"))
            }

            let shardId = try #require(map.shardId(forPartitionKey: key))
            let iterator = try #require(
                try await client.getShardIterator(.init(streamName: name, shardId: shardId, shardIteratorType: .trimHorizon))
                    .shardIterator)
            let records = try await client.getRecords(.init(shardIterator: iterator, limit: 10_000)).records
                .filter { $0.partitionKey == key }
            #expect(records.map(\.data) == payloads)
            #expect(records.map(\.sequenceNumber) == sequenceNumbers)

            let after = try #require(
                try await client.getShardIterator(
                    .init(
                        streamName: name, shardId: shardId, shardIteratorType: .afterSequenceNumber,
                        startingSequenceNumber: sequenceNumbers[9])
                ).shardIterator)
            let rest = try await client.getRecords(.init(shardIterator: after)).records.filter { $0.partitionKey == key }
            #expect(rest.map(\.data) == Array(payloads[10...]))

            try await manager.delete(name)
            await #expect { try await manager.describe(name) } throws: { error in
                (error as? KinesisError)?.code == .resourceNotFound
            }
        }
    }

    @Test("reshards with UpdateShardCount, SplitShard and MergeShards")
    func reshard() async throws {
        try await withClient { client, manager, name in
            try await manager.ensureExists(name, capacity: .provisioned(shards: 2))
            let summary = try await manager.reshard(name, to: 4)
            #expect(summary.openShardCount == 4)
            let afterUpdate = try await manager.listAllShards(stream: name)
            #expect(afterUpdate.filter(\.isOpen).count == 4)
            #expect(try ShardMap(shards: afterUpdate).count == 4)

            let open = afterUpdate.filter(\.isOpen).sorted { UInt128($0.hashKeyRange.startingHashKey)! < UInt128($1.hashKeyRange.startingHashKey)! }
            let toSplit = open[0]
            let start = UInt128(toSplit.hashKeyRange.startingHashKey)!
            let end = UInt128(toSplit.hashKeyRange.endingHashKey)!
            try await client.splitShard(
                .init(streamName: name, shardToSplit: toSplit.shardId, newStartingHashKey: String(start + (end - start) / 2)))
            try await manager.waitUntilActive(name)
            let afterSplit = try await manager.listAllShards(stream: name)
            let children = afterSplit.filter { $0.parentShardId == toSplit.shardId }
            #expect(children.count == 2)
            #expect(afterSplit.first { $0.shardId == toSplit.shardId }?.isOpen == false)

            let sortedChildren = children.sorted { UInt128($0.hashKeyRange.startingHashKey)! < UInt128($1.hashKeyRange.startingHashKey)! }
            try await client.mergeShards(
                .init(streamName: name, shardToMerge: sortedChildren[0].shardId, adjacentShardToMerge: sortedChildren[1].shardId))
            try await manager.waitUntilActive(name)
            let afterMerge = try await manager.listAllShards(stream: name)
            let merged = try #require(afterMerge.first { $0.adjacentParentShardId == sortedChildren[1].shardId })
            #expect(merged.parentShardId == sortedChildren[0].shardId)
            #expect(merged.isOpen)
            #expect(try ShardMap(shards: afterMerge).count == 4)
            try await manager.delete(name)
        }
    }

    @Test("changes retention and pages ListShards")
    func retentionAndPaging() async throws {
        try await withClient { client, manager, name in
            try await manager.ensureExists(name, capacity: .provisioned(shards: 5), retentionPeriodHours: 48)
            #expect(try await manager.describe(name).retentionPeriodHours == 48)
            try await client.decreaseStreamRetentionPeriod(.init(streamName: name, retentionPeriodHours: 24))
            #expect(try await manager.describe(name).retentionPeriodHours == 24)

            let firstPage = try await client.listShards(.init(streamName: name, maxResults: 2))
            #expect(firstPage.shards?.count == 2)
            #expect(firstPage.nextToken != nil)
            let all = try await manager.listAllShards(stream: name)
            #expect(all.map(\.shardId) == (0..<5).map { "shardId-00000000000\($0)" })
            let description = try await client.describeStream(.init(streamName: name)).streamDescription
            #expect(description.shards.count == 5)
            try await manager.delete(name)
        }
    }

    @Test("creates an on-demand stream")
    func onDemand() async throws {
        try await withClient { _, manager, name in
            try await manager.ensureExists(name, capacity: .onDemand)
            let summary = try await manager.describe(name)
            #expect(summary.streamModeDetails?.streamMode == .onDemand)
            #expect(summary.openShardCount >= 1)
            try await manager.delete(name)
        }
    }

    @Test("maps moto's real error answers: missing stream, existing stream")
    func errorMapping() async throws {
        try await withClient { client, manager, name in
            await #expect {
                _ = try await client.putRecord(.init(streamName: name, data: Data("x".utf8), partitionKey: "k"))
            } throws: { error in
                guard let error = error as? KinesisError else { return false }
                return error.code == .resourceNotFound && error.httpStatus == 400 && !error.isRetryable
                    && error.requestId != nil && error.message.contains(name) && error.operation == "PutRecord"
            }
            try await manager.create(name, capacity: .provisioned(shards: 1))
            await #expect {
                try await manager.create(name, capacity: .provisioned(shards: 1))
            } throws: { error in
                guard let error = error as? KinesisError else { return false }
                return error.code == .resourceInUse && error.httpStatus == 400 && !error.isRetryable
            }
            try await manager.waitUntilActive(name)
            try await manager.delete(name)
        }
    }

    /// Keeps every record's data, in processing order.
    final class Keep: RecordProcessor {
        let seen = Mutex<[(shard: String, text: String)]>([])
        func processRecord(_ record: ConsumerRecord) async throws {
            seen.withLock { $0.append((record.shardId, String(decoding: record.data, as: UTF8.self))) }
        }
        func recordFailed(_ failure: RecordFailure) async {}
    }

    @Test("StreamConsumer reads a resharded moto stream whole: the closed parent to its end, then its children")
    func consumerAcrossAReshard() async throws {
        try await withClient { client, manager, name in
            _ = try await manager.ensureExists(name, capacity: .provisioned(shards: 2))
            func put(_ range: Range<Int>) async throws {
                let out = try await client.putRecords(
                    .init(streamName: name, records: range.map { .init(data: Data("r\($0)".utf8), partitionKey: "k\($0 % 20)") }))
                #expect((out.failedRecordCount ?? 0) == 0)
            }
            try await put(0..<200)
            let shards = try await manager.listAllShards(stream: name)
            let parent = shards[0]
            let low = UInt128(parent.hashKeyRange.startingHashKey)!, high = UInt128(parent.hashKeyRange.endingHashKey)!
            try await client.splitShard(.init(streamName: name, shardToSplit: parent.shardId, newStartingHashKey: String(low + (high - low) / 2)))
            _ = try await manager.waitUntilActive(name)
            try await put(200..<400)
            var configuration = StreamConsumer.Configuration(streamName: name, applicationName: "moto")
            configuration.reader.minimumCallInterval = .milliseconds(10)
            configuration.reader.idleTime = .milliseconds(20)
            let keep = Keep()
            try await StreamConsumer(api: client, configuration: configuration, processor: keep).run(untilCaughtUp: true)
            let seen = keep.seen.withLock { $0 }
            #expect(seen.map(\.text).sorted() == (0..<400).map { "r\($0)" }.sorted())
            #expect(seen.contains { $0.shard == parent.shardId })
        }
    }
}

@Suite("HTTPKinesisClient transport")
struct TransportTests {
    @Test("a refused connection is a retryable ConnectionFailure, retried up to maxAttempts")
    func refusedConnection() async throws {
        let configuration = KinesisConfiguration(
            endpoint: URL(string: "http://127.0.0.1:1")!,
            credentials: AWSCredentials(accessKeyId: "a", secretAccessKey: "b"),
            retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1), maxDelay: .milliseconds(1)))
        let client = HTTPKinesisClient(configuration: configuration)
        await #expect {
            _ = try await client.listStreams(.init())
        } throws: { error in
            guard let error = error as? KinesisError else { return false }
            return error.code == .connectionFailure && error.isRetryable && error.operation == "ListStreams"
        }
        try await client.shutdown()
    }

    @Test("missing credentials fail before anything is sent, naming what was tried")
    func missingCredentials() async throws {
        let client = HTTPKinesisClient(
            configuration: KinesisConfiguration(endpoint: URL(string: "http://127.0.0.1:1")!),
            credentials: DefaultCredentialChain(environment: ["HOME": "/nonexistent-kinesis-toolkit-home", "AWS_EC2_METADATA_DISABLED": "true"]))
        await #expect {
            _ = try await client.listStreams(.init())
        } throws: { error in
            "\(error)".contains("no AWS credentials found")
        }
        try await client.shutdown()
    }

    @Test("Host carries the port only when it is not the scheme's default")
    func hostHeader() {
        #expect(HTTPKinesisClient.hostHeader(for: URL(string: "https://kinesis.us-east-1.amazonaws.com")!) == "kinesis.us-east-1.amazonaws.com")
        #expect(HTTPKinesisClient.hostHeader(for: URL(string: "https://example.com:443/")!) == "example.com")
        #expect(HTTPKinesisClient.hostHeader(for: URL(string: "http://127.0.0.1:4567")!) == "127.0.0.1:4567")
    }
}
