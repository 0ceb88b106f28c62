import Foundation
import Kinesis
import KinesisTesting
import KinesisProducer
import Testing

@testable import KinesisLoad

/// A scenario document with `changes` merged into a small valid one.
func scenarioJSON(_ changes: [String: Any] = [:], drop: [String] = []) -> Data {
    var document: [String: Any] = [
        "name": "t",
        "seed": 9,
        "stream": ["name": "s", "shards": 2],
        "load": ["executor": "fixed-events", "events": 500],
        "publisher": ["mode": "aggregated", "maxBufferedTime": "20ms"],
        "keys": ["users": ["count": 100, "distribution": "zipf", "exponent": 1.2]],
        "events": [
            [
                "type": "ORDER", "weight": 3, "partitionKey": ["strategy": "field", "field": "orderId"],
                "template": ["orderId": "{{uuid}}", "user": "{{key users}}", "amount": "{{float 1 9}}", "n": "{{seq}}", "note": "id-{{int 1 5}}"],
            ],
            ["type": "CLICK", "weight": 1, "partitionKey": ["strategy": "key", "pool": "users"], "template": ["page": "{{pick a b}}"], "size": 200],
        ],
    ]
    for (key, value) in changes { document[key] = value }
    for key in drop { document.removeValue(forKey: key) }
    return try! JSONSerialization.data(withJSONObject: document)
}

func problems(_ data: Data) -> [ScenarioProblem] {
    do {
        _ = try Scenario.parse(data)
        return []
    } catch {
        return error.problems
    }
}

@Suite("Scenario validation")
struct ScenarioValidationTests {
    @Test func validScenarioDecodesWithDefaults() throws {
        let scenario = try Scenario.parse(scenarioJSON())
        #expect(scenario.name == "t")
        #expect(scenario.seed == 9)
        #expect(scenario.stream == .init(name: "s", shards: 2, create: nil))
        #expect(scenario.load.executor == .fixedEvents(count: 500, rate: nil))
        #expect(scenario.load.maxInFlight == 100_000)
        #expect(scenario.publisher.mode == .aggregated)
        #expect(scenario.publisher.maxBufferedTime == .milliseconds(20))
        #expect(scenario.keyPools["users"] == .init(count: 100, distribution: .zipf(exponent: 1.2), prefix: "users-"))
        #expect(scenario.events.map(\.type) == ["ORDER", "CLICK"])
    }

    @Test func everyProblemIsReportedWithItsPath() {
        let found = problems(
            scenarioJSON([
                "sed": 1,
                "stream": ["name": "bad name!", "shard": 2],
                "load": ["executor": "constant-arrival-rate", "rate": -1],
                "thresholds": ["latency.p99": "under 2s", "latncy.p95": "< 1s", "errors.rate": "< 5ms"],
            ]))
        let byPath = Dictionary(found.map { ($0.path, $0.message) }, uniquingKeysWith: { $0 + " | " + $1 })
        #expect(byPath["$.sed"]?.contains("did you mean \"seed\"") == true)
        #expect(byPath["$.stream.shard"]?.contains("did you mean \"shards\"") == true)
        #expect(byPath["$.stream.name"]?.contains("bad name!") == true)
        #expect(byPath["$.load.rate"]?.contains("events per second") == true)
        #expect(byPath["$.load.duration"]?.contains("required") == true)
        #expect(byPath["$.thresholds[\"latency.p99\"]"]?.contains("comparison") == true)
        #expect(byPath["$.thresholds[\"latncy.p95\"]"]?.contains("did you mean \"latency.p95\"") == true)
        #expect(byPath["$.thresholds[\"errors.rate\"]"]?.contains("unit \"ms\"") == true)
    }

    @Test func templateProblemsNameTheMember() {
        let found = problems(
            scenarioJSON([
                "events": [
                    [
                        "type": "A", "partitionKey": ["strategy": "field", "field": "orderID"],
                        "template": ["orderId": "{{uuidd}}", "u": "{{key user}}", "n": "{{int 5 1}}", "open": "{{now"],
                    ]
                ]
            ]))
        let byPath = Dictionary(found.map { ($0.path, $0.message) }, uniquingKeysWith: { $0 + " | " + $1 })
        #expect(byPath["$.events[0].template.orderId"]?.contains("did you mean \"uuid\"") == true)
        #expect(byPath["$.events[0].template.u"]?.contains("did you mean \"users\"") == true)
        #expect(byPath["$.events[0].template.n"]?.contains("MIN <= MAX") == true)
        #expect(byPath["$.events[0].template.open"]?.contains("closing") == true)
        #expect(byPath["$.events[0].template"]?.contains("did you mean \"orderId\"") == true)
    }

