/// An access key pair, with a session token for temporary credentials.
///
/// Its `description`, `debugDescription` and reflection never show the secret key or the
/// token, so a credential printed by mistake, logged or put in an error leaks nothing.
public struct AWSCredentials: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    public var accessKeyId: String
    public var secretAccessKey: String
    public var sessionToken: String?

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// The access key id with all but its last four characters masked, as the AWS CLI shows it.
    public var maskedAccessKeyId: String {
        let visible = accessKeyId.suffix(4)
        return String(repeating: "*", count: max(0, accessKeyId.count - visible.count)) + visible
    }

    public var description: String {
        "AWSCredentials(accessKeyId: \(maskedAccessKeyId), secretAccessKey: <redacted>"
            + (sessionToken == nil ? ")" : ", sessionToken: <redacted>)")
    }

    public var debugDescription: String { description }

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
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Fixed credentials given in code.
public struct StaticCredentialProvider: CredentialProvider {
    public let value: AWSCredentials
    public init(_ value: AWSCredentials) { self.value = value }
    public func credentials() async throws -> AWSCredentials { value }
}
