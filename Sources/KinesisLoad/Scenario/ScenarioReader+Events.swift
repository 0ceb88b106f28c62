import Foundation
import Kinesis
import KinesisEngine

// `$.events`: event types, weights and templates (compiled once, here).
extension ScenarioReader {
    /// - Parameter pools: every pool the scenario declares, valid or not, so that a bad pool
    ///   is reported once (at its own path) rather than again at each use.
    mutating func eventSpecs(_ value: JSONValue?, pools poolNames: [String]) -> [Scenario.EventSpec]? {
        guard let value else { return nil }
        guard case .array(let items) = value, !items.isEmpty else {
            fail("$.events", "expected a non-empty array of event types")
            return nil
        }
        var events: [Scenario.EventSpec] = []
        var seen: Set<String> = []
        for (index, item) in items.enumerated() {
            let path = "$.events[\(index)]"
            guard
                let members = object(
                    item, path, allowed: ["type", "weight", "partitionKey", "template", "size"], required: ["type", "partitionKey", "template"])
            else { continue }
            let type = name(members["type"], "\(path).type", what: "an event type")
            if let type, !seen.insert(type).inserted { fail("\(path).type", "\"\(type)\" is already the type of an earlier event") }
            let weight = number(members["weight"], "\(path).weight", in: 0...1_000_000, what: "a weight") ?? Scenario.EventSpec.defaultWeight
            let strategy = keyStrategy(members["partitionKey"], "\(path).partitionKey", pools: poolNames)
            let size = integer(members["size"], "\(path).size", in: 1...ServiceLimits.recordMaxBytes)
            guard let type, let strategy, let template = members["template"] else { continue }
            let compiled = Template.compile(
                template, path: "\(path).template", eventType: type, pools: poolNames, capturePaths: strategy.capturePaths, size: size,
                problems: &problems)
            events.append(
                Scenario.EventSpec(type: type, weight: weight, partitionKey: strategy, template: template, size: size, compiled: compiled))
        }
        if !events.isEmpty, events.allSatisfy({ $0.weight == 0 }) { fail("$.events", "every event has weight 0: nothing would be sent") }
        return events.count == items.count ? events : nil
    }
}