    @Test func strategyOptionsAreChecked() {
        let found = problems(
            scenarioJSON([
                "events": [
                    ["type": "A", "partitionKey": ["strategy": "hash", "field": "x", "window": "1m"], "template": ["x": 1]],
                    ["type": "B", "partitionKey": ["strategy": "roundRobin"], "template": [:]],
                    ["type": "C", "partitionKey": ["strategy": "key", "pool": "usr"], "template": [:]],
                ]
            ]))
        let paths = Set(found.map(\.path))
        #expect(paths.contains("$.events[0].partitionKey.window"))
        #expect(paths.contains("$.events[0].partitionKey.buckets"))
        #expect(paths.contains("$.events[1].partitionKey.keys"))
        #expect(found.contains { $0.path == "$.events[2].partitionKey.pool" && $0.message.contains("did you mean \"users\"") })
    }

    @Test func syntaxErrorsSayWhere() {
        let found = problems(Data("{\n  \"name\": \"x\",\n  \"seed\": tru\n}".utf8))
        #expect(found.count == 1)
        #expect(found[0].path == "$")
        #expect(found[0].message.contains("line 3"))
    }

    @Test func durationsParseAndFormat() {
        #expect(DurationText.parse("250ms") == .milliseconds(250))
        #expect(DurationText.parse("1m30s") == .seconds(90))
        #expect(DurationText.parse("1.5s") == .milliseconds(1500))
        #expect(DurationText.parse("2h") == .seconds(7200))
        #expect(DurationText.parse("fast") == nil)
        #expect(DurationText.parse("10") == nil)
        #expect(DurationText.format(.seconds(90)) == "90s")
        #expect(DurationText.format(.seconds(120)) == "2m")
    }

    @Test("publisher.ordering: per-key or none for the batching publishers, refused for putRecord")
    func orderingOption() throws {
        let ordered = try Scenario.parse(scenarioJSON(["publisher": ["mode": "putRecords", "ordering": "per-key"]]))
        #expect(ordered.publisher.ordering == .perKey)
        #expect(try Scenario.parse(scenarioJSON()).publisher.ordering == nil)   // the publisher's own default
        let found = problems(scenarioJSON(["publisher": ["mode": "putRecord", "ordering": "none"]]))
        #expect(found.contains { $0.path == "$.publisher.ordering" && $0.message.contains("putRecord sends each event on its own") })
        let typo = problems(scenarioJSON(["publisher": ["ordering": "perkey"]]))
        #expect(typo.contains { $0.path == "$.publisher.ordering" && $0.message.contains("did you mean \"per-key\"") })
    }

    @Test("durations too long for a Duration are refused with the field's path, not a crash")
    func hugeDurationsAreProblems() {
        #expect(DurationText.parse("3000000h") == nil)
        #expect(DurationText.parse("1e400s") == nil)
        #expect(DurationText.parse("200y") == nil)
        #expect(DurationText.parse("290h") == .seconds(290 * 3600))
        let found = problems(
            scenarioJSON([
                "load": ["executor": "constant-arrival-rate", "rate": 10, "duration": "3000000h"],
                "publisher": ["maxBufferedTime": "99999999999h", "recordTTL": "99999999999s"],
            ]))
        let paths = Set(found.map(\.path))
        #expect(paths.isSuperset(of: ["$.load.duration", "$.publisher.maxBufferedTime", "$.publisher.recordTTL"]))
    }

    @Test func thresholdsNormalizeUnits() throws {
        let p99 = try Threshold.parse(metric: "latency.p99", expression: "< 1.5s")
        #expect(p99.limit == 1500)
        #expect(p99.holds(1499) && !p99.holds(1500))
        let errors = try Threshold.parse(metric: "errors.rate", expression: "<= 0.1%")
        #expect(errors.limit == 0.001)
        #expect(errors.holds(0.001) && !errors.holds(0.0011))
        let dropped = try Threshold.parse(metric: "dropped.count", expression: "== 0")
        #expect(dropped.holds(0) && !dropped.holds(1))
        #expect(throws: ThresholdError.self) { try Threshold.parse(metric: "dropped.count", expression: "== 0ms") }
    }

    @Test func everyShippedScenarioIsValid() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Scenarios").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }
        #expect(files.count >= 5)
        for file in files {
            let scenario = try Scenario.load(path: folder.appendingPathComponent(file).path)
            #expect(!scenario.events.isEmpty, "\(file)")
        }
    }
}

@Suite("Templates and event stream")
struct EventSourceTests {
    @Test func eventsAreValidJSONWithTypedValues() throws {
        let scenario = try Scenario.parse(scenarioJSON())
        var source = EventSource(scenario: scenario, shardMap: .even(count: 2))
        for _ in 0..<200 {
            let event = source.next()
            let object = try #require(try JSONSerialization.jsonObject(with: event.data) as? [String: Any])
            if event.type == 0 {
                #expect((object["orderId"] as? String)?.count == 36)
                #expect(event.partitionKey == object["orderId"] as? String)
                #expect(object["amount"] is NSNumber)
                #expect(object["n"] is NSNumber)
                #expect((object["note"] as? String)?.hasPrefix("id-") == true)
                #expect((object["user"] as? String)?.hasPrefix("users-") == true)
            } else {
                #expect(event.data.count == 200, "size pads the record to 200 bytes")
                #expect(event.partitionKey.hasPrefix("users-"))
            }
        }
    }

