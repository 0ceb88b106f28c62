import Foundation
import Histogram
import Kinesis
import KinesisProducer
import CoreMetrics
import Logging
import Synchronization

/// Asks a run to stop: the first request stops the schedule and lets what is in flight
/// finish; the second abandons it.
package final class StopSignal: Sendable {
    private let requests = Atomic<Int>(0)
    private let firstSignal = Atomic<Int32>(0)
    package init() {}
    package func request() { requests.wrappingAdd(1, ordering: .relaxed) }
    /// A request made by a signal (SIGINT, SIGTERM, SIGHUP): the first one sets the exit code.
    package func request(signal: Int32) {
        _ = firstSignal.compareExchange(expected: 0, desired: signal, ordering: .relaxed)
        request()
    }
    /// The signal of the first request, if a signal made it.
    package var signal: Int32? {
        let value = firstSignal.load(ordering: .relaxed)
        return value == 0 ? nil : value
    }
    package var isRequested: Bool { requests.load(ordering: .relaxed) > 0 }
    package var isUrgent: Bool { requests.load(ordering: .relaxed) > 1 }
}

/// A snapshot for the live progress line.
package struct RunProgress: Sendable {
    package var elapsed: Double
    package var totals: Recorder.Totals
    /// Events started in the last interval, per second.
    package var achievedRate: Double
    package var targetRate: Double
    /// p99 latency in milliseconds of events finished in the last interval.
    package var p99: Double
    package var stopping: Bool
    /// User records the consumers received so far, and the largest MillisBehindLatest of the
    /// shards' latest reads (nil when the run has no consumers).
    package var consumed: Int? = nil
    package var lagMs: Int? = nil
    /// Publishing is over; the consumers are catching up.
    package var catchingUp = false
}

/// How a run ended, before thresholds are judged.
package struct RunResult: Sendable {
    package var runId: Int64
    package var interrupted: Bool
    package var elapsedSeconds: Double
    /// This run created its stream (it did not exist before).
    package var createdStream = false
}

