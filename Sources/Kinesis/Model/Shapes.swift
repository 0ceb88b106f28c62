import Foundation

// The Kinesis Data Streams wire model (API version 2013-12-02). Types mirror the JSON shapes;
// property names are the lowerCamelCase form of the wire names. Sequence numbers and hash keys
// stay decimal strings: real sequence numbers are 56 digits and hash keys are 128-bit.

/// Whether a stream's capacity is managed by AWS (on-demand) or set in shards (provisioned).
public struct StreamMode: RawRepresentable, Codable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let provisioned = StreamMode(rawValue: "PROVISIONED")
    public static let onDemand = StreamMode(rawValue: "ON_DEMAND")
    public var description: String { rawValue }
}

/// The status of a stream.
public struct StreamStatus: RawRepresentable, Codable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let creating = StreamStatus(rawValue: "CREATING")
    public static let deleting = StreamStatus(rawValue: "DELETING")
    public static let active = StreamStatus(rawValue: "ACTIVE")
    public static let updating = StreamStatus(rawValue: "UPDATING")
    public var description: String { rawValue }
}

/// Where a shard iterator starts reading.
public struct ShardIteratorType: RawRepresentable, Codable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let atSequenceNumber = ShardIteratorType(rawValue: "AT_SEQUENCE_NUMBER")
    public static let afterSequenceNumber = ShardIteratorType(rawValue: "AFTER_SEQUENCE_NUMBER")
    public static let trimHorizon = ShardIteratorType(rawValue: "TRIM_HORIZON")
    public static let latest = ShardIteratorType(rawValue: "LATEST")
    public static let atTimestamp = ShardIteratorType(rawValue: "AT_TIMESTAMP")
    public var description: String { rawValue }
}

/// `{"StreamMode": "..."}`.
public struct StreamModeDetails: Codable, Sendable, Hashable {
    public var streamMode: StreamMode
    public init(streamMode: StreamMode) { self.streamMode = streamMode }

    enum CodingKeys: String, CodingKey {
        case streamMode = "StreamMode"
    }
}

/// An inclusive range of 128-bit hash keys, as decimal strings.
public struct HashKeyRange: Codable, Sendable, Hashable {
    public var startingHashKey: String
    public var endingHashKey: String
    public init(startingHashKey: String, endingHashKey: String) {
        self.startingHashKey = startingHashKey
        self.endingHashKey = endingHashKey
    }

    enum CodingKeys: String, CodingKey {
        case startingHashKey = "StartingHashKey"
        case endingHashKey = "EndingHashKey"
    }
}

/// The sequence numbers a shard holds; a closed shard has an ending sequence number.
public struct SequenceNumberRange: Codable, Sendable, Hashable {
    public var startingSequenceNumber: String
    public var endingSequenceNumber: String?
    public init(startingSequenceNumber: String, endingSequenceNumber: String? = nil) {
        self.startingSequenceNumber = startingSequenceNumber
        self.endingSequenceNumber = endingSequenceNumber
    }

    enum CodingKeys: String, CodingKey {
        case startingSequenceNumber = "StartingSequenceNumber"
        case endingSequenceNumber = "EndingSequenceNumber"
    }
}

/// A shard of a stream.
public struct Shard: Codable, Sendable, Hashable {
    public var shardId: String
    public var parentShardId: String?
    public var adjacentParentShardId: String?
    public var hashKeyRange: HashKeyRange
    public var sequenceNumberRange: SequenceNumberRange

    public init(
        shardId: String, parentShardId: String? = nil, adjacentParentShardId: String? = nil,
        hashKeyRange: HashKeyRange, sequenceNumberRange: SequenceNumberRange
    ) {
        self.shardId = shardId
        self.parentShardId = parentShardId
        self.adjacentParentShardId = adjacentParentShardId
        self.hashKeyRange = hashKeyRange
        self.sequenceNumberRange = sequenceNumberRange
    }

    /// A shard is open until it is split or merged; only open shards receive new records.
    public var isOpen: Bool { sequenceNumberRange.endingSequenceNumber == nil }

    enum CodingKeys: String, CodingKey {
        case shardId = "ShardId"
        case parentShardId = "ParentShardId"
        case adjacentParentShardId = "AdjacentParentShardId"
        case hashKeyRange = "HashKeyRange"
        case sequenceNumberRange = "SequenceNumberRange"
    }
}

