import Foundation
import KinesisEngine

/// The Kinesis protocol in CBOR (`application/x-amz-cbor-1.1`), as the Java SDKs and the KCL
/// speak it by default: the same documents as JSON 1.1, with blobs as CBOR byte strings and
/// timestamps as tag 1 holding epoch **milliseconds** (AWS's reading of tag 1, not RFC 8949's
/// seconds). The endpoint turns a CBOR request into its JSON document, answers it as usual, and
/// turns the answer (errors included) back into CBOR.
enum CBOR {
    static let contentType = "application/x-amz-cbor-1.1"

    /// Members of the Kinesis model that hold a timestamp; in CBOR they travel as tag 1.
    static let timestampMembers: Set<String> = [
        "ApproximateArrivalTimestamp", "StreamCreationTimestamp", "ConsumerCreationTimestamp", "Timestamp", "StartedAt",
        "EndedAt", "EarliestAllowedEndAt",
    ]
    /// Members that hold a blob; in CBOR they travel as byte strings.
    static let blobMembers: Set<String> = ["Data"]

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    // MARK: - Reading

    /// The JSON document a CBOR request stands for. Byte strings become base64 text; tag 1
    /// (epoch milliseconds) becomes epoch seconds; other tags are read through.
    static func json(fromCBOR bytes: [UInt8]) throws -> Data {
        var reader = Reader(bytes: bytes)
        let value = try reader.value(depth: 0)
        guard reader.offset == bytes.count else { throw Malformed(description: "\(bytes.count - reader.offset) bytes after the document") }
        return try JSONEncoder().encode(value)
    }

    private struct Reader {
        let bytes: [UInt8]
        var offset = 0

        mutating func byte() throws -> UInt8 {
            guard offset < bytes.count else { throw Malformed(description: "the document ends early") }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
            guard count >= 0, bytes.count - offset >= count else { throw Malformed(description: "the document ends early") }
            defer { offset += count }
            return bytes[offset..<offset + count]
        }

        /// The argument of a head: the count, length or value its additional information gives.
        /// nil for the indefinite length (31).
        mutating func argument(_ info: UInt8) throws -> UInt64? {
            switch info {
            case 0..<24: return UInt64(info)
            case 24: return UInt64(try byte())
            case 25, 26, 27:
                let width = 1 << Int(info - 24)
                return try take(width).reduce(0) { $0 << 8 | UInt64($1) }
            case 31: return nil
            default: throw Malformed(description: "reserved additional information \(info)")
            }
        }

        mutating func length(_ info: UInt8) throws -> Int? {
            guard let count = try argument(info) else { return nil }
            guard count <= UInt64(bytes.count) else { throw Malformed(description: "a length of \(count) is longer than the document") }
            return Int(count)
        }

        /// A definite or indefinite string of `major` type 2 or 3, as bytes.
        mutating func string(major: UInt8, info: UInt8) throws -> [UInt8] {
            if let count = try length(info) { return Array(try take(count)) }
            var result: [UInt8] = []
            while true {
                let head = try byte()
                if head == 0xFF { return result }
                guard head >> 5 == major, let count = try length(head & 0x1F) else {
                    throw Malformed(description: "an indefinite string holds a chunk of another type")
                }
                result += try take(count)
            }
        }

