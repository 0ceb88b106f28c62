import Foundation
import Testing

@testable import Kinesis

@Suite("StringTable and HashKeyCache")
struct StringTableTests {
    @Test("stores and finds keys, replaces a key's value, grows past its first capacity and forgets on removeAll")
    func storesAndGrows() {
        var table = StringTable<Int>(capacity: 4)
        for index in 0..<1_000 {
            let key = "user-\(index)"
            let stored = table.insert(key, index, fingerprint: FNV1a.hash(key))
            #expect(stored)
        }
        #expect(table.count == 1_000)
        var found = 0
        for index in 0..<1_000 {
            let key = "user-\(index)"
            if table.value(forKey: key, fingerprint: FNV1a.hash(key)) == index { found += 1 }
        }
        #expect(found == 1_000)
        #expect(table.value(forKey: "user-1000", fingerprint: FNV1a.hash("user-1000")) == nil)
        table.insert("user-7", -7, fingerprint: FNV1a.hash("user-7"))
        #expect(table.count == 1_000)
        #expect(table.value(forKey: "user-7", fingerprint: FNV1a.hash("user-7")) == -7)
        table.removeAll()
        #expect(table.count == 0)
        #expect(table.value(forKey: "user-7", fingerprint: FNV1a.hash("user-7")) == nil)
    }

    @Test("keys that collide (same fingerprint) are told apart by their text, and past the probe bound are refused, not scanned")
    func collisionsAreBounded() {
        var table = StringTable<Int>(capacity: 64, growable: false)
        // Every key given the same fingerprint: the worst an adversary could do.
        let keys = (0..<(StringTable<Int>.maxProbes + 5)).map { "crafted-\($0)" }
        var stored: [Bool] = []
        for (index, key) in keys.enumerated() { stored.append(table.insert(key, index, fingerprint: 42)) }
        #expect(stored == keys.indices.map { $0 < StringTable<Int>.maxProbes })
        for (index, key) in keys.enumerated() {
            #expect(table.value(forKey: key, fingerprint: 42) == (index < StringTable<Int>.maxProbes ? index : nil))
        }
    }

    @Test("an aggregate whose keys collide still names each record's own key")
    func aggregateWithCollidingKeysKeepsEveryKey() throws {
        // More distinct keys than the index keeps in a probe run is not reachable through FNV-1a
        // by accident; what is pinned here is that the builder's table never confuses two keys.
        var builder = AggregatedRecordBuilder()
        let records = (0..<3_000).map { AggregatedRecord.UserRecord(partitionKey: "key-\($0 % 700)", data: Data("r\($0)".utf8)) }
        var appended = 0
        for record in records where builder.append(record) { appended += 1 }
        let built = try #require(builder.build())
        let read = try #require(AggregatedRecord.deaggregate(built.data))
        #expect(read == Array(records.prefix(appended)))
        #expect(Set(builder.distinctPartitionKeys).count == builder.distinctPartitionKeys.count)
    }

    @Test("the hash key cache answers the MD5 of every key, cached or not, and holds at most its capacity")
    func hashKeyCache() {
        let cache = HashKeyCache(capacity: 100)
        for round in 0..<3 {
            for index in 0..<250 {
                let key = "device-\(index)"
                #expect(cache.hashKey(for: key) == ShardMap.hashKey(forPartitionKey: key), "round \(round), \(key)")
            }
        }
        #expect(cache.count <= 100)
        #expect(cache.count > 0)
    }
}
