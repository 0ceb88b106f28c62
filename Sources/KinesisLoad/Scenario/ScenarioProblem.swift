import Foundation

/// One thing wrong with a scenario: where (a JSON path such as `$.load.stages[1].duration`)
/// and what was expected.
public struct ScenarioProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var message: String
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { "\(path): \(message)" }

    static func child(_ path: String, _ key: String) -> String {
        key.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } && !key.isEmpty ? "\(path).\(key)" : "\(path)[\"\(key)\"]"
    }
}

/// Every problem of a scenario, so that one `validate` lists them all.
public struct ScenarioErrors: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var problems: [ScenarioProblem]
    public var description: String {
        "\(file): \(problems.count) problem\(problems.count == 1 ? "" : "s")\n" + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}
