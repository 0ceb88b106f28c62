import Foundation

// The management operations of the 2013-12-02 model: tags, encryption, enhanced monitoring,
// limits and account settings, registered (enhanced fan-out) consumers, resource policies,
// record size and warm throughput. Inputs that name a stream take `StreamName` or `StreamARN`;
// the service needs one of them.

// MARK: - Tags

/// A tag as ListTagsForStream and ListTagsForResource return it.
public struct Tag: Codable, Sendable, Hashable {
    /// `Key` on the wire.
    public var key: String
    /// `Value` on the wire.
    public var value: String?
    /// Makes the shape from its members.
    public init(key: String, value: String?) {
        self.key = key
        self.value = value
    }
}

/// The `AddTagsToStreamInput` shape of the Kinesis API.
public struct AddTagsToStreamInput: Codable, Sendable, Hashable {
    /// `StreamName` on the wire.
    public var streamName: String?
    /// `StreamARN` on the wire.
    public var streamARN: String?
    /// `Tags` on the wire.
    public var tags: [String: String]
    /// Makes the shape from its members; nil members are left out of the request.
    public init(streamName: String? = nil, streamARN: String? = nil, tags: [String: String]) {
        self.streamName = streamName
        self.streamARN = streamARN
        self.tags = tags
    }

    enum CodingKeys: String, CodingKey {
        case streamName = "StreamName"
        case streamARN = "StreamARN"
        case tags = "Tags"
    }
}

/// The `RemoveTagsFromStreamInput` shape of the Kinesis API.
public struct RemoveTagsFromStreamInput: Codable, Sendable, Hashable {
    /// `StreamName` on the wire.
    public var streamName: String?
    /// `StreamARN` on the wire.
    public var streamARN: String?
    /// `TagKeys` on the wire.
    public var tagKeys: [String]
    /// Makes the shape from its members; nil members are left out of the request.
    public init(streamName: String? = nil, streamARN: String? = nil, tagKeys: [String]) {
        self.streamName = streamName
        self.streamARN = streamARN
        self.tagKeys = tagKeys
    }

    enum CodingKeys: String, CodingKey {
        case streamName = "StreamName"
        case streamARN = "StreamARN"
        case tagKeys = "TagKeys"
    }
}

/// The `ListTagsForStreamInput` shape of the Kinesis API.
public struct ListTagsForStreamInput: Codable, Sendable, Hashable {
    /// `StreamName` on the wire.
    public var streamName: String?
    /// `StreamARN` on the wire.
    public var streamARN: String?
    /// `ExclusiveStartTagKey` on the wire: list the keys after this one.
    public var exclusiveStartTagKey: String?
    /// `Limit` on the wire (1...50, default 50).
    public var limit: Int?
    /// Makes the shape from its members; nil members are left out of the request.
    public init(streamName: String? = nil, streamARN: String? = nil, exclusiveStartTagKey: String? = nil, limit: Int? = nil) {
        self.streamName = streamName
        self.streamARN = streamARN
        self.exclusiveStartTagKey = exclusiveStartTagKey
        self.limit = limit
    }

    enum CodingKeys: String, CodingKey {
        case streamName = "StreamName"
        case streamARN = "StreamARN"
        case exclusiveStartTagKey = "ExclusiveStartTagKey"
        case limit = "Limit"
    }
}

/// The `ListTagsForStreamOutput` shape of the Kinesis API.
public struct ListTagsForStreamOutput: Codable, Sendable, Hashable {
    /// `Tags` on the wire, in key order.
    public var tags: [Tag]
    /// `HasMoreTags` on the wire.
    public var hasMoreTags: Bool
    /// Makes the shape from its members.
    public init(tags: [Tag], hasMoreTags: Bool) {
        self.tags = tags
        self.hasMoreTags = hasMoreTags
    }
}

/// The `TagResourceInput` shape of the Kinesis API: tags on a stream or a registered consumer.
public struct TagResourceInput: Codable, Sendable, Hashable {
    /// `ResourceARN` on the wire: a stream or consumer ARN.
    public var resourceARN: String
    /// `Tags` on the wire.
    public var tags: [String: String]
    /// Makes the shape from its members.
    public init(resourceARN: String, tags: [String: String]) {
        self.resourceARN = resourceARN
        self.tags = tags
    }

