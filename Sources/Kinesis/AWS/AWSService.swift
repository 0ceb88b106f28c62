import Foundation

/// One AWS service as ``AWSClient`` calls it: its name in errors, the name it signs with, where
/// its endpoint is, and the protocol its requests speak.
public struct AWSService: Sendable, Hashable, CustomStringConvertible {
    /// How requests and answers are written.
    public enum Wire: Sendable, Hashable {
        /// AWS JSON 1.0 or 1.1: a POST of `application/x-amz-json-<version>` with
        /// `X-Amz-Target: <targetPrefix>.<Operation>`; errors are `{"__type", "message"}`.
        case json(version: String, targetPrefix: String)
        /// The query protocol: a form POST with `Action` and `Version`; XML answers and errors.
        case query(version: String)
        /// REST with JSON answers: method and path per operation; errors are `{"message"}` with
        /// the type in `x-amzn-ErrorType`.
        case restJSON
    }

    /// The name errors and logs use, such as `Kinesis` or `DynamoDB`.
    public var name: String
    /// The service in the SigV4 credential scope, such as `kinesis` or `monitoring`.
    public var signingName: String
    /// The suffix of the SDKs' `AWS_ENDPOINT_URL_<SERVICE>` variable.
    public var endpointKey: String
    /// The first labels of the regional host: `<prefix>.<region>.amazonaws.com`.
    public var hostPrefix: String
    /// The protocol.
    public var wire: Wire

    /// A service description.
    public init(name: String, signingName: String, endpointKey: String, hostPrefix: String, wire: Wire) {
        self.name = name
        self.signingName = signingName
        self.endpointKey = endpointKey
        self.hostPrefix = hostPrefix
        self.wire = wire
    }

    /// Kinesis Data Streams (JSON 1.1; GetRecords may also go in CBOR).
    public static let kinesis = AWSService(
        name: "Kinesis", signingName: "kinesis", endpointKey: "KINESIS", hostPrefix: "kinesis",
        wire: .json(version: "1.1", targetPrefix: "Kinesis_20131202"))
    /// The Security Token Service (query protocol).
    public static let sts = AWSService(name: "STS", signingName: "sts", endpointKey: "STS", hostPrefix: "sts", wire: .query(version: "2011-06-15"))
    /// The IAM Identity Center portal (REST; calls carry a bearer token, not a signature).
    public static let sso = AWSService(name: "SSO", signingName: "awsssoportal", endpointKey: "SSO", hostPrefix: "portal.sso", wire: .restJSON)
    /// DynamoDB (JSON 1.0).
    public static let dynamoDB = AWSService(
        name: "DynamoDB", signingName: "dynamodb", endpointKey: "DYNAMODB", hostPrefix: "dynamodb",
        wire: .json(version: "1.0", targetPrefix: "DynamoDB_20120810"))
    /// CloudWatch metrics (JSON 1.0).
    public static let cloudWatch = AWSService(
        name: "CloudWatch", signingName: "monitoring", endpointKey: "CLOUDWATCH", hostPrefix: "monitoring",
        wire: .json(version: "1.0", targetPrefix: "GraniteServiceVersion20100801"))

    /// The service's name.
    public var description: String { name }

    /// The `Content-Type` of a JSON-protocol request, nil for the other protocols.
    public var jsonContentType: String? {
        if case .json(let version, _) = wire { return "application/x-amz-json-\(version)" }
        return nil
    }

    /// The `X-Amz-Target` of a JSON-protocol operation, nil for the other protocols.
    public func target(_ operation: String) -> String? {
        if case .json(_, let prefix) = wire { return "\(prefix).\(operation)" }
        return nil
    }

    /// `https://<prefix>.<region>.amazonaws.com` (`.amazonaws.com.cn` in the China regions).
    public func regionalEndpoint(region: String) -> URL {
        let domain = region.hasPrefix("cn-") ? "amazonaws.com.cn" : "amazonaws.com"
        return URL(string: "https://\(hostPrefix).\(region).\(domain)")!
    }

    /// Where requests go, as the SDKs resolve it: `configured` (code or a flag) when given, then
    /// `AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`, then the regional endpoint.
    ///
    /// - Throws: ``ConfigurationError`` naming the variable when its value is not an http(s) URL.
    public func endpoint(region: String, environment: [String: String], configured: URL? = nil) throws -> URL {
        try configured ?? environmentEndpoint(environment) ?? regionalEndpoint(region: region)
    }

    /// The endpoint the environment names (`AWS_ENDPOINT_URL_<SERVICE>`, then `AWS_ENDPOINT_URL`), nil when none.
    public func environmentEndpoint(_ environment: [String: String]) throws -> URL? {
        for key in ["AWS_ENDPOINT_URL_\(endpointKey)", "AWS_ENDPOINT_URL"] {
            if let raw = environment[key]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty {
                return try KinesisConfiguration.parseEndpoint(raw, source: key)
            }
        }
        return nil
    }

    /// The `Host` header for an endpoint: the port appears only when it is not the scheme's default.
    public static func hostHeader(for url: URL) -> String {
        let host = url.host ?? ""
        let bracketed = host.contains(":") ? "[\(host)]" : host
        guard let port = url.port else { return bracketed }
        let scheme = url.scheme?.lowercased()
        if (scheme == "http" && port == 80) || (scheme == "https" && port == 443) { return bracketed }
        return "\(bracketed):\(port)"
    }
}
