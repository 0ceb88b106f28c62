import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// The Kinesis client over HTTP: AWS, LocalStack, moto, or `kinesis-load serve`.
///
/// Requests are JSON 1.1 (GetRecords optionally CBOR), sent through the package's one AWS
/// request path, ``AWSClient``: SigV4, the configuration's ``RetryPolicy``, a pooled
/// AsyncHTTPClient, AWS's error answers read into ``KinesisError``. This type adds what is
/// Kinesis's own: the typed operations, the fast GetRecords readers, the CBOR fallback and
/// SubscribeToShard's event stream. Call ``shutdown()`` when done if the client made its own
/// `HTTPClient`.
///
/// ```swift
/// let client = HTTPKinesisClient(configuration: try .fromEnvironment())
/// let out = try await client.putRecord(.init(streamName: "orders", data: Data("hi".utf8), partitionKey: "user-1"))
/// try await client.shutdown()
/// ```
public final class HTTPKinesisClient: KinesisAPI {
    /// Region, endpoint, credentials, timeouts and retries.
    public let configuration: KinesisConfiguration
    /// The request path every call takes.
    public let core: AWSClient
    private let logger: Logger
    /// Whether GetRecords still goes in CBOR: ``KinesisConfiguration/cborReads``, until the
    /// endpoint shows it does not speak CBOR.
    private let readsInCBOR: Atomic<Bool>

    /// A CBOR request answered in neither CBOR nor JSON (moto answers an HTML 500): the endpoint
    /// does not speak CBOR.
    private struct CBORNotSpoken: Error {
        var status: Int
        var contentType: String
    }

    /// Largest answer read; GetRecords returns at most 10 MiB of data, base64 makes it 4/3 larger.
    static let maximumResponseBytes = 32 * 1024 * 1024

    /// - Parameters:
    ///   - credentials: where credentials come from; defaults to the SDK chain (explicit
    ///     credentials of the configuration, environment, shared files).
    ///   - httpClient: a client to share; when nil one is made and ``shutdown()`` closes it.
    ///   - logger: where to log; nothing is logged without one.
    public init(
        configuration: KinesisConfiguration, credentials: (any CredentialProvider)? = nil,
        httpClient: HTTPClient? = nil, logger: Logger? = nil
    ) {
        self.configuration = configuration
        self.logger = logger ?? Logger(label: "kinesis", factory: { _ in SwiftLogNoOpLogHandler() })
        core = AWSClient(
            service: .kinesis, region: configuration.region, endpoint: configuration.resolvedEndpoint,
            credentials: credentials
                ?? DefaultCredentialChain(explicit: configuration.credentials, profile: configuration.profile, region: configuration.region),
            httpClient: httpClient, retry: configuration.retry, timeout: configuration.timeout.request,
            maximumResponseBytes: Self.maximumResponseBytes, connectTimeout: configuration.timeout.connect,
            maximumConnections: configuration.maximumConnections, logger: self.logger)
        self.readsInCBOR = Atomic(configuration.cborReads)
    }

    /// Closes the HTTP client if this client made it.
    public func shutdown() async throws {
        try await core.shutdown()
    }

    /// The `Host` header for an endpoint (``AWSService/hostHeader(for:)``).
    static func hostHeader(for url: URL) -> String { AWSService.hostHeader(for: url) }

    // MARK: - Calls

    /// Sends one operation with retries and decodes its answer.
    public func send<Input: Encodable, Output: Decodable & Sendable>(
        _ operation: KinesisOperation, _ input: Input, as output: Output.Type
    ) async throws -> Output {
        let body: [UInt8]
        do {
            body = Array(try KinesisWire.makeEncoder().encode(input))
        } catch {
            throw KinesisError(
                code: .serialization, message: "could not encode the request: \(error)", operation: operation.rawValue, service: AWSService.kinesis.name)
        }
        return try await send(operation, body: body, cbor: false, as: output)
    }

