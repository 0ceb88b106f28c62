import Foundation
import Kinesis
import KinesisCheckpointSQLite
import KinesisConsumer
import KinesisProducer
import KinesisTesting
import Logging
import MetricsTestKit
import Synchronization
import Testing

/// Keeps what a processor saw, in processing order.
final class Collector: RecordProcessor {
    struct Seen: Sendable, Hashable {
        var shardId: String
        var partitionKey: String
        var text: String
        var position: ExtendedSequenceNumber
        var outOfRange: Bool
    }

    let seen = Mutex<[Seen]>([])
    let failed = Mutex<[RecordFailure]>([])
    /// Throws for records whose text is in here, every attempt.
    let poison: Set<String>
    /// Throws the first time a record whose text is in here is seen.
    let flaky = Mutex<Set<String>>([])
    /// Skip records of aggregates the producer resent after a reshard (as the KCL drops them).
    let skipMisrouted: Bool
    let skipped = Mutex(0)

    init(poison: Set<String> = [], flaky: Set<String> = [], skipMisrouted: Bool = false) {
        self.poison = poison
        self.skipMisrouted = skipMisrouted
        self.flaky.withLock { $0 = flaky }
    }

    struct Boom: Error {}

    func processRecord(_ record: ConsumerRecord) async throws {
        let text = String(decoding: record.data, as: UTF8.self)
        if skipMisrouted, record.inMisroutedAggregate {
            skipped.withLock { $0 += 1 }
            return
        }
        if poison.contains(text) { throw Boom() }
        if flaky.withLock({ $0.remove(text) != nil }) { throw Boom() }
        seen.withLock {
            $0.append(Seen(shardId: record.shardId, partitionKey: record.partitionKey, text: text, position: record.position, outOfRange: record.outOfShardRange))
        }
    }

    func recordFailed(_ failure: RecordFailure) async { failed.withLock { $0.append(failure) } }

    var texts: [String] { seen.withLock { $0.map(\.text) } }
}

func engineStream(_ name: String = "events", shards: Int, clock: (any EngineClock)? = nil, limits: ThroughputLimits? = nil) async throws -> InMemoryKinesis {
    let engine = clock.map { InMemoryKinesis(configuration: EngineConfiguration(limits: limits), clock: $0) }
        ?? InMemoryKinesis(configuration: EngineConfiguration(limits: limits))
    try await engine.createStream(.init(streamName: name, shardCount: shards))
    return engine
}

func fastConfiguration(_ stream: String = "events", concurrency: Int = 4) -> StreamConsumer.Configuration {
    var configuration = StreamConsumer.Configuration(streamName: stream, applicationName: "test")
    configuration.maxConcurrentShards = concurrency
    configuration.reader.minimumCallInterval = .zero
    configuration.reader.idleTime = .milliseconds(5)
    configuration.reader.backoffBase = .milliseconds(1)
    configuration.reader.backoffMax = .milliseconds(5)
    configuration.shardSyncInterval = .milliseconds(200)
    configuration.processing.retryBaseDelay = .milliseconds(1)
    configuration.processing.retryMaxDelay = .milliseconds(2)
    return configuration
}

@Suite("Record processor harness")
struct HarnessTests {
    @Test("records, an aggregate, a throttle, an expired iterator and a split: every record once, checkpoints after each batch and at SHARD_END")
    func scriptedShard() async throws {
        let processor = Collector()
        var harness = RecordProcessorHarness(processor: processor)
        harness.records([("a", "1"), ("b", "2")])
        harness.throttle()
        harness.aggregate([("c", "3"), ("d", "4"), ("e", "5")])
        harness.expiredIterator()
        harness.records([("f", "6")])
        harness.endOfShard(children: ["shardId-000000000001", "shardId-000000000002"])
        let result = try await harness.run()
        #expect(processor.texts == ["1", "2", "3", "4", "5", "6"])
        #expect(result.shardEnded)
        #expect(result.checkpoints.count == 4)
        #expect(result.checkpoints.last == .shardEnd)
        #expect(result.checkpoints[1].subSequenceNumber == 2, "the aggregate's last user record")
        #expect(result.failures.isEmpty)
        // The expired iterator was renewed right after the last record delivered.
        #expect(result.iteratorRequests.count == 2)
        #expect(result.iteratorRequests[1].shardIteratorType == .afterSequenceNumber)
        #expect(result.iteratorRequests[1].startingSequenceNumber == result.checkpoints[1].sequenceNumber)
    }

