import ArgumentParser
import CoreMetrics
import Foundation
import Kinesis
import KinesisCloudWatch
import Logging

/// `--cloudwatch-metrics NAMESPACE` and its settings: the command's Producer and consumer
/// metrics go to CloudWatch (PutMetricData, or Embedded Metric Format lines with
/// `--cloudwatch-emf`), buffered and sent every interval; what is left is sent when it ends.
struct CloudWatchOptions: ParsableArguments {
    @Option(help: "Publish the Producer's and the consumers' metrics to CloudWatch under this namespace (the KPL's and KCL's names).")
    var cloudwatchMetrics: String?

    @Option(help: "With --cloudwatch-metrics: how often what is buffered is sent (60s by default, as the KPL; at least 1s).")
    var cloudwatchInterval = "60s"

    @Option(help: "With --cloudwatch-metrics: summary (the main figures) or detailed (all).")
    var cloudwatchLevel = "detailed"

    @Option(help: "With --cloudwatch-metrics: global, stream or shard: each figure is sent at every granularity down to this one.")
    var cloudwatchGranularity = "shard"

    @Flag(help: "With --cloudwatch-metrics: write CloudWatch Embedded Metric Format lines on standard error instead of calling PutMetricData (for logs that go to CloudWatch Logs).")
    var cloudwatchEmf = false

    func validate() throws {
        guard let namespace = cloudwatchMetrics else {
            if cloudwatchEmf { throw ValidationError("--cloudwatch-emf needs --cloudwatch-metrics NAMESPACE") }
            return
        }
        // CloudWatch: 1 to 255 characters, no leading colon, printable ASCII.
        guard (1...255).contains(namespace.count), !namespace.hasPrefix(":"), namespace.allSatisfy({ $0.isASCII && !$0.isNewline && $0 != "\t" }),
            !namespace.hasPrefix("AWS/")
        else {
            throw ValidationError("--cloudwatch-metrics '\(namespace)' is not a namespace: 1 to 255 printable ASCII characters, not starting with ':' or 'AWS/'")
        }
        guard let interval = DurationText.parse(cloudwatchInterval), interval >= .seconds(1), interval <= .seconds(3600) else {
            throw ValidationError("--cloudwatch-interval '\(cloudwatchInterval)' is not a duration from 1s to 1h, such as 60s")
        }
        guard CloudWatchMetricsConfiguration.Level(rawValue: cloudwatchLevel).map({ $0 != .none }) == true else {
            throw ValidationError("--cloudwatch-level '\(cloudwatchLevel)' is not summary or detailed")
        }
        guard CloudWatchMetricsConfiguration.Granularity(rawValue: cloudwatchGranularity) != nil else {
            throw ValidationError("--cloudwatch-granularity '\(cloudwatchGranularity)' is not global, stream or shard")
        }
    }

    /// The backend, running, or nil without --cloudwatch-metrics. CloudWatch is reached in the
    /// command's region with its credentials, at `AWS_ENDPOINT_URL_CLOUDWATCH` (or
    /// `AWS_ENDPOINT_URL`) when set.
    func start(_ connection: KinesisConfiguration) throws -> CloudWatchSession? {
        guard let namespace = cloudwatchMetrics else { return nil }
        var configuration = CloudWatchMetricsConfiguration(namespace: namespace)
        configuration.interval = DurationText.parse(cloudwatchInterval) ?? .seconds(60)
        configuration.level = CloudWatchMetricsConfiguration.Level(rawValue: cloudwatchLevel) ?? .detailed
        configuration.granularity = CloudWatchMetricsConfiguration.Granularity(rawValue: cloudwatchGranularity) ?? .shard
        var logger = Logger(label: "kinesis-load.cloudwatch", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = .warning
        let factory: CloudWatchMetricsFactory
        var client: CloudWatchClient?
        if cloudwatchEmf {
            factory = CloudWatchMetricsFactory(
                configuration: configuration, sink: EmbeddedMetricFormatSink { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }, logger: logger)
        } else {
            let made = try CloudWatchClient(
                region: connection.region,
                credentials: DefaultCredentialChain(explicit: connection.credentials, profile: connection.profile, region: connection.region),
                retry: RetryPolicy(maxAttempts: 2), logger: logger)
            client = made
            factory = CloudWatchMetricsFactory(configuration: configuration, client: made, logger: logger)
        }
        return CloudWatchSession(factory: factory, client: client, task: Task { try? await factory.run() })
    }
}

/// The running backend of one command.
struct CloudWatchSession: Sendable {
    let factory: CloudWatchMetricsFactory
    let client: CloudWatchClient?
    let task: Task<Void, Never>

    /// Sends what is left, stops, and says on standard error what was sent and lost.
    func finish() async {
        factory.finish()
        await task.value
        try? await client?.shutdown()
        let s = factory.statistics
        var line = "cloudwatch metrics (\(factory.configuration.namespace)): \(s.sentValues) values sent in \(s.sentRequests) call\(s.sentRequests == 1 ? "" : "s")"
        if s.droppedValues > 0 || s.droppedOverLimit > 0 {
            line += "; \(s.droppedValues + s.droppedOverLimit) dropped (\(s.failedRequests) call\(s.failedRequests == 1 ? "" : "s") failed: \(s.lastError ?? "over the series limit"))"
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
