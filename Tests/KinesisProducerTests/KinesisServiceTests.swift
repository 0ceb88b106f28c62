import Foundation
import Kinesis
import KinesisProducer
import KinesisTesting
import Synchronization
import Testing

struct UserAction: Codable, Equatable, Sendable {
    var eventType = "USER_ACTION"
    var userId: String
    var at: Date
}

func makeStream(
    shards: Int = 2, configuration: EngineConfiguration = EngineConfiguration(), clock: any EngineClock = ManualEngineClock()
) async throws -> InMemoryKinesis {
    let engine = InMemoryKinesis(configuration: configuration, clock: clock)
    try await engine.createStream(.init(streamName: "events", shardCount: shards))
    return engine
}

let fastRetry = RetryPolicy(maxAttempts: 20, baseDelay: .milliseconds(1), maxDelay: .milliseconds(2), deadline: .seconds(30))

@Suite("KinesisService")
struct KinesisServiceTests {
    @Test("publish encodes with the configured encoder and reports shard and sequence number")
    func publishEvent() async throws {
        let engine = try await makeStream()
        let service = KinesisService(api: engine, streamName: "events", encoder: {
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            return encoder
        })
        let event = UserAction(userId: "user-123", at: Date(timeIntervalSince1970: 0))
        let result = try await service.publish(event, partitionKey: "user-123")
        let stored = try #require(engine.snapshot().stream("events")?.records.first)
        #expect(String(decoding: stored.data, as: UTF8.self).contains("\"at\":\"1970-01-01T00:00:00Z\""))
        #expect(stored.sequenceNumber == result.sequenceNumber)
        #expect(result.shardId == "shardId-000000000001")   // MD5("user-123") is above 2^127
    }

    @Test("bad records fail before sending, naming the limit")
    func checksBeforeSending() async throws {
        let engine = try await makeStream()
        let service = KinesisService(api: engine, streamName: "events")
        await #expect { _ = try await service.publish(data: Data(), partitionKey: "") } throws: { error in
            "\(error)".contains("the partition key is 0 characters; Kinesis accepts 1 to 256")
        }
        await #expect { _ = try await service.publish(data: Data(count: 1_048_576), partitionKey: "k") } throws: { error in
            "\(error)".contains("1048577 bytes, over the maximum record size of 1048576 bytes")
        }
        let big = KinesisService(api: engine, streamName: "events", limits: RecordLimits(maximumRecordBytes: 2_000_000))
        await #expect(throws: PublishError.self) { _ = try await big.publish(data: Data(count: 1_500_000), partitionKey: "k") }
        #expect(engine.calls.filter { $0.operation == .putRecord }.count == 1)   // only the one the larger limit let through
    }

    @Test("publish retries throttling, never validation errors")
    func publishRetries() async throws {
        let engine = try await makeStream()
        let service = KinesisService(api: engine, streamName: "events", retry: fastRetry)
        engine.faults { $0.failNext(2, .putRecord, with: .throttled) }
        _ = try await service.publish(data: Data("x".utf8), partitionKey: "k")
        #expect(engine.calls.filter { $0.operation == .putRecord }.count == 3)

        let missing = KinesisService(api: engine, streamName: "missing", retry: fastRetry)
        await #expect { _ = try await missing.publish(data: Data("x".utf8), partitionKey: "k") } throws: { error in
            (error as? PublishError)?.underlying?.code == .resourceNotFound
        }
        #expect(engine.calls.filter { $0.operation == .putRecord && $0.streamName == "missing" }.count == 1)
    }

    @Test("publishBatch splits by 500 entries and by the request byte limit")
    func splits() async throws {
        let engine = try await makeStream()
        let service = KinesisService(api: engine, streamName: "events")
        let small = (0..<1200).map { PublishEntry(data: Data("\($0)".utf8), partitionKey: "k\($0)") }
        #expect(try await service.publishBatch(small).publishedCount == 1200)
        #expect(engine.calls.filter { $0.operation == .putRecords }.map(\.recordCount) == [500, 500, 200])

        engine.reset()
        try await engine.createStream(.init(streamName: "events", shardCount: 2))
        let large = (0..<40).map { PublishEntry(data: Data(count: 300_000), partitionKey: "k\($0)") }   // 12 MB
        #expect(try await service.publishBatch(large).publishedCount == 40)
        #expect(engine.calls.filter { $0.operation == .putRecords }.map(\.recordCount) == [34, 6])
    }

    @Test("publishBatch resends only the failed entries until all land, each exactly once")
    func resendsOnlyFailed() async throws {
        let engine = try await makeStream(shards: 4)
        engine.faults {
            $0.recordThrottleProbability = 0.3
            $0.recordInternalFailureProbability = 0.05
        }
        let service = KinesisService(api: engine, streamName: "events", retry: fastRetry)
        let entries = (0..<2000).map { PublishEntry(data: Data("event-\($0)".utf8), partitionKey: "user-\($0 % 97)") }
        let result = try await service.publishBatch(entries)
        #expect(result.publishedCount == 2000)
        let stored = engine.snapshot().stream("events")!.records.map { String(decoding: $0.data, as: UTF8.self) }
        #expect(stored.count == 2000)
        #expect(Set(stored) == Set(entries.map { String(decoding: $0.data, as: UTF8.self) }))
        let calls = engine.calls.filter { $0.operation == .putRecords }
        let sent = calls.reduce(0) { $0 + $1.recordCount + $1.failedRecordCount }
        let failed = calls.reduce(0) { $0 + $1.failedRecordCount }
        #expect(sent == 2000 + failed)   // nothing that landed was sent again
        #expect(failed > 0)
    }

    @Test("publishBatch reports every entry's fate: invalid ones unsent, others failed after the attempts")
    func reportsFate() async throws {
        let engine = try await makeStream()
        engine.faults { $0.recordThrottleProbability = 1 }
        let service = KinesisService(
            api: engine, streamName: "events", retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(1), maxDelay: .milliseconds(1)))
        let result = try await service.publishBatch([
            PublishEntry(data: Data("a".utf8), partitionKey: "k"), PublishEntry(data: Data("b".utf8), partitionKey: ""),
        ])
        guard case .failed(let firstCode, _, let firstAttempts) = result.outcomes[0] else {
            Issue.record("an entry throttled every time must fail")
            return
        }
        #expect(firstCode == "ProvisionedThroughputExceededException")
        #expect(firstAttempts == 3)
        guard case .failed(let code, let message, let attempts) = result.outcomes[1] else {
            Issue.record("the entry with an empty key must fail")
            return
        }
        #expect(code == "InvalidPartitionKey")
        #expect(message.hasPrefix("record 1 (partition key '')"))
        #expect(attempts == 0)
    }
}