    @Test("a record that keeps failing is retried, then handed to the failure hook; the shard goes on")
    func failureHook() async throws {
        let processor = Collector(poison: ["bad"], flaky: ["flaky"])
        var harness = RecordProcessorHarness(processor: processor)
        harness.records([("k", "ok-1"), ("k", "bad"), ("k", "flaky"), ("k", "ok-2")])
        let result = try await harness.run()
        #expect(processor.texts == ["ok-1", "flaky", "ok-2"])
        #expect(result.failures.map { String(decoding: $0.record.data, as: UTF8.self) } == ["bad"])
        #expect(result.failures.first?.attempts == 3)
        #expect(result.retried.count == 2, "bad (3 attempts) and flaky (2)")
        #expect(processor.failed.withLock { $0.count } == 1)
        #expect(result.checkpoints.count == 1, "the batch is checkpointed: nothing blocks the shard")
    }

    @Test("after a restart, sub-records of an aggregate at or below the checkpoint are skipped")
    func resumeInsideAnAggregate() async throws {
        let first = Collector()
        var harness = RecordProcessorHarness(processor: first)
        harness.aggregate([("a", "1"), ("b", "2"), ("c", "3")])
        guard case .records(let records) = harness.steps[0] else { Issue.record("no records"); return }
        let second = Collector()
        var again = RecordProcessorHarness(processor: second)
        again.append(.records(records))
        again.resumeAfter = Checkpoint(position: ExtendedSequenceNumber(records[0].sequenceNumber, subSequenceNumber: 1))
        _ = try await again.run()
        #expect(second.texts == ["3"])
    }

    @Test("an out-of-range sub-record is delivered and flagged; a corrupt aggregate arrives raw, flagged")
    func outOfRangeAndCorrupt() async throws {
        let processor = Collector()
        var harness = RecordProcessorHarness(processor: processor, hashRange: 0...(UInt128.max / 2))
        harness.aggregate([("a", "inside"), ("b", "outside")], explicitHashKeys: ["1", String(UInt128.max - 1)])
        var corrupt = Data(AggregatedRecord.magic)
        corrupt.append(Data(repeating: 7, count: 40))
        harness.append(.records([Record(sequenceNumber: "49000000000000000000000000000000000000000000000000000099", data: corrupt, partitionKey: "z", approximateArrivalTimestamp: nil)]))
        _ = try await harness.run()
        let seen = processor.seen.withLock { $0 }
        #expect(seen.map(\.text) == ["inside", "outside", String(decoding: corrupt, as: UTF8.self)])
        #expect(seen.map(\.outOfRange) == [false, true, false])
    }

    @Test("RecordingPublisher into a processor: publish app events, consume them, decode to app types")
    func recordingPublisherIntoAConsumer() async throws {
        struct Order: Codable, Equatable { var id: Int; var total: Double }
        final class Orders: RecordProcessor {
            let orders = Mutex<[Order]>([])
            func processRecord(_ record: ConsumerRecord) async throws {
                let order = try record.decode(Order.self)
                orders.withLock { $0.append(order) }
            }
            func recordFailed(_ failure: RecordFailure) async {}
        }
        let publisher = RecordingPublisher()
        for id in 1...3 { _ = try await publisher.publish(Order(id: id, total: Double(id) * 10), partitionKey: "order-\(id)") }
        let processor = Orders()
        var harness = RecordProcessorHarness(processor: processor)
        harness.published(publisher)
        _ = try await harness.run()
        #expect(processor.orders.withLock { $0 } == [Order(id: 1, total: 10), Order(id: 2, total: 20), Order(id: 3, total: 30)])
    }
}