    enum CodingKeys: String, CodingKey {
        case resourceARN = "ResourceARN"
        case tags = "Tags"
    }
}

/// The `UntagResourceInput` shape of the Kinesis API.
public struct UntagResourceInput: Codable, Sendable, Hashable {
    /// `ResourceARN` on the wire: a stream or consumer ARN.
    public var resourceARN: String
    /// `TagKeys` on the wire.
    public var tagKeys: [String]
    /// Makes the shape from its members.
    public init(resourceARN: String, tagKeys: [String]) {
        self.resourceARN = resourceARN
        self.tagKeys = tagKeys
    }

    enum CodingKeys: String, CodingKey {
        case resourceARN = "ResourceARN"
        case tagKeys = "TagKeys"
    }
}

/// The input of the calls that take only `ResourceARN`: ListTagsForResource,
/// GetResourcePolicy and DeleteResourcePolicy.
public struct ResourceARNInput: Codable, Sendable, Hashable {
    /// `ResourceARN` on the wire: a stream or consumer ARN.
    public var resourceARN: String
    /// Makes the shape from its members.
    public init(resourceARN: String) { self.resourceARN = resourceARN }

    enum CodingKeys: String, CodingKey {
        case resourceARN = "ResourceARN"
    }
}

/// The `ListTagsForResourceInput` shape of the Kinesis API.
public typealias ListTagsForResourceInput = ResourceARNInput

/// The `ListTagsForResourceOutput` shape of the Kinesis API.
public struct ListTagsForResourceOutput: Codable, Sendable, Hashable {
    /// `Tags` on the wire, in key order.
    public var tags: [Tag]?
    /// Makes the shape from its members.
    public init(tags: [Tag]?) { self.tags = tags }
}

// MARK: - Encryption and monitoring

/// The input of StartStreamEncryption and StopStreamEncryption.
public struct StreamEncryptionInput: Codable, Sendable, Hashable {
    /// `StreamName` on the wire.
    public var streamName: String?
    /// `StreamARN` on the wire.
    public var streamARN: String?
    /// `EncryptionType` on the wire: `KMS` (or `NONE`).
    public var encryptionType: String
    /// `KeyId` on the wire: a KMS key id, ARN or alias (`alias/aws/kinesis` is AWS's own key).
    public var keyId: String
    /// Makes the shape from its members; nil members are left out of the request.
    public init(streamName: String? = nil, streamARN: String? = nil, encryptionType: String = "KMS", keyId: String) {
        self.streamName = streamName
        self.streamARN = streamARN
        self.encryptionType = encryptionType
        self.keyId = keyId
    }

    enum CodingKeys: String, CodingKey {
        case streamName = "StreamName"
        case streamARN = "StreamARN"
        case encryptionType = "EncryptionType"
        case keyId = "KeyId"
    }
}

/// The `StartStreamEncryptionInput` shape of the Kinesis API.
public typealias StartStreamEncryptionInput = StreamEncryptionInput
/// The `StopStreamEncryptionInput` shape of the Kinesis API.
public typealias StopStreamEncryptionInput = StreamEncryptionInput

/// The input of EnableEnhancedMonitoring and DisableEnhancedMonitoring.
public struct EnhancedMonitoringInput: Codable, Sendable, Hashable {
    /// `StreamName` on the wire.
    public var streamName: String?
    /// `StreamARN` on the wire.
    public var streamARN: String?
    /// `ShardLevelMetrics` on the wire: metric names, or `ALL`.
    public var shardLevelMetrics: [String]
    /// Makes the shape from its members; nil members are left out of the request.
    public init(streamName: String? = nil, streamARN: String? = nil, shardLevelMetrics: [String]) {
        self.streamName = streamName
        self.streamARN = streamARN
        self.shardLevelMetrics = shardLevelMetrics
    }

    /// The seven shard-level metrics, in AWS's order; `ALL` stands for them all.
    public static let allMetrics = [
        "IncomingBytes", "IncomingRecords", "OutgoingBytes", "OutgoingRecords", "WriteProvisionedThroughputExceeded",
        "ReadProvisionedThroughputExceeded", "IteratorAgeMilliseconds",
    ]

    enum CodingKeys: String, CodingKey {
        case streamName = "StreamName"
        case streamARN = "StreamARN"
        case shardLevelMetrics = "ShardLevelMetrics"
    }
}

