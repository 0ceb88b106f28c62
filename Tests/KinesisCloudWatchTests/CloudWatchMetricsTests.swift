import CoreMetrics
import Foundation
import Kinesis
import KinesisCloudWatch
import KinesisProducer
import KinesisTesting
import Synchronization
import Testing

/// Keeps every call it is given (and can refuse them, or never answer).
final class RecordingSink: CloudWatchMetricsSink {
    enum Behaviour { case accept, refuse, hang }
    let behaviour: Behaviour
    let calls = Mutex<[[CloudWatchClient.MetricDatum]]>([])
    let entered = Atomic<Int>(0)

    init(_ behaviour: Behaviour = .accept) { self.behaviour = behaviour }

    func publish(namespace: String, data: [CloudWatchClient.MetricDatum]) async throws {
        entered.wrappingAdd(1, ordering: .relaxed)
        switch behaviour {
        case .accept: calls.withLock { $0.append(data) }
        case .refuse: throw AWSError(code: "AccessDeniedException", message: "not authorized to perform: cloudwatch:PutMetricData", operation: "PutMetricData", service: "CloudWatch")
        case .hang:
            // A CloudWatch that takes the connection and never answers, until the test ends it.
            while !Task.isCancelled { try await Task.sleep(for: .milliseconds(20)) }
            throw CancellationError()
        }
    }

    var data: [CloudWatchClient.MetricDatum] { calls.withLock { $0.flatMap { $0 } } }

    func datum(_ name: String, _ dimensions: [String: String]) -> [CloudWatchClient.MetricDatum] {
        data.filter { $0.metricName == name && Dictionary(uniqueKeysWithValues: $0.dimensions.map { ($0.name, $0.value) }) == dimensions }
    }
}

func backend(_ sink: RecordingSink, level: CloudWatchMetricsConfiguration.Level = .detailed, granularity: CloudWatchMetricsConfiguration.Granularity = .shard)
    -> CloudWatchMetricsFactory
{
    var configuration = CloudWatchMetricsConfiguration(namespace: "Test")
    configuration.level = level
    configuration.granularity = granularity
    return CloudWatchMetricsFactory(configuration: configuration, sink: sink)
}

@Suite("CloudWatch metrics backend")
struct CloudWatchMetricsTests {
    @Test("the Producer's figures go out under the KPL's names, at each granularity down to the configured one")
    func producerFiguresUnderTheKPLsNames() async throws {
        let engine = InMemoryKinesis()
        try await engine.createStream(.init(streamName: "events", shardCount: 2))
        let sink = RecordingSink()
        let metrics = backend(sink)
        var configuration = Producer.Configuration(streamName: "events")
        configuration.metricsFactory = metrics
        configuration.maxBufferedTime = .milliseconds(5)
        let producer = Producer(api: engine, configuration: configuration)
        try await producer.withRunning {
            for i in 0..<500 { _ = try await producer.put(data: Data("record \(i)".utf8), partitionKey: "key-\(i % 50)") }
            await producer.flush()
        }
        await metrics.flush()
        let received = sink.datum("UserRecordsReceived", ["StreamName": "events"])
        #expect(received.map(\.value) == [500])
        #expect(sink.datum("UserRecordsReceived", [:]).map(\.value) == [500])
        #expect(sink.datum("UserRecordsPut", ["StreamName": "events"]).map(\.value) == [500])
        let bytes = (0..<500).reduce(0) { $0 + "record \($1)".utf8.count + "key-\($1 % 50)".utf8.count }
        #expect(sink.datum("UserRecordsDataPut", ["StreamName": "events"]).map(\.value) == [Double(bytes)])
        // Timers in milliseconds: one BufferingTime per Kinesis record sent (aggregates, here).
        let kinesisRecords = try #require(sink.datum("KinesisRecordsPut", ["StreamName": "events"]).first?.value)
        #expect(kinesisRecords >= 1 && kinesisRecords < 500)
        let buffering = try #require(sink.datum("BufferingTime", ["StreamName": "events"]).first)
        #expect(buffering.unit == "Milliseconds")
        let samples = buffering.counts.map { $0.reduce(0, +) } ?? buffering.statisticValues?.sampleCount ?? 0
        #expect(samples == kinesisRecords)
        // Nothing sent twice in one interval, and nothing left for the next one.
        await metrics.flush()
        #expect(sink.calls.withLock { $0.count } == 1)
        #expect(metrics.statistics.sentValues == sink.data.reduce(0) { $0 + $1.valueCount })
    }