@Suite("Shard reader")
struct ShardReaderTests {
    @Test("every iterator type starts where it says")
    func iteratorTypes() async throws {
        let engine = try await engineStream(shards: 1)
        var sequences: [String] = []
        for index in 0..<5 {
            sequences.append(try await engine.putRecord(.init(streamName: "events", data: Data("r\(index)".utf8), partitionKey: "k")).sequenceNumber)
        }
        func read(_ start: StartingPosition) async throws -> [String] {
            var options = ShardReaderOptions()
            options.minimumCallInterval = .zero
            var out: [String] = []
            for try await batch in ShardReader(api: engine, stream: "events", shardId: ShardMap.shardId(index: 0), from: start, options: options) {
                out += batch.records.map { String(decoding: $0.data, as: UTF8.self) }
                if batch.millisBehindLatest == 0 { break }
            }
            return out
        }
        #expect(try await read(.trimHorizon) == ["r0", "r1", "r2", "r3", "r4"])
        #expect(try await read(.atSequenceNumber(sequences[2])) == ["r2", "r3", "r4"])
        #expect(try await read(.afterSequenceNumber(sequences[2])) == ["r3", "r4"])
        #expect(try await read(.latest) == [])
        #expect(try await read(.atTimestamp(Date(timeIntervalSince1970: 0))) == ["r0", "r1", "r2", "r3", "r4"])
    }

    @Test("an iterator expired by a manual clock advanced 301 s is renewed: nothing lost, nothing repeated")
    func expiredIterator() async throws {
        let clock = ManualClock()
        let engine = try await engineStream(shards: 1, clock: clock.engineClock)
        for index in 0..<10 { _ = try await engine.putRecord(.init(streamName: "events", data: Data("r\(index)".utf8), partitionKey: "k")) }
        var options = ShardReaderOptions()
        options.minimumCallInterval = .zero
        options.maxRecordsPerCall = 4
        var iterator = ShardReader(api: engine, stream: "events", shardId: ShardMap.shardId(index: 0), from: .trimHorizon, options: options, clock: ConsumerClock(clock))
            .makeAsyncIterator()
        var read = try await iterator.next()!.records
        clock.advance(by: .seconds(301))
        while read.count < 10, let batch = try await iterator.next() { read += batch.records }
        #expect(read.map { String(decoding: $0.data, as: UTF8.self) } == (0..<10).map { "r\($0)" })
        #expect(engine.calls.contains { $0.operation == .getShardIterator && $0.errorCode == nil } )
        #expect(engine.calls.contains { $0.operation == .getRecords && $0.errorCode == "ExpiredIteratorException" })
    }

    @Test("throttled reads back off with jitter and lose nothing")
    func throttled() async throws {
        let engine = try await engineStream(shards: 1)
        for index in 0..<50 { _ = try await engine.putRecord(.init(streamName: "events", data: Data("r\(index)".utf8), partitionKey: "k\(index)")) }
        engine.faults { $0.failNext(4, .getRecords, with: .throttled) }
        var options = ShardReaderOptions()
        options.minimumCallInterval = .zero
        options.backoffBase = .milliseconds(1)
        options.maxRecordsPerCall = 20
        var read: [String] = []
        for try await batch in ShardReader(api: engine, stream: "events", shardId: ShardMap.shardId(index: 0), from: .trimHorizon, options: options) {
            read += batch.records.map { String(decoding: $0.data, as: UTF8.self) }
            if batch.millisBehindLatest == 0, read.count >= 50 { break }
        }
        #expect(read == (0..<50).map { "r\($0)" })
        #expect(engine.calls.filter { $0.errorCode == "ProvisionedThroughputExceededException" }.count == 4)
    }

