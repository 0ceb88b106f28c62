import Foundation
import GRDB
import Histogram
import Synchronization
import Kinesis
import KinesisTesting
import Testing

@testable import KinesisLoad

/// A fresh metrics database in a temporary folder.
func temporaryStore() throws -> (MetricsStore, String) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kinesis-load-\(UUID().uuidString)").path
    return (try MetricsStore(path: folder + "/metrics.sqlite"), folder)
}

func scenario(_ changes: [String: Any]) throws -> Scenario {
    try Scenario.parse(scenarioJSON(changes))
}

@Suite("Load runner")
struct RunnerTests {
    @Test func aRunStoresItsFiguresAndTheReportIsRebuiltFromSQLiteAlone() async throws {
        let (store, folder) = try temporaryStore()
        let engine = InMemoryKinesis()
        let plan = try scenario([
            "load": ["executor": "fixed-events", "events": 2000],
            "thresholds": ["errors.count": "== 0", "rate.achieved": "> 1000000000000"],
            "sampling": ["records": 3],
        ])
        let result = try await LoadRunner(scenario: plan, api: engine, target: "embedded", store: store).run()
        #expect(!result.interrupted)

        // Every event reached the stream: read it back, deaggregating.
        let stored = try await engine.readAll(stream: "s", shardId: ShardMap.shardId(index: 0)).count
            + engine.readAll(stream: "s", shardId: ShardMap.shardId(index: 1)).count
        #expect(stored > 0)

        // A second store on the same file: nothing but SQLite to go on.
        let reopened = try MetricsStore(path: store.path)
        let summary = try await reopened.summary(run: result.runId)
        #expect(summary.totals.planned == 2000)
        #expect(summary.totals.started == 2000)
        #expect(summary.totals.succeeded == 2000)
        #expect(summary.totals.failed == 0 && summary.totals.dropped == 0 && summary.totals.lost == 0)
        #expect(summary.types.map(\.started).reduce(0, +) == 2000)
        #expect(summary.latencyMs.count == 2000)
        #expect(summary.latencyMs.p99 >= summary.latencyMs.p50)
        #expect(summary.shards.map(\.shardId) == [ShardMap.shardId(index: 0), ShardMap.shardId(index: 1)])
        #expect(summary.shards.map(\.records).reduce(0, +) == stored)
        #expect(summary.shards.map(\.events).reduce(0, +) == 2000, "every delivered event is filed under its shard")
        #expect(summary.shards.allSatisfy { $0.latencyMs.count == UInt64($0.events) })
        #expect(summary.hotShards.isEmpty)
        #expect(!summary.hotKeys.isEmpty)
        #expect(summary.run.status == .completed)
        #expect(summary.thresholds.map(\.passed) == [true, false])
        #expect(!summary.passed)

        let samples = try await reopened.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM samples") }
        #expect(samples == 6)

        let written = try ReportWriter.write(summary, into: folder)
        for file in ["summary.md", "summary.json", "index.html", "junit.xml"] {
            #expect(FileManager.default.fileExists(atPath: written + "/" + file), "\(file)")
        }
        let junit = try String(contentsOfFile: written + "/junit.xml", encoding: .utf8)
        #expect(junit.contains("failures=\"1\""))
        #expect(junit.contains("rate.achieved"))
        let decoded = try JSONDecoder().decode(RunSummary.self, from: Data(contentsOf: URL(fileURLWithPath: written + "/summary.json")))
        #expect(decoded.totals.succeeded == 2000)
    }

