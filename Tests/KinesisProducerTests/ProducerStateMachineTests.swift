import Foundation
import Kinesis
import Testing

@testable import KinesisProducer

/// The Producer's decisions, step by step: no engine, no task, no wall clock. Time is the
/// `now:` argument, in seconds since the producer started.
@Suite("Producer state machine")
struct ProducerStateMachineTests {
    typealias Machine = ProducerStateMachine

    static func machine(shards: Int? = 2, _ change: (inout Producer.Configuration) -> Void = { _ in }) -> Machine {
        var configuration = Producer.Configuration(streamName: "s")
        configuration.rateLimitPercent = nil
        change(&configuration)
        var machine = Machine(configuration: .init(configuration), seed: 7)
        if let shards {
            _ = machine.install(.even(count: shards))
        } else {
            _ = machine.mapUnavailable()
        }
        return machine
    }

    static func user(_ key: String, bytes: Int = 10, at arrival: Double = 0) -> Machine.UserEntry {
        Machine.UserEntry(
            partitionKey: key, explicitHashKey: nil, data: Data(count: bytes), hashKey: ShardMap.hashKey(forPartitionKey: key),
            arrival: arrival, completion: .ticket(RecordTicket()))
    }

    static func landed(_ request: [Machine.Outgoing]) -> [(Machine.Outgoing, Result<PutRecordsResultEntry, KinesisError>)] {
        request.map { ($0, .success(PutRecordsResultEntry(sequenceNumber: "1", shardId: $0.shardId))) }
    }

    static let throttled = KinesisError(code: .provisionedThroughputExceeded, message: "Rate exceeded for shard")

