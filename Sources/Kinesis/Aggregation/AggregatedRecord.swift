import Crypto
import Foundation

/// The KPL aggregation format: many user records in one Kinesis record.
///
/// Bytes: magic `F3 89 9A C2`, a proto2 `AggregatedRecord` message, then the 16-byte MD5 of
/// the message bytes. Written by hand (the message has three fields) so the client module
/// needs no protobuf runtime or code generator.
///
/// ```swift
/// var builder = AggregatedRecordBuilder(maximumSize: 51_200)
/// _ = builder.append(UserRecord(partitionKey: "user-1", data: payload))
/// let (partitionKey, explicitHashKey, data) = builder.build()!    // send as one PutRecords entry
/// let records = AggregatedRecord.deaggregate(data)                 // [UserRecord], or nil for a plain record
/// ```
public enum AggregatedRecord {
    /// The four bytes every KPL aggregate starts with.
    public static let magic: [UInt8] = [0xF3, 0x89, 0x9A, 0xC2]
    static let digestSize = 16

    /// A record as the producer's user gave it, or as deaggregation yields it.
    public struct UserRecord: Sendable, Hashable {
        /// The user record's partition key.
        public var partitionKey: String
        /// Its explicit hash key, if it had one.
        public var explicitHashKey: String?
        /// Its bytes.
        public var data: Data
        /// A user record.
        public init(partitionKey: String, explicitHashKey: String? = nil, data: Data) {
            self.partitionKey = partitionKey
            self.explicitHashKey = explicitHashKey
            self.data = data
        }
    }

    /// Whether `data` starts with the aggregation magic.
    public static func hasMagic(_ data: Data) -> Bool {
        data.count > magic.count + digestSize && data.prefix(4).elementsEqual(magic)
    }

    /// The user records of an aggregated record; nil when `data` is a plain record (no magic,
    /// a wrong MD5, or a message that does not parse), which readers pass on unchanged.
    public static func deaggregate(_ data: Data) -> [UserRecord]? {
        deaggregateIndexed(data)?.userRecords
    }

    // MARK: - Protobuf

    struct ParseError: Error {}

    /// An aggregate's tables and records by index, for readers that compute something once per
    /// distinct partition key (its hash key) rather than once per record.
    package struct Indexed: Sendable {
        package var partitionKeys: [String]
        package var explicitHashKeys: [String]
        /// Each record's key indices, and where its bytes lie in ``source`` (offsets from its start).
        package var records: [(partitionKey: Int, explicitHashKey: Int?, bytes: Range<Int>)]
        /// The hash key of each partition key, when read with a ``PartitionKeyCache``; else empty.
        package var partitionKeyHashes: [UInt128] = []
        /// The aggregated record the ranges point into.
        package var source: Data

        /// Each record's bytes, copied once into a `Data` of its own (`startIndex` 0), in order.
        package func forEachData(_ body: (Int, Data) -> Void) {
            source.withUnsafeBytes { raw in
                for (index, record) in records.enumerated() { body(index, Data(UnsafeRawBufferPointer(rebasing: raw[record.bytes]))) }
            }
        }

        /// The records with their keys looked up.
        var userRecords: [UserRecord] {
            var out: [UserRecord] = []
            out.reserveCapacity(records.count)
            forEachData { index, data in
                let entry = records[index]
                out.append(
                    UserRecord(
                        partitionKey: partitionKeys[entry.partitionKey], explicitHashKey: entry.explicitHashKey.map { explicitHashKeys[$0] },
                        data: data))
            }
            return out
        }
    }

    /// ``deaggregate(_:)`` with the tables kept apart: nil in the same cases.
    ///
    /// The hot path of every reader: the digest and the message are read in place, and each
    /// user record's bytes are copied once, into its own `Data`.
    package static func deaggregateIndexed(_ data: Data) -> Indexed? {
        var none: PartitionKeyCache? = nil
        return deaggregateIndexed(data, keys: &none)
    }

    /// ``deaggregateIndexed(_:)`` taking partition keys (and their hash keys, in
    /// ``Indexed/partitionKeyHashes``) from `keys` when given.
    package static func deaggregateIndexed(_ data: Data, keys: inout PartitionKeyCache?) -> Indexed? {
        guard hasMagic(data) else { return nil }
        return data.withUnsafeBytes { raw -> Indexed? in
            let message = UnsafeRawBufferPointer(rebasing: raw[magic.count..<(raw.count - digestSize)])
            let digest = UnsafeRawBufferPointer(rebasing: raw[(raw.count - digestSize)...])
            guard Insecure.MD5.hash(data: message).elementsEqual(digest) else { return nil }
            return try? decodeIndexed(message, keys: &keys, source: data, base: raw.baseAddress!)
        }
    }

