import AsyncHTTPClient
import Foundation
import Logging

/// CloudWatch's PutMetricData on the AWS core (SigV4 service `monitoring`, JSON 1.0 with
/// `X-Amz-Target: GraniteServiceVersion20100801.PutMetricData`, `AWS_ENDPOINT_URL_CLOUDWATCH`).
/// Errors are the service's ``AWSError``, naming CloudWatch and the operation.
public final class CloudWatchClient: Sendable {
    public let core: AWSClient

    /// At most this many values (a datum's `Value`, or each entry of its `Values`) in one call.
    public static let valuesPerRequest = 1000
    /// At most this many distinct values in one datum's `Values` (with their `Counts`).
    public static let valuesPerDatum = 150
    /// At most this many dimensions on one datum.
    public static let dimensionsPerDatum = 30

    /// A client over a core made for ``AWSService/cloudWatch``.
    public init(core: AWSClient) {
        precondition(core.service == .cloudWatch, "a CloudWatchClient needs a core for the CloudWatch service, not \(core.service)")
        self.core = core
    }

    /// A client in `region`: the endpoint is `endpoint` when given, then
    /// `AWS_ENDPOINT_URL_CLOUDWATCH`, `AWS_ENDPOINT_URL`, then the regional one; credentials
    /// from the default chain unless given.
    public convenience init(
        region: String, endpoint: URL? = nil, credentials: (any CredentialProvider)? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment, httpClient: HTTPClient? = nil, retry: RetryPolicy = RetryPolicy(),
        timeout: Duration = .seconds(10), logger: Logger? = nil
    ) throws {
        let url = try AWSService.cloudWatch.endpoint(region: region, environment: environment, configured: endpoint)
        self.init(
            core: AWSClient(
                service: .cloudWatch, region: region, endpoint: url,
                credentials: credentials ?? DefaultCredentialChain(region: region, environment: environment), httpClient: httpClient, retry: retry,
                timeout: timeout, logger: logger))
    }

    /// Closes the core's HTTP client if it made it.
    public func shutdown() async throws { try await core.shutdown() }

    /// One metric's data point(s), as PutMetricData takes them.
    public struct MetricDatum: Sendable, Hashable, Encodable {
        public var metricName: String
        public var dimensions: [Dimension]
        /// Seconds since 1970.
        public var timestamp: Double
        public var unit: String
        /// One value, or
        public var value: Double?
        /// distinct values with how often each was seen, or
        public var values: [Double]?
        public var counts: [Double]?
        /// the summary of many.
        public var statisticValues: StatisticSet?

        public init(
            metricName: String, dimensions: [Dimension] = [], timestamp: Double, unit: String, value: Double? = nil, values: [Double]? = nil,
            counts: [Double]? = nil, statisticValues: StatisticSet? = nil
        ) {
            self.metricName = metricName
            self.dimensions = dimensions
            self.timestamp = timestamp
            self.unit = unit
            self.value = value
            self.values = values
            self.counts = counts
            self.statisticValues = statisticValues
        }

        /// How many values it counts against ``CloudWatchClient/valuesPerRequest``.
        public var valueCount: Int { values?.count ?? 1 }

        enum CodingKeys: String, CodingKey {
            case metricName = "MetricName", dimensions = "Dimensions", timestamp = "Timestamp", unit = "Unit", value = "Value",
                values = "Values", counts = "Counts", statisticValues = "StatisticValues"
        }
    }

    public struct Dimension: Sendable, Hashable, Encodable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
        enum CodingKeys: String, CodingKey { case name = "Name", value = "Value" }
    }

    public struct StatisticSet: Sendable, Hashable, Encodable {
        public var sampleCount: Double
        public var sum: Double
        public var minimum: Double
        public var maximum: Double
        public init(sampleCount: Double, sum: Double, minimum: Double, maximum: Double) {
            self.sampleCount = sampleCount
            self.sum = sum
            self.minimum = minimum
            self.maximum = maximum
        }
        enum CodingKeys: String, CodingKey { case sampleCount = "SampleCount", sum = "Sum", minimum = "Minimum", maximum = "Maximum" }
    }

    /// Publishes `data` under `namespace` in one call (at most ``valuesPerRequest`` values).
    public func putMetricData(namespace: String, data: [MetricDatum]) async throws {
        struct Input: Encodable {
            var namespace: String
            var metricData: [MetricDatum]
            enum CodingKeys: String, CodingKey { case namespace = "Namespace", metricData = "MetricData" }
        }
        let values = data.reduce(0) { $0 + $1.valueCount }
        precondition(values <= Self.valuesPerRequest, "PutMetricData takes at most \(Self.valuesPerRequest) values, not \(values)")
        _ = try await core.json("PutMetricData", body: Array(try JSONEncoder().encode(Input(namespace: namespace, metricData: data))))
    }
}
