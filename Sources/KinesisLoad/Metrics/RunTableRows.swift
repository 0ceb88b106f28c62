import Foundation
import GRDB

/// The run's per-second and end-of-run tables as GRDB records (columns in `Reports/README.md`):
/// written and read by name-checked properties, not by strings. Column names are the
/// properties' in snake case. Histogram blobs are ``HistogramCoding``'s (nil when empty).
package protocol RunTableRow: Codable, Sendable, FetchableRecord, PersistableRecord {}

extension RunTableRow {
    package static var databaseColumnDecodingStrategy: DatabaseColumnDecodingStrategy { .convertFromSnakeCase }
    package static var databaseColumnEncodingStrategy: DatabaseColumnEncodingStrategy { .convertToSnakeCase }

    /// This run's rows.
    package static func of(run: Int64) -> QueryInterfaceRequest<Self> { filter(Column("run_id") == run) }
}

/// `event_seconds`: per second and event type.
package struct EventSecondRow: RunTableRow {
    package static let databaseTableName = "event_seconds"
    package var runId: Int64
    package var second: Int
    package var eventType: String
    package var started: Int
    package var succeeded: Int
    package var failed: Int
    package var dropped: Int
    package var bytes: Int
    package var latency: Data?
}

/// `shard_seconds`: per second and shard, what Kinesis answered.
package struct ShardSecondRow: RunTableRow {
    package static let databaseTableName = "shard_seconds"
    package var runId: Int64
    package var second: Int
    package var shardId: String
    package var records: Int
    package var bytes: Int
    package var throttled: Int
    package var failed: Int
    package var events: Int
    package var latency: Data?
}

/// `read_seconds`: per second and shard, what the run's consumers read.
package struct ReadSecondRow: RunTableRow {
    package static let databaseTableName = "read_seconds"
    package var runId: Int64
    package var second: Int
    package var shardId: String
    package var calls: Int
    package var throttled: Int
    package var records: Int
    package var bytes: Int
    package var userRecords: Int
    package var maxBehindMs: Int?
    package var e2e: Data?
}

/// `schedule_seconds`: per second of the schedule.
package struct ScheduleSecondRow: RunTableRow {
    package static let databaseTableName = "schedule_seconds"
    package var runId: Int64
    package var second: Int
    package var planned: Int
    package var started: Int
    package var dropped: Int
    package var targetRate: Double
    package var lateness: Data?
}

/// `errors`: final errors of events (`scope` event, `name` the type) or Kinesis errors of
/// records on a shard (`scope` shard, `name` the shard), per second.
package struct ErrorRow: RunTableRow {
    package static let databaseTableName = "errors"
    package var runId: Int64
    package var second: Int
    package var scope: String
    package var name: String
    package var code: String
    package var count: Int
}

/// `hot_keys`: the run's most frequent partition keys.
package struct HotKeyRow: RunTableRow {
    package static let databaseTableName = "hot_keys"
    package var runId: Int64
    package var partitionKey: String
    package var shardId: String
    package var events: Int
    package var bytes: Int
}

/// `samples`: the first records of each event type, as published.
package struct SampleRow: RunTableRow {
    package static let databaseTableName = "samples"
    package var runId: Int64
    package var eventType: String
    package var seq: Int
    package var partitionKey: String
    package var explicitHashKey: String?
    package var data: Data
}

