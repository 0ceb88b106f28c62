import Foundation
import Kinesis

/// Checks inputs against ``KinesisSchema`` and words the failures as AWS does.
public enum Validator {
    /// At most this many errors are reported in one message, as AWS does.
    static let maximumErrors = 10

    /// Throws a `ValidationException` listing the constraints `fields` break, or returns.
    /// `recordMaxBytes` is the record size limit of the stream written to.
    public static func validate(
        _ operation: KinesisOperation, _ fields: [String: FieldValue], recordMaxBytes: Int = ServiceLimits.recordMaxBytes
    ) throws {
        var errors: [String] = []
        check(members: KinesisSchema.members(of: operation, recordMaxBytes: recordMaxBytes), in: fields, prefix: "", errors: &errors)
        guard !errors.isEmpty else { return }
        let count = errors.count
        let message = "\(count) validation error\(count == 1 ? "" : "s") detected: " + errors.joined(separator: "; ")
        throw KinesisError(code: .validation, message: message, httpStatus: 400, operation: operation.rawValue)
    }

    private static func check(members: [Member], in fields: [String: FieldValue], prefix: String, errors: inout [String]) {
        for member in members {
            let value = fields[member.name] ?? .null
            let path = prefix + member.name.lowercasingFirstLetter()
            for constraint in member.constraints {
                guard errors.count < maximumErrors else { return }
                if case .notNullWithout(let other) = constraint, let given = fields[other], !given.isNull { continue }
                if let failure = failure(of: constraint, value: value) {
                    errors.append("Value \(render(value, type: member.type)) at '\(path)' failed to satisfy constraint: \(failure)")
                }
            }
            if let failure = elementFailure(member, value), errors.count < maximumErrors {
                errors.append("Value \(render(value, type: member.type)) at '\(path)' failed to satisfy constraint: \(failure)")
            }
            if case .map(let entries) = value {
                for (kind, constraints, texts) in [("Map keys", member.keys, Array(entries.keys)), ("Map value", member.values, Array(entries.values))]
                where !constraints.isEmpty && errors.count < maximumErrors
                    && texts.contains(where: { text in constraints.contains { !holds($0, .string(text)) } })
                {
                    errors.append(
                        "Value \(render(value, type: member.type)) at '\(path)' failed to satisfy constraint: \(kind) must satisfy constraint: \(listing(constraints))")
                }
            }
            switch (member.type, value) {
            case (.structure(let children), .structure(let childFields)):
                check(members: children, in: childFields, prefix: path + ".", errors: &errors)
            case (.list(.structure(let children), _), .list(let items)):
                for (index, item) in items.enumerated() {
                    guard case .structure(let childFields) = item else { continue }
                    check(members: children, in: childFields, prefix: "\(path).\(index + 1).member.", errors: &errors)
                }
            default:
                break
            }
        }
    }

    /// "Member must satisfy constraint: [...]" when an element of a list breaks one of its
    /// element constraints; nil otherwise.
    static func elementFailure(_ member: Member, _ value: FieldValue) -> String? {
        guard !member.elements.isEmpty, case .list(let items) = value,
            items.contains(where: { item in member.elements.contains { !holds($0, item) } })
        else { return nil }
        return "Member must satisfy constraint: \(listing(member.elements))"
    }

    /// Every constraint of an element, in AWS's listing: the bounds the other way round from
    /// the model (`[Member must have length less than or equal to 128, Member must have length
    /// greater than or equal to 1]`).
    static func listing(_ constraints: [Constraint]) -> String {
        "[" + constraints.reversed().map(wording).joined(separator: ", ") + "]"
    }

    /// A constraint in AWS's words, as a failure names it.
    static func wording(_ constraint: Constraint) -> String {
        switch constraint {
        case .notNull, .notNullWithout: return "Member must not be null"
        case .pattern(let pattern): return "Member must satisfy regular expression pattern: \(pattern)"
        case .minLength(let minimum): return "Member must have length greater than or equal to \(minimum)"
        case .maxLength(let maximum): return "Member must have length less than or equal to \(maximum)"
        case .minValue(let minimum): return "Member must have value greater than or equal to \(minimum)"
        case .maxValue(let maximum): return "Member must have value less than or equal to \(maximum)"
        case .oneOf(let allowed): return "Member must satisfy enum value set: [\(allowed.joined(separator: ", "))]"
        }
    }

