import Foundation
import Kinesis

/// Why a record was not published: the one error of ``EventPublisher``, thrown by
/// ``KinesisService``, ``Producer`` (``ProducerError`` is the same type) and the test kit's
/// `RecordingPublisher`, so code that handles a failed publish handles it once.
///
/// ```swift
/// do {
///     try await publisher.publish(order, partitionKey: order.id)
/// } catch let error as PublishError where error.code == .retriesExhausted {
///     // throttled until the retry policy gave up: error.underlying?.code is the AWS error
/// }
/// ```
///
/// Apps throw it from their own doubles with the public initializer.
public struct PublishError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong. An open set of static members: match the ones you handle.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        /// The code as the wire writes it.
        public var rawValue: String
        /// Wraps a code as the wire writes it.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// A one-line text for logs and messages.
        public var description: String { rawValue }
        /// The record breaks a service limit (key length, size, explicit hash key); it was never sent.
        public static let invalidRecord = Code(rawValue: "InvalidRecord")
        /// The event could not be encoded; nothing was sent.
        public static let encodingFailed = Code(rawValue: "EncodingFailed")
        /// Kinesis refused it with an error no retry can fix (``PublishError/underlying`` says which).
        public static let rejected = Code(rawValue: "Rejected")
        /// Every attempt met a retryable error (throttling, 5xx, connection) until the retry
        /// policy's attempts or deadline ran out.
        public static let retriesExhausted = Code(rawValue: "RetriesExhausted")
        /// The record outlived the producer's time-to-live before it could be delivered.
        public static let expired = Code(rawValue: "Expired")
        /// The publisher was shut down or cancelled before delivering it.
        public static let shutDown = Code(rawValue: "ShutDown")
    }

    /// What went wrong.
    public var code: Code
    /// A sentence naming the record and the cause.
    public var message: String
    /// Sends attempted (0 when the record was refused before sending).
    public var attempts: Int
    /// The last error Kinesis (or the connection) gave, if any.
    public var underlying: KinesisError?
    /// For ``Code/invalidRecord``, the rule broken: `InvalidPartitionKey`, `RecordTooLarge` or
    /// `InvalidExplicitHashKey`.
    public var rule: String?

    /// Makes an error; public so that an app's own test doubles can throw what production throws.
    public init(code: Code, message: String, attempts: Int = 0, underlying: KinesisError? = nil, rule: String? = nil) {
        self.code = code
        self.message = message
        self.attempts = attempts
        self.underlying = underlying
        self.rule = rule
    }

    /// Wraps the error a send ended with: ``Code/retriesExhausted`` when it could have been
    /// retried, ``Code/rejected`` otherwise.
    public init(failedWith error: KinesisError, attempts: Int) {
        self.init(code: error.isRetryable ? .retriesExhausted : .rejected, message: error.message, attempts: attempts, underlying: error)
    }

    /// `event` encoded by `encode`; a failure becomes ``Code/encodingFailed``, naming the type.
    public static func encoding<Event: Encodable>(_ event: Event, with encode: (any Encodable) throws -> Data) throws(PublishError) -> Data {
        do {
            return try encode(event)
        } catch {
            throw PublishError(code: .encodingFailed, message: "could not encode \(Event.self) as JSON: \(error)")
        }
    }

    /// The AWS error type of ``underlying``, if any.
    public var lastErrorCode: String? { underlying?.code.rawValue }

    /// The code to count this failure under: the AWS error type of a rejected or exhausted
    /// send, the broken rule of an invalid record, else ``code`` (`Expired`, `ShutDown`, ...).
    public var reportedCode: String {
        switch code {
        case .rejected, .retriesExhausted: lastErrorCode ?? code.rawValue
        case .invalidRecord: rule ?? code.rawValue
        default: code.rawValue
        }
    }

    /// A one-line text for logs and messages.
    public var description: String {
        var text = "\(code.rawValue): \(message)"
        if attempts > 0 { text += " (\(attempts) attempt\(attempts == 1 ? "" : "s")" + (lastErrorCode.map { ", last error \($0))" } ?? ")") }
        return text
    }
}

/// The ``Producer``'s name for ``PublishError``.
public typealias ProducerError = PublishError
