import ArgumentParser
import Foundation
import Kinesis
import KinesisConsumer
import KinesisLoad
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

struct TailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Print a stream's records as they arrive (like kcat -C): every shard, following splits and merges.",
        discussion: """
            Records are deaggregated (KPL aggregates become their user records) unless --no-deaggregate. \
            Without --json, JSON data is pretty-printed and other data printed as text (base64 when it is \
            not UTF-8). With --json, one object per line: shard, sequenceNumber, subSequenceNumber, \
            partitionKey, arrival, and data (text) or dataBase64. Parents are read to their end before \
            their children. --stop-when-caught-up exits once every open shard is at its tip and every \
            closed one is finished; otherwise Ctrl-C (or SIGTERM) stops it (exit 130).
            """)

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var cloudwatch: CloudWatchOptions
    @Argument(help: "Stream name.") var stream: String
    @Flag(help: "Read from the real AWS service (credentials from the usual chain).") var aws = false
    @Option(help: "Where to start: trim-horizon, latest, an ISO-8601 time (2026-11-29T12:00:00Z), or a sequence number (with --shard).")
    var from = "latest"
    @Option(help: "Read only this shard (and stop at its end).") var shard: String?
    @Flag(help: "One JSON object per record, per line.") var json = false
    @Flag(help: "Exit once every shard is read to its tip.") var stopWhenCaughtUp = false
    @Flag(help: "Print KPL aggregates as they are instead of their user records.") var noDeaggregate = false
    @Flag(help: "Read records in CBOR, as the Java SDK does (AWS and kinesis-load serve speak it; moto does not).") var cbor = false
    @Option(
        name: .customLong("fan-out"),
        help: "Read with enhanced fan-out (SubscribeToShard) as this registered consumer. One registered for this run is deregistered at exit.")
    var fanOut: String?
    @Option(
        name: .customLong("lease-table"),
        help: """
            Read as one lease-sharing worker of this application: its leases (and checkpoints) live in the DynamoDB table of that name, \
            in the KCL's format, so several tails on several hosts split the stream. DynamoDB is --endpoint when given, otherwise \
            AWS_ENDPOINT_URL_DYNAMODB, then the region's.
            """)
    var leaseTable: String?
    @Flag(help: "With --lease-table: create the table (PAY_PER_REQUEST) when it does not exist.") var create = false
    @Option(help: "With --lease-table: this worker's id in the table (default: host:pid:random).") var workerId: String?
    @Option(help: "With --lease-table: how long a lease's counter must stand still before another worker takes it (default 10s).")
    var failover = "10s"

    func validate() throws {
        try validateStreamName(stream, source: "stream name")
        if aws, connection.endpoint != nil { throw ValidationError("--aws and --endpoint exclude each other: pick one target") }
        _ = try position()
        if leaseTable != nil {
            if shard != nil { throw ValidationError("--lease-table and --shard exclude each other: with leases, the table decides which shards this worker reads") }
            _ = try failoverTime()
        } else if create || workerId != nil {
            throw ValidationError("\(create ? "--create" : "--worker-id") goes with --lease-table")
        }
    }

    /// `--failover` as a duration.
    func failoverTime() throws -> Duration {
        guard let duration = DurationText.parse(failover), duration >= .milliseconds(100) else {
            throw ValidationError("--failover '\(failover)': expected a duration of at least 100ms, such as 10s or 1500ms")
        }
        return duration
    }

    /// `--from` as a starting position.
    func position() throws -> StartingPosition {
        switch from.lowercased() {
        case "trim-horizon", "trim_horizon", "earliest", "beginning": return .trimHorizon
        case "latest", "end": return .latest
        default: break
        }
        if from.allSatisfy(\.isNumber) {
            guard shard != nil else {
                throw ValidationError("--from \(from): a sequence number belongs to one shard, so name it with --shard")
            }
            return .atSequenceNumber(from)
        }
        let formatter = ISO8601DateFormatter()
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime, .withFractionalSeconds], [.withInternetDateTime], [.withFullDate]] {
            formatter.formatOptions = options
            if let date = formatter.date(from: from) { return .atTimestamp(date) }
        }
        throw ValidationError(
            "--from '\(from)' is not a position: expected trim-horizon, latest, an ISO-8601 time such as 2026-11-29T12:00:00Z, or a sequence number (with --shard)")
    }

    func run() async throws {
        let start = try position()
        let configuration = try connection.configuration()
        if aws, configuration.endpoint != nil {
            throw ValidationError("--aws: an endpoint override is set in the environment (AWS_ENDPOINT_URL_KINESIS or AWS_ENDPOINT_URL); unset it to reach AWS")
        }
        let printer = RecordPrinter(json: json)
        let stopped = StopSignal()
        let metrics = try cloudwatch.start(configuration)
        let count: Int
        do {
            count = try await tail(start: start, printer: printer, stopped: stopped, metrics: metrics)
        } catch {
            await metrics?.finish()
            throw error
        }
        await metrics?.finish()
        FileHandle.standardError.write(Data("\(count) record\(count == 1 ? "" : "s")\n".utf8))
        if stopped.isRequested { throw ExitCode(130) }
    }

    func tail(start: StartingPosition, printer: RecordPrinter, stopped: StopSignal, metrics: CloudWatchSession?) async throws -> Int {
        try await connection.withClient(cborReads: cbor) { client in
            let shards: [Shard]
            do {
                shards = try await StreamManager(api: client).listAllShards(stream: stream)
            } catch let error as KinesisError where error.code == .resourceNotFound {
                throw CommandFailure("stream \"\(stream)\" does not exist\(connection.endpoint.map { " at \($0)" } ?? ""): \(error.message)")
            }
            var options = ShardReaderOptions()
            options.deaggregate = !noDeaggregate
            options.idleTime = .milliseconds(200)
            // With --fan-out, a consumer this run had to register is deregistered at exit: on AWS
            // a registered consumer is billed by the hour until it is.
            var registered: String?
            var consumerARN: String?
            if let fanOut {
                let consumer = try await StreamConsumer.fanOutConsumer(api: client, stream: stream, name: fanOut)
                consumerARN = consumer.arn
                if consumer.registered {
                    registered = consumer.arn
                    FileHandle.standardError.write(Data("registered consumer \(fanOut) for this run; it is deregistered at exit\n".utf8))
                }
            }
            let result: Int
            do {
                result = try await tailShards(
                    shards, client: client, start: start, options: options, consumerARN: consumerARN, printer: printer, stopped: stopped,
                    metrics: metrics)
            } catch {
                if let registered { try? await client.deregisterStreamConsumer(.init(consumerARN: registered)) }
                throw error
            }
            if let registered { try await client.deregisterStreamConsumer(.init(consumerARN: registered)) }
            return result
        }
    }

    /// Every shard with a StreamConsumer, or the one of `--shard` with a reader alone.
    func tailShards(
        _ shards: [Shard], client: HTTPKinesisClient, start: StartingPosition, options: ShardReaderOptions, consumerARN: String?,
        printer: RecordPrinter, stopped: StopSignal, metrics: CloudWatchSession? = nil
    ) async throws -> Int {
        if let shard {
            guard let found = shards.first(where: { $0.shardId == shard }) else {
                throw ValidationError("--shard \(shard): no such shard in stream \(stream) (it has \(shards.map(\.shardId).joined(separator: ", ")))")
            }
            return try await tailOne(found, client: client, start: start, options: options, consumerARN: consumerARN, printer: printer, stopped: stopped)
        }
        var consumerConfiguration = StreamConsumer.Configuration(streamName: stream, applicationName: leaseTable ?? "kinesis-load-tail")
        consumerConfiguration.initialPosition = start
        consumerConfiguration.reader = options
        consumerConfiguration.shardSyncInterval = .seconds(10)
        consumerConfiguration.fanOutConsumerName = fanOut
        if let metrics { consumerConfiguration.metricsFactory = metrics.factory }
        var quiet = Logger(label: "kinesis-load-tail", factory: { StreamLogHandler.standardError(label: $0) })
        quiet.logLevel = leaseTable == nil ? .warning : .info
        func consume() async throws {
            let consumer = StreamConsumer(api: client, configuration: consumerConfiguration, processor: printer, logger: quiet)
            let signals = onStopSignals([SIGINT, SIGTERM]) { _ in stopped.request(); consumer.shutdown() }
            defer { signals.forEach { $0.cancel() } }
            try await consumer.run(untilCaughtUp: stopWhenCaughtUp)
        }
        if let leaseTable {
            try await connection.withDynamoDB { dynamo in
                var leases = LeaseOptions.dynamoDB(table: leaseTable, client: dynamo, workerId: workerId ?? LeaseOptions.defaultWorkerId(), createTable: create)
                leases.failover = try failoverTime()
                consumerConfiguration.leases = leases
                FileHandle.standardError.write(Data("worker \(leases.workerId) of \(leaseTable)\n".utf8))
                try await consume()
            }
        } else {
            try await consume()
        }
        return printer.printed
    }

    /// One shard, with the reader alone: to its tip (with --stop-when-caught-up) or its end.
    func tailOne(
        _ shard: Shard, client: HTTPKinesisClient, start: StartingPosition, options: ShardReaderOptions, consumerARN: String?,
        printer: RecordPrinter, stopped: StopSignal
    ) async throws -> Int {
        let reader = ShardReader(api: client, stream: stream, shardId: shard.shardId, from: start, options: options, fanOutConsumerARN: consumerARN)
        let task = Task {
            for try await batch in reader {
                printer.print(batch.records)
                if batch.isShardEnd {
                    FileHandle.standardError.write(Data("shard \(shard.shardId) ended; children: \(batch.childShards.map(\.shardId).joined(separator: ", "))\n".utf8))
                }
                if stopWhenCaughtUp, batch.millisBehindLatest == 0, batch.records.count < options.maxRecordsPerCall { break }
            }
        }
        let signals = onStopSignals([SIGINT, SIGTERM]) { _ in stopped.request(); task.cancel() }
        defer { signals.forEach { $0.cancel() } }
        do {
            try await task.value
        } catch is CancellationError {}
        return printer.printed
    }

}

