/// A `KinesisAPI` that passes every call to `base`: a decorator implements only the calls it
/// watches or changes (a tracing wrapper, a metrics tap, a test gate) and inherits the rest.
///
/// ```swift
/// final class CountingPuts: KinesisAPIForwarding {
///     let base: any KinesisAPI
///     let puts = Atomic<Int>(0)
///     init(base: any KinesisAPI) { self.base = base }
///     func putRecord(_ input: PutRecordInput) async throws -> PutRecordOutput {
///         puts.wrappingAdd(1, ordering: .relaxed)
///         return try await base.putRecord(input)
///     }
/// }
/// ```
public protocol KinesisAPIForwarding: KinesisAPI {
    var base: any KinesisAPI { get }
}

extension KinesisAPIForwarding {
    /// Passes `CreateStream` to ``base``.
    public func createStream(_ input: CreateStreamInput) async throws { try await base.createStream(input) }
    /// Passes `DeleteStream` to ``base``.
    public func deleteStream(_ input: DeleteStreamInput) async throws { try await base.deleteStream(input) }
    /// Passes `DescribeStream` to ``base``.
    public func describeStream(_ input: DescribeStreamInput) async throws -> DescribeStreamOutput { try await base.describeStream(input) }
    /// Passes `DescribeStreamSummary` to ``base``.
    public func describeStreamSummary(_ input: DescribeStreamSummaryInput) async throws -> DescribeStreamSummaryOutput {
        try await base.describeStreamSummary(input)
    }
    /// Passes `ListStreams` to ``base``.
    public func listStreams(_ input: ListStreamsInput) async throws -> ListStreamsOutput { try await base.listStreams(input) }
    /// Passes `ListShards` to ``base``.
    public func listShards(_ input: ListShardsInput) async throws -> ListShardsOutput { try await base.listShards(input) }
    /// Passes `PutRecord` to ``base``.
    public func putRecord(_ input: PutRecordInput) async throws -> PutRecordOutput { try await base.putRecord(input) }
    /// Passes `PutRecords` to ``base``.
    public func putRecords(_ input: PutRecordsInput) async throws -> PutRecordsOutput { try await base.putRecords(input) }
    /// Passes `GetShardIterator` to ``base``.
    public func getShardIterator(_ input: GetShardIteratorInput) async throws -> GetShardIteratorOutput {
        try await base.getShardIterator(input)
    }
    /// Passes `GetRecords` to ``base``.
    public func getRecords(_ input: GetRecordsInput) async throws -> GetRecordsOutput { try await base.getRecords(input) }
    /// Passes `IncreaseStreamRetentionPeriod` to ``base``.
    public func increaseStreamRetentionPeriod(_ input: IncreaseStreamRetentionPeriodInput) async throws {
        try await base.increaseStreamRetentionPeriod(input)
    }
    /// Passes `DecreaseStreamRetentionPeriod` to ``base``.
    public func decreaseStreamRetentionPeriod(_ input: DecreaseStreamRetentionPeriodInput) async throws {
        try await base.decreaseStreamRetentionPeriod(input)
    }
    /// Passes `UpdateShardCount` to ``base``.
    public func updateShardCount(_ input: UpdateShardCountInput) async throws -> UpdateShardCountOutput {
        try await base.updateShardCount(input)
    }
    /// Passes `SplitShard` to ``base``.
    public func splitShard(_ input: SplitShardInput) async throws { try await base.splitShard(input) }
    /// Passes `MergeShards` to ``base``.
    public func mergeShards(_ input: MergeShardsInput) async throws { try await base.mergeShards(input) }
    /// Passes `UpdateStreamMode` to ``base``.
    public func updateStreamMode(_ input: UpdateStreamModeInput) async throws { try await base.updateStreamMode(input) }
    /// Passes `AddTagsToStream` to ``base``.
    public func addTagsToStream(_ input: AddTagsToStreamInput) async throws { try await base.addTagsToStream(input) }
    /// Passes `RemoveTagsFromStream` to ``base``.
    public func removeTagsFromStream(_ input: RemoveTagsFromStreamInput) async throws { try await base.removeTagsFromStream(input) }
    /// Passes `ListTagsForStream` to ``base``.
    public func listTagsForStream(_ input: ListTagsForStreamInput) async throws -> ListTagsForStreamOutput { try await base.listTagsForStream(input) }
    /// Passes `TagResource` to ``base``.
    public func tagResource(_ input: TagResourceInput) async throws { try await base.tagResource(input) }
    /// Passes `UntagResource` to ``base``.
    public func untagResource(_ input: UntagResourceInput) async throws { try await base.untagResource(input) }
    /// Passes `ListTagsForResource` to ``base``.
    public func listTagsForResource(_ input: ListTagsForResourceInput) async throws -> ListTagsForResourceOutput { try await base.listTagsForResource(input) }
    /// Passes `StartStreamEncryption` to ``base``.
    public func startStreamEncryption(_ input: StartStreamEncryptionInput) async throws { try await base.startStreamEncryption(input) }
    /// Passes `StopStreamEncryption` to ``base``.
    public func stopStreamEncryption(_ input: StopStreamEncryptionInput) async throws { try await base.stopStreamEncryption(input) }
    /// Passes `EnableEnhancedMonitoring` to ``base``.
    public func enableEnhancedMonitoring(_ input: EnableEnhancedMonitoringInput) async throws -> EnhancedMonitoringOutput { try await base.enableEnhancedMonitoring(input) }
    /// Passes `DisableEnhancedMonitoring` to ``base``.
    public func disableEnhancedMonitoring(_ input: DisableEnhancedMonitoringInput) async throws -> EnhancedMonitoringOutput { try await base.disableEnhancedMonitoring(input) }
    /// Passes `DescribeLimits` to ``base``.
    public func describeLimits(_ input: NoInput) async throws -> DescribeLimitsOutput { try await base.describeLimits(input) }
    /// Passes `DescribeAccountSettings` to ``base``.
    public func describeAccountSettings(_ input: NoInput) async throws -> AccountSettingsOutput { try await base.describeAccountSettings(input) }
    /// Passes `UpdateAccountSettings` to ``base``.
    public func updateAccountSettings(_ input: UpdateAccountSettingsInput) async throws -> AccountSettingsOutput { try await base.updateAccountSettings(input) }
    /// Passes `RegisterStreamConsumer` to ``base``.
    public func registerStreamConsumer(_ input: RegisterStreamConsumerInput) async throws -> RegisterStreamConsumerOutput { try await base.registerStreamConsumer(input) }
    /// Passes `DeregisterStreamConsumer` to ``base``.
    public func deregisterStreamConsumer(_ input: DeregisterStreamConsumerInput) async throws { try await base.deregisterStreamConsumer(input) }
    /// Passes `DescribeStreamConsumer` to ``base``.
    public func describeStreamConsumer(_ input: DescribeStreamConsumerInput) async throws -> DescribeStreamConsumerOutput { try await base.describeStreamConsumer(input) }
    /// Passes `ListStreamConsumers` to ``base``.
    public func listStreamConsumers(_ input: ListStreamConsumersInput) async throws -> ListStreamConsumersOutput { try await base.listStreamConsumers(input) }
    /// Passes `PutResourcePolicy` to ``base``.
    public func putResourcePolicy(_ input: PutResourcePolicyInput) async throws { try await base.putResourcePolicy(input) }
    /// Passes `GetResourcePolicy` to ``base``.
    public func getResourcePolicy(_ input: GetResourcePolicyInput) async throws -> GetResourcePolicyOutput { try await base.getResourcePolicy(input) }
    /// Passes `DeleteResourcePolicy` to ``base``.
    public func deleteResourcePolicy(_ input: DeleteResourcePolicyInput) async throws { try await base.deleteResourcePolicy(input) }
    /// Passes `UpdateMaxRecordSize` to ``base``.
    public func updateMaxRecordSize(_ input: UpdateMaxRecordSizeInput) async throws { try await base.updateMaxRecordSize(input) }
    /// Passes `UpdateStreamWarmThroughput` to ``base``.
    public func updateStreamWarmThroughput(_ input: UpdateStreamWarmThroughputInput) async throws -> UpdateStreamWarmThroughputOutput { try await base.updateStreamWarmThroughput(input) }
    /// Passes `SubscribeToShard` to ``base``.
    public func subscribeToShard(_ input: SubscribeToShardInput) async throws -> SubscribeToShardOutput { try await base.subscribeToShard(input) }
}
