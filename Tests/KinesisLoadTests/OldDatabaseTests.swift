import Foundation
import GRDB
import Histogram
import Testing

@testable import KinesisLoad

@Suite("Databases of earlier versions")
struct OldDatabaseTests {
    @Test("a v3 database, written with only v3's columns, opens, migrates and reports its run from SQLite alone")
    func v3DatabaseStillReports() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kinesis-load-v3-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/old.sqlite"
        var latency = LatencyHistogram.latency()
        for value in [1_000, 2_000, 40_000] { _ = latency.record(UInt64(value)) }
        let blob = HistogramCoding.encode(latency)
        do {
            let queue = try DatabaseQueue(path: path)
            try MetricsStore.migrator.migrate(queue, upTo: "v3")
            try await queue.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO runs (scenario, scenario_path, scenario_json, target, stream, publisher, seed, event_types, shard_map, thresholds,
                          planned_events, planned_seconds, peak_rate, max_in_flight, started_at, ended_at, elapsed_seconds, generation_seconds, status,
                          exit_code, consume)
                        VALUES ('old', NULL, '{}', 'embedded', 's', 'putRecords', 1, '["E"]', '[{"shardId":"shardId-000000000000","start":"0","end":"1"}]',
                          '[{"metric":"lost.count","comparison":"==","limit":0,"expression":"== 0"}]', 3, 1, 3, 10, '2025-01-01T00:00:00Z',
                          '2025-01-01T00:00:02Z', 2, 1, 'passed', 0,
                          '{"consumers":1,"from":"trim-horizon","verify":true,"processingTimeMs":0,"catchUpTimeoutSeconds":30}')
                        """)
                try db.execute(sql: "INSERT INTO event_seconds VALUES (1, 0, 'E', 3, 3, 0, 0, 30, ?)", arguments: [blob])
                try db.execute(sql: "INSERT INTO shard_seconds VALUES (1, 0, 'shardId-000000000000', 3, 30, 0, 0, 3, ?)", arguments: [blob])
                try db.execute(sql: "INSERT INTO schedule_seconds VALUES (1, 0, 3, 3, 0, 3.0, NULL)")
                try db.execute(sql: "INSERT INTO read_seconds VALUES (1, 0, 'shardId-000000000000', 2, 0, 3, 30, 3, 120, ?)", arguments: [blob])
                try db.execute(sql: "INSERT INTO verification VALUES (1, 3, 3, 0, 0, 0, 0, 0, 1)")
                try db.execute(sql: "INSERT INTO hot_keys VALUES (1, 'k', 'shardId-000000000000', 3, 30)")
            }
        }
        let store = try MetricsStore(path: path)
        let summary = try await store.summary(run: 1)
        #expect(summary.totals.started == 3 && summary.totals.succeeded == 3 && summary.totals.bytes == 30)
        #expect(summary.latencyMs.count == 3 && summary.endToEndMs?.count == 3)
        let v = try #require(summary.verification)
        #expect(v.acknowledged == 3 && v.read == 3 && v.notVerified == 0, "v4's columns read as their defaults")
        #expect(v.received == -1, "a run stored before the records received were counted says so")
        #expect(summary.run.segment == nil && summary.run.mergedFrom == nil && summary.readBackKept == nil)
        #expect(summary.hotKeys.map(\.partitionKey) == ["k"])
        #expect(summary.inconsistencies.isEmpty && summary.passed, "\(summary.inconsistencies)")
        #expect(ReportWriter.markdown(summary).contains("# Run 1: old"))
        // And the file now has the newest schema: a new run can be stored next to the old one.
        let tables = try await store.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier") }
        #expect(tables == ["v1", "v2", "v3", "v4", "v5", "v6", "v7"])
    }
}
