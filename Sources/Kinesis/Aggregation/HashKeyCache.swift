import Synchronization

/// The hash keys (MD5s) of partition keys met lately, for the producer's hot path.
///
/// Most streams are keyed by something that repeats (a user, a device, a tenant): with this, a
/// key seen before costs one uncontended lock, an FNV-1a pass over its bytes and a comparison,
/// instead of an MD5. At most ``capacity`` keys are kept; a full cache is emptied and refilled,
/// so keys that never repeat (UUIDs) cost a lookup and an insert, never unbounded memory.
package final class HashKeyCache: Sendable {
    /// The most keys kept at once.
    package let capacity: Int
    private let table: Mutex<StringTable<UInt128>>

    package init(capacity: Int = 4_096) {
        self.capacity = max(capacity, 1)
        self.table = Mutex(StringTable(capacity: self.capacity, growable: false))
    }

    /// The MD5 of `partitionKey` as Kinesis routes by it.
    package func hashKey(for partitionKey: String) -> UInt128 {
        let fingerprint = FNV1a.hash(partitionKey)
        if let found = table.withLock({ $0.value(forKey: partitionKey, fingerprint: fingerprint) }) { return found }
        let hashKey = ShardMap.hashKey(forPartitionKey: partitionKey)
        table.withLock { table in
            if table.count >= capacity { table.removeAll() }
            table.insert(partitionKey, hashKey, fingerprint: fingerprint)
        }
        return hashKey
    }

    /// Keys held now.
    package var count: Int { table.withLock { $0.count } }
}
