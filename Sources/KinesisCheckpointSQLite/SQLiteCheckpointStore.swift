import Foundation
import GRDB

import KinesisConsumer

/// Checkpoints in a SQLite file (WAL), shared by the consumers of one host.
public final class SQLiteCheckpointStore: CheckpointStore {
    public let path: String
    let pool: DatabasePool

    /// Opens (creating when missing) the file; an error names it when it cannot be opened.
    public init(path: String) throws {
        self.path = path
        do {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            pool = try DatabasePool(path: path, configuration: configuration)
            var migrator = DatabaseMigrator()
            migrator.registerMigration("v1") { db in
                try db.execute(
                    sql: """
                        CREATE TABLE checkpoints (
                          application TEXT NOT NULL,
                          stream TEXT NOT NULL,
                          shard_id TEXT NOT NULL,
                          kind TEXT NOT NULL,
                          sequence_number TEXT NOT NULL,
                          sub_sequence_number INTEGER NOT NULL,
                          arrival REAL,
                          updated_at REAL NOT NULL,
                          PRIMARY KEY (application, stream, shard_id)
                        )
                        """)
            }
            try migrator.migrate(pool)
        } catch {
            throw CheckpointStoreError(description: "checkpoint database \(path): cannot be opened: \(Self.describe(error))")
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return error.message ?? "SQLite error \(error.resultCode)" }
        return "\(error)"
    }

    public func checkpoint(application: String, stream: String, shardId: String) async throws -> Checkpoint? {
        do {
            return try await pool.read { db in
                guard
                    let row = try Row.fetchOne(
                        db, sql: "SELECT * FROM checkpoints WHERE application = ? AND stream = ? AND shard_id = ?",
                        arguments: [application, stream, shardId])
                else { return nil }
                guard let kind = ExtendedSequenceNumber.Kind(rawValue: row["kind"]) else {
                    throw CheckpointStoreError(description: "unknown checkpoint kind \(String(describing: row["kind"] as String?))")
                }
                var position = ExtendedSequenceNumber(row["sequence_number"], subSequenceNumber: row["sub_sequence_number"])
                position.kind = kind
                let arrival: Double? = row["arrival"]
                return Checkpoint(
                    position: position, arrival: arrival.map { Date(timeIntervalSince1970: $0) },
                    updatedAt: Date(timeIntervalSince1970: row["updated_at"]))
            }
        } catch {
            throw CheckpointStoreError(
                description: "checkpoint database \(path): the checkpoint of \(application)/\(stream)/\(shardId) cannot be read: \(Self.describe(error))")
        }
    }

    public func save(_ checkpoint: Checkpoint, application: String, stream: String, shardId: String) async throws {
        do {
            try await pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO checkpoints (application, stream, shard_id, kind, sequence_number, sub_sequence_number, arrival, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (application, stream, shard_id) DO UPDATE SET kind = excluded.kind,
                          sequence_number = excluded.sequence_number, sub_sequence_number = excluded.sub_sequence_number,
                          arrival = excluded.arrival, updated_at = excluded.updated_at
                        """,
                    arguments: [
                        application, stream, shardId, checkpoint.position.kind.rawValue, checkpoint.position.sequenceNumber,
                        checkpoint.position.subSequenceNumber, checkpoint.arrival?.timeIntervalSince1970, checkpoint.updatedAt.timeIntervalSince1970,
                    ])
            }
        } catch {
            throw CheckpointStoreError(
                description: "checkpoint database \(path): the checkpoint of \(application)/\(stream)/\(shardId) cannot be written: \(Self.describe(error))")
        }
    }
}