/// Runs a scenario open loop: each event starts at its intended time whatever the responses
/// do, latency counts from that time (so a stalled publisher shows in the percentiles), a cap
/// on events in flight turns the excess into counted drops, and every figure goes to SQLite.
package final class LoadRunner: Sendable {
    package let scenario: Scenario
    package let api: any KinesisAPI
    /// What the consumers read through: a client of their own over HTTP, so that the publisher
    /// never takes the connections reads need.
    package let readAPI: any KinesisAPI
    /// Where the run went, as stored: "embedded", an endpoint URL without credentials, "aws:REGION".
    package let target: String
    package let store: MetricsStore
    package let scenarioPath: String?
    let logger: Logger?
    /// Whether a missing stream may be created: on the embedded engine unless the scenario says
    /// `"create": false`; elsewhere only when asked (`"create": true` or `--create`), so that a
    /// mistyped name never creates a stream that bills.
    package let mayCreateStream: Bool
    /// How to ask for creation, for the error about a missing stream.
    package let createHint: String
    /// This worker's share of the run (`--segment i/n`); nil runs every event.
    package let segment: RunSegment?
    /// When the schedule starts (`--start-at`), the same instant for every worker of a
    /// segmented run; nil starts it once the stream is ready.
    package let startAt: Date?

    /// Distinct partition keys counted exactly; keys beyond are counted together.
    static let trackedKeyLimit = 100_000
    static let hotKeysKept = 25
    /// How long a segmented worker's shards must bring nothing before its read-back ends.
    static let segmentQuiet: Duration = .seconds(3)

    package init(
        scenario: Scenario, api: any KinesisAPI, target: String, store: MetricsStore, scenarioPath: String? = nil, logger: Logger? = nil,
        mayCreateStream: Bool? = nil, createHint: String = "add \"create\": true to $.stream", readAPI: (any KinesisAPI)? = nil,
        segment: RunSegment? = nil, startAt: Date? = nil, metricsFactory: (any MetricsFactory)? = nil,
        clientMetricsFactory: (any MetricsFactory)? = nil
    ) {
        self.clientMetricsFactory = clientMetricsFactory
        self.scenario = scenario
        self.api = api
        self.readAPI = readAPI ?? api
        self.target = target
        self.store = store
        self.scenarioPath = scenarioPath
        self.logger = logger
        self.mayCreateStream = mayCreateStream ?? (scenario.stream.create ?? true)
        self.createHint = createHint
        self.segment = segment
        self.startAt = startAt
        self.metricsFactory = metricsFactory
    }

    /// Where the run's figures also go as they happen (`run --metrics-port`): swift-metrics
    /// handles made from this factory, labelled with the scenario, run id and segment.
    package let metricsFactory: (any MetricsFactory)?
    /// Where the Producer's and the consumers' own metrics go (`--cloudwatch-metrics`): the
    /// KPL's and KCL's figures; the process's factory when nil.
    package let clientMetricsFactory: (any MetricsFactory)?
    private let metricsOfRun = Mutex<RunMetrics?>(nil)
    /// The running run's metrics, once it has an id (nil without a factory).
    package var liveMetrics: RunMetrics? { metricsOfRun.withLock { $0 } }
    private let idOfRun = Mutex<Int64?>(nil)
    /// The running run's id in ``store``, once it has begun (what a live page reads).
    package var runId: Int64? { idOfRun.withLock { $0 } }

    /// How late this worker starts its schedule against `--start-at`, in seconds (0 when it is
    /// on time or there is no `--start-at`): its events start late and their lateness counts it.
    package private(set) var lateStart: Double {
        get { lateStartSeconds.withLock { $0 } }
        set { lateStartSeconds.withLock { $0 = newValue } }
    }
    private let lateStartSeconds = Mutex(0.0)

    /// Checks that the stream exists, creating it when that is allowed (``mayCreateStream``), and
    /// returns its open shards and whether this run created it.
    package func prepareStream() async throws -> (ShardMap, created: Bool) {
        let manager = StreamManager(api: api, pollInterval: .milliseconds(200), logger: logger)
        let stream = scenario.stream
        var created = false
        do {
            _ = try await manager.waitUntilActive(stream.name)
        } catch let error as KinesisError where error.code == .resourceNotFound {
            guard mayCreateStream else {
                let why =
                    scenario.stream.create == false
                    ? "and the scenario says \"create\": false ($.stream.create): create it first"
                    : "at \(target), and nothing was created: \(createHint) to create it, or check the name"
                throw KinesisError(code: error.code, message: "stream \"\(stream.name)\" does not exist \(why)", httpStatus: error.httpStatus)
            }
            created = try await manager.ensureExists(stream.name, capacity: stream.shards.map { .provisioned(shards: $0) } ?? .onDemand)
        }
        return (try await manager.shardMap(stream: stream.name), created)
    }

    package func run(stop: StopSignal = StopSignal(), progressInterval: Duration = .seconds(1), progress: @escaping @Sendable (RunProgress) -> Void = { _ in })
        async throws -> RunResult
    {
        if let segment, scenario.consume?.workers != nil {
            throw RunSegmentError(
                description: "--segment \(segment): this scenario's consumers share the shards through leases ($.consume.workers), which lives in one process's lease table; run it unsegmented, or use \"consumers\"")
        }
        let (shardMap, createdStream) = try await Self.unlessStopped(stop) { try await self.prepareStream() }
        var schedule = ArrivalSchedule(load: scenario.load, seed: scenario.seed)
        let clock = ContinuousClock()
        // Every worker of a segmented run starts its schedule at the same instant; one that gets
        // there late starts at once, behind schedule, and its lateness shows it.
        var scheduleStart = clock.now
        var startedAt = Date()
        if let startAt {
            let wait = startAt.timeIntervalSinceNow
            scheduleStart = clock.now.advanced(by: .nanoseconds(Int64(wait * 1e9)))
            startedAt = startAt
            lateStart = max(0, -wait)
        }
        let typeNames = scenario.events.map(\.type)
        let runId = try await store.beginRun(
            .init(
                scenario: scenario, scenarioPath: scenarioPath, target: target, shardMap: shardMap,
                plannedEvents: segment?.share(of: schedule.plannedCount) ?? schedule.plannedCount, plannedSeconds: schedule.duration,
                startedAt: startedAt, segment: segment, lateStartSeconds: lateStart))
        let runMetrics = metricsFactory.map {
            RunMetrics(scenario: scenario.name, runId: runId, segment: segment?.description, typeNames: typeNames, factory: $0)
        }
        metricsOfRun.withLock { $0 = runMetrics }
        idOfRun.withLock { $0 = runId }
        let recorder = Recorder(start: scheduleStart, metrics: runMetrics)
        let observed = ObservedKinesis(base: api, recorder: recorder, shardMap: shardMap)
        logger?.info("run started", metadata: ["run": "\(runId)", "scenario": "\(scenario.name)", "target": "\(target)"])

        // The read side: consumers during the publishing phase, and the verifier they report to.
        // A segmented worker reads only its share of the shards while its events land on all of
        // them: it hands its acknowledgements and reads to `merge`, which judges them together.
        let verifier = scenario.consume.map { _ in ReadBackVerifier(recorder: recorder, typeNames: typeNames, runStartedAt: startedAt) }
        let handoff =
            segment != nil && scenario.consume?.verify == true
            ? ReadBackHandoff(runId: runId, recorder: recorder, runStartedAt: startedAt, base: scheduleStart, baseWall: startedAt) : nil
        let witness: (any ReadBackWitness)? = handoff ?? verifier
        let consumers = scenario.consume.map {
            RunConsumers(scenario: scenario, spec: $0, runId: runId, api: readAPI, recorder: recorder, verifier: witness!, segment: segment, logger: logger,
                metricsFactory: clientMetricsFactory)
        }
        let ownShards = shardMap.entries.map(\.shardId).filter { segment?.reads(shard: $0) ?? true }
        let consumerFailure = Mutex<String?>(nil)
        var consumerTask: Task<Void, Never>?
        if let consumers {
            let consumersStart = scheduleStart
            consumerTask = Task {
                do { try await consumers.run(start: consumersStart) } catch { consumerFailure.withLock { $0 = $0 ?? "\(error)" } }
            }
        }
        let catchingUp = StopSignal()
        var onAcknowledged: (@Sendable (LoadEvent, ContinuousClock.Instant, PublishResult) -> Void)?
        if let witness {
            onAcknowledged = { event, intended, landed in witness.acknowledged(event, index: event.index, intended: intended, at: landed) }
        }
        // A paced schedule runs on a thread of its own, away from the publisher's tasks.
        let scheduleThread = schedule.unpaced ? nil : ScheduleThread()
        defer { scheduleThread?.shutdown() }
        let publisher = RunPublisher(
            scenario: scenario, api: observed, recorder: recorder, logger: logger, onAcknowledged: onAcknowledged,
            producerMetrics: clientMetricsFactory, scheduleThread: scheduleThread)
        let finished = StopSignal()
        let tally = KeyTally(limit: Self.trackedKeyLimit, samplesPerType: scenario.sampledRecordsPerType, types: typeNames.count)

        // Writes finished seconds to SQLite and reports progress, off the hot path. A write
        // that fails (a full disk, a removed file) stops the run: figures that cannot be kept
        // make a run worthless.
        let plan = schedule
        let storeFailure = Mutex<String?>(nil)
        let background = Task {
            var lastStarted = 0
            var lastTime = clock.now
            while !finished.isRequested {
                try? await Task.sleep(for: progressInterval)
                let now = clock.now
                let batch = recorder.drain(through: recorder.second(of: now) - 1)
                do {
                    try await store.write(batch, run: runId, typeNames: typeNames)
                    if let handoff {
                        let (acks, reads) = handoff.drain()
                        try await store.write(readBack: acks, reads)
                    }
                } catch {
                    logger?.error("could not write metrics", metadata: ["error": "\(error)"])
                    let elapsed = Int(recorder.start.duration(to: now).timeInterval)
                    storeFailure.withLock { $0 = $0 ?? "writing the figures of second \(elapsed) to \(store.path) failed (\(MetricsStore.describe(error)))" }
                    stop.request()
                    stop.request()
                    break
                }
                let totals = recorder.currentTotals
                let interval = lastTime.duration(to: now).timeInterval
                let elapsed = recorder.start.duration(to: now).timeInterval
                let recent = recorder.takeRecentLatencies()
                verifier?.tick()
                let reading = recorder.readProgress
                progress(
                    RunProgress(
                        elapsed: elapsed, totals: totals, achievedRate: Double(totals.started - lastStarted) / max(interval, 0.001),
                        targetRate: plan.unpaced || catchingUp.isRequested ? 0 : plan.targetRate(at: elapsed) / Double(segment?.count ?? 1),
                        p99: recent.totalCount > 0 ? Double(recent.valueAtPercentile(99)) / 1000 : 0, stopping: stop.isRequested,
                        consumed: consumers == nil ? nil : reading.consumed, lagMs: consumers == nil ? nil : reading.lagMs,
                        catchingUp: catchingUp.isRequested))
                lastStarted = totals.started
                lastTime = now
            }
        }

        var source = EventSource(scenario: scenario, shardMap: shardMap)
        let cap = scenario.load.maxInFlight
        let unpaced = schedule.unpaced
        var generationSeconds = 0.0
        var stoppedEarly = false
        var failure: (any Error)?
        var nextIndex: UInt64 = 0
        if let consumers, scenario.consume?.from == .latest {
            // From LATEST, a record published before a shard's first iterator would never be read.
            if !(await consumers.waitUntilReading(ownShards, timeout: .seconds(30), stop: stop)), !stop.isRequested {
                failure = ReadSideFailure(description: "the consumers did not start reading every shard within 30 s (\(consumerFailure.withLock { $0 } ?? "no error"))")
            }
        }
        // Every worker of a segmented run begins at --start-at, unpaced ones too.
        if startAt != nil, failure == nil {
            while !stop.isRequested, clock.now < scheduleStart {
                try? await Task.sleep(for: min(.milliseconds(100), clock.now.duration(to: scheduleStart)))
            }
        }
        if failure == nil, !stop.isRequested { do {
            try await publisher.withRunning(stop: stop) { publish, idle in try await withTaskExecutorPreference(scheduleThread) {
                while !stop.isRequested, let offset = schedule.next() {
                    if let segment, !segment.owns(nextIndex) {
                        // Another worker's event: made all the same, so that the random draws,
                        // counters and keys of this worker's events are the whole run's.
                        _ = source.next()
                        nextIndex += 1
                        continue
                    }
                    let intended: ContinuousClock.Instant
                    if unpaced {
                        intended = clock.now
                        while publisher.inFlight >= cap, !stop.isRequested { try? await Task.sleep(for: .milliseconds(1)) }
                    } else {
                        intended = recorder.start.advanced(by: .nanoseconds(Int64(offset * 1e9)))
                        await idle(intended)
                        if stop.isRequested { break }
                    }
                    var event = source.next()
                    event.index = nextIndex
                    nextIndex += 1
                    tally.count(event)
                    let second = unpaced ? recorder.second(of: intended) : Int(offset)
                    // A segment is asked for its share of the rate; merged, the shares add up.
                    let rate = unpaced ? 0 : schedule.targetRate(at: offset) / Double(segment?.count ?? 1)
                    if publisher.inFlight >= cap {
                        recorder.dropped(type: event.type, second: second, targetRate: rate)
                        continue
                    }
                    // Unpaced events start when they are made: no lateness to measure.
                    let lateness = unpaced ? Duration.zero : intended.duration(to: clock.now)
                    recorder.started(type: event.type, second: second, lateness: lateness, targetRate: rate)
                    try await publish(event, intended)
                }
                // A stop asked for after the last event started only waits for the drain.
                stoppedEarly = stop.isRequested
                generationSeconds = recorder.start.duration(to: clock.now).timeInterval
            } }
        } catch {
            failure = error
            logger?.error("run failed", metadata: ["run": "\(runId)", "error": "\(error)"])
        } }
        // Read back: with verification, until every shard is caught up (or the timeout).
        var verification: ReadBackVerifier.Result?
        if let consumers, let verifier, let spec = scenario.consume {
            var caughtUp = false
            if spec.verify, failure == nil, !stop.isUrgent {
                catchingUp.request()
                if segment != nil {
                    // The other workers' records keep coming until the whole schedule is over:
                    // read until then, and until the shards have been quiet for a while.
                    let scheduleEnd = unpaced ? clock.now : max(clock.now, scheduleStart.advanced(by: .nanoseconds(Int64(schedule.duration * 1e9))))
                    caughtUp = await consumers.catchUp(
                        since: scheduleEnd, timeout: spec.catchUpTimeout, stop: stop, quiet: Self.segmentQuiet, ownsShards: !ownShards.isEmpty)
                } else {
                    caughtUp = await consumers.catchUp(since: clock.now, timeout: spec.catchUpTimeout, stop: stop)
                }
            }
            consumers.shutdown()
            await consumerTask?.value
            if let error = consumerFailure.withLock({ $0 }), failure == nil {
                failure = ReadSideFailure(description: "a consumer failed: \(error)")
            }
            let result = verifier.finish(caughtUp: caughtUp)
            if spec.verify, handoff == nil {
                verification = result
                runMetrics?.readBack([
                    ("acknowledged", result.acknowledged), ("read", result.read), ("lost", result.lost), ("not_verified", result.notVerified),
                    ("duplicated", result.duplicated), ("reread", result.reread), ("out_of_order", result.outOfOrder),
                    ("unexpected", result.unexpected),
                ])
            }
        }
        // Whatever happened, what ran is stored.
        let elapsed = recorder.start.duration(to: clock.now).timeInterval
        finished.request()
        await background.value
        if storeFailure.withLock({ $0 }) == nil {
            do {
                try await store.write(recorder.drain(), run: runId, typeNames: typeNames)
                if let handoff, let consumers {
                    let (acks, reads) = handoff.drain()
                    try await store.write(readBack: acks, reads, shards: consumers.shardRows(runId: runId, wallUs: handoff.wallUs))
                }
                if let leases = consumers?.leases { try await store.write(leases: leases.rows(runId: runId), fault: leases.faultText) }
            } catch {
                storeFailure.withLock { $0 = "writing the run's last figures to \(store.path) failed (\(MetricsStore.describe(error)))" }
            }
        }
        let counted = recorder.currentTotals
        if let problem = storeFailure.withLock({ $0 }) {
            // Marked as an error when the database still takes a small write.
            try? await store.setStatus(runId, status: .error, exitCode: 1, problem: problem)
            throw RunStoreFailure(
                description: "\(problem); the run stopped early. Kept: run \(runId) in \(store.path), marked error, with the figures written before the failure")
        }
        let interrupted = stoppedEarly
        try await store.finishRun(
            runId, status: failure != nil ? .error : interrupted ? .interrupted : .completed, exitCode: failure != nil ? 1 : 0,
            elapsedSeconds: elapsed, generationSeconds: generationSeconds > 0 ? generationSeconds : elapsed,
            hotKeys: tally.hottest(Self.hotKeysKept, shardMap: shardMap), samples: tally.samples(typeNames: typeNames), counted: counted,
            problem: failure.map { MetricsStore.describe($0) }, verification: verification)
        if let failure { throw RunFailed(runId: runId, cause: failure) }
        return RunResult(runId: runId, interrupted: interrupted, elapsedSeconds: elapsed, createdStream: createdStream)
    }

}