    /// Sends an encoded body (JSON, or CBOR when `cbor`) with retries and decodes its answer.
    private func send<Output: Decodable & Sendable>(
        _ operation: KinesisOperation, body: [UInt8], cbor: Bool, as output: Output.Type
    ) async throws -> Output {
        let request = core.jsonRequest(operation.rawValue, body: body, contentType: cbor ? KinesisCBOR.contentType : nil)
        let answer = try await core.send(operation.rawValue, request) { status, headers in
            // An answer in neither CBOR nor JSON to a CBOR request: the endpoint does not speak it.
            let contentType = headers.first(name: "Content-Type")
            if cbor, status != 200, !(contentType?.hasPrefix(KinesisCBOR.contentType) ?? false), !(contentType?.contains("json") ?? false) {
                throw CBORNotSpoken(status: status, contentType: contentType ?? "none")
            }
        }
        if Output.self == EmptyResponse.self { return EmptyResponse() as! Output }
        // A CBOR request may still get JSON back (from a proxy, say): the answer's own content type decides.
        let cborAnswer = answer.contentType?.hasPrefix(KinesisCBOR.contentType) ?? false
        do {
            // The hot read path: pages of up to 10 MiB of base64, read without JSONDecoder.
            if Output.self == GetRecordsOutput.self {
                return try answer.body.withUnsafeReadableBytes {
                    try cborAnswer ? KinesisCBOR.decodeGetRecords(raw: $0) : KinesisWire.decodeGetRecords(raw: $0)
                } as! Output
            }
            let bytes = answer.bytes
            return try KinesisWire.makeDecoder().decode(Output.self, from: Data(bytes.isEmpty ? Array("{}".utf8) : bytes))
        } catch {
            throw KinesisError(
                code: .invalidResponse, message: "could not read the \(operation.rawValue) answer: \(error)",
                httpStatus: answer.status, requestId: answer.requestId, operation: operation.rawValue, service: AWSService.kinesis.name)
        }
    }