    @Test("the engine's read limits: 5 GetRecords per second per shard, then AWS's throttle")
    func readLimits() async throws {
        let clock = ManualClock()
        let engine = try await engineStream(shards: 1, clock: clock.engineClock, limits: .aws)
        _ = try await engine.putRecord(.init(streamName: "events", data: Data("x".utf8), partitionKey: "k"))
        let iterator = try await engine.getShardIterator(.init(streamName: "events", shardId: ShardMap.shardId(index: 0), shardIteratorType: .trimHorizon)).shardIterator!
        for _ in 0..<5 { _ = try await engine.getRecords(.init(shardIterator: iterator)) }
        await #expect(throws: KinesisError.self) { _ = try await engine.getRecords(.init(shardIterator: iterator)) }
        clock.advance(by: .seconds(1))
        _ = try await engine.getRecords(.init(shardIterator: iterator))

        // 2 MiB/s out per shard, shared by every reader: 3 MB read at once leaves the next call throttled.
        let big = try await engineStream("big", shards: 1, clock: clock.engineClock, limits: .aws)
        for index in 0..<3 {
            _ = try await big.putRecord(.init(streamName: "big", data: Data(repeating: UInt8(index), count: 1_000_000), partitionKey: "k"))
            clock.advance(by: .seconds(1))
        }
        let first = try await big.getShardIterator(.init(streamName: "big", shardId: ShardMap.shardId(index: 0), shardIteratorType: .trimHorizon)).shardIterator!
        let second = try await big.getShardIterator(.init(streamName: "big", shardId: ShardMap.shardId(index: 0), shardIteratorType: .trimHorizon)).shardIterator!
        #expect(try await big.getRecords(.init(shardIterator: first)).records.count == 3)
        do {
            _ = try await big.getRecords(.init(shardIterator: second))
            Issue.record("a second reader got more than the shard's 2 MiB/s")
        } catch let error as KinesisError {
            #expect(error.code == .provisionedThroughputExceeded)
            #expect(error.message.hasPrefix("Rate exceeded for Shard - shardId-000000000000 in stream big"))
        }
    }
}

@Suite("Stream consumer", .serialized)
struct StreamConsumerTests {
    /// Splits, merges and splits again while a producer writes; the consumer (concurrency 4)
    /// must process every record, in order per key, each parent before its children.
    @Test("three reshards while producing: every record, in order per key, parents before children")
    func reshardsWhileProducing() async throws {
        let engine = try await engineStream(shards: 2)
        // The Producer resends an aggregate that a reshard misrouted; the copy that landed is
        // flagged, and skipped here as the KCL would drop it.
        let processor = Collector(skipMisrouted: true)
        let consumer = StreamConsumer(api: engine, configuration: fastConfiguration(concurrency: 4), processor: processor)
        let consuming = Task { try await consumer.run() }

        var configuration = Producer.Configuration(streamName: "events")
        configuration.aggregation = true
        configuration.maxBufferedTime = .milliseconds(5)
        configuration.ordering = .perKey
        let producer = Producer(api: engine, configuration: configuration)
        let total = 6_000
        try await producer.withRunning {
            for index in 0..<total {
                _ = try await producer.put(data: Data("k\(index % 60)-\(index / 60)".utf8), partitionKey: "k\(index % 60)")
                // Each generation of shards gets records: what was put lands before the reshard,
                // and what follows is routed by the producer's stale shard map at first.
                if index % 1_500 == 0, index > 0 { await producer.flush() }
                if index == 1_500 {
                    _ = try await engine.splitShard(.init(streamName: "events", shardToSplit: ShardMap.shardId(index: 0), newStartingHashKey: String(UInt128.max / 4)))
                } else if index == 3_000 {
                    _ = try await engine.mergeShards(.init(streamName: "events", shardToMerge: ShardMap.shardId(index: 2), adjacentShardToMerge: ShardMap.shardId(index: 3)))
                } else if index == 4_500 {
                    _ = try await engine.splitShard(.init(streamName: "events", shardToSplit: ShardMap.shardId(index: 1), newStartingHashKey: String(UInt128.max / 4 * 3)))
                }
            }
            await producer.flush()
        }
        #expect(producer.statistics.delivered == total)
        let resent = producer.statistics.resentAfterReshard
        // Wait (bounded) until the consumer has caught up, then stop it.
        for _ in 0..<2000 where processor.seen.withLock({ $0.count }) < total { try await Task.sleep(for: .milliseconds(10)) }
        consumer.shutdown()
        try await consuming.value

        let seen = processor.seen.withLock { $0 }
        #expect(Set(seen.map(\.text)).count == total, "every record processed")
        #expect(seen.count == total, "and once")
        // Per key, in put order.
        var last: [String: Int] = [:]
        var outOfOrder = 0
        for record in seen {
            let n = Int(record.text.split(separator: "-")[1])!
            if let previous = last[record.partitionKey], previous > n { outOfOrder += 1 }
            last[record.partitionKey] = n
        }
        #expect(outOfOrder == 0)
        // Parents before children, from the order of processing.
        let shards = try await StreamManager(api: engine).listAllShards(stream: "events")
        #expect(shards.count == 7)
        let firstIndex = Dictionary(seen.enumerated().map { ($0.element.shardId, $0.offset) }, uniquingKeysWith: min)
        let lastIndex = Dictionary(seen.enumerated().map { ($0.element.shardId, $0.offset) }, uniquingKeysWith: max)
        for shard in shards {
            for parent in [shard.parentShardId, shard.adjacentParentShardId].compactMap({ $0 }) {
                guard let childFirst = firstIndex[shard.shardId], let parentLast = lastIndex[parent] else { continue }
                #expect(parentLast < childFirst, "\(parent) before \(shard.shardId)")
            }
        }
        let read = Set(seen.map(\.shardId))
        #expect(!read.isDisjoint(with: [ShardMap.shardId(index: 0), ShardMap.shardId(index: 1)]), "records came from the first shards")
        #expect(!read.isDisjoint(with: (4...6).map(ShardMap.shardId)), "and from the last generation")
        #expect(processor.skipped.withLock { $0 } >= resent, "every resent record's first copy was flagged")
    }

