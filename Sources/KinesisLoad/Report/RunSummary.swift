import Foundation
import GRDB
import Histogram
import Kinesis

/// Everything a report says about one run, computed from SQLite alone.
package struct RunSummary: Codable, Sendable {
    package struct Run: Codable, Sendable {
        package var id: Int64
        package var scenario: String
        package var scenarioPath: String?
        package var target: String
        package var stream: String
        package var publisher: String
        package var seed: UInt64
        package var startedAt: String
        package var endedAt: String?
        package var elapsedSeconds: Double?
        package var status: RunStatus
        package var shardCount: Int
        /// The database the run is stored in (its random id): report folders never collide.
        package var database: String
        /// Why the run ended in error or was abandoned, when it did.
        package var problem: String?
        /// A worker's share of a run (`run --segment i/n`), and how late it started against
        /// `--start-at` (seconds).
        package var segment: String? = nil
        package var lateStartSeconds: Double? = nil
        /// A merged run's parts (`kinesis-load merge`).
        package var mergedFrom: [RunMerge.MergedPart]? = nil
    }

    package struct Totals: Codable, Sendable {
        package var planned = 0
        package var started = 0
        package var succeeded = 0
        package var failed = 0
        package var dropped = 0
        /// Started and never finished: abandoned by a second stop signal, or cut short when the
        /// run was killed. Not counted in `failed`.
        package var lost = 0
        package var bytes = 0
    }

    package struct Rate: Codable, Sendable {
        /// Mean rate the schedule asked for (nil when unpaced).
        package var target: Double?
        package var peakTarget: Double?
        /// Events started per second over the schedule (or the run, when unpaced).
        package var achieved: Double
        /// Events that succeeded per second of the run.
        package var delivered: Double
        /// achieved / target.
        package var accuracy: Double?
    }

    package struct Percentiles: Codable, Sendable {
        package var count: UInt64 = 0
        package var p50 = 0.0
        package var p90 = 0.0
        package var p99 = 0.0
        package var p999 = 0.0
        package var max = 0.0
        package var mean = 0.0

        init() {}

        init(_ histogram: LatencyHistogram) {
            count = histogram.totalCount
            guard count > 0 else { return }
            func ms(_ micros: UInt64) -> Double { Double(micros) / 1000 }
            p50 = ms(histogram.valueAtPercentile(50))
            p90 = ms(histogram.valueAtPercentile(90))
            p99 = ms(histogram.valueAtPercentile(99))
            p999 = ms(histogram.valueAtPercentile(99.9))
            max = ms(histogram.max)
            mean = histogram.mean / 1000
        }
    }

    package struct TypeSummary: Codable, Sendable {
        package var type: String
        package var started: Int
        package var succeeded: Int
        package var failed: Int
        package var dropped: Int
        package var bytes: Int
        package var latencyMs: Percentiles
    }

    package struct ErrorCount: Codable, Sendable, Hashable {
        package var code: String
        package var count: Int
    }

    package struct ShardSummary: Codable, Sendable {
        package var shardId: String
        /// Kinesis records accepted (an aggregate counts once).
        package var records: Int
        package var bytes: Int
        package var throttled: Int
        package var failed: Int
        package var meanRecordsPerSecond: Double
        package var peakRecordsPerSecond: Int
        package var peakBytesPerSecond: Int
        /// Peak against Kinesis's 1,000 records/s and 1 MiB/s per shard, in percent.
        package var peakRecordsPercent: Double
        package var peakBytesPercent: Double
        /// Share of all accepted and refused records, in percent.
        package var sharePercent: Double
        /// Events delivered to the shard, and their latencies.
        package var events: Int
        package var latencyMs: Percentiles
        package var hot: Bool
        package var why: String?
        /// What the consumers read from it (nil when the run had none).
        package var read: ShardRead?
    }

    /// The read side of one shard.
    package struct ShardRead: Codable, Sendable {
        package var calls: Int
        package var throttled: Int
        /// Kinesis records (an aggregate counts once), their bytes, and the user records inside.
        package var records: Int
        package var bytes: Int
        package var userRecords: Int
        package var peakBytesPerSecond: Int
        /// Peak against Kinesis's 2 MiB/s read limit per shard, in percent.
        package var peakBytesPercent: Double
        /// Peak GetRecords calls in a second, against the 5 per second limit.
        package var peakCallsPerSecond: Int
        /// The largest MillisBehindLatest seen.
        package var maxLagMs: Int
        package var endToEndMs: Percentiles
        /// Behind by more than a second at its worst, or throttled.
        package var behind: Bool
    }

    /// The consumers' reading, in all.
    package struct Reads: Codable, Sendable {
        package var consumers: Int
        package var from: String
        package var verify: Bool
        package var processingTimeMs: Double
        package var calls = 0
        package var throttled = 0
        package var records = 0
        package var bytes = 0
        package var userRecords = 0
        package var maxLagMs = 0
        /// Shards whose consumer fell more than a second behind at some point.
        package var laggingShards: [String] = []
    }

    /// What read-back verification found: the verifier's result, as stored.
    package typealias Verification = ReadBackVerifier.Result

    /// What a segmented worker kept of its read-back for `merge` to judge.
    package struct ReadBackKept: Codable, Sendable {
        package var acknowledged: Int
        package var received: Int
        /// The shards it read, and how many of them it found at their tip after the schedule.
        package var shards: Int
        package var shardsCaughtUp: Int
    }

    /// Lease-sharing workers (`consume.workers`): how the shards changed hands.
    package struct Leases: Codable, Sendable {
        package var workers: Int
        package var failoverSeconds: Double
        /// What the scenario asked for ("kill worker-1 at 5s") and what happened ("worker-1 killed at ...").
        package var fault: String?
        package var struck: String?
        package var shards: [LeaseShard]
    }

    package struct LeaseShard: Codable, Sendable {
        package var shardId: String
        /// The workers that read it, in turn.
        package var workers: [String]
        package var ownerChanges: Int
        /// The longest a record waited in the stream before a worker received it.
        package var longestUnreadMs: Double
        /// Records received again at a position already received.
        package var reprocessed: Int
    }

    /// One shard's MillisBehindLatest over the run, as [second, ms] pairs.
    package struct LagSeries: Codable, Sendable {
        package var shardId: String
        package var points: [[Int]]
    }

    package struct HotKey: Codable, Sendable {
        package var partitionKey: String
        package var shardId: String
        package var events: Int
        package var bytes: Int
        package var sharePercent: Double
    }

    package struct ThresholdResult: Codable, Sendable {
        package var metric: String
        package var expression: String
        /// Nil when nothing was measured for it (the threshold then fails).
        package var observed: Double?
        package var observedText: String
        package var passed: Bool
    }

    package struct Second: Codable, Sendable {
        package var second: Int
        package var targetRate: Double
        package var started: Int
        package var succeeded: Int
        package var failed: Int
        package var dropped: Int
        package var throttled: Int
        package var p99Ms: Double
        /// End-to-end p99 of the events read in the second, the largest MillisBehindLatest, and
        /// user records consumed (nil and 0 without consumers).
        package var endToEndP99Ms: Double? = nil
        package var lagMs: Int? = nil
        package var consumed = 0
        package var readThrottled = 0

        /// A second with nothing counted yet.
        static func empty(_ second: Int) -> Second {
            Second(second: second, targetRate: 0, started: 0, succeeded: 0, failed: 0, dropped: 0, throttled: 0, p99Ms: 0)
        }
    }

    package var run: Run
    package var totals: Totals
    package var rate: Rate
    package var latencyMs: Percentiles
    package var latenessMs: Percentiles
    package var errors: [ErrorCount]
    package var kinesisErrors: [ErrorCount]
    package var types: [TypeSummary]
    package var shards: [ShardSummary]
    package var hotShards: [String]
    package var hotKeys: [HotKey]
    package var thresholds: [ThresholdResult]
    /// The stored figures do not add up (events counted in memory against the per-second rows,
    /// or the shards' deliveries against the events'): a run with any can never pass.
    package var inconsistencies: [String]
    package var passed: Bool
    package var series: [Second]
    /// The read side (nil when the run had no consumers).
    package var reads: Reads?
    /// From each event's intended start to a consumer's receipt (nil without consumers).
    package var endToEndMs: Percentiles?
    package var verification: Verification?
    /// A segmented worker's read-back, judged when the segments are merged (nil otherwise).
    package var readBackKept: ReadBackKept? = nil
    /// With lease-sharing workers (nil otherwise).
    package var leases: Leases? = nil
    package var lag: [LagSeries]
    /// [percentile, ms] points of the acknowledgement and end-to-end latency distributions.
    package var latencyDistribution: [[Double]]
    package var endToEndDistribution: [[Double]]

    /// Statuses of runs that ended normally; any other (running, abandoned, error) never passes.

    package static let shardRecordsPerSecond = Double(ServiceLimits.shardWriteRecordsPerSecond)
    package static let shardBytesPerSecond = Double(ServiceLimits.shardWriteBytesPerSecond)
    package static let shardReadBytesPerSecond = 2.0 * 1_048_576
    package static let shardReadCallsPerSecond = 5

    /// The percentiles the distribution charts plot.
    static let distributionPercentiles: [Double] = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100]

    static func distribution(_ histogram: LatencyHistogram) -> [[Double]] {
        guard histogram.totalCount > 0 else { return [] }
        return distributionPercentiles.map { [$0, Double(histogram.valueAtPercentile($0)) / 1000] }
    }
}

