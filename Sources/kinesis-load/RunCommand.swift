import ArgumentParser
import CoreMetrics
import Dispatch
import Foundation
import Kinesis
import KinesisLoad
import KinesisEngine
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Where runs are stored and reports written.
struct StoreOptions: ParsableArguments {
    @Option(help: "SQLite file runs accumulate in.")
    var db = "Reports/metrics.sqlite"

    @Option(help: "Folder reports are written into, one sub-folder per run.")
    var reports = "Reports"

    func open() throws -> MetricsStore { try Self.open(db) }

    static func open(_ db: String) throws -> MetricsStore {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: db, isDirectory: &isDirectory), isDirectory.boolValue {
            throw CommandFailure("--db \(db): is a directory, not an SQLite file")
        }
        do {
            return try MetricsStore(path: db)
        } catch {
            throw CommandFailure("--db \(db): cannot open the metrics database: \(MetricsStore.describe(error))")
        }
    }
}

/// A failure told in one sentence, exit 1 (no usage text: the command line was fine).
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Loads a scenario or exits 2 after printing every problem.
func loadScenario(_ path: String) throws -> Scenario {
    do {
        return try Scenario.load(path: path)
    } catch {
        FileHandle.standardError.write(Data("\(error)\n".utf8))
        throw ExitCode(2)
    }
}

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a scenario: publish its workload, store every figure in SQLite, write reports.",
        discussion: """
            Targets the embedded engine (per-shard limits on; each shard keeps its newest 16 MiB) \
            unless --endpoint or --aws is given.

            Exit codes: 0 passed, 99 a threshold failed, 130 stopped by Ctrl-C, 143 by SIGTERM, 129 by \
            SIGHUP (what ran is stored and reported; a second signal abandons events in flight), 2 the \
            scenario is invalid, 1 any other error (the stored figures do not add up, the database or \
            the reports folder failed).
            """)

    @Argument(help: "The scenario file (JSON).") var scenario: String
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var store: StoreOptions
    @Flag(help: "Publish to the real AWS service (credentials from the usual chain).") var aws = false
    @Option(help: "Use this stream instead of the scenario's.") var stream: String?
    @Flag(help: "Embedded engine: turn off the per-shard limits of 1,000 records/s and 1 MiB/s.") var noLimits = false
    @Flag(help: "No live progress.") var quiet = false
    @Flag(help: "With --endpoint or --aws: create the stream when it is missing (the embedded engine always may).") var create = false
    @Flag(help: "Delete the stream after the run, if this run created it.") var deleteAfter = false
    @Flag(help: "Print the plan (target, stream, events, bytes, peak load per shard; with --aws the cost) and send nothing.") var dryRun = false
    @Flag(help: "With --aws on a terminal: start without asking (the plan and its cost are shown first otherwise).") var yes = false
    @Option(help: "Run only this worker's share of the run, i/n (0-based: 0/4 ... 3/4): the events whose index is i modulo n. `merge` makes one run of the n files.")
    var segment: String?
    @Option(help: "Start the schedule at this instant (ISO 8601, e.g. 2026-12-02T20:00:00Z), the same for every worker of a segmented run.")
    var startAt: String?
    @OptionGroup var live: MetricsOptions
    @OptionGroup var cloudwatch: CloudWatchOptions
    @Option(help: "Serve a live page of the run on 127.0.0.1:PORT (0 or no value: a free port, printed), updated every second; at the end it shows the final report.")
    var dashboard: Int?
    @Option(help: "With --metrics-port or --dashboard: after the run, keep serving its final figures and report this long (30s, 5m), so that a last scrape or look sees them; a signal ends it sooner.")
    var linger = "0s"

    static let retainedBytesPerShard = 16 << 20

    /// `run ... --dashboard` without a port: a free one (ArgumentParser has no option with an
    /// optional value, so the command line is completed before it is parsed).
    static func completingDashboard(_ arguments: [String]) -> [String] {
        guard arguments.first == "run" else { return arguments }
        var completed = arguments
        var index = 1
        while index < completed.count {
            if completed[index] == "--" { break }
            if completed[index] == "--dashboard", index + 1 == completed.count || Int(completed[index + 1]) == nil {
                completed[index] = "--dashboard=0"
            }
            index += 1
        }
        return completed
    }

    var lingerDuration: Duration? {
        if linger == "0" || linger == "0s" { return .zero }
        guard let duration = DurationText.parse(linger), duration >= .zero, duration <= .seconds(86_400) else { return nil }
        return duration
    }

    func validate() throws {
        if let segment {
            do { _ = try RunSegment(parsing: segment) } catch { throw ValidationError("--segment \(error)") }
        }
        if let dashboard, !(0...65535).contains(dashboard) { throw ValidationError("--dashboard \(dashboard) is out of range: expected 0 to 65535") }
        if lingerDuration == nil { throw ValidationError("--linger '\(linger)' is not a duration from 0s to 24h, such as 30s") }
        if let startAt, Self.instant(startAt) == nil {
            throw ValidationError("--start-at '\(startAt)': not an ISO 8601 instant such as 2026-12-02T20:00:00Z")
        }
        if aws, connection.endpoint != nil { throw ValidationError("--aws and --endpoint exclude each other: pick one target") }
        if noLimits, aws || connection.endpoint != nil {
            throw ValidationError("--no-limits applies to the embedded engine only; the endpoint enforces its own limits")
        }
    }

    func run() async throws {
        var scenario = try loadScenario(self.scenario)
        if let stream {
            try validateStreamName(stream, source: "--stream")
            scenario.stream.name = stream
        }
        if dryRun {
            print(try plan(scenario))
            return
        }
        if aws {
            // The real service bills: show what this will cost, and on a terminal ask first.
            let plan = try plan(scenario, heading: "plan of \(scenario.name) on AWS")
            if isatty(STDIN_FILENO) == 1, isatty(STDERR_FILENO) == 1, !yes {
                FileHandle.standardError.write(Data((plan + "\nStart the run? [y/N] ").utf8))
                let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
                guard answer == "y" || answer == "yes" else { throw CommandFailure("not started: nothing was sent") }
            } else {
                FileHandle.standardError.write(Data((plan.split(separator: "\n").filter { $0.hasPrefix("cost") || $0.hasPrefix("      ") }.joined(separator: "\n") + "\n").utf8))
            }
        }
        let metrics = try store.open()
        // A reports folder that cannot be written is found now, not after the whole load.
        do {
            try ReportWriter.checkWritable(store.reports)
        } catch {
            throw CommandFailure("\(error)")
        }
        let stop = StopSignal()
        let signals = installStopHandlers(stop)
        defer { signals.forEach { $0.cancel() } }
        let session = try await LiveRun.start(metrics: live, dashboard: dashboard, cloudwatch: try cloudwatch.start(try connection.configuration()))
        do {
            try await run(scenario, store: metrics, stop: stop, session: session)
        } catch {
            await endLive(session, stop: stop)
            throw error
        }
        await endLive(session, stop: stop)
    }

    func run(_ scenario: Scenario, store metrics: MetricsStore, stop: StopSignal, session: LiveRun?) async throws {
        let result: RunResult
        do {
            result = try await start(scenario, store: metrics, stop: stop, session: session)
        } catch let error as RunStoppedBeforeStart {
            FileHandle.standardError.write(Data("\(error)\n".utf8))
            throw ExitCode(128 + (stop.signal ?? SIGINT))
        } catch let failed as RunFailed {
            // What ran is stored: its reports are written, then the failure is told (exit 1).
            try await finish(run: failed.runId, interrupted: false, failure: failed, store: metrics, stop: stop, session: session)
            return
        }
        try await finish(run: result.runId, interrupted: result.interrupted, store: metrics, stop: stop, session: session)
    }

    /// `--metrics-port`: the run is over (its reports written, or it failed), so its figures are
    /// final: says so (`kinesis_load_run_finished` 1), serves them `--linger` longer (a
    /// signal ends that at once), then stops serving.
    func endLive(_ session: LiveRun?, stop: StopSignal) async {
        guard let session else { return }
        session.runner?.liveMetrics?.markFinished()
        fflush(nil)
        let until = ContinuousClock.now.advanced(by: lingerDuration ?? .zero)
        if until > .now, !stop.isRequested {
            FileHandle.standardError.write(Data("serving the final figures for \(linger) more (a signal stops sooner)\n".utf8))
        }
        while ContinuousClock.now < until, !stop.isRequested { try? await Task.sleep(for: .milliseconds(50)) }
        await session.stop()
    }

    /// Runs the scenario against its target; returns how it ended.
    func start(_ scenario: Scenario, store metrics: MetricsStore, stop: StopSignal, session: LiveRun? = nil) async throws -> RunResult {
        let result: RunResult
        if aws || connection.endpoint != nil {
            let configuration = try connection.configuration()
            if aws, configuration.endpoint != nil {
                throw ValidationError(
                    "--aws: an endpoint override is set in the environment (AWS_ENDPOINT_URL_KINESIS or AWS_ENDPOINT_URL); unset it to reach AWS")
            }
            let target = targetName(region: configuration.region)
            result = try await connection.withClient { client in
                // The consumers read through a client (and connections) of their own.
                let result = try await connection.withClient { readClient in
                    try await execute(
                        scenario, api: client, readAPI: scenario.consume == nil ? nil : readClient, target: target, store: metrics, stop: stop,
                        mayCreateStream: mayCreate(scenario.stream), session: session)
                }
                if deleteAfter { try await deleteIfCreated(scenario.stream.name, result: result, api: client) }
                return result
            }
        } else {
            // Keeps the newest 16 MiB per shard, so a long run's memory stays flat. No account shard
            // quota: a load test is about the stream, whatever quota the account it stands for has.
            var configuration = EngineConfiguration(
                limits: noLimits ? nil : .aws, callHistoryLimit: 100, maxRetainedBytesPerShard: Self.retainedBytesPerShard)
            configuration.shardLimit = ServiceLimits.shardCount.upperBound
            let engine = InMemoryKinesis(configuration: configuration)
            result = try await execute(
                scenario, api: engine, target: targetName(region: nil), store: metrics, stop: stop, mayCreateStream: mayCreate(scenario.stream),
                session: session)
        }
        return result
    }

    /// An ISO 8601 instant, with or without fractional seconds.
    static func instant(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    func finish(run runId: Int64, interrupted: Bool, failure: RunFailed? = nil, store metrics: MetricsStore, stop: StopSignal, session: LiveRun?)
        async throws
    {
        try await Self.finish(run: runId, interrupted: interrupted, failure: failure, metrics: metrics, options: store, signal: stop.signal) {
            session?.reported($0, folder: $1)
        }
    }

    /// Judges a stored run, writes its reports, sets its final status; exits with its code. A
    /// run that failed after it started (`failure`) is an error (exit 1) whatever its figures say.
    static func finish(
        run runId: Int64, interrupted: Bool, failure: RunFailed? = nil, metrics: MetricsStore, options store: StoreOptions, signal: Int32?,
        reported: (RunSummary, String) -> Void = { _, _ in }
    ) async throws {
        var summary = try await metrics.summary(run: runId)
        var status: RunStatus
        var code: Int32
        var problem: String?
        if let failure {
            (status, code) = (.error, 1)
            problem = failure.description
        } else if !summary.inconsistencies.isEmpty {
            (status, code) = (.error, 1)
            problem = "the stored figures do not add up: " + summary.inconsistencies.joined(separator: "; ")
        } else if interrupted {
            (status, code) = (.interrupted, 128 + (signal ?? SIGINT))
        } else if summary.run.segment != nil {
            // A segment is judged with the others, by merge: it ran to its end, and that is all it says.
            (status, code) = (.completed, 0)
        } else {
            (status, code) = summary.passed ? (.passed, 0) : (.failed, 99)
        }
        summary.run.status = status
        summary.run.problem = problem ?? summary.run.problem
        var folder = "(none)"
        do {
            folder = try ReportWriter.write(summary, into: store.reports)
            reported(summary, folder)
        } catch {
            (status, code) = (.error, 1)
            problem = "the reports could not be written to \(store.reports) (\(error)); the figures are kept as run \(runId) in \(store.db): `kinesis-load report \(runId) --reports DIR` writes them"
        }
        try await metrics.setStatus(runId, status: status, exitCode: Int(code), problem: problem)
        print(briefing(summary, folder: folder, status: status))
        if let problem { FileHandle.standardError.write(Data("error: \(problem)\n".utf8)) }
        if code != 0 { throw ExitCode(code) }
    }

    func execute(
        _ scenario: Scenario, api: any KinesisAPI, readAPI: (any KinesisAPI)? = nil, target: String, store: MetricsStore, stop: StopSignal,
        mayCreateStream: Bool?, session: LiveRun? = nil
    ) async throws -> RunResult {
        let runner = LoadRunner(
            scenario: scenario, api: api, target: target, store: store, scenarioPath: self.scenario, mayCreateStream: mayCreateStream,
            createHint: "run again with --create (or put \"create\": true in $.stream)", readAPI: readAPI,
            segment: try segment.map(RunSegment.init(parsing:)), startAt: startAt.flatMap(Self.instant), metricsFactory: session?.metrics?.factory,
            clientMetricsFactory: session?.clientMetrics)
        if let session { session.began(runner) }
        let terminal = isatty(STDERR_FILENO) == 1
        let printer = ProgressPrinter(terminal: terminal, quiet: quiet)
        let result: RunResult
        do {
            result = try await runner.run(stop: stop, progressInterval: .seconds(1)) { printer.show($0) }
        } catch let error as RunSegmentError {
            throw CommandFailure(error.description)
        }
        printer.finish()
        if runner.lateStart > 0.5, let startAt {
            FileHandle.standardError.write(
                Data("--start-at \(startAt): this worker started \(ReportWriter.fixed(runner.lateStart)) s late; its events started late and their lateness counts it\n".utf8))
        }
        return result
    }

    /// `--delete-after`: deletes the stream when this run created it, and says what it did.
    func deleteIfCreated(_ name: String, result: RunResult, api: any KinesisAPI) async throws {
        guard result.createdStream else {
            FileHandle.standardError.write(Data("--delete-after: stream \(name) existed before the run; left in place\n".utf8))
            return
        }
        do {
            try await StreamManager(api: api).delete(name, wait: false)
            FileHandle.standardError.write(Data("--delete-after: deleted stream \(name), which this run created\n".utf8))
        } catch {
            FileHandle.standardError.write(Data("--delete-after: stream \(name) could not be deleted (\(error)); delete it yourself\n".utf8))
        }
    }

    /// The target as stored and shown: "embedded", the endpoint without credentials, "aws:REGION".
    func targetName(region: String?) -> String {
        guard aws || connection.endpoint != nil else { return noLimits ? "embedded (no limits)" : "embedded" }
        return connection.endpoint.map(redacted) ?? "aws:\(region ?? "")"
    }

    /// Whether the run may create a missing stream: on the embedded engine unless the scenario
    /// says `"create": false`; elsewhere only when asked (`"create": true` or `--create`).
    func mayCreate(_ stream: Scenario.StreamSpec) -> Bool {
        aws || connection.endpoint != nil ? stream.create ?? false || create : stream.create ?? true
    }

    /// `--dry-run`: what the run would do, computed without a single request.
    func plan(_ scenario: Scenario, heading: String? = nil) throws -> String {
        let embedded = !aws && connection.endpoint == nil
        let region = embedded ? nil : try connection.configuration().region
        let target = targetName(region: region)
        let stream = scenario.stream
        let creates = mayCreate(stream)
        let schedule = ArrivalSchedule(load: scenario.load, seed: scenario.seed)
        let peak = scenario.load.peakRate ?? 1000
        // On demand, a new stream starts with 4 shards' worth of write capacity.
        let shards = stream.shards ?? 4
        let analysis = PartitionAnalysis.analyze(scenario, shards: shards, peakRate: peak)
        let planned = schedule.plannedCount
        var lines = [heading ?? "plan of \(scenario.name) (dry run: nothing was sent)"]
        lines.append("target: \(target)")
        lines.append(
            "stream: \(stream.name), " + (stream.shards.map { "\($0) shard\($0 == 1 ? "" : "s")" } ?? "on demand")
                + (creates ? "; created if missing" : "; must exist (--create to create it if missing)")
                + (deleteAfter ? "; deleted after the run if the run created it" : ""))
        let seconds = schedule.duration
        lines.append(
            "events: \(planned)" + (schedule.unpaced ? " (unpaced: as fast as the publisher takes them)" : String(format: " over %.0f s", seconds))
                + ", peak \(ReportWriter.fixed(peak)) events/s, \(scenario.publisher.mode.rawValue)")
        let bytes = Double(planned) * analysis.meanRecordBytes
        lines.append("bytes: about \(ReportWriter.bytes(Int(bytes))) of data and partition keys (\(ReportWriter.fixed(analysis.meanRecordBytes)) bytes per event)")
        if let consume = scenario.consume {
            lines.append("consumers: \(consume.consumers) from \(consume.from.rawValue), verification \(consume.verify ? "on" : "off")")
        }
        if aws, let region {
            lines += CostEstimate.estimate(
                region: region, shards: stream.shards, seconds: seconds, events: planned, meanRecordBytes: analysis.meanRecordBytes,
                aggregated: scenario.publisher.mode == .aggregated, consumers: scenario.consume != nil
            ).lines
        }
        lines.append("")
        lines.append(analysis.text)
        return lines.joined(separator: "\n")
    }

    /// The endpoint as stored: without user name or password.
    func redacted(_ endpoint: String) -> String {
        guard var components = URLComponents(string: endpoint) else { return "endpoint" }
        components.user = nil
        components.password = nil
        components.query = nil
        return components.string ?? "endpoint"
    }

    static func briefing(_ summary: RunSummary, folder: String, status: RunStatus) -> String {
        var lines = ["run \(summary.run.id) \(status.rawValue): \(summary.totals.succeeded) of \(summary.totals.planned) events delivered, \(summary.totals.failed) failed, \(summary.totals.dropped) dropped"]
        if let segment = summary.run.segment { lines[0] += " (segment \(segment))" }
        if let parts = summary.run.mergedFrom { lines[0] += " (merged from \(parts.count) segments)" }
        lines.append(
            String(
                format: "latency p50 %.2f ms, p99 %.2f ms, max %.2f ms; achieved %.1f events/s", summary.latencyMs.p50, summary.latencyMs.p99,
                summary.latencyMs.max, summary.rate.achieved) + (summary.rate.target.map { String(format: " of %.1f targeted", $0) } ?? ""))
        if let v = summary.verification {
            lines.append(
                "read back: \(v.read) of \(v.acknowledged) acknowledged events; \(v.lost) lost, \(v.notVerified) not verified, \(v.duplicated) duplicated, \(v.reread) reread, \(v.outOfOrder) out of order, \(v.unexpected) unexpected"
                    + (v.caughtUp ? "" : " (the read-back did not finish: what was not read is not verified)"))
            if v.sharedPositions > 0 || v.reusedPositions > 0 {
                lines.append(
                    "positions: \(v.sharedPositions) events acknowledged at a position already acknowledged for another (the service keeps one), \(v.reusedPositions) reads of a position acknowledged for another event"
                )
            }
        }
        if let kept = summary.readBackKept {
            lines.append(
                "read back: kept for merge, which judges every segment's together: \(kept.acknowledged) acknowledgements, \(kept.received) records read from \(kept.shards) shards (\(kept.shardsCaughtUp) read to their tip)")
        } else if let e2e = summary.endToEndMs, e2e.count == 0 {
            lines.append("end to end: no samples (nothing was matched)")
        } else if let e2e = summary.endToEndMs, let reads = summary.reads {
            lines.append(String(format: "end to end p50 %.2f ms, p99 %.2f ms, max %.2f ms; largest lag %d ms", e2e.p50, e2e.p99, e2e.max, reads.maxLagMs))
        }
        if !summary.hotShards.isEmpty {
            lines.append("hot shards: " + summary.shards.filter(\.hot).map { "\($0.shardId) (\($0.why ?? ""))" }.joined(separator: "; "))
        }
        for threshold in summary.thresholds {
            lines.append("\(threshold.passed ? "pass" : "FAIL") \(threshold.metric) \(threshold.expression): observed \(threshold.observedText)")
        }
        let failed = summary.thresholds.filter { !$0.passed }
        if !failed.isEmpty { lines.append("failed thresholds: " + failed.map { "\($0.metric) \($0.expression)" }.joined(separator: ", ")) }
        lines.append("reports: \(folder)/summary.md, summary.json, index.html, junit.xml")
        return lines.joined(separator: "\n")
    }
}

