import ArgumentParser
import Foundation
import Hummingbird
import Kinesis
import KinesisLocal
import KinesisEngine

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the in-memory Kinesis engine as a Kinesis-compatible HTTP endpoint.",
        discussion: """
            Point any SDK at it: boto3.client("kinesis", endpoint_url="http://127.0.0.1:4567"), or \
            aws --endpoint-url http://127.0.0.1:4567 kinesis list-streams.

            --faults takes comma-separated settings: throttle=P and internal=P (per-record chances of \
            ProvisionedThroughputExceededException and InternalFailure, 0 to 1), drop=P (a record is \
            acknowledged but never stored) and duplicate=P (a record is stored twice), latency=DURATION (20ms, 1s), \
            seed=N, and fail=OPERATION:COUNT:KIND (KIND: throttled, internal, unavailable, limit).

            Example: --faults throttle=0.1,internal=0.01,fail=PutRecords:3:throttled
            """
    )

    @Option(help: "Address to bind. Only loopback unless you mean otherwise.") var host = "127.0.0.1"
    @Option(help: "Port to listen on; 0 picks a free one.") var port = 4567
    @Option(name: .customLong("stream"), help: "Create a stream at start, as NAME:SHARDS (repeatable).")
    var streams: [String] = []
    @Flag(help: "Enforce per-shard limits: 1,000 records/s and 1 MiB/s in, 5 reads/s and 2 MiB/s out.")
    var enforceLimits = false
    @Option(help: "Inject faults (see below).") var faults: String?
    @Option(help: "Require SigV4 signatures made with ACCESS_KEY:SECRET (and dated within 15 minutes of this clock).") var auth: String?
    @Option(help: "Most memory each shard's records may take (64MiB, 1GiB, or bytes); the oldest are trimmed beyond it, and said so on stderr. 'none' keeps every record for the retention period.")
    var retainPerShard = "256MiB"
    @Option(help: "Serve HTTPS with this PEM certificate (with --tls-key): HTTP/2 as well as HTTP/1.1, as the Java SDK and the KCL subscribe to shards over HTTP/2.")
    var tlsCert: String?
    @Option(help: "The PEM private key of --tls-cert.") var tlsKey: String?
    @Option(help: "The account's shard quota: open shards of provisioned streams beyond it are refused, as AWS refuses them.")
    var shardLimit = 500
    @Option(help: "Keep streams and records in this directory: they are there again after a restart, and a call is answered only once its records are on disk.")
    var dataDir: String?
    @Option(help: "Close a connection that has not sent a complete request head this long after opening.") var headerTimeout = "10s"
    @Option(help: "Close a connection that has sent nothing for this long.") var idleTimeout = "60s"
    @Option(
        help: ArgumentHelp(
            "How long streams stay CREATING, UPDATING and DELETING, as creating=500ms,updating=1s,deleting=500ms (each optional).",
            discussion: "AWS takes seconds; the default answers at once, as a local test wants. 0 is allowed."))
    var delays: String?
    @OptionGroup var live: MetricsOptions

    func run() async throws {
        let plan = try FaultSpec.parse(faults ?? "", flag: "--faults")
        let credentials = try auth.map(Self.parseAuth)
        let initial = try streams.map(Self.parseStream)
        guard (0...65535).contains(port) else {
            throw ValidationError("--port \(port) is out of range: expected 0 to 65535")
        }
        let budget = try Self.parseBytes(retainPerShard, flag: "--retain-per-shard")
        let header = try Self.parseTimeout(headerTimeout, flag: "--header-timeout")
        let idle = try Self.parseTimeout(idleTimeout, flag: "--idle-timeout")
        guard shardLimit >= 1 else { throw ValidationError("--shard-limit must be at least 1, got \(shardLimit)") }
        var engineConfiguration = EngineConfiguration(limits: enforceLimits ? .aws : nil, seed: plan.seed ?? 42, maxRetainedBytesPerShard: budget)
        engineConfiguration.shardLimit = shardLimit
        if let delays {
            for (name, duration) in try Self.parseDelays(delays) {
                switch name {
                case "creating": engineConfiguration.creatingDelay = duration
                case "updating": engineConfiguration.updatingDelay = duration
                default: engineConfiguration.deletingDelay = duration
                }
            }
        }
        if let budget {
            // Said once per shard at 1, 10, 100, ... records trimmed: enough to notice, never a flood.
            engineConfiguration.onBudgetTrim = { stream, shard, trimmed in
                var power = 1
                while power * 10 <= trimmed { power *= 10 }
                guard trimmed == power else { return }
                FileHandle.standardError.write(
                    Data("serve: \(stream)/\(shard) is over --retain-per-shard \(budget) bytes: \(trimmed) oldest record\(trimmed == 1 ? "" : "s") trimmed so far\n".utf8))
            }
        }
        var server: LiveServer?
        var metrics: EndpointMetrics?
        if let port = live.metricsPort {
            let started = try await LiveServer(host: live.metricsHost, port: port, what: "endpoint metrics")
            let counted = EndpointMetrics(factory: started.factory)
            engineConfiguration.onThrottle = { stream, shard, read in counted.throttled(stream: stream, shard: shard, read: read) }
            (server, metrics) = (started, counted)
        }
        let engine: InMemoryKinesis
        if let dataDir {
            do {
                let (persistent, restored) = try InMemoryKinesis.persistent(
                    directory: URL(fileURLWithPath: dataDir), configuration: engineConfiguration)
                engine = persistent
                // Before the "listening" line, so that whoever waits for that line has seen it.
                print(Self.describe(restored, dataDir: dataDir))
            } catch {
                throw CommandFailure("--data-dir \(dataDir): \(error)")
            }
        } else {
            engine = InMemoryKinesis(configuration: engineConfiguration)
        }
        engine.faults { $0 = plan.plan }
        var created: [(String, Int)] = []
        for (name, shards) in initial {
            // With a data directory the stream may be there from the last run: keep it as it is.
            if dataDir != nil, engine.snapshot().stream(name) != nil { continue }
            try await engine.createStream(.init(streamName: name, shardCount: shards))
            created.append((name, shards))
        }
        let tls: ServerTLS?
        switch (tlsCert, tlsKey) {
        case (nil, nil): tls = nil
        case (let cert?, let key?):
            do { tls = try ServerTLS(certificateFile: cert, keyFile: key) } catch { throw ValidationError("--tls-cert/--tls-key: \(error)") }
        default: throw ValidationError("--tls-cert and --tls-key go together: give both, or neither")
        }
        let endpoint = KinesisEndpoint(engine: engine, credentials: credentials)
        let host = self.host
        let createdStreams = created
        let scheme = tls == nil ? "http" : "https"
        let app = try KinesisLocalServer.application(
            endpoint: endpoint, host: host, port: port, headerTimeout: header, idleTimeout: idle, tls: tls, metrics: metrics
        ) { port in
            // An IPv6 address goes in brackets in a URL: http://[::1]:4567.
            let authority = host.contains(":") ? "[\(host)]" : host
            var lines = ["Kinesis endpoint listening on \(scheme)://\(authority):\(port)"]
            if let credentials { lines.append("SigV4 required for access key \(credentials.maskedAccessKeyId)") }
            if !createdStreams.isEmpty { lines.append("Streams: " + createdStreams.map { "\($0.0) (\($0.1) shards)" }.joined(separator: ", ")) }
            print(lines.joined(separator: "\n"))
            fflush(nil)
        }
        do {
            try await app.runService()
        } catch {
            await server?.stop()
            throw error
        }
        await server?.stop()
    }

    /// The start-up line about what a data directory held.
    static func describe(_ restored: InMemoryKinesis.Restored, dataDir: String) -> String {
        func plural(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }
        var line = "Data directory \(dataDir): \(plural(restored.streams, "stream")), \(plural(restored.records, "record")) restored"
        if restored.expired > 0 { line += "; \(plural(restored.expired, "record")) past retention left out" }
        if restored.trimmedToBudget > 0 { line += "; \(plural(restored.trimmedToBudget, "record")) over --retain-per-shard left out" }
        if restored.droppedTailBytes > 0 {
            line += "; the last \(restored.droppedTailBytes) bytes held a write cut short (never acknowledged) and were dropped"
            if let kept = restored.droppedTailKeptIn { line += " (kept in \(kept))" }
        }
        if !restored.compacted { line += "; no room to compact the journal (is the disk full?): appending to it as it is" }
        return line
    }

    /// `64MiB`, `1GiB`, `512KiB`, `1000000` (bytes), or `none`.
    static func parseBytes(_ text: String, flag: String) throws -> Int? {
        if text == "none" { return nil }
        let units: [(String, Int)] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("B", 1), ("", 1)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            if let number = Int(text.dropLast(suffix.count)), number > 0, number <= Int.max / scale, number * scale >= 1 << 20 {
                return number * scale
            }
            break
        }
        throw ValidationError("\(flag) '\(text)' is not a size of at least 1MiB such as 64MiB or 1GiB (or none)")
    }

    static func parseTimeout(_ text: String, flag: String) throws -> Duration {
        guard let duration = DurationText.parse(text), duration > .zero, duration <= .seconds(86_400) else {
            throw ValidationError("\(flag) '\(text)' is not a duration from 1ms to 24h, such as 10s")
        }
        return duration
    }

    /// `creating=500ms,updating=1s,deleting=0`: each name at most once, durations up to 1h.
    static func parseDelays(_ text: String) throws -> [(String, Duration)] {
        var seen: Set<String> = []
        return try text.split(separator: ",", omittingEmptySubsequences: false).map { item in
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, ["creating", "updating", "deleting"].contains(parts[0]) else {
                throw ValidationError("--delays '\(item)' is not creating=, updating= or deleting= and a duration, such as creating=500ms")
            }
            guard seen.insert(parts[0]).inserted else { throw ValidationError("--delays names \(parts[0]) twice") }
            guard let duration = parts[1] == "0" ? .zero : DurationText.parse(parts[1]), duration >= .zero, duration <= .seconds(3600) else {
                throw ValidationError("--delays \(parts[0])='\(parts[1])' is not a duration from 0 to 1h, such as 500ms")
            }
            return (parts[0], duration)
        }
    }

    static func parseAuth(_ text: String) throws -> AWSCredentials {
        let parts = text.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw ValidationError("--auth expects ACCESS_KEY:SECRET, both non-empty")
        }
        return AWSCredentials(accessKeyId: String(parts[0]), secretAccessKey: String(parts[1]))
    }

    static func parseStream(_ text: String) throws -> (String, Int) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let shards = Int(parts[1]), KinesisConfiguration.shardCountRange.contains(shards) else {
            throw ValidationError("--stream '\(text)' is not valid: expected NAME:SHARDS with SHARDS from 1 to 100000")
        }
        try validateStreamName(String(parts[0]), source: "--stream name")
        return (String(parts[0]), shards)
    }
}

