import Foundation
import Kinesis
import Logging
import Metrics
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How a ``StreamConsumer`` shares its stream with other workers through a lease table.
public struct LeaseOptions: Sendable {
    public var table: any LeaseTable
    /// This worker's name in `leaseOwner`: unique per process (host, pid and a random part).
    public var workerId: String
    /// A lease whose counter has not moved for this long, on this worker's own clock, is free
    /// to take (the KCL's `failoverTimeMillis`, default 10 s).
    public var failover: Duration = .seconds(10)
    /// How often the table is read to take free, expired and stolen leases (one Scan each
    /// time). Default: half the failover time (the KCL's taker runs every 2 x (failover + 25 ms)),
    /// so a released lease waits at most that long for its next owner.
    public var takeInterval: Duration?
    /// The most leases this worker holds.
    public var maxLeasesForWorker = Int.max
    /// Create the table (PAY_PER_REQUEST) when it is missing. Off by default, as for streams:
    /// never an accidental resource on AWS.
    public var createTable = false
    /// Free every lease at shutdown, so other workers take them at their next cycle instead of
    /// after the failover time (KCL #845). Tests turn it off to leave a worker's leases as a
    /// killed process leaves them.
    public var releaseOnShutdown = true

    public init(table: any LeaseTable, workerId: String = LeaseOptions.defaultWorkerId(), createTable: Bool = false) {
        self.table = table
        self.workerId = workerId
        self.createTable = createTable
    }

    /// Leases in a DynamoDB table in the KCL's format (named after the application, as the
    /// KCL names it, unless told otherwise).
    public static func dynamoDB(table: String, client: DynamoDBClient, workerId: String = defaultWorkerId(), createTable: Bool = false) -> LeaseOptions {
        LeaseOptions(table: DynamoDBLeaseTable(name: table, client: client), workerId: workerId, createTable: createTable)
    }

    /// Leases in memory (tests, workers in one process, the embedded engine).
    public static func inMemory(_ table: InMemoryLeaseTable, workerId: String = defaultWorkerId()) -> LeaseOptions {
        LeaseOptions(table: table, workerId: workerId)
    }

    /// `host:pid:random`. The host is gethostname's: `ProcessInfo.hostName` asks DNS, which
    /// can block for seconds where there is none.
    public static func defaultWorkerId() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        let name = gethostname(&buffer, buffer.count) == 0 ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        let host = name.split(separator: ".").first.map(String.init) ?? "host"
        return "\(host):\(ProcessInfo.processInfo.processIdentifier):\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// The renewer's period: a third of the failover time, less the KCL's epsilon of 25 ms.
    var renewInterval: Duration { max(.milliseconds(10), failover / 3 - .milliseconds(25)) }
    var takingInterval: Duration { takeInterval ?? failover / 2 }
}

/// The KCL 2.x lease protocol for one worker: renews what it holds every failover/3 (a write
/// conditional on the counter; nothing read), and every taking cycle reads the table once and
/// takes free and expired leases, then balances to ceil(leases / workers) by stealing.
/// Better than the KCL where its users complain: leases are released on shutdown (another
/// worker takes them at its next cycle instead of after the failover time), a new worker steals
/// its share within two cycles (from each worker above the target, what it holds beyond it;
/// the KCL steals one lease per cycle, KCL #708), and the cycle after a lease's expiry is due
/// runs at that moment.
final class LeaseCoordinator: Sendable {
    let options: LeaseOptions
    let logger: Logger
    let metrics: LeaseMetrics
    let clock = ContinuousClock()
    /// Told of every lease taken (start reading its shard) and lost (stop).
    let onTaken: @Sendable (Lease) -> Void
    let onLost: @Sendable (String) -> Void
    /// Told of the table as each taking cycle read it (which parents have ended).
    let onScanned: @Sendable ([Lease]) -> Void

    struct Seen: Sendable {
        var counter: Int64
        var owner: String?
        var changedAt: ContinuousClock.Instant
    }

    struct State: Sendable {
        var held: [String: Lease] = [:]
        var renewedAt: [String: ContinuousClock.Instant] = [:]
        var seen: [String: Seen] = [:]
        /// nil until the first taking cycle.
        var lastScan: [Lease]?
        /// One writer per lease at a time: a renew and a checkpoint never race on its counter.
        var locks: [String: AsyncSemaphore] = [:]
        /// Faults for load tests: a frozen worker writes nothing to the table (a hung
        /// connection) while it keeps reading; a dead one also has every checkpoint refused.
        var frozen = false
        var dead = false
    }

