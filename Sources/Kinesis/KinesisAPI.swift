/// The one seam through which everything talks to Kinesis.
///
/// `HTTPKinesisClient` implements it over the network (AWS, LocalStack, moto, or the local
/// endpoint of `kinesis-load serve`); the in-memory engine implements it in process; a user may
/// wrap either (a spy, a tracing decorator). Publishers, consumers and the load runner take any
/// `KinesisAPI`, so the same code runs against AWS, a local endpoint or the embedded engine.
///
/// Every method throws ``KinesisError`` for an error the service (or the transport) reported.
///
/// ## Adding an operation
/// Six edits, in this order; the compiler points at each one that is missing after step 2:
/// 1. `Model/Shapes.swift`: the input and output structs, with the wire names in `CodingKeys`
///    (the only place the member names are written for typed calls: the engine's validator
///    reads them through `FieldValueEncoder`).
/// 2. Here: the method, and its case in ``KinesisOperation`` (the `X-Amz-Target` suffix).
/// 3. `KinesisAPIForwarding`: the forwarding method, so decorators keep compiling.
/// 4. `HTTPKinesisClient`: the call (`send(.operation, input, as: Output.self)`).
/// 5. `KinesisEngine`: the rules of the JSON body in `Validation/Schema.swift` (AWS's
///    constraints; the HTTP endpoint validates raw JSON with them), and the behaviour in
///    `InMemoryKinesis` through `perform(_:stream:validate:)`.
/// 6. `KinesisLocal/KinesisEndpoint.swift`: dispatch the target to the engine method.
/// Then a case in the conformance suite (`Tests/KinesisTestingTests/ConformanceTests.swift`),
/// which runs it in process and over HTTP.
public protocol KinesisAPI: Sendable {
    func createStream(_ input: CreateStreamInput) async throws
    func deleteStream(_ input: DeleteStreamInput) async throws
    func describeStream(_ input: DescribeStreamInput) async throws -> DescribeStreamOutput
    func describeStreamSummary(_ input: DescribeStreamSummaryInput) async throws -> DescribeStreamSummaryOutput
    func listStreams(_ input: ListStreamsInput) async throws -> ListStreamsOutput
    func listShards(_ input: ListShardsInput) async throws -> ListShardsOutput
    func putRecord(_ input: PutRecordInput) async throws -> PutRecordOutput
    func putRecords(_ input: PutRecordsInput) async throws -> PutRecordsOutput
    func getShardIterator(_ input: GetShardIteratorInput) async throws -> GetShardIteratorOutput
    func getRecords(_ input: GetRecordsInput) async throws -> GetRecordsOutput
    func increaseStreamRetentionPeriod(_ input: IncreaseStreamRetentionPeriodInput) async throws
    func decreaseStreamRetentionPeriod(_ input: DecreaseStreamRetentionPeriodInput) async throws
    func updateShardCount(_ input: UpdateShardCountInput) async throws -> UpdateShardCountOutput
    func splitShard(_ input: SplitShardInput) async throws
    func mergeShards(_ input: MergeShardsInput) async throws
    func updateStreamMode(_ input: UpdateStreamModeInput) async throws
    func addTagsToStream(_ input: AddTagsToStreamInput) async throws
    func removeTagsFromStream(_ input: RemoveTagsFromStreamInput) async throws
    func listTagsForStream(_ input: ListTagsForStreamInput) async throws -> ListTagsForStreamOutput
    func tagResource(_ input: TagResourceInput) async throws
    func untagResource(_ input: UntagResourceInput) async throws
    func listTagsForResource(_ input: ListTagsForResourceInput) async throws -> ListTagsForResourceOutput
    func startStreamEncryption(_ input: StartStreamEncryptionInput) async throws
    func stopStreamEncryption(_ input: StopStreamEncryptionInput) async throws
    func enableEnhancedMonitoring(_ input: EnableEnhancedMonitoringInput) async throws -> EnhancedMonitoringOutput
    func disableEnhancedMonitoring(_ input: DisableEnhancedMonitoringInput) async throws -> EnhancedMonitoringOutput
    func describeLimits(_ input: NoInput) async throws -> DescribeLimitsOutput
    func describeAccountSettings(_ input: NoInput) async throws -> AccountSettingsOutput
    func updateAccountSettings(_ input: UpdateAccountSettingsInput) async throws -> AccountSettingsOutput
    func registerStreamConsumer(_ input: RegisterStreamConsumerInput) async throws -> RegisterStreamConsumerOutput
    func deregisterStreamConsumer(_ input: DeregisterStreamConsumerInput) async throws
    func describeStreamConsumer(_ input: DescribeStreamConsumerInput) async throws -> DescribeStreamConsumerOutput
    func listStreamConsumers(_ input: ListStreamConsumersInput) async throws -> ListStreamConsumersOutput
    func putResourcePolicy(_ input: PutResourcePolicyInput) async throws
    func getResourcePolicy(_ input: GetResourcePolicyInput) async throws -> GetResourcePolicyOutput
    func deleteResourcePolicy(_ input: DeleteResourcePolicyInput) async throws
    func updateMaxRecordSize(_ input: UpdateMaxRecordSizeInput) async throws
    func updateStreamWarmThroughput(_ input: UpdateStreamWarmThroughputInput) async throws -> UpdateStreamWarmThroughputOutput
    func subscribeToShard(_ input: SubscribeToShardInput) async throws -> SubscribeToShardOutput
}

