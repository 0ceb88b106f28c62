import Foundation
import Kinesis
import KinesisEngine

// `$.stream`: which stream, how many shards, and whether the run may create it.
extension ScenarioReader {
    mutating func streamSpec(_ value: JSONValue?) -> Scenario.StreamSpec? {
        guard let members = object(value, "$.stream", allowed: ["name", "shards", "onDemand", "create"], required: ["name"]) else { return nil }
        let name = string(members["name"], "$.stream.name")
        if let name, !ServiceLimits.isValidStreamName(name) {
            fail("$.stream.name", "expected 1 to 128 characters from a-z, A-Z, 0-9, '_', '.' and '-', got \"\(name)\"")
        }
        let onDemand = bool(members["onDemand"], "$.stream.onDemand") ?? false
        let shards = integer(members["shards"], "$.stream.shards", in: ServiceLimits.shardCount)
        if onDemand, shards != nil { fail("$.stream.shards", "an on-demand stream has no shard count; remove \"shards\" or \"onDemand\"") }
        if !onDemand, members["shards"] == nil { fail("$.stream.shards", "required unless \"onDemand\" is true") }
        let create = bool(members["create"], "$.stream.create")
        guard let name, onDemand || shards != nil else { return nil }
        return Scenario.StreamSpec(name: name, shards: onDemand ? nil : shards, create: create)
    }
}
