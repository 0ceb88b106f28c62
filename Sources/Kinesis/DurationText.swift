import Foundation

/// Durations as people write them in scenario files and flags: `250ms`, `30s`, `2m`, `1h`,
/// `1m30s`, `1.5s`. The one parser of the package (scenarios, `serve --faults latency=`).
public enum DurationText {
    private static let units: [(suffix: String, seconds: Double)] = [
        ("ms", 0.001), ("us", 0.000_001), ("h", 3600), ("m", 60), ("s", 1),
    ]

    /// The longest duration accepted: about 292 years, the most nanoseconds an Int64 holds.
    /// Longer texts are refused rather than overflowing.
    public static let maximumSeconds = Double(Int64.max) / 1e9

    /// ``maximumSeconds`` in whole hours, for error messages.
    public static let maximumText = "\(Int(maximumSeconds / 3600))h"

    /// nil when `text` is not a duration (or is longer than ``maximumSeconds``).
    public static func parse(_ text: String) -> Duration? {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard !rest.isEmpty else { return nil }
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.suffix) }) else { return nil }
            rest = rest.dropFirst(unit.suffix.count)
            total += value * unit.seconds
        }
        guard total.isFinite, total < maximumSeconds else { return nil }
        return .nanoseconds(Int64((total * 1e9).rounded()))
    }

    /// The shortest text that reads back as `duration` (to three significant digits).
    public static func format(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        if seconds < 1 { return "\(trim(seconds * 1000))ms" }
        if seconds < 60 || seconds.truncatingRemainder(dividingBy: 60) != 0 { return "\(trim(seconds))s" }
        if seconds.truncatingRemainder(dividingBy: 3600) != 0 { return "\(trim(seconds / 60))m" }
        return "\(trim(seconds / 3600))h"
    }

    private static func trim(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.3g", value)
    }
}