/// The `EnableEnhancedMonitoringInput` shape of the Kinesis API.
public typealias EnableEnhancedMonitoringInput = EnhancedMonitoringInput
/// The `DisableEnhancedMonitoringInput` shape of the Kinesis API.
public typealias DisableEnhancedMonitoringInput = EnhancedMonitoringInput

/// The output of EnableEnhancedMonitoring and DisableEnhancedMonitoring.
public struct EnhancedMonitoringOutput: Codable, Sendable, Hashable {
    /// `StreamName` on the wire.
    public var streamName: String?
    /// `CurrentShardLevelMetrics` on the wire: the metrics before the call.
    public var currentShardLevelMetrics: [String]?
    /// `DesiredShardLevelMetrics` on the wire: the metrics after it.
    public var desiredShardLevelMetrics: [String]?
    /// `StreamARN` on the wire.
    public var streamARN: String?
    /// Makes the shape from its members.
    public init(streamName: String?, currentShardLevelMetrics: [String]?, desiredShardLevelMetrics: [String]?, streamARN: String?) {
        self.streamName = streamName
        self.currentShardLevelMetrics = currentShardLevelMetrics
        self.desiredShardLevelMetrics = desiredShardLevelMetrics
        self.streamARN = streamARN
    }
}

// MARK: - Limits and account settings

/// The (empty) input of DescribeLimits and DescribeAccountSettings.
public struct NoInput: Codable, Sendable, Hashable {
    /// The empty input.
    public init() {}
}

/// The `DescribeLimitsOutput` shape of the Kinesis API.
public struct DescribeLimitsOutput: Codable, Sendable, Hashable {
    /// `ShardLimit` on the wire: the account's provisioned shard quota.
    public var shardLimit: Int
    /// `OpenShardCount` on the wire: open shards of provisioned streams.
    public var openShardCount: Int
    /// `OnDemandStreamCount` on the wire.
    public var onDemandStreamCount: Int
    /// `OnDemandStreamCountLimit` on the wire.
    public var onDemandStreamCountLimit: Int
    /// Makes the shape from its members.
    public init(shardLimit: Int, openShardCount: Int, onDemandStreamCount: Int, onDemandStreamCountLimit: Int) {
        self.shardLimit = shardLimit
        self.openShardCount = openShardCount
        self.onDemandStreamCount = onDemandStreamCount
        self.onDemandStreamCountLimit = onDemandStreamCountLimit
    }
}

/// The account's minimum throughput billing commitment (On-demand Advantage), as AWS reports it.
public struct MinimumThroughputBillingCommitment: Codable, Sendable, Hashable {
    /// `Status` on the wire: `ENABLED`, `DISABLED` or `ENABLED_UNTIL_EARLIEST_ALLOWED_END`.
    public var status: String
    /// `StartedAt` on the wire.
    public var startedAt: Date?
    /// `EndedAt` on the wire.
    public var endedAt: Date?
    /// `EarliestAllowedEndAt` on the wire.
    public var earliestAllowedEndAt: Date?
    /// Makes the shape from its members.
    public init(status: String, startedAt: Date? = nil, endedAt: Date? = nil, earliestAllowedEndAt: Date? = nil) {
        self.status = status
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.earliestAllowedEndAt = earliestAllowedEndAt
    }

    enum CodingKeys: String, CodingKey {
        case status = "Status"
        case startedAt = "StartedAt"
        case endedAt = "EndedAt"
        case earliestAllowedEndAt = "EarliestAllowedEndAt"
    }
}

/// The output of DescribeAccountSettings and UpdateAccountSettings.
public struct AccountSettingsOutput: Codable, Sendable, Hashable {
    /// `MinimumThroughputBillingCommitment` on the wire.
    public var minimumThroughputBillingCommitment: MinimumThroughputBillingCommitment?
    /// Makes the shape from its members.
    public init(minimumThroughputBillingCommitment: MinimumThroughputBillingCommitment?) {
        self.minimumThroughputBillingCommitment = minimumThroughputBillingCommitment
    }

    enum CodingKeys: String, CodingKey {
        case minimumThroughputBillingCommitment = "MinimumThroughputBillingCommitment"
    }
}

