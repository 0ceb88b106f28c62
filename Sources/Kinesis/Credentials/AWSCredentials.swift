import Foundation

/// An access key pair, with a session token for temporary credentials.
///
/// Its `description`, `debugDescription` and reflection never show the secret key or the
/// token, so a credential printed by mistake, logged or put in an error leaks nothing.
public struct AWSCredentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The access key id (shown masked in descriptions).
    public var accessKeyId: String
    /// The secret key; never printed.
    public var secretAccessKey: String
    /// The session token of temporary credentials; never printed.
    public var sessionToken: String?
    /// When temporary credentials stop working (nil for long-term keys): a refreshing provider
    /// gets new ones before then.
    public var expiration: Date?

    /// Credentials from their parts.
    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }

    /// The access key id with all but its last four characters masked, as the AWS CLI shows it.
    public var maskedAccessKeyId: String {
        let visible = accessKeyId.suffix(4)
        return String(repeating: "*", count: max(0, accessKeyId.count - visible.count)) + visible
    }

    /// A one-line text for logs and messages.
    public var description: String {
        "AWSCredentials(accessKeyId: \(maskedAccessKeyId), secretAccessKey: <redacted>"
            + (sessionToken == nil ? ")" : ", sessionToken: <redacted>)")
    }

    /// The same as ``description``: never the secret.
    public var debugDescription: String { description }

    /// Shows the redacted form in debuggers and dumps.
    public var customMirror: Mirror {
        Mirror(self, children: ["accessKeyId": maskedAccessKeyId, "secretAccessKey": "<redacted>"])
    }
}

/// Something that supplies credentials when a request is signed.
public protocol CredentialProvider: Sendable {
    /// Returns current credentials, or throws ``CredentialsError`` saying what was looked at.
    func credentials() async throws -> AWSCredentials
}

/// Why no credentials could be found. Never contains a secret.
public struct CredentialsError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, in a sentence.
    public var message: String
    /// An error with its message.
    public init(_ message: String) { self.message = message }
    /// A one-line text for logs and messages.
    public var description: String { message }
}

/// Fixed credentials given in code.
public struct StaticCredentialProvider: CredentialProvider {
    /// The credentials it always returns.
    public let value: AWSCredentials
    /// A provider of `value`.
    public init(_ value: AWSCredentials) { self.value = value }
    /// Returns ``value``.
    public func credentials() async throws -> AWSCredentials { value }
}