    /// The constraint's wording when `value` breaks it; nil when it holds.
    static func failure(of constraint: Constraint, value: FieldValue) -> String? {
        holds(constraint, value) ? nil : wording(constraint)
    }

    /// Whether `value` satisfies `constraint`. Only `notNull` applies to a missing value.
    private static func holds(_ constraint: Constraint, _ value: FieldValue) -> Bool {
        if case .null = value {
            switch constraint {
            case .notNull, .notNullWithout: return false
            default: return true
            }
        }
        switch constraint {
        case .notNull, .notNullWithout:
            return true
        case .pattern(let pattern):
            guard case .string(let text) = value else { return true }
            return matches(text, pattern: pattern)
        case .minLength(let minimum):
            guard let length = length(of: value) else { return true }
            return length >= minimum
        case .maxLength(let maximum):
            guard let length = length(of: value) else { return true }
            return length <= maximum
        case .minValue(let minimum):
            guard case .integer(let number) = value else { return true }
            return number >= minimum
        case .maxValue(let maximum):
            guard case .integer(let number) = value else { return true }
            return number <= maximum
        case .oneOf(let allowed):
            guard case .string(let text) = value else { return true }
            return allowed.contains(text)
        }
    }

    static func length(of value: FieldValue) -> Int? {
        switch value {
        case .string(let text): return text.count
        case .blob(let length): return length
        case .list(let items): return items.count
        case .map(let entries): return entries.count
        default: return nil
        }
    }

    /// How AWS shows a value in a validation message.
    static func render(_ value: FieldValue, type: FieldType) -> String {
        switch value {
        case .null: return "null"
        case .string(let text): return "'\(text)'"
        case .integer(let number): return "'\(number)'"
        case .boolean(let flag): return "'\(flag)'"
        case .timestamp(let seconds): return "'\(seconds)'"
        case .blob(let length): return "'java.nio.HeapByteBuffer[pos=0 lim=\(length) cap=\(length)]'"
        case .list(let items):
            // A list of structures shows each as its model class; a list of strings, the strings.
            if case .list(_, let memberName?) = type {
                return "'[\(items.map { _ in "com.amazonaws.kinesis.model.\(memberName)" }.joined(separator: ", "))]'"
            }
            return "'[\(items.map { if case .string(let text) = $0 { text } else { "" } }.joined(separator: ", "))]'"
        case .structure: return "'{}'"
        case .map(let entries): return "'{\(entries.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: ", "))}'"
        }
    }

    /// The model's patterns, matched by hand: they are few, and this is on every call's path.
    static func matches(_ text: String, pattern: String) -> Bool {
        switch pattern {
        case KinesisSchema.streamNamePattern:
            return !text.isEmpty && text.utf8.allSatisfy(isNameByte)
        case KinesisSchema.hashKeyPattern:
            return isDecimal(text, maximumDigits: 39)
        case KinesisSchema.sequenceNumberPattern:
            return isDecimal(text, maximumDigits: 129)
        default:
            return text.range(of: "^(\(pattern))$", options: .regularExpression) != nil
        }
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
            || byte == 0x5F || byte == 0x2E || byte == 0x2D
    }

    /// `0|([1-9]\d{0,n-1})`.
    static func isDecimal(_ text: String, maximumDigits: Int) -> Bool {
        let utf8 = text.utf8
        guard let first = utf8.first, utf8.count <= maximumDigits, utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return false
        }
        return first != 0x30 || utf8.count == 1
    }
}

extension String {
    func lowercasingFirstLetter() -> String {
        guard let first else { return self }
        return first.lowercased() + dropFirst()
    }
}

