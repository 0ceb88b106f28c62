import CoreMetrics
import Foundation
import Kinesis
import Logging
import ServiceLifecycle
import Synchronization

/// How the CloudWatch backend sends: where, how often, how much, at which level and granularity.
public struct CloudWatchMetricsConfiguration: Sendable {
    /// The KPL's `metrics_level`: none sends nothing, summary the main figures, detailed all.
    public enum Level: String, Sendable, CaseIterable, Comparable {
        case none, summary, detailed
        public static func < (a: Level, b: Level) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
    }

    /// The KPL's `metrics_granularity`: each figure is sent at every level down to this one:
    /// without dimensions (global), by StreamName (stream), and by StreamName and ShardId (shard).
    public enum Granularity: String, Sendable, CaseIterable {
        case global, stream, shard
    }

    /// The namespace the metrics go under.
    public var namespace: String
    /// How often what is buffered is sent (the KPL's 60 s by default).
    public var interval: Duration = .seconds(60)
    public var level: Level = .detailed
    public var granularity: Granularity = .shard
    /// Most series (a metric with its dimensions) kept; values for more are dropped and counted.
    public var maxSeries = 5_000
    /// The names and units of the toolkit's labels.
    public var names: CloudWatchMetricNames = .kinesis
    /// Also sends labels ``names`` does not list, under their label, at the detailed level.
    public var sendsUnlisted = false

    public init(namespace: String) { self.namespace = namespace }
}

/// Where buffered data points go: PutMetricData, or Embedded Metric Format lines.
public protocol CloudWatchMetricsSink: Sendable {
    /// Sends data points of `namespace`; at most ``CloudWatchClient/valuesPerRequest`` values at once.
    func publish(namespace: String, data: [CloudWatchClient.MetricDatum]) async throws
}

/// PutMetricData through ``CloudWatchClient``.
public struct PutMetricDataSink: CloudWatchMetricsSink {
    public let client: CloudWatchClient
    public init(client: CloudWatchClient) { self.client = client }
    public func publish(namespace: String, data: [CloudWatchClient.MetricDatum]) async throws {
        try await client.putMetricData(namespace: namespace, data: data)
    }
}

/// A swift-metrics backend that publishes to CloudWatch as the KPL does: every figure is
/// aggregated where it is recorded (a counter's sum, a gauge's last value, a timer's distinct
/// values with their counts, or its statistic set past 150 of them) and sent every
/// ``CloudWatchMetricsConfiguration/interval`` in calls of at most 1,000 values.
///
/// Recording a value takes one uncontended lock of its own series and never waits for the
/// network; memory is bounded (at most ``CloudWatchMetricsConfiguration/maxSeries`` series, each
/// a fixed size); a call CloudWatch refuses or that cannot reach it drops its values, and says
/// how many in ``statistics``. Only the toolkit's names, and stream, shard and error code
/// dimensions, are sent: no value a metric carries is a secret.
///
/// Run it as a ServiceLifecycle `Service` (it sends what is buffered when it shuts down), or
/// call ``run()`` in a task and ``finish()`` to stop.
public final class CloudWatchMetricsFactory: MetricsFactory, Service, Sendable {
    public let configuration: CloudWatchMetricsConfiguration
    let sink: any CloudWatchMetricsSink
    let logger: Logger
    private let series = Mutex<[String: Series]>([:])
    /// Labels (with their dimensions) that are not sent.
    private let ignored = Mutex<Set<String>>([])
    private let counts = Mutex(Statistics())
    private let stopping = Atomic<Bool>(false)

    /// What the backend has done so far.
    public struct Statistics: Sendable, Hashable {
        /// Values sent in calls CloudWatch accepted.
        public var sentValues = 0
        /// Calls CloudWatch accepted.
        public var sentRequests = 0
        /// Values in calls that failed (CloudWatch unreachable or refusing): lost.
        public var droppedValues = 0
        /// Calls that failed.
        public var failedRequests = 0
        /// Values recorded for series beyond ``CloudWatchMetricsConfiguration/maxSeries``: lost.
        public var droppedOverLimit = 0
        /// The last failure, in one line.
        public var lastError: String?
    }

    public init(configuration: CloudWatchMetricsConfiguration, sink: any CloudWatchMetricsSink, logger: Logger? = nil) {
        self.configuration = configuration
        self.sink = sink
        self.logger = logger ?? Logger(label: "kinesis.cloudwatch")
    }

    /// A backend publishing with PutMetricData through `client`.
    public convenience init(configuration: CloudWatchMetricsConfiguration, client: CloudWatchClient, logger: Logger? = nil) {
        self.init(configuration: configuration, sink: PutMetricDataSink(client: client), logger: logger)
    }