    @Test func aHotKeyThrottlesItsShardAndTheSummaryNamesIt() async throws {
        let (store, _) = try temporaryStore()
        let engine = InMemoryKinesis(configuration: EngineConfiguration(limits: .aws))
        let plan = try scenario([
            "stream": ["name": "s", "shards": 4],
            "load": ["executor": "fixed-events", "events": 5000],
            "publisher": ["mode": "putRecords", "maxBufferedTime": "20ms", "recordTTL": "2s"],
            "events": [["type": "T", "partitionKey": ["strategy": "constant", "value": "tenant-1"], "template": ["v": "{{int 1 9}}"]]],
            "thresholds": ["throttled.rate": "< 1%"],
        ])
        let result = try await LoadRunner(scenario: plan, api: engine, target: "embedded", store: store).run()
        let summary = try await store.summary(run: result.runId)
        let hot = try #require(ShardMap.even(count: 4).shardId(forPartitionKey: "tenant-1"))
        #expect(summary.hotShards == [hot])
        let shard = try #require(summary.shards.first { $0.shardId == hot })
        #expect(shard.throttled > 0)
        #expect(shard.why?.contains("throttled") == true)
        #expect(summary.hotKeys.first?.partitionKey == "tenant-1")
        #expect(summary.hotKeys.first?.shardId == hot)
        #expect(summary.kinesisErrors.contains { $0.code == "ProvisionedThroughputExceededException" })
        #expect(summary.thresholds.first?.passed == false)
        #expect(ReportWriter.markdown(summary).contains("Hot shard: \(hot)"))
    }

    @Test func eventsDueWhileTheCapIsFullAreDroppedAndLatencyCountsFromIntendedTime() async throws {
        let (store, _) = try temporaryStore()
        // PutRecord answers only once the gate opens, and the gate opens only once every event
        // has been planned: so exactly the first 10 start, however slow this machine is.
        let gated = GatedKinesis(base: InMemoryKinesis())
        let plan = try scenario([
            "load": ["executor": "fixed-events", "events": 100, "rate": 1000, "maxInFlight": 10],
            "publisher": ["mode": "putRecord"],
        ])
        let clock = ContinuousClock()
        let opened = Mutex<ContinuousClock.Instant?>(nil)
        let result = try await LoadRunner(scenario: plan, api: gated, target: "embedded", store: store).run(
            progressInterval: .milliseconds(50)
        ) { progress in
            if progress.totals.planned == 100, opened.withLock({ $0 == nil }) {
                opened.withLock { $0 = clock.now }
                gated.open()
            }
        }
        let summary = try await store.summary(run: result.runId)
        #expect(summary.totals.started == 10)
        #expect(summary.totals.dropped == 90)
        #expect(summary.totals.succeeded == 10)
        // The first ten were due in the first 10 ms and answered only after the gate opened:
        // their latency, counted from the intended time, spans the whole wait.
        #expect(opened.withLock { $0 } != nil)
        #expect(summary.latencyMs.p50 > 40, "at least one 50 ms progress interval passed before the gate opened")
    }

    @Test func aStopEndsTheScheduleAndWhatRanIsStored() async throws {
        let (store, _) = try temporaryStore()
        let engine = InMemoryKinesis()
        let plan = try scenario([
            "load": ["executor": "constant-arrival-rate", "rate": 200, "duration": "1m"]
        ])
        let stop = StopSignal()
        let result = try await LoadRunner(scenario: plan, api: engine, target: "embedded", store: store).run(
            stop: stop, progressInterval: .milliseconds(100)
        ) { progress in
            if progress.totals.started >= 20 { stop.request() }
        }
        #expect(result.interrupted)
        let summary = try await store.summary(run: result.runId)
        #expect(summary.run.status == .interrupted)
        #expect(summary.totals.started >= 20)
        #expect(summary.totals.started < 12_000)
        #expect(summary.totals.lost == 0, "what started before the stop still finished")
        #expect(summary.totals.succeeded == summary.totals.started)
    }