    @Test func theSameSeedGivesTheSameStream() throws {
        let scenario = try Scenario.parse(scenarioJSON())
        var first = EventSource(scenario: scenario, shardMap: .even(count: 2))
        var second = EventSource(scenario: scenario, shardMap: .even(count: 2))
        for _ in 0..<500 {
            let a = first.next(), b = second.next()
            #expect(a.type == b.type && a.data == b.data && a.partitionKey == b.partitionKey)
        }
        var other = try Scenario.parse(scenarioJSON(["seed": 10]))
        other.seed = 10
        var third = EventSource(scenario: other, shardMap: .even(count: 2))
        var fresh = EventSource(scenario: scenario, shardMap: .even(count: 2))
        let differs = (0..<50).contains { _ in third.next().data != fresh.next().data }
        #expect(differs)
    }

    @Test func weightsAndZipfSkewShowInTheMix() throws {
        let scenario = try Scenario.parse(scenarioJSON())
        var source = EventSource(scenario: scenario, shardMap: .even(count: 2))
        var orders = 0
        var keys: [String: Int] = [:]
        for _ in 0..<20_000 {
            let event = source.next()
            if event.type == 0 { orders += 1 } else { keys[event.partitionKey, default: 0] += 1 }
        }
        #expect(abs(Double(orders) / 20_000 - 0.75) < 0.02)
        let clicks = keys.values.reduce(0, +)
        // Zipf(1.2) over 100 keys: rank 1 takes about 1/H(100,1.2) = 27%; uniform would be 1%.
        #expect(Double(keys["users-0"] ?? 0) / Double(clicks) > 0.2)
        #expect((keys["users-0"] ?? 0) > (keys["users-1"] ?? 0))
    }

    @Test func roundRobinOverShardsHitsEveryShardInTurn() throws {
        let data = scenarioJSON([
            "events": [["type": "A", "partitionKey": ["strategy": "roundRobin", "shards": true], "template": ["a": 1]]]
        ])
        let scenario = try Scenario.parse(data)
        let map = ShardMap.even(count: 4)
        var source = EventSource(scenario: scenario, shardMap: map)
        let shards = (0..<8).map { _ in
            let event = source.next()
            return try! map.shardId(forExplicitHashKey: event.explicitHashKey!)!
        }
        #expect(shards == (0..<8).map { ShardMap.shardId(index: $0 % 4) })
    }
}

@Suite("Arrival schedule")
struct ArrivalScheduleTests {
    func times(_ load: Scenario.LoadSpec) -> [Double] {
        var schedule = ArrivalSchedule(load: load, seed: 1)
        var out: [Double] = []
        while let time = schedule.next() { out.append(time) }
        return out
    }

    @Test func constantRateIsEvenlySpaced() {
        let load = Scenario.LoadSpec(executor: .constantArrivalRate(rate: 100, duration: .seconds(2)), poisson: false, maxInFlight: 10)
        let times = times(load)
        #expect(times.count == 200)
        #expect(times[0] == 0)
        #expect(abs(times[150] - 1.5) < 1e-9)
        #expect(ArrivalSchedule(load: load, seed: 1).plannedCount == 200)
    }

    @Test func rampFollowsTheLinearRate() {
        // 0 -> 100/s over 10 s: 500 events, and N(t) = 5 t^2, so event 125 is due at 5 s.
        let load = Scenario.LoadSpec(
            executor: .rampingArrivalRate(startRate: 0, stages: [.init(target: 100, duration: .seconds(10)), .init(target: 100, duration: .seconds(1))]),
            poisson: false, maxInFlight: 10)
        let times = times(load)
        #expect(times.count == 600)
        #expect(abs(times[125] - 5) < 1e-6)
        #expect(abs(times[500] - 10) < 1e-6)
        let schedule = ArrivalSchedule(load: load, seed: 1)
        #expect(abs(schedule.targetRate(at: 2.5) - 25) < 1e-9)
        #expect(schedule.duration == 11)
    }

    @Test func poissonArrivalsKeepTheMeanRate() {
        let load = Scenario.LoadSpec(executor: .constantArrivalRate(rate: 1000, duration: .seconds(20)), poisson: true, maxInFlight: 10)
        let times = times(load)
        #expect(abs(Double(times.count) - 20_000) < 600)
        let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
        let mean = gaps.reduce(0, +) / Double(gaps.count)
        let variance = gaps.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(gaps.count)
        // Exponential gaps: the standard deviation equals the mean (even spacing would give 0).
        #expect(abs(variance.squareRoot() / mean - 1) < 0.05)
    }

    @Test func fixedCountWithoutRateIsUnpaced() {
        var schedule = ArrivalSchedule(load: .init(executor: .fixedEvents(count: 3, rate: nil), poisson: false, maxInFlight: 1), seed: 1)
        #expect(schedule.unpaced)
        #expect([schedule.next(), schedule.next(), schedule.next(), schedule.next()] == [0, 0, 0, nil])
    }
}
