import Foundation
import Kinesis
import KinesisEngine

extension Scenario {
    /// Reads and checks a scenario file.
    package static func load(path: String) throws(ScenarioErrors) -> Scenario {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ScenarioErrors(file: path, problems: [ScenarioProblem(path: "$", message: "no such file")])
        }
        if isDirectory.boolValue {
            throw ScenarioErrors(file: path, problems: [ScenarioProblem(path: "$", message: "is a directory, not a scenario file")])
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ScenarioErrors(file: path, problems: [ScenarioProblem(path: "$", message: "cannot read the file (permissions?)")])
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
        let oversized = recordSizeProblems(scenario)
        guard oversized.isEmpty else { throw ScenarioErrors(file: file, problems: oversized) }
        return scenario
    }

    /// Renders a few events of every type and names the types whose records (data plus
    /// partition key) would be over Kinesis's 1 MiB limit, so that `validate` refuses a
    /// scenario in which every event would fail.
    static func recordSizeProblems(_ scenario: Scenario, samples: Int = 8) -> [ScenarioProblem] {
        var source = EventSource(scenario: scenario, shardMap: .even(count: min(scenario.stream.shards ?? 4, 64)))
        var problems: [ScenarioProblem] = []
        for (index, spec) in scenario.events.enumerated() {
            var largest = 0
            var keyBytes = 0
            for _ in 0..<samples {
                let event = source.next(type: index)
                let size = event.data.count + event.partitionKey.utf8.count
                if size > largest { (largest, keyBytes) = (size, event.partitionKey.utf8.count) }
            }
            if largest > ServiceLimits.recordMaxBytes {
                problems.append(
                    ScenarioProblem(
                        path: "$.events[\(index)]" + (spec.size != nil ? ".size" : ".template"),
                        message:
                            "a \(spec.type) record renders to \(largest - keyBytes) bytes plus a \(keyBytes)-byte partition key: \(largest) bytes, over Kinesis's limit of \(ServiceLimits.recordMaxBytes) bytes per record (data and key together)"
                    ))
            }
        }
        return problems
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
