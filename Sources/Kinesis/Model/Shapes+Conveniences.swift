import Foundation

// What the generated wire model (`Generated/Shapes.swift`, from AWS's service model) does not
// say: the shorter ways to make a few inputs, what a shape's members mean together, and the
// one answer that is not a body (SubscribeToShard's events). Sequence numbers and hash keys stay
// decimal strings: real sequence numbers are 56 digits and hash keys are 128-bit.

/// An input that names its stream by `StreamName` or by `StreamARN` (the service needs one;
/// the name wins when both are given).
public protocol StreamNaming {
    /// `StreamName` on the wire.
    var streamName: String? { get set }
    /// `StreamARN` on the wire.
    var streamARN: String? { get set }
}

extension Shard {
    /// A shard is open until it is split or merged; only open shards receive new records.
    public var isOpen: Bool { sequenceNumberRange.endingSequenceNumber == nil }
}

extension PutRecordsResultEntry {
    /// Whether the service refused this record (it carries an error code, not a sequence number).
    public var isFailure: Bool { errorCode != nil }
}

extension CreateStreamInput {
    /// A stream in `mode`: on-demand streams take no shard count, provisioned ones need one.
    public init(
        streamName: String, shardCount: Int? = nil, mode: StreamMode, tags: [String: String]? = nil,
        maxRecordSizeInKiB: Int? = nil, warmThroughputMiBps: Int? = nil
    ) {
        self.init(
            streamName: streamName, shardCount: shardCount, streamModeDetails: StreamModeDetails(streamMode: mode), tags: tags,
            warmThroughputMiBps: warmThroughputMiBps, maxRecordSizeInKiB: maxRecordSizeInKiB)
    }
}

extension UpdateShardCountInput {
    /// Resharding to `targetShardCount` evenly (`UNIFORM_SCALING`, the only scaling type).
    public init(streamName: String, targetShardCount: Int) {
        self.init(streamName: streamName, targetShardCount: targetShardCount, scalingType: .uniformScaling)
    }
}

extension UpdateStreamModeInput {
    /// Switching the stream to `mode`.
    public init(streamARN: String, mode: StreamMode) {
        self.init(streamARN: streamARN, streamModeDetails: StreamModeDetails(streamMode: mode))
    }
}

extension UpdateAccountSettingsInput {
    /// Turns the account's minimum throughput billing commitment on (`true`) or off.
    public init(commitmentEnabled: Bool) {
        self.init(minimumThroughputBillingCommitment: .init(status: commitmentEnabled ? .enabled : .disabled))
    }
}

extension MetricsName {
    /// The seven shard-level metrics, in AWS's order; `ALL` stands for them all.
    public static let shardLevel: [MetricsName] = [
        .incomingBytes, .incomingRecords, .outgoingBytes, .outgoingRecords, .writeProvisionedThroughputExceeded,
        .readProvisionedThroughputExceeded, .iteratorAgeMilliseconds,
    ]
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
