import Foundation
import Kinesis
import KinesisConsumer
import KinesisTesting
import Synchronization
import Testing

/// What every worker of a fleet processed, in order.
final class ProcessedLog: Sendable {
    struct Entry: Sendable {
        var worker: String
        var shard: String
        var text: String
    }

    private let entries = Mutex<[Entry]>([])
    func append(_ entry: Entry) { entries.withLock { $0.append(entry) } }
    var all: [Entry] { entries.withLock { $0 } }
}

/// Keeps what each worker processed, and the leases it was told it lost.
final class LeaseWorkerLog: RecordProcessor {
    let worker: String
    let processed: ProcessedLog
    let lost = Mutex<[String]>([])

    init(worker: String, shared: ProcessedLog) {
        self.worker = worker
        processed = shared
    }

    func processRecord(_ record: ConsumerRecord) async throws {
        processed.append(.init(worker: worker, shard: record.shardId, text: String(decoding: record.data, as: UTF8.self)))
    }

    func recordFailed(_ failure: RecordFailure) async {}
    func leaseLost(_ shardId: String) async { lost.withLock { $0.append(shardId) } }
}

/// Several workers sharing one stream through one lease table.
final class LeaseFleet: Sendable {
    let api: any KinesisAPI
    let table: any LeaseTable
    let stream: String
    let failover: Duration
    let takeInterval: Duration
    let processed = ProcessedLog()
    let workers = Mutex<[String: (consumer: StreamConsumer, log: LeaseWorkerLog, task: Task<Void, any Error>)]>([:])

    /// How long a caught-up shard waits before its next GetRecords.
    let idleTime: Duration

    init(
        api: any KinesisAPI, table: any LeaseTable, stream: String, failover: Duration = .milliseconds(1500), takeInterval: Duration = .milliseconds(500),
        idleTime: Duration = .milliseconds(100)
    ) {
        self.idleTime = idleTime
        self.api = api
        self.table = table
        self.stream = stream
        self.failover = failover
        self.takeInterval = takeInterval
    }

    /// Starts worker `name`; `release: false` leaves its leases held at shutdown, as kill -9 does.
    func start(_ name: String, release: Bool = true, create: Bool = false) {
        var configuration = fastConfiguration(stream, concurrency: 8)
        // Polling a caught-up shard every 5 ms, as the other consumer tests do, is dozens of
        // shards times three workers here: enough to starve the rest of the suite.
        configuration.reader.idleTime = idleTime
        configuration.reader.minimumCallInterval = min(idleTime, .milliseconds(200))
        var leases = LeaseOptions(table: table, workerId: name, createTable: create)
        leases.failover = failover
        leases.takeInterval = takeInterval
        leases.releaseOnShutdown = release
        configuration.leases = leases
        let log = LeaseWorkerLog(worker: name, shared: processed)
        let consumer = StreamConsumer(api: api, configuration: configuration, processor: log)
        let task = Task { try await consumer.run() }
        workers.withLock { $0[name] = (consumer, log, task) }
    }

    /// Stops worker `name` and waits for it.
    func stop(_ name: String) async throws {
        guard let worker = workers.withLock({ $0.removeValue(forKey: name) }) else { return }
        worker.consumer.shutdown()
        try await worker.task.value
    }

    func stopAll() async throws {
        for name in workers.withLock({ Array($0.keys) }) { try await stop(name) }
    }

    func log(_ name: String) -> LeaseWorkerLog? { workers.withLock { $0[name]?.log } }

    var texts: Set<String> { Set(processed.all.map(\.text)) }

    /// The owner of each open lease.
    func owners() async throws -> [String: String?] {
        Dictionary(uniqueKeysWithValues: try await table.leases().filter { !$0.isFinished }.map { ($0.leaseKey, $0.leaseOwner) })
    }

