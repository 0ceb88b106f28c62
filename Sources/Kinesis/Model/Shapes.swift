import Foundation

// The Kinesis Data Streams wire model (API version 2013-12-02). Types mirror the JSON shapes;
// property names are the lowerCamelCase form of the wire names. Sequence numbers and hash keys
// stay decimal strings: real sequence numbers are 56 digits and hash keys are 128-bit.

/// Whether a stream's capacity is managed by AWS (on-demand) or set in shards (provisioned).
public struct StreamMode: RawRepresentable, Codable, Sendable, Hashable, CustomStringConvertible {
    /// The code as the wire writes it.
    public var rawValue: String
    /// Wraps a code as the wire writes it.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// `PROVISIONED` on the wire.
    public static let provisioned = StreamMode(rawValue: "PROVISIONED")
    /// `ON_DEMAND` on the wire.
    public static let onDemand = StreamMode(rawValue: "ON_DEMAND")
    /// A one-line text for logs and messages.
    public var description: String { rawValue }
}

/// The status of a stream.
public struct StreamStatus: RawRepresentable, Codable, Sendable, Hashable, CustomStringConvertible {
    /// The code as the wire writes it.
    public var rawValue: String
    /// Wraps a code as the wire writes it.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// `CREATING` on the wire.
    public static let creating = StreamStatus(rawValue: "CREATING")
    /// `DELETING` on the wire.
    public static let deleting = StreamStatus(rawValue: "DELETING")
    /// `ACTIVE` on the wire.
    public static let active = StreamStatus(rawValue: "ACTIVE")
    /// `UPDATING` on the wire.
    public static let updating = StreamStatus(rawValue: "UPDATING")
    /// A one-line text for logs and messages.
    public var description: String { rawValue }
}

/// Where a shard iterator starts reading.
public struct ShardIteratorType: RawRepresentable, Codable, Sendable, Hashable, CustomStringConvertible {
    /// The code as the wire writes it.
    public var rawValue: String
    /// Wraps a code as the wire writes it.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// `AT_SEQUENCE_NUMBER` on the wire.
    public static let atSequenceNumber = ShardIteratorType(rawValue: "AT_SEQUENCE_NUMBER")
    /// `AFTER_SEQUENCE_NUMBER` on the wire.
    public static let afterSequenceNumber = ShardIteratorType(rawValue: "AFTER_SEQUENCE_NUMBER")
    /// `TRIM_HORIZON` on the wire.
    public static let trimHorizon = ShardIteratorType(rawValue: "TRIM_HORIZON")
    /// `LATEST` on the wire.
    public static let latest = ShardIteratorType(rawValue: "LATEST")
    /// `AT_TIMESTAMP` on the wire.
    public static let atTimestamp = ShardIteratorType(rawValue: "AT_TIMESTAMP")
    /// A one-line text for logs and messages.
    public var description: String { rawValue }
}

/// `{"StreamMode": "..."}`.
public struct StreamModeDetails: Codable, Sendable, Hashable {
    /// `StreamMode` on the wire.
    public var streamMode: StreamMode
    /// Makes the shape from its members; nil members are left out of the request.
    public init(streamMode: StreamMode) { self.streamMode = streamMode }
}

/// An inclusive range of 128-bit hash keys, as decimal strings.
public struct HashKeyRange: Codable, Sendable, Hashable {
    /// `StartingHashKey` on the wire.
    public var startingHashKey: String
    /// `EndingHashKey` on the wire.
    public var endingHashKey: String
    /// Makes the shape from its members; nil members are left out of the request.
    public init(startingHashKey: String, endingHashKey: String) {
        self.startingHashKey = startingHashKey
        self.endingHashKey = endingHashKey
    }
}

/// The sequence numbers a shard holds; a closed shard has an ending sequence number.
public struct SequenceNumberRange: Codable, Sendable, Hashable {
    /// `StartingSequenceNumber` on the wire.
    public var startingSequenceNumber: String
    /// `EndingSequenceNumber` on the wire.
    public var endingSequenceNumber: String?
    /// Makes the shape from its members; nil members are left out of the request.
    public init(startingSequenceNumber: String, endingSequenceNumber: String? = nil) {
        self.startingSequenceNumber = startingSequenceNumber
        self.endingSequenceNumber = endingSequenceNumber
    }
}

