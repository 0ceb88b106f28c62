import Foundation
import Kinesis
import KinesisProducer
import Testing

/// The NestJS module's key formats. The expected values were worked out apart from the Swift
/// code: the hashes with Python (`h = ((h << 5) - h + unit) & 0xffffffff` over UTF-16 code
/// units, read back as a signed 32-bit integer, then `abs`), the shards with MD5 in Python.
@Suite("NestJS key formats")
struct NestJSKeyTests {
    struct Event { var value: String }

    @Test(arguments: [
        ("", "hash_0"), ("a", "hash_97"), ("abc", "hash_96354"), ("hello", "hash_99162322"), ("user-42", "hash_147182656"),
        ("order_123456", "hash_910538636"), ("The quick brown fox jumps over the lazy dog", "hash_609428141"),
        ("é€😀", "hash_16752006"),
    ])
    func theHashIsTheModulesJavaScriptStringHash(value: String, key: String) {
        #expect(PartitionKeyStrategy<Event>.nestjsHash { $0.value }.key(for: Event(value: value)).key == key)
    }

    @Test func theMostNegativeHashKeepsItsMagnitude() {
        // "I<F;H@" hashes to 2^31, which is Int32.min as a 32-bit integer (its code units are the
        // base-31 digits of 2^31, borrowed upwards into printable characters); Math.abs of it is
        // 2147483648 in JavaScript, no overflow.
        #expect(PartitionKeyStrategy<Event>.nestjsHash { $0.value }.key(for: Event(value: "I<F;H@")).key == "hash_2147483648")
    }

    @Test func timeWindowsAreFloorOfMillisecondsOverTheWindow() {
        let at = Date(timeIntervalSince1970: 1_732_000_123.456)
        #expect(PartitionKeyStrategy<Event>.nestjsTimeWindow(now: { at }).key(for: Event(value: "")).key == "time_28866668")
        #expect(PartitionKeyStrategy<Event>.nestjsTimeWindow(milliseconds: 1000, now: { at }).key(for: Event(value: "")).key == "time_1732000123")
        #expect(PartitionKeyStrategy<Event>.nestjsMetrics(now: { at }).key(for: Event(value: "")).key == "metrics-456")
    }

    @Test func roundRobinCountsForRealAndRandomStaysBelowTheShardCount() {
        let rr = PartitionKeyStrategy<Event>.nestjsRoundRobin(shardCount: 4)
        #expect((0..<6).map { _ in rr.key(for: Event(value: "")).key } == ["rr_0", "rr_1", "rr_2", "rr_3", "rr_0", "rr_1"])
        let random = PartitionKeyStrategy<Event>.nestjsRandom(shardCount: 4, seed: 3)
        let keys = Set((0..<200).map { _ in random.key(for: Event(value: "")).key })
        #expect(keys == ["random_0", "random_1", "random_2", "random_3"])
    }

    @Test func compositeAndDefault() {
        let composite = PartitionKeyStrategy<Event>.nestjsComposite([{ _ in "eu" }, { $0.value }])
        #expect(composite.key(for: Event(value: "user_7")).key == "composite_eu_user_7")
        #expect(PartitionKeyStrategy<Event>.nestjsDefault.key(for: Event(value: "x")).key == "default")
    }

    @Test func theModulesFewKeysMissAShardAndOursDoNot() {
        // MD5 of rr_0..rr_3 and random_0..random_3 (Python): shards [1, 3, 2, 3] and [1, 3, 1, 2] of 4.
        let map = ShardMap.even(count: 4)
        let rr = Set((0..<4).compactMap { map.shardId(forPartitionKey: "rr_\($0)") })
        let random = Set((0..<4).compactMap { map.shardId(forPartitionKey: "random_\($0)") })
        #expect(rr == [ShardMap.shardId(index: 1), ShardMap.shardId(index: 2), ShardMap.shardId(index: 3)])
        #expect(random == [ShardMap.shardId(index: 1), ShardMap.shardId(index: 2), ShardMap.shardId(index: 3)])
        let ours = PartitionKeyStrategy<Event>.roundRobin(over: map)
        let reached = Set((0..<4).compactMap { _ -> String? in
            let key = ours.key(for: Event(value: ""))
            return map.shardId(forHashKey: ShardMap.hashKey(forPartitionKey: key.key, explicitHashKey: key.explicitHashKey))
        })
        #expect(reached.count == 4)
    }
}
