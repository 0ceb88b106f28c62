extension Duration {
    /// The duration in seconds, fractional: for clocks and rates kept as Doubles.
    package var timeInterval: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// The duration in whole nanoseconds, as NIO and AsyncHTTPClient take timeouts.
    package var wholeNanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
