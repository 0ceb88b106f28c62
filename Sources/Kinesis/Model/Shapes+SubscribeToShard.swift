import Foundation

// SubscribeToShard (enhanced fan-out): a registered consumer's push subscription to one shard,
// answered with a stream of events for up to five minutes.

/// The `StartingPosition` shape of the Kinesis API: where a subscription starts:
/// `AT_SEQUENCE_NUMBER`, `AFTER_SEQUENCE_NUMBER`, `TRIM_HORIZON`, `LATEST` or `AT_TIMESTAMP`, with the number or time the type needs.
public struct SubscribeStartingPosition: Codable, Sendable, Hashable {
    /// `Type` on the wire.
    public var type: ShardIteratorType
    /// `SequenceNumber` on the wire (AT_ and AFTER_SEQUENCE_NUMBER).
    public var sequenceNumber: String?
    /// `Timestamp` on the wire (AT_TIMESTAMP).
    public var timestamp: Date?
    /// Makes the shape from its members; nil members are left out of the request.
    public init(type: ShardIteratorType, sequenceNumber: String? = nil, timestamp: Date? = nil) {
        self.type = type
        self.sequenceNumber = sequenceNumber
        self.timestamp = timestamp
    }

    enum CodingKeys: String, CodingKey {
        case type = "Type"
        case sequenceNumber = "SequenceNumber"
        case timestamp = "Timestamp"
    }
}

/// The `SubscribeToShardInput` shape of the Kinesis API.
public struct SubscribeToShardInput: Codable, Sendable, Hashable {
    /// `ConsumerARN` on the wire: a consumer registered with RegisterStreamConsumer.
    public var consumerARN: String
    /// `ShardId` on the wire.
    public var shardId: String
    /// `StartingPosition` on the wire.
    public var startingPosition: SubscribeStartingPosition
    /// Makes the shape from its members.
    public init(consumerARN: String, shardId: String, startingPosition: SubscribeStartingPosition) {
        self.consumerARN = consumerARN
        self.shardId = shardId
        self.startingPosition = startingPosition
    }

    enum CodingKeys: String, CodingKey {
        case consumerARN = "ConsumerARN"
        case shardId = "ShardId"
        case startingPosition = "StartingPosition"
    }
}

/// One event of a subscription: the records since the last one, where to continue from, and,
/// at a closed shard's end, its children.
public struct SubscribeToShardEvent: Codable, Sendable, Hashable {
    /// `Records` on the wire, in shard order (KPL aggregates as they were written).
    public var records: [Record]
    /// `ContinuationSequenceNumber` on the wire: subscribe again AFTER_SEQUENCE_NUMBER this
    /// number to carry on without a gap. Absent at the end of a closed shard.
    public var continuationSequenceNumber: String?
    /// `MillisBehindLatest` on the wire.
    public var millisBehindLatest: Int
    /// `ChildShards` on the wire: set once a closed shard has been read to its end.
    public var childShards: [ChildShard]?
    /// Makes the shape from its members.
    public init(records: [Record], continuationSequenceNumber: String?, millisBehindLatest: Int, childShards: [ChildShard]? = nil) {
        self.records = records
        self.continuationSequenceNumber = continuationSequenceNumber
        self.millisBehindLatest = millisBehindLatest
        self.childShards = childShards
    }
}

/// The answer to SubscribeToShard: the events, for as long as the subscription lasts (five
/// minutes, or until another subscription of the same consumer to the same shard takes over,
/// or the shard ends). An error ends the sequence with the ``KinesisError`` AWS would send.
public struct SubscribeToShardOutput: Sendable {
    /// The events, oldest first.
    public var events: AsyncThrowingStream<SubscribeToShardEvent, any Error>
    /// Wraps a stream of events.
    public init(events: AsyncThrowingStream<SubscribeToShardEvent, any Error>) { self.events = events }
}
