/// Seeded SplitMix64: fault draws, random keys and test data that repeat run after run.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    /// The generator's state: save it to repeat a sequence.
    public var state: UInt64
    /// A generator that repeats for the same seed.
    public init(seed: UInt64) { state = seed }
    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A Double in 0..<1.
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
