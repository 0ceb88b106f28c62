import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// The Kinesis client over HTTP: AWS, LocalStack, moto, or `kinesis-load serve`.
///
/// Requests are JSON 1.1, signed with SigV4, sent over a pooled AsyncHTTPClient, and retried
/// by the configuration's ``RetryPolicy``. Call ``shutdown()`` when done if the client made
/// its own `HTTPClient`.
///
/// ```swift
/// let client = HTTPKinesisClient(configuration: try .fromEnvironment())
/// let out = try await client.putRecord(.init(streamName: "orders", data: Data("hi".utf8), partitionKey: "user-1"))
/// try await client.shutdown()
/// ```
public final class HTTPKinesisClient: KinesisAPI {
    /// Region, endpoint, credentials, timeouts and retries.
    public let configuration: KinesisConfiguration
    private let httpClient: HTTPClient
    private let ownsHTTPClient: Bool
    private let signer: SigV4Signer
    private let credentialProvider: any CredentialProvider
    private let logger: Logger
    private let endpoint: URL
    private let hostHeader: String
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
        self.credentialProvider =
            credentials
            ?? DefaultCredentialChain(explicit: configuration.credentials, profile: configuration.profile, region: configuration.region)
        if let httpClient {
            self.httpClient = httpClient
            self.ownsHTTPClient = false
        } else {
            var clientConfiguration = HTTPClient.Configuration()
            clientConfiguration.timeout.connect = .nanoseconds(configuration.timeout.connect.wholeNanoseconds)
            clientConfiguration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit =
                configuration.maximumConnections
            clientConfiguration.decompression = .disabled
            // A refused connection fails the attempt at once; the RetryPolicy decides what follows.
            // (AsyncHTTPClient would otherwise retry it silently until the connect timeout.)
            clientConfiguration.connectionPool.retryConnectionEstablishment = false
            self.httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
            self.ownsHTTPClient = true
        }
        self.signer = SigV4Signer(service: "kinesis", region: configuration.region)
        self.logger = logger ?? Logger(label: "kinesis", factory: { _ in SwiftLogNoOpLogHandler() })
        self.endpoint = configuration.resolvedEndpoint
        self.hostHeader = Self.hostHeader(for: configuration.resolvedEndpoint)
        self.readsInCBOR = Atomic(configuration.cborReads)
    }

    /// Closes the HTTP client if this client made it.
    public func shutdown() async throws {
        if ownsHTTPClient { try await httpClient.shutdown() }
    }

    /// The `Host` header for an endpoint: the port appears only when it is not the scheme's default.
    static func hostHeader(for url: URL) -> String {
        let host = url.host ?? ""
        let bracketed = host.contains(":") ? "[\(host)]" : host
        guard let port = url.port else { return bracketed }
        let scheme = url.scheme?.lowercased()
        if (scheme == "http" && port == 80) || (scheme == "https" && port == 443) { return bracketed }
        return "\(bracketed):\(port)"
    }

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
                code: .serialization, message: "could not encode the request: \(error)", operation: operation.rawValue)
        }
        return try await send(operation, body: body, cbor: false, as: output)
    }

    /// Sends an encoded body (JSON, or CBOR when `cbor`) with retries and decodes its answer.
    private func send<Output: Decodable & Sendable>(
        _ operation: KinesisOperation, body: [UInt8], cbor: Bool, as output: Output.Type
    ) async throws -> Output {
        try await configuration.retry.run(
            onRetry: { error, attempt, wait in
                self.logger.debug(
                    "retrying Kinesis call",
                    metadata: [
                        "kinesis.operation": "\(operation.rawValue)", "kinesis.attempt": "\(attempt)",
                        "kinesis.error": "\(error.code)", "kinesis.wait_ms": "\(wait.wholeNanoseconds / 1_000_000)",
                    ])
            }
        ) { _ in
            try await self.attempt(operation, body: body, cbor: cbor, as: output)
        }
    }

    private func attempt<Output: Decodable>(
        _ operation: KinesisOperation, body: [UInt8], cbor: Bool, as output: Output.Type
    ) async throws -> Output {
        let credentials: AWSCredentials
        do {
            credentials = try await credentialProvider.credentials()
        } catch let error as CredentialsError {
            throw KinesisError(code: "MissingCredentials", message: error.message, operation: operation.rawValue)
        }
        let request = signedRequest(operation, body: body, credentials: credentials, cbor: cbor)

        logger.trace("sending Kinesis request", metadata: ["kinesis.operation": "\(operation.rawValue)"])
        let status: Int
        let responseBody: ByteBuffer
        let requestId: String?
        let errorType: String?
        let cborAnswer: Bool
        let contentType: String?
        do {
            let response = try await httpClient.execute(
                request, timeout: .nanoseconds(configuration.timeout.request.wholeNanoseconds), logger: nil)
            status = Int(response.status.code)
            requestId = response.headers.first(name: "x-amzn-RequestId")
            errorType = response.headers.first(name: "x-amzn-ErrorType")
            // A CBOR request may still get JSON back (an error from a proxy, say): the answer's
            // own content type decides how it is read.
            contentType = response.headers.first(name: "Content-Type")
            cborAnswer = contentType?.hasPrefix(KinesisCBOR.contentType) ?? false
            // Sized from Content-Length when there is one: a 10 MiB page is written once, not regrown.
            let expected = response.headers.first(name: "Content-Length").flatMap(Int.init) ?? 0
            var body = ByteBufferAllocator().buffer(capacity: min(max(expected, 0), Self.maximumResponseBytes))
            try await response.body.collect(upTo: Self.maximumResponseBytes, into: &body)
            responseBody = body
        } catch let error as KinesisError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw Self.transportError(error, operation: operation)
        }

        if cbor, status != 200, !cborAnswer, !(contentType?.contains("json") ?? false) {
            throw CBORNotSpoken(status: status, contentType: contentType ?? "none")
        }
        guard status == 200 else {
            var errorBody = Array(responseBody.readableBytesView)
            if cborAnswer, let json = try? KinesisCBOR.json(fromCBOR: errorBody) { errorBody = json }
            let error = KinesisError.fromResponse(
                status: status, body: errorBody, errorTypeHeader: errorType, requestId: requestId,
                operation: operation.rawValue)
            logger.debug(
                "Kinesis call failed",
                metadata: [
                    "kinesis.operation": "\(operation.rawValue)", "kinesis.error": "\(error.code)",
                    "http.status": "\(status)",
                ])
            throw error
        }
        if Output.self == EmptyResponse.self { return EmptyResponse() as! Output }
        do {
            // The hot read path: pages of up to 10 MiB of base64, read without JSONDecoder.
            if Output.self == GetRecordsOutput.self {
                return try responseBody.withUnsafeReadableBytes {
                    try cborAnswer ? KinesisCBOR.decodeGetRecords(raw: $0) : KinesisWire.decodeGetRecords(raw: $0)
                } as! Output
            }
            let bytes = Array(responseBody.readableBytesView)
            return try KinesisWire.makeDecoder().decode(Output.self, from: Data(bytes.isEmpty ? Array("{}".utf8) : bytes))
        } catch {
            throw KinesisError(
                code: .invalidResponse, message: "could not read the \(operation.rawValue) answer: \(error)",
                httpStatus: status, requestId: requestId, operation: operation.rawValue)
        }
    }

    /// The signed POST for one call.
    private func signedRequest(_ operation: KinesisOperation, body: [UInt8], credentials: AWSCredentials, cbor: Bool = false) -> HTTPClientRequest {
        let path = endpoint.path.isEmpty ? "/" : endpoint.path
        let signed = signer.sign(
            method: "POST", path: path,
            headers: [
                ("Host", hostHeader), ("Content-Type", cbor ? KinesisCBOR.contentType : KinesisWire.contentType),
                ("X-Amz-Target", KinesisWire.target(operation.rawValue)),
            ],
            body: body, credentials: credentials, date: Date())
        var request = HTTPClientRequest(url: endpoint.absoluteString)
        request.method = .POST
        for header in signed.headers { request.headers.add(name: header.name, value: header.value) }
        request.headers.add(name: "User-Agent", value: "KinesisToolkit/0.1")
        request.headers.add(name: "Content-Length", value: String(body.count))
        request.body = .bytes(ByteBuffer(bytes: body))
        return request
    }

    /// `SubscribeToShard` over HTTP/1.1, as boto3 speaks it: the answer's body is AWS's event
    /// stream, read as it arrives. Errors before the stream starts are thrown here; an
    /// exception event ends the events with its ``KinesisError``. Not retried: a consumer
    /// subscribes again from the last continuation sequence number.
    public func subscribeToShard(_ input: SubscribeToShardInput) async throws -> SubscribeToShardOutput {
        let operation = KinesisOperation.subscribeToShard
        let body = Array(try KinesisWire.makeEncoder().encode(input))
        let credentials: AWSCredentials
        do {
            credentials = try await credentialProvider.credentials()
        } catch let error as CredentialsError {
            throw KinesisError(code: "MissingCredentials", message: error.message, operation: operation.rawValue)
        }
        let response: HTTPClientResponse
        do {
            // A subscription lasts five minutes; the deadline leaves room for the last event.
            response = try await httpClient.execute(signedRequest(operation, body: body, credentials: credentials), timeout: .seconds(330), logger: nil)
        } catch {
            throw Self.transportError(error, operation: operation)
        }
        guard response.status.code == 200 else {
            let bytes = Array((try await response.body.collect(upTo: Self.maximumResponseBytes)).readableBytesView)
            throw KinesisError.fromResponse(
                status: Int(response.status.code), body: bytes, errorTypeHeader: response.headers.first(name: "x-amzn-ErrorType"),
                requestId: response.headers.first(name: "x-amzn-RequestId"), operation: operation.rawValue)
        }
        let (events, continuation) = AsyncThrowingStream.makeStream(of: SubscribeToShardEvent.self)
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
                            throw KinesisError(code: KinesisError.Code(rawValue: type), message: text, operation: operation.rawValue)
                        default:
                            continue  // initial-response and events of other types
                        }
                    }
                }
                continuation.finish()
            } catch let error as KinesisError {
                continuation.finish(throwing: error)
            } catch {
                continuation.finish(throwing: Self.transportError(error, operation: operation))
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return SubscribeToShardOutput(events: events)
    }

    /// Maps a failure of the transport to a retryable ``KinesisError``.
    static func transportError(_ error: any Error, operation: KinesisOperation) -> KinesisError {
        if let httpError = error as? HTTPClientError {
            switch httpError {
            case .deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout:
                return KinesisError(code: .timeout, message: "\(httpError)", operation: operation.rawValue)
            default:
                break
            }
        }
        if error is NIOTooManyBytesError {
            return KinesisError(
                code: .invalidResponse, message: "the answer exceeded \(maximumResponseBytes) bytes",
                operation: operation.rawValue)
        }
        return KinesisError(code: .connectionFailure, message: "\(error)", operation: operation.rawValue)
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
