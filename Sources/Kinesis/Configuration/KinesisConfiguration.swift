import Foundation

/// Where and how to reach Kinesis, and the stream an app publishes to.
///
/// Build one in code, or read it from the environment with ``fromEnvironment(_:)``:
///
/// ```swift
/// let configuration = try KinesisConfiguration.fromEnvironment()
/// let client = HTTPKinesisClient(configuration: configuration)
/// ```
public struct KinesisConfiguration: Sendable, Hashable {
    /// The AWS region, such as `us-east-1`.
    public var region: String
    /// The stream the app publishes to (`KINESIS_STREAM_NAME`); optional for tools that name
    /// streams per call.
    public var streamName: String?
    /// The profile of the shared AWS files to read credentials (and a region) from.
    public var profile: String?
    /// Shards to create a provisioned stream with when it does not exist.
    public var shardCount: Int
    /// Hours a stream keeps records (24...8760).
    public var retentionPeriodHours: Int
    /// An endpoint to use instead of `https://kinesis.<region>.amazonaws.com`.
    public var endpoint: URL?
    /// Credentials given in code; when nil the usual chain is searched.
    public var credentials: AWSCredentials?
    /// Connection and request timeouts.
    public var timeout: Timeout
    /// How failed calls are retried.
    public var retry: RetryPolicy
    /// The most connections kept open to the endpoint.
    public var maximumConnections: Int
    /// Read GetRecords pages in CBOR (`application/x-amz-cbor-1.1`), as the Java SDK and the
    /// KCL do: record data travels as raw bytes, a third smaller than base64 and with nothing
    /// to decode. AWS, `kinesis-load serve`, kinesalite and LocalStack speak it. An endpoint
    /// that answers a CBOR GetRecords in neither CBOR nor JSON (moto answers an HTML 500) is
    /// read in JSON from then on, with a warning logged. Off by default; every other call stays
    /// JSON either way.
    public var cborReads = false

    /// Timeouts of the HTTP client.
    public struct Timeout: Sendable, Hashable {
        /// Longest wait for a connection.
        public var connect: Duration
        /// Longest wait for a whole request.
        public var request: Duration
        /// Timeouts; 5 s to connect and 30 s per request by default.
        public init(connect: Duration = .seconds(5), request: Duration = .seconds(30)) {
            self.connect = connect
            self.request = request
        }
    }

    /// Shards a stream may be created with (``ServiceLimits/shardCount``).
    public static let shardCountRange = ServiceLimits.shardCount
    /// Retention hours a stream accepts (``ServiceLimits/retentionHours``).
    public static let retentionRange = ServiceLimits.retentionHours
    /// `us-east-1` on the wire.
    public static let defaultRegion = "us-east-1"

    /// A configuration from explicit values; see ``fromEnvironment()`` for the usual way.
    public init(
        region: String = KinesisConfiguration.defaultRegion, streamName: String? = nil, profile: String? = nil,
        shardCount: Int = 1, retentionPeriodHours: Int = 24, endpoint: URL? = nil,
        credentials: AWSCredentials? = nil, timeout: Timeout = Timeout(), retry: RetryPolicy = RetryPolicy(),
        maximumConnections: Int = 16
    ) {
        self.region = region
        self.streamName = streamName
        self.profile = profile
        self.shardCount = shardCount
        self.retentionPeriodHours = retentionPeriodHours
        self.endpoint = endpoint
        self.credentials = credentials
        self.timeout = timeout
        self.retry = retry
        self.maximumConnections = maximumConnections
    }

    /// The URL requests go to: the override, or the regional AWS endpoint.
    public var resolvedEndpoint: URL {
        endpoint ?? AWSService.kinesis.regionalEndpoint(region: region)
    }

    /// Reads the configuration from environment variables.
    ///
    /// - `AWS_REGION`, then `AWS_DEFAULT_REGION`, then the profile's `region` in the shared
    ///   config file, then `us-east-1`.
    /// - `KINESIS_STREAM_NAME`, then `AWS_KINESIS_NAME` (the NestJS module's name).
    /// - `AWS_PROFILE`.
    /// - `KINESIS_SHARD_COUNT` (1...100000, default 1), `KINESIS_RETENTION_PERIOD` in hours
    ///   (24...8760, default 24).
    /// - `AWS_ENDPOINT_URL_KINESIS`, then `AWS_ENDPOINT_URL`.
    ///
    /// - Throws: ``ConfigurationError`` naming the variable, its value and the allowed range.
    public static func fromEnvironment(
        _ environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> KinesisConfiguration {
        func value(_ name: String) -> (name: String, value: String)? {
            guard let raw = environment[name] else { return nil }
            let trimmed = raw.trimmingCharacters(in: .whitespaces)
            return trimmed.isEmpty ? nil : (name, trimmed)
        }
        var configuration = KinesisConfiguration()
        configuration.profile = value("AWS_PROFILE")?.value

        if let (name, region) = value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") {
            try validateRegion(region, source: name)
            configuration.region = region
        } else if let region = SharedConfigFiles(environment: environment)
            .configValue("region", profile: configuration.profile ?? environment["AWS_DEFAULT_PROFILE"] ?? "default")
        {
            try validateRegion(region, source: "region in the AWS config file")
            configuration.region = region
        }
        if let (name, stream) = value("KINESIS_STREAM_NAME") ?? value("AWS_KINESIS_NAME") {
            try validateStreamName(stream, source: name)
            configuration.streamName = stream
        }
        if let (name, raw) = value("KINESIS_SHARD_COUNT") {
            configuration.shardCount = try parseInt(raw, source: name, range: shardCountRange)
        }
        if let (name, raw) = value("KINESIS_RETENTION_PERIOD") {
            configuration.retentionPeriodHours = try parseInt(
                raw, source: name, range: retentionRange, unit: " hours")
        }
        configuration.endpoint = try AWSService.kinesis.environmentEndpoint(environment)
        return configuration
    }

    /// Parses an integer within a range, or throws an error naming the source.
    public static func parseInt(_ raw: String, source: String, range: ClosedRange<Int>, unit: String = "") throws -> Int {
        guard let number = Int(raw), range.contains(number) else {
            throw ConfigurationError(
                source: source, value: raw,
                expected: "an integer from \(range.lowerBound) to \(range.upperBound)\(unit)")
        }
        return number
    }

    /// Parses an endpoint URL (`http` or `https`, with a host), or throws naming the source.
    public static func parseEndpoint(_ raw: String, source: String) throws -> URL {
        guard let url = URL(string: raw), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty
        else {
            throw ConfigurationError(
                source: source, value: raw, expected: "an http:// or https:// URL with a host, such as http://127.0.0.1:4567")
        }
        if let port = url.port, !(1...65535).contains(port) {
            throw ConfigurationError(source: source, value: raw, expected: "a port from 1 to 65535, got \(port)")
        }
        return url
    }

    /// Checks a region name (`us-east-1`, `eu-central-2`, ...).
    public static func validateRegion(_ region: String, source: String) throws {
        let allowed = region.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
        guard !region.isEmpty, region.count <= 64, allowed else {
            throw ConfigurationError(
                source: source, value: region, expected: "a region name of lowercase letters, digits and '-', such as us-east-1")
        }
    }

    /// Checks a stream name against Kinesis's rule: 1 to 128 of `[a-zA-Z0-9_.-]`.
    public static func validateStreamName(_ name: String, source: String) throws {
        guard ServiceLimits.isValidStreamName(name) else {
            throw ConfigurationError(
                source: source, value: name, expected: "a stream name of 1 to 128 characters from [a-zA-Z0-9_.-]")
        }
    }
}
