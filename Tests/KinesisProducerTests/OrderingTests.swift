import Foundation
import Kinesis
import KinesisProducer
import KinesisTesting
import Testing

/// Records in the order a KCL reader hands them to the application: shards parents first (the
/// engine lists shards in creation order), each shard from its start. A plain record passes; an
/// aggregate passes whole only if every sub-record's hash key (explicit, else the MD5 of its key)
/// is inside the shard's range, as the KCL's `AggregatorUtil.deaggregate` decides: at the first
/// one outside, it drops every sub-record of that aggregate.
func readInOrderAsTheKCLDoes(_ engine: InMemoryKinesis, stream: String = "events") -> [String] {
    var out: [String] = []
    for shard in engine.snapshot().stream(stream)!.shards {
        let range = UInt128(shard.shard.hashKeyRange.startingHashKey)!...UInt128(shard.shard.hashKeyRange.endingHashKey)!
        for record in shard.records {
            guard let users = AggregatedRecord.deaggregate(record.data) else {
                out.append(String(decoding: record.data, as: UTF8.self))
                continue
            }
            let inRange = users.allSatisfy {
                range.contains(ShardMap.hashKey(forPartitionKey: $0.partitionKey, explicitHashKey: $0.explicitHashKey))
            }
            if inRange { out += users.map { String(decoding: $0.data, as: UTF8.self) } }
        }
    }
    return out
}

/// Records whose first appearance comes after a later record of the same key (records are
/// named `k<key>-<n>`, n increasing in put order).
func outOfOrder(_ read: [String]) -> (count: Int, first: String?) {
    var last: [Substring: Int] = [:]
    var seen = Set<String>()
    var count = 0
    var first: String?
    for name in read where seen.insert(name).inserted {
        let parts = name.split(separator: "-")
        let key = parts[0]
        let n = Int(parts[1])!
        if let previous = last[key], previous > n {
            count += 1
            if first == nil { first = name }
        } else {
            last[key] = n
        }
    }
    return (count, first)
}

extension ProducerUnderLoad {
    @Suite("Producer per-key order")
    struct OrderingTests {
        enum Reshard: String, CaseIterable, Sendable { case none, split, merge }

        func run(aggregation: Bool, reshard: Reshard, ordering: Producer.Configuration.Ordering, count: Int) async throws
            -> (lost: Int, outOfOrder: (count: Int, first: String?), failures: Int)
        {
            let (engine, faulty) = try await ProducerUnderLoad.faultyStream(aggregation: aggregation, maxBufferedTime: .milliseconds(5))
            var configuration = faulty
            configuration.ordering = ordering
            let producer = Producer(api: engine, configuration: configuration)
            let keys = 5_000
            var next = [Int](repeating: 0, count: keys)
            let failures = try await producer.withRunning { () -> Int in
                var tickets: [RecordTicket] = []
                tickets.reserveCapacity(count)
                for index in 0..<count {
                    if index == count / 4 {
                        switch reshard {
                        case .none: break
                        case .split:
                            try await engine.splitShard(
                                .init(streamName: "events", shardToSplit: "shardId-000000000000", newStartingHashKey: String(UInt128.max / 8)))
                        case .merge:
                            try await engine.mergeShards(
                                .init(streamName: "events", shardToMerge: "shardId-000000000000", adjacentShardToMerge: "shardId-000000000001"))
                        }
                    }
                    let key = index % keys
                    let name = "k\(key)-\(next[key])"
                    next[key] += 1
                    tickets.append(try await producer.put(data: Data(name.utf8), partitionKey: "user-\(key)"))
                }
                await producer.flush()
                return tickets.filter { if case .success = $0.outcome { false } else { true } }.count
            }
            let read = readInOrderAsTheKCLDoes(engine)
            let kept = Set(read)
            let lost = count - kept.count
            return (lost, outOfOrder(read), failures)
        }

        @Test(
            "200,000 records over 5,000 keys under 10% throttling and 1% InternalFailure: none lost, none out of order per key",
            arguments: [true, false])
        func keepsOrderUnderFaults(aggregation: Bool) async throws {
            let result = try await run(aggregation: aggregation, reshard: .none, ordering: .perKey, count: 200_000)
            print("per-key order (aggregation \(aggregation ? "on" : "off")): \(result.lost) lost, \(result.outOfOrder.count) out of order")
            #expect(result.failures == 0)
            #expect(result.lost == 0)
            #expect(result.outOfOrder.count == 0, "first out of order: \(result.outOfOrder.first ?? "")")
        }

        @Test("per-key order holds through a split and a merge during the writes", arguments: [Reshard.split, .merge], [true, false])
        func keepsOrderThroughReshards(reshard: Reshard, aggregation: Bool) async throws {
            let result = try await run(aggregation: aggregation, reshard: reshard, ordering: .perKey, count: 50_000)
            print("per-key order, \(reshard) (aggregation \(aggregation ? "on" : "off")): \(result.lost) lost, \(result.outOfOrder.count) out of order")
            #expect(result.failures == 0)
            #expect(result.lost == 0)
            #expect(result.outOfOrder.count == 0, "first out of order: \(result.outOfOrder.first ?? "")")
        }

        @Test("without ordering, throttling and retries reorder records of one key (the price the default avoids)")
        func unorderedReorders() async throws {
            let result = try await run(aggregation: false, reshard: .none, ordering: .none, count: 50_000)
            print("ordering none: \(result.lost) lost, \(result.outOfOrder.count) out of order")
            #expect(result.lost == 0)
            #expect(result.outOfOrder.count > 0)
        }
    }
}
