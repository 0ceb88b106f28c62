import CoreMetrics
import Foundation
import Kinesis
import KinesisConsumer
import Logging
import Synchronization

/// A `KinesisAPI` under the run's consumers: tells the recorder, shard by shard, what each
/// GetRecords call brought (records, bytes, MillisBehindLatest) or that it was throttled, and
/// remembers when each shard was last read to its tip. GetRecords names no shard, so the shard
/// of each iterator is remembered from GetShardIterator and from each answer's next iterator.
final class ObservedReads: KinesisAPIForwarding {
    let base: any KinesisAPI
    let recorder: Recorder
    private let clock = ContinuousClock()
    private struct State {
        var iterators: [String: String] = [:]
        /// When the last call that found the shard at its tip, with nothing new, started.
        var caughtUpAt: [String: ContinuousClock.Instant] = [:]
        var iterated: Set<String> = []
        /// When a call last brought records, on any shard.
        var lastRecordsAt: ContinuousClock.Instant?
    }
    private let state = Mutex(State())

    init(base: any KinesisAPI, recorder: Recorder) {
        self.base = base
        self.recorder = recorder
    }

    func getShardIterator(_ input: GetShardIteratorInput) async throws -> GetShardIteratorOutput {
        let output = try await base.getShardIterator(input)
        if let iterator = output.shardIterator {
            state.withLock { state in
                state.iterators[iterator] = input.shardId
                state.iterated.insert(input.shardId)
            }
        }
        return output
    }

    func getRecords(_ input: GetRecordsInput) async throws -> GetRecordsOutput {
        let shard = state.withLock { $0.iterators.removeValue(forKey: input.shardIterator) }
        let started = clock.now
        let output: GetRecordsOutput
        do {
            output = try await base.getRecords(input)
        } catch let error as KinesisError {
            if let shard {
                recorder.readCall(shard: shard, records: 0, bytes: 0, millisBehind: nil, throttled: error.code == .provisionedThroughputExceeded)
                // The reader tries the same iterator again unless it expired.
                if error.code != .expiredIterator { state.withLock { $0.iterators[input.shardIterator] = shard } }
            }
            throw error
        }
        guard let shard else { return output }
        let bytes = output.records.reduce(0) { $0 + $1.data.count + $1.partitionKey.utf8.count }
        recorder.readCall(shard: shard, records: output.records.count, bytes: bytes, millisBehind: output.millisBehindLatest, throttled: false)
        // An empty page at the tip: nothing read before it is still on its way to the processor.
        let atTip = (output.millisBehindLatest ?? 0) == 0 && output.records.isEmpty
        state.withLock { state in
            if let next = output.nextShardIterator { state.iterators[next] = shard }
            if atTip { state.caughtUpAt[shard] = started }
            if !output.records.isEmpty { state.lastRecordsAt = clock.now }
        }
        return output
    }

    /// Whether a call that started at or after `instant` found `shard` at its tip.
    func caughtUp(_ shard: String, since instant: ContinuousClock.Instant) -> Bool {
        state.withLock { $0.caughtUpAt[shard].map { $0 >= instant } ?? false }
    }

    /// When the last call that found `shard` at its tip, with nothing new, started.
    func caughtUpAt(_ shard: String) -> ContinuousClock.Instant? {
        state.withLock { $0.caughtUpAt[shard] }
    }

    /// Whether no call brought records for at least `quiet`.
    func quiet(for quiet: Duration) -> Bool {
        state.withLock { state in state.lastRecordsAt.map { $0.advanced(by: quiet) <= clock.now } ?? true }
    }

    /// Whether every shard of `shards` has been given an iterator.
    func reading(_ shards: some Sequence<String>) -> Bool {
        state.withLock { state in shards.allSatisfy { state.iterated.contains($0) } }
    }
}

/// The consumers of a run: `consume.consumers` `StreamConsumer`s in this process, each owning a
/// disjoint share of the shards (by shard number), sharing one checkpoint store, handing every
/// batch to the read side and simulating `processingTime` of work per record. In a segmented
/// run (`--segment i/n`) they read only the segment's shards (number modulo n is i).
final class RunConsumers: Sendable {
    let spec: Scenario.ConsumeSpec
    let segment: RunSegment?
    let observed: ObservedReads
    let consumers: [StreamConsumer]
    /// Set when the consumers are asked to stop: simulated work ends early.
    let stopping: StopFlag

    /// With lease-sharing workers: who read each shard, the longest a record waited unread,
    /// and what was processed twice.
    let leases: LeaseTally?

