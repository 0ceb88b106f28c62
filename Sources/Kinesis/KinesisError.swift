import Foundation

/// The errors of Kinesis calls: ``AWSError``, which every service shares.
public typealias KinesisError = AWSError

/// An error reported by an AWS service (Kinesis, STS, DynamoDB, CloudWatch, ...), or by the
/// transport on the way to it.
///
/// `code` is the AWS error type (`__type` without its namespace, or the query protocol's
/// `<Code>`), or one of the client-side codes (``Code/connectionFailure``, ``Code/timeout``,
/// ...) when no answer arrived. ``isRetryable`` tells whether sending the same request again
/// can help. `service` and `operation` say which call failed.
public struct AWSError: Error, Sendable, Hashable, CustomStringConvertible {
    /// An error type. Open-ended: any `__type` the service sends is kept as it is.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
        /// The code as the wire writes it.
        public var rawValue: String
        /// Wraps a code as the wire writes it.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// A code from a string literal, such as `"ThrottlingException"`.
        public init(stringLiteral value: String) { self.rawValue = value }
        /// A one-line text for logs and messages.
        public var description: String { rawValue }

        // Service errors.
        /// `ProvisionedThroughputExceededException` on the wire.
        public static let provisionedThroughputExceeded: Code = "ProvisionedThroughputExceededException"
        /// `LimitExceededException` on the wire.
        public static let limitExceeded: Code = "LimitExceededException"
        /// `ThrottlingException` on the wire.
        public static let throttling: Code = "ThrottlingException"
        /// `InternalFailure` on the wire.
        public static let internalFailure: Code = "InternalFailure"
        /// `ServiceUnavailable` on the wire.
        public static let serviceUnavailable: Code = "ServiceUnavailable"
        /// `KMSThrottlingException` on the wire.
        public static let kmsThrottling: Code = "KMSThrottlingException"
        /// `ResourceNotFoundException` on the wire.
        public static let resourceNotFound: Code = "ResourceNotFoundException"
        /// `ResourceInUseException` on the wire.
        public static let resourceInUse: Code = "ResourceInUseException"
        /// `InvalidArgumentException` on the wire.
        public static let invalidArgument: Code = "InvalidArgumentException"
        /// `ValidationException` on the wire.
        public static let validation: Code = "ValidationException"
        /// `ExpiredIteratorException` on the wire.
        public static let expiredIterator: Code = "ExpiredIteratorException"
        /// `ExpiredNextTokenException` on the wire.
        public static let expiredNextToken: Code = "ExpiredNextTokenException"
        /// `AccessDeniedException` on the wire.
        public static let accessDenied: Code = "AccessDeniedException"
        /// `SerializationException` on the wire.
        public static let serialization: Code = "SerializationException"
        /// `UnknownOperationException` on the wire.
        public static let unknownOperation: Code = "UnknownOperationException"
        /// `MissingAuthenticationTokenException` on the wire.
        public static let missingAuthenticationToken: Code = "MissingAuthenticationTokenException"
        /// `InvalidSignatureException` on the wire.
        public static let invalidSignature: Code = "InvalidSignatureException"
        /// `UnrecognizedClientException` on the wire.
        public static let unrecognizedClient: Code = "UnrecognizedClientException"
        /// `IncompleteSignatureException` on the wire.
        public static let incompleteSignature: Code = "IncompleteSignatureException"