// MARK: - JSON bodies

extension Validator {
    /// Imposes the operation's member types on a parsed body. A value of the wrong JSON type
    /// is a `SerializationException` worded as AWS's Java deserializer words it; unknown
    /// members are ignored, as AWS ignores them.
    public static func fields(of operation: KinesisOperation, json: JSONValue) throws -> [String: FieldValue] {
        guard case .object(let object) = json else {
            throw serialization(operation, "Start of list found where not expected")
        }
        return try structure(KinesisSchema.members(of: operation), object, operation)
    }

    private static func structure(_ members: [Member], _ object: [String: JSONValue], _ operation: KinesisOperation) throws
        -> [String: FieldValue]
    {
        var fields: [String: FieldValue] = [:]
        for member in members {
            guard let raw = object[member.name] else { continue }
            let value = try convert(raw, member.type, operation)
            if value != .null { fields[member.name] = value }
        }
        return fields
    }

    static func serialization(_ operation: KinesisOperation, _ message: String) -> KinesisError {
        KinesisError(code: .serialization, message: message, httpStatus: 400, operation: operation.rawValue)
    }

    private static func convert(_ raw: JSONValue, _ type: FieldType, _ operation: KinesisOperation) throws -> FieldValue {
        if case .null = raw { return .null }
        func fail(_ message: String) -> KinesisError { serialization(operation, message) }
        func structural(_ raw: JSONValue) -> KinesisError? {
            switch raw {
            case .array: return fail("Start of list found where not expected")
            case .object: return fail("Start of structure or map found where not expected.")
            default: return nil
            }
        }
        switch type {
        case .string:
            switch raw {
            case .string(let text): return .string(text)
            case .bool: throw fail("class java.lang.Boolean can not be converted to an String")
            case .number: throw fail("class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String")
            default: throw structural(raw)!
            }
        case .integer:
            switch raw {
            case .number(let number):
                // AWS truncates: the fraction is dropped and the value held to a Java int, so
                // 1e20 is read as 2147483647 and then fails the member's range.
                let clamped = min(max(number.rounded(.down), Double(Int32.min)), Double(Int32.max))
                return .integer(Int64(clamped.isNaN ? 0 : clamped))
            case .bool: throw fail("class java.lang.Boolean can not be converted to an Integer")
            case .string: throw fail("class java.lang.String can not be converted to an Integer")
            default: throw structural(raw)!
            }
        case .timestamp:
            switch raw {
            case .number(let number): return .timestamp(number)
            case .bool: throw fail("class java.lang.Boolean can not be converted to milliseconds since epoch")
            case .string: throw fail("class java.lang.String can not be converted to milliseconds since epoch")
            default: throw structural(raw)!
            }
        case .boolean:
            switch raw {
            case .bool(let flag): return .boolean(flag)
            case .number: throw fail("class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an Boolean")
            case .string(let text): throw fail("'\(text.uppercased())' can not be converted to an Boolean")
            default: throw structural(raw)!
            }
        case .blob:
            switch raw {
            case .string(let text):
                return .blob(length: try base64Length(text, fail: fail))
            case .bool: throw fail("class java.lang.Boolean can not be converted to a Blob")
            case .number: throw fail("class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to a Blob")
            default: throw structural(raw)!
            }
        case .list(let element, _):
            switch raw {
            case .array(let items): return .list(try items.map { try convert($0, element, operation) })
            case .object: throw fail("Start of structure or map found where not expected.")
            default: throw fail("Expected list or null")
            }
        case .structure(let members):
            switch raw {
            case .object(let object): return .structure(try structure(members, object, operation))
            case .array: throw fail("Start of list found where not expected")
            default: throw fail("Expected null")
            }
        case .map:
            switch raw {
            case .object(let object):
                var entries: [String: String] = [:]
                for (key, value) in object {
                    guard case .string(let text) = try convert(value, .string, operation) else { continue }
                    entries[key] = text
                }
                return .map(entries)
            case .array: throw fail("Start of list found where not expected")
            default: throw fail("Expected map or null")
            }
        }
    }

