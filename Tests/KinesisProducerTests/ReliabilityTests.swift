import Foundation
import Kinesis
import KinesisProducer
import KinesisTesting
import Testing

/// The 200,000-record suites, one at a time: run together on two cores they starve each other
/// and the rest of the suite.
@Suite("Producer under load", .serialized)
struct ProducerUnderLoad {
    /// A 4-shard stream that throttles 10% of entries and fails 1% with InternalFailure, and a
    /// producer configuration that makes many small aggregates, so many entries meet the faults.
    static func faultyStream(aggregation: Bool, maxBufferedTime: Duration) async throws -> (InMemoryKinesis, Producer.Configuration) {
        let engine = try await makeStream(shards: 4)
        engine.faults {
            $0.recordThrottleProbability = 0.10
            $0.recordInternalFailureProbability = 0.01
        }
        var configuration = Producer.Configuration(streamName: "events")
        configuration.maxBufferedTime = maxBufferedTime
        configuration.retryBaseDelay = .milliseconds(1)
        configuration.retryMaxDelay = .milliseconds(10)
        configuration.rateLimitPercent = nil
        configuration.aggregation = aggregation
        configuration.aggregationMaxSize = 8_192
        configuration.maxInFlightRecords = 20_000
        return (engine, configuration)
    }
}

extension ProducerUnderLoad {
    @Suite("Producer reliability")
    struct ReliabilityTests {
        @Test(
            "200,000 records with 10% throttled and 1% InternalFailure entries: none lost, duplicates counted",
            arguments: [true, false])
        func noRecordLost(aggregation: Bool) async throws {
            let (engine, configuration) = try await ProducerUnderLoad.faultyStream(aggregation: aggregation, maxBufferedTime: .milliseconds(20))
            let producer = Producer(api: engine, configuration: configuration)
            let count = 200_000
            let failures = try await producer.withRunning { () -> Int in
                var tickets: [RecordTicket] = []
                tickets.reserveCapacity(count)
                for index in 0..<count {
                    tickets.append(try await producer.put(data: Data("record-\(index)".utf8), partitionKey: "user-\(index % 5000)"))
                }
                await producer.flush()
                return tickets.filter { if case .success = $0.outcome { false } else { true } }.count
            }
            #expect(failures == 0)

            // Read everything back the way a consumer would: iterators on every shard, deaggregated.
            var seen: [String: Int] = [:]
            for shard in try await engine.listShards(.init(streamName: "events")).shards ?? [] {
                for record in try await engine.readAll(stream: "events", shardId: shard.shardId) {
                    let users = AggregatedRecord.deaggregate(record.data)?.map(\.data) ?? [record.data]
                    for data in users { seen[String(decoding: data, as: UTF8.self), default: 0] += 1 }
                }
            }
            let lost = (0..<count).filter { seen["record-\($0)"] == nil }.count
            let duplicates = seen.values.reduce(0) { $0 + $1 - 1 }
            let calls = engine.calls.filter { $0.operation == .putRecords }
            let injected = calls.reduce(0) { $0 + $1.failedRecordCount }
            print("reliability (aggregation \(aggregation ? "on" : "off")): \(count) records, \(lost) lost, \(duplicates) duplicates, \(injected) Kinesis entries failed by injection and resent")
            #expect(lost == 0)
            #expect(seen.count == count)
            #expect(injected > 0)
            #expect(duplicates == 0)   // the engine stores no entry it reports as failed
        }
    }
}

extension ProducerUnderLoad {
    /// Timed by the wall clock on both sides (the producer's bucket and the engine's), so it runs
    /// apart from the 200,000-record suites, which would skew it.
    @Suite("Producer rate limit")
    struct RateLimitTests {
        @Test("per-shard rate limit: a one-shard burst is spread to about 1,500 Kinesis records/s")
        func rateLimit() async throws {
            let engine = try await makeStream(shards: 1, configuration: EngineConfiguration(limits: .aws), clock: SystemEngineClock())
            let producer = Producer(api: engine, configuration: ProducerTests.configuration {
                $0.aggregation = false
                $0.rateLimitPercent = 100
            })
            let results = try await producer.withRunning {
                try await producer.publishBatch((0..<1500).map { PublishEntry(data: Data("r\($0)".utf8), partitionKey: "k\($0)") })
            }
            #expect(results.publishedCount == 1500)
            // Limited on the client side to the shard's own rate, the engine (which has the same
            // limit) throttles next to nothing.
            let throttled = engine.calls.reduce(0) { $0 + $1.failedRecordCount }
            #expect(throttled < 150)
        }
    }
}