/// A shard of a stream.
public struct Shard: Codable, Sendable, Hashable {
    /// `ShardId` on the wire.
    public var shardId: String
    /// `ParentShardId` on the wire.
    public var parentShardId: String?
    /// `AdjacentParentShardId` on the wire.
    public var adjacentParentShardId: String?
    /// `HashKeyRange` on the wire.
    public var hashKeyRange: HashKeyRange
    /// `SequenceNumberRange` on the wire.
    public var sequenceNumberRange: SequenceNumberRange

    /// Makes the shape from its members; nil members are left out of the request.
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
}

/// A child shard named by GetRecords when a closed parent is drained.
public struct ChildShard: Codable, Sendable, Hashable {
    /// `ShardId` on the wire.
    public var shardId: String
    /// `ParentShards` on the wire.
    public var parentShards: [String]
    /// `HashKeyRange` on the wire.
    public var hashKeyRange: HashKeyRange
    /// Makes the shape from its members; nil members are left out of the request.
    public init(shardId: String, parentShards: [String], hashKeyRange: HashKeyRange) {
        self.shardId = shardId
        self.parentShards = parentShards
        self.hashKeyRange = hashKeyRange
    }
}

// MARK: - Stream lifecycle

/// The `CreateStreamInput` shape of the Kinesis API.
public struct CreateStreamInput: Codable, Sendable, Hashable {
    /// `StreamName` on the wire.
    public var streamName: String
    /// Required for provisioned streams; must be absent for on-demand ones.
    public var shardCount: Int?
    /// `StreamModeDetails` on the wire.
    public var streamModeDetails: StreamModeDetails?
    /// `Tags` on the wire.
    public var tags: [String: String]?
    /// `MaxRecordSizeInKiB` on the wire (1,024...10,240; 1,024 when absent).
    public var maxRecordSizeInKiB: Int?
    /// `WarmThroughputMiBps` on the wire (on-demand streams).
    public var warmThroughputMiBps: Int?

    /// Makes the shape from its members; nil members are left out of the request.
    public init(
        streamName: String, shardCount: Int? = nil, mode: StreamMode? = nil, tags: [String: String]? = nil,
        maxRecordSizeInKiB: Int? = nil, warmThroughputMiBps: Int? = nil
    ) {
        self.streamName = streamName
        self.shardCount = shardCount
        self.streamModeDetails = mode.map(StreamModeDetails.init(streamMode:))
        self.tags = tags
        self.maxRecordSizeInKiB = maxRecordSizeInKiB
        self.warmThroughputMiBps = warmThroughputMiBps
    }
}

/// The `DeleteStreamInput` shape of the Kinesis API.
public struct DeleteStreamInput: Codable, Sendable, Hashable {
    /// `StreamName` on the wire.
    public var streamName: String
    /// `EnforceConsumerDeletion` on the wire.
    public var enforceConsumerDeletion: Bool?
    /// Makes the shape from its members; nil members are left out of the request.
    public init(streamName: String, enforceConsumerDeletion: Bool? = nil) {
        self.streamName = streamName
        self.enforceConsumerDeletion = enforceConsumerDeletion
    }

    enum CodingKeys: String, CodingKey {
        case streamName = "StreamName"
        case enforceConsumerDeletion = "EnforceConsumerDeletion"
    }
}

