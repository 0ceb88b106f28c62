import Foundation
import Kinesis
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Reads every shard of a stream and hands the records to a ``RecordProcessor``: in order
/// within a shard, shards in parallel (processing bounded by ``Configuration/maxConcurrentShards``),
/// parents read to their end before their children, checkpoints after each batch and at each
/// closed shard's end. Without leases, one process reads every shard it is given
/// (``Configuration/owns``); with ``Configuration/leases``, workers on any number of hosts share
/// the stream through a lease table in the KCL's format (DynamoDB, or in memory), each reading
/// the shards it holds, and checkpoints live in the leases. A ServiceLifecycle `Service`: a
/// graceful shutdown finishes the batch in hand, checkpoints it, and releases its leases.
///
/// ```swift
/// let consumer = StreamConsumer(
///     api: client, configuration: .init(streamName: "orders", applicationName: "billing"),
///     processor: BillingProcessor(), checkpoints: try SQLiteCheckpointStore(path: "checkpoints.sqlite"))  // KinesisCheckpointSQLite
/// try await ServiceGroup(services: [consumer], gracefulShutdownSignals: [.sigterm], logger: logger).run()
/// ```
public final class StreamConsumer: Service, Sendable {
    public struct Configuration: Sendable {
        public var streamName: String
        /// Names the checkpoints: two applications reading one stream keep their own.
        public var applicationName: String
        /// Where a shard without a checkpoint starts (`.trimHorizon`, `.latest`, `.atTimestamp`).
        /// A child whose parent was read starts at TRIM_HORIZON whatever this says, so a reshard
        /// loses nothing.
        public var initialPosition: StartingPosition = .trimHorizon
        /// Shards processed at once; every shard is read, none starves.
        public var maxConcurrentShards = 8
        /// How often ListShards looks for new shards (children are also found from GetRecords).
        public var shardSyncInterval: Duration = .seconds(60)
        public var reader = ShardReaderOptions()
        public var processing = ProcessingOptions()
        /// Which shards this consumer reads: several consumers in one process each take a
        /// disjoint share (a parent owned by another consumer blocks a child until it is
        /// checkpointed at its end in the shared store).
        public var owns: @Sendable (String) -> Bool = { _ in true }
        /// Where the metrics go (a test passes its own).
        public var metricsFactory: any MetricsFactory = MetricsSystem.factory
        /// Read with enhanced fan-out as this registered consumer (registered at start if it is
        /// not): SubscribeToShard pushes records with the consumer's own 2 MiB/s per shard,
        /// instead of GetRecords polls sharing the shard's 2 MiB/s with every other reader.
        public var fanOutConsumerName: String?
        /// Share the stream with other workers through a lease table
        /// (`.dynamoDB(table:client:)`, `.inMemory(_:)`): this worker reads the shards whose
        /// leases it holds, checkpoints go into the leases (the `checkpoints` store is not
        /// used), and ``owns`` is ignored.
        public var leases: LeaseOptions?

        public init(streamName: String, applicationName: String) {
            self.streamName = streamName
            self.applicationName = applicationName
        }
    }

    /// Where each shard stands, for progress lines and `--stop-when-caught-up`.
    public struct ShardStatus: Sendable, Hashable {
        public enum State: String, Sendable, Hashable { case waiting, reading, finished }
        public var shardId: String
        public var state: State
        public var millisBehindLatest: Int?
    }

    public let configuration: Configuration
    let api: any KinesisAPI
    /// The registered consumer read as, with ``Configuration/fanOutConsumerName``.
    private let fanOutARN = Mutex<String?>(nil)
    let processor: any RecordProcessor
    let checkpoints: any CheckpointStore
    let clock: ConsumerClock
    let logger: Logger
    let stop = StopFlag()
    let state = Mutex(State())
    let metrics: ConsumerMetrics

    struct ShardInfo: Sendable {
        var shard: Shard
        var range: ClosedRange<UInt128>?
        var closed: Bool { shard.sequenceNumberRange.endingSequenceNumber != nil }
        var parents: [String] { [shard.parentShardId, shard.adjacentParentShardId].compactMap { $0 } }
    }

