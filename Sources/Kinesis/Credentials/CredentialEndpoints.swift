import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The HTTP calls of the credential providers (STS, the SSO portal, the ECS and EC2 metadata
/// services): one request, a whole answer, a time limit. Nothing here logs, and no error
/// carries a secret, a session token or a web identity token.
struct CredentialHTTP: Sendable {
    /// A client that never follows a redirect: a credential endpoint that points elsewhere is
    /// refused (as the SDKs' container provider does), so credentials never go to another host.
    static let noRedirects = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: HTTPClient.Configuration(redirectConfiguration: .disallow))

    var client: HTTPClient = CredentialHTTP.noRedirects
    /// The whole exchange, body included: a server trickling its answer is cut off too.
    var timeout: Duration = .seconds(10)
    /// The largest answer read.
    static let bodyLimit = 1 << 20

    struct Answer {
        var status: Int
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    func send(_ method: HTTPMethod, _ url: URL, headers: [(String, String)] = [], body: Data? = nil, what: String) async throws -> Answer {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let origin = "\(url.scheme ?? "http")://\(url.host ?? "")\(url.port.map { ":\($0)" } ?? "")"
        let answer: Answer
        do {
            answer = try await Self.within(timeout) { [client, request] in
                let response = try await client.execute(request, timeout: .nanoseconds(timeout.wholeNanoseconds))
                if (300..<400).contains(Int(response.status.code)) {
                    let location = response.headers.first(name: "Location").flatMap { URL(string: $0)?.host } ?? "elsewhere"
                    throw Redirected(status: Int(response.status.code), to: location)
                }
                let bytes = try await response.body.collect(upTo: Self.bodyLimit)
                return Answer(status: Int(response.status.code), body: Data(bytes.readableBytesView))
            }
        } catch let redirect as Redirected {
            throw CredentialsError("\(what): \(origin) answered HTTP \(redirect.status), a redirect to \(redirect.to); credential endpoints are never followed to another address")
        } catch is TimedOut {
            throw CredentialsError("\(what): \(origin) did not answer in full within \(timeout)")
        } catch {
            throw CredentialsError("\(what): \(origin) did not answer (\(Self.describe(error)))")
        }
        return answer
    }

    struct Redirected: Error {
        var status: Int
        var to: String
    }

    struct TimedOut: Error {}

    /// `body`'s result, or ``TimedOut`` once `limit` has passed (the body is cancelled).
    static func within<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw TimedOut() }
            return value
        }
    }

    /// A transport error in a few words (never a header or a body).
    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout: return "timed out"
            default: break
            }
        }
        let text = String(describing: error)
        return text.count > 120 ? String(text.prefix(120)) + "..." : text
    }
}

/// Where the credential providers' services are: the SDKs' `AWS_ENDPOINT_URL_<SERVICE>`, then
/// `AWS_ENDPOINT_URL`, then the service's regional endpoint.
enum ServiceEndpoint {
    static func url(environmentKey: String, environment: [String: String], default fallback: String) throws -> URL {
        for key in ["AWS_ENDPOINT_URL_\(environmentKey)", "AWS_ENDPOINT_URL"] {
            if let value = environment[key], !value.isEmpty {
                guard let url = URL(string: value), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                    throw CredentialsError("\(key)='\(value)' is not an http(s) URL")
                }
                return url
            }
        }
        return URL(string: fallback)!
    }
}

/// The STS calls the providers make: AssumeRole (signed with the source credentials, SigV4,
/// service `sts`, at the regional endpoint) and AssumeRoleWithWebIdentity (unsigned: the
/// token is the proof). Query protocol: a form POST, an XML answer.
public struct SecurityTokenService: Sendable {
    /// The region whose STS endpoint is called (and whose key signs).
    public var region: String
    /// The endpoint: `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, or `https://sts.REGION.amazonaws.com`.
    public var endpoint: URL
    var http = CredentialHTTP()

