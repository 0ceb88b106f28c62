import CoreMetrics
import Foundation
import Kinesis
import Logging
import ServiceLifecycle
import Synchronization

/// What the KPL does, without its daemon: buffering, KPL-format aggregation of records bound
/// for the same shard, collection into PutRecords, per-shard rate limits, retries of failed
/// entries, a time-to-live, and backpressure so memory stays bounded.
///
/// Run it as a ServiceLifecycle `Service`; graceful shutdown flushes what it holds:
///
/// ```swift
/// let producer = Producer(api: client, configuration: .init(streamName: "orders"))
/// let group = ServiceGroup(services: [producer], logger: logger)
/// // elsewhere: suspends while the in-flight budget is full
/// let ticket = try await producer.put(data: payload, partitionKey: order.id)
/// let landed = try await ticket.result()          // shard and sequence number, or ProducerError
/// ```
public final class Producer: Service, EventPublisher {
    public struct Configuration: Sendable {
        public var streamName: String
        /// Longest a record waits in the buffer before it is sent (KPL RecordMaxBufferedTime).
        public var maxBufferedTime: Duration = .milliseconds(100)
        /// Pack records bound for the same shard into KPL aggregated records.
        public var aggregation = true
        /// Largest aggregated record (KPL AggregationMaxSize).
        public var aggregationMaxSize = 51_200
        /// Per-request limits and the per-record checks.
        public var limits = RecordLimits.default
        /// Most records accepted but not yet delivered; `put` suspends beyond it.
        public var maxInFlightRecords = 100_000
        /// Most bytes accepted but not yet delivered; `put` suspends beyond it.
        public var maxInFlightBytes = 64 * 1024 * 1024
        /// A record not delivered within this time fails with ``ProducerError/Code/expired``.
        public var recordTTL: Duration = .seconds(30)
        /// Client-side per-shard limit, in percent of Kinesis's 1,000 records/s and 1 MiB/s
        /// (KPL RateLimit, 150 by default); nil for none.
        public var rateLimitPercent: Double? = 150
        /// PutRecords requests in flight at once.
        public var maxConcurrentRequests = 8
        /// Backoff of failed entries: the wait before retry n is uniform in 0...min(max, base*2^(n-1)).
        public var retryBaseDelay: Duration = .milliseconds(50)
        public var retryMaxDelay: Duration = .seconds(2)
        /// Where metrics go; the process's bootstrapped factory when nil.
        public var metricsFactory: (any MetricsFactory)? = nil

        public init(streamName: String) { self.streamName = streamName }
    }

    public let api: any KinesisAPI
    public let configuration: Configuration
    private let logger: Logger?
    private let clock = ContinuousClock()
    private let origin = ContinuousClock.now
    private let state: Mutex<State>
    /// Set once the first shard map load was tried: lets `put` skip a lock.
    private let mapAttempted = Atomic<Bool>(false)
    private let metrics: ProducerMetrics
    private let encode: @Sendable (any Encodable) throws -> Data

    public init(
        api: any KinesisAPI, configuration: Configuration, encoder: @escaping @Sendable () -> JSONEncoder = { JSONEncoder() },
        logger: Logger? = nil
    ) {
        self.api = api
        self.configuration = configuration
        self.logger = logger
        self.encode = { try encoder().encode($0) }
        self.state = Mutex(State())
        self.metrics = ProducerMetrics(stream: configuration.streamName, factory: configuration.metricsFactory ?? MetricsSystem.factory)
    }

    // MARK: - State

    /// A user record in the producer's care.
    struct UserEntry {
        var partitionKey: String
        var explicitHashKey: String?
        var data: Data
        var hashKey: UInt128
        var arrival: Double
        var ticket: RecordTicket
        var bytes: Int { data.count + partitionKey.utf8.count }
    }

    /// A Kinesis record to send: one user record, or an aggregate of several for one shard.
    struct Outgoing {
        var partitionKey: String
        var explicitHashKey: String?
        var data: Data
        /// The tickets of the user records inside, which is all that is kept of them once the
        /// record is built: payloads are not copied around again.
        var tickets: [RecordTicket]
        /// Data plus partition key bytes of the user records, for the in-flight budget.
        var userBytes: Int
        /// When the oldest user record inside arrived.
        var oldest: Double
        /// The first user record's partition key, for messages.
        var firstKey: String
        var shardId: String?
        var attempts = 0
        var notBefore = 0.0
        var lastError: String?
        var size: Int { data.count + partitionKey.utf8.count }
    }