    /// The decoded length of a base64 string, with AWS's complaints about bad ones.
    static func base64Length(_ text: String, fail: (String) -> KinesisError) throws -> Int {
        let bytes = text.utf8
        guard bytes.count % 4 == 0 else {
            throw fail("'\(text)' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: \(bytes.count)")
        }
        var padding = 0
        for (offset, byte) in bytes.enumerated() {
            let isAlphabet = (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x2B || byte == 0x2F
            if byte == 0x3D {
                guard offset >= bytes.count - 2 else {
                    throw fail("'\(text)' can not be converted to a Blob: Invalid Base64 character: '='")
                }
                padding += 1
            } else if !isAlphabet || padding > 0 {
                let character = padding > 0 ? "=" : String(UnicodeScalar(byte))
                throw fail("'\(text)' can not be converted to a Blob: Invalid Base64 character: '\(character)'")
            }
        }
        guard hasCanonicalEnding(text) else {
            throw fail("'\(text)' can not be converted to a Blob: Invalid last non-pad Base64 character dectected")
        }
        return bytes.count / 4 * 3 - padding
    }

    /// Whether the character before a base64 string's padding carries only bits its length
    /// keeps: "+/+=" decodes to two bytes that encode back as "+/8=", which AWS refuses.
    public static func hasCanonicalEnding(_ text: String) -> Bool {
        let bytes = text.utf8
        guard bytes.last == 0x3D else { return true }
        var end = bytes.endIndex
        var padding = 0
        while end > bytes.startIndex, bytes[bytes.index(before: end)] == 0x3D, padding < 2 {
            end = bytes.index(before: end)
            padding += 1
        }
        guard end > bytes.startIndex else { return true }
        let unused: UInt8 = padding == 1 ? 0b11 : 0b1111
        return base64Value(bytes[bytes.index(before: end)]) & unused == 0
    }

    private static func base64Value(_ byte: UInt8) -> UInt8 {
        switch byte {
        case 0x41...0x5A: return byte - 0x41
        case 0x61...0x7A: return byte - 0x61 + 26
        case 0x30...0x39: return byte - 0x30 + 52
        case 0x2B: return 62
        default: return 63
        }
    }
}

// MARK: - Typed inputs

// Typed inputs reach the validator as fields through `FieldValueEncoder`, which reads the wire
// names from their `CodingKeys`. The three calls on the hot path of a load test (PutRecord,
// PutRecords, GetRecords) build their fields by hand instead (no encoder, no boxes per entry); a test
// checks that they match what the encoder produces, so the names cannot drift.

extension FieldValue {
    var isNull: Bool { if case .null = self { true } else { false } }
    init(_ text: String?) { self = text.map(FieldValue.string) ?? .null }
    init(_ number: Int?) { self = number.map { .integer(Int64($0)) } ?? .null }
}

extension PutRecordInput {
    var validationFields: [String: FieldValue] {
        [
            "StreamName": FieldValue(streamName), "Data": .blob(length: data.count), "PartitionKey": .string(partitionKey),
            "ExplicitHashKey": FieldValue(explicitHashKey), "SequenceNumberForOrdering": FieldValue(sequenceNumberForOrdering),
            "StreamARN": FieldValue(streamARN), "StreamId": FieldValue(streamId),
        ]
    }
}

extension PutRecordsInput {
    var validationFields: [String: FieldValue] {
        [
            "StreamName": FieldValue(streamName), "StreamARN": FieldValue(streamARN), "StreamId": FieldValue(streamId),
            "Records": .list(
                records.map { entry in
                    .structure([
                        "Data": .blob(length: entry.data.count), "PartitionKey": .string(entry.partitionKey),
                        "ExplicitHashKey": FieldValue(entry.explicitHashKey),
                    ])
                }),
        ]
    }
}

extension GetRecordsInput {
    var validationFields: [String: FieldValue] { ["ShardIterator": .string(shardIterator), "Limit": FieldValue(limit)] }
}