    struct State: Sendable {
        var shards: [String: ShardInfo] = [:]
        var statuses: [String: ShardStatus] = [:]
        /// Shards known finished (checkpointed at SHARD_END, or skipped under LATEST).
        var finished: Set<String> = []
        /// Shards with any checkpoint: a child of one starts at TRIM_HORIZON.
        var everRead: Set<String> = []
        var warnedTrimmedParents: Set<String> = []
        /// Each running shard's own stop: set by a shutdown, or when its lease is lost.
        var shardStops: [String: StopFlag] = [:]
    }

    /// The lease protocol, while ``run()`` runs with ``Configuration/leases``.
    let leasing = Mutex<LeaseCoordinator?>(nil)

    public init(
        api: any KinesisAPI, configuration: Configuration, processor: some RecordProcessor, checkpoints: some CheckpointStore = InMemoryCheckpointStore(),
        clock: ConsumerClock = .continuous, logger: Logger = Logger(label: "kinesis-consumer")
    ) {
        self.api = api
        self.configuration = configuration
        self.processor = processor
        self.checkpoints = checkpoints
        self.clock = clock
        self.logger = logger
        metrics = ConsumerMetrics(stream: configuration.streamName, factory: configuration.metricsFactory)
    }

    /// Stops reading: every shard finishes (and checkpoints) the batch in hand, then ``run()`` returns.
    public func shutdown() { stop.set() }

    /// For failover tests (`kinesis-load run` with a `consume.fault`): `kill` stops this worker
    /// as a killed process stops (no checkpoint, no release: its leases expire); `freeze` makes it
    /// a zombie that writes nothing to the lease table but goes on reading what it held.
    /// Returns the shards whose leases it held when struck.
    @discardableResult
    package func injectLeaseFault(kill: Bool) -> [String] {
        guard let coordinator = leasing.withLock({ $0 }) else { return [] }
        if kill { coordinator.kill() } else { coordinator.freeze() }
        // From now on no lease is taken or renewed: this is what it leaves behind.
        let held = coordinator.held.keys.sorted()
        if kill { stop.set() }
        return held
    }

    /// Every owned shard's state.
    public var statuses: [ShardStatus] { state.withLock { Array($0.statuses.values).sorted { $0.shardId < $1.shardId } } }

    /// True when every owned open shard is being read and at its tip, and every closed one is finished.
    public var isCaughtUp: Bool {
        state.withLock { state in
            !state.statuses.isEmpty
                && state.statuses.values.allSatisfy { status in
                    status.state == .finished || (status.state == .reading && status.millisBehindLatest == 0 && !(state.shards[status.shardId]?.closed ?? false))
                }
        }
    }

    enum Event: Sendable {
        case sync
        case progress
        case ended(String, [ChildShard])
        case stopped(String)
        case failed(any Error)
        /// With leases: a lease taken, a lease lost, the table as a taking cycle read it.
        case taken(Lease)
        case lost(String)
        case scanned([Lease])
    }

    /// Reads until ``shutdown()`` or a graceful shutdown of the service group (or, with
    /// `untilCaughtUp`, until ``isCaughtUp``). Throws when a shard cannot be read or a checkpoint
    /// cannot be read or written.
    public func run() async throws {
        try await run(untilCaughtUp: false)
    }

    public func run(untilCaughtUp: Bool) async throws {
        try await withGracefulShutdownHandler {
            try await runLoop(untilCaughtUp: untilCaughtUp)
        } onGracefulShutdown: {
            self.stop.set()
        }
    }