    /// Stops every write to the table (renews, takes, checkpoints), as a worker whose table
    /// connection hangs: it goes on reading what it holds, a zombie, while others take it over.
    func freeze() { state.withLock { $0.frozen = true } }

    /// As a killed process: nothing more is written, and a checkpoint fails.
    func kill() {
        state.withLock { state in
            state.frozen = true
            state.dead = true
        }
    }

    var isDead: Bool { state.withLock { $0.dead } }
    var isFrozen: Bool { state.withLock { $0.frozen } }

    let state = Mutex(State())
    var workerId: String { options.workerId }

    init(
        options: LeaseOptions, stream: String, logger: Logger, metricsFactory: any MetricsFactory, onTaken: @escaping @Sendable (Lease) -> Void,
        onLost: @escaping @Sendable (String) -> Void, onScanned: @escaping @Sendable ([Lease]) -> Void = { _ in }
    ) {
        self.options = options
        self.logger = logger
        metrics = LeaseMetrics(stream: stream, worker: options.workerId, factory: metricsFactory)
        self.onTaken = onTaken
        self.onLost = onLost
        self.onScanned = onScanned
    }

    var held: [String: Lease] { state.withLock { $0.held } }
    func holds(_ key: String) -> Bool { state.withLock { $0.held[key] != nil } }
    /// The table as the last taking cycle read it; nil before the first.
    var lastScan: [Lease]? { state.withLock { $0.lastScan } }

    func lock(_ key: String) -> AsyncSemaphore {
        state.withLock { state in
            if let lock = state.locks[key] { return lock }
            let lock = AsyncSemaphore(permits: 1)
            state.locks[key] = lock
            return lock
        }
    }

    func withLock<T: Sendable>(_ key: String, _ body: () async throws -> T) async throws -> T {
        let lock = lock(key)
        await lock.acquire()
        defer { lock.release() }
        return try await body()
    }

    // MARK: - Renewing

    /// Renews every held lease once; a lease whose condition fails, or that could not be
    /// renewed for the failover time, is lost.
    func renewAll() async {
        guard !isFrozen else { return }
        for key in held.keys.sorted() {
            do {
                try await withLock(key) {
                    guard let lease = state.withLock({ $0.held[key] }) else { return }
                    if let renewed = try await options.table.renew(lease, owner: workerId) {
                        state.withLock { state in
                            state.held[key] = renewed
                            state.renewedAt[key] = clock.now
                        }
                    } else {
                        lose(key, why: "another worker wrote it (taken or stolen)")
                    }
                }
            } catch {
                metrics.renewFailures.increment()
                let since = state.withLock { $0.renewedAt[key] } ?? clock.now
                logger.warning("could not renew a lease", metadata: ["shard": "\(key)", "error": "\(error)"])
                if since.duration(to: clock.now) >= options.failover {
                    // Others may take it now: stop before they do.
                    lose(key, why: "not renewed for the failover time (\(options.failover))")
                }
            }
        }
        metrics.held.record(held.count)
    }

    func lose(_ key: String, why: String) {
        let had = state.withLock { $0.held.removeValue(forKey: key) != nil }
        guard had else { return }
        metrics.lost.increment()
        logger.info("lease lost", metadata: ["shard": "\(key)", "worker": "\(workerId)", "why": "\(why)"])
        onLost(key)
    }

    // MARK: - Checkpointing

    /// Moves the checkpoint of a held lease, conditional on it; throws ``LeaseLostError`` when
    /// this worker no longer holds it (nothing is written then).
    func checkpoint(_ key: String, at position: ExtendedSequenceNumber, childShardIds: [String]? = nil) async throws {
        try await withLock(key) {
            let (lease, frozen, dead) = state.withLock { ($0.held[key], $0.frozen, $0.dead) }
            guard let lease, !dead else { throw LeaseLostError(shardId: key, workerId: workerId) }
            if frozen { return }
            guard let written = try await options.table.checkpoint(lease, owner: workerId, at: position, childShardIds: childShardIds) else {
                lose(key, why: "its checkpoint's condition failed")
                throw LeaseLostError(shardId: key, workerId: workerId)
            }
            state.withLock { state in
                state.held[key] = written
                state.renewedAt[key] = clock.now
            }
        }
    }