    struct Processor: RecordProcessor {
        let verifier: any ReadBackWitness
        let processingTime: Duration
        let stopping: StopFlag
        var worker: String? = nil
        var leases: LeaseTally? = nil

        func processRecord(_ record: ConsumerRecord) async throws {}

        func processRecords(_ batch: ProcessingBatch, checkpointer: Checkpointer) async throws {
            verifier.received(batch.records, at: .now)
            if let leases, let worker { leases.received(batch.records, shard: batch.shardId, by: worker, at: Date()) }
            guard processingTime > .zero, !batch.records.isEmpty else { return }
            // The batch's work, in slices, so that a stop does not wait for all of it.
            var remaining = processingTime * batch.records.count
            let slice: Duration = .milliseconds(100)
            while remaining > .zero, !stopping.isSet {
                let step = min(slice, remaining)
                try? await Task.sleep(for: step)
                remaining -= step
            }
        }

        func recordFailed(_ failure: RecordFailure) async {}
    }

    init(scenario: Scenario, spec: Scenario.ConsumeSpec, runId: Int64, api: any KinesisAPI, recorder: Recorder, verifier: any ReadBackWitness, segment: RunSegment? = nil,
        logger: Logger?, metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.spec = spec
        self.segment = segment
        let observed = ObservedReads(base: api, recorder: recorder)
        self.observed = observed
        let stopping = StopFlag()
        self.stopping = stopping
        let checkpoints = InMemoryCheckpointStore()
        let count = spec.workers ?? spec.consumers
        let table = spec.workers.map { _ in InMemoryLeaseTable(name: "kinesis-load-run-\(runId)") }
        let leases = table.map { _ in LeaseTally() }
        self.leases = leases
        consumers = (0..<count).map { member in
            var configuration = StreamConsumer.Configuration(streamName: scenario.stream.name, applicationName: "kinesis-load-run-\(runId)")
            configuration.initialPosition = spec.from == .latest ? .latest : .trimHorizon
            configuration.shardSyncInterval = .seconds(2)
            configuration.maxConcurrentShards = 64
            if let metricsFactory { configuration.metricsFactory = metricsFactory }
            // Throttled reads are measured, not fatal: the reader keeps backing off.
            configuration.reader.maxConsecutiveFailures = 1_000
            configuration.reader.maxRecordsPerCall = spec.maxRecordsPerCall
            configuration.owns = { RunConsumers.member(of: $0, consumers: count, segment: segment) == member }
            var processor = Processor(verifier: verifier, processingTime: spec.processingTime, stopping: stopping)
            if let table {
                // Lease-sharing workers: the table decides who reads which shard.
                var options = LeaseOptions.inMemory(table, workerId: Self.workerName(member))
                options.failover = spec.leaseFailover
                options.takeInterval = spec.leaseTakeInterval
                configuration.leases = options
                processor.worker = Self.workerName(member)
                processor.leases = leases
            }
            return StreamConsumer(
                api: observed, configuration: configuration,
                processor: processor, checkpoints: checkpoints,
                logger: logger ?? Logger(label: "kinesis-load.consumer", factory: { _ in SwiftLogNoOpLogHandler() }))
        }
    }

    /// Which consumer owns a shard: its number (``ShardMap/index(ofShardId:)``) modulo the count.
    static func owner(of shardId: String, among count: Int) -> Int {
        if let number = ShardMap.index(ofShardId: shardId) { return number % count }
        return Int(shardId.utf8.reduce(UInt32(2_166_136_261)) { ($0 ^ UInt32($1)) &* 16_777_619 } % UInt32(count))
    }

    /// Which of `consumers` reads a shard, or nil when another segment does: a slot is the
    /// shard's number modulo segments × consumers; its segment is the slot modulo the segments
    /// (the shard's number modulo n, as ``RunSegment/reads(shard:)``), its member the rest.
    static func member(of shardId: String, consumers: Int, segment: RunSegment?) -> Int? {
        let segments = segment?.count ?? 1
        let slot = owner(of: shardId, among: segments * consumers)
        guard slot % segments == (segment?.index ?? 0) else { return nil }
        return slot / segments
    }

    static func workerName(_ member: Int) -> String { "worker-\(member)" }