/// A run watched as it goes (`--metrics-port`, `--dashboard`): its servers, the runner once it
/// exists, and the final report once it is written.
final class LiveRun: Sendable {
    private struct State {
        var metrics: LiveServer?
        var dashboard: LiveServer?
        var runner: LoadRunner?
        var final: (summary: RunSummary, folder: String)?
    }
    private let state = Mutex(State())

    var metrics: LiveServer? { state.withLock { $0.metrics } }
    /// `--cloudwatch-metrics`: where the Producer's and the consumers' metrics go.
    let cloudwatch: CloudWatchSession?

    init(cloudwatch: CloudWatchSession?) { self.cloudwatch = cloudwatch }

    /// Where the run's Producer and consumers send their own metrics (the KPL's and KCL's
    /// figures): to /metrics beside the run's, to CloudWatch, or both.
    var clientMetrics: (any MetricsFactory)? {
        var factories: [any MetricsFactory] = []
        if let prometheus = metrics?.factory { factories.append(prometheus) }
        if let cloudwatch = cloudwatch?.factory { factories.append(cloudwatch) }
        return factories.count > 1 ? MultiplexMetricsHandler(factories: factories) : factories.first
    }
    var runner: LoadRunner? { state.withLock { $0.runner } }

    /// Starts the servers asked for; nil when none is.
    static func start(metrics: MetricsOptions, dashboard: Int?, cloudwatch: CloudWatchSession?) async throws -> LiveRun? {
        guard metrics.metricsPort != nil || dashboard != nil || cloudwatch != nil else { return nil }
        let session = LiveRun(cloudwatch: cloudwatch)
        if let port = metrics.metricsPort {
            let server = try await LiveServer(host: metrics.metricsHost, port: port, what: "run metrics")
            session.state.withLock { $0.metrics = server }
        }
        if let port = dashboard {
            let server = try await LiveServer(host: "127.0.0.1", port: port, what: "live page", path: "/") { LivePage.routes($0, session: session) }
            session.state.withLock { $0.dashboard = server }
        }
        return session
    }

