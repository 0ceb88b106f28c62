extension Duration {
    /// The duration in seconds, fractional: for clocks and rates kept as Doubles.
    package var timeInterval: Double {
        let (seconds, attoseconds) = components  // computed once: each read divides an Int128
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// The duration in whole nanoseconds, as NIO and AsyncHTTPClient take timeouts.
    package var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
