import Foundation

extension KinesisWire {
    /// Reads a GetRecords answer without `JSONDecoder`: readers pull pages of up to 10 MiB of
    /// base64, and decoding them is most of a consumer's work. Anything unexpected falls back to
    /// `JSONDecoder`, so the answer is the same either way.
    public static func decodeGetRecords(_ bytes: [UInt8]) throws -> GetRecordsOutput {
        try bytes.withUnsafeBytes { try decodeGetRecords(raw: $0) }
    }

    /// ``decodeGetRecords(_:)`` reading the page where it is (an HTTP body's buffer), uncopied.
    public static func decodeGetRecords(raw: UnsafeRawBufferPointer) throws -> GetRecordsOutput {
        var reader = FastJSONReader(bytes: raw.bindMemory(to: UInt8.self))
        if let fast = try? reader.getRecordsOutput() { return fast }
        return try makeDecoder().decode(GetRecordsOutput.self, from: Data(raw))
    }
}

/// Just enough JSON for a GetRecords answer; throws on anything else.
struct FastJSONReader {
    struct Unexpected: Error {}

    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func skipSpace() {
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 { index += 1 }
    }

    mutating func expect(_ byte: UInt8) throws {
        skipSpace()
        guard index < bytes.count, bytes[index] == byte else { throw Unexpected() }
        index += 1
    }

    /// Consumes `byte` if it comes next.
    mutating func take(_ byte: UInt8) -> Bool {
        skipSpace()
        if index < bytes.count, bytes[index] == byte {
            index += 1
            return true
        }
        return false
    }

    /// The raw bytes of a string without escapes, or nil (and nothing consumed) when it has some.
    /// A page is mostly base64 strings, so the closing quote and any backslash are found with
    /// `memchr`, not byte by byte.
    mutating func plainString() throws -> Range<Int>? {
        try expect(UInt8(ascii: "\""))
        let start = index
        guard let base = bytes.baseAddress,
            let quote = memchr(base + start, Int32(UInt8(ascii: "\"")), bytes.count - start)
        else { throw Unexpected() }
        let end = base.distance(to: quote.assumingMemoryBound(to: UInt8.self))
        if memchr(base + start, Int32(UInt8(ascii: "\\")), end - start) != nil {
            index = start - 1
            return nil
        }
        index = end + 1
        return start..<end
    }

    mutating func text() throws -> String {
        if let range = try plainString() { return String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) }
        // With escapes: JSONDecoder reads this one string.
        let start = index
        try skipValue()
        return try JSONDecoder().decode(String.self, from: Data(UnsafeBufferPointer(rebasing: bytes[start..<index])))
    }

    mutating func number() throws -> Double {
        skipSpace()
        let start = index
        while index < bytes.count, (0x30...0x39).contains(bytes[index]) || "+-.eE".utf8.contains(bytes[index]) { index += 1 }
        guard start < index, let value = Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)) else {
            throw Unexpected()
        }
        return value
    }

    mutating func isNull() -> Bool {
        skipSpace()
        if index + 4 <= bytes.count, bytes[index] == UInt8(ascii: "n"), bytes[index + 1] == UInt8(ascii: "u"), bytes[index + 2] == UInt8(ascii: "l"),
            bytes[index + 3] == UInt8(ascii: "l")
        {
            index += 4
            return true
        }
        return false
    }

    /// Skips any value (strings with escapes, nested objects and arrays, literals).
    mutating func skipValue() throws {
        skipSpace()
        guard index < bytes.count else { throw Unexpected() }
        var depth = 0
        repeat {
            guard index < bytes.count else { throw Unexpected() }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                index += 1
                while index < bytes.count, bytes[index] != UInt8(ascii: "\"") { index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1 }
                index += 1
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                index += 1
            default:
                if depth == 0 {
                    while index < bytes.count, !",}] \n\r\t".utf8.contains(bytes[index]) { index += 1 }
                } else {
                    index += 1
                }
            }
        } while depth > 0
    }

    /// Members of an object, one key at a time.
    mutating func members(_ body: (inout FastJSONReader, String) throws -> Void) throws {
        try expect(UInt8(ascii: "{"))
        if take(UInt8(ascii: "}")) { return }
        repeat {
            let key = try text()
            try expect(UInt8(ascii: ":"))
            try body(&self, key)
        } while take(UInt8(ascii: ","))
        try expect(UInt8(ascii: "}"))
    }

    mutating func getRecordsOutput() throws -> GetRecordsOutput {
        var output = GetRecordsOutput(records: [], nextShardIterator: nil, millisBehindLatest: nil)
        try members { reader, key in
            switch key {
            case "Records":
                try reader.expect(UInt8(ascii: "["))
                if reader.take(UInt8(ascii: "]")) { return }
                repeat { output.records.append(try reader.record()) } while reader.take(UInt8(ascii: ","))
                try reader.expect(UInt8(ascii: "]"))
            case "NextShardIterator": output.nextShardIterator = reader.isNull() ? nil : try reader.text()
            case "MillisBehindLatest": output.millisBehindLatest = reader.isNull() ? nil : Int(try reader.number())
            case "ChildShards":
                reader.skipSpace()
                let start = reader.index
                try reader.skipValue()
                output.childShards = try KinesisWire.makeDecoder().decode(
                    [ChildShard]?.self, from: Data(UnsafeBufferPointer(rebasing: reader.bytes[start..<reader.index])))
            default: try reader.skipValue()
            }
        }
        return output
    }

    /// A base64 blob; escaped base64 (`\/`) throws, and JSONDecoder reads the page instead.
    mutating func blob() throws -> Data {
        guard let range = try plainString(), let data = Base64.decode(UnsafeBufferPointer(rebasing: bytes[range])) else { throw Unexpected() }
        return data
    }

    static func missingMember() -> any Error { Unexpected() }
}