    @Test("levels and granularities choose what is sent, and error codes keep their dimension")
    func levelsAndGranularities() async {
        let sink = RecordingSink()
        let summary = backend(sink, level: .summary, granularity: .stream)
        Counter(label: "kinesis_producer_user_records_received", dimensions: [("stream", "s")], factory: summary).increment()  // detailed
        Counter(label: "kinesis_producer_user_records_put", dimensions: [("stream", "s")], factory: summary).increment(by: 3)
        Counter(label: "kinesis_producer_errors", dimensions: [("stream", "s"), ("error_code", "Throttling")], factory: summary).increment()
        Gauge(label: "kinesis_consumer_millis_behind_latest", dimensions: [("stream", "s"), ("shard", "shardId-000000000001")], factory: summary)
            .record(250)
        Counter(label: "some_app_metric", dimensions: [("secret", "x")], factory: summary).increment()
        await summary.flush()
        let names = Set(sink.data.map(\.metricName))
        #expect(names == ["UserRecordsPut", "ErrorsByCode", "AllErrors", "MillisBehindLatest"])
        #expect(sink.datum("ErrorsByCode", ["StreamName": "s", "ErrorCode": "Throttling"]).map(\.value) == [1])
        #expect(sink.datum("AllErrors", ["StreamName": "s"]).map(\.value) == [1])
        #expect(sink.datum("AllErrors", [:]).map(\.value) == [1])
        // Stream granularity: the shard's figure is sent without its ShardId, and with the KCL's Operation.
        #expect(sink.datum("MillisBehindLatest", ["Operation": "ProcessTask", "StreamName": "s"]).map(\.value) == [250])
        #expect(!sink.data.contains { $0.dimensions.contains { $0.name == "ShardId" } })
        // An app's own metric is not sent unless asked for, and no dimension but stream, shard and error code ever is.
        #expect(!sink.data.contains { $0.dimensions.contains { $0.name == "secret" || $0.value == "x" } })

        let none = RecordingSink()
        let off = backend(none, level: .none)
        Counter(label: "kinesis_producer_user_records_put", dimensions: [("stream", "s")], factory: off).increment()
        await off.flush()
        #expect(none.data.isEmpty && none.entered.load(ordering: .relaxed) == 0)
    }

    @Test("a call carries at most 1,000 values, and distributions past 150 distinct values become statistic sets")
    func batchesAndStatisticSets() async {
        let sink = RecordingSink()
        let metrics = backend(sink, granularity: .shard)
        for shard in 0..<700 {
            Gauge(label: "kinesis_consumer_millis_behind_latest", dimensions: [("stream", "s"), ("shard", "shard-\(shard)")], factory: metrics).record(shard)
        }
        let timer = CoreMetrics.Timer(label: "kinesis_producer_request_time", dimensions: [("stream", "s")], factory: metrics)
        for ms in 1...400 { timer.recordMilliseconds(ms) }
        let few = CoreMetrics.Timer(label: "kinesis_producer_buffering_time", dimensions: [("stream", "s")], factory: metrics)
        for ms in [5, 5, 5, 7, 9] { few.recordMilliseconds(ms) }
        await metrics.flush()
        let calls = sink.calls.withLock { $0 }
        #expect(calls.allSatisfy { $0.reduce(0) { $0 + $1.valueCount } <= 1000 })
        // 700 shards at 3 granularities, 1 shared global and stream point each... every point is in some call.
        #expect(sink.datum("MillisBehindLatest", ["Operation": "ProcessTask", "StreamName": "s", "ShardId": "shard-699"]).map(\.value) == [699])
        #expect(sink.data.filter { $0.metricName == "MillisBehindLatest" }.count == 700 * 3)
        #expect(calls.count >= 3)
        let request = try! #require(sink.datum("RequestTime", ["StreamName": "s"]).first)
        #expect(request.values == nil)
        #expect(request.statisticValues == .init(sampleCount: 400, sum: 80_200, minimum: 1, maximum: 400))
        let buffering = try! #require(sink.datum("BufferingTime", ["StreamName": "s"]).first)
        #expect(buffering.values == [5, 7, 9] && buffering.counts == [3, 1, 1])
        #expect(metrics.statistics.sentValues == sink.data.reduce(0) { $0 + $1.valueCount })
    }

    @Test("a CloudWatch that refuses every call loses only metrics: the values are dropped and counted")
    func refusedCallsAreCounted() async {
        let sink = RecordingSink(.refuse)
        let metrics = backend(sink, granularity: .global)
        let counter = Counter(label: "kinesis_producer_user_records_put", dimensions: [("stream", "s")], factory: metrics)
        counter.increment(by: 10)
        await metrics.flush()
        counter.increment(by: 5)
        await metrics.flush()
        let statistics = metrics.statistics
        #expect(statistics.sentValues == 0 && statistics.droppedValues == 2 && statistics.failedRequests == 2)
        #expect(statistics.lastError?.contains("AccessDeniedException") == true)
    }