extension LoadRunner {
    /// Runs `body` until it returns or a stop is requested (creating or describing a stream can
    /// take minutes, and a stop must not wait for it).
    static func unlessStopped<T: Sendable>(_ stop: StopSignal, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                while !stop.isRequested { try await Task.sleep(for: .milliseconds(50)) }
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw RunStoppedBeforeStart() }
            return value
        }
    }
}

/// A stop was requested before the run started (while its stream was set up): nothing is stored.
package struct RunStoppedBeforeStart: Error, Sendable, CustomStringConvertible {
    package var description: String { "stopped before the run started (while setting up the stream): nothing was stored" }
}

/// A run that failed after it started: what ran is stored as run `runId` (status error), so its
/// reports can still be written. Says what `cause` says.
package struct RunFailed: Error, Sendable, CustomStringConvertible {
    package var runId: Int64
    package var cause: any Error
    package var description: String { MetricsStore.describe(cause) }
}

/// The consumers of a run could not read: what failed, in one line.
package struct ReadSideFailure: Error, Sendable, CustomStringConvertible {
    package var description: String
}

/// The metrics database failed during a run: what failed and what was kept, in one line.
package struct RunStoreFailure: Error, Sendable, CustomStringConvertible {
    package var description: String
}

/// Counts partition keys (exactly, up to a limit of distinct keys) and keeps the first
/// records of each type as samples. Used by the runner's task only.
final class KeyTally: @unchecked Sendable {
    var counts: [String: (events: Int, bytes: Int, hashKey: String?)] = [:]
    var untracked = 0
    let limit: Int
    let samplesPerType: Int
    var sampled: [[LoadEvent]]