/// A child shard named by GetRecords when a closed parent is drained.
public struct ChildShard: Codable, Sendable, Hashable {
    public var shardId: String
    public var parentShards: [String]
    public var hashKeyRange: HashKeyRange
    public init(shardId: String, parentShards: [String], hashKeyRange: HashKeyRange) {
        self.shardId = shardId
        self.parentShards = parentShards
        self.hashKeyRange = hashKeyRange
    }

    enum CodingKeys: String, CodingKey {
        case shardId = "ShardId"
        case parentShards = "ParentShards"
        case hashKeyRange = "HashKeyRange"
    }
}

// MARK: - Stream lifecycle

public struct CreateStreamInput: Codable, Sendable, Hashable {
    public var streamName: String
    /// Required for provisioned streams; must be absent for on-demand ones.
    public var shardCount: Int?
    public var streamModeDetails: StreamModeDetails?
    public var tags: [String: String]?

    public init(streamName: String, shardCount: Int? = nil, mode: StreamMode? = nil, tags: [String: String]? = nil) {
        self.streamName = streamName
        self.shardCount = shardCount
        self.streamModeDetails = mode.map(StreamModeDetails.init(streamMode:))
        self.tags = tags
    }

    enum CodingKeys: String, CodingKey {
        case streamName = "StreamName"
        case shardCount = "ShardCount"
        case streamModeDetails = "StreamModeDetails"
        case tags = "Tags"
    }
}

public struct DeleteStreamInput: Codable, Sendable, Hashable {
    public var streamName: String
    public var enforceConsumerDeletion: Bool?
    public init(streamName: String, enforceConsumerDeletion: Bool? = nil) {
        self.streamName = streamName
        self.enforceConsumerDeletion = enforceConsumerDeletion
    }

    enum CodingKeys: String, CodingKey {
        case streamName = "StreamName"
        case enforceConsumerDeletion = "EnforceConsumerDeletion"
    }
}

public struct DescribeStreamInput: Codable, Sendable, Hashable {
    public var streamName: String
    public var limit: Int?
    public var exclusiveStartShardId: String?
    public init(streamName: String, limit: Int? = nil, exclusiveStartShardId: String? = nil) {
        self.streamName = streamName
        self.limit = limit
        self.exclusiveStartShardId = exclusiveStartShardId
    }

    enum CodingKeys: String, CodingKey {
        case streamName = "StreamName"
        case limit = "Limit"
        case exclusiveStartShardId = "ExclusiveStartShardId"
    }
}

public struct StreamDescription: Codable, Sendable, Hashable {
    public var streamName: String
    public var streamARN: String?
    public var streamStatus: StreamStatus
    public var streamModeDetails: StreamModeDetails?
    public var shards: [Shard]
    public var hasMoreShards: Bool
    public var retentionPeriodHours: Int
    public var streamCreationTimestamp: Date?
    public var encryptionType: String?

    public init(
        streamName: String, streamARN: String?, streamStatus: StreamStatus, streamModeDetails: StreamModeDetails?,
        shards: [Shard], hasMoreShards: Bool, retentionPeriodHours: Int, streamCreationTimestamp: Date?,
        encryptionType: String? = nil
    ) {
        self.streamName = streamName
        self.streamARN = streamARN
        self.streamStatus = streamStatus
        self.streamModeDetails = streamModeDetails
        self.shards = shards
        self.hasMoreShards = hasMoreShards
        self.retentionPeriodHours = retentionPeriodHours
        self.streamCreationTimestamp = streamCreationTimestamp
        self.encryptionType = encryptionType
    }

    enum CodingKeys: String, CodingKey {
        case streamName = "StreamName"
        case streamARN = "StreamARN"
        case streamStatus = "StreamStatus"
        case streamModeDetails = "StreamModeDetails"
        case shards = "Shards"
        case hasMoreShards = "HasMoreShards"
        case retentionPeriodHours = "RetentionPeriodHours"
        case streamCreationTimestamp = "StreamCreationTimestamp"
        case encryptionType = "EncryptionType"
    }
}

