import Foundation
import KinesisEngine

extension Scenario {
    /// Reads and checks a scenario file.
    package static func load(path: String) throws(ScenarioErrors) -> Scenario {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ScenarioErrors(file: path, problems: [ScenarioProblem(path: "$", message: "cannot read the file")])
        }
        return try parse(data, file: path)
    }

    /// Decodes and checks a scenario; throws every problem found, each with its JSON path.
    package static func parse(_ data: Data, file: String = "scenario") throws(ScenarioErrors) -> Scenario {
        let root: JSONValue
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw ScenarioErrors(file: file, problems: [ScenarioProblem(path: "$", message: "not valid JSON: \(Self.syntaxMessage(data))")])
        }
        var reader = ScenarioReader()
        let scenario = reader.scenario(root, source: String(decoding: data, as: UTF8.self))
        guard let scenario, reader.problems.isEmpty else {
            throw ScenarioErrors(file: file, problems: reader.problems)
        }
        return scenario
    }

    /// JSONDecoder does not say where the syntax broke; JSONSerialization does, by character
    /// offset, which is turned into a line and column here (only on this failure path).
    private static func syntaxMessage(_ data: Data) -> String {
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            return "the document is not a JSON value"
        } catch {
            var message = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? "\(error)"
            if let range = message.range(of: "around character "),
                let offset = Int(message[range.upperBound...].prefix { $0.isNumber })
            {
                let prefix = String(decoding: data.prefix(offset), as: UTF8.self)
                let line = prefix.filter { $0 == "\n" }.count + 1
                let column = prefix.count - (prefix.lastIndex(of: "\n").map { prefix.distance(from: prefix.startIndex, to: $0) + 1 } ?? 0) + 1
                message += " (line \(line), column \(column))"
            }
            return message
        }
    }
}
