import Foundation
import GRDB

/// A row of `runs`, read and written as a record (the columns are documented in
/// `Reports/README.md`). JSON columns stay text here; their readers decode them.
package struct RunRow: Codable, Sendable, FetchableRecord, MutablePersistableRecord {
    package static let databaseTableName = "runs"
    package static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    package static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    package var id: Int64?
    package var scenario: String
    package var scenarioPath: String?
    package var scenarioJson: String
    package var target: String
    package var stream: String
    package var publisher: String
    package var seed: Int64
    package var eventTypes: String
    package var shardMap: String
    package var thresholds: String
    package var plannedEvents: Int
    package var plannedSeconds: Double
    package var peakRate: Double?
    package var maxInFlight: Int
    package var startedAt: String
    package var endedAt: String?
    package var elapsedSeconds: Double?
    package var generationSeconds: Double?
    package var status: RunStatus
    package var exitCode: Int?
    package var ownerHost: String?
    package var ownerPid: Int64?
    package var ownerStarted: String?
    package var scenarioSha256: String?
    package var scenarioBytes: Int?
    package var counted: String?
    package var problem: String?
    package var consume: String?
    package var segment: String?
    package var lateStartSeconds: Double?
    package var mergedFrom: String?
    /// What a scenario's `consume.fault` did to a lease-sharing worker (schema v7).
    package var leaseFault: String? = nil

    package mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// `started_at` as a date (ISO 8601, whole seconds).
    package var startDate: Date? { ISO8601DateFormatter().date(from: startedAt) }

    /// The run `id` of `db`, or nil.
    static func find(_ db: Database, _ id: Int64) throws -> RunRow? {
        try RunRow.filter(Column("id") == id).fetchOne(db)
    }

    /// The newest run of `db`, or nil.
    static func latest(_ db: Database) throws -> RunRow? {
        try RunRow.order(Column("id").desc).fetchOne(db)
    }
}
