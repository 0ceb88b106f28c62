import Foundation
import Testing

@testable import Kinesis

/// A small seeded generator, so that a fuzz failure is the same failure on every run.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Every reader of bytes from the network or a file (CBOR, JSON pages, event streams, KPL
/// protobuf) is bounded: hostile nesting, huge declared lengths, truncation and random damage
/// make it throw (or return nil), never crash, hang or allocate what a length merely claims.
@Suite("Readers under hostile input")
struct ReaderFuzzTests {
    static func page() -> GetRecordsOutput {
        let records = (0..<20).map { (index: Int) -> Record in
            let bytes: [UInt8] = (0..<(index * 7)).map { (offset: Int) -> UInt8 in UInt8(truncatingIfNeeded: offset &* 31) }
            let arrival = Date(timeIntervalSince1970: 1_700_000_000 + Double(index))
            return Record(sequenceNumber: String(49_000_000_000 + index), data: Data(bytes), partitionKey: "key-\(index)", approximateArrivalTimestamp: arrival)
        }
        return GetRecordsOutput(records: records, nextShardIterator: "AAAA/next", millisBehindLatest: 12)
    }

    /// Reads `bytes` with every reader that takes the format; a throw is fine, a crash is not.
    static func readCBOR(_ bytes: [UInt8]) {
        _ = try? KinesisCBOR.json(fromCBOR: bytes)
        _ = try? bytes.withUnsafeBytes { try KinesisCBOR.decodeGetRecords(raw: $0) }
    }

    @Test("200,000 nested tags (the probe that crashed serve) are refused, in every CBOR entry point")
    func nestedTags() {
        let hostile = [UInt8](repeating: 0xC1, count: 200_000) + [0x00]
        #expect(throws: (any Error).self) { try KinesisCBOR.json(fromCBOR: hostile) }
        // The same inside a page's timestamp, as a hostile endpoint would send it to `tail --cbor`.
        var page: [UInt8] = [0xA1, 0x67] + Array("Records".utf8) + [0x81, 0xA1, 0x78, 0x1B] + Array("ApproximateArrivalTimestamp".utf8)
        page += hostile
        #expect(throws: (any Error).self) { try page.withUnsafeBytes { try KinesisCBOR.decodeGetRecords(raw: $0) } }
        // A timestamp with its usual single tag still reads.
        let encoded = KinesisCBOR.encodeGetRecords(Self.page())
        let decoded = try? encoded.withUnsafeBytes { try KinesisCBOR.decodeGetRecords(raw: $0) }
        #expect(decoded?.records.first?.approximateArrivalTimestamp == Date(timeIntervalSince1970: 1_700_000_000))
    }

    @Test("deep nesting of arrays, maps and other tags is refused")
    func deepNesting() {
        for opener: [UInt8] in [[0x81], [0x9F], [0xA1, 0x61, 0x61], [0xBF, 0x61, 0x61], [0xD8, 0x20]] {
            var bytes: [UInt8] = []
            for _ in 0..<100_000 { bytes += opener }
            bytes.append(0x00)
            #expect(throws: (any Error).self) { try KinesisCBOR.json(fromCBOR: bytes) }
            Self.readCBOR(bytes)
        }
    }

    @Test("huge declared lengths are refused before anything is allocated")
    func hugeLengths() {
        for head: UInt8 in [0x5B, 0x7B, 0x9B, 0xBB] {
            let bytes = [head] + [UInt8](repeating: 0xFF, count: 8) + [0x00]
            #expect(throws: (any Error).self) { try KinesisCBOR.json(fromCBOR: bytes) }
            Self.readCBOR(bytes)
        }
        // An event-stream message that declares 4 GiB is refused at once, not waited for.
        var prelude: [UInt8] = [0xFF, 0xFF, 0xFF, 0xF0, 0, 0, 0, 0]
        let crc = CRC32.checksum(prelude[...])
        prelude += [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
        var buffer = prelude
        #expect(throws: (any Error).self) { try EventStreamMessage.decode(from: &buffer) }
    }

    @Test("every truncation and 3,000 seeded mutations of valid documents: no crash")
    func truncationAndMutation() {
        var random = SplitMix(state: 0x5EED_2026)
        let cbor = KinesisCBOR.encodeGetRecords(Self.page())
        let json = KinesisWire.encodeGetRecords(Self.page())
        var builder = AggregatedRecordBuilder()
        for index in 0..<30 { _ = builder.append(.init(partitionKey: "k\(index % 4)", data: Data(repeating: UInt8(index), count: index))) }
        let aggregate = [UInt8](builder.build()!.data)
        let event = EventStreamMessage.event("SubscribeToShardEvent", payload: json).encoded()

        func readAll(cbor c: [UInt8], json j: [UInt8], aggregate a: [UInt8], event e: [UInt8]) {
            Self.readCBOR(c)
            _ = try? KinesisWire.decodeGetRecords(j)
            _ = AggregatedRecord.deaggregate(Data(a))
            var buffer = e
            _ = try? EventStreamMessage.decode(from: &buffer)
        }
        for cut in 0..<max(cbor.count, json.count, aggregate.count, event.count) {
            readAll(cbor: Array(cbor.prefix(cut)), json: Array(json.prefix(cut)), aggregate: Array(aggregate.prefix(cut)), event: Array(event.prefix(cut)))
        }
        #expect(throws: (any Error).self) { try Array(cbor.dropLast()).withUnsafeBytes { try KinesisCBOR.decodeGetRecords(raw: $0) } }
        #expect(throws: (any Error).self) { try KinesisWire.decodeGetRecords(Array(json.dropLast())) }
        func mutate(_ bytes: [UInt8]) -> [UInt8] {
            var copy = bytes
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let at = Int.random(in: 0..<copy.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: copy[at] = UInt8.random(in: 0...255, using: &random)
                case 1: copy[at] ^= 1 << UInt8.random(in: 0..<8, using: &random)
                default: copy.insert(contentsOf: [UInt8](repeating: copy[at], count: Int.random(in: 1...64, using: &random)), at: at)
                }
            }
            return copy
        }
        for _ in 0..<3_000 {
            readAll(cbor: mutate(cbor), json: mutate(json), aggregate: mutate(aggregate), event: mutate(event))
        }
    }
}