    struct Buffer {
        var builder: AggregatedRecordBuilder
        var tickets: [RecordTicket] = []
        var userBytes = 0
        var firstArrival: Double
        var firstKey: String
    }

    struct Waiter {
        var bytes: Int
        var continuation: CheckedContinuation<Void, any Error>
    }

    struct State {
        var shardMap: ShardMap?
        var mapIsStale = true
        /// Puts waiting for the first shard map, so that the first records are aggregated too.
        var mapLoading = false
        var mapWaiters: [CheckedContinuation<Void, Never>] = []
        /// Aggregates that landed on another shard than predicted: settled once the map is
        /// refreshed, re-sending the records whose hash keys the landing shard does not cover.
        var misrouted: [(record: Outgoing, landed: String, result: PublishResult)] = []
        var mapAttempted = false
        /// One aggregate in the making per open shard, indexed like `shardMap.entries`.
        var buffers: [Buffer?] = []
        var ready: [Outgoing] = []
        var retrying: [Outgoing] = []
        var inFlightRecords = 0
        var inFlightBytes = 0
        var inFlightRequests = 0
        var waiters: [Waiter] = []
        var flushRequested = false
        var flushWaiters: [CheckedContinuation<Void, Never>] = []
        var shuttingDown = false
        var buckets: [String: (records: TokenBucket, bytes: TokenBucket)] = [:]
        var statistics = Statistics()
        var random = SystemRandomNumberGenerator()
    }

    private func now() -> Double {
        origin.duration(to: clock.now).timeInterval
    }

    /// Counts since the producer was made.
    public struct Statistics: Sendable, Hashable {
        /// User records delivered.
        public var delivered = 0
        /// User records that failed (expired or rejected).
        public var failed = 0
        /// Kinesis records sent again after a retryable failure.
        public var retried = 0
        /// Kinesis records that landed (an aggregate counts once).
        public var kinesisRecords = 0
        /// PutRecords requests sent.
        public var requests = 0
    }

    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// Records accepted and not yet delivered or failed.
    public var inFlightRecordCount: Int { state.withLock { $0.inFlightRecords } }

    // MARK: - Putting records

    /// Hands a record to the producer. Suspends while the in-flight budget (records and bytes)
    /// is full, so a fast caller cannot exhaust memory; returns once the record is buffered.
    ///
    /// - Throws: ``ProducerError`` with ``ProducerError/Code/invalidRecord`` when the record
    ///   breaks a limit (nothing is buffered), or ``ProducerError/Code/shutDown``.
    public func put(data: Data, partitionKey: String, explicitHashKey: String? = nil) async throws -> RecordTicket {
        let entry = PublishEntry(data: data, partitionKey: partitionKey, explicitHashKey: explicitHashKey)
        if let problem = configuration.limits.problem(with: entry) {
            metrics.error(problem.code)
            throw ProducerError(code: .invalidRecord, message: problem.message, attempts: 0, lastErrorCode: nil)
        }
        let hashKey: UInt128
        if let explicitHashKey {
            hashKey = try ShardMap.parseHashKey(explicitHashKey)
        } else {
            hashKey = ShardMap.hashKey(forPartitionKey: partitionKey)
        }
        if !mapAttempted.load(ordering: .acquiring) { await ensureShardMap() }
        let ticket = RecordTicket()
        let user = UserEntry(
            partitionKey: partitionKey, explicitHashKey: explicitHashKey, data: data, hashKey: hashKey, arrival: now(), ticket: ticket)
        let bytes = user.bytes
        // Fast path: admit and buffer under one lock.
        let buffered: Bool = try state.withLock { state in
            if state.shuttingDown {
                throw ProducerError(code: .shutDown, message: "the producer is shutting down", attempts: 0, lastErrorCode: nil)
            }
            guard state.waiters.isEmpty, fits(bytes, in: state) else { return false }
            state.inFlightRecords += 1
            state.inFlightBytes += bytes
            buffer(user, in: &state)
            return true
        }
        if !buffered {
            try await reserve(bytes: bytes)
            state.withLock { state in buffer(user, in: &state) }
        }
        metrics.received.increment()
        return ticket
    }