/// The `DescribeStreamInput` shape of the Kinesis API.
public struct DescribeStreamInput: Codable, Sendable, Hashable {
    /// `StreamName` on the wire.
    public var streamName: String
    /// `Limit` on the wire.
    public var limit: Int?
    /// `ExclusiveStartShardId` on the wire.
    public var exclusiveStartShardId: String?
    /// Makes the shape from its members; nil members are left out of the request.
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

/// The `EnhancedMetrics` shape of the Kinesis API.
public struct EnhancedMetrics: Codable, Sendable, Hashable {
    /// `ShardLevelMetrics` on the wire.
    public var shardLevelMetrics: [String]?
    /// Makes the shape from its members.
    public init(shardLevelMetrics: [String]? = []) { self.shardLevelMetrics = shardLevelMetrics }
}

/// The `StreamDescription` shape of the Kinesis API.
public struct StreamDescription: Codable, Sendable, Hashable {
    /// `StreamName` on the wire.
    public var streamName: String
    /// `StreamARN` on the wire.
    public var streamARN: String?
    /// `StreamStatus` on the wire.
    public var streamStatus: StreamStatus
    /// `StreamModeDetails` on the wire.
    public var streamModeDetails: StreamModeDetails?
    /// `Shards` on the wire.
    public var shards: [Shard]
    /// `HasMoreShards` on the wire.
    public var hasMoreShards: Bool
    /// `RetentionPeriodHours` on the wire.
    public var retentionPeriodHours: Int
    /// `StreamCreationTimestamp` on the wire.
    public var streamCreationTimestamp: Date?
    /// `EncryptionType` on the wire.
    public var encryptionType: String?
    /// `EnhancedMonitoring` on the wire: the shard-level metrics turned on (AWS always sends one entry).
    public var enhancedMonitoring: [EnhancedMetrics]?
    /// `KeyId` on the wire: the KMS key of an encrypted stream.
    public var keyId: String?

    /// Makes the shape from its members; nil members are left out of the request.
    public init(
        streamName: String, streamARN: String?, streamStatus: StreamStatus, streamModeDetails: StreamModeDetails?,
        shards: [Shard], hasMoreShards: Bool, retentionPeriodHours: Int, streamCreationTimestamp: Date?,
        encryptionType: String? = nil, enhancedMonitoring: [EnhancedMetrics]? = nil
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
        self.enhancedMonitoring = enhancedMonitoring
    }
}

/// The `DescribeStreamOutput` shape of the Kinesis API.
public struct DescribeStreamOutput: Codable, Sendable, Hashable {
    /// `StreamDescription` on the wire.
    public var streamDescription: StreamDescription
    /// Makes the shape from its members; nil members are left out of the request.
    public init(streamDescription: StreamDescription) { self.streamDescription = streamDescription }
}

/// The `DescribeStreamSummaryInput` shape of the Kinesis API.
public struct DescribeStreamSummaryInput: Codable, Sendable, Hashable {
    /// `StreamName` on the wire.
    public var streamName: String
    /// Makes the shape from its members; nil members are left out of the request.
    public init(streamName: String) { self.streamName = streamName }

    enum CodingKeys: String, CodingKey {
        case streamName = "StreamName"
    }
}

/// The `StreamDescriptionSummary` shape of the Kinesis API.
public struct StreamDescriptionSummary: Codable, Sendable, Hashable {
    /// `StreamName` on the wire.
    public var streamName: String
    /// `StreamARN` on the wire.
    public var streamARN: String?
    /// `StreamStatus` on the wire.
    public var streamStatus: StreamStatus
    /// `StreamModeDetails` on the wire.
    public var streamModeDetails: StreamModeDetails?
    /// `RetentionPeriodHours` on the wire.
    public var retentionPeriodHours: Int
    /// `StreamCreationTimestamp` on the wire.
    public var streamCreationTimestamp: Date?
    /// `OpenShardCount` on the wire.
    public var openShardCount: Int
    /// `ConsumerCount` on the wire.
    public var consumerCount: Int?
    /// `EncryptionType` on the wire.
    public var encryptionType: String?
    /// `EnhancedMonitoring` on the wire: the shard-level metrics turned on (AWS always sends one entry).
    public var enhancedMonitoring: [EnhancedMetrics]?
    /// `KeyId` on the wire: the KMS key of an encrypted stream.
    public var keyId: String?
    /// `MaxRecordSizeInKiB` on the wire.
    public var maxRecordSizeInKiB: Int?
    /// `WarmThroughput` on the wire (on-demand streams).
    public var warmThroughput: WarmThroughput?

