import Foundation
import Synchronization
import Kinesis
import KinesisEngine

/// The Kinesis protocol (JSON 1.1, and CBOR as the Java SDKs speak it) over an
/// ``InMemoryKinesis``, independent of any HTTP server: a request's method, path, headers and
/// body in, a status, headers and body out (for SubscribeToShard, event-stream messages after).
///
/// Bad input gets AWS's answers, in AWS's order of checks (see ``handle(method:path:query:headers:body:)``):
/// an unknown or missing `X-Amz-Target` is UnknownOperationException, malformed JSON and wrong
/// types are SerializationException, broken constraints are ValidationException; every request
/// needs a well-formed SigV4 signature, and with ``credentials`` set a valid one. It never
/// crashes on input.
public struct KinesisEndpoint: Sendable {
    /// The engine requests are answered from.
    public let engine: InMemoryKinesis
    /// When set, every request must be signed with this key pair.
    public var credentials: AWSCredentials?
    /// Bodies larger than this get HTTP 413.
    public var maximumRequestBytes: Int

    /// PutRecords carries up to 10 MiB of data, which base64 and JSON make about 14 MiB.
    public static let defaultMaximumRequestBytes = 16 * 1024 * 1024

    /// An endpoint for `engine`; with `credentials`, requests must be signed with them.
    public init(engine: InMemoryKinesis, credentials: AWSCredentials? = nil, maximumRequestBytes: Int = defaultMaximumRequestBytes) {
        self.engine = engine
        self.credentials = credentials
        self.maximumRequestBytes = maximumRequestBytes
    }

    /// An answer to send back.
    public struct Response: Sendable {
        /// The HTTP status.
        public var status: Int
        /// Response headers, `x-amzn-RequestId` among them.
        public var headers: [(name: String, value: String)]
        /// The JSON body.
        public var body: [UInt8]
        /// For SubscribeToShard: the event-stream messages to send, as they come, after the head.
        public var events: AsyncThrowingStream<[UInt8], any Error>? = nil
    }

    /// The answer to a request whose body was larger than ``maximumRequestBytes``.
    public func tooLarge(_ size: Int?) -> Response {
        let detail = size.map { "Request body of \($0) bytes" } ?? "Request body"
        return errorResponse(
            KinesisError(
                code: "RequestEntityTooLargeException", message: "\(detail) exceeds the limit of \(maximumRequestBytes) bytes",
                httpStatus: 413))
    }

    /// Answers one request, in the order AWS checks one: CORS preflight, the method, an empty
    /// body, the content type, the JSON document, the operation, then (per operation) the
    /// member types, the constraints, the signature, and what the request names.
    public func handle(
        method: String, path: String, query: [(name: String, value: String)], headers: [(name: String, value: String)],
        body: [UInt8]
    ) async -> Response {
        func header(_ name: String) -> String? {
            headers.first { asciiCaseInsensitiveEquals($0.name, name) }?.value
        }
        guard header("Origin") != nil else {
            return await respond(method: method, path: path, query: query, headers: headers, body: body, header: header)
        }
        // A browser's request: preflights are answered here; every answer says who may read it.
        if method == "OPTIONS" {
            var preflight = [("x-amzn-RequestId", RequestIds.next()), ("Access-Control-Allow-Origin", "*")]
            if let requested = header("Access-Control-Request-Headers") { preflight.append(("Access-Control-Allow-Headers", requested)) }
            if let requested = header("Access-Control-Request-Method") { preflight.append(("Access-Control-Allow-Methods", requested)) }
            preflight.append(("Access-Control-Max-Age", "172800"))
            return Response(status: 200, headers: preflight, body: [])
        }
        var response = await respond(method: method, path: path, query: query, headers: headers, body: body, header: header)
        response.headers.append(("Access-Control-Allow-Origin", "*"))
        response.headers.append(
            ("Access-Control-Expose-Headers", "x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,x-amzn-ErrorMessage,Date"))
        return response
    }

    static let jsonContentType = "application/x-amz-json-1.1"

