import CoreMetrics
import Synchronization

/// A run's figures as they happen, through swift-metrics (what `run --metrics-port` serves):
/// every series is labelled with the scenario, the run id and the segment ("-" for a whole run),
/// so one Prometheus watches every worker of a segmented run and sums them. Latencies are
/// histograms (Timers), never percentile gauges, so that they add across workers.
package final class RunMetrics: Sendable {
    let factory: any MetricsFactory
    let labels: [(String, String)]
    private let types: [TypeHandles]
    private let shards = Mutex<[String: ShardHandles]>([:])
    private let errors = Mutex<[String: Counter]>([:])
    private let readbackGauges = Mutex<[String: Gauge]>([:])
    let finished: Gauge

    struct TypeHandles: Sendable {
        let started, delivered, failed, dropped: Counter
        let latency: CoreMetrics.Timer
    }

    struct ShardHandles: Sendable {
        let records, bytes, throttled, failed: Counter
        let readCalls, readThrottled, readRecords, readBytes, consumed: Counter
        let lag: Gauge
        let endToEnd: CoreMetrics.Timer
    }

    package init(scenario: String, runId: Int64, segment: String?, typeNames: [String], factory: any MetricsFactory) {
        self.factory = factory
        let labels = [("scenario", scenario), ("run_id", String(runId)), ("segment", segment ?? "-")]
        self.labels = labels
        types = typeNames.map { name in
            let dimensions = labels + [("type", name)]
            func counter(_ label: String) -> Counter { Counter(label: label, dimensions: dimensions, factory: factory) }
            return TypeHandles(
                started: counter("kinesis_load_events_started_total"), delivered: counter("kinesis_load_events_delivered_total"),
                failed: counter("kinesis_load_events_failed_total"), dropped: counter("kinesis_load_events_dropped_total"),
                latency: CoreMetrics.Timer(label: "kinesis_load_event_latency_seconds", dimensions: dimensions, factory: factory))
        }
        finished = Gauge(label: "kinesis_load_run_finished", dimensions: labels, factory: factory)
        finished.record(0)
    }

    private func shard(_ id: String) -> ShardHandles {
        shards.withLock { table in
            if let found = table[id] { return found }
            let dimensions = labels + [("shard", id)]
            func counter(_ label: String) -> Counter { Counter(label: label, dimensions: dimensions, factory: factory) }
            let made = ShardHandles(
                records: counter("kinesis_load_shard_records_total"), bytes: counter("kinesis_load_shard_bytes_total"),
                throttled: counter("kinesis_load_shard_throttled_total"), failed: counter("kinesis_load_shard_failed_total"),
                readCalls: counter("kinesis_load_read_calls_total"), readThrottled: counter("kinesis_load_read_throttled_total"),
                readRecords: counter("kinesis_load_read_records_total"), readBytes: counter("kinesis_load_read_bytes_total"),
                consumed: counter("kinesis_load_consumed_records_total"),
                lag: Gauge(label: "kinesis_load_consumer_lag_seconds", dimensions: dimensions, factory: factory),
                endToEnd: CoreMetrics.Timer(label: "kinesis_load_end_to_end_seconds", dimensions: dimensions, factory: factory))
            table[id] = made
            return made
        }
    }

    func started(type: Int) { types[type].started.increment() }
    func dropped(type: Int) { types[type].dropped.increment() }

    func finished(type: Int, micros: UInt64, failed: Bool) {
        let handles = types[type]
        (failed ? handles.failed : handles.delivered).increment()
        handles.latency.recordMicroseconds(Int64(micros))
    }

    func shard(_ id: String, accepted: Int, bytes: Int, errors refused: [String: Int]) {
        let handles = shard(id)
        if accepted > 0 { handles.records.increment(by: Int64(accepted)) }
        if bytes > 0 { handles.bytes.increment(by: Int64(bytes)) }
        for (code, count) in refused {
            if code == "ProvisionedThroughputExceededException" {
                handles.throttled.increment(by: Int64(count))
            } else {
                handles.failed.increment(by: Int64(count))
            }
            let key = id + "\u{0}" + code
            let counter = errors.withLock { table in
                if let found = table[key] { return found }
                let made = Counter(label: "kinesis_load_record_errors_total", dimensions: labels + [("shard", id), ("code", code)], factory: factory)
                table[key] = made
                return made
            }
            counter.increment(by: Int64(count))
        }
    }

    func readCall(shard id: String, records: Int, bytes: Int, millisBehind: Int?, throttled: Bool) {
        let handles = shard(id)
        handles.readCalls.increment()
        if throttled { handles.readThrottled.increment() }
        if records > 0 { handles.readRecords.increment(by: Int64(records)) }
        if bytes > 0 { handles.readBytes.increment(by: Int64(bytes)) }
        if let millisBehind { handles.lag.record(Double(millisBehind) / 1000) }
    }

    func consumed(shard id: String, userRecords: Int, latencies: [UInt64]) {
        let handles = shard(id)
        if userRecords > 0 { handles.consumed.increment(by: Int64(userRecords)) }
        for micros in latencies { handles.endToEnd.recordMicroseconds(Int64(micros)) }
    }

    /// The read-back's verdict counts, once the run's consumers are done.
    package func readBack(_ counts: [(outcome: String, events: Int)]) {
        for (outcome, events) in counts {
            let gauge = readbackGauges.withLock { table in
                if let found = table[outcome] { return found }
                let made = Gauge(label: "kinesis_load_readback_events", dimensions: labels + [("outcome", outcome)], factory: factory)
                table[outcome] = made
                return made
            }
            gauge.record(events)
        }
    }

    /// The run is over and its reports are written: what is served now is final.
    package func markFinished() { finished.record(1) }
}