/// The operation names, as they appear in `X-Amz-Target`.
public enum KinesisOperation: String, Sendable, CaseIterable {
    case createStream = "CreateStream"
    case deleteStream = "DeleteStream"
    case describeStream = "DescribeStream"
    case describeStreamSummary = "DescribeStreamSummary"
    case listStreams = "ListStreams"
    case listShards = "ListShards"
    case putRecord = "PutRecord"
    case putRecords = "PutRecords"
    case getShardIterator = "GetShardIterator"
    case getRecords = "GetRecords"
    case increaseStreamRetentionPeriod = "IncreaseStreamRetentionPeriod"
    case decreaseStreamRetentionPeriod = "DecreaseStreamRetentionPeriod"
    case updateShardCount = "UpdateShardCount"
    case splitShard = "SplitShard"
    case mergeShards = "MergeShards"
    case updateStreamMode = "UpdateStreamMode"
    case addTagsToStream = "AddTagsToStream"
    case removeTagsFromStream = "RemoveTagsFromStream"
    case listTagsForStream = "ListTagsForStream"
    case tagResource = "TagResource"
    case untagResource = "UntagResource"
    case listTagsForResource = "ListTagsForResource"
    case startStreamEncryption = "StartStreamEncryption"
    case stopStreamEncryption = "StopStreamEncryption"
    case enableEnhancedMonitoring = "EnableEnhancedMonitoring"
    case disableEnhancedMonitoring = "DisableEnhancedMonitoring"
    case describeLimits = "DescribeLimits"
    case describeAccountSettings = "DescribeAccountSettings"
    case updateAccountSettings = "UpdateAccountSettings"
    case registerStreamConsumer = "RegisterStreamConsumer"
    case deregisterStreamConsumer = "DeregisterStreamConsumer"
    case describeStreamConsumer = "DescribeStreamConsumer"
    case listStreamConsumers = "ListStreamConsumers"
    case putResourcePolicy = "PutResourcePolicy"
    case getResourcePolicy = "GetResourcePolicy"
    case deleteResourcePolicy = "DeleteResourcePolicy"
    case updateMaxRecordSize = "UpdateMaxRecordSize"
    case updateStreamWarmThroughput = "UpdateStreamWarmThroughput"
    case subscribeToShard = "SubscribeToShard"
}