    /// STS of `region`, at the endpoint the environment names.
    public init(region: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.region = region
        endpoint = try ServiceEndpoint.url(
            environmentKey: "STS", environment: environment, default: "https://sts.\(region).amazonaws.com")
    }

    /// Temporary credentials of `roleArn`, asked for with `source`.
    public func assumeRole(
        roleArn: String, sessionName: String, externalId: String? = nil, durationSeconds: Int? = nil, source: AWSCredentials
    ) async throws -> AWSCredentials {
        var form = [("Action", "AssumeRole"), ("Version", "2011-06-15"), ("RoleArn", roleArn), ("RoleSessionName", sessionName)]
        if let externalId { form.append(("ExternalId", externalId)) }
        if let durationSeconds { form.append(("DurationSeconds", String(durationSeconds))) }
        let body = Data(Self.formEncode(form).utf8)
        var components = URLComponents(url: endpoint, resolvingAgainstBaseURL: false)!
        if components.path.isEmpty { components.path = "/" }
        let url = components.url!
        let host = HTTPKinesisClient.hostHeader(for: url)
        let signed = SigV4Signer(service: "sts", region: region).sign(
            method: "POST", path: components.path,
            headers: [("Host", host), ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")], body: body,
            credentials: source, date: Date())
        let answer = try await http.send(.POST, url, headers: signed.headers, body: body, what: "AssumeRole of \(roleArn)")
        return try Self.credentials(from: answer, call: "AssumeRole of \(roleArn)", result: "AssumeRoleResult")
    }

    /// Temporary credentials of `roleArn` for the holder of a web identity token (EKS, GitHub OIDC).
    public func assumeRoleWithWebIdentity(roleArn: String, sessionName: String, token: String, durationSeconds: Int? = nil) async throws
        -> AWSCredentials
    {
        var form = [
            ("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", roleArn), ("RoleSessionName", sessionName),
            ("WebIdentityToken", token),
        ]
        if let durationSeconds { form.append(("DurationSeconds", String(durationSeconds))) }
        let answer = try await http.send(
            .POST, endpoint, headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")], body: Data(Self.formEncode(form).utf8),
            what: "AssumeRoleWithWebIdentity of \(roleArn)")
        return try Self.credentials(from: answer, call: "AssumeRoleWithWebIdentity of \(roleArn)", result: "AssumeRoleWithWebIdentityResult")
    }

    static func formEncode(_ pairs: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return pairs.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
    }

    /// The credentials of an STS answer, or its error code and message.
    static func credentials(from answer: CredentialHTTP.Answer, call: String, result: String) throws -> AWSCredentials {
        let text = answer.text
        guard (200..<300).contains(answer.status) else {
            let code = element("Code", in: text) ?? "HTTP \(answer.status)"
            let message = element("Message", in: text).map { ": \($0)" } ?? ""
            throw CredentialsError("\(call) failed: \(code)\(message)")
        }
        guard let id = element("AccessKeyId", in: text), let secret = element("SecretAccessKey", in: text) else {
            throw CredentialsError("\(call): the answer has no credentials (no \(result)/Credentials)")
        }
        return AWSCredentials(
            accessKeyId: id, secretAccessKey: secret, sessionToken: element("SessionToken", in: text),
            expiration: element("Expiration", in: text).flatMap(Self.parseDate))
    }

    /// The text of the first `<name>...</name>` (XML entities of the five kinds decoded).
    static func element(_ name: String, in xml: String) -> String? {
        guard let open = xml.range(of: "<\(name)>"), let close = xml.range(of: "</\(name)>", range: open.upperBound..<xml.endIndex) else {
            return nil
        }
        return String(xml[open.upperBound..<close.lowerBound]).replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'").replacingOccurrences(of: "&amp;", with: "&")
    }

    /// ISO 8601 with or without fractional seconds.
    static func parseDate(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}