    /// Waits, up to `timeout`, until `condition` holds; returns whether it did.
    func wait(_ timeout: Duration = .seconds(30), until condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            // Not there yet, or not readable yet (a table the workers are still creating).
            if (try? await condition()) == true { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await condition()
    }

    /// Every open lease held, by exactly the workers named, each within one of the others.
    func balanced(among names: Set<String>) async throws -> Bool {
        let owners = try await owners()
        guard owners.values.allSatisfy({ $0 != nil }) else { return false }
        var counts: [String: Int] = [:]
        for case let owner? in owners.values { counts[owner, default: 0] += 1 }
        return Set(counts.keys) == names && (counts.values.max()! - counts.values.min()!) <= 1
    }
}

/// Writes `count` records `prefix-i` with random keys.
func putRecords(_ api: any KinesisAPI, stream: String, prefix: String, count: Int) async throws {
    for start in stride(from: 0, to: count, by: 250) {
        let entries = (start..<min(count, start + 250)).map {
            PutRecordsRequestEntry(data: Data("\(prefix)-\($0)".utf8), partitionKey: "key-\(UUID().uuidString)")
        }
        let answer = try await api.putRecords(.init(streamName: stream, records: entries))
        #expect((answer.failedRecordCount ?? 0) == 0)
    }
}

// Serialized: its timing figures (failover, taking cycles) are measured, and tests of its own
// running beside them would only add noise.
@Suite("Leases: consumers sharing a stream", .serialized)
struct LeaseTests {
    @Test("the in-memory table's conditional writes are linearizable: of 50 workers taking one lease at once, one wins")
    func oneWinner() async throws {
        let table = InMemoryLeaseTable()
        #expect(try await table.create(Lease(leaseKey: "shardId-000000000000", checkpoint: .trimHorizon)))
        #expect(try await !table.create(Lease(leaseKey: "shardId-000000000000", checkpoint: .latest)), "create never overwrites")
        let seen = try #require(try await table.lease("shardId-000000000000"))
        let winners = try await withThrowingTaskGroup(of: String?.self) { group in
            for index in 0..<50 { group.addTask { try await table.take(seen, owner: "w\(index)")?.leaseOwner } }
            return try await group.reduce(into: [String]()) { if let owner = $1 { $0.append(owner) } }
        }
        #expect(winners.count == 1)
        let now = try #require(try await table.lease("shardId-000000000000"))
        #expect(now.leaseOwner == winners.first && now.leaseCounter == seen.leaseCounter + 1)
        // A renew or checkpoint on what another worker saw before the take is refused.
        #expect(try await table.renew(seen, owner: "w-late") == nil)
        #expect(try await table.checkpoint(now, owner: "someone-else", at: .shardEnd, childShardIds: nil) == nil)
        #expect(try await table.lease("shardId-000000000000")?.checkpoint == .trimHorizon)
    }

    @Test("three workers over eight shards: every shard held by exactly one, balanced, every record processed; shutdown releases")
    func threeWorkersShareEightShards() async throws {
        let engine = try await engineStream("shared", shards: 8)
        let fleet = LeaseFleet(api: engine, table: InMemoryLeaseTable(), stream: "shared")
        try await putRecords(engine, stream: "shared", prefix: "a", count: 800)
        for name in ["w1", "w2", "w3"] { fleet.start(name) }
        let balanced = try await fleet.wait { try await fleet.balanced(among: ["w1", "w2", "w3"]) }
        let owners = try await fleet.owners()
        #expect(balanced, "\(owners)")
        try await putRecords(engine, stream: "shared", prefix: "b", count: 800)
        let all = Set((0..<800).flatMap { ["a-\($0)", "b-\($0)"] })
        let everything = try await fleet.wait { fleet.texts.isSuperset(of: all) }
        #expect(everything, "missing \(all.subtracting(fleet.texts).count)")
        // Each shard's records came from one worker at a time: by the end, the one holding it.
        try await fleet.stopAll()
        let leases = try await fleet.table.leases()
        #expect(leases.count == 8 && leases.allSatisfy { $0.leaseOwner == nil }, "a shutdown releases its leases")
        #expect(leases.allSatisfy { $0.checkpoint.kind == .sequence }, "every shard checkpointed")
    }