    @Test func aSecondStopAbandonsWhatIsInFlight() async throws {
        let (store, _) = try temporaryStore()
        let gated = GatedKinesis(base: InMemoryKinesis())
        let plan = try scenario([
            "load": ["executor": "constant-arrival-rate", "rate": 1000, "duration": "1m", "maxInFlight": 10],
            "publisher": ["mode": "putRecord"],
        ])
        let stop = StopSignal()
        let result = try await LoadRunner(scenario: plan, api: gated, target: "embedded", store: store).run(
            stop: stop, progressInterval: .milliseconds(50)
        ) { progress in
            // Ten are held at the gate, which never opens: only an urgent stop ends the run.
            if progress.totals.started >= 10, !stop.isUrgent {
                stop.request()
                stop.request()
            }
        }
        #expect(result.interrupted)
        let summary = try await store.summary(run: result.runId)
        #expect(summary.totals.started == 10)
        // Abandoned events are lost (never known to have landed or not), as the README says, not failed.
        #expect(summary.totals.failed == 0)
        #expect(summary.totals.lost == 10)
        #expect(summary.errors == [.init(code: "Abandoned", count: 10)])
        #expect(summary.inconsistencies.isEmpty, "\(summary.inconsistencies)")
    }

    @Test func aMissingStreamThatMayNotBeCreatedIsAClearError() async throws {
        let (store, _) = try temporaryStore()
        let plan = try scenario(["stream": ["name": "absent", "shards": 1, "create": false]])
        let error = await #expect(throws: KinesisError.self) {
            _ = try await LoadRunner(scenario: plan, api: InMemoryKinesis(), target: "embedded", store: store).run()
        }
        #expect(error?.code == .resourceNotFound)
        #expect(error?.message.contains("$.stream.create") == true)
        #expect(try await store.runIds().isEmpty, "nothing ran, so no run is stored")
    }

    @Test func runsAccumulateInOneFile() async throws {
        let (store, _) = try temporaryStore()
        let plan = try scenario(["load": ["executor": "fixed-events", "events": 50]])
        let first = try await LoadRunner(scenario: plan, api: InMemoryKinesis(), target: "embedded", store: store).run()
        let second = try await LoadRunner(scenario: plan, api: InMemoryKinesis(), target: "embedded", store: store).run()
        #expect(try await store.runIds() == [second.runId, first.runId])
        #expect(try await store.resolveRun("latest") == second.runId)
        await #expect(throws: ReportError.self) { try await store.resolveRun("999") }
    }

    @Test func partitionAnalysisFindsTheShardOfAConstantKey() throws {
        let events: [[String: Any]] = [["type": "T", "partitionKey": ["strategy": "constant", "value": "k"], "template": ["v": "{{text 90}}"]]]
        // Aggregated, 1,500 small records/s on one key pack into about 50 Kinesis records/s: no throttling.
        let aggregated = PartitionAnalysis.analyze(try scenario(["events": events]), shards: 4, peakRate: 1500, sampleEvents: 1000)
        #expect(!aggregated.wouldThrottle)
        let plan = try scenario(["events": events, "publisher": ["mode": "putRecords"]])
        let analysis = PartitionAnalysis.analyze(plan, shards: 4, peakRate: 1500, sampleEvents: 1000)
        #expect(aggregated.hotShards == analysis.hotShards)
        let hot = try #require(ShardMap.even(count: 4).shardId(forPartitionKey: "k"))
        #expect(analysis.hotShards == [hot])
        #expect(analysis.wouldThrottle)
        let load = try #require(analysis.shardLoads.first { $0.shardId == hot })
        #expect(load.sharePercent == 100)
        #expect(abs(load.recordsPerSecond - 1500) < 1e-9)
        #expect(load.topKeys.first?.partitionKey == "k")
        #expect(analysis.text.contains("WOULD THROTTLE on \(hot)"))

        let spread = try scenario([
            "publisher": ["mode": "putRecords"],
            "events": [["type": "T", "partitionKey": ["strategy": "random"], "template": ["v": 1]]],
        ])
        let even = PartitionAnalysis.analyze(spread, shards: 4, peakRate: 2000, sampleEvents: 20_000)
        #expect(even.hotShards.isEmpty)
        #expect(!even.wouldThrottle)
    }

    @Test func histogramsSurviveTheirBlobs() {
        var histogram = LatencyHistogram.latency()
        for value in [1, 5, 10, 250, 4000, 90_000] as [UInt64] { histogram.recordClamped(value) }
        var decoded = LatencyHistogram.latency()
        HistogramCoding.decode(HistogramCoding.encode(histogram), into: &decoded)
        #expect(decoded.totalCount == histogram.totalCount)
        #expect(decoded.valueAtPercentile(50) == histogram.valueAtPercentile(50))
        #expect(decoded.max == histogram.max)
    }
}

