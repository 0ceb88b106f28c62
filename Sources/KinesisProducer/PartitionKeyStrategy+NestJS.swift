import Foundation
import Kinesis

/// The NestJS module's key formats, byte for byte, so that a team coming from it sees the shard
/// spread its code really produces (`partitions`, `run`) before it changes anything. Several of
/// them concentrate load on purpose-blind ways; each names the toolkit's fix.
extension PartitionKeyStrategy {
    /// The module's `generateHashPartition`: `hash_<n>`, n the absolute value of the 32-bit
    /// JavaScript string hash (`hash = (hash << 5) - hash + charCode`, over UTF-16 code units).
    /// The key's MD5 still picks the shard: as many distinct keys as values, no better spread
    /// than the value itself (use ``field(_:)`` for order per entity, ``roundRobin(over:)`` for
    /// an even spread).
    public static func nestjsHash(_ extract: @escaping @Sendable (Event) -> String) -> Self {
        Self(name: "nestjs.hash") { PartitionKey("hash_\(Self.javaScriptHashMagnitude(extract($0)))") }
    }

    /// `Math.abs` of the module's 32-bit string hash: 0 ... 2,147,483,648.
    public static func javaScriptHashMagnitude(_ value: String) -> Int64 {
        var hash: Int32 = 0
        for unit in value.utf16 {
            // `(hash << 5) - hash + char` then `hash & hash`: the same as Int32 arithmetic that wraps.
            hash = (hash << 5) &- hash &+ Int32(unit)
        }
        return abs(Int64(hash))
    }

    /// The module's `publishWithTimeBasedPartitioning`: `time_<floor(ms / window)>`, one key per
    /// window (default one minute), so all traffic of a window lands on ONE shard.
    public static func nestjsTimeWindow(milliseconds window: Int64 = 60_000, now: @escaping @Sendable () -> Date = { Date() }) -> Self {
        precondition(window > 0, "the time window must be positive")
        return Self(name: "nestjs.time(\(window)ms)") { _ in
            let millis = Int64((now().timeIntervalSince1970 * 1000).rounded(.down))
            return PartitionKey("time_\(millis >= 0 ? millis / window : (millis - window + 1) / window)")
        }
    }

    /// The module's `random` strategy: `random_<n>`, n below `shardCount`. Those few keys' MD5s
    /// usually miss some shards (3 of 4, 5 of 8): use ``roundRobin(over:)`` instead.
    public static func nestjsRandom(shardCount: Int, seed: UInt64 = 42) -> Self {
        precondition(shardCount > 0, "the shard count must be positive")
        let strategy = random(keys: shardCount, seed: seed)
        return Self(name: "nestjs.random(\(shardCount))") { strategy.key(for: $0) }
    }

    /// The module's `round-robin` strategy, with the counter it leaves as a placeholder made
    /// real: `rr_<n>`, n = counter % shardCount. The keys' MD5s still pick the shards, so
    /// some shards get two keys and some none: use ``roundRobin(over:)`` instead.
    public static func nestjsRoundRobin(shardCount: Int) -> Self {
        let strategy = roundRobin(keys: shardCount)
        return Self(name: "nestjs.roundRobin(\(shardCount))") { strategy.key(for: $0) }
    }

    /// The module's `composite` strategy: `composite_<v1>_<v2>...`.
    public static func nestjsComposite(_ parts: [@Sendable (Event) -> String]) -> Self {
        Self(name: "nestjs.composite") { event in PartitionKey("composite_" + parts.map { $0(event) }.joined(separator: "_")) }
    }

    /// What the module falls back to for an unknown strategy: the constant key `default`, one
    /// hot shard.
    public static var nestjsDefault: Self { Self(name: "nestjs.default") { _ in PartitionKey("default") } }

    /// The key of the module's `publishMetrics`: `metrics-<Date.now() % 1000>`, 1,000 keys that
    /// change every millisecond (an even spread, and no order for anything).
    public static func nestjsMetrics(now: @escaping @Sendable () -> Date = { Date() }) -> Self {
        clockModulo(prefix: "metrics-", modulo: 1000, now: now)
    }

    /// `<prefix><milliseconds since 1970 % modulo>`.
    public static func clockModulo(prefix: String, modulo: Int64, now: @escaping @Sendable () -> Date = { Date() }) -> Self {
        precondition(modulo > 0, "the modulo must be positive")
        return Self(name: "clock(\(prefix)%\(modulo))") { _ in
            let millis = Int64((now().timeIntervalSince1970 * 1000).rounded(.down))
            return PartitionKey("\(prefix)\(((millis % modulo) + modulo) % modulo)")
        }
    }
}