@Suite("Partition key strategies")
struct PartitionKeyStrategyTests {
    struct Order: Sendable {
        var orderId: String
        var tenant: String
    }

    @Test("round-robin over the shard map lands on every shard in turn")
    func roundRobinShards() async throws {
        let engine = try await makeStream(shards: 5)
        let map = try ShardMap(shards: try await engine.listShards(.init(streamName: "events")).shards ?? [])
        let strategy = PartitionKeyStrategy<Order>.roundRobin(over: map)
        var landed: [String] = []
        for index in 0..<10 {
            let key = strategy.key(for: Order(orderId: "\(index)", tenant: "t"))
            landed.append(
                try await engine.putRecord(
                    .init(streamName: "events", data: Data(), partitionKey: key.key, explicitHashKey: key.explicitHashKey)
                ).shardId)
        }
        let ids = map.entries.map(\.shardId)
        #expect(landed == ids + ids)
    }

    @Test("publishBatch resends the throttled entries of a round in which another entry failed for good")
    func mixedBatchResendsRetryable() async throws {
        let engine = try await makeStream()
        // The first PutRecords answers: entry 0 throttled, entry 1 refused by KMS (not retryable).
        let api = ScriptedPutRecords(base: engine, first: [
            PutRecordsResultEntry(errorCode: "ProvisionedThroughputExceededException", errorMessage: "Rate exceeded for shard"),
            PutRecordsResultEntry(errorCode: "KMSAccessDeniedException", errorMessage: "denied"),
        ])
        let service = KinesisService(api: api, streamName: "events", retry: fastRetry)
        let result = try await service.publishBatch([
            PublishEntry(data: Data("a".utf8), partitionKey: "a"), PublishEntry(data: Data("b".utf8), partitionKey: "b"),
        ])
        guard case .published = result.outcomes[0] else {
            Issue.record("the throttled entry was abandoned: \(result.outcomes[0])")
            return
        }
        guard case .failed(let code, _, let attempts) = result.outcomes[1] else {
            Issue.record("the refused entry was published: \(result.outcomes[1])")
            return
        }
        #expect(code == "KMSAccessDeniedException")
        #expect(attempts == 1)
        #expect(engine.snapshot().stream("events")?.records.map { String(decoding: $0.data, as: UTF8.self) } == ["a"])
    }