    /// Makes the shape from its members; nil members are left out of the request.
    public init(
        streamName: String, streamARN: String?, streamStatus: StreamStatus, streamModeDetails: StreamModeDetails?,
        retentionPeriodHours: Int, streamCreationTimestamp: Date?, openShardCount: Int, consumerCount: Int? = nil,
        encryptionType: String? = nil, enhancedMonitoring: [EnhancedMetrics]? = nil
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
        self.enhancedMonitoring = enhancedMonitoring
    }

    enum CodingKeys: String, CodingKey {
        case enhancedMonitoring = "EnhancedMonitoring"
        case streamName = "StreamName"
        case streamARN = "StreamARN"
        case streamStatus = "StreamStatus"
        case streamModeDetails = "StreamModeDetails"
        case retentionPeriodHours = "RetentionPeriodHours"
        case streamCreationTimestamp = "StreamCreationTimestamp"
        case openShardCount = "OpenShardCount"
        case consumerCount = "ConsumerCount"
        case encryptionType = "EncryptionType"
        case keyId = "KeyId"
        case maxRecordSizeInKiB = "MaxRecordSizeInKiB"
        case warmThroughput = "WarmThroughput"
    }
}

/// The `DescribeStreamSummaryOutput` shape of the Kinesis API.
public struct DescribeStreamSummaryOutput: Codable, Sendable, Hashable {
    /// `StreamDescriptionSummary` on the wire.
    public var streamDescriptionSummary: StreamDescriptionSummary
    /// Makes the shape from its members; nil members are left out of the request.
    public init(streamDescriptionSummary: StreamDescriptionSummary) {
        self.streamDescriptionSummary = streamDescriptionSummary
    }
}

/// The `ListStreamsInput` shape of the Kinesis API.
public struct ListStreamsInput: Codable, Sendable, Hashable {
    /// `Limit` on the wire.
    public var limit: Int?
    /// `ExclusiveStartStreamName` on the wire.
    public var exclusiveStartStreamName: String?
    /// `NextToken` on the wire.
    public var nextToken: String?
    /// Makes the shape from its members; nil members are left out of the request.
    public init(limit: Int? = nil, exclusiveStartStreamName: String? = nil, nextToken: String? = nil) {
        self.limit = limit
        self.exclusiveStartStreamName = exclusiveStartStreamName
        self.nextToken = nextToken
    }
}

/// The `ListStreamsOutput` shape of the Kinesis API.
public struct ListStreamsOutput: Codable, Sendable, Hashable {
    /// `StreamNames` on the wire.
    public var streamNames: [String]
    /// `HasMoreStreams` on the wire.
    public var hasMoreStreams: Bool
    /// `NextToken` on the wire.
    public var nextToken: String?
    /// Makes the shape from its members; nil members are left out of the request.
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
    /// The `FilterType` shape of the Kinesis API.
    public struct FilterType: RawRepresentable, Codable, Sendable, Hashable {
        /// The code as the wire writes it.
        public var rawValue: String
        /// Wraps a code as the wire writes it.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// `AFTER_SHARD_ID` on the wire.
        public static let afterShardId = FilterType(rawValue: "AFTER_SHARD_ID")
        /// `AT_TRIM_HORIZON` on the wire.
        public static let atTrimHorizon = FilterType(rawValue: "AT_TRIM_HORIZON")
        /// `FROM_TRIM_HORIZON` on the wire.
        public static let fromTrimHorizon = FilterType(rawValue: "FROM_TRIM_HORIZON")
        /// `AT_LATEST` on the wire.
        public static let atLatest = FilterType(rawValue: "AT_LATEST")
        /// `AT_TIMESTAMP` on the wire.
        public static let atTimestamp = FilterType(rawValue: "AT_TIMESTAMP")
        /// `FROM_TIMESTAMP` on the wire.
        public static let fromTimestamp = FilterType(rawValue: "FROM_TIMESTAMP")
    }
    /// `Type` on the wire.
    public var type: FilterType
    /// `ShardId` on the wire.
    public var shardId: String?
    /// `Timestamp` on the wire.
    public var timestamp: Date?
    /// Makes the shape from its members; nil members are left out of the request.
    public init(type: FilterType, shardId: String? = nil, timestamp: Date? = nil) {
        self.type = type
        self.shardId = shardId
        self.timestamp = timestamp
    }
}

/// The `ListShardsInput` shape of the Kinesis API.
public struct ListShardsInput: Codable, Sendable, Hashable {
    /// Absent when `nextToken` is given: the token carries the stream.
    public var streamName: String?
    /// `NextToken` on the wire.
    public var nextToken: String?
    /// `ExclusiveStartShardId` on the wire.
    public var exclusiveStartShardId: String?
    /// `MaxResults` on the wire.
    public var maxResults: Int?
    /// `ShardFilter` on the wire.
    public var shardFilter: ShardFilter?
    /// `StreamCreationTimestamp` on the wire: tells apart streams that reused a name.
    public var streamCreationTimestamp: Date?
    /// Makes the shape from its members; nil members are left out of the request.
    public init(
        streamName: String? = nil, nextToken: String? = nil, exclusiveStartShardId: String? = nil,
        maxResults: Int? = nil, shardFilter: ShardFilter? = nil, streamCreationTimestamp: Date? = nil
    ) {
        self.streamName = streamName
        self.nextToken = nextToken
        self.exclusiveStartShardId = exclusiveStartShardId
        self.maxResults = maxResults
        self.shardFilter = shardFilter
        self.streamCreationTimestamp = streamCreationTimestamp
    }

