import Foundation
import Kinesis

/// What an app publishes through: the NestJS module's `publish(event, partitionKey)` and
/// batch publishing. Production code depends on this protocol; tests swap in
/// `RecordingPublisher` from `KinesisTesting`.
public protocol EventPublisher: Sendable {
    /// Encodes `event` as JSON and publishes it.
    func publish<Event: Encodable & Sendable>(_ event: Event, partitionKey: String) async throws -> PublishResult

    /// Publishes raw bytes; an explicit hash key, when given, picks the shard instead of the key's MD5.
    func publish(data: Data, partitionKey: String, explicitHashKey: String?) async throws -> PublishResult

    /// Publishes many records; the result tells the fate of every entry, in order.
    func publishBatch(_ entries: [PublishEntry]) async throws -> BatchPublishResult
}

extension EventPublisher {
    /// Publishes raw bytes, routed by the partition key's MD5.
    public func publish(data: Data, partitionKey: String) async throws -> PublishResult {
        try await publish(data: data, partitionKey: partitionKey, explicitHashKey: nil)
    }
}

/// Where a published record landed.
public struct PublishResult: Sendable, Hashable {
    /// The shard it landed on.
    public var shardId: String
    /// Its sequence number in that shard (a 56-digit string).
    public var sequenceNumber: String
    /// Its index inside the KPL aggregate it was sent in (0 for a record sent on its own): with
    /// the shard and sequence number, where a consumer finds it after deaggregation.
    public var subSequenceNumber: Int
    /// A landing place.
    public init(shardId: String, sequenceNumber: String, subSequenceNumber: Int = 0) {
        self.shardId = shardId
        self.sequenceNumber = sequenceNumber
        self.subSequenceNumber = subSequenceNumber
    }

    /// The same place, at `index` inside an aggregate of `count` records.
    func inAggregate(index: Int, count: Int) -> PublishResult {
        PublishResult(shardId: shardId, sequenceNumber: sequenceNumber, subSequenceNumber: count > 1 ? index : 0)
    }
}

/// One record of a batch.
public struct PublishEntry: Sendable, Hashable {
    /// The record's bytes.
    public var data: Data
    /// Its partition key (1 to 256 characters).
    public var partitionKey: String
    /// A hash key that picks the shard instead of the key's MD5.
    public var explicitHashKey: String?
    /// An entry of raw bytes.
    public init(data: Data, partitionKey: String, explicitHashKey: String? = nil) {
        self.data = data
        self.partitionKey = partitionKey
        self.explicitHashKey = explicitHashKey
    }

    /// An entry holding `event` encoded as JSON.
    public init(_ event: some Encodable, partitionKey: String, encoder: JSONEncoder = JSONEncoder()) throws {
        self.init(data: try encoder.encode(event), partitionKey: partitionKey)
    }
}

/// The fate of every entry of a batch, in the order given.
public struct BatchPublishResult: Sendable, Hashable {
    /// What happened to one entry.
    public enum Outcome: Sendable, Hashable {
        case published(PublishResult)
        /// The entry was not published: the last error code and message, and how many attempts were made.
        case failed(code: String, message: String, attempts: Int)
    }

    /// One outcome per entry, in the order given.
    public var outcomes: [Outcome]
    /// A result made of `outcomes`.
    public init(outcomes: [Outcome]) { self.outcomes = outcomes }

    /// Entries that landed.
    public var publishedCount: Int { outcomes.filter { if case .published = $0 { true } else { false } }.count }
    /// Entries that did not.
    public var failedCount: Int { outcomes.count - publishedCount }
}

/// What order a publisher keeps among the records of one partition key.
public struct RecordOrdering: Sendable, Hashable, CustomStringConvertible {
    private let name: String
    /// Records of one partition key become readable in the order they were handed over,
    /// through throttling, partial failures, retries and reshards: no two requests under way
    /// carry the same key, and a record being resent holds back the later records of its key
    /// (other keys go on). Records of one key inside one aggregate keep their order for free,
    /// since an aggregate lands or fails whole.
    public static let perKey = RecordOrdering(name: "per-key")
    /// No promise: requests complete in any order and a resent record lands after later ones,
    /// for the last percent of throughput.
    public static let none = RecordOrdering(name: "none")
    /// `per-key` or `none`.
    public var description: String { name }
}
