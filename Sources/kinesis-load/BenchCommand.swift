import ArgumentParser
import Foundation
import Kinesis
import Logging
import KinesisConsumer
import KinesisProducer
import KinesisEngine
import Synchronization

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure publishing and reading throughput (use a release build).",
        subcommands: [ProducerBench.self, ConsumerBench.self]
    )

    struct ProducerBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "producer",
            abstract: "Records per second through the Producer, into the in-process engine or an endpoint.")

        @OptionGroup var connection: ConnectionOptions
        @Option(help: "Records to publish.") var records = 1_000_000
        @Option(help: "Payload bytes per record.") var size = 100
        @Option(help: "Shards of the stream (created if missing).") var shards = 4
        @Option(help: "Stream name.") var stream = "bench"
        @Flag(inversion: .prefixedNo, help: "KPL aggregation.") var aggregate = true
        @Flag(help: "Print one JSON line instead of text.") var json = false
        @Flag(help: "Drop the Producer's per-key order, to measure what it costs.") var unordered = false
        @Option(help: "Records per put call: 1 uses put(data:partitionKey:), more use put(contentsOf:).") var batch = 1
        @Option(help: "Tasks putting records at once, each an equal share.") var concurrency = 1
        @Option(help: "How a put (--batch 1) learns its record's fate: ticket (put returns a RecordTicket), callback (put(...onCompletion:)) or counted (putCounted).")
        var outcome = "ticket"
        @OptionGroup var cloudwatch: CloudWatchOptions

        func run() async throws {
            guard (1...1_000_000_000).contains(records) else { throw ValidationError("--records must be from 1 to 1000000000, got \(records)") }
            guard (0...ServiceLimits.recordMaxBytes - 16).contains(size) else {
                throw ValidationError("--size must be from 0 to \(ServiceLimits.recordMaxBytes - 16) bytes (a record and its key fit in 1 MiB), got \(size)")
            }
            guard KinesisConfiguration.shardCountRange.contains(shards) else { throw ValidationError("--shards must be from 1 to 100000, got \(shards)") }
            guard (1...ServiceLimits.putRecordsMaxRecords * 100).contains(batch) else { throw ValidationError("--batch must be from 1 to 50000, got \(batch)") }
            guard (1...1024).contains(concurrency) else { throw ValidationError("--concurrency must be from 1 to 1024, got \(concurrency)") }
            guard ["ticket", "callback", "counted"].contains(outcome) else {
                throw ValidationError("--outcome must be ticket, callback or counted, got '\(outcome)'")
            }
            let target = connection.endpoint ?? "in-process engine"
            // With --cloudwatch-metrics, the Producer's metrics go to CloudWatch as it publishes: what that costs.
            let metrics = try cloudwatch.start(try connection.configuration())
            if connection.endpoint != nil {
                try await connection.withClient { client in
                    try await StreamManager(api: client, pollInterval: .milliseconds(100)).ensureExists(
                        stream, capacity: .provisioned(shards: shards))
                    try await measure(api: client, target: target, metrics: metrics)
                }
            } else {
                let engine = InMemoryKinesis(configuration: EngineConfiguration(callHistoryLimit: 1000))
                try await engine.createStream(.init(streamName: stream, shardCount: shards))
                try await measure(api: engine, target: target, metrics: metrics)
            }
            await metrics?.finish()
        }

        func measure(api: any KinesisAPI, target: String, metrics: CloudWatchSession?) async throws {
            var configuration = Producer.Configuration(streamName: stream)
            configuration.metricsFactory = metrics?.factory
            configuration.aggregation = aggregate
            configuration.rateLimitPercent = nil
            configuration.maxConcurrentRequests = 16
            configuration.ordering = unordered ? .none : .perKey
            let producer = Producer(api: api, configuration: configuration)
            let payload = Data(repeating: 0x61, count: size)
            let keys = (0..<1000).map { "user-\($0)" }
            let clock = ContinuousClock()
            let elapsed = try await producer.withRunning {
                let start = clock.now
                let batch = self.batch
                let outcome = self.outcome  // not read through the option's wrapper on every put
                let tasks = max(1, concurrency)
                try await withThrowingTaskGroup(of: Void.self) { putters in
                    for task in 0..<tasks {
                        let share = records / tasks + (task < records % tasks ? 1 : 0)
                        putters.addTask {
                            var index = 0
                            while index < share {
                                if batch <= 1 {
                                    let key = keys[(index + task) % keys.count]
                                    switch outcome {
                                    case "callback": try await producer.put(data: payload, partitionKey: key) { _ in }
                                    case "counted": try await producer.putCounted(data: payload, partitionKey: key)
                                    default: _ = try await producer.put(data: payload, partitionKey: key)
                                    }
                                    index += 1
                                } else {
                                    let count = min(batch, share - index)
                                    let entries = (index..<(index + count)).map {
                                        PublishEntry(data: payload, partitionKey: keys[($0 + task) % keys.count])
                                    }
                                    _ = try await producer.put(contentsOf: entries)
                                    index += count
                                }
                            }
                        }
                    }
                    try await putters.waitForAll()
                }
                await producer.flush()
                return start.duration(to: clock.now)
            }
            let seconds = elapsed.timeInterval
            let statistics = producer.statistics
            let rate = Double(statistics.delivered) / seconds
            if json {
                print(
                    #"{"tool":"swift-producer","target":"\#(target)","cloudwatch":\#(metrics == nil ? "false" : "true"),"aggregate":\#(aggregate),"ordering":"\#(unordered ? "none" : "per-key")","batch":\#(batch),"outcome":"\#(outcome)","concurrency":\#(concurrency),"records":\#(records),"delivered":\#(statistics.delivered),"failed":\#(statistics.failed),"seconds":\#(seconds),"recordsPerSecond":\#(Int(rate)),"kinesisRecords":\#(statistics.kinesisRecords),"requests":\#(statistics.requests)}"#
                )
            } else {
                print(
                    "swift Producer -> \(target): \(statistics.delivered) of \(records) records (\(size) B, aggregation \(aggregate ? "on" : "off"), ordering \(unordered ? "none" : "per-key"), \(batch) per put, \(concurrency) tasks) in \(String(format: "%.2f", seconds)) s = \(Int(rate)) records/s; \(statistics.kinesisRecords) Kinesis records in \(statistics.requests) PutRecords; \(statistics.failed) failed"
                )
            }
            if statistics.delivered != records { throw ExitCode(1) }
        }
    }

    struct ConsumerBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "consumer",
            abstract: "User records per second read by the StreamConsumer (deaggregated), from the in-process engine or an endpoint.")

        @OptionGroup var connection: ConnectionOptions
        @Option(help: "User records to write, then read.") var records = 1_000_000
        @Option(help: "Payload bytes per record.") var size = 100
        @Option(help: "Shards of the stream (created if missing).") var shards = 4
        @Option(help: "Stream name.") var stream = "bench-read"
        @Flag(inversion: .prefixedNo, help: "Write KPL aggregates (read back deaggregated).") var aggregate = true
        @Flag(help: "Print one JSON line instead of text.") var json = false
        @Flag(inversion: .prefixedNo, help: "Write --records first; with --no-write, read what the stream holds (to profile reading alone).")
        var write = true
        @Flag(help: "With --endpoint: read records in CBOR, as the Java SDK does.") var cbor = false

        func run() async throws {
            guard (1...100_000_000).contains(records) else { throw ValidationError("--records must be from 1 to 100000000, got \(records)") }
            guard (0...ServiceLimits.recordMaxBytes - 16).contains(size) else { throw ValidationError("--size must be from 0 to \(ServiceLimits.recordMaxBytes - 16), got \(size)") }
            guard KinesisConfiguration.shardCountRange.contains(shards) else { throw ValidationError("--shards must be from 1 to 100000, got \(shards)") }
            if cbor, connection.endpoint == nil { throw ValidationError("--cbor needs --endpoint: the in-process engine is read without any wire format") }
            let target = connection.endpoint ?? "in-process engine"
            if connection.endpoint != nil {
                try await connection.withClient(cborReads: cbor) { client in
                    try await StreamManager(api: client, pollInterval: .milliseconds(100)).ensureExists(stream, capacity: .provisioned(shards: shards))
                    try await measure(api: client, target: target)
                }
            } else {
                let engine = InMemoryKinesis(configuration: EngineConfiguration(callHistoryLimit: 1000))
                try await engine.createStream(.init(streamName: stream, shardCount: shards))
                try await measure(api: engine, target: target)
            }
        }

        final class Counter: RecordProcessor {
            let count = Atomic<Int>(0)
            func processRecord(_ record: ConsumerRecord) async throws { count.wrappingAdd(1, ordering: .relaxed) }
            func processRecords(_ batch: ProcessingBatch, checkpointer: Checkpointer) async throws {
                count.wrappingAdd(batch.records.count, ordering: .relaxed)
            }
            func recordFailed(_ failure: RecordFailure) async {}
        }

        /// Writes --records user records with the Producer, aggregated unless told otherwise.
        func fill(api: any KinesisAPI) async throws {
            var configuration = Producer.Configuration(streamName: stream)
            configuration.aggregation = aggregate
            configuration.rateLimitPercent = nil
            configuration.maxConcurrentRequests = 16
            configuration.ordering = .none
            let producer = Producer(api: api, configuration: configuration)
            let payload = Data(repeating: 0x61, count: size)
            try await producer.withRunning {
                var entries: [PublishEntry] = []
                for index in 0..<records {
                    entries.append(PublishEntry(data: payload, partitionKey: "user-\(index % 1000)"))
                    if entries.count == 1000 || index == records - 1 {
                        _ = try await producer.put(contentsOf: entries)
                        entries.removeAll(keepingCapacity: true)
                    }
                }
                await producer.flush()
            }
            guard producer.statistics.delivered == records else {
                throw CommandFailure("only \(producer.statistics.delivered) of \(records) records were written")
            }
        }

        func measure(api: any KinesisAPI, target: String) async throws {
            if write { try await fill(api: api) }
            // Read: every shard from TRIM_HORIZON until caught up.
            var consumerConfiguration = StreamConsumer.Configuration(streamName: stream, applicationName: "bench-\(UUID().uuidString)")
            consumerConfiguration.reader.minimumCallInterval = .zero
            consumerConfiguration.reader.idleTime = .milliseconds(1)
            consumerConfiguration.maxConcurrentShards = shards
            let counter = Counter()
            var quiet = Logger(label: "bench")
            quiet.logLevel = .warning
            let consumer = StreamConsumer(api: api, configuration: consumerConfiguration, processor: counter, logger: quiet)
            let clock = ContinuousClock()
            let start = clock.now
            try await consumer.run(untilCaughtUp: true)
            let seconds = start.duration(to: clock.now).timeInterval
            let read = counter.count.load(ordering: .relaxed)
            let rate = Double(read) / seconds
            if json {
                print(#"{"tool":"swift-consumer","target":"\#(target)","cbor":\#(cbor),"aggregate":\#(aggregate),"records":\#(records),"read":\#(read),"seconds":\#(seconds),"recordsPerSecond":\#(Int(rate))}"#)
            } else {
                print("swift StreamConsumer <- \(target): \(read) of \(records) user records (\(size) B, aggregation \(aggregate ? "on" : "off"), \(shards) shards) in \(String(format: "%.2f", seconds)) s = \(Int(rate)) records/s")
            }
            if write, read != records { throw ExitCode(1) }
        }
    }
}