/// The `UpdateAccountSettingsInput` shape of the Kinesis API.
public struct UpdateAccountSettingsInput: Codable, Sendable, Hashable {
    /// `{"Status": "ENABLED" | "DISABLED"}` on the wire.
    public struct Commitment: Codable, Sendable, Hashable {
        /// `Status` on the wire.
        public var status: String
        /// Makes the shape from its members.
        public init(status: String) { self.status = status }

        enum CodingKeys: String, CodingKey {
            case status = "Status"
        }
    }
    /// `MinimumThroughputBillingCommitment` on the wire.
    public var minimumThroughputBillingCommitment: Commitment
    /// Turns the commitment on (`true`) or off.
    public init(commitmentEnabled: Bool) {
        self.minimumThroughputBillingCommitment = Commitment(status: commitmentEnabled ? "ENABLED" : "DISABLED")
    }
}

// MARK: - Registered consumers (enhanced fan-out)

/// `CREATING`, `ACTIVE` or `DELETING`.
public struct ConsumerStatus: RawRepresentable, Codable, Sendable, Hashable, CustomStringConvertible {
    /// The code as the wire writes it.
    public var rawValue: String
    /// Wraps a code as the wire writes it.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// `CREATING` on the wire.
    public static let creating = ConsumerStatus(rawValue: "CREATING")
    /// `ACTIVE` on the wire.
    public static let active = ConsumerStatus(rawValue: "ACTIVE")
    /// `DELETING` on the wire.
    public static let deleting = ConsumerStatus(rawValue: "DELETING")
    /// A one-line text for logs and messages.
    public var description: String { rawValue }
}

/// A registered consumer as RegisterStreamConsumer, DescribeStreamConsumer and
/// ListStreamConsumers return it (`StreamARN` only in DescribeStreamConsumer).
public struct Consumer: Codable, Sendable, Hashable {
    /// `ConsumerName` on the wire.
    public var consumerName: String
    /// `ConsumerARN` on the wire: `<stream ARN>/consumer/<name>:<creation epoch seconds>`.
    public var consumerARN: String
    /// `ConsumerStatus` on the wire.
    public var consumerStatus: ConsumerStatus
    /// `ConsumerCreationTimestamp` on the wire.
    public var consumerCreationTimestamp: Date
    /// `StreamARN` on the wire (DescribeStreamConsumer only).
    public var streamARN: String?
    /// Makes the shape from its members.
    public init(
        consumerName: String, consumerARN: String, consumerStatus: ConsumerStatus, consumerCreationTimestamp: Date,
        streamARN: String? = nil
    ) {
        self.consumerName = consumerName
        self.consumerARN = consumerARN
        self.consumerStatus = consumerStatus
        self.consumerCreationTimestamp = consumerCreationTimestamp
        self.streamARN = streamARN
    }

    enum CodingKeys: String, CodingKey {
        case consumerName = "ConsumerName"
        case consumerARN = "ConsumerARN"
        case consumerStatus = "ConsumerStatus"
        case consumerCreationTimestamp = "ConsumerCreationTimestamp"
        case streamARN = "StreamARN"
    }
}

/// The `RegisterStreamConsumerInput` shape of the Kinesis API.
public struct RegisterStreamConsumerInput: Codable, Sendable, Hashable {
    /// `StreamARN` on the wire.
    public var streamARN: String
    /// `ConsumerName` on the wire, unique within the stream.
    public var consumerName: String
    /// `Tags` on the wire.
    public var tags: [String: String]?
    /// Makes the shape from its members; nil members are left out of the request.
    public init(streamARN: String, consumerName: String, tags: [String: String]? = nil) {
        self.streamARN = streamARN
        self.consumerName = consumerName
        self.tags = tags
    }

    enum CodingKeys: String, CodingKey {
        case streamARN = "StreamARN"
        case consumerName = "ConsumerName"
        case tags = "Tags"
    }
}

/// The `RegisterStreamConsumerOutput` shape of the Kinesis API.
public struct RegisterStreamConsumerOutput: Codable, Sendable, Hashable {
    /// `Consumer` on the wire.
    public var consumer: Consumer
    /// Makes the shape from its members.
    public init(consumer: Consumer) { self.consumer = consumer }
}

