import Foundation
import Synchronization

/// Where a consumer resumes a shard: the position of the last record processed (or
/// ``ExtendedSequenceNumber/shardEnd`` once a closed shard is finished).
public struct Checkpoint: Sendable, Hashable, Codable {
    public var position: ExtendedSequenceNumber
    /// Arrival time of the checkpointed record: if retention trims past it, how much was skipped.
    public var arrival: Date?
    public var updatedAt: Date

    public init(position: ExtendedSequenceNumber, arrival: Date? = nil, updatedAt: Date = Date()) {
        self.position = position
        self.arrival = arrival
        self.updatedAt = updatedAt
    }
}

/// Checkpoints keyed by application name, stream and shard. A store that cannot be read
/// throws: a consumer never silently restarts from TRIM_HORIZON or LATEST.
public protocol CheckpointStore: Sendable {
    func checkpoint(application: String, stream: String, shardId: String) async throws -> Checkpoint?
    func save(_ checkpoint: Checkpoint, application: String, stream: String, shardId: String) async throws
}

/// Checkpoints in memory: for tests, and for consumers that may start over on restart.
public final class InMemoryCheckpointStore: CheckpointStore {
    private let entries = Mutex<[String: Checkpoint]>([:])

    public init() {}

    static func key(_ application: String, _ stream: String, _ shard: String) -> String { "\(application)\u{1F}\(stream)\u{1F}\(shard)" }

    public func checkpoint(application: String, stream: String, shardId: String) async throws -> Checkpoint? {
        entries.withLock { $0[Self.key(application, stream, shardId)] }
    }

    public func save(_ checkpoint: Checkpoint, application: String, stream: String, shardId: String) async throws {
        entries.withLock { $0[Self.key(application, stream, shardId)] = checkpoint }
    }

    /// Every checkpoint of an application and stream, by shard.
    public func all(application: String, stream: String) -> [String: Checkpoint] {
        let prefix = Self.key(application, stream, "")
        return entries.withLock { entries in
            Dictionary(uniqueKeysWithValues: entries.filter { $0.key.hasPrefix(prefix) }.map { (String($0.key.dropFirst(prefix.count)), $0.value) })
        }
    }
}

/// A checkpoint store failure, naming the file.
public struct CheckpointStoreError: Error, Sendable, CustomStringConvertible {
    public var description: String
    /// An error with its sentence, which names the store.
    public init(description: String) { self.description = description }
}
