import Foundation
import Kinesis
import KinesisConsumer
import KinesisTesting
import Synchronization
import Testing

/// StreamConsumer with enhanced fan-out: SubscribeToShard instead of GetRecords.
@Suite("Consumer: enhanced fan-out")
struct FanOutConsumerTests {
    @Test("a fan-out consumer registers itself, reads every record of a split and merged stream by subscription, in order per key, parents first")
    func readsEverythingBySubscription() async throws {
        let engine = try await engineStream(shards: 2)
        var sent: [String: [Int]] = [:]
        func write(_ range: Range<Int>) async throws {
            for index in range {
                let key = "k\(index % 20)"
                _ = try await engine.putRecord(.init(streamName: "events", data: Data("\(key)-\(index)".utf8), partitionKey: key))
                sent[key, default: []].append(index)
            }
        }
        try await write(0..<300)
        try await engine.splitShard(.init(streamName: "events", shardToSplit: ShardMap.shardId(index: 0), newStartingHashKey: String(UInt128.max / 4)))
        try await write(300..<600)
        try await engine.mergeShards(.init(streamName: "events", shardToMerge: ShardMap.shardId(index: 2), adjacentShardToMerge: ShardMap.shardId(index: 3)))
        try await write(600..<900)

        let processor = Collector()
        var configuration = fastConfiguration()
        configuration.fanOutConsumerName = "fan"
        let consumer = StreamConsumer(api: engine, configuration: configuration, processor: processor)
        try await consumer.run(untilCaughtUp: true)

        let seen = processor.seen.withLock { $0 }
        #expect(seen.count == 900)
        var got: [String: [Int]] = [:]
        for record in seen { got[record.partitionKey, default: []].append(Int(record.text.split(separator: "-")[1])!) }
        #expect(got == sent, "every record once, in order per key")
        let firstIndex = Dictionary(seen.enumerated().map { ($0.element.shardId, $0.offset) }, uniquingKeysWith: min)
        let lastIndex = Dictionary(seen.enumerated().map { ($0.element.shardId, $0.offset) }, uniquingKeysWith: max)
        for shard in try await StreamManager(api: engine).listAllShards(stream: "events") {
            for parent in [shard.parentShardId, shard.adjacentParentShardId].compactMap({ $0 }) {
                guard let childFirst = firstIndex[shard.shardId], let parentLast = lastIndex[parent] else { continue }
                #expect(parentLast < childFirst, "\(parent) before \(shard.shardId)")
            }
        }
        let calls = engine.calls.map(\.operation)
        #expect(calls.contains(.registerStreamConsumer))
        #expect(calls.filter { $0 == .subscribeToShard }.count >= 5, "one subscription per shard at least")
        #expect(!calls.contains(.getRecords), "no GetRecords polls")
    }

    @Test("a subscription that ends after five minutes is followed by a new one from the continuation: nothing lost, nothing repeated")
    func resubscribesAfterFiveMinutes() async throws {
        let clock = ManualEngineClock()
        let engine = try await engineStream(shards: 1, clock: clock)
        let arn = try await StreamConsumer.fanOutConsumer(api: engine, stream: "events", name: "fan").arn
        let reader = ShardReader(
            api: engine, stream: "events", shardId: ShardMap.shardId(index: 0), from: .trimHorizon, options: fastConfiguration().reader,
            fanOutConsumerARN: arn)
        var iterator = reader.userRecords.makeAsyncIterator()
        var read: [String] = []
        for index in 0..<10 { _ = try await engine.putRecord(.init(streamName: "events", data: Data("a\(index)".utf8), partitionKey: "k")) }
        while read.count < 10, let record = try await iterator.next() { read.append(String(decoding: record.data, as: UTF8.self)) }
        clock.advance(by: .seconds(301))  // the subscription's five minutes are over
        for index in 10..<20 { _ = try await engine.putRecord(.init(streamName: "events", data: Data("a\(index)".utf8), partitionKey: "k")) }
        while read.count < 20, let record = try await iterator.next() { read.append(String(decoding: record.data, as: UTF8.self)) }
        #expect(read == (0..<20).map { "a\($0)" })
        #expect(engine.calls.filter { $0.operation == .subscribeToShard }.count == 2)
    }
}