/// Passes every call through, but holds PutRecord calls until ``open()``.
final class GatedKinesis: KinesisAPIForwarding {
    let base: any KinesisAPI
    private let gate = Mutex<(open: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    init(base: any KinesisAPI) { self.base = base }

    func open() {
        let waiting = gate.withLock { state in
            state.open = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    func putRecord(_ input: PutRecordInput) async throws -> PutRecordOutput {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let pass = gate.withLock { state in
                    if !state.open, !Task.isCancelled { state.waiting.append(continuation) }
                    return state.open || Task.isCancelled
                }
                if pass { continuation.resume() }
            }
        } onCancel: {
            open()
        }
        try Task.checkCancellation()
        return try await base.putRecord(input)
    }
}

/// A slow endpoint that counts PutRecords calls in flight, and which calls reached it.
final class SlowCountingAPI: KinesisAPIForwarding, Sendable {
    let base: any KinesisAPI
    let delay: Duration
    private let counts = Mutex<(now: Int, peak: Int, getRecords: Int)>((0, 0, 0))
    init(base: any KinesisAPI, delay: Duration) {
        self.base = base
        self.delay = delay
    }
    var peak: Int { counts.withLock { $0.peak } }
    var getRecordsCalls: Int { counts.withLock { $0.getRecords } }

    func putRecords(_ input: PutRecordsInput) async throws -> PutRecordsOutput {
        counts.withLock {
            $0.now += 1
            $0.peak = max($0.peak, $0.now)
        }
        defer { counts.withLock { $0.now -= 1 } }
        try await Task.sleep(for: delay)
        return try await base.putRecords(input)
    }

    func getRecords(_ input: GetRecordsInput) async throws -> GetRecordsOutput {
        counts.withLock { $0.getRecords += 1 }
        return try await base.getRecords(input)
    }
}

@Suite("Publisher against a slow endpoint")
struct SlowEndpointTests {
    @Test("putRecords batches in flight stay within maxConcurrentRequests; reads go through their own client")
    func batchesAreCapped() async throws {
        let (store, _) = try temporaryStore()
        let engine = InMemoryKinesis()
        let writes = SlowCountingAPI(base: engine, delay: .milliseconds(300))
        let reads = SlowCountingAPI(base: engine, delay: .zero)
        let plan = try scenario([
            "stream": ["name": "s", "shards": 2],
            "load": ["executor": "constant-arrival-rate", "rate": 1000, "duration": "1s"],
            "publisher": ["mode": "putRecords", "batchSize": 10, "maxBufferedTime": "5ms", "maxConcurrentRequests": 4],
            "consume": ["consumers": 1, "verify": true],
        ])
        let result = try await LoadRunner(scenario: plan, api: writes, target: "embedded", store: store, readAPI: reads).run()
        let summary = try await store.summary(run: result.runId)
        #expect(writes.peak <= 4, "at most 4 PutRecords at once (\(writes.peak) seen)")
        #expect(writes.peak == 4, "the cap is reached: 1,000 events/s in batches of 10 at 300 ms each need 30 at once")
        #expect(writes.getRecordsCalls == 0 && reads.getRecordsCalls > 0, "the consumers read through their own client")
        let v = try #require(summary.verification)
        #expect(v.acknowledged == summary.totals.succeeded && v.read == v.acknowledged && v.lost == 0)
    }
}
