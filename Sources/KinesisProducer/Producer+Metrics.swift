import CoreMetrics

/// The producer's metrics, named as the KPL names them.
struct ProducerMetrics: Sendable {
    let stream: String
    let factory: any MetricsFactory
    let received: Counter
    let userRecordsPut: Counter
    let kinesisRecordsPut: Counter
    let bytesPut: Counter
    let userBytesPut: Counter
    let retries: Counter
    let resentAfterReshard: Counter
    let expired: Counter
    let bufferingTime: CoreMetrics.Timer
    let requestTime: CoreMetrics.Timer

    init(stream: String, factory: any MetricsFactory) {
        self.stream = stream
        self.factory = factory
        let dimensions = [("stream", stream)]
        received = Counter(label: "kinesis_producer_user_records_received", dimensions: dimensions, factory: factory)
        userRecordsPut = Counter(label: "kinesis_producer_user_records_put", dimensions: dimensions, factory: factory)
        kinesisRecordsPut = Counter(label: "kinesis_producer_kinesis_records_put", dimensions: dimensions, factory: factory)
        bytesPut = Counter(label: "kinesis_producer_kinesis_records_bytes", dimensions: dimensions, factory: factory)
        userBytesPut = Counter(label: "kinesis_producer_user_records_bytes", dimensions: dimensions, factory: factory)
        retries = Counter(label: "kinesis_producer_retries", dimensions: dimensions, factory: factory)
        resentAfterReshard = Counter(label: "kinesis_producer_user_records_resent_after_reshard", dimensions: dimensions, factory: factory)
        expired = Counter(label: "kinesis_producer_user_records_expired", dimensions: dimensions, factory: factory)
        bufferingTime = CoreMetrics.Timer(label: "kinesis_producer_buffering_time", dimensions: dimensions, factory: factory)
        requestTime = CoreMetrics.Timer(label: "kinesis_producer_request_time", dimensions: dimensions, factory: factory)
    }

    func error(_ code: String) {
        Counter(label: "kinesis_producer_errors", dimensions: [("stream", stream), ("error_code", code)], factory: factory).increment()
    }

    /// Counts what one step of the state machine did.
    func record(_ actions: ProducerStateMachine.Actions) {
        for code in actions.errors { error(code) }
        if actions.retries > 0 { retries.increment(by: Int64(actions.retries)) }
        if actions.resentAfterReshard > 0 { resentAfterReshard.increment(by: Int64(actions.resentAfterReshard)) }
        if actions.expired > 0 { expired.increment(by: Int64(actions.expired)) }
        if actions.kinesisRecordsPut > 0 { kinesisRecordsPut.increment(by: Int64(actions.kinesisRecordsPut)) }
        if actions.userRecordsPut > 0 { userRecordsPut.increment(by: Int64(actions.userRecordsPut)) }
        if actions.bytesPut > 0 { bytesPut.increment(by: Int64(actions.bytesPut)) }
        if actions.userBytesPut > 0 { userBytesPut.increment(by: Int64(actions.userBytesPut)) }
    }
}

extension CoreMetrics.Timer {
    func recordSeconds(_ seconds: Double) { recordNanoseconds(Int64(max(0, seconds) * 1e9)) }
}