    /// The message's tables and records; record bytes become ranges from `base`, the start of `source`.
    static func decodeIndexed(
        _ bytes: UnsafeRawBufferPointer, keys cache: inout PartitionKeyCache?, source: Data, base: UnsafeRawPointer
    ) throws -> Indexed {
        var reader = ProtoReader(bytes: bytes)
        var partitionKeys: [String] = []
        var partitionKeyHashes: [UInt128] = []
        var hashKeys: [String] = []
        var records: [(partitionKey: Int, explicitHashKey: Int?, bytes: Range<Int>)] = []
        // Indices are checked once the tables are complete: proto2 fields may come in any order.
        var highestKey = -1
        var highestHashKey = -1
        while let (field, wire) = try reader.nextTag() {
            switch (field, wire) {
            case (1, 2):
                if cache != nil {
                    guard let entry = cache!.key(for: try reader.lengthDelimited()) else { throw ParseError() }
                    partitionKeys.append(entry.key)
                    partitionKeyHashes.append(entry.hashKey)
                } else {
                    partitionKeys.append(try reader.string())
                }
            case (2, 2): hashKeys.append(try reader.string())
            case (3, 2):
                var record = ProtoReader(bytes: try reader.lengthDelimited())
                var pk: UInt64?
                var ehk: UInt64?
                var data: UnsafeRawBufferPointer?
                while let (f, w) = try record.nextTag() {
                    switch (f, w) {
                    case (1, 0): pk = try record.varint()
                    case (2, 0): ehk = try record.varint()
                    case (3, 2): data = try record.lengthDelimited()
                    default: try record.skip(wire: w)
                    }
                }
                guard let pk, let data, pk < UInt64(Int.max), ehk.map({ $0 < UInt64(Int.max) }) ?? true else { throw ParseError() }
                highestKey = max(highestKey, Int(pk))
                if let ehk { highestHashKey = max(highestHashKey, Int(ehk)) }
                let start = data.isEmpty ? 0 : base.distance(to: data.baseAddress!)
                records.append((Int(pk), ehk.map { Int($0) }, start..<(start + data.count)))
            default:
                try reader.skip(wire: wire)
            }
        }
        guard highestKey < partitionKeys.count, highestHashKey < hashKeys.count else { throw ParseError() }
        return Indexed(
            partitionKeys: partitionKeys, explicitHashKeys: hashKeys, records: records, partitionKeyHashes: partitionKeyHashes, source: source)
    }

    static func varintSize(_ value: UInt64) -> Int {
        var size = 1
        var rest = value >> 7
        while rest != 0 {
            size += 1
            rest >>= 7
        }
        return size
    }
}

/// Reads proto2 wire format from bytes it does not own (valid for the reader's lifetime).
struct ProtoReader {
    let bytes: UnsafeRawBufferPointer
    var index = 0

    init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    mutating func nextTag() throws -> (field: UInt64, wire: UInt8)? {
        guard index < bytes.count else { return nil }
        let key = try varint()
        return (key >> 3, UInt8(key & 7))
    }

    mutating func varint() throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            guard shift < 64 else { throw AggregatedRecord.ParseError() }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        throw AggregatedRecord.ParseError()
    }

    mutating func lengthDelimited() throws -> UnsafeRawBufferPointer {
        let length = try varint()
        guard length <= UInt64(bytes.count - index) else { throw AggregatedRecord.ParseError() }
        let start = index
        index += Int(length)
        return UnsafeRawBufferPointer(rebasing: bytes[start..<index])
    }

    mutating func string() throws -> String {
        let raw = try lengthDelimited()
        let utf8 = UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt8.self), count: raw.count)
        guard let text = String(validating: utf8, as: UTF8.self) else { throw AggregatedRecord.ParseError() }
        return text
    }

    mutating func skip(wire: UInt8) throws {
        switch wire {
        case 0: _ = try varint()
        case 1: try drop(8)
        case 2: _ = try lengthDelimited()
        case 5: try drop(4)
        default: throw AggregatedRecord.ParseError()
        }
    }

    private mutating func drop(_ count: Int) throws {
        guard bytes.count - index >= count else { throw AggregatedRecord.ParseError() }
        index += count
    }
}

