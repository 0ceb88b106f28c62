import Testing

@testable import Kinesis

/// A clock whose sleeps return at once and only advance its time.
final class InstantClock: Clock, @unchecked Sendable {
    typealias Duration = Swift.Duration
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }
    private(set) var now = Instant(offset: .zero)
    private(set) var sleeps: [Duration] = []
    var minimumResolution: Duration { .nanoseconds(1) }
    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        sleeps.append(now.duration(to: deadline))
        now = deadline
    }
}

@Suite("Retry policy")
struct RetryPolicyTests {
    static let throttled = KinesisError(code: .provisionedThroughputExceeded, message: "Rate exceeded", httpStatus: 400)

    @Test(
        "retries throttling, 5xx and connection failures; never validation or missing streams",
        arguments: [
            (KinesisError.Code.provisionedThroughputExceeded, 400, true), (.limitExceeded, 400, true),
            (.internalFailure, 500, true), ("SomethingNew", 503, true), (.connectionFailure, 0, true),
            (.timeout, 0, true), (.validation, 400, false), (.resourceNotFound, 400, false),
            (.invalidArgument, 400, false), (.resourceInUse, 400, false), (.expiredIterator, 400, false),
            (.accessDenied, 400, false), (.serialization, 400, false),
        ])
    func retryability(code: KinesisError.Code, status: Int, retryable: Bool) {
        let error = KinesisError(code: code, message: "", httpStatus: status == 0 ? nil : status)
        #expect(error.isRetryable == retryable)
    }

    @Test("full jitter: the wait is within 0...min(maxDelay, base*2^(n-1))")
    func fullJitter() {
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: .milliseconds(100), maxDelay: .seconds(1), deadline: nil)
        #expect(policy.backoffCeiling(retry: 1) == .milliseconds(100))
        #expect(policy.backoffCeiling(retry: 3) == .milliseconds(400))
        #expect(policy.backoffCeiling(retry: 9) == .seconds(1))
        var random = SplitMix64(seed: 42)
        for attempt in 1...9 {
            let ceiling = policy.backoffCeiling(retry: attempt)
            var waits: [Duration] = []
            for _ in 0..<200 {
                guard case .retry(let wait) = policy.decide(after: Self.throttled, attempt: attempt, elapsed: .zero, using: &random)
                else {
                    Issue.record("attempt \(attempt) should be retried")
                    return
                }
                waits.append(wait)
            }
            #expect(waits.allSatisfy { $0 >= .zero && $0 <= ceiling })
            // Spread over the whole interval, not bunched at its top as plain exponential backoff is.
            #expect(waits.min()! < ceiling / 10)
            #expect(waits.max()! > ceiling * 9 / 10)
        }
        #expect(policy.decide(after: Self.throttled, attempt: 10, elapsed: .zero, using: &random) == .fail)
    }

    @Test("stops after maxAttempts and throws the last error")
    func attemptsRunOut() async throws {
        let clock = InstantClock()
        let policy = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10), deadline: nil)
        var calls = 0
        await #expect(throws: Self.throttled) {
            try await policy.run(clock: clock) { _ in
                calls += 1
                throw Self.throttled
            } as Void
        }
        #expect(calls == 3)
        #expect(clock.sleeps.count == 2)
    }

    @Test("never retries a validation error")
    func noRetryOnValidation() async throws {
        var calls = 0
        let validation = KinesisError(code: .validation, message: "bad", httpStatus: 400)
        await #expect(throws: validation) {
            try await RetryPolicy().run(clock: InstantClock()) { _ in
                calls += 1
                throw validation
            } as Void
        }
        #expect(calls == 1)
    }

    @Test("does not start an attempt past the deadline")
    func deadline() async throws {
        let clock = InstantClock()
        let policy = RetryPolicy(
            maxAttempts: 1000, baseDelay: .seconds(1), maxDelay: .seconds(1), deadline: .seconds(10))
        var calls = 0
        await #expect(throws: Self.throttled) {
            try await policy.run(clock: clock) { _ in
                calls += 1
                throw Self.throttled
            } as Void
        }
        #expect(clock.now.offset < .seconds(10))
        #expect(calls > 1)
    }

    @Test("returns the first success")
    func succeeds() async throws {
        var calls = 0
        let value = try await RetryPolicy().run(clock: InstantClock()) { attempt in
            calls += 1
            if attempt < 3 { throw Self.throttled }
            return attempt
        }
        #expect(value == 3)
        #expect(calls == 3)
    }
}
