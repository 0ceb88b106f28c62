import CoreMetrics
import Synchronization

/// What `serve --metrics-port` exposes about the endpoint, through swift-metrics: requests by
/// operation and answer, their time and bytes, throttles per stream and shard, connections.
/// Names follow Prometheus's conventions (base units, `_total` for counters).
public final class EndpointMetrics: Sendable {
    let factory: any MetricsFactory
    let connectionsOpened: Counter
    let connectionsOpen: Gauge
    private let open = Atomic<Int>(0)
    /// Per-(operation, answer) and per-(stream, shard, direction) handles, made once.
    private let requests = Mutex<[String: Request]>([:])
    private let throttles = Mutex<[String: Counter]>([:])

    struct Request: Sendable {
        let count: Counter
        let duration: CoreMetrics.Timer
        let requestBytes: Counter
        let responseBytes: Counter
    }

    public init(factory: any MetricsFactory) {
        self.factory = factory
        connectionsOpened = Counter(label: "kinesis_local_connections_total", factory: factory)
        connectionsOpen = Gauge(label: "kinesis_local_connections_open", factory: factory)
    }

    /// One request answered: `operation` from its X-Amz-Target ("unknown" when none names a
    /// Kinesis operation), `answer` "ok" or the error type.
    public func request(operation: String, answer: String, seconds: Double, requestBytes: Int, responseBytes: Int) {
        let key = operation + "\u{0}" + answer
        let handles = requests.withLock { table in
            if let found = table[key] { return found }
            let dimensions = [("operation", operation), ("answer", answer)]
            let made = Request(
                count: Counter(label: "kinesis_local_requests_total", dimensions: dimensions, factory: factory),
                duration: CoreMetrics.Timer(label: "kinesis_local_request_duration_seconds", dimensions: dimensions, factory: factory),
                requestBytes: Counter(label: "kinesis_local_request_bytes_total", dimensions: dimensions, factory: factory),
                responseBytes: Counter(label: "kinesis_local_response_bytes_total", dimensions: dimensions, factory: factory))
            table[key] = made
            return made
        }
        handles.count.increment()
        handles.duration.recordNanoseconds(Int64(seconds * 1e9))
        handles.requestBytes.increment(by: Int64(requestBytes))
        handles.responseBytes.increment(by: Int64(responseBytes))
    }

    /// A record (`read` false) or a GetRecords call (`read` true) refused for the shard's limit.
    public func throttled(stream: String, shard: String, read: Bool) {
        let direction = read ? "read" : "write"
        let key = stream + "\u{0}" + shard + "\u{0}" + direction
        let counter = throttles.withLock { table in
            if let found = table[key] { return found }
            let made = Counter(
                label: "kinesis_local_throttled_total", dimensions: [("stream", stream), ("shard", shard), ("direction", direction)], factory: factory)
            table[key] = made
            return made
        }
        counter.increment()
    }

    /// A connection was accepted.
    public func connectionOpened() {
        connectionsOpened.increment()
        connectionsOpen.record(open.wrappingAdd(1, ordering: .relaxed).newValue)
    }

    /// A connection was closed.
    public func connectionClosed() {
        connectionsOpen.record(open.wrappingSubtract(1, ordering: .relaxed).newValue)
    }
}
