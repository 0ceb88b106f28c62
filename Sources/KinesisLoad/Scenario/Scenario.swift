import Foundation
import Kinesis
import KinesisEngine
import KinesisProducer

/// A workload, as a scenario file describes it (see `Scenarios/README.md`), decoded and checked.
package struct Scenario: Sendable {
    /// Longest scenario name: it names the report folder, which must fit the filesystem.
    package static let maximumNameLength = 100

    /// Whether a scenario name may hold `scalar`: ASCII letters, digits, '-', '_' and '.', which
    /// are safe in a folder name on every filesystem.
    package static func isNameCharacter(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "-_.".unicodeScalars.contains(scalar))
    }

    package var name: String
    package var description: String?
    /// Seeds every random draw: the same seed gives the same event stream (types, keys, values),
    /// apart from clock-derived values such as `{{now}}`.
    package var seed: UInt64
    package var stream: StreamSpec
    package var load: LoadSpec
    package var publisher: PublisherSpec
    package var keyPools: [String: KeyPoolSpec]
    package var events: [EventSpec]
    package var thresholds: [Threshold]
    /// Consumers reading the stream during the run (nil: the run only publishes).
    package var consume: ConsumeSpec?
    /// Raw records kept in SQLite per event type (0 for none).
    package var sampledRecordsPerType: Int
    /// The file's text, stored with the run so that a report needs nothing but SQLite.
    package var source: String

    /// `$.consume`: consumers that read the stream while it is published to, in this process,
    /// through the product's own `StreamConsumer`.
    package struct ConsumeSpec: Sendable, Hashable {
        package enum Start: String, Sendable, Hashable, CaseIterable {
            case trimHorizon = "trim-horizon"
            case latest
        }

        /// `StreamConsumer`s sharing the shards (each owns a disjoint set).
        package var consumers: Int
        package var from: Start
        /// Read back until every shard is caught up, and report lost, duplicated, out-of-order
        /// and unexpected records.
        package var verify: Bool
        /// Simulated work per record, to provoke lag.
        package var processingTime: Duration
        /// After publishing, how long to wait for the consumers to catch up.
        package var catchUpTimeout: Duration
        /// GetRecords' Limit: records asked for per call (the KCL's maxRecords). A consumer
        /// whose backlog is bigger than a page shows it as MillisBehindLatest.
        package var maxRecordsPerCall: Int

        /// Lease-sharing workers (`"workers": 3`): StreamConsumers that share the shards through
        /// one lease table (in memory), instead of a fixed split; nil for `consumers`.
        package var workers: Int? = nil
        package var leaseFailover: Duration = .seconds(10)
        package var leaseTakeInterval: Duration? = nil
        /// What happens to one worker during the run.
        package var fault: WorkerFault? = nil

        /// A worker killed (it stops at once: no renew, no checkpoint, no release) or frozen (a
        /// zombie: it stops renewing and taking, but keeps reading and processing) at `at`
        /// after the run starts.
        package struct WorkerFault: Sendable, Hashable {
            package enum Action: String, Sendable, Hashable, CaseIterable {
                case kill, freeze
            }

            package var worker: Int
            package var action: Action
            package var at: Duration
        }

        package static let defaultConsumers = 1
        package static let defaultCatchUpTimeout: Duration = .seconds(60)
        package static let maximumConsumers = 64
    }

    package struct StreamSpec: Sendable, Hashable {
        package var name: String
        /// nil for an on-demand stream.
        package var shards: Int?
        /// Whether a run may create the stream when it is missing: nil when the scenario does not
        /// say (the embedded engine creates it; any other target needs `--create`).
        package var create: Bool?
    }

    package struct Stage: Sendable, Hashable {
        package var target: Double
        package var duration: Duration
    }

    package enum Executor: Sendable, Hashable {
        /// `rate` events per second for `duration`.
        case constantArrivalRate(rate: Double, duration: Duration)
        /// From `startRate`, linear to each stage's target over the stage's duration.
        case rampingArrivalRate(startRate: Double, stages: [Stage])
        /// A fixed number of events, at `rate` per second or as fast as the publisher takes them.
        case fixedEvents(count: Int, rate: Double?)
    }

    package struct LoadSpec: Sendable, Hashable {
        package var executor: Executor
        /// Exponential gaps between arrivals (a Poisson process) instead of even spacing.
        package var poisson: Bool
        /// Most events started and not finished; an event due beyond it is dropped and counted.
        package var maxInFlight: Int

        /// The in-flight cap when the scenario names none.
        package static let defaultMaxInFlight = 100_000

        /// The highest rate the schedule asks for (nil when unpaced).
        package var peakRate: Double? {
            switch executor {
            case .constantArrivalRate(let rate, _): rate
            case .rampingArrivalRate(let start, let stages): stages.map(\.target).reduce(start, max)
            case .fixedEvents(_, let rate): rate
            }
        }

        /// Planned length of the schedule (nil when unpaced).
        package var duration: Duration? {
            switch executor {
            case .constantArrivalRate(_, let duration): duration
            case .rampingArrivalRate(_, let stages): stages.reduce(Duration.zero) { $0 + $1.duration }
            case .fixedEvents(let count, let rate): rate.map { .seconds(Double(count) / $0) }
            }
        }
    }

    package enum PublisherMode: String, Sendable, Hashable, CaseIterable {
        /// One PutRecord per event, through `KinesisService.publish`.
        case putRecord
        /// Events collected into PutRecords batches, through `KinesisService.publishBatch`.
        case putRecords
        /// The buffered `Producer`, with KPL aggregation.
        case aggregated
        /// The buffered `Producer` without aggregation.
        case buffered
    }

    package struct PublisherSpec: Sendable, Hashable {
        package var mode: PublisherMode
        package var maxBufferedTime: Duration
        package var batchSize: Int
        /// Producer's client-side per-shard limit in percent; nil for none.
        package var rateLimitPercent: Double?
        package var maxConcurrentRequests: Int
        package var recordTTL: Duration
        /// Per-key order or none; nil for the publisher's own default (per-key for the Producer,
        /// none for PutRecords batches).
        package var ordering: RecordOrdering?

        /// What a scenario without a `publisher` section gets: the Producer's own defaults,
        /// with aggregation, and full PutRecords batches.
        package static let `default`: PublisherSpec = {
            let producer = Producer.Configuration(streamName: "-")
            return PublisherSpec(
                mode: .aggregated, maxBufferedTime: producer.maxBufferedTime, batchSize: ServiceLimits.putRecordsMaxRecords,
                rateLimitPercent: producer.rateLimitPercent, maxConcurrentRequests: producer.maxConcurrentRequests,
                recordTTL: producer.recordTTL, ordering: nil)
        }()
    }

    package enum Distribution: Sendable, Hashable {
        case uniform
        case zipf(exponent: Double)
    }

    package struct KeyPoolSpec: Sendable, Hashable {
        package var count: Int
        package var distribution: Distribution
        package var prefix: String

        /// The Zipf exponent when a pool names none.
        package static let defaultExponent = 1.0
        /// The key prefix when a pool names none: the pool's name and a dash.
        package static func defaultPrefix(pool: String) -> String { "\(pool)-" }
    }

    package struct EventSpec: Sendable {
        package var type: String
        package var weight: Double
        package var partitionKey: KeyStrategySpec
        package var template: JSONValue
        /// Pad each record to this many bytes with a `_pad` member.
        package var size: Int?
        /// The template compiled once, when the scenario was read.
        var compiled: Template

        /// The weight of an event that names none.
        package static let defaultWeight = 1.0
    }

    package enum KeyStrategySpec: Sendable, Hashable {
        case field(path: String)
        case entity(type: String, path: String)
        case composite(paths: [String], separator: String)
        case hash(path: String, buckets: Int)
        case timeWindow(Duration)
        case random(keys: Int?)
        case roundRobin(keys: Int)
        case roundRobinShards
        case constant(String)
        case pool(String)
        /// The NestJS module's formats (`"style": "nestjs"`): `hash_<n>` (its 32-bit JavaScript
        /// string hash), `composite_<v1>_<v2>`, `random_<n>` and `rr_<n>` below a shard count,
        /// `time_<floor(ms / window)>`.
        case nestjsHash(path: String)
        case nestjsComposite(paths: [String])
        case nestjsRandom(shardCount: Int)
        case nestjsRoundRobin(shardCount: Int)
        case nestjsTimeWindow(milliseconds: Int64)
        /// `<prefix><milliseconds since 1970 % modulo>`: the module's `metrics-${Date.now() % 1000}`.
        case clock(prefix: String, modulo: Int64)

        /// The separator of a composite key that names none.
        package static let defaultSeparator = "_"

        /// The template members the key is read from, in order.
        var capturePaths: [String] {
            switch self {
            case .field(let path), .entity(_, let path), .hash(let path, _), .nestjsHash(let path): [path]
            case .composite(let paths, _), .nestjsComposite(let paths): paths
            default: []
            }
        }

        package var name: String {
            switch self {
            case .field(let path): "field(\(path))"
            case .entity(let type, let path): "entity(\(type), \(path))"
            case .composite(let paths, _): "composite(\(paths.joined(separator: ", ")))"
            case .hash(let path, let buckets): "hash(\(path), \(buckets))"
            case .timeWindow(let window): "timeWindow(\(DurationText.format(window)))"
            case .random(let keys): keys.map { "random(\($0))" } ?? "random"
            case .roundRobin(let keys): "roundRobin(\(keys))"
            case .roundRobinShards: "roundRobin(shards)"
            case .constant(let value): "constant(\(value))"
            case .pool(let pool): "key(\(pool))"
            case .nestjsHash(let path): "nestjs hash(\(path))"
            case .nestjsComposite(let paths): "nestjs composite(\(paths.joined(separator: ", ")))"
            case .nestjsRandom(let count): "nestjs random(\(count))"
            case .nestjsRoundRobin(let count): "nestjs roundRobin(\(count))"
            case .nestjsTimeWindow(let ms): "nestjs time(\(ms)ms)"
            case .clock(let prefix, let modulo): "clock(\(prefix)ms%\(modulo))"
            }
        }
    }
}
