import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// The one request path to AWS: every service the package calls (Kinesis, STS, the SSO portal,
/// DynamoDB, CloudWatch) goes through it. It resolves nothing by itself: give it the
/// ``AWSService``, the region and the endpoint (``AWSService/endpoint(region:environment:configured:)``
/// resolves it as the SDKs do). Per call it takes credentials from the provider, signs with
/// SigV4 for the service, sends with the ``RetryPolicy``, and reads an error answer of any of
/// the service's protocols into one ``AWSError`` that names the service and the operation.
///
/// ```swift
/// let dynamo = AWSClient(service: .dynamoDB, region: "eu-west-1",
///                        endpoint: try AWSService.dynamoDB.endpoint(region: "eu-west-1", environment: ProcessInfo.processInfo.environment),
///                        credentials: DefaultCredentialChain(region: "eu-west-1"))
/// let answer = try await dynamo.json("DescribeTable", body: Array(#"{"TableName":"leases"}"#.utf8))
/// ```
public final class AWSClient: Sendable {
    /// The service called.
    public let service: AWSService
    /// The region whose key signs.
    public let region: String
    /// Where requests go.
    public let endpoint: URL
    /// How failed calls are retried.
    public let retry: RetryPolicy
    private let credentials: (any CredentialProvider)?
    private let http: AWSHTTP
    private let ownsHTTPClient: Bool
    private let signer: SigV4Signer
    private let hostHeader: String
    private let logger: Logger

    /// An answer with status 200.
    public struct Response: Sendable {
        /// The HTTP status.
        public var status: Int
        /// The answer's headers.
        public var headers: HTTPHeaders
        /// The answer's body.
        public var body: ByteBuffer
        /// The `x-amzn-RequestId` (or `x-amz-request-id`).
        public var requestId: String? { headers.first(name: "x-amzn-RequestId") ?? headers.first(name: "x-amz-request-id") }
        /// The `Content-Type`.
        public var contentType: String? { headers.first(name: "Content-Type") }
        /// The body's bytes.
        public var bytes: [UInt8] { Array(body.readableBytesView) }
        /// The body as `Data`.
        public var data: Data { Data(body.readableBytesView) }
    }

    /// A request before it is signed. `path` is added to the endpoint's path.
    public struct Request: Sendable {
        public var method: HTTPMethod
        public var path: String
        public var query: [(name: String, value: String)]
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]

