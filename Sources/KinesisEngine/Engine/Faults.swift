import Kinesis

/// Failures the engine injects, scripted or drawn from a seeded generator.
///
/// ```swift
/// kinesis.faults { faults in
///     faults.failNext(2, .putRecords, with: .throttled)           // the next two PutRecords calls fail
///     faults.recordThrottleProbability = 0.1                      // 10% of entries throttled
///     faults.recordInternalFailureProbability = 0.01
///     faults.recordDropProbability = 0.01                         // acknowledged, never stored
///     faults.recordDuplicateProbability = 0.01                    // stored twice
///     faults.latency = .milliseconds(20)
/// }
/// ```
public struct FaultPlan: Sendable {
    /// A scripted failure: the next `remaining` calls of `operation` (any when nil) fail.
    public struct Scripted: Sendable {
        /// The operation it fails; nil for any.
        public var operation: KinesisOperation?
        /// Calls it still fails.
        public var remaining: Int
        /// What those calls throw.
        public var error: KinesisError
    }

    /// What a scripted call fails with.
    public struct Failure: Sendable {
        /// The AWS error type.
        public var code: KinesisError.Code
        /// What went wrong, in a sentence.
        public var message: String
        /// The HTTP status the endpoint answers with.
        public var httpStatus: Int
        /// A failure of any kind.
        public init(code: KinesisError.Code, message: String, httpStatus: Int) {
            self.code = code
            self.message = message
            self.httpStatus = httpStatus
        }
        /// `ProvisionedThroughputExceededException`, HTTP 400.
        public static let throttled = Failure(code: .provisionedThroughputExceeded, message: "Rate exceeded (scripted fault)", httpStatus: 400)
        /// `InternalFailure`, HTTP 500.
        public static let internalFailure = Failure(code: .internalFailure, message: "Internal service failure (scripted fault)", httpStatus: 500)
        /// `ServiceUnavailable`, HTTP 503.
        public static let unavailable = Failure(code: .serviceUnavailable, message: "Service unavailable (scripted fault)", httpStatus: 503)
        /// `LimitExceededException`, HTTP 400 (control-plane throttling).
        public static let limitExceeded = Failure(code: .limitExceeded, message: "Rate exceeded (scripted fault)", httpStatus: 400)
    }

    /// Failures still to come, in order.
    public var scripted: [Scripted] = []
    /// Chance that a written record is refused with ProvisionedThroughputExceededException.
    public var recordThrottleProbability: Double = 0
    /// Chance that a written record fails with InternalFailure.
    public var recordInternalFailureProbability: Double = 0
    /// Chance that a written record is acknowledged (with a sequence number) but never stored:
    /// a lost write, for proving that read-back verification catches one.
    public var recordDropProbability: Double = 0
    /// Chance that a written record is stored twice (the copy right after it, with the next
    /// sequence number), as a retried put whose first attempt landed leaves it.
    public var recordDuplicateProbability: Double = 0
    /// Added before every answer.
    public var latency: Duration = .zero
    /// Engine-clock seconds during which every call fails with ServiceUnavailable.
    public var outage: ClosedRange<Double>?

    /// No faults.
    public init() {}

    /// Makes the next `count` calls of `operation` (of any operation when nil) fail.
    public mutating func failNext(_ count: Int, _ operation: KinesisOperation? = nil, with failure: Failure) {
        scripted.append(
            Scripted(
                operation: operation, remaining: count,
                error: KinesisError(code: failure.code, message: failure.message, httpStatus: failure.httpStatus)))
    }

    /// The scripted failure due for this call, if any; counts it down.
    mutating func takeScripted(for operation: KinesisOperation) -> KinesisError? {
        guard let index = scripted.firstIndex(where: { ($0.operation == nil || $0.operation == operation) && $0.remaining > 0 })
        else { return nil }
        scripted[index].remaining -= 1
        var error = scripted[index].error
        error.operation = operation.rawValue
        if scripted[index].remaining == 0 { scripted.remove(at: index) }
        return error
    }

    var injectsRecordFaults: Bool { recordThrottleProbability > 0 || recordInternalFailureProbability > 0 }
}