/// `verification`: a read-back's verdict, one row per run.
package struct VerificationRow: RunTableRow {
    package static let databaseTableName = "verification"
    package var runId: Int64
    package var acknowledged: Int
    package var read: Int
    package var lost: Int
    package var duplicated: Int
    package var outOfOrder: Int
    package var unexpected: Int
    package var resentCopies: Int
    package var caughtUp: Bool
    package var notVerified: Int
    package var reread: Int
    package var sharedPositions: Int
    package var reusedPositions: Int
    package var lateAcknowledgements: Int
    package var received: Int

    package init(_ v: ReadBackVerifier.Result, run: Int64) {
        (runId, acknowledged, read, lost, duplicated, outOfOrder, unexpected) = (run, v.acknowledged, v.read, v.lost, v.duplicated, v.outOfOrder, v.unexpected)
        (resentCopies, caughtUp, notVerified, reread) = (v.resentCopies, v.caughtUp, v.notVerified, v.reread)
        (sharedPositions, reusedPositions, lateAcknowledgements, received) = (v.sharedPositions, v.reusedPositions, v.lateAcknowledgements, v.received)
    }

    /// The verdict, with `examples`.
    package func result(examples: [ReadBackVerifier.Example]) -> ReadBackVerifier.Result {
        var v = ReadBackVerifier.Result()
        (v.acknowledged, v.read, v.lost, v.duplicated, v.outOfOrder, v.unexpected) = (acknowledged, read, lost, duplicated, outOfOrder, unexpected)
        (v.resentCopies, v.caughtUp, v.notVerified, v.reread) = (resentCopies, caughtUp, notVerified, reread)
        (v.sharedPositions, v.reusedPositions, v.lateAcknowledgements, v.received) = (sharedPositions, reusedPositions, lateAcknowledgements, received)
        v.examples = examples
        return v
    }
}

/// `verification_examples`: up to five of each kind of finding.
package struct VerificationExampleRow: RunTableRow {
    package static let databaseTableName = "verification_examples"
    package var runId: Int64
    package var kind: String
    package var eventType: String?
    package var partitionKey: String
    package var shardId: String
    package var sequenceNumber: String
    package var subSequenceNumber: Int
    package var otherEventType: String?
    package var otherPartitionKey: String?

    package init(_ e: ReadBackVerifier.Example, run: Int64) {
        (runId, kind, eventType, partitionKey, shardId) = (run, e.kind, e.eventType, e.partitionKey, e.shardId)
        (sequenceNumber, subSequenceNumber, otherEventType, otherPartitionKey) = (e.sequenceNumber, e.subSequenceNumber, e.otherEventType, e.otherPartitionKey)
    }

    package var example: ReadBackVerifier.Example {
        ReadBackVerifier.Example(
            kind: kind, eventType: eventType, partitionKey: partitionKey, shardId: shardId, sequenceNumber: sequenceNumber,
            subSequenceNumber: subSequenceNumber, otherEventType: otherEventType, otherPartitionKey: otherPartitionKey)
    }
}

/// `lease_shards` (schema v7): with lease-sharing workers (`consume.workers`), per shard, the
/// workers that read it in turn (comma-separated), how often it changed hands, the longest a
/// record waited in the stream before a worker received it, and records received again at a
/// position already received (processed twice).
package struct LeaseShardRow: RunTableRow {
    package static let databaseTableName = "lease_shards"
    package var runId: Int64
    package var shardId: String
    package var workers: String
    package var ownerChanges: Int
    package var longestUnreadMs: Double
    package var reprocessed: Int
}

extension MetricsStore {
    static func registerLeaseTables(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v7") { db in
            try db.create(table: LeaseShardRow.databaseTableName) { t in
                t.column("run_id", .integer).notNull().references("runs", onDelete: .cascade)
                t.column("shard_id", .text).notNull()
                t.column("workers", .text).notNull()
                t.column("owner_changes", .integer).notNull()
                t.column("longest_unread_ms", .double).notNull()
                t.column("reprocessed", .integer).notNull()
            }
            try db.create(index: "lease_shards_run", on: LeaseShardRow.databaseTableName, columns: ["run_id"])
            // What a scenario's consume.fault did ("worker-1 killed at ...").
            try db.alter(table: "runs") { t in t.add(column: "lease_fault", .text) }
        }
    }

    /// Stores the lease-sharing workers' figures of a run.
    package func write(leases rows: [LeaseShardRow], fault: String?) async throws {
        try await pool.write { db in
            for row in rows { try row.insert(db) }
            if let fault, let run = rows.first?.runId {
                try db.execute(sql: "UPDATE runs SET lease_fault = ? WHERE id = ?", arguments: [fault, run])
            }
        }
    }
}