    @Test("publishBatch with per-key ordering resends a throttled entry before the next entry of its key", arguments: [true, false])
    func batchKeepsPerKeyOrder(ordered: Bool) async throws {
        let engine = try await makeStream(shards: 1)
        let api = ThrottleOnce(base: engine, data: "a1")
        var service = KinesisService(api: api, streamName: "events", retry: fastRetry)
        service.ordering = ordered ? .perKey : .none
        let names = ["a1", "b1", "a2", "a3", "b2"]
        let result = try await service.publishBatch(names.map { PublishEntry(data: Data($0.utf8), partitionKey: String($0.prefix(1))) })
        #expect(result.publishedCount == 5)
        let stored = try await engine.readAll(stream: "events", shardId: "shardId-000000000000").map { String(decoding: $0.data, as: UTF8.self) }
        let keyA = stored.filter { $0.hasPrefix("a") }
        if ordered {
            #expect(keyA == ["a1", "a2", "a3"])
            #expect(engine.calls.filter { $0.operation == .putRecords }.allSatisfy { $0.recordCount <= 2 })   // one entry per key per request
        } else {
            #expect(keyA == ["a2", "a3", "a1"])   // what no ordering costs: the resent entry lands last
        }
    }

    @Test("round-robin keys rotate; hash buckets are stable; constant, composite, field and time windows")
    func strategies() {
        let order = Order(orderId: "o-1", tenant: "acme")
        let rr = PartitionKeyStrategy<Order>.roundRobin(keys: 3)
        #expect((0..<7).map { _ in rr.key(for: order).key } == ["rr_0", "rr_1", "rr_2", "rr_0", "rr_1", "rr_2", "rr_0"])
        let hash = PartitionKeyStrategy<Order>.hash(buckets: 8) { $0.orderId }
        #expect(hash.key(for: order) == hash.key(for: order))
        #expect(Set((0..<200).map { hash.key(for: Order(orderId: "o-\($0)", tenant: "")).key }).count == 8)
        #expect(PartitionKeyStrategy<Order>.constant("hot").key(for: order).key == "hot")
        #expect(PartitionKeyStrategy<Order>.composite([{ $0.tenant }, { $0.orderId }]).key(for: order).key == "acme_o-1")
        #expect(PartitionKeyStrategy<Order>.field { $0.orderId }.key(for: order).key == "o-1")
        let window = PartitionKeyStrategy<Order>.timeWindow(.seconds(60)) { Date(timeIntervalSince1970: 600) }
        #expect(window.key(for: order).key == "time_10")
        let random = PartitionKeyStrategy<Order>.random(keys: 4, seed: 1)
        #expect(Set((0..<100).map { _ in random.key(for: order).key }) == ["random_0", "random_1", "random_2", "random_3"])
    }
}

/// Answers the first PutRecords with scripted entries, then passes every call on.
final class ScriptedPutRecords: KinesisAPIForwarding, Sendable {
    let base: any KinesisAPI
    private let first: Mutex<[PutRecordsResultEntry]?>
    init(base: any KinesisAPI, first: [PutRecordsResultEntry]) {
        self.base = base
        self.first = Mutex(first)
    }
    func putRecords(_ input: PutRecordsInput) async throws -> PutRecordsOutput {
        if let scripted = first.withLock({ value in defer { value = nil }; return value }) {
            return PutRecordsOutput(records: scripted, failedRecordCount: scripted.count)
        }
        return try await base.putRecords(input)
    }
}

/// Throttles the first PutRecords entry whose data is `data`, once; passes everything else on.
final class ThrottleOnce: KinesisAPIForwarding, Sendable {
    let base: any KinesisAPI
    private let target: Data
    private let done = Mutex(false)
    init(base: any KinesisAPI, data: String) {
        self.base = base
        self.target = Data(data.utf8)
    }
    func putRecords(_ input: PutRecordsInput) async throws -> PutRecordsOutput {
        guard let position = input.records.firstIndex(where: { $0.data == target }),
            done.withLock({ done in defer { done = true }; return !done })
        else { return try await base.putRecords(input) }
        var rest = input
        rest.records.remove(at: position)
        var output = rest.records.isEmpty ? PutRecordsOutput(records: [], failedRecordCount: 0) : try await base.putRecords(rest)
        output.records.insert(
            PutRecordsResultEntry(errorCode: "ProvisionedThroughputExceededException", errorMessage: "Rate exceeded for shard"), at: position)
        output.failedRecordCount = (output.failedRecordCount ?? 0) + 1
        return output
    }
}