    /// The ARN of the registered consumer `name` of `stream`, registering it when it is not
    /// (`registered` says so: a registered consumer costs money on AWS until it is
    /// deregistered), once it is ACTIVE (AWS takes seconds to make one; waits up to `timeout`).
    public static func fanOutConsumer(
        api: any KinesisAPI, stream: String, name: String, clock: ConsumerClock = .continuous, timeout: Duration = .seconds(120)
    ) async throws -> (arn: String, registered: Bool) {
        guard let streamARN = try await api.describeStreamSummary(.init(streamName: stream)).streamDescriptionSummary.streamARN else {
            throw KinesisError(code: .invalidResponse, message: "DescribeStreamSummary gave no StreamARN for \(stream)")
        }
        let named = DescribeStreamConsumerInput(streamARN: streamARN, consumerName: name)
        func describe() async throws -> (arn: String, status: ConsumerStatus) {
            let found = try await api.describeStreamConsumer(named).consumerDescription
            return (found.consumerARN, found.consumerStatus)
        }
        var consumer: (arn: String, status: ConsumerStatus)
        var registered = false
        do {
            consumer = try await describe()
        } catch let error as KinesisError where error.code == .resourceNotFound {
            do {
                let made = try await api.registerStreamConsumer(.init(streamARN: streamARN, consumerName: name)).consumer
                consumer = (made.consumerARN, made.consumerStatus)
                registered = true
            } catch let error as KinesisError where error.code == .resourceInUse {
                consumer = try await describe()  // registered meanwhile
            }
        }
        let deadline = clock.now() + timeout.timeInterval
        while consumer.status != .active {
            guard consumer.status == .creating, clock.now() < deadline else {
                throw KinesisError(
                    code: .resourceInUse,
                    message: "consumer \(name) of stream \(stream) is \(consumer.status.rawValue), not ACTIVE\(consumer.status == .creating ? " after \(timeout)" : "")")
            }
            try await clock.sleep(.seconds(1))
            consumer = try await describe()
        }
        return (consumer.arn, registered)
    }