    /// Hands many records to the producer under one lock where the budget allows: the same
    /// as calling ``put(data:partitionKey:explicitHashKey:)`` for each, with less overhead.
    /// A record that breaks a limit gets a ticket that has already failed; the others are
    /// buffered whatever happens to it.
    public func put(contentsOf entries: [PublishEntry]) async throws -> [RecordTicket] {
        if !mapAttempted.load(ordering: .acquiring) { await ensureShardMap() }
        let arrival = now()
        var tickets: [RecordTicket] = []
        tickets.reserveCapacity(entries.count)
        var users: [UserEntry] = []
        users.reserveCapacity(entries.count)
        for entry in entries {
            let ticket = RecordTicket()
            tickets.append(ticket)
            if let problem = configuration.limits.problem(with: entry) {
                metrics.error(problem.code)
                ticket.complete(.failure(ProducerError(code: .invalidRecord, message: problem.message, attempts: 0, lastErrorCode: nil)))
                continue
            }
            let hashKey: UInt128
            if let explicit = entry.explicitHashKey {
                hashKey = try ShardMap.parseHashKey(explicit)
            } else {
                hashKey = ShardMap.hashKey(forPartitionKey: entry.partitionKey)
            }
            users.append(
                UserEntry(
                    partitionKey: entry.partitionKey, explicitHashKey: entry.explicitHashKey, data: entry.data, hashKey: hashKey,
                    arrival: arrival, ticket: ticket))
        }
        var next = 0
        while next < users.count {
            // Admit as many as fit under one lock; wait for room only when none does.
            let admitted: Int = try state.withLock { state in
                if state.shuttingDown {
                    throw ProducerError(code: .shutDown, message: "the producer is shutting down", attempts: 0, lastErrorCode: nil)
                }
                guard state.waiters.isEmpty else { return 0 }
                var count = 0
                while next + count < users.count, fits(users[next + count].bytes, in: state) {
                    let user = users[next + count]
                    state.inFlightRecords += 1
                    state.inFlightBytes += user.bytes
                    buffer(user, in: &state)
                    count += 1
                }
                return count
            }
            if admitted == 0 {
                try await reserve(bytes: users[next].bytes)
                state.withLock { state in buffer(users[next], in: &state) }
                next += 1
            } else {
                next += admitted
            }
        }
        metrics.received.increment(by: Int64(users.count))
        return tickets
    }

