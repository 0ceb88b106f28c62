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
        guard let (keys, source) = try files.profileKeys(profile) else { return nil }
        return try Self.staticKeys(keys, profile: profile, source: source)
    }

    /// The static key pair among a profile's settings, nil when it has no `aws_access_key_id`.
    static func staticKeys(_ keys: [String: String], profile: String, source: String) throws -> AWSCredentials? {
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

/// The credential chain of the AWS SDKs, in their order: explicit credentials; the environment
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`); web identity from the
/// environment (`AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN`, `AWS_ROLE_SESSION_NAME`: EKS pods);
/// the selected profile of the shared files (`AWS_PROFILE`, default `default`) in all its forms
/// (static keys, `role_arn` with `source_profile` or `credential_source`, `web_identity_token_file`,
/// `credential_process`, SSO); ECS container credentials; EC2 instance metadata (IMDSv2).
///
/// The first configured source is kept; temporary credentials are refreshed five minutes before
/// they expire, one refresh shared by concurrent callers. An error lists every source tried and
/// never holds a secret, a session token or a web identity token.
public final class DefaultCredentialChain: CredentialProvider {
    private let explicit: AWSCredentials?
    private let environment: [String: String]
    private let profile: String
    private let files: SharedConfigFiles
    /// The region whose STS (and SSO portal) the chain calls.
    public let region: String
    private let selected = Mutex<(any CredentialProvider)?>(nil)
    /// The profile was chosen (in code or by AWS_PROFILE), not the default: one that does not exist is an error.
    private let profileNamed: Bool
    private let profileFromEnvironment: Bool

    /// - Parameters:
    ///   - explicit: credentials given in code; they win over everything else.
    ///   - profile: the profile to read; defaults to `AWS_PROFILE`, then `default`.
    ///   - region: the region of STS calls; defaults to `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`, `us-east-1`.
    public init(
        explicit: AWSCredentials? = nil, profile: String? = nil, region: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.explicit = explicit
        self.environment = environment
        let fromEnvironment = environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 }
        profileNamed = profile != nil || fromEnvironment != nil
        profileFromEnvironment = profile == nil && fromEnvironment != nil
        let profile = profile ?? fromEnvironment ?? "default"
        self.profile = profile
        let files = SharedConfigFiles(environment: environment)
        self.files = files
        self.region =
            region ?? environment["AWS_REGION"].flatMap { $0.isEmpty ? nil : $0 } ?? environment["AWS_DEFAULT_REGION"].flatMap { $0.isEmpty ? nil : $0 }
            ?? files.configValue("region", profile: profile) ?? "us-east-1"
    }

    /// The first credentials a source in the chain provides.
    public func credentials() async throws -> AWSCredentials {
        let provider = try selected.withLock { selected in
            if let selected { return selected }
            let provider = try select()
            selected = provider
            return provider
        }
        do {
            return try await provider.credentials()
        } catch let error as CredentialsError where provider is LastResort {
            throw CredentialsError("\(nothingFound) and the EC2 instance metadata service (\(error.message)); set AWS_EC2_METADATA_DISABLED=true to skip it")
        }
    }

    /// The instance metadata service, tried when nothing else is configured: its failure is
    /// reported as "nothing found".
    private struct LastResort: CredentialProvider {
        var base: any CredentialProvider
        func credentials() async throws -> AWSCredentials { try await base.credentials() }
    }

    private var nothingFound: String {
        "no AWS credentials found: tried explicit credentials, the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), "
            + "web identity (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN), profile '\(profile)' in \(files.credentialsPath) and \(files.configPath), "
            + "container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI)"
    }

    /// The source to use: the first one configured, in the SDKs' order.
    func select() throws -> any CredentialProvider {
        if let explicit { return StaticCredentialProvider(explicit) }
        if let fromEnvironment = try EnvironmentCredentialProvider(environment: environment).lookup() {
            return StaticCredentialProvider(fromEnvironment)
        }
        let profiles = ProfileResolver(files: files, environment: environment, region: region)
        if let tokenFile = environment["AWS_WEB_IDENTITY_TOKEN_FILE"], !tokenFile.isEmpty {
            guard let role = environment["AWS_ROLE_ARN"], !role.isEmpty else {
                throw CredentialsError("AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not: set both, or neither")
            }
            return RefreshingCredentialProvider(
                WebIdentityCredentialProvider(
                    roleArn: role, tokenFile: tokenFile, sessionName: environment["AWS_ROLE_SESSION_NAME"].flatMap { $0.isEmpty ? nil : $0 },
                    sts: try profiles.sts()))
        }
        if let fromProfile = try profiles.provider(for: profile) { return fromProfile }
        if profileNamed {
            throw CredentialsError(
                "profile '\(profile)'\(profileFromEnvironment ? " (from AWS_PROFILE)" : "") does not exist: neither \(files.credentialsPath) nor \(files.configPath) has it")
        }
        if let container = try ContainerCredentialProvider(environment: environment) { return RefreshingCredentialProvider(container) }
        if !InstanceMetadataCredentialProvider.isDisabled(environment) {
            return LastResort(base: RefreshingCredentialProvider(try InstanceMetadataCredentialProvider(environment: environment)))
        }
        throw CredentialsError(nothingFound + " (the EC2 instance metadata service is turned off by AWS_EC2_METADATA_DISABLED)")
    }
}

/// A profile of the shared files, in all the forms the AWS CLI takes.
struct ProfileResolver {
    var files: SharedConfigFiles
    var environment: [String: String]
    var region: String

    func sts() throws -> SecurityTokenService { try SecurityTokenService(region: region, environment: environment) }

    /// The provider of `profile`, nil when no file has that profile. `chain` holds the
    /// profiles that led here (`source_profile`), to name a cycle.
    func provider(for profile: String, chain: [String] = []) throws -> (any CredentialProvider)? {
        guard let (keys, source) = try files.profileSettings(profile) else { return nil }
        let name = "profile '\(profile)' in \(source)"
        if let role = keys["role_arn"], !role.isEmpty {
            if keys["mfa_serial"] != nil {
                throw CredentialsError(
                    "\(name) sets mfa_serial: roles that need an MFA code are not supported; use `aws sts assume-role` and put the result in the environment, or an SSO profile")
            }
            let sessionName = keys["role_session_name"]
            if let tokenFile = keys["web_identity_token_file"], !tokenFile.isEmpty {
                return RefreshingCredentialProvider(
                    WebIdentityCredentialProvider(roleArn: role, tokenFile: tokenFile, sessionName: sessionName, sts: try sts()))
            }
            let sourceProvider: any CredentialProvider
            if let sourceProfile = keys["source_profile"], !sourceProfile.isEmpty {
                if sourceProfile == profile {
                    // A profile may name itself: its own static keys assume its role.
                    guard let staticKeys = try ProfileCredentialProvider.staticKeys(keys, profile: profile, source: source) else {
                        throw CredentialsError("\(name) names itself as source_profile but has no aws_access_key_id")
                    }
                    sourceProvider = StaticCredentialProvider(staticKeys)
                } else if chain.contains(sourceProfile) {
                    throw CredentialsError(
                        "profiles form a cycle through source_profile: \((chain + [profile, sourceProfile]).joined(separator: " -> "))")
                } else {
                    guard let found = try provider(for: sourceProfile, chain: chain + [profile]) else {
                        throw CredentialsError("\(name): its source_profile '\(sourceProfile)' is not in \(files.credentialsPath) or \(files.configPath)")
                    }
                    sourceProvider = found
                }
            } else if let credentialSource = keys["credential_source"] {
                switch credentialSource {
                case "Environment":
                    guard let found = try EnvironmentCredentialProvider(environment: environment).lookup() else {
                        throw CredentialsError("\(name): credential_source Environment, but AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
                    }
                    sourceProvider = StaticCredentialProvider(found)
                case "EcsContainer":
                    guard let container = try ContainerCredentialProvider(environment: environment) else {
                        throw CredentialsError("\(name): credential_source EcsContainer, but AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI are not set")
                    }
                    sourceProvider = container
                case "Ec2InstanceMetadata":
                    sourceProvider = try InstanceMetadataCredentialProvider(environment: environment)
                default:
                    throw CredentialsError("\(name): credential_source '\(credentialSource)' is not Environment, EcsContainer or Ec2InstanceMetadata")
                }
            } else {
                throw CredentialsError("\(name) has role_arn but neither source_profile nor credential_source")
            }
            var duration: Int?
            if let text = keys["duration_seconds"] {
                guard let seconds = Int(text), (900...43_200).contains(seconds) else {
                    throw CredentialsError("\(name): duration_seconds='\(text)' is not a whole number from 900 to 43200")
                }
                duration = seconds
            }
            return RefreshingCredentialProvider(
                AssumeRoleCredentialProvider(
                    roleArn: role, sessionName: sessionName, externalId: keys["external_id"], durationSeconds: duration, source: sourceProvider,
                    sts: try sts()))
        }
        if keys["web_identity_token_file"] != nil {
            throw CredentialsError("\(name) has web_identity_token_file but no role_arn")
        }
        if keys["sso_session"] != nil || keys["sso_start_url"] != nil {
            var startURL = keys["sso_start_url"]
            var ssoRegion = keys["sso_region"]
            let session = keys["sso_session"]
            if let session {
                guard let settings = try files.section("sso-session \(session)") else {
                    throw CredentialsError("\(name) names sso_session '\(session)', but \(files.configPath) has no [sso-session \(session)]")
                }
                startURL = settings["sso_start_url"] ?? startURL
                ssoRegion = settings["sso_region"] ?? ssoRegion
            }
            var missing: [String] = []
            if startURL == nil { missing.append("sso_start_url") }
            if ssoRegion == nil { missing.append("sso_region") }
            if keys["sso_account_id"] == nil { missing.append("sso_account_id") }
            if keys["sso_role_name"] == nil { missing.append("sso_role_name") }
            guard missing.isEmpty, let startURL, let ssoRegion, let account = keys["sso_account_id"], let roleName = keys["sso_role_name"] else {
                throw CredentialsError("\(name) is an SSO profile without \(missing.joined(separator: ", "))")
            }
            return RefreshingCredentialProvider(
                try SSOCredentialProvider(
                    profile: profile, startURL: startURL, sessionName: session, region: ssoRegion, accountId: account, roleName: roleName,
                    environment: environment))
        }
        if let command = keys["credential_process"], !command.isEmpty {
            return RefreshingCredentialProvider(ProcessCredentialProvider(command: command, origin: name))
        }
        if let found = try ProfileCredentialProvider.staticKeys(keys, profile: profile, source: source) {
            return StaticCredentialProvider(found)
        }
        return nil
    }
}
