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
        let map = try ShardMap(shards: try await engine.listShards(.init(streamName: "events")).shards ?? [])
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

    @Test("a put with a callback hears each record's landing once; a counted put is delivered and only counted")
    func callbackAndCountedPuts() async throws {
        let engine = try await makeStream(shards: 4)
        let producer = Producer(api: engine, configuration: Self.configuration())
        let heard = Mutex<[Int: [PublishResult]]>([:])
        try await producer.withRunning {
            for index in 0..<2_000 {
                let data = Data("event-\(index)".utf8)
                if index.isMultiple(of: 2) {
                    try await producer.put(data: data, partitionKey: "user-\(index % 50)") { result in
                        heard.withLock { $0[index, default: []].append(try! result.get()) }
                    }
                } else {
                    try await producer.putCounted(data: data, partitionKey: "user-\(index % 50)")
                }
            }
            await producer.flush()
        }
        #expect(producer.statistics.delivered == 2_000)
        #expect(producer.statistics.failed == 0)
        let stored = storedUserRecords(engine)
        #expect(stored.count == 2_000)
        let shardOf = Dictionary(uniqueKeysWithValues: stored.map { (String(decoding: $0.record.data, as: UTF8.self), $0.shard) })
        let landings = heard.withLock { $0 }
        #expect(landings.count == 1_000)
        for (index, heardOf) in landings {
            #expect(heardOf.count == 1, "record \(index) was called back \(heardOf.count) times")
            #expect(heardOf.first?.shardId == shardOf["event-\(index)"])
        }
    }

    @Test("a failed record's callback gets the error; a counted one is counted as failed and by its error code")
    func callbackAndCountedFailures() async throws {
        let engine = InMemoryKinesis()   // no stream: ResourceNotFoundException, which no retry fixes
        let metrics = TestMetrics()
        let producer = Producer(api: engine, configuration: Self.configuration { $0.metricsFactory = metrics })
        let heard = Mutex<[Result<PublishResult, ProducerError>]>([])
        try await producer.withRunning {
            try await producer.put(data: Data("x".utf8), partitionKey: "k") { result in heard.withLock { $0.append(result) } }
            try await producer.putCounted(data: Data("y".utf8), partitionKey: "k")
            await producer.flush()
        }
        let results = heard.withLock { $0 }
        #expect(results.count == 1)
        guard case .failure(let error) = results.first else {
            Issue.record("the callback heard \(results)")
            return
        }
        #expect(error.code == .rejected)
        #expect(error.lastErrorCode == "ResourceNotFoundException")
        #expect(producer.statistics.failed == 2)
        #expect(producer.statistics.delivered == 0)
        #expect(try metrics.expectCounter("kinesis_producer_errors", [("stream", "events"), ("error_code", "ResourceNotFoundException")]).totalValue >= 1)
        // An invalid record is refused by the put itself: its callback is never called.
        await #expect { try await producer.put(data: Data(count: 2_000_000), partitionKey: "k") { _ in Issue.record("called back") } } throws: {
            ($0 as? ProducerError)?.code == .invalidRecord
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
}

/// How many times a KCL reader hands each record to the application (see `readInOrderAsTheKCLDoes`).
func readAsTheKCLDoes(_ engine: InMemoryKinesis, stream: String = "events") -> [String: Int] {
    readInOrderAsTheKCLDoes(engine, stream: stream).reduce(into: [:]) { $0[$1, default: 0] += 1 }
}

@Suite("Producer and resharding")
struct ProducerReshardTests {
    /// Puts `count` records with distinct keys while `reshard` changes the stream under the
    /// producer's cached map; returns the producer's statistics.
    func publishAcross(_ engine: InMemoryKinesis, count: Int, reshard: () async throws -> Void) async throws -> Producer.Statistics {
        var configuration = ProducerTests.configuration()
        configuration.maxBufferedTime = .milliseconds(5)
        let producer = Producer(api: engine, configuration: configuration)
        try await producer.withRunning {
            _ = try await producer.put(data: Data("warm-up".utf8), partitionKey: "k").result()   // the map is loaded now
            try await reshard()
            var tickets: [RecordTicket] = []
            for index in 0..<count { tickets.append(try await producer.put(data: Data("r\(index)".utf8), partitionKey: "user-\(index)")) }
            await producer.flush()
            #expect(tickets.allSatisfy { if case .success = $0.outcome { true } else { false } })
        }
        return producer.statistics
    }

    @Test("after a split, a KCL reader gets every record: aggregates that landed on a child covering only part of them are resent whole")
    func splitKeepsEveryRecordForKCL() async throws {
        let engine = try await makeStream(shards: 1)
        let statistics = try await publishAcross(engine, count: 2000) {
            try await engine.splitShard(
                .init(streamName: "events", shardToSplit: "shardId-000000000000", newStartingHashKey: String(UInt128.max / 2 + 1)))
        }
        #expect(statistics.resentAfterReshard > 0)
        #expect(try await engine.listShards(.init(streamName: "events")).shards?.count == 3)
        let kept = readAsTheKCLDoes(engine)
        let missing = (0..<2000).filter { kept["r\($0)"] == nil }
        #expect(missing.isEmpty, "a KCL reader lost \(missing.count) of 2000 records")
        #expect((0..<2000).allSatisfy { (kept["r\($0)"] ?? 0) == 1 })
    }

    @Test("after a merge, aggregates predicted for either parent land on the child, which covers them all: nothing is resent or lost")
    func mergeKeepsEveryRecordForKCL() async throws {
        let engine = try await makeStream(shards: 2)
        let statistics = try await publishAcross(engine, count: 2000) {
            try await engine.mergeShards(
                .init(streamName: "events", shardToMerge: "shardId-000000000000", adjacentShardToMerge: "shardId-000000000001"))
        }
        #expect(statistics.resentAfterReshard == 0)
        let kept = readAsTheKCLDoes(engine)
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
