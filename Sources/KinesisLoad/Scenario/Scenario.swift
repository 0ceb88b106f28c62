import Foundation
import Kinesis
import KinesisEngine
import KinesisProducer

/// A workload, as a scenario file describes it (see `Scenarios/README.md`), decoded and checked.
public struct Scenario: Sendable {
    public var name: String
    public var description: String?
    /// Seeds every random draw: the same seed gives the same event stream (types, keys, values),
    /// apart from clock-derived values such as `{{now}}`.
    public var seed: UInt64
    public var stream: StreamSpec
    public var load: LoadSpec
    public var publisher: PublisherSpec
    public var keyPools: [String: KeyPoolSpec]
    public var events: [EventSpec]
    public var thresholds: [Threshold]
    /// Raw records kept in SQLite per event type (0 for none).
    public var sampledRecordsPerType: Int
    /// The file's text, stored with the run so that a report needs nothing but SQLite.
    public var source: String

    public struct StreamSpec: Sendable, Hashable {
        public var name: String
        /// nil for an on-demand stream.
        public var shards: Int?
        public var create: Bool

        /// Whether a run may create a missing stream when the scenario does not say.
        public static let defaultCreate = true
    }

    public struct Stage: Sendable, Hashable {
        public var target: Double
        public var duration: Duration
    }

    public enum Executor: Sendable, Hashable {
        /// `rate` events per second for `duration`.
        case constantArrivalRate(rate: Double, duration: Duration)
        /// From `startRate`, linear to each stage's target over the stage's duration.
        case rampingArrivalRate(startRate: Double, stages: [Stage])
        /// A fixed number of events, at `rate` per second or as fast as the publisher takes them.
        case fixedEvents(count: Int, rate: Double?)
    }

    public struct LoadSpec: Sendable, Hashable {
        public var executor: Executor
        /// Exponential gaps between arrivals (a Poisson process) instead of even spacing.
        public var poisson: Bool
        /// Most events started and not finished; an event due beyond it is dropped and counted.
        public var maxInFlight: Int

        /// The in-flight cap when the scenario names none.
        public static let defaultMaxInFlight = 100_000

        /// The highest rate the schedule asks for (nil when unpaced).
        public var peakRate: Double? {
            switch executor {
            case .constantArrivalRate(let rate, _): rate
            case .rampingArrivalRate(let start, let stages): stages.map(\.target).reduce(start, max)
            case .fixedEvents(_, let rate): rate
            }
        }

        /// Planned length of the schedule (nil when unpaced).
        public var duration: Duration? {
            switch executor {
            case .constantArrivalRate(_, let duration): duration
            case .rampingArrivalRate(_, let stages): stages.reduce(Duration.zero) { $0 + $1.duration }
            case .fixedEvents(let count, let rate): rate.map { .seconds(Double(count) / $0) }
            }
        }
    }

    public enum PublisherMode: String, Sendable, Hashable, CaseIterable {
        /// One PutRecord per event, through `KinesisService.publish`.
        case putRecord
        /// Events collected into PutRecords batches, through `KinesisService.publishBatch`.
        case putRecords
        /// The buffered `Producer`, with KPL aggregation.
        case aggregated
        /// The buffered `Producer` without aggregation.
        case buffered
    }

    public struct PublisherSpec: Sendable, Hashable {
        public var mode: PublisherMode
        public var maxBufferedTime: Duration
        public var batchSize: Int
        /// Producer's client-side per-shard limit in percent; nil for none.
        public var rateLimitPercent: Double?
        public var maxConcurrentRequests: Int
        public var recordTTL: Duration

        /// What a scenario without a `publisher` section gets: the Producer's own defaults,
        /// with aggregation, and full PutRecords batches.
        public static let `default`: PublisherSpec = {
            let producer = Producer.Configuration(streamName: "-")
            return PublisherSpec(
                mode: .aggregated, maxBufferedTime: producer.maxBufferedTime, batchSize: ServiceLimits.putRecordsMaxRecords,
                rateLimitPercent: producer.rateLimitPercent, maxConcurrentRequests: producer.maxConcurrentRequests,
                recordTTL: producer.recordTTL)
        }()
    }

    public enum Distribution: Sendable, Hashable {
        case uniform
        case zipf(exponent: Double)
    }

    public struct KeyPoolSpec: Sendable, Hashable {
        public var count: Int
        public var distribution: Distribution
        public var prefix: String

        /// The Zipf exponent when a pool names none.
        public static let defaultExponent = 1.0
        /// The key prefix when a pool names none: the pool's name and a dash.
        public static func defaultPrefix(pool: String) -> String { "\(pool)-" }
    }

    public struct EventSpec: Sendable {
        public var type: String
        public var weight: Double
        public var partitionKey: KeyStrategySpec
        public var template: JSONValue
        /// Pad each record to this many bytes with a `_pad` member.
        public var size: Int?
        /// The template compiled once, when the scenario was read.
        var compiled: Template

        /// The weight of an event that names none.
        public static let defaultWeight = 1.0
    }

    public enum KeyStrategySpec: Sendable, Hashable {
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

        /// The separator of a composite key that names none.
        public static let defaultSeparator = "_"

        /// The template members the key is read from, in order.
        var capturePaths: [String] {
            switch self {
            case .field(let path), .entity(_, let path), .hash(let path, _): [path]
            case .composite(let paths, _): paths
            default: []
            }
        }

        public var name: String {
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
            }
        }
    }
}