    @Test("a CloudWatch that never answers does not hold up the Producer")
    func aHangingCloudWatchDoesNotBlockThePublisher() async throws {
        let engine = InMemoryKinesis()
        try await engine.createStream(.init(streamName: "events", shardCount: 1))
        let sink = RecordingSink(.hang)
        var settings = CloudWatchMetricsConfiguration(namespace: "Test")
        settings.interval = .milliseconds(10)
        let metrics = CloudWatchMetricsFactory(configuration: settings, sink: sink)
        // Something to send, so that the first interval makes a call (which never returns).
        Counter(label: "kinesis_producer_user_records_put", dimensions: [("stream", "events")], factory: metrics).increment()
        let sending = Task { try await metrics.run() }
        var configuration = Producer.Configuration(streamName: "events")
        configuration.metricsFactory = metrics
        configuration.maxBufferedTime = .milliseconds(5)
        let producer = Producer(api: engine, configuration: configuration)
        // The backend is stuck in its first call before the Producer starts.
        while sink.entered.load(ordering: .relaxed) == 0 { try await Task.sleep(for: .milliseconds(5)) }
        var tickets: [RecordTicket] = []
        try await producer.withRunning {
            for i in 0..<2_000 { tickets.append(try await producer.put(data: Data("r\(i)".utf8), partitionKey: "k\(i % 20)")) }
            await producer.flush()
        }
        #expect(tickets.allSatisfy { if case .success = $0.outcome { true } else { false } })
        #expect(producer.statistics.delivered == 2_000)
        #expect(sink.entered.load(ordering: .relaxed) == 1, "the stuck call is the only one: values wait, aggregated, for the next")
        sending.cancel()
        _ = await sending.result
    }

    @Test("series beyond the limit are dropped and counted, not kept")
    func seriesLimit() async {
        let sink = RecordingSink()
        var configuration = CloudWatchMetricsConfiguration(namespace: "Test")
        configuration.maxSeries = 3
        configuration.granularity = .global
        let metrics = CloudWatchMetricsFactory(configuration: configuration, sink: sink)
        for code in ["A", "B", "C", "D", "E"] {
            Counter(label: "kinesis_producer_errors", dimensions: [("stream", "s"), ("error_code", code)], factory: metrics).increment()
        }
        await metrics.flush()
        #expect(Set(sink.data.filter { $0.metricName == "ErrorsByCode" }.compactMap { $0.dimensions.first?.value }) == ["A", "B", "C"])
        #expect(metrics.statistics.droppedOverLimit == 2)
    }

    @Test("Embedded Metric Format: one JSON document per data point, as CloudWatch Logs reads it")
    func embeddedMetricFormat() async throws {
        let lines = Mutex<[String]>([])
        var configuration = CloudWatchMetricsConfiguration(namespace: "Test/EMF")
        configuration.granularity = .stream
        let metrics = CloudWatchMetricsFactory(configuration: configuration, sink: EmbeddedMetricFormatSink { line in lines.withLock { $0.append(line) } })
        Counter(label: "kinesis_producer_user_records_put", dimensions: [("stream", "orders")], factory: metrics).increment(by: 42)
        let timer = CoreMetrics.Timer(label: "kinesis_producer_buffering_time", dimensions: [("stream", "orders")], factory: metrics)
        for _ in 0..<150 { timer.recordMilliseconds(20) }
        await metrics.flush()
        let documents = try lines.withLock { $0 }.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let put = try #require(documents.first { ($0["StreamName"] as? String) == "orders" && $0["UserRecordsPut"] != nil })
        #expect(put["UserRecordsPut"] as? Int == 42)
        let aws = try #require(put["_aws"] as? [String: Any])
        #expect(aws["Timestamp"] is Int)
        let directive = try #require((aws["CloudWatchMetrics"] as? [[String: Any]])?.first)
        #expect(directive["Namespace"] as? String == "Test/EMF")
        #expect(directive["Dimensions"] as? [[String]] == [["StreamName"]])
        #expect((directive["Metrics"] as? [[String: String]])?.first == ["Name": "UserRecordsPut", "Unit": "Count"])
        // 150 samples are more than EMF's 100 values: the mean, with the statistic set beside it.
        let buffering = try #require(documents.first { ($0["StreamName"] as? String) == "orders" && $0["BufferingTime"] != nil })
        #expect(buffering["BufferingTime"] as? Int == 20 && buffering["BufferingTime.SampleCount"] as? Int == 150)
    }
}