        // Client-side errors: no usable answer came back.
        /// The connection could not be made or broke before an answer arrived.
        public static let connectionFailure: Code = "ConnectionFailure"
        /// No answer arrived within the request timeout.
        public static let timeout: Code = "RequestTimeout"
        /// An answer arrived that is not the Kinesis wire format.
        public static let invalidResponse: Code = "InvalidResponse"
        /// A stream did not reach the awaited state in time.
        public static let waiterTimeout: Code = "WaiterTimeout"
    }

    /// The AWS error type (`__type` without its namespace), or a transport code.
    public var code: Code
    /// What went wrong, in a sentence.
    public var message: String
    /// The HTTP status of the answer; nil when none arrived.
    public var httpStatus: Int?
    /// The `x-amzn-RequestId` of the answer, to quote to AWS support.
    public var requestId: String?
    /// The operation that failed, when known.
    public var operation: String?
    /// The service called (``AWSService/name``), when known.
    public var service: String?

    /// An error as the service or the transport reported it.
    public init(code: Code, message: String, httpStatus: Int? = nil, requestId: String? = nil, operation: String? = nil, service: String? = nil) {
        self.code = code
        self.message = message
        self.httpStatus = httpStatus
        self.requestId = requestId
        self.operation = operation
        self.service = service
    }

    /// Codes that mean "slow down", which a retry after a pause can fix.
    public static let throttlingCodes: Set<Code> = [
        .provisionedThroughputExceeded, .limitExceeded, .throttling, .kmsThrottling,
        "RequestLimitExceeded", "TooManyRequestsException", "RequestThrottled", "RequestThrottledException",
    ]

    /// Codes of transient failures on the service side or on the way to it.
    public static let transientCodes: Set<Code> = [
        .internalFailure, .serviceUnavailable, .connectionFailure, .timeout, "InternalServerError",
        "KMSInternalException",
    ]

    /// Whether the error is throttling (the request was valid but arrived too fast).
    public var isThrottling: Bool { Self.throttlingCodes.contains(code) }

    /// Whether sending the same request again can succeed: throttling, 5xx answers and
    /// connection failures are retryable; validation and other client errors never are.
    public var isRetryable: Bool {
        if isThrottling || Self.transientCodes.contains(code) { return true }
        if let httpStatus, httpStatus >= 500 { return true }
        return false
    }

    /// A one-line text for logs and messages.
    public var description: String {
        var text = "\(code.rawValue)"
        // Kinesis, the service of most calls, goes unnamed: "PutRecord failed: ...".
        let call = [service == AWSService.kinesis.name ? nil : service, operation].compactMap { $0 }.joined(separator: " ")
        if !call.isEmpty { text = "\(call) failed: " + text }
        if !message.isEmpty { text += ": \(message)" }
        var extras: [String] = []
        if let httpStatus { extras.append("HTTP \(httpStatus)") }
        if let requestId { extras.append("request id \(requestId)") }
        if !extras.isEmpty { text += " (\(extras.joined(separator: ", ")))" }
        return text
    }
}

extension AWSError {
    /// Reads an error answer of the JSON protocols: the JSON body's `__type` (namespace stripped) and `message`
    /// (or `Message`, as SerializationException has it), falling back to the
    /// `x-amzn-ErrorType` header and the HTTP status.
    public static func fromResponse(
        status: Int, body: [UInt8], errorTypeHeader: String?, requestId: String?, operation: String?
    ) -> KinesisError {
        struct ErrorBody: Decodable {
            var type: String?
            var message: String?
            var capitalMessage: String?
            enum CodingKeys: String, CodingKey {
                case type = "__type"
                case message
                case capitalMessage = "Message"
            }
        }
        let parsed = try? JSONDecoder().decode(ErrorBody.self, from: Data(body))
        var type = parsed?.type ?? errorTypeHeader.map { String($0.split(separator: ":").first ?? "") } ?? ""
        if let hash = type.lastIndex(of: "#") { type = String(type[type.index(after: hash)...]) }
        if type.isEmpty {
            type = status >= 500 ? Code.internalFailure.rawValue : "HTTP\(status)"
        }
        var message = parsed?.message ?? parsed?.capitalMessage
        if message == nil, parsed == nil, !body.isEmpty {
            // Not the Kinesis error format (a proxy page, say): keep a short excerpt.
            message = String(decoding: body.prefix(200), as: UTF8.self)
        }
        return KinesisError(
            code: Code(rawValue: type), message: message ?? "", httpStatus: status, requestId: requestId,
            operation: operation)
    }


    /// Reads an error answer of the query protocol (STS):
    /// `<ErrorResponse><Error><Code>...</Code><Message>...</Message></Error>`.
    public static func fromXMLResponse(status: Int, body: [UInt8], requestId: String?, operation: String?) -> AWSError {
        let text = String(decoding: body, as: UTF8.self)
        let code = XMLText.element("Code", in: text) ?? (status >= 500 ? Code.internalFailure.rawValue : "HTTP\(status)")
        let message = XMLText.element("Message", in: text) ?? (XMLText.element("Code", in: text) == nil ? String(text.prefix(200)) : "")
        return AWSError(
            code: Code(rawValue: code), message: message, httpStatus: status, requestId: requestId ?? XMLText.element("RequestId", in: text),
            operation: operation)
    }
}

/// The little XML the query protocol needs: the text of an element.
enum XMLText {
    /// The text of the first `<name>...</name>` (the five predefined entities decoded).
    static func element(_ name: String, in xml: String) -> String? {
        guard let open = xml.range(of: "<\(name)>"), let close = xml.range(of: "</\(name)>", range: open.upperBound..<xml.endIndex) else {
            return nil
        }
        return String(xml[open.upperBound..<close.lowerBound]).replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
    }
}