    /// A held lease's checkpoint.
    func checkpoint(of key: String) -> ExtendedSequenceNumber? { state.withLock { $0.held[key]?.checkpoint } }

    /// A shard read to its end: its children's leases are created (waiting for every parent),
    /// it is checkpointed at SHARD_END with its children named, and released.
    func finish(_ key: String, children: [ChildShard]) async throws {
        for child in children {
            let lease = Lease(
                leaseKey: child.shardId, checkpoint: .trimHorizon, parentShardIds: child.parentShards,
                startingHashKey: child.hashKeyRange.startingHashKey, endingHashKey: child.hashKeyRange.endingHashKey)
            _ = try await options.table.create(lease)
        }
        try await checkpoint(key, at: .shardEnd, childShardIds: children.map(\.shardId))
        try await release(key)
    }

    /// Frees a held lease.
    func release(_ key: String) async throws {
        try await withLock(key) {
            guard let lease = state.withLock({ $0.held.removeValue(forKey: key) }) else { return }
            _ = try await options.table.release(lease, owner: workerId)
        }
    }

    /// Frees every held lease (a shutdown): other workers take them at their next cycle.
    func releaseAll() async {
        for key in held.keys.sorted() {
            do {
                try await release(key)
            } catch {
                logger.warning("could not release a lease: it expires after the failover time", metadata: ["shard": "\(key)", "error": "\(error)"])
            }
        }
        metrics.held.record(0)
    }

    // MARK: - Taking

    /// One taking cycle: reads the table, takes what is free or expired up to the target, and
    /// steals when nothing is. Returns when the next cycle is due (sooner than the regular
    /// interval when a lease another worker holds will expire before it).
    @discardableResult
    func takeCycle() async throws -> ContinuousClock.Instant {
        guard !isFrozen else { return clock.now.advanced(by: options.takingInterval) }
        let all = try await options.table.leases()
        onScanned(all)
        let now = clock.now
        let me = workerId
        let failover = options.failover
        let (expired, veryOld, nextExpiry, mine) = state.withLock { state -> ([Lease], Set<String>, ContinuousClock.Instant?, Int) in
            var seen: [String: Seen] = [:]
            for lease in all {
                if let before = state.seen[lease.leaseKey], before.counter == lease.leaseCounter, before.owner == lease.leaseOwner {
                    seen[lease.leaseKey] = before
                } else {
                    // First seen owned, or moved: it is alive as of now (on this clock).
                    seen[lease.leaseKey] = Seen(counter: lease.leaseCounter, owner: lease.leaseOwner, changedAt: now)
                }
            }
            state.seen = seen
            state.lastScan = all
            var expired: [Lease] = []
            var veryOld: Set<String> = []
            var nextExpiry: ContinuousClock.Instant?
            for lease in all where !lease.isFinished && state.held[lease.leaseKey] == nil {
                guard let owner = lease.leaseOwner, owner != me else {
                    expired.append(lease)
                    continue
                }
                let changed = seen[lease.leaseKey]!.changedAt
                if changed.duration(to: now) >= failover {
                    expired.append(lease)
                    if changed.duration(to: now) >= failover * 3 { veryOld.insert(lease.leaseKey) }
                } else {
                    let due = changed.advanced(by: failover)
                    nextExpiry = min(nextExpiry ?? due, due)
                }
            }
            return (expired, veryOld, nextExpiry, state.held.count)
        }
        let live = all.filter { !$0.isFinished }
        let expiredKeys = Set(expired.map(\.leaseKey))
        var load: [String: [Lease]] = [me: []]
        for lease in live where !expiredKeys.contains(lease.leaseKey) {
            if let owner = lease.leaseOwner, owner != me { load[owner, default: []].append(lease) }
        }
        load[me] = live.filter { holds($0.leaseKey) }
        let workers = load.count
        var target = live.count <= workers ? 1 : (live.count + workers - 1) / workers
        target = min(target, options.maxLeasesForWorker)
        var needed = target - max(mine, load[me]!.count)
        var chosen: [(Lease, stolen: Bool)] = []
        if needed > 0 {
            // Leases dead for three failover times first, then the rest of the free ones.
            let ordered = expired.filter { veryOld.contains($0.leaseKey) }.shuffled() + expired.filter { !veryOld.contains($0.leaseKey) }.shuffled()
            chosen = ordered.prefix(needed).map { ($0, false) }
            needed -= chosen.count
            if chosen.isEmpty, needed > 0 {
                // Nothing free: from each worker above the target, the most loaded first, at most
                // what it holds beyond the target (never below it, so stealing cannot swing
                // back); if every worker is at the target, one from the most loaded (the KCL's rule).
                let others = load.filter { $0.key != me }.sorted { $0.value.count != $1.value.count ? $0.value.count > $1.value.count : $0.key < $1.key }
                for (_, leases) in others where leases.count > target && chosen.count < needed {
                    chosen += leases.shuffled().prefix(min(leases.count - target, needed - chosen.count)).map { ($0, true) }
                }
                if chosen.isEmpty, needed > 1, let most = others.first, most.value.count >= target, let victim = most.value.randomElement() {
                    chosen.append((victim, true))
                }
            }
        }
        for (lease, stolen) in chosen {
            try await take(lease, stolen: stolen, seenAt: state.withLock { $0.seen[lease.leaseKey]?.changedAt } ?? now)
        }
        metrics.held.record(held.count)
        let regular = clock.now.advanced(by: options.takingInterval)
        // Just after the moment a lease becomes expired on this clock, not a whole cycle later.
        return min(regular, nextExpiry.map { $0.advanced(by: .milliseconds(25)) } ?? regular)
    }

