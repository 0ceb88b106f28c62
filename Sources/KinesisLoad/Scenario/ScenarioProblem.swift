import Foundation

/// One thing wrong with a scenario: where (a JSON path such as `$.load.stages[1].duration`)
/// and what was expected.
package struct ScenarioProblem: Error, Sendable, Hashable, CustomStringConvertible {
    package var path: String
    package var message: String
    package init(path: String, message: String) {
        self.path = path
        self.message = message
    }
    package var description: String { "\(path): \(message)" }

    static func child(_ path: String, _ key: String) -> String {
        key.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } && !key.isEmpty ? "\(path).\(key)" : "\(path)[\"\(key)\"]"
    }
}

/// Every problem of a scenario, so that one `validate` lists them all.
package struct ScenarioErrors: Error, Sendable, CustomStringConvertible {
    package var file: String
    package var problems: [ScenarioProblem]
    package var description: String {
        "\(file): \(problems.count) problem\(problems.count == 1 ? "" : "s")\n" + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}