/// A reader of one page format (JSON or CBOR): what reading a record needs.
protocol RecordPageReader {
    mutating func text() throws -> String
    mutating func number() throws -> Double
    mutating func blob() throws -> Data
    mutating func isNull() -> Bool
    mutating func skipValue() throws
    mutating func members(_ body: (inout Self, String) throws -> Void) throws
    /// The error for a record without SequenceNumber, Data or PartitionKey.
    static func missingMember() -> any Error
}

extension RecordPageReader {
    /// One record of a GetRecords page, whatever the format.
    mutating func record() throws -> Record {
        var record = Record(sequenceNumber: "", data: Data(), partitionKey: "")
        var sawSequence = false, sawData = false, sawKey = false
        try members { reader, key in
            switch key {
            case "SequenceNumber":
                record.sequenceNumber = try reader.text()
                sawSequence = true
            case "ApproximateArrivalTimestamp":
                if !reader.isNull() { record.approximateArrivalTimestamp = Date(timeIntervalSince1970: try reader.number()) }
            case "Data":
                record.data = try reader.blob()
                sawData = true
            case "PartitionKey":
                record.partitionKey = try reader.text()
                sawKey = true
            case "EncryptionType": record.encryptionType = reader.isNull() ? nil : EncryptionType(rawValue: try reader.text())
            default: try reader.skipValue()
            }
        }
        guard sawSequence, sawData, sawKey else { throw Self.missingMember() }
        return record
    }
}

extension FastJSONReader: RecordPageReader {}

enum Base64 {
    /// For each input position in a group of four, the 6-bit value already shifted into place;
    /// bytes outside the alphabet set bit 24, so one OR of four lookups decodes and checks a group.
    static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 1 << 24, count: 4 * 256)
        for (index, byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            for position in 0..<4 { tables[position * 256 + Int(byte)] = UInt32(index) << (18 - 6 * position) }
        }
        return tables
    }()

    /// Standard base64 with padding; nil when it is not.
    static func decode(_ input: UnsafeBufferPointer<UInt8>) -> Data? {
        let count = input.count
        guard count % 4 == 0 else { return nil }
        if count == 0 { return Data() }
        var padding = 0
        if input[count - 1] == UInt8(ascii: "=") { padding += 1 }
        if input[count - 2] == UInt8(ascii: "=") { padding += 1 }
        var out = Data(count: count / 4 * 3 - padding)
        let ok = tables.withUnsafeBufferPointer { tables -> Bool in
            out.withUnsafeMutableBytes { (raw: UnsafeMutableRawBufferPointer) -> Bool in
                guard let output = raw.baseAddress?.assumingMemoryBound(to: UInt8.self), let source = input.baseAddress,
                    let t = tables.baseAddress
                else { return false }
                var o = 0
                var i = 0
                // Whole groups; the last one is decoded below when it carries padding.
                let whole = padding == 0 ? count : count - 4
                while i < whole {
                    let value = t[Int(source[i])] | t[256 + Int(source[i + 1])] | t[512 + Int(source[i + 2])] | t[768 + Int(source[i + 3])]
                    if value > 0xFF_FFFF { return false }
                    output[o] = UInt8(truncatingIfNeeded: value >> 16)
                    output[o + 1] = UInt8(truncatingIfNeeded: value >> 8)
                    output[o + 2] = UInt8(truncatingIfNeeded: value)
                    i += 4
                    o += 3
                }
                if padding > 0 {
                    let third = padding == 1 ? t[512 + Int(source[i + 2])] : 0
                    let value = t[Int(source[i])] | t[256 + Int(source[i + 1])] | third
                    if value > 0xFF_FFFF { return false }
                    output[o] = UInt8(truncatingIfNeeded: value >> 16)
                    if padding == 1 { output[o + 1] = UInt8(truncatingIfNeeded: value >> 8) }
                }
                return true
            }
        }
        return ok ? out : nil
    }
}