public struct DescribeStreamOutput: Codable, Sendable, Hashable {
    public var streamDescription: StreamDescription
    public init(streamDescription: StreamDescription) { self.streamDescription = streamDescription }

    enum CodingKeys: String, CodingKey {
        case streamDescription = "StreamDescription"
    }
}

public struct DescribeStreamSummaryInput: Codable, Sendable, Hashable {
    public var streamName: String
    public init(streamName: String) { self.streamName = streamName }

    enum CodingKeys: String, CodingKey {
        case streamName = "StreamName"
    }
}

public struct StreamDescriptionSummary: Codable, Sendable, Hashable {
    public var streamName: String
    public var streamARN: String?
    public var streamStatus: StreamStatus
    public var streamModeDetails: StreamModeDetails?
    public var retentionPeriodHours: Int
    public var streamCreationTimestamp: Date?
    public var openShardCount: Int
    public var consumerCount: Int?
    public var encryptionType: String?

    public init(
        streamName: String, streamARN: String?, streamStatus: StreamStatus, streamModeDetails: StreamModeDetails?,
        retentionPeriodHours: Int, streamCreationTimestamp: Date?, openShardCount: Int, consumerCount: Int? = nil,
        encryptionType: String? = nil
    ) {
        self.streamName = streamName
        self.streamARN = streamARN
        self.streamStatus = streamStatus
        self.streamModeDetails = streamModeDetails
        self.retentionPeriodHours = retentionPeriodHours
        self.streamCreationTimestamp = streamCreationTimestamp
        self.openShardCount = openShardCount
        self.consumerCount = consumerCount
        self.encryptionType = encryptionType
    }

    enum CodingKeys: String, CodingKey {
        case streamName = "StreamName"
        case streamARN = "StreamARN"
        case streamStatus = "StreamStatus"
        case streamModeDetails = "StreamModeDetails"
        case retentionPeriodHours = "RetentionPeriodHours"
        case streamCreationTimestamp = "StreamCreationTimestamp"
        case openShardCount = "OpenShardCount"
        case consumerCount = "ConsumerCount"
        case encryptionType = "EncryptionType"
    }
}

public struct DescribeStreamSummaryOutput: Codable, Sendable, Hashable {
    public var streamDescriptionSummary: StreamDescriptionSummary
    public init(streamDescriptionSummary: StreamDescriptionSummary) {
        self.streamDescriptionSummary = streamDescriptionSummary
    }

    enum CodingKeys: String, CodingKey {
        case streamDescriptionSummary = "StreamDescriptionSummary"
    }
}

public struct ListStreamsInput: Codable, Sendable, Hashable {
    public var limit: Int?
    public var exclusiveStartStreamName: String?
    public var nextToken: String?
    public init(limit: Int? = nil, exclusiveStartStreamName: String? = nil, nextToken: String? = nil) {
        self.limit = limit
        self.exclusiveStartStreamName = exclusiveStartStreamName
        self.nextToken = nextToken
    }

    enum CodingKeys: String, CodingKey {
        case limit = "Limit"
        case exclusiveStartStreamName = "ExclusiveStartStreamName"
        case nextToken = "NextToken"
    }
}

public struct ListStreamsOutput: Codable, Sendable, Hashable {
    public var streamNames: [String]
    public var hasMoreStreams: Bool
    public var nextToken: String?
    public init(streamNames: [String], hasMoreStreams: Bool, nextToken: String? = nil) {
        self.streamNames = streamNames
        self.hasMoreStreams = hasMoreStreams
        self.nextToken = nextToken
    }

    enum CodingKeys: String, CodingKey {
        case streamNames = "StreamNames"
        case hasMoreStreams = "HasMoreStreams"
        case nextToken = "NextToken"
    }
}

/// Which shards ListShards returns.
public struct ShardFilter: Codable, Sendable, Hashable {
    public struct FilterType: RawRepresentable, Codable, Sendable, Hashable {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public static let afterShardId = FilterType(rawValue: "AFTER_SHARD_ID")
        public static let atTrimHorizon = FilterType(rawValue: "AT_TRIM_HORIZON")
        public static let fromTrimHorizon = FilterType(rawValue: "FROM_TRIM_HORIZON")
        public static let atLatest = FilterType(rawValue: "AT_LATEST")
        public static let atTimestamp = FilterType(rawValue: "AT_TIMESTAMP")
        public static let fromTimestamp = FilterType(rawValue: "FROM_TIMESTAMP")
    }
    public var type: FilterType
    public var shardId: String?
    public var timestamp: Date?
    public init(type: FilterType, shardId: String? = nil, timestamp: Date? = nil) {
        self.type = type
        self.shardId = shardId
        self.timestamp = timestamp
    }

