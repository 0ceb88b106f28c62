/// Which swift-metrics labels of the toolkit become which CloudWatch metrics: the KPL's names for
/// the Producer's, the KCL's for the consumer's, with their units and the level (summary or
/// detailed) they belong to, as the KPL's `metrics_level` sorts them. A label not listed is not
/// sent unless ``CloudWatchMetricsConfiguration/sendsUnlisted`` says so.
public struct CloudWatchMetricNames: Sendable {
    /// What one swift-metrics label becomes: one or more CloudWatch metrics.
    public struct Entry: Sendable {
        public var metrics: [Metric]
        public init(_ metrics: [Metric]) { self.metrics = metrics }
    }

    public struct Metric: Sendable {
        public var name: String
        public var unit: Unit
        public var level: CloudWatchMetricsConfiguration.Level
        /// Dimensions every data point of it carries (the KCL's `Operation`).
        public var fixedDimensions: [(String, String)]
        /// Leaves out the error code (the KPL's `AllErrors` beside `ErrorsByCode`).
        public var withoutErrorCode: Bool

        public init(
            _ name: String, _ unit: Unit, _ level: CloudWatchMetricsConfiguration.Level, fixedDimensions: [(String, String)] = [],
            withoutErrorCode: Bool = false
        ) {
            self.name = name
            self.unit = unit
            self.level = level
            self.fixedDimensions = fixedDimensions
            self.withoutErrorCode = withoutErrorCode
        }
    }

    /// CloudWatch's units, as far as these metrics use them.
    public enum Unit: String, Sendable {
        case count = "Count"
        case bytes = "Bytes"
        case milliseconds = "Milliseconds"
        case seconds = "Seconds"
        case none = "None"
    }

    public var entries: [String: Entry]

    public init(entries: [String: Entry]) { self.entries = entries }

    /// The KPL's and the KCL's names for what the Producer and the consumers emit.
    public static let kinesis = CloudWatchMetricNames(entries: [
        // The Producer, as the KPL names it.
        "kinesis_producer_user_records_received": Entry([Metric("UserRecordsReceived", .count, .detailed)]),
        "kinesis_producer_user_records_put": Entry([Metric("UserRecordsPut", .count, .summary)]),
        "kinesis_producer_user_records_bytes": Entry([Metric("UserRecordsDataPut", .bytes, .detailed)]),
        "kinesis_producer_kinesis_records_put": Entry([Metric("KinesisRecordsPut", .count, .summary)]),
        "kinesis_producer_kinesis_records_bytes": Entry([Metric("KinesisRecordsDataPut", .bytes, .detailed)]),
        "kinesis_producer_errors": Entry([
            Metric("ErrorsByCode", .count, .summary), Metric("AllErrors", .count, .summary, withoutErrorCode: true),
        ]),
        "kinesis_producer_retries": Entry([Metric("RetriesPerRecord", .count, .detailed)]),
        "kinesis_producer_user_records_expired": Entry([Metric("UserRecordExpired", .count, .summary)]),
        "kinesis_producer_buffering_time": Entry([Metric("BufferingTime", .milliseconds, .summary)]),
        "kinesis_producer_request_time": Entry([Metric("RequestTime", .milliseconds, .detailed)]),
        "kinesis_producer_user_records_resent_after_reshard": Entry([Metric("UserRecordsResentAfterReshard", .count, .detailed)]),
        // The consumers, as the KCL names it.
        "kinesis_consumer_records_total": Entry([Metric("RecordsProcessed", .count, .summary, fixedDimensions: [("Operation", "ProcessTask")])]),
        "kinesis_consumer_bytes_total": Entry([Metric("DataBytesProcessed", .bytes, .detailed, fixedDimensions: [("Operation", "ProcessTask")])]),
        "kinesis_consumer_millis_behind_latest": Entry([
            Metric("MillisBehindLatest", .milliseconds, .summary, fixedDimensions: [("Operation", "ProcessTask")])
        ]),
        "kinesis_consumer_processing_errors_total": Entry([Metric("RecordProcessorErrors", .count, .summary, fixedDimensions: [("Operation", "ProcessTask")])]),
        "kinesis_consumer_leases_held": Entry([Metric("CurrentLeases", .count, .summary, fixedDimensions: [("Operation", "RenewAllLeases")])]),
        "kinesis_consumer_leases_taken_total": Entry([Metric("TakenLeases", .count, .detailed, fixedDimensions: [("Operation", "TakeLeases")])]),
        "kinesis_consumer_leases_stolen_total": Entry([Metric("StolenLeases", .count, .detailed, fixedDimensions: [("Operation", "TakeLeases")])]),
        "kinesis_consumer_leases_lost_total": Entry([Metric("LostLeases", .count, .detailed, fixedDimensions: [("Operation", "RenewAllLeases")])]),
    ])

    /// swift-metrics dimension names and what CloudWatch calls them; others are not sent.
    static let dimensionNames: [String: String] = ["stream": "StreamName", "shard": "ShardId", "error_code": "ErrorCode"]
}
