import Crypto
import Foundation
import NIOHTTP1
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps temporary credentials and gets new ones before they expire: `refreshBefore` ahead of
/// the expiration (5 minutes by default, as the SDKs do). Concurrent callers share one refresh;
/// credentials without an expiration are kept for good.
public final class RefreshingCredentialProvider: CredentialProvider {
    private let base: any CredentialProvider
    private let refreshBefore: Duration
    private let now: @Sendable () -> Date
    private struct State {
        var current: AWSCredentials?
        var refreshing: Task<AWSCredentials, any Error>?
    }
    private let state = Mutex(State())

    /// Wraps `base`; `now` is the clock (a test passes its own).
    public init(_ base: any CredentialProvider, refreshBefore: Duration = .seconds(300), now: @escaping @Sendable () -> Date = { Date() }) {
        self.base = base
        self.refreshBefore = refreshBefore
        self.now = now
    }

    public func credentials() async throws -> AWSCredentials {
        let margin = refreshBefore.timeInterval
        enum Next {
            case ready(AWSCredentials)
            case wait(Task<AWSCredentials, any Error>)
        }
        // Every request asks: the common answer (still fresh) costs one lock and no task.
        let next: Next = state.withLock { state in
            if let current = state.current, current.expiration.map({ $0.timeIntervalSince(now()) > margin }) ?? true {
                return .ready(current)
            }
            if let refreshing = state.refreshing { return .wait(refreshing) }
            let refreshing = Task { [base] in try await base.credentials() }
            state.refreshing = refreshing
            return .wait(refreshing)
        }
        let task: Task<AWSCredentials, any Error>
        switch next {
        case .ready(let current): return current
        case .wait(let refreshing): task = refreshing
        }
        do {
            let fresh = try await task.value
            state.withLock { state in
                if state.refreshing == task {
                    state.current = fresh
                    state.refreshing = nil
                }
            }
            return fresh
        } catch {
            state.withLock { state in if state.refreshing == task { state.refreshing = nil } }
            throw error
        }
    }
}

/// Web identity federation (EKS pods, CI OIDC): the token in `tokenFile` is exchanged with STS
/// AssumeRoleWithWebIdentity for credentials of `roleArn`. The file is read again at each
/// refresh (Kubernetes rotates it).
public struct WebIdentityCredentialProvider: CredentialProvider {
    public var roleArn: String
    public var tokenFile: String
    public var sessionName: String
    public var sts: SecurityTokenService

    public init(roleArn: String, tokenFile: String, sessionName: String? = nil, sts: SecurityTokenService) {
        self.roleArn = roleArn
        self.tokenFile = tokenFile
        self.sessionName = sessionName ?? "kinesis-toolkit-\(Int(Date().timeIntervalSince1970))"
        self.sts = sts
    }

    public func credentials() async throws -> AWSCredentials {
        guard let raw = FileManager.default.contents(atPath: tokenFile) else {
            throw CredentialsError("the web identity token file \(tokenFile) cannot be read")
        }
        let token = String(decoding: raw, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { throw CredentialsError("the web identity token file \(tokenFile) is empty") }
        return try await sts.assumeRoleWithWebIdentity(roleArn: roleArn, sessionName: sessionName, token: token)
    }
}

/// A role assumed with other credentials (a profile's `role_arn` with `source_profile` or
/// `credential_source`): STS AssumeRole, signed with the source's credentials.
public struct AssumeRoleCredentialProvider: CredentialProvider {
    public var roleArn: String
    public var sessionName: String
    public var externalId: String?
    public var durationSeconds: Int?
    public var source: any CredentialProvider
    public var sts: SecurityTokenService

    public init(
        roleArn: String, sessionName: String? = nil, externalId: String? = nil, durationSeconds: Int? = nil, source: any CredentialProvider,
        sts: SecurityTokenService
    ) {
        self.roleArn = roleArn
        self.sessionName = sessionName ?? "kinesis-toolkit-\(Int(Date().timeIntervalSince1970))"
        self.externalId = externalId
        self.durationSeconds = durationSeconds
        self.source = source
        self.sts = sts
    }