    enum CodingKeys: String, CodingKey {
        case type = "Type"
        case shardId = "ShardId"
        case timestamp = "Timestamp"
    }
}

public struct ListShardsInput: Codable, Sendable, Hashable {
    /// Absent when `nextToken` is given: the token carries the stream.
    public var streamName: String?
    public var nextToken: String?
    public var exclusiveStartShardId: String?
    public var maxResults: Int?
    public var shardFilter: ShardFilter?
    public init(
        streamName: String? = nil, nextToken: String? = nil, exclusiveStartShardId: String? = nil,
        maxResults: Int? = nil, shardFilter: ShardFilter? = nil
    ) {
        self.streamName = streamName
        self.nextToken = nextToken
        self.exclusiveStartShardId = exclusiveStartShardId
        self.maxResults = maxResults
        self.shardFilter = shardFilter
    }

    enum CodingKeys: String, CodingKey {
        case streamName = "StreamName"
        case nextToken = "NextToken"
        case exclusiveStartShardId = "ExclusiveStartShardId"
        case maxResults = "MaxResults"
        case shardFilter = "ShardFilter"
    }
}

public struct ListShardsOutput: Codable, Sendable, Hashable {
    public var shards: [Shard]
    public var nextToken: String?
    public init(shards: [Shard], nextToken: String? = nil) {
        self.shards = shards
        self.nextToken = nextToken
    }

    enum CodingKeys: String, CodingKey {
        case shards = "Shards"
        case nextToken = "NextToken"
    }
}

// MARK: - Writing

public struct PutRecordInput: Codable, Sendable, Hashable {
    public var streamName: String
    public var data: Data
    public var partitionKey: String
    public var explicitHashKey: String?
    public var sequenceNumberForOrdering: String?
    public init(
        streamName: String, data: Data, partitionKey: String, explicitHashKey: String? = nil,
        sequenceNumberForOrdering: String? = nil
    ) {
        self.streamName = streamName
        self.data = data
        self.partitionKey = partitionKey
        self.explicitHashKey = explicitHashKey
        self.sequenceNumberForOrdering = sequenceNumberForOrdering
    }

    enum CodingKeys: String, CodingKey {
        case streamName = "StreamName"
        case data = "Data"
        case partitionKey = "PartitionKey"
        case explicitHashKey = "ExplicitHashKey"
        case sequenceNumberForOrdering = "SequenceNumberForOrdering"
    }
}

public struct PutRecordOutput: Codable, Sendable, Hashable {
    public var shardId: String
    public var sequenceNumber: String
    public var encryptionType: String?
    public init(shardId: String, sequenceNumber: String, encryptionType: String? = nil) {
        self.shardId = shardId
        self.sequenceNumber = sequenceNumber
        self.encryptionType = encryptionType
    }

    enum CodingKeys: String, CodingKey {
        case shardId = "ShardId"
        case sequenceNumber = "SequenceNumber"
        case encryptionType = "EncryptionType"
    }
}

public struct PutRecordsRequestEntry: Codable, Sendable, Hashable {
    public var data: Data
    public var explicitHashKey: String?
    public var partitionKey: String
    public init(data: Data, partitionKey: String, explicitHashKey: String? = nil) {
        self.data = data
        self.partitionKey = partitionKey
        self.explicitHashKey = explicitHashKey
    }

    enum CodingKeys: String, CodingKey {
        case data = "Data"
        case explicitHashKey = "ExplicitHashKey"
        case partitionKey = "PartitionKey"
    }
}

public struct PutRecordsInput: Codable, Sendable, Hashable {
    public var streamName: String
    public var records: [PutRecordsRequestEntry]
    public init(streamName: String, records: [PutRecordsRequestEntry]) {
        self.streamName = streamName
        self.records = records
    }

    enum CodingKeys: String, CodingKey {
        case streamName = "StreamName"
        case records = "Records"
    }
}

