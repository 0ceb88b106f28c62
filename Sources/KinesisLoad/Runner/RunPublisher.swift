import CoreMetrics
import Foundation
import Kinesis
import KinesisConsumer
import KinesisProducer
import Logging
import Synchronization

/// The publishing half of a run: the scenario's publisher mode through the product's own
/// publishers (`KinesisService`, `Producer`), with every outcome reported to the recorder.
final class RunPublisher: Sendable {
    let scenario: Scenario
    let api: any KinesisAPI
    let recorder: Recorder
    let logger: Logger?
    private let counter = Atomic<Int>(0)
    private let clock = ContinuousClock()
    private let batch = Mutex<[(event: LoadEvent, intended: ContinuousClock.Instant)]>([])

    /// Events started and not finished.
    var inFlight: Int { counter.load(ordering: .relaxed) }

    /// Told of every acknowledged event and where it landed (the read-back verifier).
    let onAcknowledged: (@Sendable (LoadEvent, ContinuousClock.Instant, PublishResult) -> Void)?

    init(
        scenario: Scenario, api: any KinesisAPI, recorder: Recorder, logger: Logger?,
        onAcknowledged: (@Sendable (LoadEvent, ContinuousClock.Instant, PublishResult) -> Void)? = nil,
        producerMetrics: (any MetricsFactory)? = nil, scheduleThread: ScheduleThread? = nil
    ) {
        self.producerMetrics = producerMetrics
        self.scheduleThread = scheduleThread
        self.scenario = scenario
        self.api = api
        self.recorder = recorder
        self.logger = logger
        self.onAcknowledged = onAcknowledged
    }

    /// The thread a paced schedule runs on: its waits block that thread for the last stretch.
    let scheduleThread: ScheduleThread?

    /// Waits for the schedule's next instant.
    private func sleep(until instant: ContinuousClock.Instant) async {
        if let scheduleThread {
            await scheduleThread.wait(until: instant, clock: clock)
        } else {
            try? await clock.sleep(until: instant)
        }
    }

    /// Where the Producer's own metrics go (`--cloudwatch-metrics`); the process's factory when nil.
    let producerMetrics: (any MetricsFactory)?

    typealias Publish = (LoadEvent, ContinuousClock.Instant) async throws -> Void
    typealias Idle = (ContinuousClock.Instant) async -> Void

    private struct UrgentStop: Error {}

    private func finish(_ event: LoadEvent, _ intended: ContinuousClock.Instant, error: String?, landed: PublishResult? = nil) {
        // The verifier hears of it first: a consumer may already hold the record.
        if let landed, let onAcknowledged { onAcknowledged(event, intended, landed) }
        counter.wrappingSubtract(1, ordering: .relaxed)
        recorder.finished(type: event.type, latency: intended.duration(to: clock.now), bytes: event.data.count, error: error, shard: landed?.shardId)
    }

    private static func code(of error: any Error) -> String {
        switch error {
        case let error as KinesisError: error.code.rawValue
        case let error as PublishError: error.reportedCode
        case is CancellationError: "Abandoned"
        default: String(describing: type(of: error))
        }
    }

    var retryPolicy: RetryPolicy {
        RetryPolicy(maxAttempts: 100, baseDelay: .milliseconds(50), maxDelay: .seconds(2), deadline: scenario.publisher.recordTTL)
    }