    @Test("a worker killed (its leases left held) loses its shards to the others within the failover time plus one taking cycle")
    func failover() async throws {
        let engine = try await engineStream("failover", shards: 8)
        let fleet = LeaseFleet(api: engine, table: InMemoryLeaseTable(), stream: "failover")
        for name in ["w1", "w2", "w3"] { fleet.start(name, release: name != "w3") }
        #expect(try await fleet.wait { try await fleet.balanced(among: ["w1", "w2", "w3"]) })
        let before = try await fleet.owners()
        let orphaned = Set(before.filter { $0.value == "w3" }.keys)
        #expect(!orphaned.isEmpty)
        let killed = ContinuousClock.now
        try await fleet.stop("w3")
        #expect(try await fleet.wait { try await fleet.owners().allSatisfy { $0.value == "w1" || $0.value == "w2" } })
        let gap = killed.duration(to: .now)
        // Its counters last moved at most one renew interval (failover/3) before the kill; the
        // others see them unmoved for the failover time, on their own clocks, and the cycle due
        // at that moment takes them (with some scheduling slack on a busy machine).
        #expect(gap >= fleet.failover - fleet.failover / 3, "not before the failover time: \(gap)")
        #expect(gap < fleet.failover + fleet.takeInterval + .seconds(2), "\(gap)")
        try await putRecords(engine, stream: "failover", prefix: "after", count: 400)
        #expect(try await fleet.wait { fleet.texts.isSuperset(of: (0..<400).map { "after-\($0)" }) }, "nothing unprocessed after the failover")
        try await fleet.stopAll()
    }

    @Test("fencing: a worker whose lease was taken is told, stops the shard, and its checkpoints never move the lease again")
    func fencing() async throws {
        let engine = try await engineStream("fenced", shards: 2)
        let table = InMemoryLeaseTable()
        let fleet = LeaseFleet(api: engine, table: table, stream: "fenced", failover: .seconds(30), takeInterval: .seconds(30))
        fleet.start("w1")
        #expect(
            try await fleet.wait {
                let owners = try await fleet.owners()
                return owners.count == 2 && owners.values.allSatisfy { $0 == "w1" }
            })
        try await putRecords(engine, stream: "fenced", prefix: "a", count: 100)
        #expect(try await fleet.wait { fleet.texts.count == 100 })
        let victim = ShardMap.shardId(index: 0)
        let seen = try #require(try await table.lease(victim))
        let stolen = try #require(try await table.take(seen, owner: "thief"))
        // The thief checkpoints at the start: w1's renew (every failover/3) finds the lease moved.
        _ = try #require(try await table.checkpoint(stolen, owner: "thief", at: .trimHorizon, childShardIds: nil))
        let log = try #require(fleet.log("w1"))
        let told = try await fleet.wait(.seconds(40)) { log.lost.withLock { $0 } == [victim] }
        #expect(told, "the processor is told")
        let processedBefore = fleet.processed.all.count
        try await putRecords(engine, stream: "fenced", prefix: "b", count: 100)
        let other = ShardMap.shardId(index: 1)
        // The shard w1 still holds gets its share of the new records (about half of them).
        let readOther = try await fleet.wait { fleet.processed.all.count > processedBefore + 20 }
        #expect(readOther)
        try await fleet.stopAll()
        let after = fleet.processed.all.filter { $0.text.hasPrefix("b-") }
        #expect(after.allSatisfy { $0.shard == other }, "w1 no longer reads the shard it lost")
        let victimNow = try #require(try await table.lease(victim))
        #expect(victimNow.leaseOwner == "thief" && victimNow.checkpoint == .trimHorizon, "w1 never moved the lost lease")
    }