    /// A checkpoint store whose writes start failing after a number of saves: the process
    /// "crashes" after processing a batch and before checkpointing it.
    final class CrashingStore: CheckpointStore {
        let base: any CheckpointStore
        let remaining: Mutex<Int>
        init(base: any CheckpointStore, saves: Int) {
            self.base = base
            remaining = Mutex(saves)
        }
        struct Crash: Error {}
        func checkpoint(application: String, stream: String, shardId: String) async throws -> Checkpoint? {
            try await base.checkpoint(application: application, stream: stream, shardId: shardId)
        }
        func save(_ checkpoint: Checkpoint, application: String, stream: String, shardId: String) async throws {
            if remaining.withLock({ $0 -= 1; return $0 < 0 }) { throw Crash() }
            try await base.save(checkpoint, application: application, stream: stream, shardId: shardId)
        }
    }

    @Test("a restart with the SQLite store resumes with no gap and repeats at most the batch that was not checkpointed")
    func restartFromSQLite() async throws {
        let engine = try await engineStream(shards: 1)
        for index in 0..<1_000 { _ = try await engine.putRecord(.init(streamName: "events", data: Data("r\(index)".utf8), partitionKey: "k\(index)")) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("checkpoints-\(UUID().uuidString).sqlite").path
        var configuration = fastConfiguration()
        configuration.reader.maxRecordsPerCall = 100
        let first = Collector()
        let crashing = CrashingStore(base: try SQLiteCheckpointStore(path: path), saves: 4)
        await #expect(throws: ShardReadError.self) {
            try await StreamConsumer(api: engine, configuration: configuration, processor: first, checkpoints: crashing).run()
        }
        #expect(first.texts.count == 500, "five batches processed, four checkpointed")
        let second = Collector()
        let consumer = StreamConsumer(api: engine, configuration: configuration, processor: second, checkpoints: try SQLiteCheckpointStore(path: path))
        try await consumer.run(untilCaughtUp: true)
        #expect(second.texts.first == "r400", "resumes right after the last checkpoint")
        #expect(Set(first.texts + second.texts) == Set((0..<1_000).map { "r\($0)" }), "no gap")
        #expect(first.texts.count + second.texts.count - 1_000 == 100, "repeats exactly the batch that was not checkpointed")
    }