    /// `SubscribeToShard` over HTTP/1.1, as boto3 speaks it: the answer's body is AWS's event
    /// stream, read as it arrives. Errors before the stream starts are thrown here; an
    /// exception event ends the events with its ``KinesisError``. Not retried: a consumer
    /// subscribes again from the last continuation sequence number.
    public func subscribeToShard(_ input: SubscribeToShardInput) async throws -> SubscribeToShardOutput {
        let operation = KinesisOperation.subscribeToShard
        let body = Array(try KinesisWire.makeEncoder().encode(input))
        // A subscription lasts five minutes; the deadline leaves room for the last event.
        let response = try await core.open(operation.rawValue, core.jsonRequest(operation.rawValue, body: body), timeout: .seconds(330))
        let (events, continuation) = AsyncThrowingStream.makeStream(of: SubscribeToShardEvent.self)
        let core = self.core
        let task = Task {
            var buffer: [UInt8] = []
            do {
                for try await chunk in response.body {
                    buffer += chunk.readableBytesView
                    for message in try EventStreamMessage.decode(from: &buffer) {
                        switch message.headers[":message-type"] {
                        case "event" where message.headers[":event-type"] == "SubscribeToShardEvent":
                            continuation.yield(try KinesisWire.makeDecoder().decode(SubscribeToShardEvent.self, from: Data(message.payload)))
                        case "exception", "error":
                            let type = message.headers[":exception-type"] ?? message.headers[":error-code"] ?? "InternalFailure"
                            let text = (try? JSONSerialization.jsonObject(with: Data(message.payload)) as? [String: Any])
                                .flatMap { ($0["message"] ?? $0["Message"]) as? String } ?? message.headers[":error-message"] ?? ""
                            throw KinesisError(code: KinesisError.Code(rawValue: type), message: text, operation: operation.rawValue, service: AWSService.kinesis.name)
                        default:
                            continue  // initial-response and events of other types
                        }
                    }
                }
                continuation.finish()
            } catch let error as KinesisError {
                continuation.finish(throwing: error)
            } catch {
                continuation.finish(throwing: core.transportError(error, operation: operation.rawValue))
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return SubscribeToShardOutput(events: events)
    }

    // MARK: - KinesisAPI

    /// Sends `CreateStream` and decodes the answer.
    public func createStream(_ input: CreateStreamInput) async throws {
        _ = try await send(.createStream, input, as: EmptyResponse.self)
    }

    /// Sends `DeleteStream` and decodes the answer.
    public func deleteStream(_ input: DeleteStreamInput) async throws {
        _ = try await send(.deleteStream, input, as: EmptyResponse.self)
    }

    /// Sends `DescribeStream` and decodes the answer.
    public func describeStream(_ input: DescribeStreamInput) async throws -> DescribeStreamOutput {
        try await send(.describeStream, input, as: DescribeStreamOutput.self)
    }

    /// Sends `DescribeStreamSummary` and decodes the answer.
    public func describeStreamSummary(_ input: DescribeStreamSummaryInput) async throws -> DescribeStreamSummaryOutput {
        try await send(.describeStreamSummary, input, as: DescribeStreamSummaryOutput.self)
    }

    /// Sends `ListStreams` and decodes the answer.
    public func listStreams(_ input: ListStreamsInput) async throws -> ListStreamsOutput {
        try await send(.listStreams, input, as: ListStreamsOutput.self)
    }

    /// Sends `ListShards` and decodes the answer.
    public func listShards(_ input: ListShardsInput) async throws -> ListShardsOutput {
        try await send(.listShards, input, as: ListShardsOutput.self)
    }

    /// Sends `PutRecord` and decodes the answer.
    public func putRecord(_ input: PutRecordInput) async throws -> PutRecordOutput {
        try await send(.putRecord, input, as: PutRecordOutput.self)
    }

    /// Sends `PutRecords` and decodes the answer.
    public func putRecords(_ input: PutRecordsInput) async throws -> PutRecordsOutput {
        try await send(.putRecords, input, as: PutRecordsOutput.self)
    }

    /// Sends `GetShardIterator` and decodes the answer.
    public func getShardIterator(_ input: GetShardIteratorInput) async throws -> GetShardIteratorOutput {
        try await send(.getShardIterator, input, as: GetShardIteratorOutput.self)
    }

    /// Sends `GetRecords` and decodes the answer.
    public func getRecords(_ input: GetRecordsInput) async throws -> GetRecordsOutput {
        if readsInCBOR.load(ordering: .relaxed) {
            do {
                return try await send(.getRecords, body: KinesisCBOR.encodeGetRecordsInput(input), cbor: true, as: GetRecordsOutput.self)
            } catch let refusal as CBORNotSpoken {
                // Reading goes on in JSON, for this call and every later one; said once.
                if readsInCBOR.exchange(false, ordering: .relaxed) {
                    logger.warning(
                        "the endpoint does not answer GetRecords in CBOR; reading in JSON from now on",
                        metadata: ["http.status": "\(refusal.status)", "http.content_type": "\(refusal.contentType)"])
                }
            }
        }
        return try await send(.getRecords, input, as: GetRecordsOutput.self)
    }

    /// Sends `IncreaseStreamRetentionPeriod` and decodes the answer.
    public func increaseStreamRetentionPeriod(_ input: IncreaseStreamRetentionPeriodInput) async throws {
        _ = try await send(.increaseStreamRetentionPeriod, input, as: EmptyResponse.self)
    }

    /// Sends `DecreaseStreamRetentionPeriod` and decodes the answer.
    public func decreaseStreamRetentionPeriod(_ input: DecreaseStreamRetentionPeriodInput) async throws {
        _ = try await send(.decreaseStreamRetentionPeriod, input, as: EmptyResponse.self)
    }

    /// Sends `UpdateShardCount` and decodes the answer.
    public func updateShardCount(_ input: UpdateShardCountInput) async throws -> UpdateShardCountOutput {
        try await send(.updateShardCount, input, as: UpdateShardCountOutput.self)
    }

    /// Sends `SplitShard` and decodes the answer.
    public func splitShard(_ input: SplitShardInput) async throws {
        _ = try await send(.splitShard, input, as: EmptyResponse.self)
    }

    /// Sends `MergeShards` and decodes the answer.
    public func mergeShards(_ input: MergeShardsInput) async throws {
        _ = try await send(.mergeShards, input, as: EmptyResponse.self)
    }

    /// Sends `UpdateStreamMode` and decodes the answer.
    public func updateStreamMode(_ input: UpdateStreamModeInput) async throws {
        _ = try await send(.updateStreamMode, input, as: EmptyResponse.self)
    }

    /// Sends `AddTagsToStream` and decodes the answer.
    public func addTagsToStream(_ input: AddTagsToStreamInput) async throws {
        _ = try await send(.addTagsToStream, input, as: EmptyResponse.self)
    }

    /// Sends `RemoveTagsFromStream` and decodes the answer.
    public func removeTagsFromStream(_ input: RemoveTagsFromStreamInput) async throws {
        _ = try await send(.removeTagsFromStream, input, as: EmptyResponse.self)
    }

    /// Sends `ListTagsForStream` and decodes the answer.
    public func listTagsForStream(_ input: ListTagsForStreamInput) async throws -> ListTagsForStreamOutput {
        try await send(.listTagsForStream, input, as: ListTagsForStreamOutput.self)
    }

    /// Sends `TagResource` and decodes the answer.
    public func tagResource(_ input: TagResourceInput) async throws {
        _ = try await send(.tagResource, input, as: EmptyResponse.self)
    }

    /// Sends `UntagResource` and decodes the answer.
    public func untagResource(_ input: UntagResourceInput) async throws {
        _ = try await send(.untagResource, input, as: EmptyResponse.self)
    }

    /// Sends `ListTagsForResource` and decodes the answer.
    public func listTagsForResource(_ input: ListTagsForResourceInput) async throws -> ListTagsForResourceOutput {
        try await send(.listTagsForResource, input, as: ListTagsForResourceOutput.self)
    }

    /// Sends `StartStreamEncryption` and decodes the answer.
    public func startStreamEncryption(_ input: StartStreamEncryptionInput) async throws {
        _ = try await send(.startStreamEncryption, input, as: EmptyResponse.self)
    }

    /// Sends `StopStreamEncryption` and decodes the answer.
    public func stopStreamEncryption(_ input: StopStreamEncryptionInput) async throws {
        _ = try await send(.stopStreamEncryption, input, as: EmptyResponse.self)
    }

    /// Sends `EnableEnhancedMonitoring` and decodes the answer.
    public func enableEnhancedMonitoring(_ input: EnableEnhancedMonitoringInput) async throws -> EnhancedMonitoringOutput {
        try await send(.enableEnhancedMonitoring, input, as: EnhancedMonitoringOutput.self)
    }

    /// Sends `DisableEnhancedMonitoring` and decodes the answer.
    public func disableEnhancedMonitoring(_ input: DisableEnhancedMonitoringInput) async throws -> EnhancedMonitoringOutput {
        try await send(.disableEnhancedMonitoring, input, as: EnhancedMonitoringOutput.self)
    }

    /// Sends `DescribeLimits` and decodes the answer.
    public func describeLimits(_ input: NoInput) async throws -> DescribeLimitsOutput {
        try await send(.describeLimits, input, as: DescribeLimitsOutput.self)
    }

    /// Sends `DescribeAccountSettings` and decodes the answer.
    public func describeAccountSettings(_ input: NoInput) async throws -> AccountSettingsOutput {
        try await send(.describeAccountSettings, input, as: AccountSettingsOutput.self)
    }

    /// Sends `UpdateAccountSettings` and decodes the answer.
    public func updateAccountSettings(_ input: UpdateAccountSettingsInput) async throws -> AccountSettingsOutput {
        try await send(.updateAccountSettings, input, as: AccountSettingsOutput.self)
    }

    /// Sends `RegisterStreamConsumer` and decodes the answer.
    public func registerStreamConsumer(_ input: RegisterStreamConsumerInput) async throws -> RegisterStreamConsumerOutput {
        try await send(.registerStreamConsumer, input, as: RegisterStreamConsumerOutput.self)
    }

    /// Sends `DeregisterStreamConsumer` and decodes the answer.
    public func deregisterStreamConsumer(_ input: DeregisterStreamConsumerInput) async throws {
        _ = try await send(.deregisterStreamConsumer, input, as: EmptyResponse.self)
    }

    /// Sends `DescribeStreamConsumer` and decodes the answer.
    public func describeStreamConsumer(_ input: DescribeStreamConsumerInput) async throws -> DescribeStreamConsumerOutput {
        try await send(.describeStreamConsumer, input, as: DescribeStreamConsumerOutput.self)
    }

    /// Sends `ListStreamConsumers` and decodes the answer.
    public func listStreamConsumers(_ input: ListStreamConsumersInput) async throws -> ListStreamConsumersOutput {
        try await send(.listStreamConsumers, input, as: ListStreamConsumersOutput.self)
    }

    /// Sends `PutResourcePolicy` and decodes the answer.
    public func putResourcePolicy(_ input: PutResourcePolicyInput) async throws {
        _ = try await send(.putResourcePolicy, input, as: EmptyResponse.self)
    }

    /// Sends `GetResourcePolicy` and decodes the answer.
    public func getResourcePolicy(_ input: GetResourcePolicyInput) async throws -> GetResourcePolicyOutput {
        try await send(.getResourcePolicy, input, as: GetResourcePolicyOutput.self)
    }

    /// Sends `DeleteResourcePolicy` and decodes the answer.
    public func deleteResourcePolicy(_ input: DeleteResourcePolicyInput) async throws {
        _ = try await send(.deleteResourcePolicy, input, as: EmptyResponse.self)
    }

    /// Sends `UpdateMaxRecordSize` and decodes the answer.
    public func updateMaxRecordSize(_ input: UpdateMaxRecordSizeInput) async throws {
        _ = try await send(.updateMaxRecordSize, input, as: EmptyResponse.self)
    }

    /// Sends `UpdateStreamWarmThroughput` and decodes the answer.
    public func updateStreamWarmThroughput(_ input: UpdateStreamWarmThroughputInput) async throws -> UpdateStreamWarmThroughputOutput {
        try await send(.updateStreamWarmThroughput, input, as: UpdateStreamWarmThroughputOutput.self)
    }
}