/// One entry of a PutRecords answer, in request order: a shard and sequence number, or an error.
public struct PutRecordsResultEntry: Codable, Sendable, Hashable {
    public var sequenceNumber: String?
    public var shardId: String?
    public var errorCode: String?
    public var errorMessage: String?
    public init(sequenceNumber: String? = nil, shardId: String? = nil, errorCode: String? = nil, errorMessage: String? = nil) {
        self.sequenceNumber = sequenceNumber
        self.shardId = shardId
        self.errorCode = errorCode
        self.errorMessage = errorMessage
    }
    public var isFailure: Bool { errorCode != nil }

    enum CodingKeys: String, CodingKey {
        case sequenceNumber = "SequenceNumber"
        case shardId = "ShardId"
        case errorCode = "ErrorCode"
        case errorMessage = "ErrorMessage"
    }
}

public struct PutRecordsOutput: Codable, Sendable, Hashable {
    public var failedRecordCount: Int?
    public var records: [PutRecordsResultEntry]
    public var encryptionType: String?
    public init(failedRecordCount: Int?, records: [PutRecordsResultEntry], encryptionType: String? = nil) {
        self.failedRecordCount = failedRecordCount
        self.records = records
        self.encryptionType = encryptionType
    }

    enum CodingKeys: String, CodingKey {
        case failedRecordCount = "FailedRecordCount"
        case records = "Records"
        case encryptionType = "EncryptionType"
    }
}

// MARK: - Reading

public struct GetShardIteratorInput: Codable, Sendable, Hashable {
    public var streamName: String
    public var shardId: String
    public var shardIteratorType: ShardIteratorType
    public var startingSequenceNumber: String?
    public var timestamp: Date?
    public init(
        streamName: String, shardId: String, shardIteratorType: ShardIteratorType,
        startingSequenceNumber: String? = nil, timestamp: Date? = nil
    ) {
        self.streamName = streamName
        self.shardId = shardId
        self.shardIteratorType = shardIteratorType
        self.startingSequenceNumber = startingSequenceNumber
        self.timestamp = timestamp
    }

    enum CodingKeys: String, CodingKey {
        case streamName = "StreamName"
        case shardId = "ShardId"
        case shardIteratorType = "ShardIteratorType"
        case startingSequenceNumber = "StartingSequenceNumber"
        case timestamp = "Timestamp"
    }
}

public struct GetShardIteratorOutput: Codable, Sendable, Hashable {
    public var shardIterator: String?
    public init(shardIterator: String?) { self.shardIterator = shardIterator }

    enum CodingKeys: String, CodingKey {
        case shardIterator = "ShardIterator"
    }
}

public struct GetRecordsInput: Codable, Sendable, Hashable {
    public var shardIterator: String
    public var limit: Int?
    public init(shardIterator: String, limit: Int? = nil) {
        self.shardIterator = shardIterator
        self.limit = limit
    }

    enum CodingKeys: String, CodingKey {
        case shardIterator = "ShardIterator"
        case limit = "Limit"
    }
}

/// A record as GetRecords returns it.
public struct Record: Codable, Sendable, Hashable {
    public var sequenceNumber: String
    public var approximateArrivalTimestamp: Date?
    public var data: Data
    public var partitionKey: String
    public var encryptionType: String?
    public init(
        sequenceNumber: String, approximateArrivalTimestamp: Date?, data: Data, partitionKey: String,
        encryptionType: String? = nil
    ) {
        self.sequenceNumber = sequenceNumber
        self.approximateArrivalTimestamp = approximateArrivalTimestamp
        self.data = data
        self.partitionKey = partitionKey
        self.encryptionType = encryptionType
    }

    enum CodingKeys: String, CodingKey {
        case sequenceNumber = "SequenceNumber"
        case approximateArrivalTimestamp = "ApproximateArrivalTimestamp"
        case data = "Data"
        case partitionKey = "PartitionKey"
        case encryptionType = "EncryptionType"
    }
}

