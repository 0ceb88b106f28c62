import Foundation
import Synchronization
import Kinesis
import KinesisEngine

/// The Kinesis JSON 1.1 protocol over an ``InMemoryKinesis``, independent of any HTTP server:
/// a request's method, path, headers and body in, a status, headers and body out.
///
/// Bad input gets AWS's answers: an unknown or missing `X-Amz-Target` is
/// UnknownOperationException, malformed JSON and wrong types are SerializationException,
/// broken constraints are ValidationException; with ``credentials`` set, requests must carry
/// a valid SigV4 signature. It never crashes on input.
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
    }

    /// The answer to a request whose body was larger than ``maximumRequestBytes``.
    public func tooLarge(_ size: Int?) -> Response {
        let detail = size.map { "Request body of \($0) bytes" } ?? "Request body"
        return errorResponse(
            KinesisError(
                code: "RequestEntityTooLargeException", message: "\(detail) exceeds the limit of \(maximumRequestBytes) bytes",
                httpStatus: 413))
    }

    /// Answers one request.
    public func handle(
        method: String, path: String, query: [(name: String, value: String)], headers: [(name: String, value: String)],
        body: [UInt8]
    ) async -> Response {
        func header(_ name: String) -> String? {
            headers.first { asciiCaseInsensitiveEquals($0.name, name) }?.value
        }
        guard let contentType = header("Content-Type"), contentType.contains("cbor") else {
            return await answer(method: method, path: path, query: query, headers: headers, body: body, header: header)
        }
        // CBOR in, CBOR out (errors included): the request becomes its JSON document, and the
        // JSON answer becomes CBOR again.
        var json = body
        if !body.isEmpty {
            do {
                json = Array(try CBOR.json(fromCBOR: body))
            } catch {
                return Self.inCBOR(errorResponse(KinesisError(code: .serialization, message: "Malformed CBOR: \(error)", httpStatus: 400)))
            }
        }
        // The signature covers the bytes sent, so it is checked on the CBOR body.
        if let credentials {
            do {
                try SignatureVerifier(credentials: credentials).verify(method: method, path: path, query: query, headers: headers, body: body)
            } catch let error as KinesisError {
                return Self.inCBOR(errorResponse(error))
            } catch {
                return Self.inCBOR(errorResponse(KinesisError(code: .internalFailure, message: "\(error)", httpStatus: 500)))
            }
        }
        var unsigned = self
        unsigned.credentials = nil
        return Self.inCBOR(await unsigned.answer(method: method, path: path, query: query, headers: headers, body: json, header: header))
    }

    /// The same answer in CBOR.
    static func inCBOR(_ response: Response) -> Response {
        guard let body = try? CBOR.cbor(fromJSON: response.body) else { return response }
        var converted = response
        converted.body = body
        converted.headers = response.headers.map { asciiCaseInsensitiveEquals($0.name, "Content-Type") ? ($0.name, CBOR.contentType) : $0 }
        return converted
    }

    private func answer(
        method: String, path: String, query: [(name: String, value: String)], headers: [(name: String, value: String)],
        body: [UInt8], header: (String) -> String?
    ) async -> Response {
        do {
            if let credentials {
                try SignatureVerifier(credentials: credentials).verify(
                    method: method, path: path, query: query, headers: headers, body: body)
            }
            guard method == "POST", let target = header("X-Amz-Target"), target.hasPrefix("Kinesis_20131202."),
                let operation = KinesisOperation(rawValue: String(target.dropFirst("Kinesis_20131202.".count)))
            else {
                throw KinesisError(code: .unknownOperation, message: "", httpStatus: 400)
            }
            let output = try await dispatch(operation, body: body)
            return Response(status: 200, headers: commonHeaders(), body: output)
        } catch let error as KinesisError {
            return errorResponse(error)
        } catch {
            return errorResponse(KinesisError(code: .internalFailure, message: "\(error)", httpStatus: 500))
        }
    }

    private func commonHeaders() -> [(name: String, value: String)] {
        [("Content-Type", KinesisWire.contentType), ("x-amzn-RequestId", RequestIds.next())]
    }

    /// AWS's error body: `__type` and `message` (`Message` for SerializationException).
    public func errorResponse(_ error: KinesisError) -> Response {
        var object: [String: String] = ["__type": error.code.rawValue]
        if !error.message.isEmpty || error.code != .unknownOperation {
            object[error.code == .serialization ? "Message" : "message"] = error.message
        }
        let body = (try? JSONEncoder().encode(object)).map(Array.init) ?? Array(#"{"__type":"InternalFailure"}"#.utf8)
        var headers = commonHeaders()
        headers.append(("x-amzn-ErrorType", "\(error.code.rawValue):"))
        return Response(status: error.httpStatus ?? 400, headers: headers, body: body)
    }

    // MARK: - Dispatch

    private func dispatch(_ operation: KinesisOperation, body: [UInt8]) async throws -> [UInt8] {
        var data = Data(body.isEmpty ? Array("{}".utf8) : body)
        // ListShards' StreamName is optional in the Swift input, so a missing name does not
        // show as a decoding failure: its (small) body is checked for an ARN up front.
        if operation == .listShards, let named = try namingStreamByARN(data, operation) { data = named }
        // Fast path: a well-formed request decodes straight into its input, which the engine
        // validates with the same rules (Validator) as below. Only a body that does not decode
        // takes the slow path, which names the wrong type or missing member as AWS does.
        var slowPathChecked = false
        func checkSlowPath() throws {
            guard !slowPathChecked else { return }
            slowPathChecked = true
            let json: JSONValue
            do {
                json = try JSONDecoder().decode(JSONValue.self, from: data)
            } catch {
                throw KinesisError(code: .serialization, message: "", httpStatus: 400)
            }
            let fields = try Validator.fields(of: operation, json: json)
            try Validator.validate(operation, fields)
        }

        func run<Input: Decodable, Output: Encodable>(
            _ type: Input.Type, _ call: (Input) async throws -> Output, encode: ((Output) -> [UInt8])? = nil
        ) async throws -> [UInt8] {
            let input: Input
            do {
                input = try KinesisWire.makeDecoder().decode(Input.self, from: data)
            } catch DecodingError.keyNotFound(let key, let context) where key.stringValue == "StreamName" && context.codingPath.isEmpty {
                // The Swift input names the stream; the request may name it by ARN instead.
                guard let named = try namingStreamByARN(data, operation) else {
                    try checkSlowPath()
                    throw KinesisError(code: .serialization, message: "Missing StreamName", httpStatus: 400)
                }
                do {
                    input = try KinesisWire.makeDecoder().decode(Input.self, from: named)
                } catch {
                    try checkSlowPath()
                    throw KinesisError(code: .serialization, message: Self.describe(error), httpStatus: 400)
                }
            } catch {
                try checkSlowPath()
                throw KinesisError(code: .serialization, message: Self.describe(error), httpStatus: 400)
            }
            let output = try await call(input)
            if let encode { return encode(output) }
            return Array(try KinesisWire.makeEncoder().encode(output))
        }
        func runVoid<Input: Decodable>(_ type: Input.Type, _ call: (Input) async throws -> Void) async throws -> [UInt8] {
            try await run(type) { input in
                try await call(input)
                return EmptyResponse()
            }
        }

        switch operation {
        case .createStream: return try await runVoid(CreateStreamInput.self, engine.createStream)
        case .deleteStream: return try await runVoid(DeleteStreamInput.self, engine.deleteStream)
        case .describeStream: return try await run(DescribeStreamInput.self, engine.describeStream)
        case .describeStreamSummary: return try await run(DescribeStreamSummaryInput.self, engine.describeStreamSummary)
        case .listStreams: return try await run(ListStreamsInput.self, engine.listStreams)
        case .listShards: return try await run(ListShardsInput.self, engine.listShards)
        case .putRecord: return try await run(PutRecordInput.self, engine.putRecord)
        case .putRecords: return try await run(PutRecordsInput.self, engine.putRecords)
        case .getShardIterator: return try await run(GetShardIteratorInput.self, engine.getShardIterator)
        case .getRecords:
            // The hot read path: written by hand rather than by JSONEncoder (the same document).
            return try await run(GetRecordsInput.self, engine.getRecords, encode: KinesisWire.encodeGetRecords)
        case .increaseStreamRetentionPeriod:
            return try await runVoid(IncreaseStreamRetentionPeriodInput.self, engine.increaseStreamRetentionPeriod)
        case .decreaseStreamRetentionPeriod:
            return try await runVoid(DecreaseStreamRetentionPeriodInput.self, engine.decreaseStreamRetentionPeriod)
        case .updateShardCount: return try await run(UpdateShardCountInput.self, engine.updateShardCount)
        case .splitShard: return try await runVoid(SplitShardInput.self, engine.splitShard)
        case .mergeShards: return try await runVoid(MergeShardsInput.self, engine.mergeShards)
        case .updateStreamMode: return try await runVoid(UpdateStreamModeInput.self, engine.updateStreamMode)
        case .addTagsToStream: return try await runVoid(AddTagsToStreamInput.self, engine.addTagsToStream)
        case .removeTagsFromStream: return try await runVoid(RemoveTagsFromStreamInput.self, engine.removeTagsFromStream)
        case .listTagsForStream: return try await run(ListTagsForStreamInput.self, engine.listTagsForStream)
        case .tagResource: return try await runVoid(TagResourceInput.self, engine.tagResource)
        case .untagResource: return try await runVoid(UntagResourceInput.self, engine.untagResource)
        case .listTagsForResource: return try await run(ListTagsForResourceInput.self, engine.listTagsForResource)
        case .startStreamEncryption: return try await runVoid(StartStreamEncryptionInput.self, engine.startStreamEncryption)
        case .stopStreamEncryption: return try await runVoid(StopStreamEncryptionInput.self, engine.stopStreamEncryption)
        case .enableEnhancedMonitoring: return try await run(EnableEnhancedMonitoringInput.self, engine.enableEnhancedMonitoring)
        case .disableEnhancedMonitoring: return try await run(DisableEnhancedMonitoringInput.self, engine.disableEnhancedMonitoring)
        case .describeLimits: return try await run(NoInput.self, engine.describeLimits)
        case .describeAccountSettings: return try await run(NoInput.self, engine.describeAccountSettings)
        case .updateAccountSettings: return try await run(UpdateAccountSettingsInput.self, engine.updateAccountSettings)
        case .registerStreamConsumer: return try await run(RegisterStreamConsumerInput.self, engine.registerStreamConsumer)
        case .deregisterStreamConsumer: return try await runVoid(DeregisterStreamConsumerInput.self, engine.deregisterStreamConsumer)
        case .describeStreamConsumer: return try await run(DescribeStreamConsumerInput.self, engine.describeStreamConsumer)
        case .listStreamConsumers: return try await run(ListStreamConsumersInput.self, engine.listStreamConsumers)
        case .putResourcePolicy: return try await runVoid(PutResourcePolicyInput.self, engine.putResourcePolicy)
        case .getResourcePolicy: return try await run(GetResourcePolicyInput.self, engine.getResourcePolicy)
        case .deleteResourcePolicy: return try await runVoid(DeleteResourcePolicyInput.self, engine.deleteResourcePolicy)
        case .updateMaxRecordSize: return try await runVoid(UpdateMaxRecordSizeInput.self, engine.updateMaxRecordSize)
        case .updateStreamWarmThroughput: return try await run(UpdateStreamWarmThroughputInput.self, engine.updateStreamWarmThroughput)
        }
    }

    /// The body with `StreamName` added from its `StreamARN`, or nil when it has no ARN.
    private func namingStreamByARN(_ data: Data, _ operation: KinesisOperation) throws -> Data? {
        guard case .object(var object)? = try? JSONDecoder().decode(JSONValue.self, from: data), object["StreamName"] == nil,
            case .string(let arn)? = object["StreamARN"]
        else { return nil }
        object["StreamName"] = .string(try engine.streamName(fromARN: arn, operation: operation))
        return try JSONEncoder().encode(JSONValue.object(object))
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

/// Request ids: a random prefix per process and a counter, cheaper than a UUID per answer.
enum RequestIds {
    static let prefix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
    static let counter = Atomic<UInt64>(0)
    static func next() -> String {
        "\(prefix)-\(String(counter.wrappingAdd(1, ordering: .relaxed).newValue, radix: 16))"
    }
}

extension String {
    func capitalizingFirstLetter() -> String {
        guard let first else { return self }
        return first.uppercased() + dropFirst()
    }
}