    enum CodingKeys: String, CodingKey {
        case streamName = "StreamName"
        case nextToken = "NextToken"
        case exclusiveStartShardId = "ExclusiveStartShardId"
        case maxResults = "MaxResults"
        case shardFilter = "ShardFilter"
        case streamCreationTimestamp = "StreamCreationTimestamp"
    }
}

/// The `ListShardsOutput` shape of the Kinesis API.
public struct ListShardsOutput: Codable, Sendable, Hashable {
    /// `Shards` on the wire.
    public var shards: [Shard]
    /// `NextToken` on the wire.
    public var nextToken: String?
    /// Makes the shape from its members; nil members are left out of the request.
    public init(shards: [Shard], nextToken: String? = nil) {
        self.shards = shards
        self.nextToken = nextToken
    }
}

// MARK: - Writing

/// The `PutRecordInput` shape of the Kinesis API.
public struct PutRecordInput: Codable, Sendable, Hashable {
    /// `StreamName` on the wire.
    public var streamName: String
    /// `Data` on the wire.
    public var data: Data
    /// `PartitionKey` on the wire.
    public var partitionKey: String
    /// `ExplicitHashKey` on the wire.
    public var explicitHashKey: String?
    /// `SequenceNumberForOrdering` on the wire.
    public var sequenceNumberForOrdering: String?
    /// Makes the shape from its members; nil members are left out of the request.
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

/// The `PutRecordOutput` shape of the Kinesis API.
public struct PutRecordOutput: Codable, Sendable, Hashable {
    /// `ShardId` on the wire.
    public var shardId: String
    /// `SequenceNumber` on the wire.
    public var sequenceNumber: String
    /// `EncryptionType` on the wire.
    public var encryptionType: String?
    /// Makes the shape from its members; nil members are left out of the request.
    public init(shardId: String, sequenceNumber: String, encryptionType: String? = nil) {
        self.shardId = shardId
        self.sequenceNumber = sequenceNumber
        self.encryptionType = encryptionType
    }
}

/// The `PutRecordsRequestEntry` shape of the Kinesis API.
public struct PutRecordsRequestEntry: Codable, Sendable, Hashable {
    /// `Data` on the wire.
    public var data: Data
    /// `ExplicitHashKey` on the wire.
    public var explicitHashKey: String?
    /// `PartitionKey` on the wire.
    public var partitionKey: String
    /// Makes the shape from its members; nil members are left out of the request.
    public init(data: Data, partitionKey: String, explicitHashKey: String? = nil) {
        self.data = data
        self.partitionKey = partitionKey
        self.explicitHashKey = explicitHashKey
    }
}

/// The `PutRecordsInput` shape of the Kinesis API.
public struct PutRecordsInput: Codable, Sendable, Hashable {
    /// `StreamName` on the wire.
    public var streamName: String
    /// `Records` on the wire.
    public var records: [PutRecordsRequestEntry]
    /// Makes the shape from its members; nil members are left out of the request.
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
    /// `SequenceNumber` on the wire.
    public var sequenceNumber: String?
    /// `ShardId` on the wire.
    public var shardId: String?
    /// `ErrorCode` on the wire.
    public var errorCode: String?
    /// `ErrorMessage` on the wire.
    public var errorMessage: String?
    /// Makes the shape from its members; nil members are left out of the request.
    public init(sequenceNumber: String? = nil, shardId: String? = nil, errorCode: String? = nil, errorMessage: String? = nil) {
        self.sequenceNumber = sequenceNumber
        self.shardId = shardId
        self.errorCode = errorCode
        self.errorMessage = errorMessage
    }
    /// Whether this entry failed (it has an error code).
    public var isFailure: Bool { errorCode != nil }
}

/// The `PutRecordsOutput` shape of the Kinesis API.
public struct PutRecordsOutput: Codable, Sendable, Hashable {
    /// `FailedRecordCount` on the wire.
    public var failedRecordCount: Int?
    /// `Records` on the wire.
    public var records: [PutRecordsResultEntry]
    /// `EncryptionType` on the wire.
    public var encryptionType: String?
    /// Makes the shape from its members; nil members are left out of the request.
    public init(failedRecordCount: Int?, records: [PutRecordsResultEntry], encryptionType: String? = nil) {
        self.failedRecordCount = failedRecordCount
        self.records = records
        self.encryptionType = encryptionType
    }
}

// MARK: - Reading

/// The `GetShardIteratorInput` shape of the Kinesis API.
public struct GetShardIteratorInput: Codable, Sendable, Hashable {
    /// `StreamName` on the wire.
    public var streamName: String
    /// `ShardId` on the wire.
    public var shardId: String
    /// `ShardIteratorType` on the wire.
    public var shardIteratorType: ShardIteratorType
    /// `StartingSequenceNumber` on the wire.
    public var startingSequenceNumber: String?
    /// `Timestamp` on the wire.
    public var timestamp: Date?
    /// Makes the shape from its members; nil members are left out of the request.
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

/// The `GetShardIteratorOutput` shape of the Kinesis API.
public struct GetShardIteratorOutput: Codable, Sendable, Hashable {
    /// `ShardIterator` on the wire.
    public var shardIterator: String?
    /// Makes the shape from its members; nil members are left out of the request.
    public init(shardIterator: String?) { self.shardIterator = shardIterator }
}

/// The `GetRecordsInput` shape of the Kinesis API.
public struct GetRecordsInput: Codable, Sendable, Hashable {
    /// `ShardIterator` on the wire.
    public var shardIterator: String
    /// `Limit` on the wire.
    public var limit: Int?
    /// Makes the shape from its members; nil members are left out of the request.
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
    /// `SequenceNumber` on the wire.
    public var sequenceNumber: String
    /// `ApproximateArrivalTimestamp` on the wire.
    public var approximateArrivalTimestamp: Date?
    /// `Data` on the wire.
    public var data: Data
    /// `PartitionKey` on the wire.
    public var partitionKey: String
    /// `EncryptionType` on the wire.
    public var encryptionType: String?
    /// Makes the shape from its members; nil members are left out of the request.
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
}

/// The `GetRecordsOutput` shape of the Kinesis API.
public struct GetRecordsOutput: Codable, Sendable, Hashable {
    /// `Records` on the wire.
    public var records: [Record]
    /// Absent when the shard is closed and drained.
    public var nextShardIterator: String?
    /// `MillisBehindLatest` on the wire.
    public var millisBehindLatest: Int?
    /// `ChildShards` on the wire.
    public var childShards: [ChildShard]?
    /// Makes the shape from its members; nil members are left out of the request.
    public init(records: [Record], nextShardIterator: String?, millisBehindLatest: Int?, childShards: [ChildShard]? = nil) {
        self.records = records
        self.nextShardIterator = nextShardIterator
        self.millisBehindLatest = millisBehindLatest
        self.childShards = childShards
    }
}

// MARK: - Retention and resharding

/// The `IncreaseStreamRetentionPeriodInput` shape of the Kinesis API.
public struct IncreaseStreamRetentionPeriodInput: Codable, Sendable, Hashable {
    /// `StreamName` on the wire.
    public var streamName: String
    /// `RetentionPeriodHours` on the wire.
    public var retentionPeriodHours: Int
    /// Makes the shape from its members; nil members are left out of the request.
    public init(streamName: String, retentionPeriodHours: Int) {
        self.streamName = streamName
        self.retentionPeriodHours = retentionPeriodHours
    }

