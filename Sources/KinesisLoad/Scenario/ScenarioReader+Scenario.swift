import Foundation
import KinesisEngine

// The top level of a scenario: its name, seed, sampling, and the sections in order.
extension ScenarioReader {
    mutating func scenario(_ root: JSONValue, source: String) -> Scenario? {
        let keys = ["$schema", "name", "description", "seed", "stream", "load", "publisher", "keys", "events", "consume", "thresholds", "sampling"]
        guard let top = object(root, "$", allowed: keys, required: ["name", "stream", "load", "events"]) else { return nil }
        var name = string(top["name"], "$.name")
        if let text = name, !text.unicodeScalars.allSatisfy(Scenario.isNameCharacter) {
            fail("$.name", "use ASCII letters, digits, '-', '_' and '.' only (it names the report folder), got \"\(text.debugDescription.dropFirst().dropLast())\"")
            name = nil
        } else if let text = name, text.count > Scenario.maximumNameLength {
            fail("$.name", "at most \(Scenario.maximumNameLength) characters (it names the report folder), got \(text.count)")
            name = nil
        }
        let description = string(top["description"], "$.description", nonEmpty: false)
        let seed = integer(top["seed"], "$.seed", in: 0...Int.max).map(UInt64.init) ?? 1
        let stream = streamSpec(top["stream"])
        let load = loadSpec(top["load"])
        let publisher = publisherSpec(top["publisher"])
        let pools = keyPools(top["keys"])
        var declaredPools: [String] = []
        if case .object(let members)? = top["keys"] { declaredPools = members.keys.sorted() }
        let events = eventSpecs(top["events"], pools: declaredPools)
        let consume = consumeSpec(top["consume"])
        let thresholds = thresholdSpecs(top["thresholds"])
        var samples = 0
        if let sampling = object(top["sampling"], "$.sampling", allowed: ["records"]) {
            samples = integer(sampling["records"], "$.sampling.records", in: 0...10_000) ?? 0
        }
        if top["consume"] == nil, let metric = thresholds.map(\.metric).first(where: \.needsConsumers) {
            fail(ScenarioProblem.child("$.thresholds", metric.rawValue), "\(metric.rawValue) is measured by consumers: add a \"consume\" section, such as {\"consumers\": 1, \"verify\": true}")
        }
        guard let name, let stream, let load, let publisher, let events else { return nil }
        return Scenario(
            name: name, description: description, seed: seed, stream: stream, load: load, publisher: publisher,
            keyPools: pools ?? [:], events: events, thresholds: thresholds, consume: consume, sampledRecordsPerType: samples, source: source)
    }
}