/// Prints records for `tail`, a batch at a time and whole lines only (shards print concurrently).
final class RecordPrinter: RecordProcessor {
    let json: Bool
    private let count = Mutex(0)
    private let lock = Mutex(())
    init(json: Bool) { self.json = json }

    var printed: Int { count.withLock { $0 } }

    func processRecord(_ record: ConsumerRecord) async throws { print([record]) }

    func processRecords(_ batch: ProcessingBatch, checkpointer: Checkpointer) async throws { print(batch.records) }

    func recordFailed(_ failure: RecordFailure) async {}

    func print(_ records: [ConsumerRecord]) {
        guard !records.isEmpty else { return }
        var out = ""
        if json {
            // One encoder and one date formatter per batch, not per record.
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let dates = ISO8601DateFormatter()
            for record in records { out += jsonLine(record, encoder: encoder, dates: dates) }
        } else {
            for record in records { out += text(record) }
        }
        lock.withLock { _ in FileHandle.standardOutput.write(Data(out.utf8)) }
        count.withLock { $0 += records.count }
    }

    func text(_ record: ConsumerRecord) -> String {
        if let object = try? JSONSerialization.jsonObject(with: record.data, options: [.fragmentsAllowed]),
            JSONSerialization.isValidJSONObject(object),
            let pretty = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        {
            return String(decoding: pretty, as: UTF8.self) + "\n"
        }
        if let text = String(data: record.data, encoding: .utf8) { return text + "\n" }
        return record.data.base64EncodedString() + "\n"
    }

    struct Line: Encodable {
        var shard: String
        var sequenceNumber: String
        var subSequenceNumber: Int
        var partitionKey: String
        var arrival: String?
        var data: String?
        var dataBase64: String?
        var outOfShardRange: Bool?
        var corruptAggregate: Bool?
    }

    func jsonLine(_ record: ConsumerRecord, encoder: JSONEncoder, dates: ISO8601DateFormatter) -> String {
        let text = String(data: record.data, encoding: .utf8)
        let line = Line(
            shard: record.shardId, sequenceNumber: record.sequenceNumber, subSequenceNumber: record.subSequenceNumber,
            partitionKey: record.partitionKey, arrival: record.approximateArrivalTimestamp.map { dates.string(from: $0) },
            data: text, dataBase64: text == nil ? record.data.base64EncodedString() : nil, outOfShardRange: record.outOfShardRange ? true : nil,
            corruptAggregate: record.corruptAggregate ? true : nil)
        return String(decoding: (try? encoder.encode(line)) ?? Data("{}".utf8), as: UTF8.self) + "\n"
    }
}
