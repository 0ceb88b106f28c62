import Foundation
import Kinesis
import KinesisEngine

/// Walks the parsed JSON, collecting problems instead of stopping at the first.
struct ScenarioReader {
    var problems: [ScenarioProblem] = []

    mutating func fail(_ path: String, _ message: String) { problems.append(ScenarioProblem(path: path, message: message)) }

    /// The members of an object, after reporting unknown keys (with a suggestion) and missing required ones.
    mutating func object(_ value: JSONValue?, _ path: String, allowed: [String], required: [String] = []) -> [String: JSONValue]? {
        guard let value else { return nil }
        guard case .object(let members) = value else {
            fail(path, "expected an object, got \(describe(value))")
            return nil
        }
        for key in members.keys.sorted() where !allowed.contains(key) {
            let hint = Suggest.hint(for: key, in: allowed)
            fail(ScenarioProblem.child(path, key), "unknown key \"\(key)\"\(hint) (allowed here: \(allowed.joined(separator: ", ")))")
        }
        for key in required where members[key] == nil {
            fail(ScenarioProblem.child(path, key), "required, missing")
        }
        return members
    }

    func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let flag): "\(flag)"
        case .number(let number): Template.formatNumber(number)
        case .string(let text): "\"\(text)\""
        case .array: "an array"
        case .object: "an object"
        }
    }

    mutating func string(_ value: JSONValue?, _ path: String, nonEmpty: Bool = true) -> String? {
        guard let value else { return nil }
        guard case .string(let text) = value else {
            fail(path, "expected a string, got \(describe(value))")
            return nil
        }
        if nonEmpty, text.isEmpty {
            fail(path, "expected a non-empty string")
            return nil
        }
        return text
    }

    /// A name that is stored in SQLite and matched as text: printable, at most 256 characters.
    /// A control character (a NUL above all) would be stored cut short and match nothing.
    mutating func name(_ value: JSONValue?, _ path: String, what: String) -> String? {
        guard let text = string(value, path) else { return nil }
        if let bad = text.unicodeScalars.firstIndex(where: { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format }) {
            let scalar = text.unicodeScalars[bad]
            let offset = text.unicodeScalars.distance(from: text.unicodeScalars.startIndex, to: bad)
            fail(path, "\(what) must be printable text: it has U+\(String(format: "%04X", scalar.value)) at character \(offset)")
            return nil
        }
        guard text.count <= 256 else {
            fail(path, "\(what) must be at most 256 characters, got \(text.count)")
            return nil
        }
        return text
    }

    mutating func number(_ value: JSONValue?, _ path: String, in range: ClosedRange<Double>, what: String = "a number") -> Double? {
        guard let value else { return nil }
        guard case .number(let number) = value, range.contains(number) else {
            fail(path, "expected \(what) from \(Template.formatNumber(range.lowerBound)) to \(Template.formatNumber(range.upperBound)), got \(describe(value))")
            return nil
        }
        return number
    }

    mutating func integer(_ value: JSONValue?, _ path: String, in range: ClosedRange<Int>) -> Int? {
        guard let value else { return nil }
        // Int(exactly:) rather than comparing doubles: Double(Int.max) rounds up to 2^63, which
        // would pass the comparison and then trap in the conversion.
        guard case .number(let number) = value, let whole = Int(exactly: number), range.contains(whole) else {
            fail(path, "expected a whole number from \(range.lowerBound) to \(range.upperBound), got \(describe(value))")
            return nil
        }
        return whole
    }

    mutating func bool(_ value: JSONValue?, _ path: String) -> Bool? {
        guard let value else { return nil }
        guard case .bool(let flag) = value else {
            fail(path, "expected true or false, got \(describe(value))")
            return nil
        }
        return flag
    }

    mutating func duration(_ value: JSONValue?, _ path: String, positive: Bool = true) -> Duration? {
        guard let value else { return nil }
        guard case .string(let text) = value, let duration = DurationText.parse(text), !positive || duration > .zero else {
            fail(
                path,
                "expected a\(positive ? " positive" : "") duration such as \"500ms\", \"30s\", \"2m\" or \"1m30s\", at most \(DurationText.maximumText), got \(describe(value))"
            )
            return nil
        }
        return duration
    }

    mutating func oneOf(_ value: JSONValue?, _ path: String, _ choices: [String]) -> String? {
        guard let text = string(value, path) else { return nil }
        guard choices.contains(text) else {
            let hint = Suggest.hint(for: text, in: choices)
            fail(path, "expected one of \(choices.map { "\"\($0)\"" }.joined(separator: ", ")), got \"\(text)\"\(hint)")
            return nil
        }
        return text
    }
}