    private func respond(
        method: String, path: String, query: [(name: String, value: String)], headers: [(name: String, value: String)],
        body: [UInt8], header: (String) -> String?
    ) async -> Response {
        guard method == "POST" else { return Self.xmlError("AccessDeniedException", message: "Unable to determine service/operation name to be authorized") }
        let contentType = (header("Content-Type") ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let target = (header("X-Amz-Target") ?? "").split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let named = target.count == 2 && !target[0].isEmpty && !target[1].isEmpty
        let operation = named && target[0] == "Kinesis_20131202" ? KinesisOperation(rawValue: String(target[1])) : nil
        if body.isEmpty {
            // AWS answers an empty body in JSON only to a JSON 1.1 request, in CBOR otherwise.
            let error = KinesisError(code: operation == nil ? .unknownOperation : .serialization, message: "", httpStatus: 400)
            return contentType == Self.jsonContentType ? errorResponse(error) : Self.inCBOR(errorResponse(error))
        }
        if contentType == CBOR.contentType {
            // CBOR in, CBOR out (errors included): the request becomes its JSON document, and
            // the JSON answer becomes CBOR again. The signature covers the CBOR bytes.
            let json: [UInt8]
            do {
                json = try KinesisCBOR.json(fromCBOR: body)
            } catch {
                return Self.inCBOR(errorResponse(KinesisError(code: .serialization, message: "", httpStatus: 400)))
            }
            let response = await answer(operation, method: method, path: path, query: query, headers: headers, body: json, signedBody: body, cbor: true)
            // A GetRecords page is written in CBOR already.
            if operation == .getRecords, response.status == 200 { return Self.labelledCBOR(response) }
            return Self.inCBOR(response)
        }
        guard contentType == Self.jsonContentType || contentType == "application/json" else {
            guard named else { return Self.xmlError("AccessDeniedException", message: "Unable to determine service/operation name to be authorized") }
            return Response(status: 404, headers: RequestIds.headers(), body: Array("<UnknownOperationException/>\n".utf8))
        }
        if contentType == "application/json" {
            // The plain JSON content type gets AWS's "Output" wrapping, and goes no further.
            let isObject: Bool
            if case .object? = try? JSONDecoder().decode(JSONValue.self, from: Data(body)) { isObject = true } else { isObject = false }
            // AWS answers 404 (a JSON object: the operation is unknown under this content type)
            // or 400 (not JSON), in the wrapping of its old JSON protocol.
            let (status, type) = isObject ? (404, "UnknownOperationException") : (400, "SerializationException")
            let output = #"{"Output":{"__type":"com.amazon.coral.service#"# + type + #""},"Version":"1.0"}"#
            return Response(
                status: status, headers: [("Content-Type", "application/json")] + RequestIds.headers(),
                body: Array(output.utf8))
        }
        return await answer(operation, method: method, path: path, query: query, headers: headers, body: body, signedBody: body, cbor: false)
    }

    /// AWS's XML answer to a request it cannot route (no POST, no operation).
    static func xmlError(_ type: String, message: String) -> Response {
        Response(
            status: 403, headers: RequestIds.headers(),
            body: Array("<\(type)>\n  <Message>\(message)</Message>\n</\(type)>\n".utf8))
    }

    /// The same answer in CBOR.
    static func inCBOR(_ response: Response) -> Response {
        if response.events != nil { return response }  // an event stream keeps its own content type
        if response.body.isEmpty { return labelledCBOR(response) }
        guard let body = try? CBOR.cbor(fromJSON: response.body) else { return response }
        var converted = labelledCBOR(response)
        converted.body = body
        return converted
    }

    /// `response` with the CBOR content type.
    static func labelledCBOR(_ response: Response) -> Response {
        var labelled = response
        labelled.headers = response.headers.filter { !asciiCaseInsensitiveEquals($0.name, "Content-Type") } + [("Content-Type", CBOR.contentType)]
        return labelled
    }

    /// Answers a JSON document addressed to `operation` (nil when it names none).
    private func answer(
        _ operation: KinesisOperation?, method: String, path: String, query: [(name: String, value: String)],
        headers: [(name: String, value: String)], body: [UInt8], signedBody: [UInt8], cbor: Bool
    ) async -> Response {
        do {
            guard let operation else {
                // A document that is not a JSON object is a SerializationException even here.
                guard case .object? = try? JSONDecoder().decode(JSONValue.self, from: Data(body)) else {
                    throw KinesisError(code: .serialization, message: "", httpStatus: 400)
                }
                throw KinesisError(code: .unknownOperation, message: "", httpStatus: 400)
            }
            // The signature is checked now, but a failure is answered only after the body's
            // types and constraints pass, as AWS orders its checks.
            var authFailure: KinesisError?
            do {
                if let credentials {
                    try SignatureVerifier(credentials: credentials).verify(
                        method: method, path: path, query: query, headers: headers, body: signedBody)
                } else {
                    try SignatureVerifier.checkWellFormed(query: query, headers: headers)
                }
            } catch let error as KinesisError {
                authFailure = error
            }
            var events: AsyncThrowingStream<[UInt8], any Error>?
            let output = try await dispatch(operation, body: body, authFailure: authFailure, cbor: cbor, events: &events)
            if let events {
                return Response(
                    status: 200, headers: [("Content-Type", "application/vnd.amazon.eventstream")] + RequestIds.headers(),
                    body: [], events: events)
            }
            return Response(status: 200, headers: commonHeaders(), body: output)
        } catch let error as KinesisError {
            return errorResponse(error)
        } catch {
            return errorResponse(KinesisError(code: .internalFailure, message: "\(error)", httpStatus: 500))
        }
    }

    private func commonHeaders() -> [(name: String, value: String)] {
        [("Content-Type", KinesisWire.contentType)] + RequestIds.headers()
    }

    /// AWS's error body: `__type` and `message` (`Message` for SerializationException).
    public func errorResponse(_ error: KinesisError) -> Response {
        var object: [String: String] = ["__type": error.code.rawValue]
        if !error.message.isEmpty {
            object[error.code == .serialization ? "Message" : "message"] = error.message
        }
        let body = (try? JSONEncoder().encode(object)).map(Array.init) ?? Array(#"{"__type":"InternalFailure"}"#.utf8)
        var headers = commonHeaders()
        headers.append(("x-amzn-ErrorType", "\(error.code.rawValue):"))
        return Response(status: error.httpStatus ?? 400, headers: headers, body: body)
    }

    // MARK: - Dispatch

    private func dispatch(
        _ operation: KinesisOperation, body: [UInt8], authFailure: KinesisError?, cbor: Bool,
        events: inout AsyncThrowingStream<[UInt8], any Error>?
    ) async throws -> [UInt8] {
        let data = Data(body)
        let answer = try await operation.dispatch(
            to: engine, through: Handler(endpoint: self, operation: operation, data: data, authFailure: authFailure, cbor: cbor))
        events = answer.events
        return answer.body
    }

    /// Decodes a request into its operation's input, calls the engine and writes the answer.
    ///
    /// Fast path: a well-formed request decodes straight into its input, which the engine
    /// validates with the same rules (Validator) as below. Only a body that does not decode
    /// takes the slow path, which names the wrong type or missing member as AWS does.
    private struct Handler: KinesisOperationHandler {
        let endpoint: KinesisEndpoint
        let operation: KinesisOperation
        let data: Data
        let authFailure: KinesisError?
        let cbor: Bool

        func handle<Input: Codable & Sendable, Output: Sendable>(
            _ operation: KinesisOperation, _ type: Input.Type, _ call: (Input) async throws -> Output
        ) async throws -> (body: [UInt8], events: AsyncThrowingStream<[UInt8], any Error>?) {
            let input: Input
            do {
                input = try KinesisEndpoint.requestDecoder().decode(Input.self, from: data)
            } catch {
                try checkSlowPath()
                throw KinesisError(code: .serialization, message: KinesisEndpoint.describe(error), httpStatus: 400)
            }
            if let authFailure {
                // Types and constraints are answered before the signature, as AWS does.
                try Validator.validate(operation, FieldValueEncoder.fields(of: input))
                throw authFailure
            }
            let output = try await call(input)
            switch output {
            case let page as GetRecordsOutput:
                // The hot read path: written by hand rather than by JSONEncoder (the same document),
                // and straight in CBOR for a CBOR request (no base64, no JSON in between).
                return (cbor ? KinesisCBOR.encodeGetRecords(page) : KinesisWire.encodeGetRecords(page), nil)
            case is EmptyResponse:
                // An operation that answers nothing has an empty body, as AWS's.
                return ([], nil)
            case let subscription as SubscribeToShardOutput:
                return (Array("{}".utf8), KinesisEndpoint.eventStream(subscription, cbor: cbor))
            case let encodable as any Encodable:
                return (Array(try KinesisWire.makeEncoder().encode(encodable)), nil)
            default:
                throw KinesisError(code: .internalFailure, message: "\(Output.self) cannot be written", httpStatus: 500)
            }
        }

        /// Names the wrong type or missing member of a body that did not decode, as AWS does.
        func checkSlowPath() throws {
            let json: JSONValue
            do {
                json = try JSONDecoder().decode(JSONValue.self, from: data)
            } catch {
                throw KinesisError(code: .serialization, message: "", httpStatus: 400)
            }
            let fields = try Validator.fields(of: operation, json: json)
            try Validator.validate(operation, fields)
        }
    }

    /// A subscription's events in AWS's event-stream framing: the `initial-response`, one
    /// `SubscribeToShardEvent` message per event, and an exception message if it ends in error.
    /// With `cbor` (a CBOR request, as the Java SDK sends), every payload is CBOR.
    static func eventStream(_ output: SubscribeToShardOutput, cbor: Bool) -> AsyncThrowingStream<[UInt8], any Error> {
        let (frames, continuation) = AsyncThrowingStream.makeStream(of: [UInt8].self)
        func frame(_ message: EventStreamMessage) -> [UInt8] {
            guard cbor, let payload = try? CBOR.cbor(fromJSON: message.payload) else { return message.encoded() }
            var converted = message
            converted.payload = payload
            converted.headers[":content-type"] = CBOR.contentType
            return converted.encoded()
        }
        let task = Task {
            continuation.yield(frame(EventStreamMessage.event("initial-response", payload: Array("{}".utf8))))
            do {
                let encoder = KinesisWire.makeEncoder()
                for try await event in output.events {
                    continuation.yield(frame(EventStreamMessage.event("SubscribeToShardEvent", payload: Array(try encoder.encode(event)))))
                }
            } catch let error as KinesisError {
                continuation.yield(frame(EventStreamMessage.exception(error.code.rawValue, message: error.message)))
            } catch is CancellationError {
            } catch {
                continuation.yield(frame(EventStreamMessage.exception("InternalFailure", message: "\(error)")))
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return frames
    }

    /// The wire decoder, but strict about base64 as AWS is: a last character carrying bits
    /// the length drops (`+/+=`) fails, so the slow path can word it. One character is read.
    static func requestDecoder() -> JSONDecoder {
        let decoder = KinesisWire.makeDecoder()
        decoder.dataDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let data = Data(base64Encoded: text), Validator.hasCanonicalEnding(text) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not canonical base64"))
            }
            return data
        }
        return decoder
    }

    /// A decoding error in a sentence, naming the member.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue.capitalizingFirstLetter() }.joined(separator: ".")
        }
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "Could not read \(path(context)): \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            return "Missing \(path(context)).\(key.stringValue)"
        @unknown default:
            return "\(error)"
        }
    }
}