    public func credentials() async throws -> AWSCredentials {
        let sourceCredentials = try await source.credentials()
        return try await sts.assumeRole(
            roleArn: roleArn, sessionName: sessionName, externalId: externalId, durationSeconds: durationSeconds, source: sourceCredentials)
    }
}

/// A profile's `credential_process`: runs the command and reads the JSON it prints
/// (`Version` 1, `AccessKeyId`, `SecretAccessKey`, optional `SessionToken` and `Expiration`).
///
/// The command runs in a process group of its own, with stdin and stderr on /dev/null and the
/// default signal dispositions. It gets `timeout` (60 s by default) to print its answer and
/// exit, and `outputLimit` bytes (64,000, the Java SDK's limit) to print it in; past either,
/// or when the calling task is cancelled, its whole group is killed and reaped.
/// ``terminateRunning()`` kills every one still running (a command's signal handler calls it,
/// so that Ctrl-C or SIGTERM never leaves one behind).
public struct ProcessCredentialProvider: CredentialProvider {
    public var command: String
    /// Names the provider in errors (the profile), never the command's output.
    public var origin: String
    public var timeout: Duration
    public var outputLimit: Int

    public init(command: String, origin: String, timeout: Duration = .seconds(60), outputLimit: Int = 64_000) {
        self.command = command
        self.origin = origin
        self.timeout = timeout
        self.outputLimit = outputLimit
    }

    struct Output: Decodable {
        var Version: Int
        var AccessKeyId: String
        var SecretAccessKey: String
        var SessionToken: String?
        var Expiration: String?
    }

    /// Process groups of the commands running now.
    private static let running = Mutex<Set<pid_t>>([])

    /// Kills every credential command still running, with its children.
    public static func terminateRunning() {
        running.withLock { running in for group in running { kill(-group, SIGKILL) } }
    }

    /// Kills the group of `pid` while it is registered (it is removed right after it is reaped),
    /// so that a number already handed back to the system is not signalled.
    static func killGroup(_ pid: pid_t) {
        running.withLock { running in if running.contains(pid) { kill(-pid, SIGKILL) } }
    }

    /// How a command ended.
    enum Ending: Sendable {
        case finished(output: [UInt8], status: Int32)
        case tooMuchOutput
        case timedOut
        case cancelled
    }

    public func credentials() async throws -> AWSCredentials {
        let (pid, output) = try Self.spawn(command, origin: origin)
        let ending = await Self.wait(pid: pid, output: output, timeout: timeout, limit: outputLimit)
        let data: [UInt8]
        switch ending {
        case .timedOut: throw CredentialsError("\(origin): credential_process did not finish within \(timeout); it was stopped")
        case .cancelled: throw CancellationError()
        case .tooMuchOutput: throw CredentialsError("\(origin): credential_process printed more than \(outputLimit) bytes; it was stopped")
        case .finished(let output, let status):
            guard status == 0 else {
                let signal = status & 0x7F
                throw CredentialsError(
                    signal == 0
                        ? "\(origin): credential_process exited with status \((status >> 8) & 0xFF)"
                        : "\(origin): credential_process was killed by signal \(signal)")
            }
            data = output
        }
        guard let parsed = try? JSONDecoder().decode(Output.self, from: Data(data)) else {
            throw CredentialsError("\(origin): credential_process did not print the expected JSON (Version, AccessKeyId, SecretAccessKey)")
        }
        guard parsed.Version == 1 else {
            throw CredentialsError("\(origin): credential_process printed Version \(parsed.Version); only Version 1 is known")
        }
        return AWSCredentials(
            accessKeyId: parsed.AccessKeyId, secretAccessKey: parsed.SecretAccessKey, sessionToken: parsed.SessionToken,
            expiration: parsed.Expiration.flatMap(SecurityTokenService.parseDate))
    }