/// The `--faults` language: `throttle=0.1,internal=0.01,latency=20ms,seed=7,fail=PutRecords:3:throttled`.
enum FaultSpec {
    static func parse(_ text: String, flag: String) throws -> (plan: FaultPlan, seed: UInt64?) {
        var plan = FaultPlan()
        var seed: UInt64?
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let pair = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { throw ValidationError("\(flag): '\(item)' is not KEY=VALUE") }
            let (key, value) = (pair[0], pair[1])
            switch key {
            case "throttle", "internal", "drop", "duplicate":
                guard let probability = Double(value), (0...1).contains(probability) else {
                    throw ValidationError("\(flag): \(key)='\(value)' is not a probability from 0 to 1")
                }
                switch key {
                case "throttle": plan.recordThrottleProbability = probability
                case "internal": plan.recordInternalFailureProbability = probability
                case "drop": plan.recordDropProbability = probability
                default: plan.recordDuplicateProbability = probability
                }
            case "latency":
                guard let duration = DurationText.parse(value) else {
                    throw ValidationError("\(flag): latency='\(value)' is not a duration such as 20ms or 1s")
                }
                plan.latency = duration
            case "seed":
                guard let number = UInt64(value) else { throw ValidationError("\(flag): seed='\(value)' is not a non-negative integer") }
                seed = number
            case "fail":
                let parts = value.split(separator: ":").map(String.init)
                let kinds: [String: FaultPlan.Failure] = [
                    "throttled": .throttled, "internal": .internalFailure, "unavailable": .unavailable, "limit": .limitExceeded,
                ]
                guard parts.count == 3, let operation = KinesisOperation(rawValue: parts[0]), let count = Int(parts[1]), count > 0,
                    let kind = kinds[parts[2]]
                else {
                    throw ValidationError(
                        "\(flag): fail='\(value)' is not OPERATION:COUNT:KIND, e.g. PutRecords:3:throttled (KIND: \(kinds.keys.sorted().joined(separator: ", ")))")
                }
                plan.failNext(count, operation, with: kind)
            default:
                throw ValidationError("\(flag): unknown setting '\(key)' (expected throttle, internal, drop, duplicate, latency, seed or fail)")
            }
        }
        return (plan, seed)
    }
}
