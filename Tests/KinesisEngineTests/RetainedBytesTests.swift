import Foundation
import Kinesis
import KinesisTesting
import Synchronization
import Testing

@Suite("Engine: retained bytes per shard")
struct RetainedBytesTests {
    @Test func theOldestRecordsAreTrimmedBeyondTheByteLimit() async throws {
        // 96 bytes of data, a 4-byte key and a 56-digit sequence number: room for exactly 10.
        let each = EngineConfiguration.retainedBytes(data: 96, partitionKey: 4, sequenceNumber: 56)
        let engine = InMemoryKinesis(configuration: EngineConfiguration(maxRetainedBytesPerShard: 10 * each + each / 2))
        try await engine.createStream(.init(streamName: "s", shardCount: 1))
        for index in 0..<1000 {
            _ = try await engine.putRecord(
                .init(streamName: "s", data: Data(String(format: "%096d", index).utf8), partitionKey: "k\(String(format: "%03d", index))"))
        }
        let records = try await engine.readAll(stream: "s", shardId: ShardMap.shardId(index: 0))
        #expect(records.map(\.partitionKey) == (990..<1000).map { "k\(String(format: "%03d", $0))" })
        #expect(records.allSatisfy { $0.sequenceNumber.count == 56 })
    }

    @Test func withoutALimitEverythingIsKept() async throws {
        let engine = InMemoryKinesis()
        try await engine.createStream(.init(streamName: "s", shardCount: 1))
        for index in 0..<100 {
            _ = try await engine.putRecord(.init(streamName: "s", data: Data(repeating: 1, count: 96), partitionKey: "k\(index)"))
        }
        #expect(try await engine.readAll(stream: "s", shardId: ShardMap.shardId(index: 0)).count == 100)
    }
}

@Suite("Engine: the byte budget is observable")
struct BudgetTrimCallbackTests {
    @Test("onBudgetTrim is told each shard's running count of trimmed records")
    func trimsAreReported() async throws {
        let each = EngineConfiguration.retainedBytes(data: 96, partitionKey: 4, sequenceNumber: 56)
        let reports = Mutex<[Int]>([])
        var configuration = EngineConfiguration(maxRetainedBytesPerShard: 10 * each)
        configuration.onBudgetTrim = { stream, shard, trimmed in
            #expect(stream == "s" && shard == ShardMap.shardId(index: 0))
            reports.withLock { $0.append(trimmed) }
        }
        let engine = InMemoryKinesis(configuration: configuration)
        try await engine.createStream(.init(streamName: "s", shardCount: 1))
        for index in 0..<25 {
            _ = try await engine.putRecord(.init(streamName: "s", data: Data(repeating: 1, count: 96), partitionKey: String(format: "k%03d", index)))
        }
        #expect(reports.withLock { $0 } == Array(1...15))
    }
}