    init(limit: Int, samplesPerType: Int, types: Int) {
        self.limit = limit
        self.samplesPerType = samplesPerType
        sampled = Array(repeating: [], count: types)
    }

    func count(_ event: LoadEvent) {
        let bytes = event.data.count + event.partitionKey.utf8.count
        if let index = counts.index(forKey: event.partitionKey) {
            counts.values[index].events += 1
            counts.values[index].bytes += bytes
        } else if counts.count < limit {
            counts[event.partitionKey] = (1, bytes, event.explicitHashKey)
        } else {
            untracked += 1
        }
        if sampled[event.type].count < samplesPerType { sampled[event.type].append(event) }
    }

    func hottest(_ n: Int, shardMap: ShardMap) -> [MetricsStore.KeyCount] {
        counts.sorted { $0.value.events != $1.value.events ? $0.value.events > $1.value.events : $0.key < $1.key }.prefix(n).map { key, value in
            let shard = shardMap.shardId(forHashKey: ShardMap.hashKey(forPartitionKey: key, explicitHashKey: value.hashKey)) ?? "unknown"
            return MetricsStore.KeyCount(partitionKey: key, shardId: shard, events: value.events, bytes: value.bytes)
        }
    }

    func samples(typeNames: [String]) -> [MetricsStore.Sample] {
        sampled.flatMap { events in
            events.map {
                MetricsStore.Sample(eventType: typeNames[$0.type], partitionKey: $0.partitionKey, explicitHashKey: $0.explicitHashKey, data: $0.data)
            }
        }
    }
}