    @Test("a split while two workers read: the parent's holder creates the children's leases at SHARD_END, and they are read only after it")
    func childLeasesWaitForTheirParent() async throws {
        let engine = try await engineStream("split", shards: 2)
        let table = InMemoryLeaseTable()
        let fleet = LeaseFleet(api: engine, table: table, stream: "split")
        for name in ["w1", "w2"] { fleet.start(name) }
        #expect(try await fleet.wait { try await fleet.balanced(among: ["w1", "w2"]) })
        try await putRecords(engine, stream: "split", prefix: "a", count: 300)
        let parent = ShardMap.shardId(index: 0)
        _ = try await engine.splitShard(.init(streamName: "split", shardToSplit: parent, newStartingHashKey: String(UInt128.max / 4)))
        try await putRecords(engine, stream: "split", prefix: "b", count: 300)
        let all = Set((0..<300).flatMap { ["a-\($0)", "b-\($0)"] })
        let everything = try await fleet.wait { fleet.texts.isSuperset(of: all) }
        #expect(everything, "missing \(all.subtracting(fleet.texts).count)")
        try await fleet.stopAll()
        let leases = try await table.leases()
        let parentLease = try #require(leases.first { $0.leaseKey == parent })
        let children = leases.filter { $0.parentShardIds == [parent] }
        #expect(parentLease.isFinished && parentLease.childShardIds == children.map(\.leaseKey), "SHARD_END names the children")
        #expect(children.count == 2 && children.allSatisfy { $0.checkpoint.kind == .sequence })
        let order = fleet.processed.all
        let parentLast = try #require(order.lastIndex { $0.shard == parent })
        let childFirst = try #require(order.firstIndex { entry in children.contains { $0.leaseKey == entry.shard } })
        #expect(parentLast < childFirst, "every record of the parent before any of its children")
    }

    @Test("a worker joining a fleet that holds every lease has its share within two taking cycles (the KCL steals one per cycle)")
    func newWorkerGetsItsShareFast() async throws {
        let engine = try await engineStream("joining", shards: 12)
        let table = InMemoryLeaseTable()
        // A long failover, so nothing expires: the newcomer can only steal.
        let fleet = LeaseFleet(api: engine, table: table, stream: "joining", failover: .seconds(30), takeInterval: .milliseconds(500))
        fleet.start("w1")
        #expect(try await fleet.wait { try await fleet.owners().values.filter { $0 == "w1" }.count == 12 })
        let joined = ContinuousClock.now
        fleet.start("w2")
        #expect(try await fleet.wait { try await fleet.owners().values.filter { $0 == "w2" }.count == 6 })
        let took = joined.duration(to: .now)
        // Its first cycle runs at start, the second one taking interval later.
        #expect(took < fleet.takeInterval * 2 + .seconds(1), "\(took)")
        try await fleet.stopAll()
    }

    @Test("the configuration reads as the README writes it")
    func configurationShape() async throws {
        var configuration = StreamConsumer.Configuration(streamName: "orders", applicationName: "billing")
        configuration.leases = .inMemory(InMemoryLeaseTable())
        #expect(configuration.leases?.failover == .seconds(10) && configuration.leases?.createTable == false)
        let dynamo = try DynamoDBClient(region: "eu-west-1", credentials: StaticCredentialProvider(AWSCredentials(accessKeyId: "a", secretAccessKey: "b")), environment: [:])
        configuration.leases = .dynamoDB(table: "billing", client: dynamo)
        #expect(configuration.leases?.table.name == "billing")
        #expect(dynamo.core.endpoint.absoluteString == "https://dynamodb.eu-west-1.amazonaws.com")
        #expect(configuration.leases?.workerId.split(separator: ":").count == 3, "host:pid:random")
        configuration.leases = nil
        try await dynamo.shutdown()
    }
}