/// The input of DescribeStreamConsumer and DeregisterStreamConsumer: the consumer's ARN, or
/// its stream's ARN and its name.
public struct StreamConsumerInput: Codable, Sendable, Hashable {
    /// `StreamARN` on the wire.
    public var streamARN: String?
    /// `ConsumerName` on the wire.
    public var consumerName: String?
    /// `ConsumerARN` on the wire.
    public var consumerARN: String?
    /// Makes the shape from its members; nil members are left out of the request.
    public init(streamARN: String? = nil, consumerName: String? = nil, consumerARN: String? = nil) {
        self.streamARN = streamARN
        self.consumerName = consumerName
        self.consumerARN = consumerARN
    }

    enum CodingKeys: String, CodingKey {
        case streamARN = "StreamARN"
        case consumerName = "ConsumerName"
        case consumerARN = "ConsumerARN"
    }
}

/// The `DescribeStreamConsumerInput` shape of the Kinesis API.
public typealias DescribeStreamConsumerInput = StreamConsumerInput
/// The `DeregisterStreamConsumerInput` shape of the Kinesis API.
public typealias DeregisterStreamConsumerInput = StreamConsumerInput

/// The `DescribeStreamConsumerOutput` shape of the Kinesis API.
public struct DescribeStreamConsumerOutput: Codable, Sendable, Hashable {
    /// `ConsumerDescription` on the wire.
    public var consumerDescription: Consumer
    /// Makes the shape from its members.
    public init(consumerDescription: Consumer) { self.consumerDescription = consumerDescription }
}

/// The `ListStreamConsumersInput` shape of the Kinesis API.
public struct ListStreamConsumersInput: Codable, Sendable, Hashable {
    /// `StreamARN` on the wire.
    public var streamARN: String
    /// `NextToken` on the wire.
    public var nextToken: String?
    /// `MaxResults` on the wire (1...10,000, default 100).
    public var maxResults: Int?
    /// `StreamCreationTimestamp` on the wire.
    public var streamCreationTimestamp: Date?
    /// Makes the shape from its members; nil members are left out of the request.
    public init(streamARN: String, nextToken: String? = nil, maxResults: Int? = nil, streamCreationTimestamp: Date? = nil) {
        self.streamARN = streamARN
        self.nextToken = nextToken
        self.maxResults = maxResults
        self.streamCreationTimestamp = streamCreationTimestamp
    }

    enum CodingKeys: String, CodingKey {
        case streamARN = "StreamARN"
        case nextToken = "NextToken"
        case maxResults = "MaxResults"
        case streamCreationTimestamp = "StreamCreationTimestamp"
    }
}

/// The `ListStreamConsumersOutput` shape of the Kinesis API.
public struct ListStreamConsumersOutput: Codable, Sendable, Hashable {
    /// `Consumers` on the wire, oldest first.
    public var consumers: [Consumer]?
    /// `NextToken` on the wire.
    public var nextToken: String?
    /// Makes the shape from its members.
    public init(consumers: [Consumer]?, nextToken: String?) {
        self.consumers = consumers
        self.nextToken = nextToken
    }
}

// MARK: - Resource policies

/// The `PutResourcePolicyInput` shape of the Kinesis API.
public struct PutResourcePolicyInput: Codable, Sendable, Hashable {
    /// `ResourceARN` on the wire: a stream or consumer ARN.
    public var resourceARN: String
    /// `Policy` on the wire: an IAM policy document (JSON).
    public var policy: String
    /// Makes the shape from its members.
    public init(resourceARN: String, policy: String) {
        self.resourceARN = resourceARN
        self.policy = policy
    }

    enum CodingKeys: String, CodingKey {
        case resourceARN = "ResourceARN"
        case policy = "Policy"
    }
}

/// The `GetResourcePolicyInput` shape of the Kinesis API.
public typealias GetResourcePolicyInput = ResourceARNInput
/// The `DeleteResourcePolicyInput` shape of the Kinesis API.
public typealias DeleteResourcePolicyInput = ResourceARNInput

/// The `GetResourcePolicyOutput` shape of the Kinesis API.
public struct GetResourcePolicyOutput: Codable, Sendable, Hashable {
    /// `Policy` on the wire: the document, or `{}` when the resource has none.
    public var policy: String
    /// Makes the shape from its members.
    public init(policy: String) { self.policy = policy }
}

// MARK: - Record size and warm throughput

