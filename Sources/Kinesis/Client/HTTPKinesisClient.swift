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

    // MARK: - The calls written by hand (the rest are generated: HTTPKinesisClient+Operations.swift)

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
}
