import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The HTTP calls of the credential providers to the ECS and EC2 metadata endpoints (which are
/// not AWS services, so they take ``AWSHTTP`` without the rest of ``AWSClient``): one request, a
/// whole answer, a time limit over all of it, no redirect. Nothing here logs, and no error
/// carries a secret, a session token or a web identity token.
struct CredentialHTTP: Sendable {
    var client: HTTPClient = AWSHTTP.shared
    /// The whole exchange, body included: a server trickling its answer is cut off too.
    var timeout: Duration = .seconds(10)
    /// The largest answer read.
    static let bodyLimit = 1 << 20

    typealias Answer = AWSHTTP.Answer

    func send(_ method: HTTPMethod, _ url: URL, headers: [(String, String)] = [], body: Data? = nil, what: String) async throws -> Answer {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        do {
            return try await AWSHTTP(client: client, timeout: timeout, wholeExchange: true, bodyLimit: Self.bodyLimit).exchange(request)
        } catch let failure as AWSHTTP.Failure {
            throw Self.error(failure, what: what, origin: AWSHTTP.origin(of: url), timeout: timeout)
        }
    }

    /// A credential call's failure in the providers' words.
    static func error(_ failure: AWSHTTP.Failure, what: String, origin: String, timeout: Duration) -> CredentialsError {
        switch failure {
        case .redirected:
            return CredentialsError("\(what): \(origin) \(failure.summary); credential endpoints are never followed to another address")
        case .timedOut:
            return CredentialsError("\(what): \(origin) did not answer in full within \(timeout)")
        case .tooLarge, .transport:
            return CredentialsError("\(what): \(origin) did not answer (\(failure.summary))")
        }
    }

    /// The AWS client of a credential service (STS, the SSO portal): this client, this time
    /// limit over the whole exchange, at most three attempts.
    func core(_ service: AWSService, region: String, endpoint: URL, signedWith source: AWSCredentials? = nil) -> AWSClient {
        AWSClient(
            service: service, region: region, endpoint: endpoint, credentials: source.map(StaticCredentialProvider.init), httpClient: client,
            retry: RetryPolicy(maxAttempts: 3, deadline: timeout * 3), timeout: timeout, wholeExchange: true, maximumResponseBytes: Self.bodyLimit)
    }
}

extension AWSService {
    /// The endpoint of a service a credential provider calls, its error a ``CredentialsError``.
    func credentialEndpoint(region: String, environment: [String: String]) throws -> URL {
        do {
            return try endpoint(region: region, environment: environment)
        } catch let error as ConfigurationError {
            throw CredentialsError(error.description)
        }
    }
}

/// The STS calls the providers make, through ``AWSClient``: AssumeRole (signed with the source
/// credentials, SigV4, service `sts`, at the regional endpoint) and AssumeRoleWithWebIdentity
/// (unsigned: the token is the proof). Query protocol: a form POST, an XML answer.
public struct SecurityTokenService: Sendable {
    /// The region whose STS endpoint is called (and whose key signs).
    public var region: String
    /// The endpoint: `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, or `https://sts.REGION.amazonaws.com`.
    public var endpoint: URL
    var http = CredentialHTTP()

    /// STS of `region`, at the endpoint the environment names.
    public init(region: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.region = region
        endpoint = try AWSService.sts.credentialEndpoint(region: region, environment: environment)
    }

    /// Temporary credentials of `roleArn`, asked for with `source`.
    public func assumeRole(
        roleArn: String, sessionName: String, externalId: String? = nil, durationSeconds: Int? = nil, source: AWSCredentials
    ) async throws -> AWSCredentials {
        var form = [("RoleArn", roleArn), ("RoleSessionName", sessionName)]
        if let externalId { form.append(("ExternalId", externalId)) }
        if let durationSeconds { form.append(("DurationSeconds", String(durationSeconds))) }
        return try await call("AssumeRole", form, signedWith: source, what: "AssumeRole of \(roleArn)", result: "AssumeRoleResult")
    }

    /// Temporary credentials of `roleArn` for the holder of a web identity token (EKS, GitHub OIDC).
    public func assumeRoleWithWebIdentity(roleArn: String, sessionName: String, token: String, durationSeconds: Int? = nil) async throws
        -> AWSCredentials
    {
        var form = [("RoleArn", roleArn), ("RoleSessionName", sessionName), ("WebIdentityToken", token)]
        if let durationSeconds { form.append(("DurationSeconds", String(durationSeconds))) }
        return try await call(
            "AssumeRoleWithWebIdentity", form, signedWith: nil, what: "AssumeRoleWithWebIdentity of \(roleArn)",
            result: "AssumeRoleWithWebIdentityResult")
    }

    private func call(_ action: String, _ form: [(String, String)], signedWith source: AWSCredentials?, what: String, result: String) async throws
        -> AWSCredentials
    {
        let answer: AWSClient.Response
        do {
            answer = try await http.core(.sts, region: region, endpoint: endpoint, signedWith: source)
                .query(action, parameters: form.map { (name: $0.0, value: $0.1) })
        } catch let error as AWSError where error.httpStatus != nil && error.code != .invalidResponse {
            throw CredentialsError("\(what) failed: \(error.code)\(error.message.isEmpty ? "" : ": \(error.message)")")
        } catch let error as AWSError {
            throw CredentialsError("\(what): \(AWSHTTP.origin(of: endpoint)) did not answer (\(error.message))")
        }
        let text = String(decoding: answer.data, as: UTF8.self)
        guard let id = XMLText.element("AccessKeyId", in: text), let secret = XMLText.element("SecretAccessKey", in: text) else {
            throw CredentialsError("\(what): the answer has no credentials (no \(result)/Credentials)")
        }
        return AWSCredentials(
            accessKeyId: id, secretAccessKey: secret, sessionToken: XMLText.element("SessionToken", in: text),
            expiration: XMLText.element("Expiration", in: text).flatMap(Self.parseDate))
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