    func began(_ runner: LoadRunner) { state.withLock { $0.runner = runner } }
    func reported(_ summary: RunSummary, folder: String) { state.withLock { $0.final = (summary, folder) } }

    /// What the live page shows now.
    func snapshot() async -> LivePage.Snapshot {
        let (runner, final) = state.withLock { ($0.runner, $0.final) }
        if let final { return LivePage.snapshot(final.summary, state: "finished", report: final.folder) }
        guard let runner, let id = runner.runId, let summary = try? await runner.store.summary(run: id) else {
            return LivePage.Snapshot(state: "starting", seconds: 0, html: "<p>Waiting for the run's first figures.</p>")
        }
        return LivePage.snapshot(summary, state: "running", report: nil)
    }

    /// Stops serving.
    func stop() async {
        await cloudwatch?.finish()
        let (metrics, dashboard) = state.withLock { ($0.metrics, $0.dashboard) }
        await metrics?.stop()
        await dashboard?.stop()
    }
}

/// Ctrl-C, SIGTERM (CI, `timeout`, `docker stop`) or SIGHUP once: stop the schedule, finish
/// what is in flight, store and report, exit 128 + the signal. Twice: abandon what is in flight.
func installStopHandlers(_ stop: StopSignal) -> [any DispatchSourceSignal] {
    onStopSignals([SIGINT, SIGTERM, SIGHUP]) { number in
        stop.request(signal: number)
        let name = [SIGINT: "Ctrl-C", SIGTERM: "SIGTERM", SIGHUP: "SIGHUP"][number] ?? "signal \(number)"
        let message =
            stop.isUrgent
            ? "\n\(name): stopping now, abandoning events in flight\n"
            : "\n\(name): stopping, letting events in flight finish (signal again to abandon them)\n"
        FileHandle.standardError.write(Data(message.utf8))
    }
}