package struct ReportError: Error, Sendable, CustomStringConvertible {
    package var description: String
}

extension MetricsStore {
    /// Run ids, newest first.
    package func runIds() async throws -> [Int64] {
        try await read { db in try Int64.fetchAll(db, sql: "SELECT id FROM runs ORDER BY id DESC") }
    }

    /// Resolves `latest` or a run id.
    package func resolveRun(_ text: String) async throws -> Int64 {
        if text == "latest" {
            guard let id = try await runIds().first else { throw ReportError(description: "no runs in \(path) yet") }
            return id
        }
        guard let id = Int64(text) else { throw ReportError(description: "expected a run id or \"latest\", got \"\(text)\"") }
        let exists = try await read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM runs WHERE id = ?", arguments: [id]) ?? false }
        guard exists else { throw ReportError(description: "no run \(id) in \(path); `kinesis-load runs` lists them") }
        return id
    }

    /// Builds the summary of run `id` from the database alone.
    package func summary(run id: Int64) async throws -> RunSummary {
        let database = databaseId
        return try await read { db in try RunSummaryBuilder(db: db, run: id, database: database).build() }
    }
}

struct RunSummaryBuilder {
    let db: Database
    let run: Int64
    let database: String

    func build() throws -> RunSummary {
        guard let stored = try RunRow.find(db, run) else {
            throw ReportError(description: "no run \(run)")
        }
        let thresholds = try JSONDecoder().decode([Threshold].self, from: Data(stored.thresholds.utf8))
        let mapEntries = try JSONDecoder().decode([[String: String]].self, from: Data(stored.shardMap.utf8))
        let shardIds = mapEntries.compactMap { $0["shardId"] }
        let info = RunSummary.Run(
            id: run, scenario: stored.scenario, scenarioPath: stored.scenarioPath, target: stored.target, stream: stored.stream,
            publisher: stored.publisher, seed: UInt64(bitPattern: stored.seed), startedAt: stored.startedAt,
            endedAt: stored.endedAt, elapsedSeconds: stored.elapsedSeconds, status: stored.status, shardCount: shardIds.count,
            database: database, problem: stored.problem, segment: stored.segment, lateStartSeconds: stored.lateStartSeconds,
            mergedFrom: stored.mergedFrom.flatMap { try? JSONDecoder().decode([RunMerge.MergedPart].self, from: Data($0.utf8)) })
        let plannedSeconds = stored.plannedSeconds
        let generationSeconds = stored.generationSeconds ?? info.elapsedSeconds ?? plannedSeconds

        // Events, by type and in all.
        var totals = RunSummary.Totals()
        var all = LatencyHistogram.latency()
        var types: [RunSummary.TypeSummary] = []
        var bySecond: [Int: RunSummary.Second] = [:]
        var secondHistograms: [Int: LatencyHistogram] = [:]
        let typeNames = try JSONDecoder().decode([String].self, from: Data(stored.eventTypes.utf8))
        var typeHistograms: [String: LatencyHistogram] = [:]
        var typeCounts: [String: (Int, Int, Int, Int, Int)] = [:]
        let rows = try EventSecondRow.of(run: run).fetchCursor(db)
        while let row = try rows.next() {
            let (second, type, started, succeeded, failed) = (row.second, row.eventType, row.started, row.succeeded, row.failed)
            let (dropped, bytes) = (row.dropped, row.bytes)
            var counts = typeCounts[type] ?? (0, 0, 0, 0, 0)
            counts.0 += started
            counts.1 += succeeded
            counts.2 += failed
            counts.3 += dropped
            counts.4 += bytes
            typeCounts[type] = counts
            var entry = bySecond[second] ?? .empty(second)
            entry.started += started
            entry.succeeded += succeeded
            entry.failed += failed
            entry.dropped += dropped
            bySecond[second] = entry
            if let blob = row.latency {
                HistogramCoding.decode(blob, into: &typeHistograms[type, default: .latency()])
                HistogramCoding.decode(blob, into: &secondHistograms[second, default: .latency()])
            }
        }
        for name in typeNames {
            let counts = typeCounts[name] ?? (0, 0, 0, 0, 0)
            let histogram = typeHistograms[name] ?? .latency()
            all.add(histogram)
            types.append(
                .init(
                    type: name, started: counts.0, succeeded: counts.1, failed: counts.2, dropped: counts.3, bytes: counts.4,
                    latencyMs: .init(histogram)))
            totals.started += counts.0
            totals.succeeded += counts.1
            totals.failed += counts.2
            totals.dropped += counts.3
            totals.bytes += counts.4
        }
        totals.planned = totals.started + totals.dropped
        // Events abandoned by a second stop are stored as failed with the code Abandoned: they
        // are lost (never known to have landed or not), not failures Kinesis answered.
        let abandoned =
            try Int.fetchOne(db, sql: "SELECT SUM(count) FROM errors WHERE run_id = ? AND scope = 'event' AND code = 'Abandoned'", arguments: [run])
            ?? 0
        totals.failed -= abandoned
        totals.lost = max(0, totals.started - totals.succeeded - totals.failed)
        var inconsistencies: [String] = []
        if let text = stored.counted, let counted = try? JSONDecoder().decode(Recorder.Totals.self, from: Data(text.utf8)) {
            let stored = [
                ("started", counted.started, totals.started), ("succeeded", counted.succeeded, totals.succeeded),
                ("failed", counted.failed, totals.failed + abandoned), ("dropped", counted.dropped, totals.dropped),
            ]
            for (name, inMemory, inRows) in stored where inMemory != inRows {
                inconsistencies.append("\(inMemory) events \(name) were counted during the run, but the stored rows of its event types add up to \(inRows)")
            }
        }
        for (second, histogram) in secondHistograms { bySecond[second]?.p99Ms = Double(histogram.valueAtPercentile(99)) / 1000 }

        // The schedule: lateness and target rate per second.
        var lateness = LatencyHistogram.latency()
        let schedule = try ScheduleSecondRow.of(run: run).fetchCursor(db)
        while let row = try schedule.next() {
            if var entry = bySecond[row.second] {
                entry.targetRate = max(entry.targetRate, row.targetRate)
                bySecond[row.second] = entry
            }
            if let blob = row.lateness { HistogramCoding.decode(blob, into: &lateness) }
        }

        // Shards.
        var shardTotals: [String: (records: Int, bytes: Int, throttled: Int, failed: Int, peakRecords: Int, peakBytes: Int)] = [:]
        var perSecond: [String: [Int: (Int, Int)]] = [:]
        var shardEvents: [String: Int] = [:]
        var shardLatency: [String: LatencyHistogram] = [:]
        let shardRows = try ShardSecondRow.of(run: run).fetchCursor(db)
        while let row = try shardRows.next() {
            let (shard, second) = (row.shardId, row.second)
            shardEvents[shard, default: 0] += row.events
            if let blob = row.latency { HistogramCoding.decode(blob, into: &shardLatency[shard, default: .latency()]) }
            let (records, bytes, throttled, failed) = (row.records, row.bytes, row.throttled, row.failed)
            var entry = shardTotals[shard] ?? (0, 0, 0, 0, 0, 0)
            entry.records += records
            entry.bytes += bytes
            entry.throttled += throttled
            entry.failed += failed
            shardTotals[shard] = entry
            perSecond[shard, default: [:]][second, default: (0, 0)].0 += records
            perSecond[shard, default: [:]][second, default: (0, 0)].1 += bytes
            bySecond[second]?.throttled += throttled
        }
        let shardDeliveries = shardEvents.values.reduce(0, +)
        if shardDeliveries != totals.succeeded {
            inconsistencies.append("the shards received \(shardDeliveries) events, but the event types account for \(totals.succeeded) delivered")
        }
        let seconds = max(1.0, generationSeconds)
        let attemptedAll = shardTotals.values.reduce(0) { $0 + $1.records + $1.failed }
        var shards: [RunSummary.ShardSummary] = []
        for shard in (shardIds + shardTotals.keys.filter { !shardIds.contains($0) }.sorted()) {
            let total = shardTotals[shard] ?? (0, 0, 0, 0, 0, 0)
            let peakRecords = perSecond[shard]?.values.map(\.0).max() ?? 0
            let peakBytes = perSecond[shard]?.values.map(\.1).max() ?? 0
            let recordsPercent = Double(peakRecords) / RunSummary.shardRecordsPerSecond * 100
            let bytesPercent = Double(peakBytes) / RunSummary.shardBytesPerSecond * 100
            var reasons: [String] = []
            if total.throttled > 0 { reasons.append("\(total.throttled) records throttled") }
            if recordsPercent >= 100 { reasons.append("peak \(peakRecords) records/s, \(Int(recordsPercent))% of the 1,000 records/s limit") }
            if bytesPercent >= 100 { reasons.append("peak \(peakBytes) bytes/s, \(Int(bytesPercent))% of the 1 MiB/s limit") }
            shards.append(
                .init(
                    shardId: shard, records: total.records, bytes: total.bytes, throttled: total.throttled, failed: total.failed,
                    meanRecordsPerSecond: Double(total.records) / seconds, peakRecordsPerSecond: peakRecords, peakBytesPerSecond: peakBytes,
                    peakRecordsPercent: recordsPercent, peakBytesPercent: bytesPercent,
                    sharePercent: attemptedAll > 0 ? Double(total.records + total.failed) / Double(attemptedAll) * 100 : 0,
                    events: shardEvents[shard] ?? 0, latencyMs: .init(shardLatency[shard] ?? .latency()), hot: !reasons.isEmpty, why: reasons.isEmpty ? nil : reasons.joined(separator: "; ")))
        }

        // The read side.
        var reads: RunSummary.Reads?
        var endToEnd: LatencyHistogram?
        var lagSeries: [RunSummary.LagSeries] = []
        if let text = stored.consume, let consume = try? JSONDecoder().decode(MetricsStore.ConsumeRow.self, from: Data(text.utf8)) {
            var all = RunSummary.Reads(consumers: consume.consumers, from: consume.from, verify: consume.verify, processingTimeMs: consume.processingTimeMs)
            var e2e = LatencyHistogram.latency()
            struct ShardReading {
                var calls = 0, throttled = 0, records = 0, bytes = 0, userRecords = 0, maxLag = 0
                var peakBytes = 0, peakCalls = 0
                var e2e = LatencyHistogram.latency()
                var lag: [Int: Int] = [:]
            }
            var byShard: [String: ShardReading] = [:]
            var secondE2E: [Int: LatencyHistogram] = [:]
            let readRows = try ReadSecondRow.of(run: run).fetchCursor(db)
            // Rows of one shard and second can come in several batches: add them up first.
            var perSecond: [String: [Int: (calls: Int, bytes: Int)]] = [:]
            while let row = try readRows.next() {
                let (shard, second) = (row.shardId, row.second)
                var entry = byShard[shard] ?? ShardReading()
                let (calls, throttled, records, bytes, users) = (row.calls, row.throttled, row.records, row.bytes, row.userRecords)
                entry.calls += calls
                entry.throttled += throttled
                entry.records += records
                entry.bytes += bytes
                entry.userRecords += users
                perSecond[shard, default: [:]][second, default: (0, 0)].calls += calls
                perSecond[shard, default: [:]][second, default: (0, 0)].bytes += bytes
                // Seconds after publishing (the catch-up) have reads only.
                var figures = bySecond[second] ?? .empty(second)
                if let behind = row.maxBehindMs {
                    entry.maxLag = max(entry.maxLag, behind)
                    entry.lag[second] = max(entry.lag[second] ?? 0, behind)
                    figures.lagMs = max(figures.lagMs ?? 0, behind)
                }
                if let blob = row.e2e {
                    HistogramCoding.decode(blob, into: &entry.e2e)
                    HistogramCoding.decode(blob, into: &secondE2E[second, default: .latency()])
                }
                figures.consumed += users
                figures.readThrottled += throttled
                bySecond[second] = figures
                byShard[shard] = entry
            }
            for (shard, seconds) in perSecond {
                byShard[shard]?.peakCalls = seconds.values.map(\.calls).max() ?? 0
                byShard[shard]?.peakBytes = seconds.values.map(\.bytes).max() ?? 0
            }
            for (second, histogram) in secondE2E { bySecond[second]?.endToEndP99Ms = Double(histogram.valueAtPercentile(99)) / 1000 }
            for index in shards.indices {
                guard let reading = byShard[shards[index].shardId] else { continue }
                e2e.add(reading.e2e)
                let behind = reading.maxLag > 1000 || reading.throttled > 0
                shards[index].read = RunSummary.ShardRead(
                    calls: reading.calls, throttled: reading.throttled, records: reading.records, bytes: reading.bytes,
                    userRecords: reading.userRecords, peakBytesPerSecond: reading.peakBytes,
                    peakBytesPercent: Double(reading.peakBytes) / RunSummary.shardReadBytesPerSecond * 100, peakCallsPerSecond: reading.peakCalls,
                    maxLagMs: reading.maxLag, endToEndMs: .init(reading.e2e), behind: behind)
                all.calls += reading.calls
                all.throttled += reading.throttled
                all.records += reading.records
                all.bytes += reading.bytes
                all.userRecords += reading.userRecords
                all.maxLagMs = max(all.maxLagMs, reading.maxLag)
                if reading.maxLag > 1000 { all.laggingShards.append(shards[index].shardId) }
                lagSeries.append(
                    RunSummary.LagSeries(shardId: shards[index].shardId, points: reading.lag.sorted { $0.key < $1.key }.map { [$0.key, $0.value] }))
            }
            reads = all
            endToEnd = e2e
        }
        var verification: RunSummary.Verification?
        if let row = try VerificationRow.of(run: run).fetchOne(db) {
            let examples = try VerificationExampleRow.of(run: run).order(Column.rowID).fetchAll(db).map(\.example)
            let stored = row.result(examples: examples)
            inconsistencies += stored.inconsistencies
            verification = stored
        }

        var kept: RunSummary.ReadBackKept?
        let keptShards = try ReadBackShardRow.of(run: run).fetchAll(db)
        if !keptShards.isEmpty {
            kept = RunSummary.ReadBackKept(
                acknowledged: try ReadBackAckRow.of(run: run).fetchCount(db), received: try ReadBackReadRow.of(run: run).fetchCount(db),
                shards: keptShards.count,
                shardsCaughtUp: keptShards.filter { $0.finished || $0.caughtUpUs != nil }.count)
        }

        var leases: RunSummary.Leases?
        if let text = stored.consume, let consume = try? JSONDecoder().decode(MetricsStore.ConsumeRow.self, from: Data(text.utf8)), let workers = consume.workers {
            let rows = try LeaseShardRow.of(run: run).order(Column("shard_id")).fetchAll(db)
            leases = RunSummary.Leases(
                workers: workers, failoverSeconds: consume.failoverSeconds ?? 0, fault: consume.fault, struck: stored.leaseFault,
                shards: rows.map {
                    RunSummary.LeaseShard(
                        shardId: $0.shardId, workers: $0.workers.split(separator: ",").map(String.init), ownerChanges: $0.ownerChanges,
                        longestUnreadMs: $0.longestUnreadMs, reprocessed: $0.reprocessed)
                })
        }

        // Errors.
        func errorCounts(_ scope: String) throws -> [RunSummary.ErrorCount] {
            // ErrorCount's fields are the query's columns.
            try RunSummary.ErrorCount.fetchAll(
                db, sql: "SELECT code, SUM(count) AS count FROM errors WHERE run_id = ? AND scope = ? GROUP BY code ORDER BY SUM(count) DESC, code",
                arguments: [run, scope])
        }

        // Keys.
        let keyTotal = max(1, totals.planned)
        let hotKeys = try HotKeyRow.of(run: run).order(Column("events").desc, Column("partition_key")).fetchAll(db).map {
            RunSummary.HotKey(
                partitionKey: $0.partitionKey, shardId: $0.shardId, events: $0.events, bytes: $0.bytes, sharePercent: Double($0.events) / Double(keyTotal) * 100)
        }

        let peakTarget = stored.peakRate
        let plannedEvents = stored.plannedEvents
        // No target rate without planned events over planned time: never an infinite or NaN accuracy.
        let target: Double? = plannedSeconds > 0 && plannedEvents > 0 ? Double(plannedEvents) / plannedSeconds : nil
        // A run stopped early is judged on the part of the schedule that ran.
        // A run still going (the live page) is judged on the seconds stored so far.
        let span =
            info.status == .running
            ? Double((bySecond.keys.max() ?? 0) + 1)
            : info.status == .interrupted || plannedSeconds == 0 ? generationSeconds : max(plannedSeconds, generationSeconds)
        let achieved = Double(totals.started) / max(span, 0.001)
        let rate = RunSummary.Rate(
            target: target, peakTarget: peakTarget, achieved: achieved,
            delivered: Double(totals.succeeded) / max(info.elapsedSeconds ?? seconds, 0.001), accuracy: target.map { achieved / $0 })

        let throttled = shardTotals.values.reduce(0) { $0 + $1.throttled }
        let latency = RunSummary.Percentiles(all)
        let latenessPercentiles = RunSummary.Percentiles(lateness)
        let endToEndPercentiles = endToEnd.map(RunSummary.Percentiles.init)
        let figures = RunFigures(
            latency: latency, latencyP95: Double(all.valueAtPercentile(95)) / 1000, lateness: latenessPercentiles, totals: totals,
            rate: rate, throttled: throttled, attempted: attemptedAll, endToEnd: endToEndPercentiles, reads: reads, verification: verification)
        // Verification fails a run that lost a record unless the scenario judges lost.count itself.
        var judged = thresholds
        if verification != nil, !thresholds.contains(where: { $0.metric == .lostCount }) {
            judged.append(Threshold(metric: .lostCount, comparison: .equal, limit: 0, expression: "== 0 (verify's default)"))
        }
        // A segment's figures are a share of the run: its thresholds are judged on the merged run.
        if stored.segment != nil { judged = [] }
        let results = judged.map { threshold in
            switch threshold.metric.value(in: figures) {
            case .success(let value):
                return RunSummary.ThresholdResult(
                    metric: threshold.metric.rawValue, expression: threshold.expression, observed: value, observedText: threshold.format(value),
                    passed: threshold.holds(value))
            case .failure(let missing):
                return RunSummary.ThresholdResult(
                    metric: threshold.metric.rawValue, expression: threshold.expression, observed: nil, observedText: missing.description, passed: false)
            }
        }
        return RunSummary(
            run: info, totals: totals, rate: rate, latencyMs: latency, latenessMs: latenessPercentiles, errors: try errorCounts("event"),
            kinesisErrors: try errorCounts("shard"), types: types, shards: shards, hotShards: shards.filter(\.hot).map(\.shardId),
            hotKeys: hotKeys, thresholds: results, inconsistencies: inconsistencies,
            passed: results.allSatisfy(\.passed) && inconsistencies.isEmpty && info.status.isFinished,
            series: bySecond.values.sorted { $0.second < $1.second }, reads: reads, endToEndMs: endToEndPercentiles, verification: verification,
            readBackKept: kept, leases: leases, lag: lagSeries, latencyDistribution: RunSummary.distribution(all), endToEndDistribution: endToEnd.map(RunSummary.distribution) ?? [])
    }
}

extension RunSummary.ErrorCount: FetchableRecord {}
