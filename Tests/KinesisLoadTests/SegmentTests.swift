import Foundation
import GRDB
import Histogram
import Kinesis
import KinesisTesting
import Testing

@testable import KinesisLoad

@Suite("Segments and merge")
struct SegmentTests {
    static var plan: [String: Any] {
        [
        "stream": ["name": "s", "shards": 4],
        "load": ["executor": "fixed-events", "events": 3001, "rate": 3000],
        "publisher": ["mode": "putRecords", "maxBufferedTime": "20ms"],
        "thresholds": ["errors.count": "== 0", "latency.p99": "< 60s"],
        ]
    }

    /// Runs `segment` (or the whole run) of `plan` into a store of its own; returns the store.
    static func run(_ plan: Scenario, segment: RunSegment?, startAt: Date? = nil) async throws -> MetricsStore {
        let (store, _) = try temporaryStore()
        _ = try await LoadRunner(
            scenario: plan, api: InMemoryKinesis(), target: "embedded", store: store, segment: segment, startAt: startAt
        ).run()
        return store
    }

    /// Every acknowledgement latency of a run, from its stored rows.
    static func latencies(_ store: MetricsStore, run: Int64) async throws -> [UInt64: UInt64] {
        let blobs = try await store.read { db in
            try Data?.fetchAll(db, sql: "SELECT latency FROM event_seconds WHERE run_id = ?", arguments: [run]).compactMap { $0 }
        }
        var histogram = LatencyHistogram.latency()
        for blob in blobs { HistogramCoding.decode(blob, into: &histogram) }
        return Dictionary(uniqueKeysWithValues: histogram.recordedValues().map { ($0.value, UInt64($0.count)) })
    }

    @Test("four segments merged are the whole run: the same totals, types, bytes, shards and keys; the histogram is the parts' sum")
    func segmentsMergeToTheWholeRun() async throws {
        let plan = try scenario(Self.plan)
        let whole = try await Self.run(plan, segment: nil)
        let start = Date().addingTimeInterval(0.3)
        var parts: [MetricsStore] = []
        try await withThrowingTaskGroup(of: MetricsStore.self) { group in
            for index in 0..<4 { group.addTask { try await Self.run(plan, segment: RunSegment(index: index, count: 4), startAt: start) } }
            for try await store in group { parts.append(store) }
        }
        // Each part is its share: 3001 events over 4 segments are 751, 750, 750, 750.
        var shares: [String: Int] = [:]
        for part in parts {
            let summary = try await part.summary(run: 1)
            shares[summary.run.segment ?? "?"] = summary.totals.started
        }
        #expect(shares == ["0/4": 751, "1/4": 750, "2/4": 750, "3/4": 750])

        let (output, _) = try temporaryStore()
        let found = try await RunMerge.parts(parts.map(\.path).reversed())
        #expect(found.map(\.segment.index) == [0, 1, 2, 3], "in segment order, whatever the order given")
        let merged = try await RunMerge.merge(found, into: output)
        let m = try await output.summary(run: merged)
        let w = try await whole.summary(run: 1)
        #expect(m.inconsistencies.isEmpty, "\(m.inconsistencies)")
        #expect(m.totals.planned == 3001 && m.totals.started == 3001 && m.totals.succeeded == 3001)
        #expect(m.totals.bytes == w.totals.bytes)
        #expect(m.types.map { [$0.type, "\($0.started)", "\($0.bytes)"] } == w.types.map { [$0.type, "\($0.started)", "\($0.bytes)"] })
        #expect(m.shards.map { "\($0.shardId) \($0.records) \($0.events)" } == w.shards.map { "\($0.shardId) \($0.records) \($0.events)" })
        #expect(m.hotKeys.prefix(5).map { "\($0.partitionKey) \($0.events)" } == w.hotKeys.prefix(5).map { "\($0.partitionKey) \($0.events)" })
        #expect(m.run.mergedFrom?.map(\.segment) == ["0/4", "1/4", "2/4", "3/4"])
        #expect(m.thresholds.allSatisfy { $0.passed })

        // The merged histogram is the parts' buckets added, value by value.
        var sum: [UInt64: UInt64] = [:]
        for part in parts { for (value, count) in try await Self.latencies(part, run: 1) { sum[value, default: 0] += count } }
        let mergedValues = try await Self.latencies(output, run: merged)
        #expect(mergedValues == sum)
        #expect(mergedValues.values.reduce(0, +) == 3001)
        // The target rate is the run's, the segments' shares added.
        #expect(m.rate.target.map { abs($0 - 3000) < 1 } == true, "\(String(describing: m.rate.target))")
    }