        mutating func value(depth: Int) throws -> JSONValue {
            guard depth < 64 else { throw Malformed(description: "nested more than 64 deep") }
            let head = try byte()
            let major = head >> 5
            let info = head & 0x1F
            switch major {
            case 0:
                guard let number = try argument(info) else { throw Malformed(description: "an indefinite integer") }
                return .number(Double(number))
            case 1:
                guard let number = try argument(info) else { throw Malformed(description: "an indefinite integer") }
                return .number(-1 - Double(number))
            case 2:
                return .string(Data(try string(major: 2, info: info)).base64EncodedString())
            case 3:
                let utf8 = try string(major: 3, info: info)
                guard let text = String(validating: utf8, as: UTF8.self) else { throw Malformed(description: "a text string that is not UTF-8") }
                return .string(text)
            case 4:
                var items: [JSONValue] = []
                if let count = try length(info) {
                    for _ in 0..<count { items.append(try value(depth: depth + 1)) }
                } else {
                    while bytes.count > offset, bytes[offset] != 0xFF { items.append(try value(depth: depth + 1)) }
                    _ = try byte()
                }
                return .array(items)
            case 5:
                var object: [String: JSONValue] = [:]
                func member() throws {
                    guard case .string(let key) = try value(depth: depth + 1) else { throw Malformed(description: "a map key that is not text") }
                    object[key] = try value(depth: depth + 1)
                }
                if let count = try length(info) {
                    for _ in 0..<count { try member() }
                } else {
                    while bytes.count > offset, bytes[offset] != 0xFF { try member() }
                    _ = try byte()
                }
                return .object(object)
            case 6:
                guard let tag = try argument(info) else { throw Malformed(description: "an indefinite tag") }
                let content = try value(depth: depth + 1)
                if tag == 1, case .number(let millis) = content { return .number(millis / 1000) }
                return content
            default:
                switch info {
                case 20: return .bool(false)
                case 21: return .bool(true)
                case 22, 23: return .null
                case 25:
                    let bits = UInt16(try take(2).reduce(0) { $0 << 8 | UInt64($1) })
                    return .number(Double(Float16(bitPattern: bits)))
                case 26:
                    let bits = UInt32(try take(4).reduce(0) { $0 << 8 | UInt64($1) })
                    return .number(Double(Float(bitPattern: bits)))
                case 27:
                    return .number(Double(bitPattern: try take(8).reduce(0) { $0 << 8 | UInt64($1) }))
                default:
                    throw Malformed(description: "simple value \(info)")
                }
            }
        }
    }

    // MARK: - Writing

    /// The CBOR form of a JSON answer: `Data` members as byte strings, timestamps as tag 1
    /// with epoch milliseconds, whole numbers as integers.
    static func cbor(fromJSON json: [UInt8]) throws -> [UInt8] {
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(json))
        var out: [UInt8] = []
        out.reserveCapacity(json.count)
        write(value, member: nil, into: &out)
        return out
    }

    static func head(_ major: UInt8, _ argument: UInt64, into out: inout [UInt8]) {
        let type = major << 5
        switch argument {
        case 0..<24: out.append(type | UInt8(argument))
        case 24...0xFF: out += [type | 24, UInt8(argument)]
        case 0x100...0xFFFF: out.append(type | 25); out += withUnsafeBytes(of: UInt16(argument).bigEndian, Array.init)
        case 0x1_0000...0xFFFF_FFFF: out.append(type | 26); out += withUnsafeBytes(of: UInt32(argument).bigEndian, Array.init)
        default: out.append(type | 27); out += withUnsafeBytes(of: argument.bigEndian, Array.init)
        }
    }

    static func writeNumber(_ number: Double, into out: inout [UInt8]) {
        if number.rounded() == number, abs(number) < 9.0e18 {
            if number >= 0 { head(0, UInt64(number), into: &out) } else { head(1, UInt64(-1 - number), into: &out) }
        } else {
            out.append(0xFB)
            out += withUnsafeBytes(of: number.bitPattern.bigEndian, Array.init)
        }
    }

    static func writeText(_ text: String, into out: inout [UInt8]) {
        head(3, UInt64(text.utf8.count), into: &out)
        out += text.utf8
    }

    private static func write(_ value: JSONValue, member: String?, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(0xF6)
        case .bool(let flag): out.append(flag ? 0xF5 : 0xF4)
        case .number(let number):
            if let member, timestampMembers.contains(member) {
                head(6, 1, into: &out)
                writeNumber((number * 1000).rounded(), into: &out)
            } else {
                writeNumber(number, into: &out)
            }
        case .string(let text):
            if let member, blobMembers.contains(member), let bytes = Data(base64Encoded: text) {
                head(2, UInt64(bytes.count), into: &out)
                out += bytes
            } else {
                writeText(text, into: &out)
            }
        case .array(let items):
            head(4, UInt64(items.count), into: &out)
            // A list's items belong to its member: a list of blobs or timestamps stays one.
            for item in items { write(item, member: member, into: &out) }
        case .object(let object):
            head(5, UInt64(object.count), into: &out)
            for key in object.keys.sorted() {
                writeText(key, into: &out)
                write(object[key]!, member: key, into: &out)
            }
        }
    }
}
