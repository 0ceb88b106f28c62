import CoreMetrics
import Kinesis

extension Producer {
    /// What a producer sends to and how: buffering, aggregation, limits, retries, TTL, order.
    public struct Configuration: Sendable {
        /// The stream every record goes to.
        public var streamName: String
        /// Longest a record waits in the buffer before it is sent (KPL RecordMaxBufferedTime).
        public var maxBufferedTime: Duration = .milliseconds(100)
        /// Pack records bound for the same shard into KPL aggregated records.
        public var aggregation = true
        /// Largest aggregated record (KPL AggregationMaxSize).
        public var aggregationMaxSize = 51_200
        /// Per-request limits and the per-record checks.
        public var limits = RecordLimits.default
        /// Most records accepted but not yet delivered; `put` suspends beyond it.
        public var maxInFlightRecords = 100_000
        /// Most bytes accepted but not yet delivered; `put` suspends beyond it.
        public var maxInFlightBytes = 64 * 1024 * 1024
        /// A record not delivered within this time fails with ``ProducerError/Code/expired``.
        public var recordTTL: Duration = .seconds(30)
        /// Client-side per-shard limit, in percent of Kinesis's 1,000 records/s and 1 MiB/s
        /// (KPL RateLimit, 150 by default); nil for none.
        public var rateLimitPercent: Double? = 150
        /// PutRecords requests in flight at once.
        public var maxConcurrentRequests = 8
        /// How failed entries are resent: full-jitter backoff, no cap on attempts and no deadline
        /// by default, since ``recordTTL`` bounds each record's life. An error that cannot be
        /// retried fails the record at once (``PublishError/Code/rejected``).
        public var retry = RetryPolicy(maxAttempts: .max, baseDelay: .milliseconds(50), maxDelay: .seconds(2), deadline: nil)
        /// The first wait of ``retry``.
        public var retryBaseDelay: Duration {
            get { retry.baseDelay }
            set { retry.baseDelay = newValue }
        }
        /// The longest wait of ``retry``.
        public var retryMaxDelay: Duration {
            get { retry.maxDelay }
            set { retry.maxDelay = newValue }
        }
        /// Whether records of one partition key are delivered in the order `put` took them
        /// (``Ordering/perKey``, the default) or as requests complete (``Ordering/none``).
        public var ordering = Ordering.perKey
        /// Where metrics go; the process's bootstrapped factory when nil.
        public var metricsFactory: (any MetricsFactory)? = nil

        /// Defaults for `streamName`, as the KPL's.
        public init(streamName: String) { self.streamName = streamName }

        /// What order the producer keeps (``RecordOrdering``).
        public typealias Ordering = RecordOrdering
    }

    /// Counts since the producer was made.
    public struct Statistics: Sendable, Hashable {
        /// User records delivered.
        public var delivered = 0
        /// User records that failed (expired or rejected).
        public var failed = 0
        /// Kinesis records sent again after a retryable failure.
        public var retried = 0
        /// Kinesis records that landed (an aggregate counts once).
        public var kinesisRecords = 0
        /// PutRecords requests sent.
        public var requests = 0
        /// User records sent again, whole aggregates at a time, because their aggregate landed
        /// after a reshard on a shard that does not cover all of them (also counted in ``retried``).
        public var resentAfterReshard = 0
    }
}