    @Test("a checkpoint database that cannot be opened is an error naming the file")
    func unreadableCheckpointStore() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dir-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        do {
            _ = try SQLiteCheckpointStore(path: folder)
            Issue.record("a directory opened as a checkpoint database")
        } catch {
            #expect("\(error)".contains("checkpoint database \(folder)"))
        }
    }

    @Test("on a manual clock: a test advances time instead of sleeping, and a graceful stop checkpoints the batch in hand")
    func manualClock() async throws {
        let clock = ManualClock()
        let engine = try await engineStream(shards: 2, clock: clock.engineClock)
        for index in 0..<20 { _ = try await engine.putRecord(.init(streamName: "events", data: Data("r\(index)".utf8), partitionKey: "k\(index)")) }
        let processor = Collector()
        let store = InMemoryCheckpointStore()
        var configuration = StreamConsumer.Configuration(streamName: "events", applicationName: "test")
        configuration.reader.idleTime = .seconds(1)
        let consumer = StreamConsumer(api: engine, configuration: configuration, processor: processor, checkpoints: store, clock: ConsumerClock(clock))
        let running = Task { try await consumer.run() }
        // Both shard readers read once, then wait (paced) on the clock, as does the shard sync.
        await clock.waitForSleepers(3)
        #expect(processor.texts.count == 20)
        _ = try await engine.putRecord(.init(streamName: "events", data: Data("late".utf8), partitionKey: "late"))
        clock.advance(by: .seconds(1))
        for _ in 0..<1000 where !processor.texts.contains("late") { try await Task.sleep(for: .milliseconds(5)) }
        #expect(processor.texts.contains("late"))
        consumer.shutdown()
        try await running.value
        let checkpoints = store.all(application: "test", stream: "events")
        #expect(checkpoints.count == 2)
        #expect(checkpoints.values.allSatisfy { $0.position.kind == .sequence })
    }

    @Test("a checkpoint past the shard's retention is reported, and reading goes on from the oldest record left")
    func trimmedCheckpoint() async throws {
        let clock = ManualClock()
        let engine = try await engineStream(shards: 1, clock: clock.engineClock)
        var old: [String] = []
        for index in 0..<5 {
            old.append(try await engine.putRecord(.init(streamName: "events", data: Data("old-\(index)".utf8), partitionKey: "k")).sequenceNumber)
        }
        clock.advance(by: .seconds(23 * 3600))
        for index in 0..<5 { _ = try await engine.putRecord(.init(streamName: "events", data: Data("new-\(index)".utf8), partitionKey: "k")) }
        clock.advance(by: .seconds(2 * 3600))   // the old five are now past the 24-hour retention
        let store = InMemoryCheckpointStore()
        try await store.save(
            Checkpoint(position: ExtendedSequenceNumber(old[1]), arrival: Date(timeIntervalSince1970: clock.engineClock.now() - 25 * 3600)),
            application: "test", stream: "events", shardId: ShardMap.shardId(index: 0))
        let metrics = TestMetrics()
        var configuration = fastConfiguration()
        configuration.metricsFactory = metrics
        let processor = Collector()
        try await StreamConsumer(api: engine, configuration: configuration, processor: processor, checkpoints: store, clock: ConsumerClock(clock))
            .run(untilCaughtUp: true)
        #expect(processor.texts == (0..<5).map { "new-\($0)" })
        #expect(try metrics.expectCounter("kinesis_consumer_trimmed_checkpoints_total", [("stream", "events")]).totalValue == 1)
    }

    @Test("a key repeated in an aggregate is judged in range or not the same way each time, and hashed by its MD5")
    func repeatedKeysInAnAggregate() throws {
        // Even 2-shard map: "user-123" hashes into shard 1 (its MD5 is above 2^127), "a" into shard 0.
        let map = ShardMap.even(count: 2)
        let inside = try #require(map.shardId(forPartitionKey: "user-123"))
        let range = try #require(map.entries.first { $0.shardId == inside }?.range)
        let other = ["a", "b", "c", "d", "e"].first { map.shardId(forPartitionKey: $0) != inside }!
        var builder = AggregatedRecordBuilder()
        for (index, key) in ["user-123", other, "user-123", other, "user-123"].enumerated() {
            _ = builder.append(.init(partitionKey: key, data: Data("\(index)".utf8)))
        }
        let built = try #require(builder.build())
        let record = Record(sequenceNumber: "1", data: built.data, partitionKey: built.partitionKey, approximateArrivalTimestamp: nil)
        let users = Deaggregator.userRecords([record], shardId: inside, range: range)
        #expect(users.map(\.partitionKey) == ["user-123", other, "user-123", other, "user-123"])
        #expect(users.map(\.outOfShardRange) == [false, true, false, true, false])
        #expect(users.allSatisfy { $0.inMisroutedAggregate })
        #expect(users.map(\.subSequenceNumber) == [0, 1, 2, 3, 4])
        #expect(users.map { String(decoding: $0.data, as: UTF8.self) } == ["0", "1", "2", "3", "4"])
    }

    @Test("partition keys remembered across aggregates: same keys, flags and data as without, whatever each table's order; a full cache starts over")
    func partitionKeyCacheAcrossAggregates() throws {
        let map = ShardMap.even(count: 2)
        let inside = try #require(map.shardId(forPartitionKey: "user-123"))
        let range = try #require(map.entries.first { $0.shardId == inside }?.range)
        let keys = (0..<40).map { "key-\($0)" } + ["user-123", "ü-ключ", ""]
        var records: [Record] = []
        for aggregate in 0..<6 {
            var builder = AggregatedRecordBuilder()
            // Each aggregate lists the keys in another order, so a key's table index changes.
            for (index, key) in keys.shuffled().enumerated() {
                _ = builder.append(.init(partitionKey: key, data: Data("\(aggregate)-\(index)".utf8)))
            }
            let built = try #require(builder.build())
            records.append(Record(sequenceNumber: "\(aggregate)", data: built.data, partitionKey: built.partitionKey, approximateArrivalTimestamp: nil))
        }
        // What the aggregates hold, read without any cache.
        let expected = try records.flatMap { try #require(AggregatedRecord.deaggregate($0.data)) }
        var cache: PartitionKeyCache? = PartitionKeyCache(capacity: 16)
        let read =
            Deaggregator.userRecords(Array(records[..<3]), shardId: inside, range: range, keys: &cache)
            + Deaggregator.userRecords(Array(records[3...]), shardId: inside, range: range, keys: &cache)
        #expect(read.count == 6 * keys.count)
        #expect(read.map(\.partitionKey) == expected.map(\.partitionKey))
        #expect(read.map(\.data) == expected.map(\.data))
        #expect(read.map(\.outOfShardRange) == expected.map { map.shardId(forPartitionKey: $0.partitionKey) != inside })
        #expect(read.filter { $0.partitionKey == "user-123" }.allSatisfy { !$0.outOfShardRange })
        #expect(Deaggregator.userRecords(records, shardId: inside, range: range) == read)
        #expect(try #require(cache).count <= 16)
    }

    @Test("metrics: records read, out-of-range sub-records and processing errors are counted")
    func metrics() async throws {
        let engine = try await engineStream(shards: 2)
        var builder = AggregatedRecordBuilder()
        _ = builder.append(.init(partitionKey: "a", explicitHashKey: "1", data: Data("in".utf8)))
        _ = builder.append(.init(partitionKey: "b", explicitHashKey: String(UInt128.max - 1), data: Data("out".utf8)))
        let built = builder.build()!
        _ = try await engine.putRecord(.init(streamName: "events", data: built.data, partitionKey: built.partitionKey, explicitHashKey: "1"))
        let metrics = TestMetrics()
        var configuration = fastConfiguration()
        configuration.metricsFactory = metrics
        let processor = Collector(poison: ["in"])
        try await StreamConsumer(api: engine, configuration: configuration, processor: processor).run(untilCaughtUp: true)
        #expect(processor.seen.withLock { $0.map(\.outOfRange) } == [true])
        #expect(try metrics.expectCounter("kinesis_consumer_records_total", [("stream", "events")]).totalValue == 2)
        #expect(try metrics.expectCounter("kinesis_consumer_out_of_range_records_total", [("stream", "events")]).totalValue == 1)
        #expect(try metrics.expectCounter("kinesis_consumer_failed_records_total", [("stream", "events")]).totalValue == 1)
        #expect(try metrics.expectCounter("kinesis_consumer_processing_errors_total", [("stream", "events")]).totalValue == 3)
    }
}