    /// Starts `/bin/sh -c command` in a new process group; returns its pid and the read end of its stdout.
    static func spawn(_ command: String, origin: String) throws -> (pid_t, Int32) {
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else {
            throw CredentialsError("\(origin): credential_process could not be started (\(String(cString: strerror(errno))))")
        }
        // Never inherited by another child (the child's stdout is a dup2, which drops the flag).
        for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setpgroup(&attributes, 0)
        // The signals a command line ignores to handle them itself are the child's defaults again.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in [SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT] { sigaddset(&defaults, number) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let arguments: [UnsafeMutablePointer<CChar>?] = ["/bin/sh", "-c", command].map { (text: String) in strdup(text) }
        defer { for argument in arguments { free(argument) } }
        var pid = pid_t()
        let started = running.withLock { running -> Int32 in
            // Registered under the lock, so that terminateRunning() never misses it.
            let result = posix_spawn(&pid, "/bin/sh", &actions, &attributes, arguments + [nil], environ)
            if result == 0 { running.insert(pid) }
            return result
        }
        close(pipeEnds[1])
        guard started == 0 else {
            close(pipeEnds[0])
            throw CredentialsError("\(origin): credential_process could not be started (\(String(cString: strerror(started))))")
        }
        return (pid, pipeEnds[0])
    }

    /// Reads the command's output on a thread of its own (a blocking read never holds a
    /// task's thread), and ends it on time, on too much output or on cancellation.
    static func wait(pid: pid_t, output: Int32, timeout: Duration, limit: Int) async -> Ending {
        let outcome = Mutex<(ending: Ending?, continuation: CheckedContinuation<Ending, Never>?)>((nil, nil))
        @Sendable func end(_ ending: Ending) {
            let (first, continuation) = outcome.withLock { state -> (Bool, CheckedContinuation<Ending, Never>?) in
                guard state.ending == nil else { return (false, nil) }
                state.ending = ending
                defer { state.continuation = nil }
                return (true, state.continuation)
            }
            guard first else { return }
            continuation?.resume(returning: ending)
            if case .finished = ending { return }
            killGroup(pid)
        }
        let reader = Thread {
            var collected: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 16_384)
            var overflow = false
            while true {
                let count = buffer.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                if count <= 0 { break }
                if collected.count + count > limit {
                    overflow = true
                    killGroup(pid)
                    break
                }
                collected += buffer[0..<count]
            }
            close(output)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0, errno == EINTR {}
            _ = running.withLock { $0.remove(pid) }
            end(overflow ? .tooMuchOutput : .finished(output: collected, status: status))
        }
        reader.start()
        let timer = Task {
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled { end(.timedOut) }
        }
        defer { timer.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready = outcome.withLock { state -> Ending? in
                    if let ending = state.ending { return ending }
                    state.continuation = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            end(.cancelled)
        }
    }
}

/// The JSON the ECS and EC2 metadata services answer with.
struct MetadataCredentials: Decodable {
    var AccessKeyId: String
    var SecretAccessKey: String
    var Token: String?
    var Expiration: String?
    var Code: String?

    var credentials: AWSCredentials {
        AWSCredentials(
            accessKeyId: AccessKeyId, secretAccessKey: SecretAccessKey, sessionToken: Token,
            expiration: Expiration.flatMap(SecurityTokenService.parseDate))
    }
}

/// ECS task (and EKS Pod Identity) credentials: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` on
/// 169.254.170.2, or `AWS_CONTAINER_CREDENTIALS_FULL_URI` (https, or http on a loopback or the
/// container addresses), with `AWS_CONTAINER_AUTHORIZATION_TOKEN` or `_TOKEN_FILE` as the
/// Authorization header.
public struct ContainerCredentialProvider: CredentialProvider {
    public var url: URL
    var authorization: @Sendable () throws -> String?
    var http = CredentialHTTP(timeout: .seconds(5))

