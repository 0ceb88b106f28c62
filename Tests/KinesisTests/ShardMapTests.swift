import Testing

@testable import Kinesis

@Suite("ShardMap")
struct ShardMapTests {
    static func evenShards(_ count: Int) -> [Shard] {
        ShardMap.evenRanges(count: count).enumerated().map { index, range in
            Shard(
                shardId: ShardMap.shardId(index: index),
                hashKeyRange: HashKeyRange(
                    startingHashKey: String(range.lowerBound), endingHashKey: String(range.upperBound)),
                sequenceNumberRange: SequenceNumberRange(startingSequenceNumber: "0"))
        }
    }

    @Test("MD5 of the partition key, read big-endian")
    func md5BigEndian() {
        #expect(ShardMap.hashKey(forPartitionKey: "user-123") == UInt128("250018372642977770877286195909578633128")!)
    }

    @Test("routes the facts-sheet keys on 3 shards: a, b, e, f -> 0, 1, 2, 1")
    func threeShards() throws {
        let map = try ShardMap(shards: Self.evenShards(3))
        let shards = ["a", "b", "e", "f"].map { map.shardId(forPartitionKey: $0) }
        #expect(shards == ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002", "shardId-000000000001"])
    }

    @Test("routes abc to shard 2 of 4")
    func fourShards() throws {
        #expect(try ShardMap(shards: Self.evenShards(4)).shardId(forPartitionKey: "abc") == "shardId-000000000002")
    }

    @Test("even ranges: step floor(2^128/n), contiguous, last ends at 2^128-1", arguments: [1, 2, 3, 4, 7, 64, 1000])
    func evenRanges(count: Int) {
        let ranges = ShardMap.evenRanges(count: count)
        #expect(ranges.first?.lowerBound == 0)
        #expect(ranges.last?.upperBound == UInt128.max)
        for index in 1..<max(ranges.count, 1) where ranges.count > 1 {
            #expect(ranges[index].lowerBound == ranges[index - 1].upperBound + 1)
            #expect(ranges[index].lowerBound == UInt128(index) * ranges[1].lowerBound)
        }
    }

    @Test("three shards step by floor(2^128/3)")
    func threeSteps() {
        #expect(String(ShardMap.evenRanges(count: 3)[1].lowerBound) == "113427455640312821154458202477256070485")
        #expect(ShardMap.evenRanges(count: 1) == [0...UInt128.max])
    }

    @Test("two shards split at 2^127, as Kinesis and moto do")
    func twoShards() {
        let ranges = ShardMap.evenRanges(count: 2)
        #expect(String(ranges[0].upperBound) == "170141183460469231731687303715884105727")
        #expect(String(ranges[1].lowerBound) == "170141183460469231731687303715884105728")
    }

    @Test("explicit hash keys replace the MD5; the ends of the range are inclusive")
    func explicitHashKeys() throws {
        let map = try ShardMap(shards: Self.evenShards(2))
        #expect(try map.shardId(forExplicitHashKey: "0") == "shardId-000000000000")
        #expect(try map.shardId(forExplicitHashKey: "170141183460469231731687303715884105727") == "shardId-000000000000")
        #expect(try map.shardId(forExplicitHashKey: "170141183460469231731687303715884105728") == "shardId-000000000001")
        #expect(try map.shardId(forExplicitHashKey: "340282366920938463463374607431768211455") == "shardId-000000000001")
    }

    @Test(
        "rejects hash keys that are not decimal 128-bit numbers",
        arguments: ["", "-1", "01", "1.5", "abc", "340282366920938463463374607431768211456", String(repeating: "9", count: 40)])
    func badHashKeys(text: String) throws {
        let map = try ShardMap(shards: Self.evenShards(2))
        #expect(throws: ShardMapError.self) { try map.shardId(forExplicitHashKey: text) }
    }

    @Test("closed shards receive nothing: routing uses the open children")
    func closedShardsLeftOut() throws {
        var shards = Self.evenShards(1)
        shards[0].sequenceNumberRange.endingSequenceNumber = "49000000000000000000000000000000000000000000000000000099"
        let half = UInt128.max / 2
        shards.append(
            Shard(
                shardId: "shardId-000000000001", hashKeyRange: HashKeyRange(startingHashKey: "0", endingHashKey: String(half)),
                sequenceNumberRange: SequenceNumberRange(startingSequenceNumber: "1"),
                parentShardId: "shardId-000000000000"))
        shards.append(
            Shard(
                shardId: "shardId-000000000002", hashKeyRange: HashKeyRange(startingHashKey: String(half + 1), endingHashKey: String(UInt128.max)),
                sequenceNumberRange: SequenceNumberRange(startingSequenceNumber: "2"),
                parentShardId: "shardId-000000000000"))
        let map = try ShardMap(shards: shards)
        #expect(map.count == 2)
        #expect(try map.shardId(forExplicitHashKey: "5") == "shardId-000000000001")
        #expect(try map.shardId(forExplicitHashKey: String(UInt128.max)) == "shardId-000000000002")
    }
}
