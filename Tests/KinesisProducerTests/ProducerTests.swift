import Foundation
import Kinesis
import KinesisProducer
import KinesisTesting
import Logging
import MetricsTestKit
import ServiceLifecycle
import Synchronization
import Testing

/// Every user record in the stream, deaggregated, with the shard it is stored on.
func storedUserRecords(_ engine: InMemoryKinesis, stream: String = "events") -> [(shard: String, record: AggregatedRecord.UserRecord)] {
    engine.snapshot().stream(stream)!.shards.flatMap { shard in
        shard.records.flatMap { record -> [(String, AggregatedRecord.UserRecord)] in
            if let users = AggregatedRecord.deaggregate(record.data) { return users.map { (shard.shard.shardId, $0) } }
            return [(shard.shard.shardId, AggregatedRecord.UserRecord(partitionKey: record.partitionKey, data: record.data))]
        }
    }
}

@Suite("Producer")
struct ProducerTests {
    static func configuration(_ change: (inout Producer.Configuration) -> Void = { _ in }) -> Producer.Configuration {
        var configuration = Producer.Configuration(streamName: "events")
        configuration.maxBufferedTime = .milliseconds(20)
        configuration.retryBaseDelay = .milliseconds(1)
        configuration.retryMaxDelay = .milliseconds(5)
        configuration.rateLimitPercent = nil
        change(&configuration)
        return configuration
    }

    @Test("aggregates records by predicted shard; every record delivered once, each aggregate on its own shard")
    func aggregates() async throws {
        let engine = try await makeStream(shards: 4)
        let metrics = TestMetrics()
        let producer = Producer(api: engine, configuration: Self.configuration { $0.metricsFactory = metrics })
        let count = 10_000
        let tickets = try await producer.withRunning {
            var tickets: [RecordTicket] = []
            for index in 0..<count {
                tickets.append(try await producer.put(data: Data("event-\(index)".utf8), partitionKey: "user-\(index % 500)"))
            }
            await producer.flush()
            return tickets
        }
        var delivered = 0
        for ticket in tickets { if case .success = ticket.outcome { delivered += 1 } }
        #expect(delivered == count)
        let stored = storedUserRecords(engine)
        #expect(stored.count == count)
        #expect(Set(stored.map { String(decoding: $0.record.data, as: UTF8.self) }).count == count)
        let kinesisRecords = engine.snapshot().stream("events")!.records.count
        #expect(kinesisRecords < count / 20)   // ~14-byte records: hundreds per aggregate
        let map = try ShardMap(shards: try await engine.listShards(.init(streamName: "events")).shards)
        #expect(stored.allSatisfy { map.shardId(forPartitionKey: $0.record.partitionKey) == $0.shard })
        #expect(try metrics.expectCounter("kinesis_producer_user_records_put", [("stream", "events")]).totalValue == Int64(count))
        #expect(try metrics.expectCounter("kinesis_producer_kinesis_records_put", [("stream", "events")]).totalValue == Int64(kinesisRecords))
    }

