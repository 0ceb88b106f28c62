/// How a failed call is retried: exponential backoff with full jitter, a cap on attempts and
/// an overall deadline.
///
/// Throttling, 5xx answers and connection failures are retried; validation and other client
/// errors never are (``KinesisError/isRetryable``). The wait before retry `n` (1-based) is
/// uniform in `0...min(maxDelay, baseDelay * 2^(n-1))`, which spreads retrying clients apart
/// instead of having them return together.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts in all, the first included. 1 means no retries.
    public var maxAttempts: Int
    /// The ceiling of the first wait; it doubles each retry.
    public var baseDelay: Duration
    /// The largest ceiling of a wait.
    public var maxDelay: Duration
    /// Time from the first attempt after which no new attempt starts; nil for none.
    public var deadline: Duration?

    /// A policy; the defaults suit interactive calls (5 attempts within 60 s).
    public init(
        maxAttempts: Int = 5, baseDelay: Duration = .milliseconds(50), maxDelay: Duration = .seconds(5),
        deadline: Duration? = .seconds(60)
    ) {
        precondition(maxAttempts >= 1, "maxAttempts must be at least 1")
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.deadline = deadline
    }

    /// Never retry.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// What to do after a failed attempt.
    public enum Decision: Sendable, Hashable {
        case retry(after: Duration)
        case fail
    }

    /// The upper bound of the wait before retry number `retry` (1-based).
    public func backoffCeiling(retry: Int) -> Duration {
        let exponent = min(max(retry - 1, 0), 30)
        let ceiling = baseDelay * (1 << exponent)
        return min(ceiling, maxDelay)
    }

    /// Decides after attempt `attempt` (1-based) failed with `error`, `elapsed` after the first began.
    public func decide(
        after error: KinesisError, attempt: Int, elapsed: Duration, using random: inout some RandomNumberGenerator
    ) -> Decision {
        guard error.isRetryable, attempt < maxAttempts else { return .fail }
        let ceiling = backoffCeiling(retry: attempt)
        let ceilingNanos = ceiling.wholeNanoseconds
        let wait = Duration.nanoseconds(ceilingNanos > 0 ? Int64.random(in: 0...ceilingNanos, using: &random) : 0)
        if let deadline, elapsed + wait >= deadline { return .fail }
        return .retry(after: wait)
    }

    /// Runs `body` until it succeeds, fails with an error that cannot be retried, or the
    /// attempts or the deadline run out; then throws the last error.
    public func run<T: Sendable>(
        clock: some Clock<Duration> = ContinuousClock(),
        onRetry: (KinesisError, Int, Duration) -> Void = { _, _, _ in },
        _ body: (Int) async throws -> T
    ) async throws -> T {
        let start = clock.now
        var random = SystemRandomNumberGenerator()
        var attempt = 1
        while true {
            do {
                return try await body(attempt)
            } catch let error as KinesisError {
                switch decide(after: error, attempt: attempt, elapsed: start.duration(to: clock.now), using: &random) {
                case .fail:
                    throw error
                case .retry(let wait):
                    onRetry(error, attempt, wait)
                    try await clock.sleep(for: wait)
                    attempt += 1
                }
            }
        }
    }
}
