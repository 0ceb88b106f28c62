import Foundation
import Kinesis
import Testing

@testable import KinesisLoad

/// The shipped NestJS scenarios: the module's keys, and what `partitions` says of them.
@Suite("NestJS scenarios")
struct NestJSScenarioTests {
    static let scenarios = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Scenarios").standardized

    @Test func theModulesFewKeysReachThreeOfFourShardsAndOursReachAll() throws {
        let scenario = try Scenario.load(path: Self.scenarios.appendingPathComponent("nestjs-strategies.json").path)
        let analysis = PartitionAnalysis.analyze(scenario, shards: 4, peakRate: 1000, sampleEvents: 20_000)
        let reach = Dictionary(uniqueKeysWithValues: analysis.types.map { ($0.type, $0.shardsHit) })
        #expect(reach["MODULE_RANDOM"] == 3)
        #expect(reach["MODULE_ROUND_ROBIN"] == 3)
        #expect(reach["MODULE_TIME"] == 1)
        #expect(reach["MODULE_DEFAULT"] == 1)
        #expect(reach["OURS_ROUND_ROBIN"] == 4)
        #expect(reach["OURS_RANDOM"] == 4)
        let evenly = try #require(analysis.types.first { $0.type == "OURS_ROUND_ROBIN" })
        #expect(abs(evenly.busiestSharePercent - 25) < 0.5, "each shard in turn")
        #expect(analysis.text.contains("concentrates: MODULE_ROUND_ROBIN (nestjs roundRobin(4)) reaches 3 of 4 shards"))
    }

    @Test func theEventsScenarioCoversEveryEventOfTheModuleKeyedAsItKeysThem() throws {
        let scenario = try Scenario.load(path: Self.scenarios.appendingPathComponent("nestjs-events.json").path)
        let keys = Dictionary(uniqueKeysWithValues: scenario.events.map { ($0.type, $0.partitionKey) })
        #expect(
            Set(keys.keys) == [
                "USER_ACTION", "ORDER_CREATED", "METRICS", "LOG_EVENT", "USER_CREATED", "USER_UPDATED", "ORDER_UPDATED", "PAYMENT_PROCESSED",
                "USER_BEHAVIOR", "PERFORMANCE_METRICS", "BUSINESS_INSIGHT",
            ])
        #expect(keys["ORDER_CREATED"] == .field(path: "orderId"))
        #expect(keys["PAYMENT_PROCESSED"] == .field(path: "entityId"))
        #expect(keys["METRICS"] == .clock(prefix: "metrics-", modulo: 1000))
        #expect(keys["LOG_EVENT"] == .field(path: "level"))
        var source = EventSource(scenario: scenario, shardMap: ShardMap.even(count: 4))
        var seen: [String: (key: String, data: [String: Any])] = [:]
        for _ in 0..<5_000 {
            let event = source.next()
            let type = scenario.events[event.type].type
            if seen[type] == nil, let object = try JSONSerialization.jsonObject(with: event.data) as? [String: Any] {
                seen[type] = (event.partitionKey, object)
            }
        }
        #expect(seen.count == 11)
        let payment = try #require(seen["PAYMENT_PROCESSED"])
        #expect(payment.key == payment.data["entityId"] as? String)
        #expect(payment.data["entityType"] as? String == "payment")
        let eventId = try #require(payment.data["eventId"] as? String)
        #expect(eventId.wholeMatch(of: /evt_[0-9]{13}_[0-9a-z]{9}/) != nil, "\(eventId)")
        let correlation = try #require((payment.data["metadata"] as? [String: Any])?["correlationId"] as? String)
        #expect(correlation.hasPrefix("corr_"))
        #expect(try #require(seen["METRICS"]).key.wholeMatch(of: /metrics-[0-9]{1,3}/) != nil)
        let order = try #require(seen["ORDER_CREATED"])
        #expect(order.key == order.data["orderId"] as? String, "the raw orderId, no prefix added")
    }

    @Test func styleNestjsIsCheckedWithPaths() {
        let found = problems(
            scenarioJSON([
                "events": [
                    ["type": "A", "partitionKey": ["strategy": "hash", "style": "nestjs", "field": "x", "buckets": 4], "template": ["x": "1"]],
                    ["type": "B", "partitionKey": ["strategy": "constant", "style": "nestjs", "value": "v"], "template": ["x": "1"]],
                    ["type": "C", "partitionKey": ["strategy": "random", "style": "nestjs"], "template": ["x": "1"]],
                    ["type": "D", "partitionKey": ["strategy": "clock", "prefix": "m-"], "template": ["x": "1"]],
                ]
            ]))
        let paths = found.map(\.path)
        #expect(paths.contains("$.events[0].partitionKey.buckets"), "\(found)")
        #expect(paths.contains("$.events[1].partitionKey.style"), "\(found)")
        #expect(paths.contains("$.events[2].partitionKey.keys"), "\(found)")
        #expect(paths.contains("$.events[3].partitionKey.modulo"), "\(found)")
    }
}