    /// Waits for room in the in-flight budget and takes it.
    private func reserve(bytes: Int) async throws {
        let admitted: Bool = try state.withLock { state in
            if state.shuttingDown {
                throw ProducerError(code: .shutDown, message: "the producer is shutting down", attempts: 0, lastErrorCode: nil)
            }
            if state.waiters.isEmpty, fits(bytes, in: state) {
                state.inFlightRecords += 1
                state.inFlightBytes += bytes
                return true
            }
            return false
        }
        if admitted { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let resumeNow: Bool = state.withLock { state in
                if state.waiters.isEmpty, fits(bytes, in: state) {
                    state.inFlightRecords += 1
                    state.inFlightBytes += bytes
                    return true
                }
                state.waiters.append(Waiter(bytes: bytes, continuation: continuation))
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    private func fits(_ bytes: Int, in state: State) -> Bool {
        state.inFlightRecords == 0
            || (state.inFlightRecords + 1 <= configuration.maxInFlightRecords
                && state.inFlightBytes + bytes <= configuration.maxInFlightBytes)
    }

    /// Gives back budget and admits waiting callers in order.
    private func release(records: Int, bytes: Int, in state: inout State) -> [CheckedContinuation<Void, any Error>] {
        state.inFlightRecords -= records
        state.inFlightBytes -= bytes
        var admitted: [CheckedContinuation<Void, any Error>] = []
        while let first = state.waiters.first, fits(first.bytes, in: state) {
            state.waiters.removeFirst()
            state.inFlightRecords += 1
            state.inFlightBytes += first.bytes
            admitted.append(first.continuation)
        }
        if state.inFlightRecords == 0 {
            state.flushRequested = false
        }
        return admitted
    }

    private func buffer(_ user: UserEntry, in state: inout State) {
        guard configuration.aggregation, let map = state.shardMap, let shard = map.index(forHashKey: user.hashKey) else {
            state.ready.append(
                Outgoing(
                    partitionKey: user.partitionKey, explicitHashKey: user.explicitHashKey, data: user.data, tickets: [user.ticket],
                    userBytes: user.bytes, oldest: user.arrival, firstKey: user.partitionKey,
                    shardId: state.shardMap?.shardId(forHashKey: user.hashKey)))
            return
        }
        let record = AggregatedRecord.UserRecord(partitionKey: user.partitionKey, explicitHashKey: user.explicitHashKey, data: user.data)
        if state.buffers[shard] == nil {
            state.buffers[shard] = Buffer(
                builder: AggregatedRecordBuilder(maximumSize: configuration.aggregationMaxSize), firstArrival: user.arrival,
                firstKey: user.partitionKey)
        }
        if !state.buffers[shard]!.builder.append(record, hashKey: user.hashKey) {
            seal(shard, in: &state)
            state.buffers[shard] = Buffer(
                builder: AggregatedRecordBuilder(maximumSize: configuration.aggregationMaxSize), firstArrival: user.arrival,
                firstKey: user.partitionKey)
            state.buffers[shard]!.builder.append(record, hashKey: user.hashKey)
        }
        state.buffers[shard]!.tickets.append(user.ticket)
        state.buffers[shard]!.userBytes += user.bytes
    }

    /// Turns a shard's aggregate into a record ready to send.
    private func seal(_ shard: Int, in state: inout State) {
        guard shard < state.buffers.count, let buffer = state.buffers[shard] else { return }
        state.buffers[shard] = nil
        guard let built = buffer.builder.build() else { return }
        state.ready.append(
            Outgoing(
                partitionKey: built.partitionKey, explicitHashKey: built.explicitHashKey, data: built.data, tickets: buffer.tickets,
                userBytes: buffer.userBytes, oldest: buffer.firstArrival, firstKey: buffer.firstKey,
                shardId: state.shardMap?.entries[shard].shardId))
    }

    /// Seals every aggregate, installs a new shard map, and settles misrouted aggregates.
    private func install(_ map: ShardMap, in state: inout State) -> Settled {
        for shard in state.buffers.indices { seal(shard, in: &state) }
        state.shardMap = map
        state.buffers = Array(repeating: nil, count: map.count)
        state.mapIsStale = false
        return resolveMisrouted(with: map, in: &state)
    }

    /// Tickets to complete and callers to admit, once the lock is released.
    struct Settled {
        var delivered: [(RecordTicket, PublishResult)] = []
        var admitted: [CheckedContinuation<Void, any Error>] = []
        var flushed: [CheckedContinuation<Void, Never>] = []

        func complete() {
            for (ticket, result) in delivered { ticket.complete(.success(result)) }
            admitted.forEach { $0.resume() }
            flushed.forEach { $0.resume() }
        }
    }

    /// Each record of a misrouted aggregate is delivered if the shard it landed on covers its
    /// hash key under `map`, and buffered again otherwise (keeping its ticket, its budget and
    /// its arrival time, so the TTL still counts from the first put). Without a map, all are
    /// taken as delivered.
    private func resolveMisrouted(with map: ShardMap?, in state: inout State) -> Settled {
        var settled = Settled()
        let misrouted = state.misrouted
        state.misrouted = []
        var releasedRecords = 0
        var releasedBytes = 0
        for item in misrouted {
            let users = AggregatedRecord.deaggregate(item.record.data) ?? []
            guard let map, users.count == item.record.tickets.count else {
                for ticket in item.record.tickets { settled.delivered.append((ticket, item.result)) }
                releasedRecords += item.record.tickets.count
                releasedBytes += item.record.userBytes
                continue
            }
            for (user, ticket) in zip(users, item.record.tickets) {
                let hashKey = ShardMap.hashKey(forPartitionKey: user.partitionKey, explicitHashKey: user.explicitHashKey)
                if map.shardId(forHashKey: hashKey) == item.landed {
                    settled.delivered.append((ticket, item.result))
                    releasedRecords += 1
                    releasedBytes += user.data.count + user.partitionKey.utf8.count
                } else {
                    state.statistics.retried += 1
                    buffer(
                        UserEntry(
                            partitionKey: user.partitionKey, explicitHashKey: user.explicitHashKey, data: user.data, hashKey: hashKey,
                            arrival: item.record.oldest, ticket: ticket),
                        in: &state)
                }
            }
        }
        state.statistics.delivered += settled.delivered.count
        if releasedRecords > 0 {
            settled.admitted = release(records: releasedRecords, bytes: releasedBytes, in: &state)
        }
        if state.inFlightRecords == 0 {
            settled.flushed = state.flushWaiters
            state.flushWaiters = []
        }
        return settled
    }

    // MARK: - EventPublisher

    public func publish<Event: Encodable & Sendable>(_ event: Event, partitionKey: String) async throws -> PublishResult {
        let data: Data
        do {
            data = try encode(event)
        } catch {
            throw ProducerError(code: .invalidRecord, message: "could not encode \(Event.self) as JSON: \(error)", attempts: 0, lastErrorCode: nil)
        }
        return try await put(data: data, partitionKey: partitionKey).result()
    }

    public func publish(data: Data, partitionKey: String, explicitHashKey: String?) async throws -> PublishResult {
        try await put(data: data, partitionKey: partitionKey, explicitHashKey: explicitHashKey).result()
    }

    public func publishBatch(_ entries: [PublishEntry]) async throws -> BatchPublishResult {
        var tickets: [Result<RecordTicket, ProducerError>] = []
        for entry in entries {
            do {
                tickets.append(.success(try await put(data: entry.data, partitionKey: entry.partitionKey, explicitHashKey: entry.explicitHashKey)))
            } catch let error as ProducerError {
                tickets.append(.failure(error))
            }
        }
        var outcomes: [BatchPublishResult.Outcome] = []
        for ticket in tickets {
            switch ticket {
            case .success(let ticket):
                do {
                    outcomes.append(.published(try await ticket.result()))
                } catch let error as ProducerError {
                    outcomes.append(.failed(code: error.lastErrorCode ?? error.code.rawValue, message: error.message, attempts: error.attempts))
                }
            case .failure(let error):
                outcomes.append(.failed(code: error.code.rawValue, message: error.message, attempts: 0))
            }
        }
        return BatchPublishResult(outcomes: outcomes)
    }

    /// Sends everything buffered now and waits until every record accepted before the call is
    /// delivered or has failed. Needs ``run()`` to be running.
    public func flush() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                if state.inFlightRecords == 0 { return true }
                state.flushRequested = true
                state.flushWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    // MARK: - Running

    /// Sends what is buffered until graceful shutdown (or cancellation), then flushes:
    /// every record accepted before shutdown is delivered or failed before `run` returns.
    public func run() async throws {
        await refreshShardMap()
        try await withGracefulShutdownHandler {
            try await self.loop()
        } onGracefulShutdown: {
            self.state.withLock { $0.shuttingDown = true }
        }
    }

    /// Stops accepting records; ``run()`` returns once what is held is delivered or failed.
    public func shutdown() {
        state.withLock { $0.shuttingDown = true }
    }

    private var tick: Duration {
        min(max(configuration.maxBufferedTime / 4, .milliseconds(1)), .milliseconds(20))
    }

    private func loop() async throws {
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                if state.withLock({ $0.mapIsStale && $0.inFlightRequests == 0 }) { await refreshShardMap() }
                let (requests, finished) = collect()
                for request in requests {
                    group.addTask { await self.send(request) }
                }
                if finished { break }
                if requests.isEmpty {
                    try? await Task.sleep(for: tick)
                } else {
                    await Task.yield()
                }
            }
        }
        // Cancelled (not shut down gracefully): every record still held fails now, after the
        // requests under way have settled, so no caller waits on a ticket forever.
        if Task.isCancelled { abandonAll() }
    }

    /// Fails every record the producer still holds with ``ProducerError/Code/shutDown``.
    private func abandonAll() {
        var settled = Settled()
        var abandoned: [RecordTicket] = []
        state.withLock { state in
            state.shuttingDown = true
            for shard in state.buffers.indices { seal(shard, in: &state) }
            let held = state.ready + state.retrying + state.misrouted.map(\.record)
            state.ready = []
            state.retrying = []
            state.misrouted = []
            var records = 0
            var bytes = 0
            for record in held {
                abandoned += record.tickets
                records += record.tickets.count
                bytes += record.userBytes
            }
            state.statistics.failed += records
            // Callers waiting for room are turned away, not admitted into a producer that has stopped.
            let waiting = state.waiters
            state.waiters = []
            for waiter in waiting {
                waiter.continuation.resume(
                    throwing: ProducerError(code: .shutDown, message: "the producer was cancelled", attempts: 0, lastErrorCode: nil))
            }
            settled.admitted = release(records: records, bytes: bytes, in: &state)
            settled.flushed = state.flushWaiters
            state.flushWaiters = []
        }
        let error = ProducerError(code: .shutDown, message: "the producer was cancelled before the record was delivered", attempts: 0, lastErrorCode: nil)
        for ticket in abandoned { ticket.complete(.failure(error)) }
        settled.complete()
    }

    /// Takes what is due: sealed aggregates, expired buffers, retries whose wait is over;
    /// fails records past their TTL; and cuts PutRecords requests within the limits.
    private func collect() -> (requests: [[Outgoing]], finished: Bool) {
        let now = now()
        let ttl = configuration.recordTTL.timeInterval
        let buffered = configuration.maxBufferedTime.timeInterval
        var expired: [Outgoing] = []
        var admitted: [CheckedContinuation<Void, any Error>] = []
        var flushed: [CheckedContinuation<Void, Never>] = []
        let result: ([[Outgoing]], Bool) = state.withLock { state in
            let sealAll = state.flushRequested || state.shuttingDown
            for shard in state.buffers.indices {
                if let buffer = state.buffers[shard], sealAll || now - buffer.firstArrival >= buffered { seal(shard, in: &state) }
            }
            if !state.retrying.isEmpty {
                var waiting: [Outgoing] = []
                for record in state.retrying {
                    if record.notBefore <= now { state.ready.append(record) } else { waiting.append(record) }
                }
                state.retrying = waiting
            }
            // Expire records past their TTL, whole Kinesis records at a time.
            if state.ready.contains(where: { now - $0.oldest > ttl }) {
                var kept: [Outgoing] = []
                for record in state.ready {
                    if now - record.oldest > ttl {
                        expired.append(record)
                    } else {
                        kept.append(record)
                    }
                }
                state.ready = kept
            }
            var requests: [[Outgoing]] = []
            var leftover: [Outgoing] = []
            var current: [Outgoing] = []
            var bytes = 0
            var index = 0
            while index < state.ready.count {
                let record = state.ready[index]
                index += 1
                if state.inFlightRequests + requests.count >= configuration.maxConcurrentRequests {
                    leftover.append(record)
                    continue
                }
                if let percent = configuration.rateLimitPercent, let shard = record.shardId {
                    var buckets = state.buckets[shard] ?? (
                        TokenBucket(rate: 1000 * percent / 100, now: now), TokenBucket(rate: 1_048_576 * percent / 100, now: now)
                    )
                    let allowed = TokenBucket.take(&buckets.records, 1, &buckets.bytes, Double(record.size), now: now)
                    state.buckets[shard] = buckets
                    if !allowed {
                        leftover.append(record)
                        continue
                    }
                }
                if !current.isEmpty,
                    current.count == configuration.limits.maximumRequestRecords || bytes + record.size > configuration.limits.maximumRequestBytes
                {
                    requests.append(current)
                    current = []
                    bytes = 0
                }
                current.append(record)
                bytes += record.size
            }
            // A partial request waits for more records until its oldest has waited maxBufferedTime
            // (or a flush or shutdown asks for everything now).
            if !current.isEmpty {
                let due = sealAll || current.contains { now - $0.oldest >= buffered || $0.attempts > 0 }
                if due, state.inFlightRequests + requests.count < configuration.maxConcurrentRequests {
                    requests.append(current)
                } else {
                    leftover += current
                    if configuration.rateLimitPercent != nil {
                        // Give back the tokens taken for records that stay.
                        for record in current {
                            guard let shard = record.shardId, var buckets = state.buckets[shard] else { continue }
                            buckets.records.spend(-1)
                            buckets.bytes.spend(-Double(record.size))
                            state.buckets[shard] = buckets
                        }
                    }
                }
            }
            state.ready = leftover
            state.inFlightRequests += requests.count
            state.statistics.requests += requests.count
            state.statistics.failed += expired.reduce(0) { $0 + $1.tickets.count }
            var releasedRecords = 0
            var releasedBytes = 0
            for record in expired {
                releasedRecords += record.tickets.count
                releasedBytes += record.userBytes
            }
            if releasedRecords > 0 {
                admitted = release(records: releasedRecords, bytes: releasedBytes, in: &state)
            }
            if state.inFlightRecords == 0 {
                flushed = state.flushWaiters
                state.flushWaiters = []
            }
            let finished = state.shuttingDown && state.inFlightRecords == 0 && state.inFlightRequests == 0
            return (requests, finished)
        }
        for record in expired {
            metrics.expired.increment(by: Int64(record.tickets.count))
            metrics.error(ProducerError.Code.expired.rawValue)
            let count = record.tickets.count
            let error = ProducerError(
                code: .expired,
                message: "not delivered within the record TTL of \(configuration.recordTTL) (partition key '\(record.firstKey.prefix(40))'"
                    + (count > 1 ? " and \(count - 1) more records aggregated with it)" : ")"),
                attempts: record.attempts, lastErrorCode: record.lastError)
            for ticket in record.tickets { ticket.complete(.failure(error)) }
        }
        admitted.forEach { $0.resume() }
        flushed.forEach { $0.resume() }
        return result
    }

    /// Sends one PutRecords request and settles every user record in it.
    private func send(_ records: [Outgoing]) async {
        let started = now()
        for record in records { metrics.bufferingTime.recordSeconds(started - record.oldest) }
        let input = PutRecordsInput(
            streamName: configuration.streamName,
            records: records.map { PutRecordsRequestEntry(data: $0.data, partitionKey: $0.partitionKey, explicitHashKey: $0.explicitHashKey) })
        var outcomes: [(Outgoing, Result<PutRecordsResultEntry, KinesisError>)] = []
        do {
            let output = try await api.putRecords(input)
            if output.records.count == records.count {
                outcomes = zip(records, output.records).map { record, entry in
                    if let code = entry.errorCode {
                        return (record, .failure(KinesisError(code: .init(rawValue: code), message: entry.errorMessage ?? "")))
                    }
                    return (record, .success(entry))
                }
            } else {
                let error = KinesisError(code: .invalidResponse, message: "PutRecords answered \(output.records.count) entries for \(records.count)")
                outcomes = records.map { ($0, .failure(error)) }
            }
        } catch let error as KinesisError {
            outcomes = records.map { ($0, .failure(error)) }
        } catch {
            outcomes = records.map { ($0, .failure(KinesisError(code: .connectionFailure, message: "\(error)"))) }
        }
        metrics.requestTime.recordSeconds(now() - started)
        settle(outcomes)
    }

    private func settle(_ outcomes: [(Outgoing, Result<PutRecordsResultEntry, KinesisError>)]) {
        let now = now()
        var delivered: [(RecordTicket, PublishResult)] = []
        var failed: [(RecordTicket, ProducerError)] = []
        var admitted: [CheckedContinuation<Void, any Error>] = []
        var flushed: [CheckedContinuation<Void, Never>] = []
        state.withLock { state in
            state.inFlightRequests -= 1
            var releasedRecords = 0
            var releasedBytes = 0
            for (record, result) in outcomes {
                var record = record
                record.attempts += 1
                switch result {
                case .success(let entry):
                    let shardId = entry.shardId ?? ""
                    let result = PublishResult(shardId: shardId, sequenceNumber: entry.sequenceNumber ?? "")
                    if let predicted = record.shardId, predicted != shardId {
                        // The stream was resharded: predictions are wrong until the map is refreshed.
                        state.mapIsStale = true
                        metrics.error("WrongShard")
                        if record.tickets.count > 1 {
                            // A KCL reader drops the records of an aggregate whose hash keys fall
                            // outside the shard it is read from: sort them out after the refresh.
                            state.misrouted.append((record, shardId, result))
                            state.statistics.kinesisRecords += 1
                            continue
                        }
                    }
                    for ticket in record.tickets { delivered.append((ticket, result)) }
                    releasedRecords += record.tickets.count
                    releasedBytes += record.userBytes
                    state.statistics.kinesisRecords += 1
                    state.statistics.delivered += record.tickets.count
                    metrics.kinesisRecordsPut.increment()
                    metrics.userRecordsPut.increment(by: Int64(record.tickets.count))
                    metrics.bytesPut.increment(by: Int64(record.size))
                case .failure(let error):
                    metrics.error(error.code.rawValue)
                    record.lastError = error.code.rawValue
                    if error.isRetryable {
                        metrics.retries.increment()
                        state.statistics.retried += 1
                        let ceiling = min(
                            configuration.retryBaseDelay.timeInterval * pow(2, Double(min(record.attempts - 1, 20))),
                            configuration.retryMaxDelay.timeInterval)
                        record.notBefore = now + Double.random(in: 0...ceiling, using: &state.random)
                        state.retrying.append(record)
                    } else {
                        state.statistics.failed += record.tickets.count
                        let rejected = ProducerError(
                            code: .rejected, message: error.message, attempts: record.attempts, lastErrorCode: error.code.rawValue)
                        for ticket in record.tickets { failed.append((ticket, rejected)) }
                        releasedRecords += record.tickets.count
                        releasedBytes += record.userBytes
                    }
                }
            }
            admitted = release(records: releasedRecords, bytes: releasedBytes, in: &state)
            if state.inFlightRecords == 0 {
                flushed = state.flushWaiters
                state.flushWaiters = []
            }
        }
        for (ticket, result) in delivered { ticket.complete(.success(result)) }
        for (ticket, error) in failed { ticket.complete(.failure(error)) }
        admitted.forEach { $0.resume() }
        flushed.forEach { $0.resume() }
    }

    /// Loads the shard map once, before the first record is buffered; concurrent callers wait
    /// for the one load.
    private func ensureShardMap() async {
        enum Step { case ready, load, wait }
        let step: Step = state.withLock { state in
            if state.mapAttempted { return .ready }
            if state.mapLoading { return .wait }
            state.mapLoading = true
            return .load
        }
        switch step {
        case .ready:
            return
        case .wait:
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if state.mapAttempted { return true }
                    state.mapWaiters.append(continuation)
                    return false
                }
                if ready { continuation.resume() }
            }
        case .load:
            await refreshShardMap()
        }
    }

    /// Reloads the open shards. Until it succeeds, records are sent without aggregation.
    public func refreshShardMap() async {
        defer {
            mapAttempted.store(true, ordering: .releasing)
            let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.mapAttempted = true
                state.mapLoading = false
                let waiters = state.mapWaiters
                state.mapWaiters = []
                return waiters
            }
            waiters.forEach { $0.resume() }
        }
        do {
            var shards: [Shard] = []
            var page = try await api.listShards(ListShardsInput(streamName: configuration.streamName, shardFilter: ShardFilter(type: .atLatest)))
            shards += page.shards
            while let token = page.nextToken, !page.shards.isEmpty {
                page = try await api.listShards(ListShardsInput(nextToken: token))
                shards += page.shards
            }
            let map = try ShardMap(shards: shards)
            state.withLock { state in install(map, in: &state) }.complete()
        } catch {
            logger?.warning("could not list shards; sending without aggregation", metadata: ["error": "\(error)"])
            state.withLock { state in
                state.mapIsStale = false
                return resolveMisrouted(with: nil, in: &state)
            }.complete()
        }
    }
}

