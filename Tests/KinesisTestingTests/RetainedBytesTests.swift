import Foundation
import Kinesis
import KinesisTesting
import Testing

@Suite("Engine: retained bytes per shard")
struct RetainedBytesTests {
    @Test func theOldestRecordsAreTrimmedBeyondTheByteLimit() async throws {
        let engine = InMemoryKinesis(configuration: EngineConfiguration(maxRetainedBytesPerShard: 1000))
        try await engine.createStream(.init(streamName: "s", shardCount: 1))
        for index in 0..<100 {
            // 96 bytes of data and a 4-byte key: 100 bytes each, so 10 fit.
            _ = try await engine.putRecord(
                .init(streamName: "s", data: Data(String(format: "%096d", index).utf8), partitionKey: "k\(String(format: "%03d", index))"))
        }
        let records = try await engine.readAll(stream: "s", shardId: ShardMap.shardId(index: 0))
        #expect(records.map(\.partitionKey) == (90..<100).map { "k\(String(format: "%03d", $0))" })
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
