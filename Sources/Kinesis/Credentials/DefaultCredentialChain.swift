import Foundation
import Synchronization

/// Credentials from the environment: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and,
/// for temporary credentials, `AWS_SESSION_TOKEN`.
public struct EnvironmentCredentialProvider: CredentialProvider {
    /// The variables read (the process's by default).
    public let environment: [String: String]
    /// A chain reading `environment`.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// The credentials, nil when neither key is set; throws when only one of the pair is.
    public func lookup() throws -> AWSCredentials? {
        let id = environment["AWS_ACCESS_KEY_ID"].flatMap { $0.isEmpty ? nil : $0 }
        let secret = environment["AWS_SECRET_ACCESS_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        switch (id, secret) {
        case (nil, nil): return nil
        case (.some, nil):
            throw CredentialsError("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not: set both, or neither")
        case (nil, .some):
            throw CredentialsError("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not: set both, or neither")
        case (let id?, let secret?):
            let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
            return AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: token)
        }
    }

    /// The first credentials a source in the chain provides.
    public func credentials() async throws -> AWSCredentials {
        guard let found = try lookup() else {
            throw CredentialsError("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
        }
        return found
    }
}

/// Credentials of a profile in the shared AWS files.
public struct ProfileCredentialProvider: CredentialProvider {
    /// The profile read.
    public let profile: String
    /// Where the shared files are.
    public let files: SharedConfigFiles

    /// A provider for `profile` in `files`.
    public init(profile: String, files: SharedConfigFiles) {
        self.profile = profile
        self.files = files
    }

    /// The profile's credentials, nil when no file has the profile with a key.
    public func lookup() throws -> AWSCredentials? {
        guard let (keys, source) = files.profileKeys(profile) else { return nil }
        guard let id = keys["aws_access_key_id"], !id.isEmpty else { return nil }
        guard let secret = keys["aws_secret_access_key"], !secret.isEmpty else {
            throw CredentialsError("profile '\(profile)' in \(source) has aws_access_key_id but no aws_secret_access_key")
        }
        let token = keys["aws_session_token"].flatMap { $0.isEmpty ? nil : $0 }
        return AWSCredentials(accessKeyId: id, secretAccessKey: secret, sessionToken: token)
    }

    /// The first credentials a source in the chain provides.
    public func credentials() async throws -> AWSCredentials {
        guard let found = try lookup() else {
            throw CredentialsError(
                "profile '\(profile)' has no credentials in \(files.credentialsPath) or \(files.configPath)")
        }
        return found
    }
}

/// The credential chain of the AWS SDKs: explicit credentials, then the environment, then
/// the selected profile of the shared files (`AWS_PROFILE`, default `default`).
///
/// The first source that has credentials wins and is remembered; an error lists every
/// source that was tried.
public final class DefaultCredentialChain: CredentialProvider {
    private let explicit: AWSCredentials?
    private let environment: [String: String]
    private let profile: String
    private let files: SharedConfigFiles
    private let resolved = Mutex<AWSCredentials?>(nil)

    /// - Parameters:
    ///   - explicit: credentials given in code; they win over everything else.
    ///   - profile: the profile to read; defaults to `AWS_PROFILE`, then `default`.
    public init(
        explicit: AWSCredentials? = nil, profile: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.explicit = explicit
        self.environment = environment
        self.profile = profile ?? environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        self.files = SharedConfigFiles(environment: environment)
    }

    /// The first credentials a source in the chain provides.
    public func credentials() async throws -> AWSCredentials {
        if let cached = resolved.withLock({ $0 }) { return cached }
        let found = try resolve()
        resolved.withLock { $0 = found }
        return found
    }

    /// Searches the sources in order, without caching: explicit, environment, shared files.
    public func resolve() throws -> AWSCredentials {
        if let explicit { return explicit }
        if let fromEnvironment = try EnvironmentCredentialProvider(environment: environment).lookup() {
            return fromEnvironment
        }
        if let fromProfile = try ProfileCredentialProvider(profile: profile, files: files).lookup() {
            return fromProfile
        }
        throw CredentialsError(
            "no AWS credentials found: tried explicit credentials, the environment (AWS_ACCESS_KEY_ID and "
                + "AWS_SECRET_ACCESS_KEY), and profile '\(profile)' in \(files.credentialsPath) and \(files.configPath)")
    }
}