    /// The provider the environment describes, nil when it names no container endpoint.
    public init?(environment: [String: String]) throws {
        if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"], !relative.isEmpty {
            guard let url = URL(string: "http://169.254.170.2" + (relative.hasPrefix("/") ? relative : "/" + relative)) else {
                throw CredentialsError("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI='\(relative)' is not a path")
            }
            self.url = url
        } else if let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"], !full.isEmpty {
            guard let url = URL(string: full), let host = url.host, url.scheme == "https" || url.scheme == "http" else {
                throw CredentialsError("AWS_CONTAINER_CREDENTIALS_FULL_URI='\(full)' is not an http(s) URL")
            }
            let allowed = ["127.0.0.1", "localhost", "::1", "169.254.170.2", "169.254.170.23", "fd00:ec2::23"]
            guard url.scheme == "https" || allowed.contains(host) || host.hasPrefix("127.") else {
                throw CredentialsError(
                    "AWS_CONTAINER_CREDENTIALS_FULL_URI: plain http is allowed only to a loopback or the container credential addresses, not \(host)")
            }
            self.url = url
        } else {
            return nil
        }
        let token = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        let tokenFile = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        authorization = {
            if let tokenFile {
                guard let data = FileManager.default.contents(atPath: tokenFile) else {
                    throw CredentialsError("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(tokenFile) cannot be read")
                }
                return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            return token
        }
    }

    public func credentials() async throws -> AWSCredentials {
        let headers = try authorization().map { [("Authorization", $0)] } ?? []
        let answer = try await http.send(.GET, url, headers: headers, what: "container credentials")
        guard answer.status == 200 else { throw CredentialsError("container credentials: \(url.host ?? "") answered HTTP \(answer.status)") }
        guard let parsed = try? JSONDecoder().decode(MetadataCredentials.self, from: answer.data) else {
            throw CredentialsError("container credentials: the answer is not the expected JSON")
        }
        return parsed.credentials
    }
}

/// EC2 instance profile credentials through IMDSv2: a session token from `PUT /latest/api/token`,
/// then the role's credentials. `AWS_EC2_METADATA_SERVICE_ENDPOINT` moves it,
/// `AWS_EC2_METADATA_DISABLED=true` turns it off; a one-second limit keeps a laptop from hanging.
public struct InstanceMetadataCredentialProvider: CredentialProvider {
    public var endpoint: URL
    var http = CredentialHTTP(timeout: .seconds(1))

    /// Whether the environment turns the instance metadata service off.
    public static func isDisabled(_ environment: [String: String]) -> Bool {
        environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true"
    }

    public init(environment: [String: String]) throws {
        let text = environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 } ?? "http://169.254.169.254"
        guard let url = URL(string: text), url.host != nil else {
            throw CredentialsError("AWS_EC2_METADATA_SERVICE_ENDPOINT='\(text)' is not a URL")
        }
        endpoint = url
    }

    func url(_ path: String) -> URL {
        URL(string: endpoint.absoluteString.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path)!
    }

    public func credentials() async throws -> AWSCredentials {
        let tokenAnswer = try await http.send(
            .PUT, url("/latest/api/token"), headers: [("X-aws-ec2-metadata-token-ttl-seconds", "21600")], what: "instance metadata (IMDSv2 token)")
        guard tokenAnswer.status == 200 else {
            throw CredentialsError("instance metadata: the IMDSv2 token request was answered HTTP \(tokenAnswer.status)")
        }
        let token = [("X-aws-ec2-metadata-token", tokenAnswer.text)]
        let base = "/latest/meta-data/iam/security-credentials/"
        let roleAnswer = try await http.send(.GET, url(base), headers: token, what: "instance metadata (role)")
        let role = roleAnswer.text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        guard roleAnswer.status == 200, !role.isEmpty else {
            throw CredentialsError("instance metadata: no instance profile role (HTTP \(roleAnswer.status))")
        }
        let answer = try await http.send(.GET, url(base + role), headers: token, what: "instance metadata (credentials of \(role))")
        guard answer.status == 200, let parsed = try? JSONDecoder().decode(MetadataCredentials.self, from: answer.data) else {
            throw CredentialsError("instance metadata: the credentials of role \(role) could not be read (HTTP \(answer.status))")
        }
        if let code = parsed.Code, code != "Success" { throw CredentialsError("instance metadata: role \(role) answered \(code)") }
        return parsed.credentials
    }
}

