import Foundation
import GRDB
import Histogram
import Kinesis
import KinesisConsumer
import KinesisProducer
import KinesisTesting
import Testing

@testable import KinesisLoad

/// Every record in every shard of `stream` (plain Kinesis records, aggregates counted once).
func storedRecords(_ engine: InMemoryKinesis, stream: String, shards: Int) async throws -> [Kinesis.Record] {
    var all: [Kinesis.Record] = []
    for index in 0..<shards { all += try await engine.readAll(stream: stream, shardId: ShardMap.shardId(index: index)) }
    return all
}

@Suite("Read-back verification")
struct ReadBackTests {
    /// One Kinesis record per event, so that a dropped or doubled record is one event.
    static func plainRun(_ changes: [String: Any] = [:]) throws -> Scenario {
        var document: [String: Any] = [
            "stream": ["name": "s", "shards": 2],
            "load": ["executor": "fixed-events", "events": 2000],
            "publisher": ["mode": "putRecords", "maxBufferedTime": "20ms"],
            "consume": ["consumers": 2, "verify": true],
        ]
        for (key, value) in changes { document[key] = value }
        return try scenario(document)
    }

    @Test func aCleanRunReadsEveryEventBackWithEndToEndLatencyAndLag() async throws {
        let (store, folder) = try temporaryStore()
        let engine = InMemoryKinesis()
        let plan = try scenario([
            "stream": ["name": "s", "shards": 3],
            "load": ["executor": "constant-arrival-rate", "rate": 2000, "duration": "2s"],
            "consume": ["consumers": 2, "from": "trim-horizon", "verify": true],
            "thresholds": ["e2e.p99": "< 30s", "lost.count": "== 0", "duplicated.rate": "== 0", "outOfOrder.count": "== 0"],
        ])
        let result = try await LoadRunner(scenario: plan, api: engine, target: "embedded", store: store).run()
        let summary = try await MetricsStore(path: store.path).summary(run: result.runId)
        let verification = try #require(summary.verification)
        #expect(verification.acknowledged == 4000)
        #expect(verification.read == 4000)
        #expect(verification.lost == 0 && verification.duplicated == 0 && verification.outOfOrder == 0 && verification.unexpected == 0)
        #expect(verification.caughtUp)
        let e2e = try #require(summary.endToEndMs)
        #expect(e2e.count == 4000, "every event read gets an end-to-end latency")
        #expect(e2e.p50 > 0 && e2e.p99 >= e2e.p50 && e2e.max >= e2e.p99)
        let reads = try #require(summary.reads)
        #expect(reads.consumers == 2)
        #expect(reads.userRecords == 4000)
        #expect(reads.calls > 0 && reads.throttled == 0)
        #expect(summary.shards.allSatisfy { ($0.read?.userRecords ?? 0) > 0 }, "both consumers read: every shard was read")
        #expect(summary.lag.count == 3)
        #expect(summary.series.contains { $0.endToEndP99Ms != nil })
        #expect(!summary.endToEndDistribution.isEmpty)
        #expect(summary.passed)
        #expect(summary.thresholds.count == 4, "lost.count is named, so no implied threshold is added")

        let written = try ReportWriter.write(summary, into: folder)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: written + "/summary.json"))) as? [String: Any]
        let stored = try #require(json?["verification"] as? [String: Any])
        for key in ["acknowledged", "read", "lost", "duplicated", "outOfOrder", "unexpected"] { #expect(stored[key] != nil, "\(key)") }
        let endToEnd = try #require(json?["endToEndMs"] as? [String: Any])
        for key in ["count", "p50", "p90", "p99", "p999", "max", "mean"] { #expect(endToEnd[key] != nil, "\(key)") }
        let markdown = try String(contentsOfFile: written + "/summary.md", encoding: .utf8)
        #expect(markdown.contains("Every acknowledged event was read back exactly once"))
        #expect(markdown.contains("End-to-end latency"))
        let junit = try String(contentsOfFile: written + "/junit.xml", encoding: .utf8)
        #expect(junit.contains("name=\"verification.lost\" value=\"0\""))
        let html = try String(contentsOfFile: written + "/index.html", encoding: .utf8)
        for chart in ["rate", "latency", "distribution", "lag", "throttles", "shards"] { #expect(html.contains("data-chart=\"\(chart)\""), "\(chart)") }
        // The verdict and thresholds come before the first chart.
        let verdict = try #require(html.range(of: "PASSED"))
        let firstChart = try #require(html.range(of: "data-chart="))
        #expect(verdict.lowerBound < firstChart.lowerBound)
    }

    @Test func droppedRecordsAreLostAndFailTheRunWithExamples() async throws {
        let (store, _) = try temporaryStore()
        let engine = InMemoryKinesis(configuration: EngineConfiguration(seed: 5))
        engine.faults { $0.recordDropProbability = 0.05 }
        let result = try await LoadRunner(scenario: try Self.plainRun(), api: engine, target: "embedded", store: store).run()
        let summary = try await store.summary(run: result.runId)
        let verification = try #require(summary.verification)
        let stored = try await storedRecords(engine, stream: "s", shards: 2).count
        #expect(summary.totals.succeeded == 2000, "every put was acknowledged")
        #expect(verification.lost == 2000 - stored, "exactly the records the engine acknowledged and did not keep")
        #expect(verification.lost > 40 && verification.lost < 160, "about 5% of 2,000")
        #expect(verification.read == stored)
        #expect(verification.duplicated == 0 && verification.unexpected == 0)
        let examples = verification.examples.filter { $0.kind == "lost" }
        #expect(examples.count == ReadBackVerifier.examplesPerKind)
        #expect(examples.allSatisfy { $0.eventType != nil && $0.shardId.hasPrefix("shardId-") && !$0.sequenceNumber.isEmpty })
        // No lost.count threshold in the scenario: verification implies == 0, and the run fails.
        let implied = try #require(summary.thresholds.first { $0.metric == "lost.count" })
        #expect(!implied.passed)
        #expect(!summary.passed)
        #expect(ReportWriter.markdown(summary).contains("\(verification.lost) lost"))
    }

    @Test func aScenarioMayAllowSomeLoss() async throws {
        let (store, _) = try temporaryStore()
        let engine = InMemoryKinesis(configuration: EngineConfiguration(seed: 5))
        engine.faults { $0.recordDropProbability = 0.01 }
        let plan = try Self.plainRun(["thresholds": ["lost.count": "< 100"]])
        let result = try await LoadRunner(scenario: plan, api: engine, target: "embedded", store: store).run()
        let summary = try await store.summary(run: result.runId)
        #expect((summary.verification?.lost ?? 0) > 0)
        #expect(summary.thresholds.map(\.metric) == ["lost.count"])
        #expect(summary.passed)
    }

    @Test func duplicatedRecordsAreReportedAsDuplicatesNotAsUnexpected() async throws {
        let (store, _) = try temporaryStore()
        let engine = InMemoryKinesis(configuration: EngineConfiguration(seed: 8))
        engine.faults { $0.recordDuplicateProbability = 0.05 }
        let plan = try Self.plainRun(["thresholds": ["duplicated.rate": "< 1%"]])
        let result = try await LoadRunner(scenario: plan, api: engine, target: "embedded", store: store).run()
        let summary = try await store.summary(run: result.runId)
        let verification = try #require(summary.verification)
        let stored = try await storedRecords(engine, stream: "s", shards: 2).count
        #expect(verification.duplicated == stored - 2000, "every extra copy in the stream")
        #expect(verification.duplicated > 40)
        #expect(verification.lost == 0 && verification.unexpected == 0)
        #expect(verification.read == 2000)
        #expect(summary.endToEndMs?.count == 2000, "one end-to-end sample per matched read, duplicates or not")
        #expect(verification.inconsistencies.isEmpty)
        #expect(verification.examples.contains { $0.kind == "duplicated" && $0.eventType == "ORDER" || $0.eventType == "CLICK" })
        let threshold = try #require(summary.thresholds.first { $0.metric == "duplicated.rate" })
        #expect(!threshold.passed)
    }

    @Test func aReusedStreamsOldRecordsAreUnexpectedNotDuplicatesAndCostNoLatencySamples() async throws {
        let (store, _) = try temporaryStore()
        let engine = InMemoryKinesis()
        // The same seed twice: the second run reads the first run's identical records from TRIM_HORIZON.
        let plan = try Self.plainRun(["consume": ["consumers": 2, "verify": true, "from": "trim-horizon"], "seed": 7])
        _ = try await LoadRunner(scenario: plan, api: engine, target: "embedded", store: store).run()
        let second = try await LoadRunner(scenario: plan, api: engine, target: "embedded", store: store).run()
        let summary = try await store.summary(run: second.runId)
        let verification = try #require(summary.verification)
        #expect(verification.unexpected == 2000, "the first run's records, as the README says")
        #expect(verification.duplicated == 0)
        #expect(verification.read == 2000 && verification.lost == 0)
        #expect(summary.endToEndMs?.count == 2000, "every matched read gives its sample")
        #expect(verification.inconsistencies.isEmpty)
    }

    @Test func slowProcessingShowsAsLagOnTheShardThatFallsBehind() async throws {
        let (store, _) = try temporaryStore()
        let engine = InMemoryKinesis()
        // One shard, 3,000 events in 1 s, 2 ms of work each, 200 records a call: the consumer
        // needs 6 s, and its backlog soon outgrows a page (by far, so that a busy machine that
        // publishes slowly still shows it).
        let plan = try scenario([
            "stream": ["name": "s", "shards": 1],
            "load": ["executor": "constant-arrival-rate", "rate": 3000, "duration": "1s"],
            "publisher": ["mode": "putRecords", "maxBufferedTime": "20ms"],
            "consume": ["consumers": 1, "verify": true, "processingTime": "2ms", "maxRecordsPerCall": 200],
            "thresholds": ["lag.max": "< 100ms"],
        ])
        let result = try await LoadRunner(scenario: plan, api: engine, target: "embedded", store: store).run()
        let summary = try await store.summary(run: result.runId)
        let reads = try #require(summary.reads)
        #expect(reads.maxLagMs > 1000)
        #expect(reads.laggingShards == [ShardMap.shardId(index: 0)])
        #expect(summary.verification?.lost == 0, "it falls behind, and still reads everything")
        #expect(summary.endToEndMs?.max ?? 0 > 1000)
        #expect(summary.thresholds.first?.passed == false)
        #expect(ReportWriter.markdown(summary).contains("the consumer of \(ShardMap.shardId(index: 0)) fell behind"))
    }

    @Test func theVerifierFindsOutOfOrderAndUnexpectedRecordsInStreamOrder() async throws {
        let recorder = Recorder()
        let verifier = ReadBackVerifier(recorder: recorder, typeNames: ["T"])
        let shard = ShardMap.shardId(index: 0)
        func event(_ key: String, _ text: String) -> LoadEvent { LoadEvent(type: 0, data: Data(text.utf8), partitionKey: key) }
        let now = ContinuousClock.now
        // Event 1 of key k landed after event 2 of k (a retried put, no ordering promise).
        verifier.acknowledged(event("k", "two"), index: 2, intended: now, at: PublishResult(shardId: shard, sequenceNumber: "100"))
        verifier.acknowledged(event("k", "one"), index: 1, intended: now, at: PublishResult(shardId: shard, sequenceNumber: "200"))
        // A read that arrives before its acknowledgement waits for it.
        let early = ConsumerRecord(shardId: shard, sequenceNumber: "300", partitionKey: "j", data: Data("three".utf8))
        verifier.received(
            [
                ConsumerRecord(shardId: shard, sequenceNumber: "100", partitionKey: "k", data: Data("two".utf8)),
                ConsumerRecord(shardId: shard, sequenceNumber: "200", partitionKey: "k", data: Data("one".utf8)),
                early,
                ConsumerRecord(shardId: shard, sequenceNumber: "400", partitionKey: "x", data: Data("stranger".utf8)),
            ], at: now)
        #expect(verifier.outstanding.reads == 2, "the early read and the one behind it wait")
        verifier.acknowledged(event("j", "three"), index: 3, intended: now, at: PublishResult(shardId: shard, sequenceNumber: "300"))
        #expect(verifier.outstanding.reads == 1, "the early read matched; the stranger still waits for an acknowledgement")
        let result = verifier.finish(caughtUp: true)
        #expect(result.acknowledged == 3 && result.read == 3 && result.lost == 0)
        #expect(result.outOfOrder == 1)
        #expect(result.unexpected == 1)
        #expect(result.examples.map(\.kind) == ["outOfOrder", "unexpected"])
        #expect(result.examples.first?.sequenceNumber == "200")
        let batch = recorder.drain()
        let latencies = batch.reads.values.flatMap(\.values).reduce(0) { $0 + Int($1.endToEnd.totalCount) }
        #expect(latencies == 3)
    }

    @Test func theConsumeSectionIsCheckedWithPaths() throws {
        let found = problems(
            scenarioJSON([
                "consume": ["consumers": 0, "from": "earliest", "verify": "yes", "processingTime": "fast", "extra": 1]
            ]))
        let paths = Set(found.map(\.path))
        #expect(
            paths == ["$.consume.consumers", "$.consume.from", "$.consume.verify", "$.consume.processingTime", "$.consume.extra"],
            "\(found)")
        let needs = problems(scenarioJSON(["thresholds": ["e2e.p99": "< 1s"]]))
        #expect(needs.map(\.path) == ["$.thresholds[\"e2e.p99\"]"])
        #expect(needs.first?.message.contains("consume") == true)
    }

    @Test func shardsAreSharedOutByTheirNumber() {
        let owners = (0..<8).map { RunConsumers.owner(of: ShardMap.shardId(index: $0), among: 3) }
        #expect(owners == [0, 1, 2, 0, 1, 2, 0, 1])
        #expect((0..<3).contains(RunConsumers.owner(of: "odd-shard", among: 3)))
    }
}
