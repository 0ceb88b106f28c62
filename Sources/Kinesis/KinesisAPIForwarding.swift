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
}
