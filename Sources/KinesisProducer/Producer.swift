import CoreMetrics
import Foundation
import Kinesis
#if canImport(Glibc)
import Glibc
#endif
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
    /// Where records are sent.
    public let api: any KinesisAPI
    /// The settings the producer was made with.
    public let configuration: Configuration
    private let logger: Logger?
    /// Seconds since the producer was made, read from the injected clock (from CLOCK_MONOTONIC
    /// when that is the continuous clock, the same time without the generic indirection).
    private let now: @Sendable () -> Double
    /// ``now``, or coarser where that is cheaper: when a record arrived.
    private let arrivalNow: @Sendable () -> Double
    private let sleep: @Sendable (Duration) async throws -> Void
    private let state: Mutex<Shell>
    /// Set once the first shard map load was tried: lets `put` skip a lock.
    private let mapAttempted = Atomic<Bool>(false)
    private let nextWaiterID = Atomic<Int>(0)
    private let doorbell = Doorbell()
    /// The MD5s of partition keys met lately: users, devices and tenants repeat.
    private let hashKeys = HashKeyCache()
    private let metrics: ProducerMetrics
    private let encode: @Sendable (any Encodable) throws -> Data

    /// Makes a producer; nothing is sent until ``run()`` runs.
    ///
    /// - Parameters:
    ///   - clock: what buffering, the TTL, backoff and rate limits are timed by; a test passes
    ///     a manual clock.
    ///   - encoder: makes the encoder of ``publish(_:partitionKey:)``.
    public init(
        api: any KinesisAPI, configuration: Configuration, clock: some Clock<Duration> = ContinuousClock(),
        encoder: @escaping @Sendable () -> JSONEncoder = { JSONEncoder() }, logger: Logger? = nil
    ) {
        self.api = api
        self.configuration = configuration
        self.logger = logger
        #if canImport(Glibc)
        if clock is ContinuousClock {
            // The usual case, spared the generic clock's indirection. A record's arrival is read
            // on every put, from the coarse monotonic clock (a few nanoseconds, a few
            // milliseconds' resolution: buffering and the TTL are counted in tens of
            // milliseconds at least); everything else from the precise one, on the same timeline.
            let origin = Self.monotonic(CLOCK_MONOTONIC)
            self.now = { Self.monotonic(CLOCK_MONOTONIC) - origin }
            self.arrivalNow = { max(0, Self.monotonic(CLOCK_MONOTONIC_COARSE) - origin) }
        } else {
            let origin = clock.now
            self.now = { origin.duration(to: clock.now).timeInterval }
            self.arrivalNow = self.now
        }
        #else
        let origin = clock.now
        self.now = { origin.duration(to: clock.now).timeInterval }
        self.arrivalNow = self.now
        #endif
        self.sleep = { try await clock.sleep(for: $0) }
        self.encode = { try encoder().encode($0) }
        self.state = Mutex(
            Shell(machine: ProducerStateMachine(configuration: .init(configuration), seed: UInt64.random(in: .min ... .max))))
        self.metrics = ProducerMetrics(stream: configuration.streamName, factory: configuration.metricsFactory ?? MetricsSystem.factory)
    }

    /// The state machine and the continuations of callers it tells about by id.
    struct Shell {
        var machine: ProducerStateMachine
        var waiters: [Int: CheckedContinuation<Void, any Error>] = [:]
        var flushWaiters: [CheckedContinuation<Void, Never>] = []
        var mapLoading = false
        var mapAttempted = false
        var mapWaiters: [CheckedContinuation<Void, Never>] = []

        /// Takes out the continuations the actions name, to resume once the lock is released.
        mutating func resolve(_ actions: ProducerStateMachine.Actions) -> Resumptions {
            var resumptions = Resumptions(actions: actions)
            for id in actions.admitted {
                if let continuation = waiters.removeValue(forKey: id) { resumptions.admitted.append(continuation) }
            }
            for (id, error) in actions.turnedAway {
                if let continuation = waiters.removeValue(forKey: id) { resumptions.turnedAway.append((continuation, error)) }
            }
            if actions.flushed {
                resumptions.flushed = flushWaiters
                flushWaiters = []
            }
            return resumptions
        }
    }

    /// What to complete and whom to wake, outside the lock.
    struct Resumptions {
        var actions: ProducerStateMachine.Actions
        var admitted: [CheckedContinuation<Void, any Error>] = []
        var turnedAway: [(CheckedContinuation<Void, any Error>, ProducerError)] = []
        var flushed: [CheckedContinuation<Void, Never>] = []

        func perform(_ metrics: ProducerMetrics) {
            metrics.record(actions)
            for (completions, landed) in actions.delivered {
                let count = completions.count
                for (index, completion) in completions.enumerated() where completion.isTracked {
                    completion.complete(.success(landed.inAggregate(index: index, count: count)))
                }
            }
            for (completion, error) in actions.failed { completion.complete(.failure(error)) }
            admitted.forEach { $0.resume() }
            for (continuation, error) in turnedAway { continuation.resume(throwing: error) }
            flushed.forEach { $0.resume() }
        }
    }

    /// Counts since the producer was made.
    public var statistics: Statistics { state.withLock { $0.machine.statistics } }

    /// Records accepted and not yet delivered or failed.
    public var inFlightRecordCount: Int { state.withLock { $0.machine.inFlightRecords } }

    // MARK: - Putting records

    /// Hands a record to the producer. Suspends while the in-flight budget (records and bytes)
    /// is full, so a fast caller cannot exhaust memory; returns once the record is buffered.
    /// A caller suspended for room can be cancelled (it throws `CancellationError`; its record
    /// was never taken).
    ///
    /// - Throws: ``PublishError`` with ``PublishError/Code/invalidRecord`` when the record
    ///   breaks a limit (nothing is buffered), or ``PublishError/Code/shutDown``.
    public func put(data: Data, partitionKey: String, explicitHashKey: String? = nil) async throws -> RecordTicket {
        let ticket = RecordTicket()
        try await take(PublishEntry(data: data, partitionKey: partitionKey, explicitHashKey: explicitHashKey), .ticket(ticket))
        return ticket
    }

    /// ``put(data:partitionKey:explicitHashKey:)`` for callers that track many records and
    /// cannot afford a ticket or a task per record (a load runner, a log shipper): `onCompletion`
    /// is called once, with where the record landed or why it never will. It runs on the
    /// producer's task: keep it short, and never wait in it.
    ///
    /// ```swift
    /// try await producer.put(data: line, partitionKey: host) { result in
    ///     if case .failure(let error) = result { failures.add(error.code) }
    /// }
    /// ```
    public func put(
        data: Data, partitionKey: String, explicitHashKey: String? = nil,
        onCompletion: @escaping @Sendable (Result<PublishResult, ProducerError>) -> Void
    ) async throws {
        try await take(PublishEntry(data: data, partitionKey: partitionKey, explicitHashKey: explicitHashKey), .callback(onCompletion))
    }

    /// ``put(data:partitionKey:explicitHashKey:)`` whose outcome is only counted: in
    /// ``statistics`` (delivered, failed) and the producer's metrics (errors by code). The
    /// cheapest put, for fire-and-forget publishing where a count of failures is enough.
    public func putCounted(data: Data, partitionKey: String, explicitHashKey: String? = nil) async throws {
        try await take(PublishEntry(data: data, partitionKey: partitionKey, explicitHashKey: explicitHashKey), .counted)
    }

    /// Checks and buffers one record, waiting for room when the budget is full.
    private func take(_ entry: PublishEntry, _ completion: Completion) async throws {
        if let problem = configuration.limits.problem(with: entry) {
            metrics.error(problem.reportedCode)
            throw problem
        }
        if !mapAttempted.load(ordering: .acquiring) { await ensureShardMap() }
        let user = userEntry(entry, arrival: arrivalNow(), completion: completion)
        if try !state.withLock({ shell throws(ProducerError) in try shell.machine.admit(user) }) {
            try await waitForRoom(user)
        }
        metrics.received.increment()
    }

    /// Hands many records to the producer under one lock where the budget allows: the same
    /// as calling ``put(data:partitionKey:explicitHashKey:)`` for each, with less overhead.
    /// A record that breaks a limit gets a ticket that has already failed; the others are
    /// buffered whatever happens to it.
    public func put(contentsOf entries: [PublishEntry]) async throws -> [RecordTicket] {
        if !mapAttempted.load(ordering: .acquiring) { await ensureShardMap() }
        let arrival = arrivalNow()
        var tickets: [RecordTicket] = []
        tickets.reserveCapacity(entries.count)
        var users: [ProducerStateMachine.UserEntry] = []
        users.reserveCapacity(entries.count)
        for entry in entries {
            if let problem = configuration.limits.problem(with: entry) {
                metrics.error(problem.reportedCode)
                let ticket = RecordTicket()
                ticket.complete(.failure(problem))
                tickets.append(ticket)
                continue
            }
            let ticket = RecordTicket()
            tickets.append(ticket)
            users.append(userEntry(entry, arrival: arrival, completion: .ticket(ticket)))
        }
        var next = 0
        while next < users.count {
            // Admit as many as fit under one lock; wait for room only when none does.
            let start = next
            let admitted = try state.withLock { shell throws(ProducerError) in try shell.machine.admit(users, from: start) }
            if admitted == 0 {
                try await waitForRoom(users[next])
                next += 1
            } else {
                next += admitted
            }
        }
        metrics.received.increment(by: Int64(users.count))
        return tickets
    }

    /// A checked record with its hash key (the limits already passed, so the key parses).
    private func userEntry(_ entry: PublishEntry, arrival: Double, completion: Completion) -> ProducerStateMachine.UserEntry {
        let hashKey = entry.explicitHashKey.flatMap { try? ShardMap.parseHashKey($0) } ?? hashKeys.hashKey(for: entry.partitionKey)
        return ProducerStateMachine.UserEntry(
            partitionKey: entry.partitionKey, explicitHashKey: entry.explicitHashKey, data: entry.data, hashKey: hashKey,
            arrival: arrival, completion: completion)
    }

    /// Queues the record until the budget has room for it; the machine buffers it then.
    private func waitForRoom(_ user: ProducerStateMachine.UserEntry) async throws {
        let id = nextWaiterID.wrappingAdd(1, ordering: .relaxed).newValue
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Checked under the lock that `onCancel` takes too: a cancellation either finds
                // this caller registered or is seen here.
                let outcome: Result<Bool, any Error> = state.withLock { shell in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    do {
                        if try shell.machine.enqueue(user, id: id) { return .success(true) }
                    } catch {
                        return .failure(error)
                    }
                    shell.waiters[id] = continuation
                    return .success(false)
                }
                switch outcome {
                case .success(true): continuation.resume()
                case .success(false): break
                case .failure(let error): continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            let (continuation, resumptions) = state.withLock { shell in
                let (wasWaiting, actions) = shell.machine.cancelWaiting(id: id)
                return (wasWaiting ? shell.waiters.removeValue(forKey: id) : nil, shell.resolve(actions))
            }
            continuation?.resume(throwing: CancellationError())
            resumptions.perform(metrics)
        }
    }

    // MARK: - EventPublisher

    /// Encodes `event` as JSON, puts it and waits for its fate.
    public func publish<Event: Encodable & Sendable>(_ event: Event, partitionKey: String) async throws -> PublishResult {
        try await put(data: PublishError.encoding(event, with: encode), partitionKey: partitionKey).result()
    }

    /// Puts raw bytes and waits for their fate.
    public func publish(data: Data, partitionKey: String, explicitHashKey: String?) async throws -> PublishResult {
        try await put(data: data, partitionKey: partitionKey, explicitHashKey: explicitHashKey).result()
    }

    /// Puts every entry and waits for the fate of each.
    public func publishBatch(_ entries: [PublishEntry]) async throws -> BatchPublishResult {
        var outcomes: [BatchPublishResult.Outcome] = []
        for ticket in try await put(contentsOf: entries) {
            do {
                outcomes.append(.published(try await ticket.result()))
            } catch let error as PublishError {
                outcomes.append(.failed(code: error.reportedCode, message: error.message, attempts: error.attempts))
            }
        }
        return BatchPublishResult(outcomes: outcomes)
    }

    /// Sends everything buffered now and waits until every record accepted before the call is
    /// delivered or has failed. Needs ``run()`` to be running.
    public func flush() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { shell -> Bool in
                if shell.machine.requestFlush() { return true }
                shell.flushWaiters.append(continuation)
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
            self.shutdown()
        }
    }

    /// Stops accepting records; ``run()`` returns once what is held is delivered or failed.
    public func shutdown() {
        state.withLock { $0.machine.shutDown() }
        doorbell.ring()
    }

    /// Runs the producer while `body` runs; then shuts it down and waits until everything it
    /// accepted is delivered or has failed. For a command, a job or a test that publishes and
    /// ends; a long-lived server runs the producer in its `ServiceGroup` instead.
    ///
    /// ```swift
    /// let landed = try await producer.withRunning {
    ///     try await producer.publish(order, partitionKey: order.id)
    /// }
    /// ```
    public func withRunning<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask { try await self.run() }
            do {
                let result = try await body()
                shutdown()
                try await group.waitForAll()
                return result
            } catch {
                shutdown()
                try? await group.waitForAll()
                throw error
            }
        }
    }

    private var tick: Duration {
        min(max(configuration.maxBufferedTime / 4, .milliseconds(1)), .milliseconds(20))
    }

    /// Waits a tick, or less when a request settles or shutdown is asked for: a settled request
    /// can free keys and budget that records are waiting for, and with per-key order nothing
    /// else may be sendable until then.
    private func pause() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    try await self.sleep(self.tick)
                    self.doorbell.ring()
                } catch {}
            }
            // A cancelled run loop must not wait for a ring that will not come.
            await withTaskCancellationHandler {
                await doorbell.wait()
            } onCancel: {
                doorbell.ring()
            }
            group.cancelAll()
        }
    }

    private func loop() async throws {
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled {
                if state.withLock({ $0.machine.needsMapRefresh }) { await refreshShardMap() }
                let now = now()
                let (requests, finished, resumptions) = state.withLock { shell in
                    let collected = shell.machine.collect(now: now)
                    return (collected.requests, collected.finished, shell.resolve(collected.actions))
                }
                resumptions.perform(metrics)
                for request in requests {
                    group.addTask { await self.send(request) }
                }
                if finished { break }
                if requests.isEmpty {
                    await pause()
                } else {
                    await Task.yield()
                }
            }
        }
        // Cancelled (not shut down gracefully): every record still held fails now, after the
        // requests under way have settled, so no caller waits on a ticket forever.
        if Task.isCancelled {
            state.withLock { shell in shell.resolve(shell.machine.abandon()) }.perform(metrics)
        }
    }

    /// Sends one PutRecords request and settles every user record in it.
    private func send(_ sealed: [ProducerStateMachine.Outgoing]) async {
        // Aggregates are encoded and digested here, on the sending task: not on a caller's path
        // and not under the lock, so with more than one core this overlaps with buffering.
        var records = sealed
        for index in records.indices { records[index].encode() }
        let started = now()
        for record in records { metrics.bufferingTime.recordSeconds(started - record.oldest) }
        let input = PutRecordsInput(
            streamName: configuration.streamName,
            records: records.map { PutRecordsRequestEntry(data: $0.data, partitionKey: $0.partitionKey, explicitHashKey: $0.explicitHashKey) })
        var outcomes: [(ProducerStateMachine.Outgoing, Result<PutRecordsResultEntry, KinesisError>)] = []
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
        let settled = now()
        metrics.requestTime.recordSeconds(settled - started)
        state.withLock { shell in shell.resolve(shell.machine.settle(outcomes, now: settled)) }.perform(metrics)
        doorbell.ring()
    }

    /// Loads the shard map once, before the first record is buffered; concurrent callers wait
    /// for the one load.
    private func ensureShardMap() async {
        enum Step { case ready, load, wait }
        let step: Step = state.withLock { shell in
            if shell.mapAttempted { return .ready }
            if shell.mapLoading { return .wait }
            shell.mapLoading = true
            return .load
        }
        switch step {
        case .ready:
            return
        case .wait:
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { shell -> Bool in
                    if shell.mapAttempted { return true }
                    shell.mapWaiters.append(continuation)
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
            let waiters = state.withLock { shell -> [CheckedContinuation<Void, Never>] in
                shell.mapAttempted = true
                shell.mapLoading = false
                defer { shell.mapWaiters = [] }
                return shell.mapWaiters
            }
            waiters.forEach { $0.resume() }
        }
        do {
            let map = try await StreamManager(api: api).shardMap(stream: configuration.streamName)
            state.withLock { shell in shell.resolve(shell.machine.install(map)) }.perform(metrics)
        } catch {
            logger?.warning("could not list shards; sending without aggregation", metadata: ["error": "\(error)"])
            state.withLock { shell in shell.resolve(shell.machine.mapUnavailable()) }.perform(metrics)
        }
    }
}

#if canImport(Glibc)
extension Producer {
    /// Seconds on a monotonic clock of the system's.
    fileprivate static func monotonic(_ clock: clockid_t) -> Double {
        var time = timespec()
        clock_gettime(clock, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
#endif

/// Wakes the run loop early. A ring with nobody waiting is kept for the next wait, so none is lost.
final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func ring() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.rung = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                if state.rung {
                    state.rung = false
                    return true
                }
                state.waiter = continuation
                return false
            }
            if ready { continuation.resume() }
        }
    }
}
