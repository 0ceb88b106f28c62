import Foundation
import Kinesis
import KinesisEngine

/// A payload template compiled once into literal bytes and generators, so that rendering an
/// event is appending bytes to a buffer: no JSON encoder on the hot path.
///
/// A string member may hold `{{generator args}}` placeholders. A string that is exactly one
/// placeholder of a number or boolean generator becomes that JSON number or boolean.
struct Template: Sendable {
    enum Generator: Sendable, Hashable {
        case uuid
        case sequence
        case int(Int64, Int64)
        case float(Double, Double, decimals: Int)
        case pick([[UInt8]])
        case bool
        case now
        case epochMillis
        case key(pool: Int)
        case text(Int)
        case bytes(Int)
        /// N characters of 0-9a-z, as JavaScript's `Math.random().toString(36).substr(2, N)`.
        case base36(Int)
        case type

        var isNumeric: Bool {
            switch self {
            case .sequence, .int, .float, .bool, .epochMillis: true
            default: false
            }
        }
    }

    enum Piece: Sendable {
        case literal([UInt8])
        case generate(Generator)
        case beginCapture(Int)
        case endCapture(Int)
    }

    static let generatorHelp = [
        "uuid", "seq", "int MIN MAX", "float MIN MAX [DECIMALS]", "pick A B ...", "bool", "now", "epochMillis",
        "key POOL", "text N", "bytes N", "base36 N", "type",
    ]

    var pieces: [Piece]
    /// Paths captured for partition keys, in capture-index order.
    var captures: [String]
    /// Pad to this size with a `_pad` member; the template is an object.
    var size: Int?
    var isEmptyObject: Bool

    /// Compiles `template`; problems are reported with their JSON paths, and `capturePaths`
    /// (member paths such as `user.id`) are marked so their rendered text can become a key.
    static func compile(
        _ template: JSONValue, path: String, eventType: String, pools: [String], capturePaths: [String], size: Int?,
        problems: inout [ScenarioProblem]
    ) -> Template {
        var compiler = Compiler(pools: pools, eventType: eventType, capturePaths: capturePaths)
        compiler.emit(template, jsonPath: path, memberPath: "", problems: &problems)
        compiler.flush()
        for (index, wanted) in capturePaths.enumerated() where !compiler.captured.contains(index) {
            let members = compiler.memberPaths.sorted().joined(separator: ", ")
            let hint = Suggest.hint(for: wanted, in: compiler.memberPaths)
            problems.append(
                ScenarioProblem(
                    path: path,
                    message: "the partition key names member \"\(wanted)\", which the template does not have\(hint) (it has: \(members))"))
        }
        if size != nil, case .object = template {} else if size != nil {
            problems.append(ScenarioProblem(path: path, message: "\"size\" pads an object; this template is not a JSON object"))
        }
        var isEmpty = false
        if case .object(let members) = template, members.isEmpty { isEmpty = true }
        return Template(pieces: compiler.pieces, captures: capturePaths, size: size, isEmptyObject: isEmpty)
    }

    private struct Compiler {
        let pools: [String]
        let eventType: String
        let capturePaths: [String]
        var pieces: [Piece] = []
        var pending: [UInt8] = []
        var captured: Set<Int> = []
        var memberPaths: [String] = []

        mutating func flush() {
            if !pending.isEmpty { pieces.append(.literal(pending)) }
            pending = []
        }

        mutating func literal(_ text: String) { pending += Array(text.utf8) }

        mutating func emit(_ value: JSONValue, jsonPath: String, memberPath: String, problems: inout [ScenarioProblem]) {
            let capture = memberPath.isEmpty ? nil : capturePaths.firstIndex(of: memberPath)
            if let capture {
                flush()
                pieces.append(.beginCapture(capture))
                captured.insert(capture)
            }
            defer {
                if let capture {
                    flush()
                    pieces.append(.endCapture(capture))
                }
            }
            switch value {
            case .null: literal("null")
            case .bool(let flag): literal(flag ? "true" : "false")
            case .number(let number): literal(Template.formatNumber(number))
            case .string(let text): emitString(text, jsonPath: jsonPath, problems: &problems)
            case .array(let items):
                literal("[")
                for (index, item) in items.enumerated() {
                    if index > 0 { literal(",") }
                    emit(item, jsonPath: "\(jsonPath)[\(index)]", memberPath: "", problems: &problems)
                }
                literal("]")
            case .object(let members):
                literal("{")
                for (index, key) in members.keys.sorted().enumerated() {
                    if index > 0 { literal(",") }
                    pending += Template.escaped(key)
                    literal(":")
                    let childMember = memberPath.isEmpty ? key : "\(memberPath).\(key)"
                    memberPaths.append(childMember)
                    emit(members[key]!, jsonPath: ScenarioProblem.child(jsonPath, key), memberPath: childMember, problems: &problems)
                }
                literal("}")
            }
        }