/// Collects user records bound for one shard into an aggregated record of bounded size.
///
/// The size is exact, not estimated: ``size`` is what ``build()`` will return, so a producer
/// can fill records up to the limit. Partition and explicit hash keys are stored once each.
public struct AggregatedRecordBuilder: Sendable {
    /// The largest aggregated record to build, magic and digest included (KPL default 51,200).
    public let maximumSize: Int
    private var partitionKeys: [String] = []
    /// Each distinct key's place in `partitionKeys`. A key the table could not hold (it bounds
    /// its probing) is simply stored again: a longer key table, never a wrong one.
    private var partitionKeyIndex = StringTable<Int>(capacity: 32)
    private var hashKeys: [String] = []
    private var hashKeyIndex: [String: Int] = [:]
    private var records: [(pk: Int, ehk: Int?, data: Data)] = []
    private var messageSize = 0
    /// The hash key of the first record: the aggregate's explicit hash key, so it lands on that
    /// record's shard.
    private var firstHashKey: String?

    /// An empty builder; `maximumSize` bounds the built record (KPL AggregationMaxSize).
    public init(maximumSize: Int = 51_200) {
        self.maximumSize = maximumSize
    }

    /// User records added since the last build.
    public var count: Int { records.count }
    /// The partition keys added since the last build, in first-seen order (the aggregate's key
    /// table): each once, but for the rare key the index could not hold, which is listed again.
    public var distinctPartitionKeys: [String] { partitionKeys }
    /// Whether nothing was added.
    public var isEmpty: Bool { records.isEmpty }
    /// Bytes of the aggregated record as built now: magic, message and digest.
    public var size: Int { AggregatedRecord.magic.count + messageSize + AggregatedRecord.digestSize }

    /// Bytes `record` would add.
    public func addedSize(of record: AggregatedRecord.UserRecord) -> Int {
        sizing(
            partitionKey: record.partitionKey, explicitHashKey: record.explicitHashKey, dataCount: record.data.count,
            fingerprint: FNV1a.hash(record.partitionKey)
        ).added
    }

    /// What `record` would add, and the key-table indices it would use (new ones when nil).
    private func sizing(
        partitionKey: String, explicitHashKey: String?, dataCount: Int, fingerprint: UInt64
    ) -> (added: Int, pk: Int?, ehk: Int??) {
        var added = 0
        let existingKey = partitionKeyIndex.value(forKey: partitionKey, fingerprint: fingerprint)
        if existingKey == nil {
            let length = partitionKey.utf8.count
            added += 1 + AggregatedRecord.varintSize(UInt64(length)) + length
        }
        var recordSize = 1 + AggregatedRecord.varintSize(UInt64(existingKey ?? partitionKeys.count))
        var existingHash: Int?? = .none
        if let hashKey = explicitHashKey {
            let index = hashKeyIndex[hashKey]
            existingHash = .some(index)
            if index == nil {
                added += 1 + AggregatedRecord.varintSize(UInt64(hashKey.utf8.count)) + hashKey.utf8.count
            }
            recordSize += 1 + AggregatedRecord.varintSize(UInt64(index ?? hashKeys.count))
        }
        recordSize += 1 + AggregatedRecord.varintSize(UInt64(dataCount)) + dataCount
        return (added + 1 + AggregatedRecord.varintSize(UInt64(recordSize)) + recordSize, existingKey, existingHash)
    }

    /// Adds `record` if the result stays within ``maximumSize``; returns false (and adds
    /// nothing) otherwise. An empty builder accepts any one record.
    @discardableResult
    public mutating func append(_ record: AggregatedRecord.UserRecord, hashKey: UInt128? = nil) -> Bool {
        append(partitionKey: record.partitionKey, explicitHashKey: record.explicitHashKey, data: record.data, hashKey: hashKey)
    }

    /// ``append(_:hashKey:)`` without a ``AggregatedRecord/UserRecord`` to make first: the
    /// producer's path, once per record.
    @discardableResult
    public mutating func append(partitionKey: String, explicitHashKey: String?, data: Data, hashKey: UInt128? = nil) -> Bool {
        let fingerprint = FNV1a.hash(partitionKey)
        let (added, existingKey, existingHash) = sizing(
            partitionKey: partitionKey, explicitHashKey: explicitHashKey, dataCount: data.count, fingerprint: fingerprint)
        if !records.isEmpty, size + added > maximumSize { return false }
        messageSize += added
        let pk: Int
        if let existingKey {
            pk = existingKey
        } else {
            pk = partitionKeys.count
            partitionKeys.append(partitionKey)
            partitionKeyIndex.insert(partitionKey, pk, fingerprint: fingerprint)
        }
        var ehk: Int?
        if let hashKey = explicitHashKey {
            if case .some(.some(let index)) = existingHash {
                ehk = index
            } else {
                ehk = hashKeys.count
                hashKeys.append(hashKey)
                hashKeyIndex[hashKey] = ehk
            }
        }
        if records.isEmpty {
            firstHashKey = explicitHashKey ?? String(hashKey ?? ShardMap.hashKey(forPartitionKey: partitionKey))
        }
        records.append((pk, ehk, data))
        return true
    }