/// Header names compared without Foundation's locale-aware comparison, which showed up in
/// profiles of the endpoint.
func asciiCaseInsensitiveEquals(_ a: String, _ b: String) -> Bool {
    let x = a.utf8
    let y = b.utf8
    guard x.count == y.count else { return false }
    return zip(x, y).allSatisfy { left, right in
        left == right || (left | 0x20 == right | 0x20 && (left | 0x20) >= 0x61 && (left | 0x20) <= 0x7A)
    }
}

/// Request ids shaped as AWS's (a UUID's 8-4-4-4-12 hex digits): 64 random bits per process
/// and a counter, cheaper than a random UUID per answer.
enum RequestIds {
    static let prefix: String = {
        let hex = hex16(UInt64.random(in: 0...UInt64.max))
        return "\(hex.prefix(8))-\(hex.dropFirst(8).prefix(4))-\(hex.suffix(4))"
    }()
    static let counter = Atomic<UInt64>(0)
    static func next() -> String {
        let hex = hex16(counter.wrappingAdd(1, ordering: .relaxed).newValue)
        return "\(prefix)-\(hex.prefix(4))-\(hex.suffix(12))"
    }
    /// The two ids every answer but a CORS preflight carries: `x-amzn-RequestId` and `x-amz-id-2`.
    static func headers() -> [(name: String, value: String)] { [("x-amzn-RequestId", next()), ("x-amz-id-2", extendedId())] }

    /// `x-amz-id-2`, which AWS sends with every answer: 72 opaque bytes in base64 (64 random
    /// per process, then the answer's counter).
    static func extendedId() -> String {
        var bytes = extendedPrefix
        withUnsafeBytes(of: extendedCounter.wrappingAdd(1, ordering: .relaxed).newValue.bigEndian) { bytes.append(contentsOf: $0) }
        return Data(bytes).base64EncodedString()
    }
    static let extendedPrefix: [UInt8] = (0..<64).map { _ in UInt8.random(in: 0...255) }
    static let extendedCounter = Atomic<UInt64>(0)
    static func hex16(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

extension String {
    func capitalizingFirstLetter() -> String {
        guard let first else { return self }
        return first.uppercased() + dropFirst()
    }
}
