import Foundation
import Kinesis
import KinesisEngine

// `$.load`: the arrival schedule (executor, rates, stages, arrivals, the in-flight cap).
extension ScenarioReader {
    mutating func loadSpec(_ value: JSONValue?) -> Scenario.LoadSpec? {
        let allowed = ["executor", "rate", "duration", "startRate", "stages", "events", "arrivals", "maxInFlight"]
        guard let members = object(value, "$.load", allowed: allowed, required: ["executor"]) else { return nil }
        let executors = ["constant-arrival-rate", "ramping-arrival-rate", "fixed-events"]
        let kind = oneOf(members["executor"], "$.load.executor", executors)
        let poisson = (oneOf(members["arrivals"], "$.load.arrivals", ["uniform", "poisson"]) ?? "uniform") == "poisson"
        let maxInFlight = integer(members["maxInFlight"], "$.load.maxInFlight", in: 1...10_000_000) ?? Scenario.LoadSpec.defaultMaxInFlight
        let rateRange = 0.001...10_000_000.0
        func unexpected(_ keys: [String], for executor: String) {
            for key in keys where members[key] != nil {
                fail(ScenarioProblem.child("$.load", key), "\"\(key)\" does not apply to \(executor)")
            }
        }
        var executor: Scenario.Executor?
        switch kind {
        case "constant-arrival-rate":
            unexpected(["startRate", "stages", "events"], for: "constant-arrival-rate")
            if members["rate"] == nil { fail("$.load.rate", "required, missing (events per second)") }
            if members["duration"] == nil { fail("$.load.duration", "required, missing (such as \"30s\")") }
            let rate = number(members["rate"], "$.load.rate", in: rateRange, what: "events per second")
            let duration = duration(members["duration"], "$.load.duration")
            if let rate, let duration { executor = .constantArrivalRate(rate: rate, duration: duration) }
        case "ramping-arrival-rate":
            unexpected(["rate", "duration", "events"], for: "ramping-arrival-rate")
            let start = number(members["startRate"], "$.load.startRate", in: 0...10_000_000, what: "events per second") ?? 0
            var stages: [Scenario.Stage] = []
            var stagesOK = true
            if case .array(let items)? = members["stages"], !items.isEmpty {
                for (index, item) in items.enumerated() {
                    let path = "$.load.stages[\(index)]"
                    guard let stage = object(item, path, allowed: ["target", "duration"], required: ["target", "duration"]) else {
                        stagesOK = false
                        continue
                    }
                    let target = number(stage["target"], "\(path).target", in: 0...10_000_000, what: "events per second")
                    let duration = duration(stage["duration"], "\(path).duration")
                    if let target, let duration { stages.append(.init(target: target, duration: duration)) } else { stagesOK = false }
                }
            } else {
                fail("$.load.stages", "required: a non-empty array of {\"target\": events per second, \"duration\": \"30s\"}")
                stagesOK = false
            }
            if stagesOK, stages.allSatisfy({ $0.target == 0 }), start == 0 {
                fail("$.load.stages", "every stage targets 0 events per second: nothing would be sent")
                stagesOK = false
            }
            let total = stages.reduce(0.0) { $0 + Double($1.duration.components.seconds) }
            if stagesOK, total >= DurationText.maximumSeconds {
                fail("$.load.stages", "the stages add up to more than \(DurationText.maximumText)")
                stagesOK = false
            }
            if stagesOK { executor = .rampingArrivalRate(startRate: start, stages: stages) }
        case "fixed-events":
            unexpected(["startRate", "stages", "duration"], for: "fixed-events")
            if members["events"] == nil { fail("$.load.events", "required, missing (how many events)") }
            let count = integer(members["events"], "$.load.events", in: 1...1_000_000_000)
            let rate = number(members["rate"], "$.load.rate", in: rateRange, what: "events per second")
            if poisson, rate == nil { fail("$.load.arrivals", "poisson arrivals need a \"rate\"") }
            if let count { executor = .fixedEvents(count: count, rate: rate) }
        default: break
        }
        guard let executor else { return nil }
        let spec = Scenario.LoadSpec(executor: executor, poisson: poisson, maxInFlight: maxInFlight)
        // A schedule of less than one event would run, measure nothing and report no rate.
        if ArrivalSchedule(load: spec, seed: 0).plannedCount == 0 {
            fail("$.load", "the schedule plans no events (less than one event at this rate over this duration): raise \"rate\" or \"duration\"")
            return nil
        }
        return spec
    }
}
