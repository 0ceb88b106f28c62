import Foundation

/// Partition keys a reader has already met, by their bytes, with their hash keys.
///
/// A shard's aggregates repeat the same keys (users, devices, tenants) aggregate after
/// aggregate. Each aggregate carries its own key table, so without this a reader validates
/// every key's UTF-8 and computes its MD5 again in every aggregate. With it, a key seen before
/// costs a 64-bit hash of its bytes and one comparison. At most ``capacity`` keys are kept;
/// a full cache is emptied and refilled, so high-cardinality keys cost a lookup, not memory.
public struct PartitionKeyCache: Sendable {
    /// The most keys kept at once.
    public let capacity: Int
    private var entries: [UInt64: (key: String, hashKey: UInt128)] = [:]

    /// An empty cache of at most `capacity` keys.
    public init(capacity: Int = 8192) {
        self.capacity = Swift.max(capacity, 1)
    }

    /// Keys held now.
    public var count: Int { entries.count }

    /// The key whose UTF-8 bytes are `bytes`, and its hash key: from the cache, or validated,
    /// hashed and remembered. Nil when the bytes are not UTF-8.
    mutating func key(for bytes: UnsafeRawBufferPointer) -> (key: String, hashKey: UInt128)? {
        let fingerprint = FNV1a.hash(bytes)
        if let found = entries[fingerprint], Self.equal(found.key, bytes) { return found }
        let utf8 = UnsafeBufferPointer(start: bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        guard let key = String(validating: utf8, as: UTF8.self) else { return nil }
        let entry = (key: key, hashKey: ShardMap.hashKey(forPartitionKey: key))
        if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
        entries[fingerprint] = entry
        return entry
    }

    private static func equal(_ key: String, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var key = key
        return key.withUTF8 { utf8 in
            utf8.count == bytes.count && (bytes.isEmpty || memcmp(utf8.baseAddress!, bytes.baseAddress!, bytes.count) == 0)
        }
    }
}
