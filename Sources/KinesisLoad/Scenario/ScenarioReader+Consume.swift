import Foundation
import Kinesis
import KinesisEngine

// `$.consume`: consumers reading the stream during the run, and read-back verification.
extension ScenarioReader {
    mutating func consumeSpec(_ value: JSONValue?) -> Scenario.ConsumeSpec? {
        guard let value else { return nil }
        let allowed = ["consumers", "workers", "leases", "fault", "from", "verify", "processingTime", "catchUpTimeout", "maxRecordsPerCall"]
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
        leaseWorkers(members, into: &spec)
        return spec
    }

    /// `workers`, `leases` and `fault`: consumers sharing the shards through a lease table.
    mutating func leaseWorkers(_ members: [String: JSONValue], into spec: inout Scenario.ConsumeSpec) {
        if members["workers"] != nil, members["consumers"] != nil {
            fail("$.consume.workers", "\"workers\" (sharing the shards through leases) and \"consumers\" (a fixed split) exclude each other: pick one")
        }
        if let workers = integer(members["workers"], "$.consume.workers", in: 1...Scenario.ConsumeSpec.maximumConsumers) { spec.workers = workers }
        if let leases = members["leases"] {
            if members["workers"] == nil { fail("$.consume.leases", "goes with \"workers\": the lease-sharing workers it configures") }
            if let settings = object(leases, "$.consume.leases", allowed: ["failover", "takeInterval"]) {
                if let failover = duration(settings["failover"], "$.consume.leases.failover") {
                    if failover < .milliseconds(100) {
                        fail("$.consume.leases.failover", "at least 100ms, got \(DurationText.format(failover))")
                    } else {
                        spec.leaseFailover = failover
                    }
                }
                if let interval = duration(settings["takeInterval"], "$.consume.leases.takeInterval") { spec.leaseTakeInterval = interval }
            }
        }
        guard let fault = members["fault"] else { return }
        guard let workers = spec.workers else {
            fail("$.consume.fault", "goes with \"workers\": it kills or freezes one of the lease-sharing workers")
            return
        }
        // A fault names the worker (0-based), the action (kill or freeze) and when (such as 5s).
        let names = ["worker", "action", "at"]
        guard let settings = object(fault, "$.consume.fault", allowed: names, required: names) else { return }
        let worker = integer(settings["worker"], "$.consume.fault.worker", in: 0...(workers - 1))
        let action = oneOf(settings["action"], "$.consume.fault.action", Scenario.ConsumeSpec.WorkerFault.Action.allCases.map(\.rawValue))
        let at = duration(settings["at"], "$.consume.fault.at", positive: false)
        if let worker, let action, let at {
            spec.fault = .init(worker: worker, action: .init(rawValue: action)!, at: at)
        }
    }
}
