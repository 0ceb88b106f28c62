import ArgumentParser
import CoreMetrics
import Foundation
import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

/// `--metrics-port` and `--metrics-host`: where a command serves its figures for Prometheus.
struct MetricsOptions: ParsableArguments {
    @Option(help: "Serve the figures for Prometheus on this port (GET /metrics) while the command runs; 0 picks a free port.")
    var metricsPort: Int?

    @Option(help: "Address the --metrics-port server binds. Only loopback unless you mean otherwise.")
    var metricsHost = "127.0.0.1"

    func validate() throws {
        if let metricsPort, !(0...65535).contains(metricsPort) {
            throw ValidationError("--metrics-port \(metricsPort) is out of range: expected 0 to 65535")
        }
    }
}

/// A small HTTP server beside a command: `/metrics` in Prometheus's text format from its own
/// registry (swift-prometheus behind swift-metrics), and whatever routes the command adds.
/// It runs in a service group of its own, without signal handlers: the command keeps its own.
final class LiveServer: Sendable {
    let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory
    private let group: ServiceGroup
    private let task: Task<Void, any Error>
    /// The port it listens on, once it does.
    let port: Int

    /// Latency buckets from 1 ms to 2 minutes, in seconds (Prometheus's base unit).
    static let buckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

    /// Starts listening on `host`:`port` and returns once it does (or throws why it cannot).
    /// `what` names the figures in the line printed on standard error.
    init(host: String, port: Int, what: String, path: String = "/metrics", routes: (Router<BasicRequestContext>) -> Void = { _ in }) async throws {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.buckets.map { Duration.nanoseconds(Int64($0 * 1e9)) }
        factory.defaultValueHistogramBuckets = Self.buckets
        self.factory = factory
        let router = Router()
        let registry = self.registry
        router.get("metrics") { _, _ -> Response in
            var text: [UInt8] = []
            registry.emit(into: &text)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
        }
        routes(router)
        var logger = Logger(label: "kinesis-load.live")
        logger.logLevel = .warning
        let (ready, readyContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                readyContinuation.yield(channel.localAddress?.port ?? port)
                readyContinuation.finish()
            }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        self.group = group
        task = Task {
            defer { readyContinuation.finish() }
            try await group.run()
        }
        var bound: Int?
        for await value in ready { bound = value }
        guard let bound else {
            let cause: String
            do {
                try await task.value
                cause = "it stopped"
            } catch {
                cause = "\(error)"
            }
            throw CommandFailure("cannot serve \(what) on \(host):\(port): \(cause)")
        }
        self.port = bound
        let authority = host.contains(":") ? "[\(host)]" : host
        FileHandle.standardError.write(Data("\(what) at http://\(authority):\(bound)\(path)\n".utf8))
    }

    /// Stops listening, letting a scrape in progress finish.
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}
