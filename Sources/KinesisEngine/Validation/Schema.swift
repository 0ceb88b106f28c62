import Foundation
import Kinesis

/// A value as the validator sees it: what a typed Swift input and a parsed JSON body both
/// become, so one set of rules serves the Swift API and the HTTP endpoint alike.
public indirect enum FieldValue: Sendable, Hashable {
    case null
    case string(String)
    case integer(Int64)
    case boolean(Bool)
    case timestamp(Double)
    /// A blob is checked by its decoded length only.
    case blob(length: Int)
    case list([FieldValue])
    case structure([String: FieldValue])
    case map([String: String])
}

/// The wire type of a member.
public indirect enum FieldType: Sendable {
    case string, integer, boolean, timestamp, blob
    case list(of: FieldType, memberName: String?)
    case structure([Member])
    case map
}

/// A constraint of the AWS model; its message is AWS's wording.
public enum Constraint: Sendable {
    case notNull
    case pattern(String)
    case minLength(Int)
    case maxLength(Int)
    case minValue(Int64)
    case maxValue(Int64)
    case oneOf([String])
}

/// A member of an input shape: wire name, type and constraints, listed in the order AWS
/// reports their errors.
public struct Member: Sendable {
    /// The wire name, such as `StreamName`.
    public var name: String
    /// What JSON type the member must have.
    public var type: FieldType
    /// AWS's constraints, checked in this order.
    public var constraints: [Constraint]
    /// A member with its wire name, type and constraints.
    public init(_ name: String, _ type: FieldType, _ constraints: [Constraint] = []) {
        self.name = name
        self.type = type
        self.constraints = constraints
    }
}

/// The input shapes of the operations, from the AWS service model (2013-12-02).
public enum KinesisSchema {
    static let streamNamePattern = ServiceLimits.namePattern
    static let shardIdPattern = ServiceLimits.namePattern
    static let hashKeyPattern = "0|([1-9]\\d{0,38})"
    static let sequenceNumberPattern = "0|([1-9]\\d{0,128})"

    static let streamName = Member("StreamName", .string, [.notNull, .pattern(streamNamePattern), .minLength(1), .maxLength(128)])
    static let optionalStreamName = Member("StreamName", .string, [.pattern(streamNamePattern), .minLength(1), .maxLength(128)])
    static func shardId(_ name: String, required: Bool) -> Member {
        Member(name, .string, (required ? [.notNull] : []) + [.pattern(shardIdPattern), .minLength(1), .maxLength(128)])
    }
    static func data(maximum: Int) -> Member { Member("Data", .blob, [.notNull, .maxLength(maximum)]) }
    static let partitionKey = Member("PartitionKey", .string, [.notNull, .minLength(1), .maxLength(256)])
    static let explicitHashKey = Member("ExplicitHashKey", .string, [.pattern(hashKeyPattern)])
    static let streamModeDetails = Member(
        "StreamModeDetails", .structure([Member("StreamMode", .string, [.notNull, .oneOf(["PROVISIONED", "ON_DEMAND"])])]))
    static let streamARNPattern = "arn:aws.*:kinesis:.*:\\d{12}:stream/\\S+"
    static let resourceARNPattern = "arn:aws.*:kinesis:.*:\\d{12}:.*stream/\\S+"
    static let consumerARNPattern = "^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/[a-zA-Z0-9_.-]+:[0-9]+"
    static func streamARN(required: Bool) -> Member {
        Member("StreamARN", .string, (required ? [.notNull] : []) + [.pattern(streamARNPattern), .minLength(1), .maxLength(2048)])
    }
    static let resourceARN = Member("ResourceARN", .string, [.notNull, .pattern(resourceARNPattern), .minLength(1), .maxLength(2048)])
    static let consumerName = Member("ConsumerName", .string, [.pattern(streamNamePattern), .minLength(1), .maxLength(128)])
    static let consumerARN = Member("ConsumerARN", .string, [.pattern(consumerARNPattern), .minLength(1), .maxLength(2048)])
    static func tags(required: Bool) -> Member { Member("Tags", .map, (required ? [.notNull] : []) + [.minLength(1), .maxLength(200)]) }
    static let tagKeys = Member("TagKeys", .list(of: .string, memberName: nil), [.notNull, .minLength(1), .maxLength(50)])
    static let shardLevelMetrics = Member(
        "ShardLevelMetrics", .list(of: .string, memberName: nil), [.notNull, .minLength(1), .maxLength(7)])
    static let encryption = [
        optionalStreamName, Member("EncryptionType", .string, [.notNull, .oneOf(["NONE", "KMS"])]),
        Member("KeyId", .string, [.notNull, .minLength(1), .maxLength(2048)]), streamARN(required: false),
    ]
    static let retention = [Member("RetentionPeriodHours", .integer, [.notNull, .minValue(1)]), streamName]