    /// Runs every consumer until ``shutdown()``; throws the first one's failure. A fault of the
    /// scenario strikes its worker `at` after `start`.
    func run(start: ContinuousClock.Instant = .now) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for consumer in consumers { group.addTask { try await consumer.run() } }
            if let fault = spec.fault {
                let victim = consumers[fault.worker]
                let stopping = stopping
                let leases = leases
                group.addTask {
                    try? await Task.sleep(until: start.advanced(by: fault.at), clock: .continuous)
                    guard !stopping.isSet else { return }
                    let held = victim.injectLeaseFault(kill: fault.action == .kill)
                    leases?.struck(Self.workerName(fault.worker), fault.action.rawValue, at: Date(), holding: held)
                }
            }
            do {
                try await group.waitForAll()
            } catch {
                shutdown()
                throw error
            }
        }
    }

    func shutdown() {
        stopping.set()
        for consumer in consumers { consumer.shutdown() }
    }

    /// Waits until every shard of `shards` has an iterator (so that records published next are
    /// read even from LATEST), at most `timeout`.
    func waitUntilReading(_ shards: [String], timeout: Duration, stop: StopSignal) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while !observed.reading(shards) {
            if stop.isRequested || ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    /// Waits until every shard the consumers own is finished or was found at its tip by a call
    /// that started after `since`, at most `timeout`; false when time ran out or an urgent stop came.
    ///
    /// `quiet`: also wait until no records came for that long (a segment's shards take other
    /// workers' records, which may still be coming). `ownsShards` false: nothing to wait for.
    func catchUp(since: ContinuousClock.Instant, timeout: Duration, stop: StopSignal, quiet: Duration? = nil, ownsShards: Bool = true) async -> Bool {
        guard ownsShards else { return true }
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            let statuses = consumers.flatMap(\.statuses)
            // By shard, not by status: with lease-sharing workers a shard may have a stale status
            // in a worker that lost or was killed while another reads it.
            let byShard = Dictionary(grouping: statuses, by: \.shardId)
            let done =
                !statuses.isEmpty && quiet.map(observed.quiet(for:)) ?? true
                && byShard.allSatisfy { shard, statuses in
                    statuses.contains { $0.state == .finished } || observed.caughtUp(shard, since: since)
                }
            if done { return true }
            // A first stop lets the read-back finish (what was published is read); a second ends it.
            if stop.isUrgent || ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// How far each shard the consumers own was read, for a segmented worker's handoff.
    func shardRows(runId: Int64, wallUs: (ContinuousClock.Instant) -> Int64) -> [ReadBackShardRow] {
        consumers.flatMap(\.statuses).map { status in
            ReadBackShardRow(
                runId: runId, shardId: status.shardId, caughtUpUs: observed.caughtUpAt(status.shardId).map(wallUs), finished: status.state == .finished)
        }
    }
}

/// What lease-sharing workers did to each shard: the workers that read it in turn, the longest a
/// record waited in the stream before a worker received it, and records received again (the
/// same position) after the shard changed hands.
final class LeaseTally: Sendable {
    struct Shard: Sendable {
        var workers: [String] = []
        var longestUnreadMs = 0.0
        var positions: Set<String> = []
        var reprocessed = 0
    }

    private let shards = Mutex<[String: Shard]>([:])
    private let fault = Mutex<(worker: String, action: String, at: Date, holding: [String])?>(nil)

    func received(_ records: [ConsumerRecord], shard: String, by worker: String, at now: Date) {
        shards.withLock { shards in
            var entry = shards[shard] ?? Shard()
            if entry.workers.last != worker { entry.workers.append(worker) }
            for record in records {
                if let arrival = record.approximateArrivalTimestamp {
                    entry.longestUnreadMs = max(entry.longestUnreadMs, now.timeIntervalSince(arrival) * 1000)
                }
                if !entry.positions.insert("\(record.sequenceNumber)/\(record.subSequenceNumber)").inserted { entry.reprocessed += 1 }
            }
            shards[shard] = entry
        }
    }

    func struck(_ worker: String, _ action: String, at: Date, holding: [String]) { fault.withLock { $0 = (worker, action, at, holding) } }

    /// The rows `lease_shards` stores.
    func rows(runId: Int64) -> [LeaseShardRow] {
        shards.withLock { shards in
            shards.keys.sorted().map { key in
                let entry = shards[key]!
                return LeaseShardRow(
                    runId: runId, shardId: key, workers: entry.workers.joined(separator: ","), ownerChanges: max(0, entry.workers.count - 1),
                    longestUnreadMs: entry.longestUnreadMs, reprocessed: entry.reprocessed)
            }
        }
    }

    /// "worker-1 killed at 2026-..., holding shardId-000000000001": what the fault did, for the run's row.
    var faultText: String? {
        fault.withLock { fault in
            fault.map {
                "\($0.worker) \($0.action == "kill" ? "killed" : "frozen") at \(ISO8601DateFormatter().string(from: $0.at)), "
                    + ($0.holding.isEmpty ? "holding no lease" : "holding \($0.holding.joined(separator: ", "))")
            }
        }
    }
}
