import Foundation

/// The Kinesis protocol in CBOR (`application/x-amz-cbor-1.1`), as the Java SDKs and the KCL
/// speak it by default: the same documents as JSON 1.1, with blobs as CBOR byte strings (no
/// base64) and timestamps as tag 1 holding epoch **milliseconds** (AWS's reading of tag 1, not
/// RFC 8949's seconds).
///
/// The client reads GetRecords pages in CBOR when asked (``KinesisConfiguration/cborReads``):
/// record data travels as raw bytes, a third smaller than base64 and with nothing to decode.
/// `kinesis-load serve` answers CBOR with the same code.
package enum KinesisCBOR {
    package static let contentType = "application/x-amz-cbor-1.1"

    package struct Malformed: Error, CustomStringConvertible {
        package var description: String
    }

    // MARK: - Reading

    /// A cursor over one CBOR document it does not own.
    struct Reader: RecordPageReader {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        var atEnd: Bool { offset >= bytes.count }

        mutating func byte() throws -> UInt8 {
            guard offset < bytes.count else { throw Malformed(description: "the document ends early") }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func take(_ count: Int) throws -> UnsafeRawBufferPointer {
            guard count >= 0, bytes.count - offset >= count else { throw Malformed(description: "the document ends early") }
            defer { offset += count }
            return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
        }

        /// The argument of a head: the count, length or value its additional information gives;
        /// nil for the indefinite length (31).
        mutating func argument(_ info: UInt8) throws -> UInt64? {
            switch info {
            case 0..<24: return UInt64(info)
            case 24: return UInt64(try byte())
            case 25, 26, 27: return try take(1 << Int(info - 24)).reduce(0) { $0 << 8 | UInt64($1) }
            case 31: return nil
            default: throw Malformed(description: "reserved additional information \(info)")
            }
        }

        mutating func length(_ info: UInt8) throws -> Int? {
            guard let count = try argument(info) else { return nil }
            guard count <= UInt64(bytes.count) else { throw Malformed(description: "a length of \(count) is longer than the document") }
            return Int(count)
        }

        /// Whether an indefinite container ends here (and consumes its break).
        mutating func isBreak() throws -> Bool {
            guard offset < bytes.count else { throw Malformed(description: "the document ends early") }
            if bytes[offset] == 0xFF {
                offset += 1
                return true
            }
            return false
        }

        /// A definite or indefinite string of `major` type 2 or 3; `body` sees its bytes in one piece.
        mutating func string<T>(major: UInt8, info: UInt8, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
            if let count = try length(info) { return try body(try take(count)) }
            var joined: [UInt8] = []
            while try !isBreak() {
                let head = try byte()
                guard head >> 5 == major, let count = try length(head & 0x1F) else {
                    throw Malformed(description: "an indefinite string holds a chunk of another type")
                }
                joined += try take(count)
            }
            return try joined.withUnsafeBytes(body)
        }

        mutating func text() throws -> String {
            let head = try byte()
            guard head >> 5 == 3 else { throw Malformed(description: "major type \(head >> 5) where text was expected") }
            return try string(major: 3, info: head & 0x1F) { raw in
                guard let text = String(validating: raw.bindMemory(to: UInt8.self), as: UTF8.self) else {
                    throw Malformed(description: "a text string that is not UTF-8")
                }
                return text
            }
        }

        mutating func blob() throws -> Data {
            let head = try byte()
            guard head >> 5 == 2 else { throw Malformed(description: "major type \(head >> 5) where a byte string was expected") }
            return try string(major: 2, info: head & 0x1F) { Data($0) }
        }

        /// Tags a number may carry; more is a hostile document, not a timestamp.
        static let tagLimit = 4

        /// A number, integer or float; tag 1 (epoch milliseconds) is read as epoch seconds. Tags
        /// are read in a loop, never by recursion, and at most ``tagLimit`` of them.
        mutating func number() throws -> Double {
            var milliseconds = false
            var head = try byte()
            var tags = 0
            while head >> 5 == 6 {
                tags += 1
                guard tags <= Self.tagLimit else { throw Malformed(description: "more than \(Self.tagLimit) tags on one number (at byte \(offset - 1))") }
                guard let tag = try argument(head & 0x1F) else { throw Malformed(description: "an indefinite tag") }
                if tag == 1 { milliseconds = true }
                head = try byte()
            }
            let value = try untaggedNumber(head)
            return milliseconds ? value / 1000 : value
        }

        private mutating func untaggedNumber(_ head: UInt8) throws -> Double {
            let info = head & 0x1F
            switch head >> 5 {
            case 0:
                guard let value = try argument(info) else { throw Malformed(description: "an indefinite integer") }
                return Double(value)
            case 1:
                guard let value = try argument(info) else { throw Malformed(description: "an indefinite integer") }
                return -1 - Double(value)
            case 7:
                switch info {
                case 25: return Double(Float16(bitPattern: UInt16(try take(2).reduce(0) { $0 << 8 | UInt64($1) })))
                case 26: return Double(Float(bitPattern: UInt32(try take(4).reduce(0) { $0 << 8 | UInt64($1) })))
                case 27: return Double(bitPattern: try take(8).reduce(0) { $0 << 8 | UInt64($1) })
                default: throw Malformed(description: "simple value \(info) where a number was expected")
                }
            default: throw Malformed(description: "major type \(head >> 5) where a number was expected")
            }
        }

        /// Whether a null (or undefined) comes next; consumed if so.
        mutating func isNull() -> Bool {
            if offset < bytes.count, bytes[offset] == 0xF6 || bytes[offset] == 0xF7 {
                offset += 1
                return true
            }
            return false
        }

        /// The members of a map, one key at a time.
        mutating func members(_ body: (inout Reader, String) throws -> Void) throws {
            let head = try byte()
            guard head >> 5 == 5 else { throw Malformed(description: "major type \(head >> 5) where a map was expected") }
            if let count = try length(head & 0x1F) {
                for _ in 0..<count {
                    let key = try text()
                    try body(&self, key)
                }
            } else {
                while try !isBreak() {
                    let key = try text()
                    try body(&self, key)
                }
            }
        }

        /// The items of an array.
        mutating func items(_ body: (inout Reader) throws -> Void) throws {
            let head = try byte()
            guard head >> 5 == 4 else { throw Malformed(description: "major type \(head >> 5) where an array was expected") }
            if let count = try length(head & 0x1F) {
                for _ in 0..<count { try body(&self) }
            } else {
                while try !isBreak() { try body(&self) }
            }
        }

        mutating func skipValue() throws {
            var ignored: [UInt8] = []
            try json(into: &ignored)
        }

        static func missingMember() -> any Error { Malformed(description: "a record without SequenceNumber, Data or PartitionKey") }

        /// The next value as JSON text: byte strings as base64, tag 1 as epoch seconds, other
        /// tags read through. For the rare members a reader does not read by hand, and for
        /// requests the endpoint answers from their JSON document.
        mutating func json(depth: Int = 0, into out: inout [UInt8]) throws {
            guard depth < 64 else { throw Malformed(description: "nested more than 64 deep") }
            guard offset < bytes.count else { throw Malformed(description: "the document ends early") }
            let head = bytes[offset]
            let info = head & 0x1F
            switch head >> 5 {
            case 0, 1: try writeJSONNumber(try number(), into: &out)
            case 6:
                offset += 1
                guard let tag = try argument(info) else { throw Malformed(description: "an indefinite tag") }
                if tag == 1 {
                    try writeJSONNumber(try number() / 1000, into: &out)  // epoch milliseconds, as seconds
                } else {
                    try json(depth: depth + 1, into: &out)  // any other tag: its content as it is
                }
            case 2:
                out.append(UInt8(ascii: "\""))
                out += try blob().base64EncodedString().utf8
                out.append(UInt8(ascii: "\""))
            case 3: KinesisWire.appendString(try text(), to: &out)
            case 4:
                out.append(UInt8(ascii: "["))
                var first = true
                try items { reader in
                    if !first { out.append(UInt8(ascii: ",")) }
                    first = false
                    try reader.json(depth: depth + 1, into: &out)
                }
                out.append(UInt8(ascii: "]"))
            case 5:
                out.append(UInt8(ascii: "{"))
                var first = true
                try members { reader, key in
                    if !first { out.append(UInt8(ascii: ",")) }
                    first = false
                    KinesisWire.appendString(key, to: &out)
                    out.append(UInt8(ascii: ":"))
                    try reader.json(depth: depth + 1, into: &out)
                }
                out.append(UInt8(ascii: "}"))
            case 7:
                switch info {
                case 20: offset += 1; out += "false".utf8
                case 21: offset += 1; out += "true".utf8
                case 22, 23: offset += 1; out += "null".utf8
                default: try writeJSONNumber(try number(), into: &out)
                }
            default: throw Malformed(description: "major type \(head >> 5)")
            }
        }

        private func writeJSONNumber(_ number: Double, into out: inout [UInt8]) throws {
            guard number.isFinite else { throw Malformed(description: "a number JSON cannot hold") }
            if number.rounded() == number, abs(number) < 9.0e15 {
                out += String(Int64(number)).utf8
            } else {
                out += "\(number)".utf8
            }
        }
    }

    /// The JSON document a CBOR document stands for (see ``Reader/json(depth:into:)``).
    package static func json(fromCBOR bytes: UnsafeRawBufferPointer) throws -> [UInt8] {
        var reader = Reader(bytes: bytes)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 4 / 3 + 16)
        try reader.json(into: &out)
        guard reader.atEnd else { throw Malformed(description: "\(bytes.count - reader.offset) bytes after the document") }
        return out
    }

    /// ``json(fromCBOR:)-(UnsafeRawBufferPointer)`` of an array's bytes.
    package static func json(fromCBOR bytes: [UInt8]) throws -> [UInt8] {
        try bytes.withUnsafeBytes { try json(fromCBOR: $0) }
    }

    /// A GetRecords answer read straight into its shape: records by hand, anything rarer
    /// (ChildShards) through its JSON form.
    package static func decodeGetRecords(raw: UnsafeRawBufferPointer) throws -> GetRecordsOutput {
        var reader = Reader(bytes: raw)
        var output = GetRecordsOutput(records: [], nextShardIterator: nil, millisBehindLatest: nil)
        try reader.members { reader, key in
            switch key {
            case "Records":
                guard !reader.isNull() else { return }
                try reader.items { reader in output.records.append(try reader.record()) }
            case "NextShardIterator": output.nextShardIterator = reader.isNull() ? nil : try reader.text()
            case "MillisBehindLatest": output.millisBehindLatest = reader.isNull() ? nil : Int(exactly: try reader.number())
            case "ChildShards":
                var json: [UInt8] = []
                try reader.json(into: &json)
                output.childShards = try KinesisWire.makeDecoder().decode([ChildShard]?.self, from: Data(json))
            default: try reader.skipValue()
            }
        }
        guard reader.atEnd else { throw Malformed(description: "\(raw.count - reader.offset) bytes after the document") }
        return output
    }

    // MARK: - Writing

    package static func head(_ major: UInt8, _ argument: UInt64, into out: inout [UInt8]) {
        let type = major << 5
        switch argument {
        case 0..<24: out.append(type | UInt8(argument))
        case 24...0xFF: out += [type | 24, UInt8(argument)]
        case 0x100...0xFFFF: out.append(type | 25); out += withUnsafeBytes(of: UInt16(argument).bigEndian, Array.init)
        case 0x1_0000...0xFFFF_FFFF: out.append(type | 26); out += withUnsafeBytes(of: UInt32(argument).bigEndian, Array.init)
        default: out.append(type | 27); out += withUnsafeBytes(of: argument.bigEndian, Array.init)
        }
    }

    package static func writeText(_ text: String, into out: inout [UInt8]) {
        head(3, UInt64(text.utf8.count), into: &out)
        out += text.utf8
    }

    /// A whole number as a CBOR integer, anything else as a double.
    package static func writeNumber(_ number: Double, into out: inout [UInt8]) {
        if number.rounded() == number, abs(number) < 9.0e18 {
            if number >= 0 { head(0, UInt64(number), into: &out) } else { head(1, UInt64(-1 - number), into: &out) }
        } else {
            out.append(0xFB)
            out += withUnsafeBytes(of: number.bitPattern.bigEndian, Array.init)
        }
    }

    /// A GetRecords answer in CBOR, written directly (the endpoint's hot path): the same
    /// document its JSON answer converts to.
    package static func encodeGetRecords(_ output: GetRecordsOutput) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(output.records.reduce(64) { $0 + $1.data.count + $1.partitionKey.utf8.count + 120 })
        let members = [output.childShards != nil, output.millisBehindLatest != nil, output.nextShardIterator != nil, true]
        head(5, UInt64(members.filter { $0 }.count), into: &out)
        if let children = output.childShards {
            writeText("ChildShards", into: &out)
            head(4, UInt64(children.count), into: &out)
            for child in children {
                head(5, 3, into: &out)
                writeText("HashKeyRange", into: &out)
                head(5, 2, into: &out)
                writeText("EndingHashKey", into: &out)
                writeText(child.hashKeyRange.endingHashKey, into: &out)
                writeText("StartingHashKey", into: &out)
                writeText(child.hashKeyRange.startingHashKey, into: &out)
                writeText("ParentShards", into: &out)
                head(4, UInt64(child.parentShards.count), into: &out)
                for parent in child.parentShards { writeText(parent, into: &out) }
                writeText("ShardId", into: &out)
                writeText(child.shardId, into: &out)
            }
        }
        if let behind = output.millisBehindLatest {
            writeText("MillisBehindLatest", into: &out)
            writeNumber(Double(behind), into: &out)
        }
        if let next = output.nextShardIterator {
            writeText("NextShardIterator", into: &out)
            writeText(next, into: &out)
        }
        writeText("Records", into: &out)
        head(4, UInt64(output.records.count), into: &out)
        for record in output.records {
            head(5, UInt64(3 + (record.approximateArrivalTimestamp == nil ? 0 : 1) + (record.encryptionType == nil ? 0 : 1)), into: &out)
            if let arrival = record.approximateArrivalTimestamp {
                writeText("ApproximateArrivalTimestamp", into: &out)
                head(6, 1, into: &out)
                writeNumber((arrival.timeIntervalSince1970 * 1000).rounded(), into: &out)
            }
            writeText("Data", into: &out)
            head(2, UInt64(record.data.count), into: &out)
            out += record.data
            if let encryption = record.encryptionType {
                writeText("EncryptionType", into: &out)
                writeText(encryption.rawValue, into: &out)
            }
            writeText("PartitionKey", into: &out)
            writeText(record.partitionKey, into: &out)
            writeText("SequenceNumber", into: &out)
            writeText(record.sequenceNumber, into: &out)
        }
        return out
    }

    /// A GetRecords request in CBOR.
    package static func encodeGetRecordsInput(_ input: GetRecordsInput) -> [UInt8] {
        var out: [UInt8] = []
        head(5, input.limit == nil ? 1 : 2, into: &out)
        if let limit = input.limit {
            writeText("Limit", into: &out)
            writeNumber(Double(limit), into: &out)
        }
        writeText("ShardIterator", into: &out)
        writeText(input.shardIterator, into: &out)
        return out
    }
}
