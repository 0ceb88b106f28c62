/// A small open-addressing table from strings to values, for hot paths that look up the same
/// short keys (partition keys) again and again: a lookup costs an FNV-1a pass over the key's
/// UTF-8 bytes (``FNV1a``, which the caller computes once for a lookup and an insert) and, on a
/// hit, one string comparison, where `Dictionary` pays SipHash and its generic machinery.
///
/// Probing is bounded: a key that finds no free slot within ``maxProbes`` is not stored
/// (``insert(_:_:fingerprint:)`` returns false) and the caller goes without, so keys crafted to
/// collide cost a bounded lookup, never a long scan. The table doubles when half full unless
/// ``growable`` is off.
package struct StringTable<Value> {
    fileprivate struct Slot {
        var fingerprint: UInt64
        var key: String
        var value: Value
    }

    private var slots: [Slot?]
    private var mask: Int
    private let growable: Bool
    /// Keys stored.
    package private(set) var count = 0
    /// The most slots a lookup examines.
    package static var maxProbes: Int { 16 }

    /// An empty table with room for about `capacity` keys before it grows.
    package init(capacity: Int, growable: Bool = true) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: nil, count: size)
        mask = size - 1
        self.growable = growable
    }

    @inline(__always)
    private func start(_ fingerprint: UInt64) -> Int { Int(truncatingIfNeeded: fingerprint ^ (fingerprint >> 29)) & mask }

    /// The value stored for `key`, whose FNV-1a hash is `fingerprint`.
    package func value(forKey key: String, fingerprint: UInt64) -> Value? {
        var index = start(fingerprint)
        for _ in 0..<Self.maxProbes {
            guard let slot = slots[index] else { return nil }
            if slot.fingerprint == fingerprint, slot.key == key { return slot.value }
            index = (index + 1) & mask
        }
        return nil
    }

    /// Stores `value` for `key`; false when no slot was found within ``maxProbes`` (nothing stored).
    @discardableResult
    package mutating func insert(_ key: String, _ value: Value, fingerprint: UInt64) -> Bool {
        if growable, (count + 1) * 2 > slots.count { grow() }
        var index = start(fingerprint)
        for _ in 0..<Self.maxProbes {
            if let slot = slots[index] {
                if slot.fingerprint == fingerprint, slot.key == key {
                    slots[index]!.value = value
                    return true
                }
                index = (index + 1) & mask
                continue
            }
            slots[index] = Slot(fingerprint: fingerprint, key: key, value: value)
            count += 1
            return true
        }
        return false
    }

    /// Forgets every key, keeping the slots.
    package mutating func removeAll() {
        for index in slots.indices { slots[index] = nil }
        count = 0
    }

    private mutating func grow() {
        let old = slots
        slots = Array(repeating: nil, count: old.count * 2)
        mask = slots.count - 1
        count = 0
        for case let slot? in old { insert(slot.key, slot.value, fingerprint: slot.fingerprint) }
    }
}

extension StringTable: Sendable where Value: Sendable {}
extension StringTable.Slot: Sendable where Value: Sendable {}