        /// A request; POST to the endpoint's own path by default.
        public init(method: HTTPMethod = .POST, path: String = "", query: [(name: String, value: String)] = [], headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.body = body
        }
    }

    /// - Parameters:
    ///   - credentials: where each call's credentials come from; nil sends calls unsigned (the
    ///     SSO portal, STS's AssumeRoleWithWebIdentity).
    ///   - httpClient: a client to share; when nil one is made that never follows a redirect
    ///     and ``shutdown()`` closes it.
    ///   - timeout: the longest a call may take; `wholeExchange` makes it cover the body too.
    ///   - maximumResponseBytes: the largest answer read.
    ///   - connectTimeout, maximumConnections: of the client made when `httpClient` is nil.
    public init(
        service: AWSService, region: String, endpoint: URL, credentials: (any CredentialProvider)?, httpClient: HTTPClient? = nil,
        retry: RetryPolicy = RetryPolicy(), timeout: Duration = .seconds(30), wholeExchange: Bool = false,
        maximumResponseBytes: Int = 32 * 1024 * 1024, connectTimeout: Duration = .seconds(5), maximumConnections: Int = 16,
        logger: Logger? = nil
    ) {
        self.service = service
        self.region = region
        self.endpoint = endpoint
        self.retry = retry
        self.credentials = credentials
        let client: HTTPClient
        if let httpClient {
            client = httpClient
            ownsHTTPClient = false
        } else {
            var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
            configuration.timeout.connect = .nanoseconds(connectTimeout.wholeNanoseconds)
            configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = maximumConnections
            configuration.decompression = .disabled
            // A refused connection fails the attempt at once; the RetryPolicy decides what follows.
            // (AsyncHTTPClient would otherwise retry it silently until the connect timeout.)
            configuration.connectionPool.retryConnectionEstablishment = false
            client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            ownsHTTPClient = true
        }
        http = AWSHTTP(client: client, timeout: timeout, wholeExchange: wholeExchange, bodyLimit: maximumResponseBytes)
        signer = SigV4Signer(service: service.signingName, region: region)
        hostHeader = AWSService.hostHeader(for: endpoint)
        self.logger = logger ?? Logger(label: "aws", factory: { _ in SwiftLogNoOpLogHandler() })
    }

    /// Closes the HTTP client if this client made it.
    public func shutdown() async throws {
        if ownsHTTPClient { try await http.client.shutdown() }
    }

    // MARK: - Protocols

    /// One operation of a JSON-protocol service: `body` is the JSON (or, with `contentType`,
    /// another encoding the service reads, such as Kinesis's CBOR).
    public func json(_ operation: String, body: [UInt8], contentType: String? = nil) async throws -> Response {
        try await send(operation, jsonRequest(operation, body: body, contentType: contentType))
    }

    /// The request of a JSON-protocol operation.
    public func jsonRequest(_ operation: String, body: [UInt8], contentType: String? = nil) -> Request {
        var headers: [(name: String, value: String)] = [("Content-Type", contentType ?? service.jsonContentType ?? "application/json")]
        if let target = service.target(operation) { headers.append(("X-Amz-Target", target)) }
        return Request(headers: headers, body: body)
    }

    /// One action of a query-protocol service (STS): a form of `Action`, `Version` and `parameters`.
    public func query(_ action: String, parameters: [(name: String, value: String)]) async throws -> Response {
        var form: [(name: String, value: String)] = [("Action", action)]
        if case .query(let version) = service.wire { form.append(("Version", version)) }
        form += parameters
        return try await send(
            action, Request(headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")], body: Array(Self.formEncode(form).utf8)))
    }

    /// `application/x-www-form-urlencoded` of the pairs (RFC 3986 unreserved characters kept).
    public static func formEncode(_ pairs: [(name: String, value: String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return pairs.map { "\($0.name)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
    }

    // MARK: - Sending

    /// Sends `request` as `operation`, with retries; an answer other than 200 is thrown as the
    /// service's ``AWSError``. `inspect` sees every answer first, and may throw an error of its
    /// own (which is not retried).
    public func send(_ operation: String, _ request: Request, inspect: (@Sendable (Int, HTTPHeaders) throws -> Void)? = nil) async throws -> Response {
        try await retry.run(
            onRetry: { error, attempt, wait in
                self.logger.debug(
                    "retrying \(self.service.name) call",
                    metadata: [
                        "aws.service": "\(self.service.name)", "aws.operation": "\(operation)", "aws.attempt": "\(attempt)",
                        "aws.error": "\(error.code)", "aws.wait_ms": "\(wait.wholeNanoseconds / 1_000_000)",
                    ])
            }
        ) { _ in
            let answer = try await self.attempt(operation, request)
            try inspect?(answer.status, answer.headers)
            guard answer.status == 200 else {
                let error = self.error(status: answer.status, headers: answer.headers, body: answer.bytes, operation: operation)
                self.logger.debug(
                    "\(self.service.name) call failed",
                    metadata: ["aws.operation": "\(operation)", "aws.error": "\(error.code)", "http.status": "\(answer.status)"])
                throw error
            }
            return Response(status: answer.status, headers: answer.headers, body: answer.body)
        }
    }

    /// Sends `request` once and hands back the answer as it streams (an event stream, such as
    /// SubscribeToShard's). Not retried; an answer other than 200 is thrown as its ``AWSError``.
    public func open(_ operation: String, _ request: Request, timeout: Duration) async throws -> HTTPClientResponse {
        let signed = try await signedRequest(operation, request)
        let response: HTTPClientResponse
        do {
            response = try await http.client.execute(signed, timeout: .nanoseconds(timeout.wholeNanoseconds), logger: nil)
        } catch {
            throw transportError(error, operation: operation)
        }
        guard response.status.code == 200 else {
            let bytes = Array((try await response.body.collect(upTo: http.bodyLimit)).readableBytesView)
            throw self.error(status: Int(response.status.code), headers: response.headers, body: bytes, operation: operation)
        }
        return response
    }

    private func attempt(_ operation: String, _ request: Request) async throws -> AWSHTTP.Answer {
        let signed = try await signedRequest(operation, request)
        logger.trace("sending \(service.name) request", metadata: ["aws.operation": "\(operation)"])
        do {
            return try await http.exchange(signed)
        } catch {
            throw transportError(error, operation: operation)
        }
    }

    /// The request, signed with the provider's current credentials (unsigned without a provider).
    private func signedRequest(_ operation: String, _ request: Request) async throws -> HTTPClientRequest {
        var path = endpoint.path
        if !request.path.isEmpty { path = (path.hasSuffix("/") ? String(path.dropLast()) : path) + request.path }
        if path.isEmpty { path = "/" }
        var headers = [("Host", hostHeader)] + request.headers
        if let credentials {
            let current: AWSCredentials
            do {
                current = try await credentials.credentials()
            } catch let error as CredentialsError {
                throw AWSError(code: "MissingCredentials", message: error.message, operation: operation, service: service.name)
            }
            headers = signer.sign(method: request.method.rawValue, path: path, query: request.query, headers: headers, body: request.body, credentials: current, date: Date())
                .headers
        }
        var components = URLComponents()
        components.scheme = endpoint.scheme
        components.host = endpoint.host
        components.port = endpoint.port
        components.path = path
        if !request.query.isEmpty { components.queryItems = request.query.map { URLQueryItem(name: $0.name, value: $0.value) } }
        // URLComponents leaves '+' alone, which servers read as a space.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        var out = HTTPClientRequest(url: components.url?.absoluteString ?? endpoint.absoluteString)
        out.method = request.method
        for header in headers { out.headers.add(name: header.0, value: header.1) }
        out.headers.add(name: "User-Agent", value: "KinesisToolkit/0.1")
        if request.method != .GET || !request.body.isEmpty {
            out.headers.add(name: "Content-Length", value: String(request.body.count))
            out.body = .bytes(ByteBuffer(bytes: request.body))
        }
        return out
    }

    // MARK: - Errors

    /// A failure of the transport as a (retryable, where it can help) ``AWSError``; a
    /// cancellation stays a `CancellationError`.
    func transportError(_ error: any Error, operation: String) -> any Error {
        guard let failure = http.failure(of: error) as? AWSHTTP.Failure else { return CancellationError() }
        switch failure {
        case .timedOut:
            return AWSError(code: .timeout, message: "no answer within \(http.timeout)", operation: operation, service: service.name)
        case .tooLarge:
            return AWSError(code: .invalidResponse, message: failure.summary, operation: operation, service: service.name)
        case .redirected(let status, _):
            return AWSError(
                code: .invalidResponse, message: "\(failure.summary); AWS calls are never followed to another address", httpStatus: status,
                operation: operation, service: service.name)
        case .transport(let error):
            if let error = error as? AWSError { return error }
            return AWSError(code: .connectionFailure, message: "\(error)", operation: operation, service: service.name)
        }
    }

    /// An error answer, read by the service's protocol (a CBOR error body is read as its JSON).
    func error(status: Int, headers: HTTPHeaders, body: [UInt8], operation: String) -> AWSError {
        let requestId = headers.first(name: "x-amzn-RequestId") ?? headers.first(name: "x-amz-request-id")
        var error: AWSError
        switch service.wire {
        case .query:
            error = AWSError.fromXMLResponse(status: status, body: body, requestId: requestId, operation: operation)
        case .json, .restJSON:
            var json = body
            if headers.first(name: "Content-Type")?.hasPrefix(KinesisCBOR.contentType) ?? false, let converted = try? KinesisCBOR.json(fromCBOR: body) {
                json = converted
            }
            error = AWSError.fromResponse(
                status: status, body: json, errorTypeHeader: headers.first(name: "x-amzn-ErrorType"), requestId: requestId, operation: operation)
        }
        error.service = service.name
        return error
    }
}