    @Test("resends throttled and failed entries until they land; counts retries and errors by code")
    func retries() async throws {
        let engine = try await makeStream(shards: 2)
        engine.faults {
            $0.recordThrottleProbability = 0.3
            $0.recordInternalFailureProbability = 0.05
        }
        let metrics = TestMetrics()
        let producer = Producer(api: engine, configuration: Self.configuration {
            $0.metricsFactory = metrics
            $0.aggregation = false
        })
        let results = try await producer.withRunning {
            try await producer.publishBatch((0..<3000).map { PublishEntry(data: Data("r\($0)".utf8), partitionKey: "k\($0)") })
        }
        #expect(results.publishedCount == 3000)
        #expect(storedUserRecords(engine).count == 3000)
        #expect(try metrics.expectCounter("kinesis_producer_retries", [("stream", "events")]).totalValue > 0)
        #expect(
            try metrics.expectCounter(
                "kinesis_producer_errors", [("stream", "events"), ("error_code", "ProvisionedThroughputExceededException")]
            ).totalValue > 0)
    }

    @Test("suspends put while the in-flight budget is full, and resumes when records are delivered")
    func backpressure() async throws {
        let engine = try await makeStream(shards: 1)
        let producer = Producer(api: engine, configuration: Self.configuration { $0.maxInFlightRecords = 10 })
        for index in 0..<10 { _ = try await producer.put(data: Data("\(index)".utf8), partitionKey: "k") }
        #expect(producer.inFlightRecordCount == 10)
        let eleventh = Task { try await producer.put(data: Data("10".utf8), partitionKey: "k") }
        for _ in 0..<100 { await Task.yield() }
        #expect(producer.inFlightRecordCount == 10)   // the eleventh is still waiting: nothing is sending yet
        try await producer.withRunning {
            let ticket = try await eleventh.value
            _ = try await ticket.result()
        }
        #expect(storedUserRecords(engine).count == 11)
    }

    @Test("a record not delivered within its TTL fails with a clear Expired error")
    func expires() async throws {
        let engine = try await makeStream(shards: 1)
        engine.faults { $0.outage = 0...Double.greatestFiniteMagnitude }
        // Time moves only when the test moves it, and only while the producer's loop sleeps, so
        // the first send (due after maxBufferedTime, 20 ms) happens long before the TTL.
        let clock = ManualClock()
        let producer = Producer(api: engine, configuration: Self.configuration { $0.recordTTL = .milliseconds(500) }, clock: clock)
        let stopped = Atomic<Bool>(false)
        let running = Task {
            try await producer.run()
            stopped.store(true, ordering: .releasing)
        }
        let ticket = try await producer.put(data: Data("x".utf8), partitionKey: "user-1")
        while ticket.outcome == nil {
            await clock.waitForSleepers()
            clock.advance(by: .milliseconds(10))
        }
        // The loop may be asleep on the manual clock: keep time moving until it sees the shutdown.
        producer.shutdown()
        while !stopped.load(ordering: .acquiring) {
            clock.advance(by: .milliseconds(10))
            await Task.yield()
        }
        try await running.value
        guard case .failure(let error) = ticket.outcome else {
            Issue.record("the record was delivered through an outage")
            return
        }
        #expect(error.code == .expired)
        #expect(error.attempts >= 1)
        #expect(error.lastErrorCode == "ServiceUnavailable")
        #expect(error.description.contains("not delivered within the record TTL"))
        #expect(error.description.contains("user-1"))
        #expect(clock.now.offset >= .milliseconds(500))
    }

    @Test("errors no retry can fix fail the record at once; invalid records are refused before buffering")
    func rejects() async throws {
        let engine = InMemoryKinesis()
        let producer = Producer(api: engine, configuration: Self.configuration())
        let error = try await producer.withRunning { () -> ProducerError? in
            do {
                _ = try await producer.publish(data: Data("x".utf8), partitionKey: "k")
                return nil
            } catch let error as ProducerError {
                return error
            }
        }
        #expect(error?.code == .rejected)
        #expect(error?.lastErrorCode == "ResourceNotFoundException")
        await #expect { _ = try await producer.put(data: Data(count: 2_000_000), partitionKey: "k") } throws: { error in
            (error as? ProducerError)?.code == .invalidRecord && "\(error)".contains("over the maximum record size of 1048576 bytes")
        }
    }

    @Test("graceful shutdown through a ServiceGroup delivers what was accepted")
    func gracefulShutdown() async throws {
        let engine = try await makeStream(shards: 2)
        let producer = Producer(api: engine, configuration: Self.configuration { $0.maxBufferedTime = .seconds(60) })
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: producer)], gracefulShutdownSignals: [], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var tickets: [RecordTicket] = []
            for index in 0..<500 { tickets.append(try await producer.put(data: Data("\(index)".utf8), partitionKey: "k\(index)")) }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            #expect(tickets.allSatisfy { if case .success = $0.outcome { true } else { false } })
        }
        #expect(storedUserRecords(engine).count == 500)
        await #expect { _ = try await producer.put(data: Data(), partitionKey: "k") } throws: { error in
            (error as? ProducerError)?.code == .shutDown
        }
    }

    @Test("per-shard rate limit: a one-shard burst is spread to about 1,500 Kinesis records/s")
    func rateLimit() async throws {
        let engine = try await makeStream(shards: 1, configuration: EngineConfiguration(limits: .aws), clock: SystemEngineClock())
        let producer = Producer(api: engine, configuration: Self.configuration {
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

@Suite("Producer and resharding")
struct ProducerReshardTests {
    @Test("after a split, records of an aggregate that landed on the wrong child are sent again; a KCL-style reader sees every record")
    func resendsMisroutedRecords() async throws {
        let engine = try await makeStream(shards: 1)
        var configuration = ProducerTests.configuration()
        configuration.maxBufferedTime = .milliseconds(5)
        let producer = Producer(api: engine, configuration: configuration)
        try await producer.withRunning {
            _ = try await producer.put(data: Data("warm-up".utf8), partitionKey: "k").result()   // the map now has one shard
            try await engine.splitShard(
                .init(streamName: "events", shardToSplit: "shardId-000000000000", newStartingHashKey: String(UInt128.max / 2 + 1)))
            // Predicted for the closed parent, these aggregates land on one child with keys of both.
            var tickets: [RecordTicket] = []
            for index in 0..<2000 { tickets.append(try await producer.put(data: Data("r\(index)".utf8), partitionKey: "user-\(index)")) }
            await producer.flush()
            #expect(tickets.allSatisfy { if case .success = $0.outcome { true } else { false } })
            #expect(producer.statistics.retried > 0)
        }
        // Read as the KCL does: a sub-record outside its shard's hash range is dropped.
        let shards = try await engine.listShards(.init(streamName: "events")).shards
        var kept: [String: Int] = [:]
        for shard in engine.snapshot().stream("events")!.shards {
            let range = UInt128(shard.shard.hashKeyRange.startingHashKey)!...UInt128(shard.shard.hashKeyRange.endingHashKey)!
            for record in shard.records {
                for user in AggregatedRecord.deaggregate(record.data) ?? [AggregatedRecord.UserRecord(partitionKey: record.partitionKey, data: record.data)]
                where range.contains(ShardMap.hashKey(forPartitionKey: user.partitionKey)) {
                    kept[String(decoding: user.data, as: UTF8.self), default: 0] += 1
                }
            }
        }
        #expect(shards.count == 3)
        #expect((0..<2000).allSatisfy { kept["r\($0)"] == 1 })
    }
}

@Suite("Producer cancellation")
struct ProducerCancellationTests {
    @Test("cancelling run fails every record still held, so no caller waits forever")
    func cancellation() async throws {
        let engine = try await makeStream(shards: 1)
        engine.faults { $0.outage = 0...Double.greatestFiniteMagnitude }
        let producer = Producer(api: engine, configuration: ProducerTests.configuration())
        let running = Task { try await producer.run() }
        var tickets: [RecordTicket] = []
        for index in 0..<100 { tickets.append(try await producer.put(data: Data("\(index)".utf8), partitionKey: "k\(index)")) }
        running.cancel()
        _ = try? await running.value
        for ticket in tickets {
            await #expect { _ = try await ticket.result() } throws: { error in
                (error as? ProducerError)?.code == .shutDown
            }
        }
        #expect(producer.inFlightRecordCount == 0)
    }
}

@Suite("Producer backpressure")
struct ProducerBackpressureTests {
    @Test("a caller waiting for room can be cancelled: it throws CancellationError and its record is never sent")
    func cancelWaitingPut() async throws {
        let engine = try await makeStream(shards: 1)
        engine.faults { $0.outage = 0...Double.greatestFiniteMagnitude }   // nothing is delivered, so no room frees
        let producer = Producer(api: engine, configuration: ProducerTests.configuration { $0.maxInFlightRecords = 1 })
        let running = Task { try await producer.run() }
        let first = try await producer.put(data: Data("first".utf8), partitionKey: "k")
        let waiting = Task { try await producer.put(data: Data("second".utf8), partitionKey: "k") }
        waiting.cancel()
        await #expect(throws: CancellationError.self) { _ = try await waiting.value }
        #expect(producer.inFlightRecordCount == 1)   // the first only
        engine.faults { $0.outage = nil }
        _ = try await first.result()
        producer.shutdown()
        try await running.value
        let sent = storedUserRecords(engine).map { String(decoding: $0.record.data, as: UTF8.self) }
        #expect(sent == ["first"])
    }
}