    @Test("records wait in their shard's aggregate until maxBufferedTime, then go out as one request")
    func buffersUntilDue() throws {
        var machine = Self.machine { $0.maxBufferedTime = .milliseconds(100) }
        for index in 0..<10 { #expect(try machine.admit(Self.user("k\(index)", at: 0))) }
        #expect(machine.collect(now: 0.05).requests.isEmpty)
        let requests = machine.collect(now: 0.1).requests
        #expect(requests.count == 1)
        #expect(requests[0].count == 2)   // one aggregate per shard
        #expect(requests[0].reduce(0) { $0 + $1.completions.count } == 10)
        #expect(Set(requests[0].compactMap(\.shardId)) == ["shardId-000000000000", "shardId-000000000001"])
    }

    @Test("without aggregation and without a map, every record is its own Kinesis record")
    func withoutAggregation() throws {
        var machine = Self.machine(shards: nil)
        for index in 0..<3 { #expect(try machine.admit(Self.user("k\(index)"))) }
        let request = try #require(machine.collect(now: 1).requests.first)
        #expect(request.map(\.partitionKey) == ["k0", "k1", "k2"])
        #expect(request.allSatisfy { $0.shardId == nil })
    }

    @Test("a full budget makes callers wait in order; settling admits them and buffers their records")
    func backpressure() throws {
        var machine = Self.machine { $0.maxInFlightRecords = 2 }
        #expect(try machine.admit(Self.user("a")))
        #expect(try machine.admit(Self.user("b")))
        #expect(try !machine.admit(Self.user("c")))
        #expect(try !machine.enqueue(Self.user("c"), id: 1))
        #expect(try !machine.enqueue(Self.user("d"), id: 2))
        // Nobody jumps the queue, even a record that would fit.
        #expect(try !machine.admit(Self.user("e")))
        let request = try #require(machine.collect(now: 1).requests.first)
        let actions = machine.settle(Self.landed(request), now: 1)
        #expect(actions.deliveredRecords == 2)
        #expect(actions.admitted == [1, 2])
        #expect(machine.inFlightRecords == 2)
        #expect(machine.collect(now: 2).requests.first?.reduce(0) { $0 + $1.completions.count } == 2)
    }

    @Test("a cancelled waiter leaves the queue without its record, and the callers behind it move up")
    func cancelledWaiter() throws {
        var machine = Self.machine { $0.maxInFlightRecords = 1 }
        #expect(try machine.admit(Self.user("a")))
        #expect(try !machine.enqueue(Self.user("b"), id: 1))
        #expect(try !machine.enqueue(Self.user("c"), id: 2))
        let cancelled = machine.cancelWaiting(id: 1)
        #expect(cancelled.wasWaiting)
        #expect(cancelled.actions.admitted.isEmpty)   // the budget is still full
        #expect(machine.waitingCount == 1)
        #expect(!machine.cancelWaiting(id: 1).wasWaiting)
        let request = try #require(machine.collect(now: 1).requests.first)
        #expect(machine.settle(Self.landed(request), now: 1).admitted == [2])
        let next = try #require(machine.collect(now: 2).requests.first)
        #expect(next.flatMap(\.completions).count == 1)
        #expect(machine.statistics.delivered == 1)
    }

    @Test("a throttled record is resent after RetryPolicy backoff and not before")
    func retriesWithBackoff() throws {
        var machine = Self.machine(shards: nil) {
            $0.retry = RetryPolicy(maxAttempts: .max, baseDelay: .seconds(1), maxDelay: .seconds(1), deadline: nil)
        }
        #expect(try machine.admit(Self.user("a")))
        let request = try #require(machine.collect(now: 1).requests.first)
        let actions = machine.settle(request.map { ($0, .failure(Self.throttled)) }, now: 1)
        #expect(actions.retries == 1)
        #expect(actions.errors == ["ProvisionedThroughputExceededException"])
        #expect(actions.delivered.isEmpty && actions.failed.isEmpty)
        // The wait is drawn from 0...1 s: at 2 s it is over whatever the draw.
        let resent = try #require(machine.collect(now: 2.0).requests.first)
        #expect(resent[0].attempts == 1)
        #expect(machine.statistics.retried == 1)
    }

    @Test("an error no retry can fix fails the record at once, with the AWS error attached")
    func rejects() throws {
        var machine = Self.machine(shards: nil)
        #expect(try machine.admit(Self.user("a")))
        let request = try #require(machine.collect(now: 1).requests.first)
        let denied = KinesisError(code: "KMSAccessDeniedException", message: "denied")
        let actions = machine.settle(request.map { ($0, .failure(denied)) }, now: 1)
        let error = try #require(actions.failed.first?.1)
        #expect(error.code == .rejected)
        #expect(error.underlying?.code.rawValue == "KMSAccessDeniedException")
        #expect(error.attempts == 1)
        #expect(machine.inFlightRecords == 0)
    }

    @Test("a record older than its TTL fails as Expired with the last error, and frees its budget")
    func expires() throws {
        var machine = Self.machine(shards: nil) {
            $0.recordTTL = .seconds(5)
            $0.retry = RetryPolicy(maxAttempts: .max, baseDelay: .milliseconds(1), maxDelay: .milliseconds(1), deadline: nil)
        }
        #expect(try machine.admit(Self.user("user-1", at: 0)))
        let request = try #require(machine.collect(now: 1).requests.first)
        _ = machine.settle(request.map { ($0, .failure(Self.throttled)) }, now: 1)
        let collected = machine.collect(now: 5.5)
        #expect(collected.requests.isEmpty)
        let error = try #require(collected.actions.failed.first?.1)
        #expect(error.code == .expired)
        #expect(error.lastErrorCode == "ProvisionedThroughputExceededException")
        #expect(error.message.contains("user-1"))
        #expect(collected.actions.expired == 1)
        #expect(machine.inFlightRecords == 0)
    }

    @Test("the per-shard rate limit holds records beyond 150% of 1,000 records/s until tokens refill")
    func rateLimit() throws {
        var machine = Self.machine(shards: 1) {
            $0.rateLimitPercent = 150
            $0.aggregation = false
            $0.maxInFlightRecords = 10_000
        }
        for index in 0..<2_000 { #expect(try machine.admit(Self.user("k\(index)"))) }
        // The bucket starts with one second's worth: 1,500 records.
        #expect(machine.collect(now: 1).requests.reduce(0) { $0 + $1.count } == 1_500)
        #expect(machine.readyCount == 500)
        #expect(machine.collect(now: 1.1).requests.reduce(0) { $0 + $1.count } == 150)
        #expect(machine.collect(now: 2).requests.reduce(0) { $0 + $1.count } == 350)
    }

    @Test("a request holds at most 500 records and the request byte limit")
    func requestLimits() throws {
        var machine = Self.machine(shards: nil) {
            $0.limits = RecordLimits(maximumRecordBytes: 1_048_576, maximumRequestBytes: 1_000, maximumRequestRecords: 500)
            $0.maxConcurrentRequests = 100
        }
        for index in 0..<1_200 { #expect(try machine.admit(Self.user("k\(index)", bytes: 0))) }
        #expect(machine.collect(now: 1).requests.map(\.count).allSatisfy { $0 <= 500 })
        var big = Self.machine(shards: nil) {
            $0.limits = RecordLimits(maximumRecordBytes: 1_048_576, maximumRequestBytes: 1_000, maximumRequestRecords: 500)
        }
        for index in 0..<10 { #expect(try big.admit(Self.user("k\(index)", bytes: 298))) }   // 300 bytes with the key
        #expect(big.collect(now: 1).requests.map(\.count) == [3, 3, 3, 1])
    }

    @Test("an aggregate that lands on a shard covering only part of it is resent whole after the next install")
    func misroutedAggregate() throws {
        var machine = Self.machine(shards: 1)
        for index in 0..<20 { #expect(try machine.admit(Self.user("k\(index)"))) }
        let request = try #require(machine.collect(now: 1).requests.first)
        #expect(request.count == 1)
        // The stream was split: the aggregate landed on child shard 1, which covers the lower half.
        let split = ShardMap(entries: [
            .init(shardId: "shardId-000000000001", range: 0...(UInt128.max / 2)),
            .init(shardId: "shardId-000000000002", range: (UInt128.max / 2 + 1)...UInt128.max),
        ])
        let landed = request.map { ($0, Result<PutRecordsResultEntry, KinesisError>.success(.init(sequenceNumber: "9", shardId: "shardId-000000000001"))) }
        let settled = machine.settle(landed, now: 1)
        #expect(settled.delivered.isEmpty)
        #expect(settled.errors == ["WrongShard"])
        #expect(machine.needsMapRefresh)
        // Shard 1 covers only some of the 20 keys: a KCL reader drops the aggregate whole, so all
        // 20 are sent again, re-aggregated by the new map.
        let installed = machine.install(split)
        #expect(installed.delivered.isEmpty)
        #expect(installed.resentAfterReshard == 20)
        #expect(machine.inFlightRecords == 20)
        let resent = try #require(machine.collect(now: 2).requests.first)
        #expect(Set(resent.compactMap(\.shardId)) == ["shardId-000000000001", "shardId-000000000002"])
        #expect(resent.reduce(0) { $0 + $1.completions.count } == 20)
    }

    @Test("an aggregate that lands on a shard covering all of it (after a merge) is delivered as it is")
    func mergedAggregateStaysDelivered() throws {
        var machine = Self.machine(shards: 2)
        for index in 0..<20 { #expect(try machine.admit(Self.user("k\(index)"))) }
        let request = try #require(machine.collect(now: 1).requests.first)
        let merged = ShardMap(entries: [.init(shardId: "shardId-000000000002", range: 0...UInt128.max)])
        let landed = request.map { ($0, Result<PutRecordsResultEntry, KinesisError>.success(.init(sequenceNumber: "9", shardId: "shardId-000000000002"))) }
        #expect(machine.settle(landed, now: 1).delivered.isEmpty)
        let installed = machine.install(merged)
        #expect(installed.deliveredRecords == 20)
        #expect(installed.resentAfterReshard == 0)
        #expect(machine.inFlightRecords == 0)
    }

    @Test("flush completes when the last record held settles; shutdown finishes only when nothing is held")
    func flushAndShutdown() throws {
        var machine = Self.machine(shards: 2) { $0.maxBufferedTime = .seconds(60) }
        let doneAtOnce = machine.requestFlush()
        #expect(doneAtOnce)   // nothing held
        #expect(try machine.admit(Self.user("a")))
        let doneWithOneHeld = machine.requestFlush()
        #expect(!doneWithOneHeld)
        let request = try #require(machine.collect(now: 0).requests.first)   // a flush seals and sends at once
        machine.shutDown()
        #expect(throws: PublishError.self) { _ = try machine.admit(Self.user("b")) }
        #expect(!machine.collect(now: 0).finished)   // the request is still under way
        #expect(machine.settle(Self.landed(request), now: 0).flushed)
        #expect(machine.collect(now: 0).finished)
    }

    @Test("abandoning fails every record held and turns waiting callers away")
    func abandon() throws {
        var machine = Self.machine(shards: 2) { $0.maxInFlightRecords = 1 }
        #expect(try machine.admit(Self.user("a")))
        #expect(try !machine.enqueue(Self.user("b"), id: 5))
        let actions = machine.abandon()
        #expect(actions.failed.map(\.1.code) == [.shutDown])
        #expect(actions.turnedAway.map(\.0) == [5])
        #expect(actions.flushed)
        #expect(machine.inFlightRecords == 0)
    }

    @Test("after a new shard map, a key's newer record waits behind its older one, routed by the old map, until that lands")
    func orderAcrossAReshard() throws {
        var machine = Self.machine(shards: 1) { $0.maxBufferedTime = .milliseconds(1) }
        #expect(try machine.admit(Self.user("k")))
        let first = try #require(machine.collect(now: 1).requests.first)
        _ = machine.settle(first.map { ($0, .failure(Self.throttled)) }, now: 1)
        // The stream was split: k's next record is aggregated for a child shard, which has nothing under way.
        let half = UInt128.max / 2
        _ = machine.install(
            ShardMap(entries: [
                .init(shardId: "shardId-000000000001", range: 0...half), .init(shardId: "shardId-000000000002", range: (half + 1)...UInt128.max),
            ]))
        let kHigh = ShardMap.hashKey(forPartitionKey: "k") > half
        let other = try #require((0..<100).map { "j\($0)" }.first { (ShardMap.hashKey(forPartitionKey: $0) > half) != kHigh })
        #expect(try machine.admit(Self.user("k", at: 1)))
        #expect(try machine.admit(Self.user(other, at: 1)))
        var sentOfK: [UInt64] = []
        var olderLanded = false
        var sentOther = false
        var now = 1.002
        while sentOfK.count < 2, now < 100 {
            let requests = machine.collect(now: now).requests
            for record in requests.joined() {
                if record.keys.contains("k") { sentOfK.append(record.sequence) }
                if record.keys.contains(other) { sentOther = true }
                // The newer record of k may go only once the older one has landed, not beside it.
                if record.keys.contains("k"), record.sequence == 1 { #expect(olderLanded) }
            }
            for request in requests {
                _ = machine.settle(Self.landed(request), now: now)
                if request.contains(where: { $0.keys.contains("k") && $0.sequence == 0 }) { olderLanded = true }
            }
            now += 0.05
        }
        #expect(sentOfK == [0, 1])
        #expect(sentOther)
    }
}