/// Calls `handler` with the signal's number whenever one of `signals` arrives, instead of the
/// default action (ending the process). Cancel the returned sources to stop listening.
func onStopSignals(_ signals: [Int32], _ handler: @escaping @Sendable (Int32) -> Void) -> [any DispatchSourceSignal] {
    signals.map { number in
        signal(number, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
        source.setEventHandler {
            // A credential_process still running is stopped with the command.
            ProcessCredentialProvider.terminateRunning()
            handler(number)
        }
        source.resume()
        return source
    }
}

/// The live progress line: rewritten in place on a terminal, a plain line every 5 s otherwise.
final class ProgressPrinter: Sendable {
    let terminal: Bool
    let quiet: Bool

    init(terminal: Bool, quiet: Bool) {
        self.terminal = terminal
        self.quiet = quiet
    }

    func show(_ progress: RunProgress) {
        guard !quiet else { return }
        let whole = Int(progress.elapsed.rounded())
        if !terminal, whole % 5 != 0 { return }
        let t = progress.totals
        let target = progress.targetRate > 0 ? String(format: " (target %.0f)", progress.targetRate) : ""
        var line = String(
            format: "[%4ds] %.0f ev/s%@  started %d  ok %d  p99 %.1f ms  errors %d  throttled %d  dropped %d  in flight %d", whole,
            progress.achievedRate, target, t.started, t.succeeded, progress.p99, t.failed, t.throttled, t.dropped, t.inFlight)
        if let consumed = progress.consumed { line += "  read \(consumed)  lag \(progress.lagMs ?? 0) ms" }
        if progress.catchingUp { line += "  catching up" }
        if progress.stopping { line += "  stopping" }
        FileHandle.standardError.write(Data((terminal ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }

    func finish() {
        if terminal, !quiet { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