        mutating func emitString(_ text: String, jsonPath: String, problems: inout [ScenarioProblem]) {
            var parts: [(String, Generator?)] = []
            var rest = Substring(text)
            while let open = rest.range(of: "{{") {
                parts.append((String(rest[..<open.lowerBound]), nil))
                guard let close = rest[open.upperBound...].range(of: "}}") else {
                    problems.append(ScenarioProblem(path: jsonPath, message: "\"{{\" without a closing \"}}\""))
                    return
                }
                let spec = String(rest[open.upperBound..<close.lowerBound])
                switch parse(spec) {
                case .success(let generator): parts.append(("", generator))
                case .failure(let problem):
                    problems.append(ScenarioProblem(path: jsonPath, message: problem.message))
                    return
                }
                rest = rest[close.upperBound...]
            }
            parts.append((String(rest), nil))
            let meaningful = parts.filter { !$0.0.isEmpty || $0.1 != nil }
            if meaningful.count == 1, let generator = meaningful[0].1, generator.isNumeric {
                flush()
                pieces.append(.generate(generator))
                return
            }
            literal("\"")
            for (prefix, generator) in parts {
                let escapedText = Template.escaped(prefix)
                pending += escapedText.dropFirst().dropLast()
                if let generator {
                    flush()
                    pieces.append(.generate(generator))
                }
            }
            literal("\"")
        }

        func parse(_ spec: String) -> Result<Generator, ScenarioProblem> {
            let words = spec.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            func fail(_ message: String) -> Result<Generator, ScenarioProblem> { .failure(ScenarioProblem(path: "", message: message)) }
            guard let name = words.first else { return fail("empty placeholder \"{{}}\"; generators: \(Template.generatorHelp.joined(separator: ", "))") }
            let args = Array(words.dropFirst())
            func count(_ what: String) -> Int? { args.count == 1 ? Int(args[0]).flatMap { $0 >= 0 && $0 <= ServiceLimits.recordMaxBytes ? $0 : nil } : nil }
            switch name {
            case "uuid": return args.isEmpty ? .success(.uuid) : fail("{{uuid}} takes no arguments")
            case "seq", "sequence": return args.isEmpty ? .success(.sequence) : fail("{{seq}} takes no arguments")
            case "bool": return .success(.bool)
            case "now": return .success(.now)
            case "epochMillis": return .success(.epochMillis)
            case "type": return .success(.type)
            case "int":
                guard args.count == 2, let low = Int64(args[0]), let high = Int64(args[1]), low <= high else {
                    return fail("{{int MIN MAX}} takes two whole numbers with MIN <= MAX; got \"{{\(spec)}}\"")
                }
                return .success(.int(low, high))
            case "float":
                guard (2...3).contains(args.count), let low = Double(args[0]), let high = Double(args[1]), low <= high,
                    args.count == 2 || Int(args[2]).map({ (0...9).contains($0) }) == true
                else {
                    return fail("{{float MIN MAX [DECIMALS]}} takes two numbers with MIN <= MAX and 0 to 9 decimals; got \"{{\(spec)}}\"")
                }
                return .success(.float(low, high, decimals: args.count == 3 ? Int(args[2])! : 2))
            case "pick":
                guard !args.isEmpty else { return fail("{{pick A B ...}} needs at least one value") }
                return .success(.pick(args.map { Array(Template.escaped($0).dropFirst().dropLast()) }))
            case "key":
                guard args.count == 1 else { return fail("{{key POOL}} names one key pool") }
                guard let index = pools.firstIndex(of: args[0]) else {
                    let hint = Suggest.hint(for: args[0], in: pools)
                    return fail("no key pool \"\(args[0])\" in \"keys\"\(hint) (pools: \(pools.sorted().joined(separator: ", ")))")
                }
                return .success(.key(pool: index))
            case "text":
                guard let n = count("text") else { return fail("{{text N}} takes a length from 0 to 1048576") }
                return .success(.text(n))
            case "bytes":
                guard let n = count("bytes") else { return fail("{{bytes N}} takes a byte count from 0 to 1048576") }
                return .success(.bytes(n))
            case "base36":
                guard let n = count("base36") else { return fail("{{base36 N}} takes a length from 0 to 1048576") }
                return .success(.base36(n))
            default:
                let names = Template.generatorHelp.map { String($0.split(separator: " ")[0]) }
                let hint = Suggest.hint(for: name, in: names)
                return fail("unknown generator \"\(name)\"\(hint) Generators: \(Template.generatorHelp.joined(separator: ", "))")
            }
        }
    }

    static func formatNumber(_ number: Double) -> String {
        if number == number.rounded(), abs(number) < 9e15 { return String(Int64(number)) }
        return "\(number)"
    }

    /// `text` as a JSON string literal, quotes included.
    static func escaped(_ text: String) -> [UInt8] {
        var out: [UInt8] = [0x22]
        for byte in text.utf8 {
            switch byte {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x0A: out += [0x5C, 0x6E]
            case 0x0D: out += [0x5C, 0x72]
            case 0x09: out += [0x5C, 0x74]
            case 0..<0x20: out += Array(String(format: "\\u%04x", byte).utf8)
            default: out.append(byte)
            }
        }
        out.append(0x22)
        return out
    }
}