    func take(_ lease: Lease, stolen: Bool, seenAt: ContinuousClock.Instant) async throws {
        guard let taken = try await options.table.take(lease, owner: workerId) else { return }  // another worker won it
        state.withLock { state in
            state.held[lease.leaseKey] = taken
            state.renewedAt[lease.leaseKey] = clock.now
        }
        if stolen {
            metrics.stolen.increment()
        } else {
            metrics.taken.increment()
            if lease.leaseOwner != nil { metrics.failover.recordNanoseconds(Int64(seenAt.duration(to: clock.now).wholeNanoseconds)) }
        }
        logger.info(
            stolen ? "lease stolen" : "lease taken",
            metadata: ["shard": "\(lease.leaseKey)", "worker": "\(workerId)", "from": "\(lease.leaseOwner ?? "nobody")", "checkpoint": "\(taken.checkpoint)"])
        onTaken(taken)
    }

    /// Renews and takes until `stop` is set.
    func run(stop: StopFlag) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while !stop.isSet {
                    await self.sleep(until: self.clock.now.advanced(by: self.options.renewInterval), stop: stop)
                    if stop.isSet { break }
                    await self.renewAll()
                }
            }
            group.addTask {
                while !stop.isSet {
                    var next = self.clock.now.advanced(by: self.options.takingInterval)
                    do {
                        next = try await self.takeCycle()
                    } catch {
                        self.logger.warning("could not read the lease table", metadata: ["table": "\(self.options.table.name)", "error": "\(error)"])
                    }
                    await self.sleep(until: next, stop: stop)
                }
            }
            await group.waitForAll()
        }
    }

    func sleep(until deadline: ContinuousClock.Instant, stop: StopFlag) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(until: deadline, clock: self.clock) }
            group.addTask { await stop.wait() }
            await group.next()
            group.cancelAll()
        }
    }
}

/// The lease metrics: leases held, taken, stolen, lost, renew failures, and the failover time
/// (from the last move of an expired lease's counter, as this worker saw it, to taking it).
struct LeaseMetrics: Sendable {
    let held: Gauge
    let taken: Counter
    let stolen: Counter
    let lost: Counter
    let renewFailures: Counter
    let failover: Timer

    init(stream: String, worker: String, factory: any MetricsFactory) {
        let dimensions = [("stream", stream), ("worker", worker)]
        held = Gauge(label: "kinesis_consumer_leases_held", dimensions: dimensions, factory: factory)
        taken = Counter(label: "kinesis_consumer_leases_taken_total", dimensions: dimensions, factory: factory)
        stolen = Counter(label: "kinesis_consumer_leases_stolen_total", dimensions: dimensions, factory: factory)
        lost = Counter(label: "kinesis_consumer_leases_lost_total", dimensions: dimensions, factory: factory)
        renewFailures = Counter(label: "kinesis_consumer_lease_renew_failures_total", dimensions: dimensions, factory: factory)
        failover = Timer(label: "kinesis_consumer_lease_failover_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds, factory: factory)
    }
}
