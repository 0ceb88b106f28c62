import Foundation
import Kinesis
import Synchronization

/// A partition key, and optionally the explicit hash key that picks the shard instead of
/// the key's MD5.
public struct PartitionKey: Sendable, Hashable {
    /// The partition key.
    public var key: String
    /// An explicit hash key, when the strategy picks the shard itself.
    public var explicitHashKey: String?
    /// A key, with an optional explicit hash key.
    public init(_ key: String, explicitHashKey: String? = nil) {
        self.key = key
        self.explicitHashKey = explicitHashKey
    }
}

/// How an event gets its partition key: the NestJS module's strategies as values, done for
/// real (a round-robin that rotates, and can target every shard).
///
/// ```swift
/// let byOrder = PartitionKeyStrategy<Order>.field { $0.orderId }                 // order per entity
/// let spread = PartitionKeyStrategy<Order>.roundRobin(over: shardMap)            // each shard in turn
/// let hot = PartitionKeyStrategy<Order>.constant("tenant-1")                      // reproduce a hot shard
/// let key = byOrder.key(for: order)
/// ```
public struct PartitionKeyStrategy<Event>: Sendable {
    private let make: @Sendable (Event) -> PartitionKey
    /// A short description, for reports.
    public let name: String

    /// A strategy of your own: `name` shows in reports, `make` keys each event.
    public init(name: String, _ make: @escaping @Sendable (Event) -> PartitionKey) {
        self.name = name
        self.make = make
    }

    /// The key for `event`.
    public func key(for event: Event) -> PartitionKey { make(event) }

    /// The entity's own id: every event of one entity in order, on one shard.
    public static func field(_ extract: @escaping @Sendable (Event) -> String) -> Self {
        Self(name: "field") { PartitionKey(extract($0)) }
    }

    /// Several fields joined: `tenant_user`.
    public static func composite(separator: String = "_", _ parts: [@Sendable (Event) -> String]) -> Self {
        Self(name: "composite") { event in PartitionKey(parts.map { $0(event) }.joined(separator: separator)) }
    }

    /// `bucket-N`, N the MD5 of a field modulo `buckets`: bounded key cardinality, stable per value.
    public static func hash(buckets: Int, _ extract: @escaping @Sendable (Event) -> String) -> Self {
        precondition(buckets > 0, "hash needs at least one bucket")
        return Self(name: "hash(\(buckets))") { event in
            PartitionKey("bucket-\(ShardMap.hashKey(forPartitionKey: extract(event)) % UInt128(buckets))")
        }
    }

    /// `time_N`, N the index of the current window: every event of a window on one key.
    public static func timeWindow(_ window: Duration, now: @escaping @Sendable () -> Date = { Date() }) -> Self {
        let seconds = window.timeInterval
        precondition(seconds > 0, "the time window must be positive")
        return Self(name: "timeWindow") { _ in PartitionKey("time_\(Int64((now().timeIntervalSince1970 / seconds).rounded(.down)))") }
    }

    /// `random_<n>`, n drawn among `keys` values; without `keys`, a fresh 64-bit value in hex
    /// each time (effectively never repeating). From a seeded generator, so runs repeat.
    public static func random(keys: Int? = nil, seed: UInt64 = 42) -> Self {
        let state = Mutex(SplitMix64(seed: seed))
        return Self(name: "random") { _ in
            let value = state.withLock { $0.next() }
            if let keys { return PartitionKey("random_\(value % UInt64(keys))") }
            return PartitionKey(String(value, radix: 16) + String(value &* 31, radix: 16))
        }
    }

    /// `rr_0`, `rr_1`, ... `rr_(n-1)`, `rr_0`, ...: rotates for real, with a shared counter.
    /// The keys' MD5s decide their shards, so two keys may share one: to hit every shard in
    /// turn, use ``roundRobin(over:)``.
    public static func roundRobin(keys: Int) -> Self {
        precondition(keys > 0, "round-robin needs at least one key")
        let counter = Atomic<Int>(0)
        return Self(name: "roundRobin(\(keys))") { _ in
            let next = counter.wrappingAdd(1, ordering: .relaxed).oldValue
            return PartitionKey("rr_\(((next % keys) + keys) % keys)")
        }
    }

    /// Each open shard of `shardMap` in turn, through explicit hash keys (the middle of each
    /// shard's range): an even spread that MD5 cannot promise.
    public static func roundRobin(over shardMap: ShardMap) -> Self {
        let targets = shardMap.entries.map { entry in
            (entry.shardId, String(entry.range.lowerBound + (entry.range.upperBound - entry.range.lowerBound) / 2))
        }
        precondition(!targets.isEmpty, "the shard map has no open shard")
        let counter = Atomic<Int>(0)
        return Self(name: "roundRobinShards(\(targets.count))") { _ in
            let next = counter.wrappingAdd(1, ordering: .relaxed).oldValue
            let target = targets[((next % targets.count) + targets.count) % targets.count]
            return PartitionKey("rr_\(target.0)", explicitHashKey: target.1)
        }
    }

    /// The same key for everything: reproduces a hot shard.
    public static func constant(_ key: String) -> Self {
        Self(name: "constant") { _ in PartitionKey(key) }
    }

    /// A key and an explicit hash key taken from the event.
    public static func explicitHashKey(
        key: @escaping @Sendable (Event) -> String, hashKey: @escaping @Sendable (Event) -> String
    ) -> Self {
        Self(name: "explicitHashKey") { event in PartitionKey(key(event), explicitHashKey: hashKey(event)) }
    }
}
