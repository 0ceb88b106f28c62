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
    static let data = Member("Data", .blob, [.notNull, .maxLength(ServiceLimits.recordMaxBytes)])
    static let partitionKey = Member("PartitionKey", .string, [.notNull, .minLength(1), .maxLength(256)])
    static let explicitHashKey = Member("ExplicitHashKey", .string, [.pattern(hashKeyPattern)])
    static let streamModeDetails = Member(
        "StreamModeDetails", .structure([Member("StreamMode", .string, [.notNull, .oneOf(["PROVISIONED", "ON_DEMAND"])])]))
    static let retention = [Member("RetentionPeriodHours", .integer, [.notNull, .minValue(1)]), streamName]

    /// The members of each operation's input.
    public static func members(of operation: KinesisOperation) -> [Member] {
        switch operation {
        case .createStream:
            return [
                Member("ShardCount", .integer, [.minValue(1), .maxValue(Int64(ServiceLimits.shardCount.upperBound))]), streamName, streamModeDetails,
                Member("Tags", .map),
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