    enum CodingKeys: String, CodingKey {
        case streamName = "StreamName"
        case retentionPeriodHours = "RetentionPeriodHours"
    }
}

/// DecreaseStreamRetentionPeriod takes the same members.
public typealias DecreaseStreamRetentionPeriodInput = IncreaseStreamRetentionPeriodInput

/// How UpdateShardCount reshards; Kinesis offers only uniform scaling.
public struct ScalingType: RawRepresentable, Codable, Sendable, Hashable {
    /// The code as the wire writes it.
    public var rawValue: String
    /// Wraps a code as the wire writes it.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// `UNIFORM_SCALING` on the wire.
    public static let uniformScaling = ScalingType(rawValue: "UNIFORM_SCALING")
}

/// The `UpdateShardCountInput` shape of the Kinesis API.
public struct UpdateShardCountInput: Codable, Sendable, Hashable {
    /// `StreamName` on the wire.
    public var streamName: String
    /// `TargetShardCount` on the wire.
    public var targetShardCount: Int
    /// `ScalingType` on the wire.
    public var scalingType: ScalingType
    /// Makes the shape from its members; nil members are left out of the request.
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

/// The `UpdateShardCountOutput` shape of the Kinesis API.
public struct UpdateShardCountOutput: Codable, Sendable, Hashable {
    /// `StreamName` on the wire.
    public var streamName: String?
    /// `CurrentShardCount` on the wire.
    public var currentShardCount: Int?
    /// `TargetShardCount` on the wire.
    public var targetShardCount: Int?
    /// `StreamARN` on the wire.
    public var streamARN: String?
    /// Makes the shape from its members; nil members are left out of the request.
    public init(streamName: String?, currentShardCount: Int?, targetShardCount: Int?, streamARN: String? = nil) {
        self.streamName = streamName
        self.currentShardCount = currentShardCount
        self.targetShardCount = targetShardCount
        self.streamARN = streamARN
    }
}

/// The `SplitShardInput` shape of the Kinesis API.
public struct SplitShardInput: Codable, Sendable, Hashable {
    /// `StreamName` on the wire.
    public var streamName: String
    /// `ShardToSplit` on the wire.
    public var shardToSplit: String
    /// `NewStartingHashKey` on the wire.
    public var newStartingHashKey: String
    /// Makes the shape from its members; nil members are left out of the request.
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

/// The `MergeShardsInput` shape of the Kinesis API.
public struct MergeShardsInput: Codable, Sendable, Hashable {
    /// `StreamName` on the wire.
    public var streamName: String
    /// `ShardToMerge` on the wire.
    public var shardToMerge: String
    /// `AdjacentShardToMerge` on the wire.
    public var adjacentShardToMerge: String
    /// Makes the shape from its members; nil members are left out of the request.
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

/// The `UpdateStreamModeInput` shape of the Kinesis API.
public struct UpdateStreamModeInput: Codable, Sendable, Hashable {
    /// `StreamARN` on the wire.
    public var streamARN: String
    /// `StreamModeDetails` on the wire.
    public var streamModeDetails: StreamModeDetails
    /// Makes the shape from its members; nil members are left out of the request.
    public init(streamARN: String, mode: StreamMode) {
        self.streamARN = streamARN
        self.streamModeDetails = StreamModeDetails(streamMode: mode)
    }

    enum CodingKeys: String, CodingKey {
        case streamARN = "StreamARN"
        case streamModeDetails = "StreamModeDetails"
    }
}