    public var statistics: Statistics { counts.withLock { $0 } }

    // MARK: - Running

    /// Sends what is buffered every interval until ``finish()``, a graceful shutdown or
    /// cancellation; then sends what is left once more.
    public func run() async throws {
        let clock = ContinuousClock()
        var next = clock.now.advanced(by: configuration.interval)
        while !stopping.load(ordering: .relaxed), !Task.isCancelled, !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: min(.milliseconds(100), max(.zero, clock.now.duration(to: next))))
            if clock.now >= next {
                await flush()
                next = clock.now.advanced(by: configuration.interval)
            }
        }
        await flush()
    }

    /// Makes ``run()`` send what is left and return.
    public func finish() { stopping.store(true, ordering: .relaxed) }

    /// Sends everything buffered now. Never throws: a failed call's values are counted as dropped.
    public func flush() async {
        let now = Date().timeIntervalSince1970
        let all = series.withLock { Array($0.values) }
        var data: [CloudWatchClient.MetricDatum] = []
        for one in all { data += one.take(at: now) }
        var batch: [CloudWatchClient.MetricDatum] = []
        var values = 0
        for datum in data {
            if values + datum.valueCount > CloudWatchClient.valuesPerRequest {
                await send(batch, values: values)
                (batch, values) = ([], 0)
            }
            batch.append(datum)
            values += datum.valueCount
        }
        if !batch.isEmpty { await send(batch, values: values) }
    }

    private func send(_ batch: [CloudWatchClient.MetricDatum], values: Int) async {
        do {
            try await sink.publish(namespace: configuration.namespace, data: batch)
            counts.withLock {
                $0.sentValues += values
                $0.sentRequests += 1
            }
        } catch {
            let first = counts.withLock { counts in
                counts.droppedValues += values
                counts.failedRequests += 1
                defer { counts.lastError = "\(error)" }
                return counts.failedRequests == 1
            }
            if first { logger.warning("CloudWatch metrics not sent; values are dropped until it answers", metadata: ["error": "\(error)"]) }
        }
    }

    // MARK: - Series

    /// The CloudWatch metrics one swift-metrics label and its dimensions become (none when the
    /// level or the names leave it out).
    func targets(label: String, dimensions: [(String, String)]) -> [Series.Target] {
        guard configuration.level != .none else { return [] }
        let metrics: [CloudWatchMetricNames.Metric]
        if let entry = configuration.names.entries[label] {
            metrics = entry.metrics.filter { $0.level <= configuration.level }
        } else if configuration.sendsUnlisted, configuration.level == .detailed {
            metrics = [.init(label, .none, .detailed)]
        } else {
            return []
        }
        let named = dimensions.compactMap { name, value in CloudWatchMetricNames.dimensionNames[name].map { ($0, value) } }
        let stream = named.first { $0.0 == "StreamName" }
        let shard = named.first { $0.0 == "ShardId" }
        let code = named.first { $0.0 == "ErrorCode" }
        // Every granularity down to the configured one, each once.
        var levels: [[(String, String)]] = [[]]
        if configuration.granularity != .global, let stream { levels.append([stream]) }
        if configuration.granularity == .shard, let shard { levels.append((stream.map { [$0] } ?? []) + [shard]) }
        var targets: [Series.Target] = []
        for metric in metrics {
            for level in levels {
                let dimensions = metric.fixedDimensions + level + (metric.withoutErrorCode ? [] : code.map { [$0] } ?? [])
                targets.append(
                    Series.Target(
                        name: metric.name, unit: metric.unit, dimensions: dimensions.map { CloudWatchClient.Dimension(name: $0.0, value: $0.1) }))
            }
        }
        return targets
    }

    private func handler(label: String, dimensions: [(String, String)], kind: Series.Kind) -> Series? {
        let key = ([label] + dimensions.map { "\($0.0)=\($0.1)" }).joined(separator: "\u{0}")
        let made: Series?? = series.withLock { table in
            if let found = table[key] { return .some(found.targets.isEmpty ? nil : found) }
            if ignored.withLock({ $0.contains(key) }) { return .some(nil) }
            let targets = targets(label: label, dimensions: dimensions)
            guard !targets.isEmpty else {
                // Not sent: remembered (within the same bound), so that the next handler of it costs a lookup.
                ignored.withLock { if $0.count < configuration.maxSeries { $0.insert(key) } }
                return .some(nil)
            }
            guard table.count < configuration.maxSeries else { return nil }
            let made = Series(kind: kind, targets: targets)
            table[key] = made
            return .some(made)
        }
        switch made {
        case .some(let series): return series
        case .none:
            return Series(kind: kind, targets: [], overLimit: { [self] in counts.withLock { $0.droppedOverLimit += 1 } })
        }
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        handler(label: label, dimensions: dimensions, kind: .sum) ?? NOOPMetricsHandler.instance
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        handler(label: label, dimensions: dimensions, kind: .sum) ?? NOOPMetricsHandler.instance
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        handler(label: label, dimensions: dimensions, kind: aggregate ? .distribution : .last) ?? NOOPMetricsHandler.instance
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        handler(label: label, dimensions: dimensions, kind: .last) ?? NOOPMetricsHandler.instance
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        handler(label: label, dimensions: dimensions, kind: .distribution) ?? NOOPMetricsHandler.instance
    }

    public func destroyCounter(_ handler: any CounterHandler) {}
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    public func destroyRecorder(_ handler: any RecorderHandler) {}
    public func destroyMeter(_ handler: any MeterHandler) {}
    public func destroyTimer(_ handler: any TimerHandler) {}
}

