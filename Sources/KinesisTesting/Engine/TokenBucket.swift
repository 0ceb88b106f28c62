/// A token bucket refilled continuously: `rate` tokens a second, holding at most one
/// second's worth. A pure value: the engine's clock drives it.
struct TokenBucket: Sendable {
    let rate: Double
    let capacity: Double
    private(set) var tokens: Double
    private(set) var updated: Double

    init(rate: Double, now: Double) {
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
    mutating func take(_ amount: Double, now: Double) -> Bool {
        refill(now: now)
        guard tokens + Self.slack >= amount else { return false }
        tokens -= amount
        return true
    }

    /// Epoch seconds as a Double are exact to about 0.2 µs, so 100 ms of refill at 1,000/s can
    /// come to 99.99999 tokens; this much slack keeps such rounding from refusing a record.
    static let slack = 1e-3

    /// Spends tokens already used, going below zero if need be (reads are charged after the fact).
    mutating func spend(_ amount: Double) { tokens -= amount }

    /// Takes from two buckets only if both have enough: a record needs a record token and its bytes.
    static func take(_ first: inout TokenBucket, _ a: Double, _ second: inout TokenBucket, _ b: Double, now: Double) -> Bool {
        first.refill(now: now)
        second.refill(now: now)
        guard first.tokens + slack >= a, second.tokens + slack >= b else { return false }
        first.tokens -= a
        second.tokens -= b
        return true
    }
}

/// Seeded SplitMix64: the engine's fault draws repeat run after run.
struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
