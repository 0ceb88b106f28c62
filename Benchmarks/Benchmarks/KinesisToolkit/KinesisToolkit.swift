import Benchmark
import Foundation
import Kinesis
import KinesisEngine
import KinesisProducer

/// Regressions show as numbers: throughput, mallocs and time per operation, with thresholds
/// (`Thresholds/`, written by `benchmark thresholds update`, checked by `thresholds check`).
/// Names carry no spaces: the plugin reads a threshold file by the name as it is.
///
/// - MD5Routing: one partition key's hash key (uncached), per key.
/// - AggregationEncode: one 100-byte record into a KPL aggregate (built when full), per record.
/// - AggregationDecode: one 50 KB aggregate of 439 records read back, per aggregate.
/// - SigV4Signing: one 100 KB PutRecords request signed, per request.
/// - ProducerPutCounted: the whole Producer (aggregated, per-key order, in-process engine), per record.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal, .instructions],
        warmupIterations: 3,
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 1_000,
        thresholds: [
            // Allocations are deterministic: any increase past rounding is a regression. Time
            // and throughput move by 10-30% between runs on a shared 2-core machine: only a
            // change past half shows.
            .mallocCountTotal: .init(relative: [.p90: 2.0]),
            .wallClock: .init(relative: [.p90: 50.0]),
            .throughput: .init(relative: [.p90: 50.0]),
        ]
    )

    let keys = (0..<1_000).map { "user-\($0)" }
    let payload = Data(repeating: 0x61, count: 100)

    // The hash key of a record: MD5 of its partition key (what every routed record costs, uncached).
    Benchmark("MD5Routing") { benchmark in
        var index = 0
        for _ in benchmark.scaledIterations {
            blackHole(ShardMap.hashKey(forPartitionKey: keys[index]))
            index = (index + 1) % keys.count
        }
    }

    // One user record appended to a KPL aggregate; an aggregate is built (encoded and digested)
    // whenever the next record does not fit, as the Producer does.
    Benchmark("AggregationEncode") { benchmark in
        var builder = AggregatedRecordBuilder()
        var index = 0
        for _ in benchmark.scaledIterations {
            if !builder.append(partitionKey: keys[index], explicitHashKey: nil, data: payload) {
                blackHole(builder.build())
                builder.reset()
                builder.append(partitionKey: keys[index], explicitHashKey: nil, data: payload)
            }
            index = (index + 1) % keys.count
        }
        blackHole(builder.build())
    }

    // A 50 KB aggregate of 100-byte records read back (digest checked, every record copied out).
    var aggregate = AggregatedRecordBuilder()
    var perAggregate = 0
    while aggregate.append(partitionKey: keys[perAggregate % keys.count], explicitHashKey: nil, data: payload) { perAggregate += 1 }
    let built = aggregate.build()!.data
    Benchmark("AggregationDecode", configuration: .init(scalingFactor: .one)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(AggregatedRecord.deaggregate(built))
        }
    }

    // SigV4 for a 500-record PutRecords body (about 100 KB): what each request costs to sign.
    let signer = SigV4Signer(service: "kinesis", region: "us-east-1")
    let credentials = AWSCredentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    let body = Array(repeating: UInt8(0x61), count: 100_000)
    let date = Date(timeIntervalSince1970: 1_700_000_000)
    Benchmark("SigV4Signing", configuration: .init(scalingFactor: .one)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(
                signer.sign(
                    method: "POST", path: "/",
                    headers: [("Host", "kinesis.us-east-1.amazonaws.com"), ("Content-Type", "application/x-amz-json-1.1"),
                              ("X-Amz-Target", "Kinesis_20131202.PutRecords")],
                    body: body, credentials: credentials, date: date))
        }
    }

    // The whole Producer: aggregated, per-key order, counted puts into the in-process engine.
    // A million records a sample, so that the flush at its end (one round trip) weighs little.
    // Its allocations follow how records fall into requests, which timing decides: 10% slack.
    let producerThresholds: [BenchmarkMetric: BenchmarkThresholds] = [
        .mallocCountTotal: .init(relative: [.p90: 10.0]), .wallClock: .init(relative: [.p90: 50.0]),
        .throughput: .init(relative: [.p90: 50.0]),
    ]
    Benchmark(
        "ProducerPutCounted",
        configuration: .init(scalingFactor: .mega, maxDuration: .seconds(20), maxIterations: 5, thresholds: producerThresholds)
    ) {
        benchmark in
        let engine = InMemoryKinesis(configuration: EngineConfiguration(callHistoryLimit: 10))
        try await engine.createStream(.init(streamName: "bench", shardCount: 4))
        var configuration = Producer.Configuration(streamName: "bench")
        configuration.rateLimitPercent = nil
        configuration.maxConcurrentRequests = 16
        let producer = Producer(api: engine, configuration: configuration)
        let running = Task { try await producer.run() }
        await producer.refreshShardMap()
        var index = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            try await producer.putCounted(data: payload, partitionKey: keys[index])
            index = (index + 1) % keys.count
        }
        await producer.flush()
        benchmark.stopMeasurement()
        producer.shutdown()
        try await running.value
    }
}