    /// The members of each operation's input; `recordMaxBytes` is the stream's record size
    /// limit (1 MiB unless UpdateMaxRecordSize raised it).
    public static func members(of operation: KinesisOperation, recordMaxBytes: Int = ServiceLimits.recordMaxBytes) -> [Member] {
        let data = data(maximum: recordMaxBytes)
        switch operation {
        case .createStream:
            return [
                Member("ShardCount", .integer, [.minValue(1), .maxValue(Int64(ServiceLimits.shardCount.upperBound))]), streamName, streamModeDetails,
                Member("Tags", .map), Member("WarmThroughputMiBps", .integer, [.minValue(0)]),
                Member("MaxRecordSizeInKiB", .integer, [.minValue(1024), .maxValue(10_240)]),
            ]
        case .deleteStream:
            return [streamName, Member("EnforceConsumerDeletion", .boolean)]
        case .describeStream:
            return [
                shardId("ExclusiveStartShardId", required: false), Member("Limit", .integer, [.minValue(1), .maxValue(10_000)]),
                streamName,
            ]
        case .describeStreamSummary:
            return [streamName]
        case .listStreams:
            return [
                Member("Limit", .integer, [.minValue(1), .maxValue(10_000)]),
                Member("ExclusiveStartStreamName", .string, [.pattern(streamNamePattern), .minLength(1), .maxLength(128)]),
                Member("NextToken", .string, [.minLength(1), .maxLength(1_048_576)]),
            ]
        case .listShards:
            return [
                optionalStreamName, Member("NextToken", .string, [.minLength(1), .maxLength(1_048_576)]),
                shardId("ExclusiveStartShardId", required: false),
                Member("MaxResults", .integer, [.minValue(1), .maxValue(10_000)]),
                Member("StreamCreationTimestamp", .timestamp),
                Member(
                    "ShardFilter",
                    .structure([
                        Member(
                            "Type", .string,
                            [
                                .notNull,
                                .oneOf([
                                    "AFTER_SHARD_ID", "AT_TRIM_HORIZON", "FROM_TRIM_HORIZON", "AT_LATEST", "AT_TIMESTAMP",
                                    "FROM_TIMESTAMP",
                                ]),
                            ]),
                        shardId("ShardId", required: false), Member("Timestamp", .timestamp),
                    ])),
            ]
        case .putRecord:
            return [
                partitionKey, data, streamName, explicitHashKey,
                Member("SequenceNumberForOrdering", .string, [.pattern(sequenceNumberPattern)]),
            ]
        case .putRecords:
            return [
                Member(
                    "Records", .list(of: .structure([explicitHashKey, data, partitionKey]), memberName: "PutRecordsRequestEntry"),
                    [.notNull, .minLength(1), .maxLength(500)]),
                streamName,
            ]
        case .getShardIterator:
            return [
                Member(
                    "ShardIteratorType", .string,
                    [.notNull, .oneOf(["AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"])]),
                Member("StartingSequenceNumber", .string, [.pattern(sequenceNumberPattern)]),
                Member("Timestamp", .timestamp),
                shardId("ShardId", required: true), streamName,
            ]
        case .getRecords:
            return [
                Member("Limit", .integer, [.minValue(1), .maxValue(Int64(ServiceLimits.getRecordsMaxRecords))]),
                Member("ShardIterator", .string, [.notNull, .minLength(1), .maxLength(512)]),
            ]
        case .increaseStreamRetentionPeriod, .decreaseStreamRetentionPeriod:
            return retention
        case .updateShardCount:
            return [
                Member("ScalingType", .string, [.notNull, .oneOf(["UNIFORM_SCALING"])]),
                Member("TargetShardCount", .integer, [.notNull, .minValue(1), .maxValue(Int64(ServiceLimits.shardCount.upperBound))]), streamName,
            ]
        case .splitShard:
            return [
                Member("NewStartingHashKey", .string, [.notNull, .pattern(hashKeyPattern)]),
                shardId("ShardToSplit", required: true), streamName,
            ]
        case .mergeShards:
            return [shardId("AdjacentShardToMerge", required: true), shardId("ShardToMerge", required: true), streamName]
        case .addTagsToStream:
            return [optionalStreamName, tags(required: true), streamARN(required: false)]
        case .removeTagsFromStream:
            return [optionalStreamName, tagKeys, streamARN(required: false)]
        case .listTagsForStream:
            return [
                optionalStreamName, Member("ExclusiveStartTagKey", .string, [.minLength(1), .maxLength(128)]),
                Member("Limit", .integer, [.minValue(1), .maxValue(50)]), streamARN(required: false),
            ]
        case .tagResource:
            return [tags(required: true), resourceARN]
        case .untagResource:
            return [tagKeys, resourceARN]
        case .listTagsForResource, .getResourcePolicy, .deleteResourcePolicy:
            return [resourceARN]
        case .putResourcePolicy:
            return [resourceARN, Member("Policy", .string, [.notNull])]
        case .startStreamEncryption, .stopStreamEncryption:
            return encryption
        case .enableEnhancedMonitoring, .disableEnhancedMonitoring:
            return [optionalStreamName, shardLevelMetrics, streamARN(required: false)]
        case .describeLimits, .describeAccountSettings:
            return []
        case .updateAccountSettings:
            return [
                Member(
                    "MinimumThroughputBillingCommitment",
                    .structure([Member("Status", .string, [.notNull, .oneOf(["ENABLED", "DISABLED"])])]), [.notNull])
            ]
        case .registerStreamConsumer:
            return [
                streamARN(required: true),
                Member("ConsumerName", .string, [.notNull, .pattern(streamNamePattern), .minLength(1), .maxLength(128)]),
                tags(required: false),
            ]
        case .deregisterStreamConsumer, .describeStreamConsumer:
            return [streamARN(required: false), consumerName, consumerARN]
        case .listStreamConsumers:
            return [
                streamARN(required: true), Member("NextToken", .string, [.minLength(1), .maxLength(1_048_576)]),
                Member("MaxResults", .integer, [.minValue(1), .maxValue(10_000)]), Member("StreamCreationTimestamp", .timestamp),
            ]
        case .updateMaxRecordSize:
            return [streamARN(required: false), Member("MaxRecordSizeInKiB", .integer, [.notNull, .minValue(1024), .maxValue(10_240)])]
        case .updateStreamWarmThroughput:
            return [streamARN(required: false), optionalStreamName, Member("WarmThroughputMiBps", .integer, [.notNull, .minValue(0)])]
        case .subscribeToShard:
            return [
                Member("ConsumerARN", .string, [.notNull, .pattern(consumerARNPattern), .minLength(1), .maxLength(2048)]),
                shardId("ShardId", required: true),
                Member(
                    "StartingPosition",
                    .structure([
                        Member(
                            "Type", .string,
                            [.notNull, .oneOf(["AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER", "TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"])]),
                        Member("SequenceNumber", .string, [.pattern(sequenceNumberPattern)]), Member("Timestamp", .timestamp),
                    ]), [.notNull]),
            ]
        case .updateStreamMode:
            return [
                Member("StreamARN", .string, [.notNull, .minLength(1), .maxLength(2048)]),
                Member(
                    "StreamModeDetails",
                    .structure([Member("StreamMode", .string, [.notNull, .oneOf(["PROVISIONED", "ON_DEMAND"])])]), [.notNull]),
            ]
        }
    }
}