    func runLoop(untilCaughtUp: Bool) async throws {
        if let name = configuration.fanOutConsumerName {
            let arn = try await Self.fanOutConsumer(api: api, stream: configuration.streamName, name: name, clock: clock).arn
            fanOutARN.withLock { $0 = arn }
        }
        let (events, continuation) = AsyncStream<Event>.makeStream()
        let permits = AsyncSemaphore(permits: configuration.maxConcurrentShards)
        var leaseTask: Task<Void, Never>?
        let leaseStop = StopFlag()
        if let options = configuration.leases {
            try await options.table.prepare(create: options.createTable)
            let coordinator = LeaseCoordinator(
                options: options, stream: configuration.streamName, logger: logger, metricsFactory: configuration.metricsFactory,
                onTaken: { continuation.yield(.taken($0)) }, onLost: { continuation.yield(.lost($0)) },
                onScanned: { continuation.yield(.scanned($0)) })
            leasing.withLock { $0 = coordinator }
        }
        defer { leasing.withLock { $0 = nil } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [stop, clock, configuration] in
                // Periodic ListShards, and a wake-up when a stop is asked for.
                await withTaskGroup(of: Void.self) { ticker in
                    ticker.addTask {
                        while !stop.isSet {
                            try? await clock.sleep(configuration.shardSyncInterval)
                            continuation.yield(.sync)
                        }
                    }
                    ticker.addTask {
                        await stop.wait()
                        continuation.yield(.sync)
                    }
                    await ticker.next()
                    ticker.cancelAll()
                }
            }
            group.addTask {
                // A shutdown stops every shard (each also stops alone when its lease is lost).
                await self.stop.wait()
                for flag in self.state.withLock({ Array($0.shardStops.values) }) { flag.set() }
            }
            var running = 0
            var failure: (any Error)?
            do {
                try await sync()
                if let coordinator = leasing.withLock({ $0 }) {
                    // The first taking cycle now, so that this worker starts at once; then the loops.
                    _ = try await coordinator.takeCycle()
                    leaseTask = Task { await coordinator.run(stop: leaseStop) }
                }
                running += try await startEligible(&group, permits: permits, events: continuation)
            } catch {
                failure = error
                stop.set()
            }
            for await event in events {
                if stop.isSet, running == 0 { break }
                switch event {
                case .sync:
                    if !stop.isSet {
                        do {
                            try await sync()
                        } catch {
                            failure = failure ?? error
                            stop.set()
                        }
                    }
                case .ended(let shard, let children):
                    running -= 1
                    state.withLock { state in
                        state.shardStops[shard] = nil
                        state.finished.insert(shard)
                        state.everRead.insert(shard)
                        state.statuses[shard]?.state = .finished
                        state.statuses[shard]?.millisBehindLatest = 0
                    }
                    // Children appear in ListShards; make sure they are known even before the next sync.
                    if !children.isEmpty, !stop.isSet {
                        do { try await sync() } catch {
                            failure = failure ?? error
                            stop.set()
                        }
                    }
                case .progress:
                    break
                case .stopped(let shard):
                    running -= 1
                    await leftShard(shard)
                case .failed(let error as ShardReadError) where error.underlying is LeaseLostError:
                    // Fenced: its checkpoint was refused, so another worker holds it now.
                    running -= 1
                    await leftShard(error.shardId)
                case .failed(let error):
                    running -= 1
                    failure = failure ?? error
                    stop.set()
                case .taken(let lease):
                    let (read, ended) = Self.progress(of: [lease])
                    state.withLock { state in
                        state.everRead.formUnion(read)
                        state.finished.formUnion(ended)
                        if state.statuses[lease.leaseKey] == nil || state.shardStops[lease.leaseKey] == nil {
                            state.statuses[lease.leaseKey] = ShardStatus(shardId: lease.leaseKey, state: lease.isFinished ? .finished : .waiting)
                        }
                    }
                case .lost(let shard):
                    // Its worker stops after the batch in hand (whose checkpoint is refused).
                    let flag = state.withLock { $0.shardStops[shard] }
                    if let flag { flag.set() } else { await leftShard(shard) }
                case .scanned(let leases):
                    let (read, ended) = Self.progress(of: leases)
                    state.withLock { state in
                        state.everRead.formUnion(read)
                        state.finished.formUnion(ended)
                        for key in ended where state.statuses[key] != nil && state.shardStops[key] == nil { state.statuses[key]?.state = .finished }
                    }
                }
                if failure == nil, !stop.isSet {
                    do {
                        running += try await startEligible(&group, permits: permits, events: continuation)
                    } catch {
                        failure = error
                        stop.set()
                    }
                }
                if untilCaughtUp, isCaughtUp { stop.set() }
                if stop.isSet, running == 0 { break }
            }
            continuation.finish()
            stop.set()
            group.cancelAll()
            try? await group.waitForAll()
            if let coordinator = leasing.withLock({ $0 }) {
                // Every shard has checkpointed what it processed: free the leases for the others.
                leaseStop.set()
                await leaseTask?.value
                if coordinator.options.releaseOnShutdown, !coordinator.isFrozen { await coordinator.releaseAll() }
                // It holds nothing any more (a killed worker's shards are the others' to read).
                if coordinator.isDead || coordinator.held.isEmpty { state.withLock { $0.statuses = [:] } }
            }
            if let failure { throw failure }
        }
    }

    /// Lists the stream's shards (closed ones within retention included) and loads checkpoints.
    func sync() async throws {
        let listed = try await StreamManager(api: api).listAllShards(stream: configuration.streamName)
        var infos: [String: ShardInfo] = [:]
        for shard in listed {
            let range: ClosedRange<UInt128>?
            if let low = UInt128(shard.hashKeyRange.startingHashKey), let high = UInt128(shard.hashKeyRange.endingHashKey), low <= high {
                range = low...high
            } else {
                range = nil
            }
            infos[shard.shardId] = ShardInfo(shard: shard, range: range)
        }
        var finished: Set<String> = []
        var everRead: Set<String> = []
        if let coordinator = leasing.withLock({ $0 }) {
            // Every listed shard gets a lease (an existing one, the KCL's or another worker's, is
            // kept). The table as the last taking cycle read it: a sync costs no Scan of its own
            // (the first one, before any cycle, reads it).
            let scanned: [Lease]
            if let last = coordinator.lastScan { scanned = last } else { scanned = try await coordinator.options.table.leases() }
            let leases = Dictionary(scanned.map { ($0.leaseKey, $0) }) { first, _ in first }
            for (id, info) in infos where leases[id] == nil {
                let lease = Lease(
                    leaseKey: id, checkpoint: Self.leaseStart(configuration.initialPosition), parentShardIds: info.parents.filter { infos[$0] != nil },
                    startingHashKey: info.shard.hashKeyRange.startingHashKey, endingHashKey: info.shard.hashKeyRange.endingHashKey)
                _ = try await coordinator.options.table.create(lease)
            }
            (everRead, finished) = Self.progress(of: scanned)
        } else {
            for id in infos.keys {
                if let checkpoint = try await checkpoints.checkpoint(
                    application: configuration.applicationName, stream: configuration.streamName, shardId: id)
                {
                    everRead.insert(id)
                    if checkpoint.position == .shardEnd { finished.insert(id) }
                }
            }
        }
        let coordinator = leasing.withLock { $0 }
        var owns = configuration.owns
        if let coordinator { owns = { coordinator.holds($0) } }
        state.withLock { state in
            state.shards = infos
            state.finished.formUnion(finished)
            state.everRead.formUnion(everRead)
            for (id, _) in infos where owns(id) && state.statuses[id] == nil {
                state.statuses[id] = ShardStatus(shardId: id, state: state.finished.contains(id) ? .finished : .waiting)
            }
            for id in state.finished where state.statuses[id] != nil { state.statuses[id]?.state = .finished }
        }
    }

    /// Starts a worker for each owned shard whose parents are finished; returns how many.
    func startEligible(_ group: inout ThrowingTaskGroup<Void, any Error>, permits: AsyncSemaphore, events: AsyncStream<Event>.Continuation) async throws -> Int {
        let initial = configuration.initialPosition
        let coordinator = leasing.withLock { $0 }
        let ready: [(ShardInfo, Bool)] = state.withLock { state in
            var ready: [(ShardInfo, Bool)] = []
            for (id, status) in state.statuses where status.state == .waiting {
                guard let info = state.shards[id] else { continue }
                var blocked = false
                var parentRead = false
                for parent in info.parents {
                    if state.shards[parent] == nil {
                        // Not listed: trimmed by retention (or never existed), so it cannot block.
                        if !state.everRead.contains(parent), state.warnedTrimmedParents.insert(parent).inserted {
                            logger.info("parent shard not found (trimmed): not blocking its child", metadata: ["parent": "\(parent)", "child": "\(id)"])
                        }
                        if state.everRead.contains(parent) { parentRead = true }
                        continue
                    }
                    if !state.finished.contains(parent) { blocked = true }
                    if state.everRead.contains(parent) { parentRead = true }
                }
                if blocked { continue }
                // Under LATEST, a closed shard nobody has read holds nothing new: skip it. (With
                // leases it is read from LATEST, which ends it at once and records SHARD_END in
                // its lease for the workers waiting on its children.)
                if case .latest = initial, coordinator == nil, info.closed, !state.everRead.contains(id), !parentRead {
                    state.statuses[id]?.state = .finished
                    state.finished.insert(id)
                    continue
                }
                state.statuses[id]?.state = .reading
                ready.append((info, parentRead))
            }
            return ready
        }
        let store: any CheckpointStore = coordinator.map { LeaseCheckpoints(coordinator: $0) } ?? checkpoints
        for (info, parentRead) in ready {
            let id = info.shard.shardId
            let checkpoint = try await store.checkpoint(application: configuration.applicationName, stream: configuration.streamName, shardId: id)
            let start: StartingPosition
            if let checkpoint, checkpoint.position.kind == .sequence {
                start = .atSequenceNumber(checkpoint.position.sequenceNumber)
            } else if parentRead {
                start = .trimHorizon
            } else if let sentinel = coordinator?.checkpoint(of: id) {
                // The lease says where to start (a table the KCL made may say TRIM_HORIZON under LATEST).
                start = Self.start(of: sentinel, initial: initial)
            } else {
                start = initial
            }
            let shardStop = StopFlag()
            state.withLock { $0.shardStops[id] = shardStop }
            if stop.isSet { shardStop.set() }
            let reader = ShardReader(
                api: api, stream: configuration.streamName, shardId: id, from: start, hashRange: info.range,
                endingSequenceNumber: info.shard.sequenceNumberRange.endingSequenceNumber, options: configuration.reader,
                clock: clock, logger: logger, fanOutConsumerARN: fanOutARN.withLock { $0 })
            var worker = ShardWorker(
                application: configuration.applicationName, stream: configuration.streamName, shardId: id, reader: reader,
                processor: processor, checkpoints: store, resumeAfter: checkpoint?.position.kind == .sequence ? checkpoint : nil,
                options: configuration.processing, permits: permits, stop: shardStop, logger: logger, metrics: metrics
            ) { behind in
                let reached = self.state.withLock { state -> Bool in
                    let before = state.statuses[id]?.millisBehindLatest
                    state.statuses[id]?.millisBehindLatest = behind
                    return behind == 0 && before != 0
                }
                // Reaching the tip may make the whole stream caught up: the loop checks.
                if reached { events.yield(.progress) }
            }
            if let coordinator {
                worker.endShard = { children in try await coordinator.finish(id, children: children) }
            }
            group.addTask {
                do {
                    switch try await worker.run() {
                    case .ended(let children): events.yield(.ended(id, children))
                    case .stopped: events.yield(.stopped(id))
                    }
                } catch {
                    events.yield(.failed(ShardReadError(shardId: id, underlying: error)))
                }
            }
        }
        return ready.count
    }

    /// A shard's worker ended without reaching the shard's end. With leases, when the lease is
    /// gone (lost, not a shutdown), the shard leaves this worker and the processor is told.
    func leftShard(_ shard: String) async {
        state.withLock { _ = $0.shardStops.removeValue(forKey: shard) }
        guard let coordinator = leasing.withLock({ $0 }) else { return }
        if coordinator.holds(shard) {
            // Lost and taken back before its worker stopped: it starts again, from the lease.
            if !stop.isSet { state.withLock { $0.statuses[shard]?.state = .waiting } }
            return
        }
        state.withLock { _ = $0.statuses.removeValue(forKey: shard) }
        await processor.leaseLost(shard)
    }

    /// The shards a lease table says were read (a sequence or SHARD_END checkpoint) and ended.
    static func progress(of leases: [Lease]) -> (read: Set<String>, ended: Set<String>) {
        (
            Set(leases.filter { $0.isFinished || $0.checkpoint.kind == .sequence }.map(\.leaseKey)),
            Set(leases.filter(\.isFinished).map(\.leaseKey))
        )
    }

    /// The checkpoint a new lease starts with, from the initial position.
    static func leaseStart(_ position: StartingPosition) -> ExtendedSequenceNumber {
        switch position {
        case .latest: .latest
        case .atTimestamp: .atTimestamp
        default: .trimHorizon
        }
    }

    /// Where a lease's sentinel checkpoint starts reading.
    static func start(of sentinel: ExtendedSequenceNumber, initial: StartingPosition) -> StartingPosition {
        switch sentinel.kind {
        case .latest: return .latest
        case .atTimestamp:
            if case .atTimestamp = initial { return initial }
            return .trimHorizon
        default: return .trimHorizon
        }
    }
}

/// Checkpoints in the leases a worker holds: reading one is the lease's (no call), and saving
/// one is a write conditional on the lease, refused with ``LeaseLostError`` once another
/// worker holds it.
struct LeaseCheckpoints: CheckpointStore {
    let coordinator: LeaseCoordinator

    func checkpoint(application: String, stream: String, shardId: String) async throws -> Checkpoint? {
        guard let position = coordinator.checkpoint(of: shardId), position.kind == .sequence || position == .shardEnd else { return nil }
        return Checkpoint(position: position)
    }

    func save(_ checkpoint: Checkpoint, application: String, stream: String, shardId: String) async throws {
        try await coordinator.checkpoint(shardId, at: checkpoint.position)
    }
}

/// A shard that could not be read or checkpointed, naming it.
public struct ShardReadError: Error, Sendable, CustomStringConvertible {
    public var shardId: String
    public var underlying: any Error
    public var description: String { "shard \(shardId): \(underlying)" }
}