/// The producer's metrics, named as the KPL names them.
struct ProducerMetrics: Sendable {
    let stream: String
    let factory: any MetricsFactory
    let received: Counter
    let userRecordsPut: Counter
    let kinesisRecordsPut: Counter
    let bytesPut: Counter
    let retries: Counter
    let expired: Counter
    let bufferingTime: CoreMetrics.Timer
    let requestTime: CoreMetrics.Timer

    init(stream: String, factory: any MetricsFactory) {
        self.stream = stream
        self.factory = factory
        let dimensions = [("stream", stream)]
        received = Counter(label: "kinesis_producer_user_records_received", dimensions: dimensions, factory: factory)
        userRecordsPut = Counter(label: "kinesis_producer_user_records_put", dimensions: dimensions, factory: factory)
        kinesisRecordsPut = Counter(label: "kinesis_producer_kinesis_records_put", dimensions: dimensions, factory: factory)
        bytesPut = Counter(label: "kinesis_producer_kinesis_records_bytes", dimensions: dimensions, factory: factory)
        retries = Counter(label: "kinesis_producer_retries", dimensions: dimensions, factory: factory)
        expired = Counter(label: "kinesis_producer_user_records_expired", dimensions: dimensions, factory: factory)
        bufferingTime = CoreMetrics.Timer(label: "kinesis_producer_buffering_time", dimensions: dimensions, factory: factory)
        requestTime = CoreMetrics.Timer(label: "kinesis_producer_request_time", dimensions: dimensions, factory: factory)
    }

    func error(_ code: String) {
        Counter(label: "kinesis_producer_errors", dimensions: [("stream", stream), ("error_code", code)], factory: factory).increment()
    }
}

extension CoreMetrics.Timer {
    func recordSeconds(_ seconds: Double) { recordNanoseconds(Int64(max(0, seconds) * 1e9)) }
}