/// The `UpdateMaxRecordSizeInput` shape of the Kinesis API.
public struct UpdateMaxRecordSizeInput: Codable, Sendable, Hashable {
    /// `StreamARN` on the wire.
    public var streamARN: String
    /// `MaxRecordSizeInKiB` on the wire (1,024...10,240).
    public var maxRecordSizeInKiB: Int
    /// Makes the shape from its members.
    public init(streamARN: String, maxRecordSizeInKiB: Int) {
        self.streamARN = streamARN
        self.maxRecordSizeInKiB = maxRecordSizeInKiB
    }

    enum CodingKeys: String, CodingKey {
        case streamARN = "StreamARN"
        case maxRecordSizeInKiB = "MaxRecordSizeInKiB"
    }
}

/// A stream's warm throughput, in MiB/s (on-demand streams).
public struct WarmThroughput: Codable, Sendable, Hashable {
    /// `TargetMiBps` on the wire.
    public var targetMiBps: Int?
    /// `CurrentMiBps` on the wire.
    public var currentMiBps: Int?
    /// Makes the shape from its members.
    public init(targetMiBps: Int?, currentMiBps: Int?) {
        self.targetMiBps = targetMiBps
        self.currentMiBps = currentMiBps
    }

    enum CodingKeys: String, CodingKey {
        case targetMiBps = "TargetMiBps"
        case currentMiBps = "CurrentMiBps"
    }
}

/// The `UpdateStreamWarmThroughputInput` shape of the Kinesis API.
public struct UpdateStreamWarmThroughputInput: Codable, Sendable, Hashable {
    /// `StreamName` on the wire.
    public var streamName: String?
    /// `StreamARN` on the wire.
    public var streamARN: String?
    /// `WarmThroughputMiBps` on the wire.
    public var warmThroughputMiBps: Int
    /// Makes the shape from its members; nil members are left out of the request.
    public init(streamName: String? = nil, streamARN: String? = nil, warmThroughputMiBps: Int) {
        self.streamName = streamName
        self.streamARN = streamARN
        self.warmThroughputMiBps = warmThroughputMiBps
    }

    enum CodingKeys: String, CodingKey {
        case streamName = "StreamName"
        case streamARN = "StreamARN"
        case warmThroughputMiBps = "WarmThroughputMiBps"
    }
}

/// The `UpdateStreamWarmThroughputOutput` shape of the Kinesis API.
public struct UpdateStreamWarmThroughputOutput: Codable, Sendable, Hashable {
    /// `StreamARN` on the wire.
    public var streamARN: String?
    /// `StreamName` on the wire.
    public var streamName: String?
    /// `WarmThroughput` on the wire.
    public var warmThroughput: WarmThroughput?
    /// Makes the shape from its members.
    public init(streamARN: String?, streamName: String?, warmThroughput: WarmThroughput?) {
        self.streamARN = streamARN
        self.streamName = streamName
        self.warmThroughput = warmThroughput
    }
}

// MARK: - ARNs

/// What a Kinesis ARN names: `arn:<partition>:kinesis:<region>:<account>:stream/<name>` and
/// `.../stream/<name>/consumer/<consumer>:<epoch seconds>`.
public struct KinesisARN: Sendable, Hashable {
    /// The region field.
    public var region: String
    /// The 12-digit account field.
    public var account: String
    /// The stream's name.
    public var streamName: String
    /// The consumer's name, for a consumer ARN.
    public var consumerName: String?

    /// Parses `text`; nil when it is not a Kinesis stream or consumer ARN.
    public init?(_ text: String) {
        let fields = text.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard fields.count == 6, fields[0] == "arn", fields[1].hasPrefix("aws"), fields[2] == "kinesis",
            fields[4].count == 12, fields[4].allSatisfy(\.isASCIIDigitCharacter), fields[5].hasPrefix("stream/")
        else { return nil }
        region = String(fields[3])
        account = String(fields[4])
        let resource = fields[5].dropFirst("stream/".count)
        if let slash = resource.firstIndex(of: "/") {
            let rest = resource[slash...]
            guard rest.hasPrefix("/consumer/") else { return nil }
            streamName = String(resource[..<slash])
            let consumer = rest.dropFirst("/consumer/".count)
            consumerName = String(consumer.split(separator: ":", maxSplits: 1).first ?? consumer)
        } else {
            streamName = String(resource)
            consumerName = nil
        }
        guard !streamName.isEmpty, consumerName?.isEmpty != true else { return nil }
    }
}

extension Character {
    var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}
