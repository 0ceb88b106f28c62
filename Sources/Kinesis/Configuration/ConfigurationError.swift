/// A configuration value that cannot be used, naming where it came from, what it was and
/// what is allowed. Secrets are never included.
public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where the value came from: an environment variable, a flag, a file and key.
    public var source: String
    /// The offending value, or nil when it was missing or is secret.
    public var value: String?
    /// What was expected.
    public var expected: String

    /// An error naming the variable or flag, the value and what was expected.
    public init(source: String, value: String?, expected: String) {
        self.source = source
        self.value = value
        self.expected = expected
    }

    /// A one-line text for logs and messages.
    public var description: String {
        if let value {
            return "\(source)='\(value)' is not valid: expected \(expected)"
        }
        return "\(source) is not set: expected \(expected)"
    }
}
