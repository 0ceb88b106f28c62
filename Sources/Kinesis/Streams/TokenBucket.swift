/// A token bucket refilled continuously: `rate` tokens a second, holding at most one
/// second's worth. A pure value: the caller's clock (seconds) drives it. The engine uses it for
/// Kinesis's per-shard limits, the producer for its own rate limit.
public struct TokenBucket: Sendable {
    /// Tokens added per second.
    public let rate: Double
    /// Most tokens held: one second's worth.
    public let capacity: Double
    /// Tokens now (negative after a charge after the fact).
    public private(set) var tokens: Double
    /// When tokens were last refilled, in the caller's seconds.
    public private(set) var updated: Double

    /// A full bucket at `now`.
    public init(rate: Double, now: Double) {
        self.rate = rate
        self.capacity = rate
        self.tokens = rate
        self.updated = now
    }

    private mutating func refill(now: Double) {
        if now > updated {
            tokens = min(capacity, tokens + (now - updated) * rate)
            updated = now
        }
    }

    /// Takes `amount` tokens if there are that many; otherwise takes none.
    public mutating func take(_ amount: Double, now: Double) -> Bool {
        refill(now: now)
        guard tokens + Self.slack >= amount else { return false }
        tokens -= amount
        return true
    }

    /// Epoch seconds as a Double are exact to about 0.2 µs, so 100 ms of refill at 1,000/s can
    /// come to 99.99999 tokens; this much slack keeps such rounding from refusing a record.
    static let slack = 1e-3

    /// Spends tokens already used, going below zero if need be (reads are charged after the fact).
    public mutating func spend(_ amount: Double) { tokens -= amount }

    /// Takes from two buckets only if both have enough: a record needs a record token and its bytes.
    public static func take(_ first: inout TokenBucket, _ a: Double, _ second: inout TokenBucket, _ b: Double, now: Double) -> Bool {
        first.refill(now: now)
        second.refill(now: now)
        guard first.tokens + slack >= a, second.tokens + slack >= b else { return false }
        first.tokens -= a
        second.tokens -= b
        return true
    }
}