    @Test("a segment is i/n, 0-based; a bad one is named")
    func segmentText() throws {
        #expect(try RunSegment(parsing: "2/4") == RunSegment(index: 2, count: 4))
        #expect(RunSegment(index: 1, count: 4).owns(5) && !RunSegment(index: 1, count: 4).owns(6))
        #expect(RunSegment(index: 3, count: 4).share(of: 3) == 0 && RunSegment(index: 0, count: 4).share(of: 3001) == 751)
        for (text, says) in [("4/4", "0-based"), ("x", "not a segment"), ("1/0", "at least 1"), ("-1/4", "0-based")] {
            #expect(throws: RunSegmentError.self) { try RunSegment(parsing: text) }
            #expect((try? RunSegment(parsing: text)) == nil)
            do { _ = try RunSegment(parsing: text) } catch { #expect("\(error)".contains(says), "\(text): \(error)") }
        }
    }

    @Test("merge refuses, naming it: another scenario, seed or count, a missing or repeated segment, a run not complete")
    func refusals() async throws {
        let small: [String: Any] = ["load": ["executor": "fixed-events", "events": 40], "publisher": ["mode": "putRecords"]]
        let plan = try scenario(small)
        let a = try await Self.run(plan, segment: RunSegment(index: 0, count: 2))
        let b = try await Self.run(plan, segment: RunSegment(index: 1, count: 2))
        func refusal(_ paths: [String]) async -> String {
            do {
                _ = try await RunMerge.parts(paths)
                return "merged"
            } catch {
                return "\(error)"
            }
        }
        #expect(await refusal([a.path, b.path]) == "merged")
        #expect(await refusal([a.path]).contains("segment 1/2 missing"))
        #expect(await refusal([a.path, a.path]).contains("segment 0/2 is given twice"))
        var seeded = small
        seeded["seed"] = 10
        let otherSeed = try await Self.run(try scenario(seeded), segment: RunSegment(index: 1, count: 2))
        #expect(await refusal([a.path, otherSeed.path]).contains("seed 10"))
        var changed = small
        changed["name"] = "another"
        let otherScenario = try await Self.run(try scenario(changed), segment: RunSegment(index: 1, count: 2))
        #expect(await refusal([a.path, otherScenario.path]).contains("ran another scenario"))
        let threeWay = try await Self.run(plan, segment: RunSegment(index: 1, count: 3))
        #expect(await refusal([a.path, threeWay.path]).contains("of the same count"))
        let whole = try await Self.run(plan, segment: nil)
        #expect(await refusal([a.path, whole.path]).contains("is not a segment"))
        try await b.setStatus(1, status: .interrupted, exitCode: 130)
        #expect(await refusal([a.path, b.path]).contains("ended interrupted, not complete"))
        #expect(await refusal([a.path, "/nonexistent/x.sqlite"]).contains("no such file"))
        // The output is not one of the parts.
        try await b.setStatus(1, status: .passed, exitCode: 0)
        let parts = try await RunMerge.parts([a.path, b.path])
        await #expect(throws: RunMerge.Refusal.self) { _ = try await RunMerge.merge(parts, into: a) }
    }

    @Test("compare flags a run the engine made slower, passes a run against itself, and its Markdown is a table")
    func compareRuns() async throws {
        // Unpaced (no schedule to fall behind) and a fault far above the noise of a quiet machine
        // (scripts/test.sh runs the tests one at a time: in parallel with the whole suite on two
        // cores, the fast run's 40 events once took 3.5 s).
        let plan = try scenario(["load": ["executor": "fixed-events", "events": 40], "publisher": ["mode": "putRecords"]])
        let (store, _) = try temporaryStore()
        let fast = try await LoadRunner(scenario: plan, api: InMemoryKinesis(), target: "embedded", store: store).run().runId
        let slowEngine = InMemoryKinesis()
        slowEngine.faults { $0.latency = .seconds(3) }
        let slow = try await LoadRunner(scenario: plan, api: slowEngine, target: "embedded", store: store).run().runId
        let a = try await store.summary(run: fast), b = try await store.summary(run: slow)
        #expect(b.latencyMs.p50 >= 3000, "the fault slowed every call")

        let slower = RunComparison(a, b, tolerance: 0.05)
        #expect(slower.worse)
        #expect(slower.figures.first { $0.name == "latency p50" }?.verdict == "worse")
        #expect(slower.figures.first { $0.name == "error rate" }?.verdict == "same")
        let faster = RunComparison(b, a, tolerance: 0.05)
        #expect(faster.figures.first { $0.name == "latency p50" }?.verdict == "better")
        let itself = RunComparison(a, a, tolerance: 0)
        #expect(!itself.worse && itself.figures.allSatisfy { $0.verdict == "same" })

        let lines = slower.markdown.split(separator: "\n")
        let table = lines.filter { $0.hasPrefix("|") }
        #expect(table.count == slower.figures.count + 2, "a header, its rule, a row per figure")
        #expect(table.allSatisfy { $0.filter { $0 == "|" }.count == 6 })
        #expect(table[1] == "|---|---:|---:|---:|---|")
        #expect(slower.markdown.contains("| latency p50 (ms) |") && slower.markdown.contains("**worse**"))
        let verdictLine = lines.first { $0.hasPrefix("Worse beyond the tolerance: ") }
        #expect(verdictLine?.contains("latency p50") == true, "\(verdictLine ?? "no verdict line")")
    }
}

/// The read side of segmented runs: four segments each reading its share of the shards of one
/// engine. Serialized: each test runs four runners with their consumers at once.
@Suite("Segments reading back", .serialized)
struct SegmentReadBackTests {
    /// Four segments of a verifying read-back over one shared engine, each reading its share of
    /// the shards; returns the parts' stores.
    static func readBackSegments(_ plan: Scenario, engine: InMemoryKinesis) async throws -> [MetricsStore] {
        try await engine.createStream(.init(streamName: plan.stream.name, shardCount: 4))
        let start = Date().addingTimeInterval(0.3)
        var parts: [MetricsStore] = []
        try await withThrowingTaskGroup(of: MetricsStore.self) { group in
            for index in 0..<4 {
                group.addTask {
                    let (store, _) = try temporaryStore()
                    _ = try await LoadRunner(
                        scenario: plan, api: engine, target: "embedded", store: store, segment: RunSegment(index: index, count: 4), startAt: start
                    ).run()
                    return store
                }
            }
            for try await store in group { parts.append(store) }
        }
        return parts
    }