public struct GetRecordsOutput: Codable, Sendable, Hashable {
    public var records: [Record]
    /// Absent when the shard is closed and drained.
    public var nextShardIterator: String?
    public var millisBehindLatest: Int?
    public var childShards: [ChildShard]?
    public init(records: [Record], nextShardIterator: String?, millisBehindLatest: Int?, childShards: [ChildShard]? = nil) {
        self.records = records
        self.nextShardIterator = nextShardIterator
        self.millisBehindLatest = millisBehindLatest
        self.childShards = childShards
    }

    enum CodingKeys: String, CodingKey {
        case records = "Records"
        case nextShardIterator = "NextShardIterator"
        case millisBehindLatest = "MillisBehindLatest"
        case childShards = "ChildShards"
    }
}

// MARK: - Retention and resharding

public struct IncreaseStreamRetentionPeriodInput: Codable, Sendable, Hashable {
    public var streamName: String
    public var retentionPeriodHours: Int
    public init(streamName: String, retentionPeriodHours: Int) {
        self.streamName = streamName
        self.retentionPeriodHours = retentionPeriodHours
    }

    enum CodingKeys: String, CodingKey {
        case streamName = "StreamName"
        case retentionPeriodHours = "RetentionPeriodHours"
    }
}

public typealias DecreaseStreamRetentionPeriodInput = IncreaseStreamRetentionPeriodInput

/// How UpdateShardCount reshards; Kinesis offers only uniform scaling.
public struct ScalingType: RawRepresentable, Codable, Sendable, Hashable {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static let uniformScaling = ScalingType(rawValue: "UNIFORM_SCALING")
}

public struct UpdateShardCountInput: Codable, Sendable, Hashable {
    public var streamName: String
    public var targetShardCount: Int
    public var scalingType: ScalingType
    public init(streamName: String, targetShardCount: Int, scalingType: ScalingType = .uniformScaling) {
        self.streamName = streamName
        self.targetShardCount = targetShardCount
        self.scalingType = scalingType
    }

    enum CodingKeys: String, CodingKey {
        case streamName = "StreamName"
        case targetShardCount = "TargetShardCount"
        case scalingType = "ScalingType"
    }
}

public struct UpdateShardCountOutput: Codable, Sendable, Hashable {
    public var streamName: String?
    public var currentShardCount: Int?
    public var targetShardCount: Int?
    public var streamARN: String?
    public init(streamName: String?, currentShardCount: Int?, targetShardCount: Int?, streamARN: String? = nil) {
        self.streamName = streamName
        self.currentShardCount = currentShardCount
        self.targetShardCount = targetShardCount
        self.streamARN = streamARN
    }

    enum CodingKeys: String, CodingKey {
        case streamName = "StreamName"
        case currentShardCount = "CurrentShardCount"
        case targetShardCount = "TargetShardCount"
        case streamARN = "StreamARN"
    }
}

public struct SplitShardInput: Codable, Sendable, Hashable {
    public var streamName: String
    public var shardToSplit: String
    public var newStartingHashKey: String
    public init(streamName: String, shardToSplit: String, newStartingHashKey: String) {
        self.streamName = streamName
        self.shardToSplit = shardToSplit
        self.newStartingHashKey = newStartingHashKey
    }

    enum CodingKeys: String, CodingKey {
        case streamName = "StreamName"
        case shardToSplit = "ShardToSplit"
        case newStartingHashKey = "NewStartingHashKey"
    }
}

public struct MergeShardsInput: Codable, Sendable, Hashable {
    public var streamName: String
    public var shardToMerge: String
    public var adjacentShardToMerge: String
    public init(streamName: String, shardToMerge: String, adjacentShardToMerge: String) {
        self.streamName = streamName
        self.shardToMerge = shardToMerge
        self.adjacentShardToMerge = adjacentShardToMerge
    }

    enum CodingKeys: String, CodingKey {
        case streamName = "StreamName"
        case shardToMerge = "ShardToMerge"
        case adjacentShardToMerge = "AdjacentShardToMerge"
    }
}

public struct UpdateStreamModeInput: Codable, Sendable, Hashable {
    public var streamARN: String
    public var streamModeDetails: StreamModeDetails
    public init(streamARN: String, mode: StreamMode) {
        self.streamARN = streamARN
        self.streamModeDetails = StreamModeDetails(streamMode: mode)
    }

    enum CodingKeys: String, CodingKey {
        case streamARN = "StreamARN"
        case streamModeDetails = "StreamModeDetails"
    }
}