    /// The explicit hash key an aggregate of what was added carries: the first record's, so
    /// that it lands on that record's shard. Nil when nothing was added.
    public var aggregateHashKey: String? { firstHashKey }

    /// The Kinesis record to send: one user record is sent plain, with its own keys; more are
    /// aggregated under partition key `"a"` and the first record's hash key, as the KPL does.
    ///
    /// The bytes are written once, in place, at the exact ``size`` computed while appending,
    /// and digested there: no intermediate buffers per record or per key.
    public func build() -> (partitionKey: String, explicitHashKey: String?, data: Data)? {
        guard let first = records.first else { return nil }
        if records.count == 1 {
            return (partitionKeys[first.pk], first.ehk.map { hashKeys[$0] }, first.data)
        }
        let total = size
        let messageEnd = total - AggregatedRecord.digestSize
        // Not `Data(count:)`: an aggregate is up to a megabyte, and zero-filling it is wasted work.
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: total, alignment: 8)
        do {
            let raw = storage
            var writer = ProtoWriter(raw)
            for byte in AggregatedRecord.magic { writer.byte(byte) }
            for key in partitionKeys { writer.string(field: 1, key) }
            for key in hashKeys { writer.string(field: 2, key) }
            for entry in records {
                let length = entry.data.count
                var inner = 1 + AggregatedRecord.varintSize(UInt64(entry.pk)) + 1 + AggregatedRecord.varintSize(UInt64(length)) + length
                if let ehk = entry.ehk { inner += 1 + AggregatedRecord.varintSize(UInt64(ehk)) }
                writer.byte(3 << 3 | 2)
                writer.varint(UInt64(inner))
                writer.byte(0x08)
                writer.varint(UInt64(entry.pk))
                if let ehk = entry.ehk {
                    writer.byte(0x10)
                    writer.varint(UInt64(ehk))
                }
                writer.byte(3 << 3 | 2)
                writer.varint(UInt64(length))
                entry.data.withUnsafeBytes { writer.bytes($0) }
            }
            // `size` is exact by construction; a mismatch would write a corrupt aggregate.
            precondition(writer.index == messageEnd, "aggregate size mismatch: wrote \(writer.index) of \(messageEnd) bytes")
            let message = UnsafeRawBufferPointer(rebasing: raw[AggregatedRecord.magic.count..<messageEnd])
            let digest = Insecure.MD5.hash(data: message)
            digest.withUnsafeBytes { writer.bytes($0) }
        }
        let out = Data(bytesNoCopy: storage.baseAddress!, count: total, deallocator: .custom { pointer, _ in pointer.deallocate() })
        return ("a", firstHashKey, out)
    }

    /// The user records added, in order.
    public var userRecords: [AggregatedRecord.UserRecord] {
        records.map { .init(partitionKey: partitionKeys[$0.pk], explicitHashKey: $0.ehk.map { hashKeys[$0] }, data: $0.data) }
    }

    /// Forgets what was added.
    public mutating func reset() {
        self = AggregatedRecordBuilder(maximumSize: maximumSize)
    }
}

/// Writes proto2 wire format into a buffer sized beforehand.
private struct ProtoWriter {
    let base: UnsafeMutableRawBufferPointer
    var index = 0

    init(_ base: UnsafeMutableRawBufferPointer) { self.base = base }

    mutating func byte(_ value: UInt8) {
        base[index] = value
        index += 1
    }

    mutating func varint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            byte(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        byte(UInt8(rest))
    }

    mutating func bytes(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        precondition(index + bytes.count <= base.count)
        (base.baseAddress! + index).copyMemory(from: source, byteCount: bytes.count)
        index += bytes.count
    }

    mutating func string(field: UInt8, _ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            byte(field << 3 | 2)
            varint(UInt64(utf8.count))
            bytes(UnsafeRawBufferPointer(utf8))
        }
    }
}
