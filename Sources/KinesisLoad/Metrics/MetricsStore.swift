import Crypto
import Foundation
import GRDB
import Histogram
import Kinesis

/// The SQLite file runs accumulate in (WAL, written in batches). The schema is documented in
/// `Reports/README.md`; reports are rebuilt from it alone.
package final class MetricsStore: Sendable {
    package let path: String
    /// A random id of this database file: report folders of two databases never collide.
    package let databaseId: String
    let pool: DatabasePool

    /// A scenario's text is stored whole up to this size; above it, only its hash and path.
    package static let storedScenarioLimit = 1 << 20

    package init(path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        pool = try DatabasePool(path: path, configuration: configuration)
        self.path = path
        try Self.migrator.migrate(pool)
        databaseId = try pool.write { db in
            if let id = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'database_id'") { return id }
            let id = String(format: "%08x", UInt32.random(in: 0...UInt32.max))
            try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('database_id', ?)", arguments: [id])
            return id
        }
        try markAbandoned()
    }

    /// An error in one line, as stored and printed: SQLite's message without the SQL.
    package static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return error.message ?? "SQLite error \(error.resultCode)" }
        if let error = error as? CocoaError, let path = error.filePath { return "\(error.localizedDescription) (\(path))" }
        return String(describing: error).replacingOccurrences(of: "\n", with: " ")
    }

    /// Marks `running` runs whose owning process is gone (killed, crashed) as `abandoned`.
    func markAbandoned() throws {
        let running = try pool.read { db in try RunRow.filter(Column("status") == RunStatus.running).fetchAll(db) }
        for row in running {
            guard let id = row.id, let host = row.ownerHost, let pid = row.ownerPid else { continue }
            let owner = RunOwner(host: host, pid: Int32(truncatingIfNeeded: pid), started: row.ownerStarted)
            guard owner.isAlive == false else { continue }
            try pool.write { db in
                try db.execute(
                    sql: "UPDATE runs SET status = ?, problem = ? WHERE id = ? AND status = ?",
                    arguments: [RunStatus.abandoned, "process \(pid) on \(host) ended without finishing the run (killed or crashed)", id, RunStatus.running])
            }
        }
    }

    /// For tests: caps the database at `pages` pages, so that writing past it fails as a full
    /// disk does (SQLITE_FULL).
    package func limitSize(pages: Int) async throws {
        try await pool.write { db in _ = try Int.fetchOne(db, sql: "PRAGMA max_page_count = \(pages)") }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE runs (
                      id INTEGER PRIMARY KEY AUTOINCREMENT,
                      scenario TEXT NOT NULL,
                      scenario_path TEXT,
                      scenario_json TEXT NOT NULL,
                      target TEXT NOT NULL,
                      stream TEXT NOT NULL,
                      publisher TEXT NOT NULL,
                      seed INTEGER NOT NULL,
                      event_types TEXT NOT NULL,
                      shard_map TEXT NOT NULL,
                      thresholds TEXT NOT NULL,
                      planned_events INTEGER NOT NULL,
                      planned_seconds REAL NOT NULL,
                      peak_rate REAL,
                      max_in_flight INTEGER NOT NULL,
                      started_at TEXT NOT NULL,
                      ended_at TEXT,
                      elapsed_seconds REAL,
                      generation_seconds REAL,
                      status TEXT NOT NULL,
                      exit_code INTEGER
                    );
                    CREATE TABLE event_seconds (
                      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                      second INTEGER NOT NULL,
                      event_type TEXT NOT NULL,
                      started INTEGER NOT NULL,
                      succeeded INTEGER NOT NULL,
                      failed INTEGER NOT NULL,
                      dropped INTEGER NOT NULL,
                      bytes INTEGER NOT NULL,
                      latency BLOB
                    );
                    CREATE INDEX event_seconds_run ON event_seconds(run_id, second);
                    CREATE TABLE shard_seconds (
                      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                      second INTEGER NOT NULL,
                      shard_id TEXT NOT NULL,
                      records INTEGER NOT NULL,
                      bytes INTEGER NOT NULL,
                      throttled INTEGER NOT NULL,
                      failed INTEGER NOT NULL,
                      events INTEGER NOT NULL,
                      latency BLOB
                    );
                    CREATE INDEX shard_seconds_run ON shard_seconds(run_id, second);
                    CREATE TABLE schedule_seconds (
                      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                      second INTEGER NOT NULL,
                      planned INTEGER NOT NULL,
                      started INTEGER NOT NULL,
                      dropped INTEGER NOT NULL,
                      target_rate REAL NOT NULL,
                      lateness BLOB
                    );
                    CREATE INDEX schedule_seconds_run ON schedule_seconds(run_id, second);
                    CREATE TABLE errors (
                      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                      second INTEGER NOT NULL,
                      scope TEXT NOT NULL,
                      name TEXT NOT NULL,
                      code TEXT NOT NULL,
                      count INTEGER NOT NULL
                    );
                    CREATE INDEX errors_run ON errors(run_id);
                    CREATE TABLE hot_keys (
                      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                      partition_key TEXT NOT NULL,
                      shard_id TEXT NOT NULL,
                      events INTEGER NOT NULL,
                      bytes INTEGER NOT NULL
                    );
                    CREATE INDEX hot_keys_run ON hot_keys(run_id);
                    CREATE TABLE samples (
                      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                      event_type TEXT NOT NULL,
                      seq INTEGER NOT NULL,
                      partition_key TEXT NOT NULL,
                      explicit_hash_key TEXT,
                      data BLOB NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v2") { db in
            try db.execute(
                sql: """
                    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                    ALTER TABLE runs ADD COLUMN owner_host TEXT;
                    ALTER TABLE runs ADD COLUMN owner_pid INTEGER;
                    ALTER TABLE runs ADD COLUMN owner_started TEXT;
                    ALTER TABLE runs ADD COLUMN scenario_sha256 TEXT;
                    ALTER TABLE runs ADD COLUMN scenario_bytes INTEGER;
                    ALTER TABLE runs ADD COLUMN counted TEXT;
                    ALTER TABLE runs ADD COLUMN problem TEXT;
                    """)
        }
        migrator.registerMigration("v3") { db in
            try db.execute(
                sql: """
                    CREATE TABLE read_seconds (
                      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                      second INTEGER NOT NULL,
                      shard_id TEXT NOT NULL,
                      calls INTEGER NOT NULL,
                      throttled INTEGER NOT NULL,
                      records INTEGER NOT NULL,
                      bytes INTEGER NOT NULL,
                      user_records INTEGER NOT NULL,
                      max_behind_ms INTEGER,
                      e2e BLOB
                    );
                    CREATE INDEX read_seconds_run ON read_seconds(run_id, second);
                    ALTER TABLE runs ADD COLUMN consume TEXT;
                    CREATE TABLE verification (
                      run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
                      acknowledged INTEGER NOT NULL,
                      read INTEGER NOT NULL,
                      lost INTEGER NOT NULL,
                      duplicated INTEGER NOT NULL,
                      out_of_order INTEGER NOT NULL,
                      unexpected INTEGER NOT NULL,
                      resent_copies INTEGER NOT NULL,
                      caught_up INTEGER NOT NULL
                    );
                    CREATE TABLE verification_examples (
                      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                      kind TEXT NOT NULL,
                      event_type TEXT,
                      partition_key TEXT NOT NULL,
                      shard_id TEXT NOT NULL,
                      sequence_number TEXT NOT NULL,
                      sub_sequence_number INTEGER NOT NULL
                    );
                    CREATE INDEX verification_examples_run ON verification_examples(run_id);
                    """)
        }
        // The read-back's full books: every acknowledged event read, lost or not verified; every
        // record received classified once.
        migrator.registerMigration("v4") { db in
            for column in ["not_verified", "reread", "shared_positions", "reused_positions", "late_acknowledgements"] {
                try db.execute(sql: "ALTER TABLE verification ADD COLUMN \(column) INTEGER NOT NULL DEFAULT 0")
            }
            // -1: a run stored before the records received were counted.
            try db.execute(sql: "ALTER TABLE verification ADD COLUMN received INTEGER NOT NULL DEFAULT -1")
            try db.execute(sql: "ALTER TABLE verification_examples ADD COLUMN other_event_type TEXT")
            try db.execute(sql: "ALTER TABLE verification_examples ADD COLUMN other_partition_key TEXT")
        }
        // Runs across machines: a worker's segment ("2/4") and how late it started against
        // --start-at; a merged run's parts.
        migrator.registerMigration("v5") { db in
            try db.execute(sql: "ALTER TABLE runs ADD COLUMN segment TEXT")
            try db.execute(sql: "ALTER TABLE runs ADD COLUMN late_start_seconds REAL")
            try db.execute(sql: "ALTER TABLE runs ADD COLUMN merged_from TEXT")
        }
        registerReadBackTables(&migrator)
        registerLeaseTables(&migrator)
        return migrator
    }

    // MARK: - Writing

    package struct RunStart: Sendable {
        package var scenario: Scenario
        package var scenarioPath: String?
        package var target: String
        package var shardMap: ShardMap
        package var plannedEvents: Int
        package var plannedSeconds: Double
        package var startedAt: Date
        package var segment: RunSegment? = nil
        package var lateStartSeconds: Double = 0
        package var mergedFrom: String? = nil
    }

    /// Records a new run; returns its id.
    package func beginRun(_ run: RunStart) async throws -> Int64 {
        let types = try String(decoding: JSONEncoder().encode(run.scenario.events.map(\.type)), as: UTF8.self)
        let thresholds = try String(decoding: JSONEncoder().encode(run.scenario.thresholds), as: UTF8.self)
        let map = try String(
            decoding: JSONEncoder().encode(
                run.shardMap.entries.map { ["shardId": $0.shardId, "start": String($0.range.lowerBound), "end": String($0.range.upperBound)] }),
            as: UTF8.self)
        let scenario = run.scenario
        let text = Data(scenario.source.utf8)
        let hash = SHA256.hash(data: text).map { String(format: "%02x", $0) }.joined()
        // A huge scenario is not copied into every run: its hash and path say which it was.
        let stored = text.count <= Self.storedScenarioLimit ? scenario.source : ""
        let owner = RunOwner.current
        // The consumers' settings, as the summary shows them: {"consumers":2,"from":"trim-horizon",...}.
        let consume = try scenario.consume.map { spec in
            String(
                decoding: try JSONEncoder().encode(
                    ConsumeRow(
                        consumers: spec.workers ?? spec.consumers, from: spec.from.rawValue, verify: spec.verify,
                        processingTimeMs: Double(spec.processingTime.wholeNanoseconds) / 1e6,
                        catchUpTimeoutSeconds: Double(spec.catchUpTimeout.wholeNanoseconds) / 1e9, maxRecordsPerCall: spec.maxRecordsPerCall,
                        workers: spec.workers, failoverSeconds: spec.workers == nil ? nil : Double(spec.leaseFailover.wholeNanoseconds) / 1e9,
                        fault: spec.fault.map { "\($0.action.rawValue) worker-\($0.worker) at \(DurationText.format($0.at))" })),
                as: UTF8.self)
        }
        let row = RunRow(
            scenario: scenario.name, scenarioPath: run.scenarioPath, scenarioJson: stored, target: run.target, stream: scenario.stream.name,
            publisher: scenario.publisher.mode.rawValue, seed: Int64(bitPattern: scenario.seed), eventTypes: types, shardMap: map,
            thresholds: thresholds, plannedEvents: run.plannedEvents, plannedSeconds: run.plannedSeconds, peakRate: scenario.load.peakRate,
            maxInFlight: scenario.load.maxInFlight, startedAt: ISO8601DateFormatter().string(from: run.startedAt), status: .running,
            ownerHost: owner.host, ownerPid: Int64(owner.pid), ownerStarted: owner.started, scenarioSha256: hash, scenarioBytes: text.count,
            consume: consume, segment: run.segment?.description, lateStartSeconds: run.segment == nil ? nil : run.lateStartSeconds,
            mergedFrom: run.mergedFrom)
        return try await pool.write { db in
            var row = row
            try row.insert(db)
            return row.id ?? db.lastInsertedRowID
        }
    }

    /// Appends a drained batch of per-second figures in one transaction.
    package func write(_ batch: Recorder.Batch, run: Int64, typeNames: [String]) async throws {
        guard !batch.isEmpty else { return }
        try await pool.write { db in
            for (second, types) in batch.types {
                for (type, counts) in types {
                    let name = typeNames[type]
                    try EventSecondRow(
                        runId: run, second: second, eventType: name, started: counts.started, succeeded: counts.succeeded, failed: counts.failed,
                        dropped: counts.dropped, bytes: counts.bytes, latency: HistogramCoding.blob(counts.latency)
                    ).insert(db)
                    for (code, count) in counts.errors { try ErrorRow(runId: run, second: second, scope: "event", name: name, code: code, count: count).insert(db) }
                }
            }
            for (second, byShard) in batch.shards {
                for (shard, counts) in byShard {
                    try ShardSecondRow(
                        runId: run, second: second, shardId: shard, records: counts.records, bytes: counts.bytes, throttled: counts.throttled,
                        failed: counts.failed, events: counts.events, latency: HistogramCoding.blob(counts.latency)
                    ).insert(db)
                    for (code, count) in counts.errors { try ErrorRow(runId: run, second: second, scope: "shard", name: shard, code: code, count: count).insert(db) }
                }
            }
            for (second, byShard) in batch.reads {
                for (shard, counts) in byShard {
                    try ReadSecondRow(
                        runId: run, second: second, shardId: shard, calls: counts.calls, throttled: counts.throttled, records: counts.records,
                        bytes: counts.bytes, userRecords: counts.userRecords, maxBehindMs: counts.maxBehindMs, e2e: HistogramCoding.blob(counts.endToEnd)
                    ).insert(db)
                }
            }
            for (second, counts) in batch.schedule {
                try ScheduleSecondRow(
                    runId: run, second: second, planned: counts.planned, started: counts.started, dropped: counts.dropped,
                    targetRate: counts.targetRate, lateness: HistogramCoding.blob(counts.lateness)
                ).insert(db)
            }
        }
    }

    /// `runs.consume`: the scenario's consume section, as stored.
    package struct ConsumeRow: Sendable, Hashable, Codable {
        package var consumers: Int
        package var from: String
        package var verify: Bool
        package var processingTimeMs: Double
        package var catchUpTimeoutSeconds: Double
        package var maxRecordsPerCall: Int?
        /// Lease-sharing workers, their failover time, and the scenario's fault (nil otherwise).
        package var workers: Int? = nil
        package var failoverSeconds: Double? = nil
        package var fault: String? = nil
    }

    package struct KeyCount: Sendable, Hashable {
        package var partitionKey: String
        package var shardId: String
        package var events: Int
        package var bytes: Int
    }

    package struct Sample: Sendable, Hashable {
        package var eventType: String
        package var partitionKey: String
        package var explicitHashKey: String?
        package var data: Data
    }

    /// Stores the run's end: hottest keys, samples, status, and the totals the runner counted in
    /// memory (so that a summary can check that the per-second rows add up to them).
    package func finishRun(
        _ run: Int64, status: RunStatus, exitCode: Int, elapsedSeconds: Double, generationSeconds: Double, hotKeys: [KeyCount], samples: [Sample],
        counted: Recorder.Totals? = nil, problem: String? = nil, verification: ReadBackVerifier.Result? = nil
    ) async throws {
        let countedText = try counted.map { String(decoding: try JSONEncoder().encode($0), as: UTF8.self) }
        try await pool.write { db in
            try db.execute(sql: "UPDATE runs SET counted = ?, problem = ? WHERE id = ?", arguments: [countedText, problem, run])
            if let verification { try Self.insert(verification, run: run, db) }
            for key in hotKeys {
                try HotKeyRow(runId: run, partitionKey: key.partitionKey, shardId: key.shardId, events: key.events, bytes: key.bytes).insert(db)
            }
            for (index, sample) in samples.enumerated() {
                try SampleRow(
                    runId: run, eventType: sample.eventType, seq: index, partitionKey: sample.partitionKey, explicitHashKey: sample.explicitHashKey,
                    data: sample.data
                ).insert(db)
            }
            try db.execute(
                sql: "UPDATE runs SET status = ?, exit_code = ?, ended_at = ?, elapsed_seconds = ?, generation_seconds = ? WHERE id = ?",
                arguments: [status, exitCode, ISO8601DateFormatter().string(from: Date()), elapsedSeconds, generationSeconds, run])
        }
    }

    /// Stores a read-back's verdict and its examples for `run`.
    static func insert(_ v: ReadBackVerifier.Result, run: Int64, _ db: Database) throws {
        try VerificationRow(v, run: run).insert(db)
        for example in v.examples { try VerificationExampleRow(example, run: run).insert(db) }
    }

    /// Updates a finished run's status and exit code (after thresholds are judged), and why
    /// it ended in error when it did.
    package func setStatus(_ run: Int64, status: RunStatus, exitCode: Int, problem: String? = nil) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE runs SET status = ?, exit_code = ? WHERE id = ?", arguments: [status, exitCode, run])
            if let problem { try db.execute(sql: "UPDATE runs SET problem = ? WHERE id = ?", arguments: [problem, run]) }
        }
    }

    package func read<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        try await pool.read(body)
    }
}

/// Histograms as SQLite blobs: (value, count) pairs of the recorded buckets, as varints.
package enum HistogramCoding {
    /// The blob a column stores: nil for an empty histogram.
    static func blob(_ histogram: LatencyHistogram) -> Data? {
        histogram.totalCount > 0 ? encode(histogram) : nil
    }

    package static func encode(_ histogram: LatencyHistogram) -> Data {
        var out = Data()
        func varint(_ value: UInt64) {
            var value = value
            while value >= 0x80 {
                out.append(UInt8(value & 0x7F) | 0x80)
                value >>= 7
            }
            out.append(UInt8(value))
        }
        for bucket in histogram.recordedValues() {
            varint(bucket.value)
            varint(UInt64(bucket.count))
        }
        return out
    }

    /// Adds the blob's values into `histogram`.
    package static func decode(_ data: Data, into histogram: inout LatencyHistogram) {
        var index = data.startIndex
        func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while index < data.endIndex, shift < 64 {
                let byte = data[index]
                index += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte < 0x80 { return value }
                shift += 7
            }
            return nil
        }
        while let value = varint(), let count = varint() {
            _ = histogram.record(min(value, histogram.highestTrackableValue), count: UInt32(clamping: count))
        }
    }
}
