import Foundation
import KinesisEngine

// `$.thresholds`: pass or fail conditions on the run's figures.
extension ScenarioReader {
    mutating func thresholdSpecs(_ value: JSONValue?) -> [Threshold] {
        guard let value else { return [] }
        guard case .object(let members) = value else {
            fail("$.thresholds", "expected an object such as {\"latency.p99\": \"< 200ms\"}, got \(describe(value))")
            return []
        }
        var thresholds: [Threshold] = []
        for metric in members.keys.sorted() {
            let path = ScenarioProblem.child("$.thresholds", metric)
            var expressions: [(String, String)] = []
            switch members[metric]! {
            case .string(let text): expressions = [(text, path)]
            case .array(let items):
                for (index, item) in items.enumerated() {
                    if let text = string(item, "\(path)[\(index)]") { expressions.append((text, "\(path)[\(index)]")) }
                }
            default: fail(path, "expected a condition such as \"< 200ms\" or an array of them")
            }
            for (text, where_) in expressions {
                do {
                    thresholds.append(try Threshold.parse(metric: metric, expression: text))
                } catch {
                    fail(where_, error.message)
                }
            }
        }
        return thresholds
    }
}