    static var readBackPlan: [String: Any] {
        var plan = SegmentTests.plan
        plan["load"] = ["executor": "fixed-events", "events": 1001, "rate": 1000]
        // putRecords promises per-key order only when asked: batches go out concurrently.
        plan["publisher"] = ["mode": "putRecords", "maxBufferedTime": "20ms", "ordering": "per-key"]
        plan["consume"] = ["consumers": 1, "from": "trim-horizon", "verify": true, "catchUpTimeout": "30s"]
        plan["thresholds"] = ["lost.count": "== 0", "duplicated.rate": "== 0", "outOfOrder.count": "== 0", "e2e.p99": "< 60s"]
        return plan
    }

    @Test("segments that each read their share of the shards merge into one verification: every acknowledged record read once, in order")
    func segmentedReadBackMerges() async throws {
        let plan = try scenario(Self.readBackPlan)
        let parts = try await Self.readBackSegments(plan, engine: InMemoryKinesis())
        var keptAcks = 0, keptShards = 0
        for part in parts {
            let summary = try await part.summary(run: 1)
            #expect(summary.verification == nil, "a segment cannot judge its own events: \(summary.run.segment ?? "?")")
            #expect(summary.thresholds.isEmpty, "judged when merged")
            let kept = try #require(summary.readBackKept)
            keptAcks += kept.acknowledged
            keptShards += kept.shards
            #expect(kept.shardsCaughtUp == kept.shards)
        }
        #expect(keptAcks == 1001 && keptShards == 4, "each segment kept its own acknowledgements and read one shard")

        let (output, _) = try temporaryStore()
        let merged = try await RunMerge.merge(try await RunMerge.parts(parts.map(\.path)), into: output)
        let m = try await output.summary(run: merged)
        let v = try #require(m.verification)
        #expect(v.acknowledged == 1001 && v.read == 1001 && v.lost == 0 && v.notVerified == 0, "\(v)")
        #expect(v.acknowledged == v.read + v.lost + v.notVerified, "the books add up")
        #expect(v.duplicated == 0 && v.unexpected == 0 && v.outOfOrder == 0 && v.caughtUp)
        #expect(v.received == 1001)
        let e2e = try #require(m.endToEndMs)
        #expect(e2e.count == 1001, "one end-to-end sample per record read")
        #expect(m.thresholds.count == 4 && m.thresholds.allSatisfy(\.passed), "\(m.thresholds)")
        #expect(m.passed)
    }

    @Test("a record no segment read is lost in the merged run, and a record read twice is a duplicate")
    func mergedReadBackFindsLossAndDuplicates() async throws {
        let plan = try scenario(Self.readBackPlan)
        let parts = try await Self.readBackSegments(plan, engine: InMemoryKinesis())
        // Take one read away from the part that read shard 0, and read one of shard 1's twice.
        let dropped = try await parts[0].pool.write { db -> Int in
            try db.execute(sql: "DELETE FROM readback_reads WHERE rowid = (SELECT min(rowid) FROM readback_reads)")
            return db.changesCount
        }
        #expect(dropped == 1)
        try await parts[1].pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO readback_reads SELECT run_id, shard_id, sequence_number, sub_sequence_number, partition_key, fingerprint,
                    read_us + 1000, before_run, resent_copy FROM readback_reads WHERE rowid = (SELECT max(rowid) FROM readback_reads)
                    """)
        }
        let (output, _) = try temporaryStore()
        let merged = try await RunMerge.merge(try await RunMerge.parts(parts.map(\.path)), into: output)
        let m = try await output.summary(run: merged)
        let v = try #require(m.verification)
        #expect(v.acknowledged == 1001 && v.read == 1000 && v.lost == 1, "\(v)")
        #expect(v.reread == 1 || v.duplicated == 1, "the second read of one position is counted: \(v)")
        #expect(!m.passed && m.thresholds.first { $0.metric == "lost.count" }?.passed == false)
    }
}
