import Foundation
import Kinesis
import KinesisEngine
import KinesisProducer

// `$.publisher`: the publishing mode and the Producer's settings.
extension ScenarioReader {
    mutating func publisherSpec(_ value: JSONValue?) -> Scenario.PublisherSpec? {
        var spec = Scenario.PublisherSpec.default
        guard let value else { return spec }
        let allowed = ["mode", "maxBufferedTime", "batchSize", "rateLimitPercent", "maxConcurrentRequests", "recordTTL", "ordering"]
        guard let members = object(value, "$.publisher", allowed: allowed) else { return nil }
        if let mode = oneOf(members["mode"], "$.publisher.mode", Scenario.PublisherMode.allCases.map(\.rawValue)) {
            spec.mode = Scenario.PublisherMode(rawValue: mode)!
        }
        if let time = duration(members["maxBufferedTime"], "$.publisher.maxBufferedTime") { spec.maxBufferedTime = time }
        if let size = integer(members["batchSize"], "$.publisher.batchSize", in: 1...ServiceLimits.putRecordsMaxRecords) { spec.batchSize = size }
        if members["rateLimitPercent"] == .null {
            spec.rateLimitPercent = nil
        } else if let percent = number(members["rateLimitPercent"], "$.publisher.rateLimitPercent", in: 1...10_000, what: "a percentage") {
            spec.rateLimitPercent = percent
        }
        if let count = integer(members["maxConcurrentRequests"], "$.publisher.maxConcurrentRequests", in: 1...1024) { spec.maxConcurrentRequests = count }
        if let ttl = duration(members["recordTTL"], "$.publisher.recordTTL") { spec.recordTTL = ttl }
        if let ordering = oneOf(members["ordering"], "$.publisher.ordering", ["per-key", "none"]) {
            if spec.mode == .putRecord {
                fail("$.publisher.ordering", "putRecord sends each event on its own and keeps no order; use putRecords, aggregated or buffered")
            } else {
                spec.ordering = ordering == "per-key" ? .perKey : RecordOrdering.none
            }
        }
        return spec
    }
}
