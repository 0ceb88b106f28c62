import Foundation
import GRDB

/// The read-back a segmented worker hands to `merge` (schema v6, documented in
/// `Reports/README.md`): a worker reads only its share of the shards, while its events land on
/// every shard, so no worker can judge its own events. It keeps every acknowledgement and every
/// read, and `merge` matches them all together. Times are wall-clock microseconds since 1970.
package struct ReadBackAckRow: RunTableRow {
    package static let databaseTableName = "readback_acks"

    package var runId: Int64
    /// The event's index in the whole run.
    package var eventIndex: Int64
    /// Its position in the run's event types.
    package var eventType: Int
    package var partitionKey: String
    /// ``ReadBackVerifier/fingerprint(partitionKey:data:)``, the same in every process.
    package var fingerprint: Int64
    package var shardId: String
    package var sequenceNumber: String
    package var subSequenceNumber: Int
    package var intendedUs: Int64
    package var acknowledgedUs: Int64
}

/// One record a segmented worker's consumers received, in the order its shard gave them.
package struct ReadBackReadRow: RunTableRow {
    package static let databaseTableName = "readback_reads"

    package var runId: Int64
    package var shardId: String
    package var sequenceNumber: String
    package var subSequenceNumber: Int
    package var partitionKey: String
    package var fingerprint: Int64
    package var readUs: Int64
    /// Reached the stream before the run began.
    package var beforeRun: Bool
    /// Inside an aggregate the Producer sent again after a reshard (readers skip it).
    package var resentCopy: Bool
}

/// How far a segmented worker read each of its shards: when the last call that found it at its
/// tip started (nil: never), or that it was read to its end (closed).
package struct ReadBackShardRow: RunTableRow {
    package static let databaseTableName = "readback_shards"

    package var runId: Int64
    package var shardId: String
    package var caughtUpUs: Int64?
    package var finished: Bool
}

extension MetricsStore {
    static func registerReadBackTables(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("v6") { db in
            try db.create(table: ReadBackAckRow.databaseTableName) { t in
                t.column("run_id", .integer).notNull().references("runs", onDelete: .cascade)
                t.column("event_index", .integer).notNull()
                t.column("event_type", .integer).notNull()
                t.column("partition_key", .text).notNull()
                t.column("fingerprint", .integer).notNull()
                t.column("shard_id", .text).notNull()
                t.column("sequence_number", .text).notNull()
                t.column("sub_sequence_number", .integer).notNull()
                t.column("intended_us", .integer).notNull()
                t.column("acknowledged_us", .integer).notNull()
            }
            try db.create(index: "readback_acks_run", on: ReadBackAckRow.databaseTableName, columns: ["run_id"])
            try db.create(table: ReadBackReadRow.databaseTableName) { t in
                t.column("run_id", .integer).notNull().references("runs", onDelete: .cascade)
                t.column("shard_id", .text).notNull()
                t.column("sequence_number", .text).notNull()
                t.column("sub_sequence_number", .integer).notNull()
                t.column("partition_key", .text).notNull()
                t.column("fingerprint", .integer).notNull()
                t.column("read_us", .integer).notNull()
                t.column("before_run", .boolean).notNull()
                t.column("resent_copy", .boolean).notNull()
            }
            try db.create(index: "readback_reads_run", on: ReadBackReadRow.databaseTableName, columns: ["run_id", "shard_id"])
            try db.create(table: ReadBackShardRow.databaseTableName) { t in
                t.column("run_id", .integer).notNull().references("runs", onDelete: .cascade)
                t.column("shard_id", .text).notNull()
                t.column("caught_up_us", .integer)
                t.column("finished", .boolean).notNull()
            }
        }
    }

    /// Appends a segmented worker's acknowledgements and reads in one transaction.
    package func write(readBack acks: [ReadBackAckRow], _ reads: [ReadBackReadRow], shards: [ReadBackShardRow] = []) async throws {
        guard !acks.isEmpty || !reads.isEmpty || !shards.isEmpty else { return }
        try await pool.write { db in
            for row in acks { try row.insert(db) }
            for row in reads { try row.insert(db) }
            for row in shards { try row.insert(db) }
        }
    }
}