/// IAM Identity Center (SSO): the access token the AWS CLI cached at `aws sso login`, exchanged
/// at the SSO portal for the role's credentials. An expired or missing token is an error
/// telling the user to log in again.
public struct SSOCredentialProvider: CredentialProvider {
    public var profile: String
    public var startURL: String
    /// The `sso_session` name, when the profile uses one: the cache file is named after it.
    public var sessionName: String?
    public var region: String
    public var accountId: String
    public var roleName: String
    public var cacheFolder: String
    public var portal: URL
    var now: @Sendable () -> Date = { Date() }
    var http = CredentialHTTP()

    public init(
        profile: String, startURL: String, sessionName: String?, region: String, accountId: String, roleName: String,
        environment: [String: String]
    ) throws {
        self.profile = profile
        self.startURL = startURL
        self.sessionName = sessionName
        self.region = region
        self.accountId = accountId
        self.roleName = roleName
        let home = environment["HOME"] ?? NSHomeDirectory()
        cacheFolder = home + "/.aws/sso/cache"
        portal = try AWSService.sso.credentialEndpoint(region: region, environment: environment)
    }

    /// The AWS CLI's cache file: the SHA-1 of the session name (or of the start URL), in hex.
    public var cacheFile: String {
        let key = sessionName ?? startURL
        return cacheFolder + "/" + Insecure.SHA1.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined() + ".json"
    }

    struct CachedToken: Decodable {
        var accessToken: String
        var expiresAt: String
    }

    struct Answer: Decodable {
        struct Role: Decodable {
            var accessKeyId: String
            var secretAccessKey: String
            var sessionToken: String?
            var expiration: Double?
        }
        var roleCredentials: Role
    }

    public func credentials() async throws -> AWSCredentials {
        let login = "run `aws sso login --profile \(profile)`"
        guard let data = FileManager.default.contents(atPath: cacheFile),
            let cached = try? JSONDecoder().decode(CachedToken.self, from: data)
        else {
            throw CredentialsError("profile '\(profile)': no SSO login is cached (\(cacheFile)): \(login)")
        }
        guard let expires = SecurityTokenService.parseDate(cached.expiresAt.replacingOccurrences(of: "UTC", with: "Z")), expires > now() else {
            throw CredentialsError("profile '\(profile)': the SSO login has expired: \(login)")
        }
        let request = AWSClient.Request(
            method: .GET, path: "/federation/credentials", query: [("role_name", roleName), ("account_id", accountId)],
            headers: [("x-amz-sso_bearer_token", cached.accessToken)])
        let answer: AWSClient.Response
        do {
            answer = try await http.core(.sso, region: region, endpoint: portal).send("GetRoleCredentials", request)
        } catch let error as AWSError where error.httpStatus == 401 || error.httpStatus == 403 {
            throw CredentialsError("profile '\(profile)': the SSO portal refused the cached login (HTTP \(error.httpStatus ?? 0)): \(login)")
        } catch let error as AWSError where error.httpStatus != nil {
            throw CredentialsError(
                "profile '\(profile)': the SSO portal answered HTTP \(error.httpStatus ?? 0) without role credentials for \(roleName) in \(accountId)")
        } catch let error as AWSError {
            throw CredentialsError("the SSO portal (GetRoleCredentials): \(AWSHTTP.origin(of: portal)) did not answer (\(error.message))")
        }
        guard let parsed = try? JSONDecoder().decode(Answer.self, from: answer.data) else {
            throw CredentialsError("profile '\(profile)': the SSO portal answered HTTP \(answer.status) without role credentials for \(roleName) in \(accountId)")
        }
        let role = parsed.roleCredentials
        return AWSCredentials(
            accessKeyId: role.accessKeyId, secretAccessKey: role.secretAccessKey, sessionToken: role.sessionToken,
            expiration: role.expiration.map { Date(timeIntervalSince1970: $0 / 1000) })
    }
}