/// One series: what was recorded since the last send, aggregated in a fixed size.
final class Series: CounterHandler, FloatingPointCounterHandler, RecorderHandler, MeterHandler, TimerHandler, Sendable {
    enum Kind: Sendable { case sum, last, distribution }

    struct Target: Sendable {
        var name: String
        var unit: CloudWatchMetricNames.Unit
        var dimensions: [CloudWatchClient.Dimension]
    }

    struct Aggregate: Sendable {
        var samples = 0.0
        var sum = 0.0
        var minimum = Double.infinity
        var maximum = -Double.infinity
        var last: Double?
        /// Distinct values and their counts, up to ``CloudWatchClient/valuesPerDatum``; beyond,
        /// only the statistic set is sent.
        var distinct: [Double: Double] = [:]
        var overflowed = false
    }

    let kind: Kind
    let targets: [Target]
    let overLimit: (@Sendable () -> Void)?
    private let state = Mutex(Aggregate())

    init(kind: Kind, targets: [Target], overLimit: (@Sendable () -> Void)? = nil) {
        self.kind = kind
        self.targets = targets
        self.overLimit = overLimit
    }

    private func add(_ value: Double) {
        if let overLimit {
            overLimit()
            return
        }
        guard value.isFinite else { return }
        state.withLock { a in
            a.samples += 1
            a.sum += value
            a.minimum = min(a.minimum, value)
            a.maximum = max(a.maximum, value)
            a.last = value
            guard kind == .distribution, !a.overflowed else { return }
            // Three significant digits: values this close are one value to CloudWatch's percentiles.
            let rounded = Self.rounded(value)
            if a.distinct[rounded] != nil || a.distinct.count < CloudWatchClient.valuesPerDatum {
                a.distinct[rounded, default: 0] += 1
            } else {
                a.overflowed = true
                a.distinct = [:]
            }
        }
    }

    static func rounded(_ value: Double) -> Double {
        guard value != 0 else { return 0 }
        let scale = pow(10, 2 - floor(log10(abs(value))))
        return (value * scale).rounded() / scale
    }

    /// What was recorded since the last call, as data points (nothing when nothing was).
    func take(at timestamp: Double) -> [CloudWatchClient.MetricDatum] {
        let a = state.withLock { a -> Aggregate in
            defer { a = Aggregate() }
            return a
        }
        guard a.samples > 0 else { return [] }
        return targets.map { target in
            var datum = CloudWatchClient.MetricDatum(metricName: target.name, dimensions: target.dimensions, timestamp: timestamp, unit: target.unit.rawValue)
            switch kind {
            case .sum: datum.value = a.sum
            case .last: datum.value = a.last
            case .distribution:
                if a.overflowed || a.distinct.isEmpty {
                    datum.statisticValues = .init(sampleCount: a.samples, sum: a.sum, minimum: a.minimum, maximum: a.maximum)
                } else {
                    let sorted = a.distinct.sorted { $0.key < $1.key }
                    datum.values = sorted.map(\.key)
                    datum.counts = sorted.map(\.value)
                }
            }
            return datum
        }
    }

    // Counters and meters add; recorders and meters keep the last value; timers are in milliseconds.
    func increment(by amount: Int64) { add(Double(amount)) }
    func increment(by amount: Double) { add(amount) }
    func reset() {}
    func record(_ value: Int64) { add(Double(value)) }
    func record(_ value: Double) { add(value) }
    func set(_ value: Int64) { add(Double(value)) }
    func set(_ value: Double) { add(value) }
    func decrement(by amount: Double) { add(-amount) }
    func recordNanoseconds(_ duration: Int64) { add(Double(duration) / 1e6) }
}