    /// Runs `body` with a way to publish an event and a way to wait until an instant (sending
    /// a partly filled batch whose time is up meanwhile); then lets what is in flight finish,
    /// or abandons it when the stop turns urgent (a second Ctrl-C).
    func withRunning(stop: StopSignal, _ body: (Publish, Idle) async throws -> Void) async throws {
        let settled = StopSignal()
        do {
            try await withThrowingDiscardingTaskGroup { group in
                // Watches for an urgent stop until the schedule is done and nothing is in flight:
                // the group's other children are the events still being published.
                group.addTask {
                    while !(settled.isRequested && self.inFlight == 0) {
                        if stop.isUrgent { throw UrgentStop() }
                        try? await Task.sleep(for: .milliseconds(100))
                    }
                }
                switch scenario.publisher.mode {
                case .aggregated, .buffered:
                    let producer = makeProducer()
                    group.addTask { try await producer.run() }
                    try await body(
                        { event, intended in
                            self.counter.wrappingAdd(1, ordering: .relaxed)
                            do {
                                try await producer.put(
                                    data: event.data, partitionKey: event.partitionKey, explicitHashKey: event.explicitHashKey
                                ) { result in
                                    switch result {
                                    case .success(let landed): self.finish(event, intended, error: nil, landed: landed)
                                    case .failure(let error): self.finish(event, intended, error: error.reportedCode)
                                    }
                                }
                            } catch {
                                self.finish(event, intended, error: Self.code(of: error))
                            }
                        },
                        { instant in await self.sleep(until: instant) })
                    await producer.flush()
                    producer.shutdown()
                case .putRecord:
                    let service = KinesisService(api: api, streamName: scenario.stream.name, retry: retryPolicy, logger: logger)
                    let permits = AsyncSemaphore(permits: Self.requestCap(scenario.publisher, mode: .putRecord))
                    try await body(
                        { event, intended in
                            self.counter.wrappingAdd(1, ordering: .relaxed)
                            // Not on the schedule's thread, whose preference the body carries.
                            group.addTask(executorPreference: globalConcurrentExecutor) {
                                await permits.acquire()
                                defer { permits.release() }
                                do {
                                    let landed = try await service.publish(
                                        data: event.data, partitionKey: event.partitionKey, explicitHashKey: event.explicitHashKey)
                                    self.finish(event, intended, error: nil, landed: landed)
                                } catch {
                                    self.finish(event, intended, error: Self.code(of: error))
                                }
                            }
                        },
                        { instant in await self.sleep(until: instant) })
                case .putRecords:
                    var configured = KinesisService(api: api, streamName: scenario.stream.name, retry: retryPolicy, logger: logger)
                    configured.ordering = scenario.publisher.ordering ?? .none
                    let service = configured
                    let size = scenario.publisher.batchSize
                    let linger = scenario.publisher.maxBufferedTime
                    // Batches wait for a request slot: a slow endpoint never gets more than the cap at once.
                    let permits = AsyncSemaphore(permits: Self.requestCap(scenario.publisher, mode: .putRecords))
                    func send() {
                        let entries = batch.withLock { batch in
                            defer { batch.removeAll(keepingCapacity: true) }
                            return batch
                        }
                        guard !entries.isEmpty else { return }
                        group.addTask(executorPreference: globalConcurrentExecutor) {
                            await permits.acquire()
                            defer { permits.release() }
                            do {
                                let result = try await service.publishBatch(
                                    entries.map {
                                        PublishEntry(data: $0.event.data, partitionKey: $0.event.partitionKey, explicitHashKey: $0.event.explicitHashKey)
                                    })
                                for (entry, outcome) in zip(entries, result.outcomes) {
                                    switch outcome {
                                    case .published(let landed): self.finish(entry.event, entry.intended, error: nil, landed: landed)
                                    case .failed(let code, _, _): self.finish(entry.event, entry.intended, error: code)
                                    }
                                }
                            } catch {
                                for entry in entries { self.finish(entry.event, entry.intended, error: Self.code(of: error)) }
                            }
                        }
                    }
                    try await body(
                        { event, intended in
                            self.counter.wrappingAdd(1, ordering: .relaxed)
                            let full = batch.withLock { batch in
                                batch.append((event, intended))
                                return batch.count >= size
                            }
                            if full { send() }
                        },
                        { instant in
                            // The oldest event of a partly filled batch waits at most `linger`.
                            if let first = self.batch.withLock({ $0.first?.intended }), first.advanced(by: linger) < instant {
                                await self.sleep(until: first.advanced(by: linger))
                                send()
                            }
                            await self.sleep(until: instant)
                        })
                    send()
                }
                settled.request()
            }
        } catch is UrgentStop {
            logger?.warning("stop requested twice: events in flight were abandoned")
        }
    }

    /// Requests in flight at once: `maxConcurrentRequests` batches; single puts, which are
    /// smaller and many more, 8 times as many.
    static func requestCap(_ spec: Scenario.PublisherSpec, mode: Scenario.PublisherMode) -> Int {
        mode == .putRecord ? spec.maxConcurrentRequests * 8 : spec.maxConcurrentRequests
    }

    private func makeProducer() -> Producer {
        let spec = scenario.publisher
        var configuration = Producer.Configuration(streamName: scenario.stream.name)
        configuration.aggregation = spec.mode == .aggregated
        configuration.maxBufferedTime = spec.maxBufferedTime
        configuration.rateLimitPercent = spec.rateLimitPercent
        configuration.maxConcurrentRequests = spec.maxConcurrentRequests
        configuration.recordTTL = spec.recordTTL
        configuration.ordering = spec.ordering ?? .perKey
        // Above the runner's cap, so that the runner drops (and counts) before put would wait.
        configuration.maxInFlightRecords = scenario.load.maxInFlight + 1
        configuration.maxInFlightBytes = 1 << 30
        configuration.metricsFactory = producerMetrics
        return Producer(api: api, configuration: configuration, logger: logger)
    }
}
