import Foundation
import Kinesis
import KinesisEngine

// `$.consume`: consumers reading the stream during the run, and read-back verification.
extension ScenarioReader {
    mutating func consumeSpec(_ value: JSONValue?) -> Scenario.ConsumeSpec? {
        guard let value else { return nil }
        let allowed = ["consumers", "from", "verify", "processingTime", "catchUpTimeout", "maxRecordsPerCall"]
        guard let members = object(value, "$.consume", allowed: allowed) else { return nil }
        var spec = Scenario.ConsumeSpec(
            consumers: Scenario.ConsumeSpec.defaultConsumers, from: .trimHorizon, verify: true, processingTime: .zero,
            catchUpTimeout: Scenario.ConsumeSpec.defaultCatchUpTimeout, maxRecordsPerCall: ServiceLimits.getRecordsMaxRecords)
        if let count = integer(members["consumers"], "$.consume.consumers", in: 1...Scenario.ConsumeSpec.maximumConsumers) { spec.consumers = count }
        if let from = oneOf(members["from"], "$.consume.from", Scenario.ConsumeSpec.Start.allCases.map(\.rawValue)) {
            spec.from = Scenario.ConsumeSpec.Start(rawValue: from)!
        }
        if let verify = bool(members["verify"], "$.consume.verify") { spec.verify = verify }
        if let time = duration(members["processingTime"], "$.consume.processingTime", positive: false) {
            if time > .seconds(10) {
                fail("$.consume.processingTime", "at most 10s per record, got \(DurationText.format(time))")
            } else {
                spec.processingTime = time
            }
        }
        if let timeout = duration(members["catchUpTimeout"], "$.consume.catchUpTimeout") { spec.catchUpTimeout = timeout }
        if let limit = integer(members["maxRecordsPerCall"], "$.consume.maxRecordsPerCall", in: 1...ServiceLimits.getRecordsMaxRecords) {
            spec.maxRecordsPerCall = limit
        }
        return spec
    }
}
