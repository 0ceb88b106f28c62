import Foundation
import GRDB
import Kinesis
import KinesisTesting
import Testing

@testable import KinesisLoad

#if canImport(Glibc)
    import Glibc
#endif

/// What a careless or hostile user found: names that cannot be stored, numbers out of range,
/// runs that die, stores that fill up, report folders that collide.
@Suite("Hostile input")
struct HostileInputTests {
    @Test("a NUL or other control character in an event type is refused with the path")
    func controlCharactersInNames() {
        for bad in ["A\u{0}B", "tab\there", "bidi\u{202E}x"] {
            let found = problems(
                scenarioJSON(["events": [["type": bad, "partitionKey": ["strategy": "random"], "template": ["a": "b"]]]]))
            #expect(found.map(\.path) == ["$.events[0].type"], "\(bad.debugDescription)")
            #expect(found.first?.message.contains("printable") == true)
        }
        #expect(problems(scenarioJSON(["name": String(repeating: "n", count: 101)])).map(\.path) == ["$.name"])
        #expect(problems(scenarioJSON(["name": "a/b"])).map(\.path) == ["$.name"])
    }

    @Test("stages that add up past the longest duration are refused, with their path")
    func stagesPastTheLongestDuration() {
        let found = problems(
            scenarioJSON([
                "load": [
                    "executor": "ramping-arrival-rate",
                    "stages": [["target": 10, "duration": "2000000h"], ["target": 10, "duration": "2000000h"]],
                ]
            ]))
        #expect(found.map(\.path) == ["$.load.stages"])
        #expect(found.first?.message.contains("the stages add up to more than") == true)
    }

    @Test("a template that renders over 1 MiB with its partition key is refused by validate")
    func renderedSizeAgainstTheRecordLimit() {
        let oversized = problems(
            scenarioJSON([
                "events": [["type": "BIG", "partitionKey": ["strategy": "random"], "template": ["a": "{{uuid}}"], "size": 1_048_576]]
            ]))
        #expect(oversized.map(\.path) == ["$.events[0].size"])
        #expect(oversized.first?.message.contains("over Kinesis's limit of 1048576 bytes") == true)
        // Just under: the size plus the longest random key fits.
        let fits = problems(
            scenarioJSON([
                "events": [["type": "BIG", "partitionKey": ["strategy": "random"], "template": ["a": "{{uuid}}"], "size": 1_048_000]]
            ]))
        #expect(fits.isEmpty)
    }

    @Test("a missing file and a directory are told apart")
    func missingFileAndDirectory() {
        let folder = FileManager.default.temporaryDirectory.path
        #expect(throws: ScenarioErrors.self) { try Scenario.load(path: folder) }
        do {
            _ = try Scenario.load(path: folder)
        } catch {
            #expect(error.problems.first?.message == "is a directory, not a scenario file")
        }
        do {
            _ = try Scenario.load(path: folder + "/no-such-\(UUID().uuidString).json")
        } catch {
            #expect(error.problems.first?.message == "no such file")
        }
    }

    /// Every number of a scenario pushed to extremes: each document either loads, and then its
    /// schedule, events and partition prediction work, or is refused with problems. A crash
    /// (an overflow trap) fails the whole test run.
    @Test("fuzzed scenarios never crash the loader, the schedule or the prediction")
    func fuzzedScenarios() throws {
        let extremes: [Any] = [
            0, -1, 1e300, -1e300, 1.5, 9_223_372_036_854_775_807, 1e18, "1e300s", "2562047h", "2562048h", "0s", "-1s", "99999999999999999999ms",
            "", "\u{0}", String(repeating: "x", count: 300), [Any](), [String: Any](),
        ]
        let fields: [(String, String)] = [
            ("load", "rate"), ("load", "duration"), ("load", "events"), ("load", "maxInFlight"), ("load", "startRate"),
            ("publisher", "maxBufferedTime"), ("publisher", "recordTTL"), ("publisher", "batchSize"),
            ("publisher", "rateLimitPercent"), ("publisher", "maxConcurrentRequests"), ("stream", "shards"), ("", "seed"),
        ]
        var random = SystemRandomNumberGenerator()
        var loaded = 0
        for round in 0..<400 {
            var document = try JSONSerialization.jsonObject(with: scenarioJSON()) as! [String: Any]
            let executor = ["constant-arrival-rate", "ramping-arrival-rate", "fixed-events"][round % 3]
            switch executor {
            case "constant-arrival-rate": document["load"] = ["executor": executor, "rate": 100, "duration": "1s"]
            case "ramping-arrival-rate":
                document["load"] = ["executor": executor, "stages": [["target": 100, "duration": "1s"], ["target": 5, "duration": "2s"]]]
            default: document["load"] = ["executor": executor, "events": 50, "rate": 100]
            }
            for _ in 0..<Int.random(in: 0...3, using: &random) {
                let (section, key) = fields.randomElement(using: &random)!
                let value = extremes.randomElement(using: &random)!
                if section.isEmpty {
                    document[key] = value
                } else if var members = document[section] as? [String: Any] {
                    members[key] = value
                    document[section] = members
                }
            }
            if round % 5 == 0, var load = document["load"] as? [String: Any], load["stages"] != nil {
                load["stages"] = [["target": extremes.randomElement(using: &random)!, "duration": extremes.randomElement(using: &random)!]]
                document["load"] = load
            }
            let data = try JSONSerialization.data(withJSONObject: document)
            guard let scenario = try? Scenario.parse(data) else { continue }
            loaded += 1
            var schedule = ArrivalSchedule(load: scenario.load, seed: scenario.seed)
            _ = schedule.plannedCount
            for _ in 0..<100 { guard schedule.next() != nil else { break } }
            var source = EventSource(scenario: scenario, shardMap: .even(count: scenario.stream.shards ?? 4))
            for _ in 0..<20 { _ = source.next() }
            _ = PartitionAnalysis.analyze(scenario, shards: scenario.stream.shards ?? 4, peakRate: scenario.load.peakRate ?? 100, sampleEvents: 200)
        }
        #expect(loaded > 0, "some fuzzed documents are still valid, so the later stages ran")
    }

    @Test("a run whose stored figures do not add up never passes")
    func inconsistentFiguresFail() async throws {
        let (store, _) = try temporaryStore()
        let plan = try scenario(["load": ["executor": "fixed-events", "events": 200], "thresholds": ["errors.count": "== 0"]])
        let result = try await LoadRunner(scenario: plan, api: InMemoryKinesis(), target: "embedded", store: store).run()
        #expect(try await store.summary(run: result.runId).passed)
        // What a NUL in a type name did: the rows are stored under another name.
        try await store.pool.write { db in try db.execute(sql: "UPDATE event_seconds SET event_type = 'ORD'") }
        let summary = try await store.summary(run: result.runId)
        #expect(!summary.passed)
        #expect(summary.inconsistencies.count >= 2, "\(summary.inconsistencies)")
        #expect(summary.inconsistencies.contains { $0.contains("200 events started were counted during the run") })
        #expect(ReportWriter.markdown(summary).contains("INCONSISTENT"))
        #expect(ReportWriter.junit(summary).contains("the stored figures do not add up"))
    }

    @Test("a run whose owner died is abandoned, and its report never passes")
    func deadOwnerIsAbandoned() async throws {
        let (store, folder) = try temporaryStore()
        let plan = try scenario(["load": ["executor": "fixed-events", "events": 50]])
        let result = try await LoadRunner(scenario: plan, api: InMemoryKinesis(), target: "embedded", store: store).run()
        // As if the process had been killed mid-run: still running, owned by a process that is gone.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        try await store.pool.write { db in
            try db.execute(
                sql: "UPDATE runs SET status = 'running', owner_pid = ?, owner_started = 'gone' WHERE id = ?",
                arguments: [Int64(child.processIdentifier), result.runId])
        }
        // Our own live run stays running.
        let live = try await store.beginRun(
            .init(scenario: plan, scenarioPath: nil, target: "embedded", shardMap: .even(count: 1), plannedEvents: 1, plannedSeconds: 1, startedAt: Date()))
        let reopened = try MetricsStore(path: store.path)
        let summary = try await reopened.summary(run: result.runId)
        #expect(summary.run.status == .abandoned)
        #expect(summary.run.problem?.contains("ended without finishing the run") == true)
        #expect(!summary.passed)
        #expect(ReportWriter.markdown(summary).contains("**ABANDONED**"))
        #expect(try await reopened.summary(run: live).run.status == .running)
        _ = folder
    }

    @Test("a full disk during a run stops it, marks it error and says what was kept")
    func fullDiskStopsTheRun() async throws {
        let (store, _) = try temporaryStore()
        let plan = try scenario([
            "load": ["executor": "constant-arrival-rate", "rate": 2000, "duration": "60s"],
            "events": [["type": "E", "partitionKey": ["strategy": "random"], "template": ["id": "{{uuid}}"]]],
        ])
        let pages = try await store.read { db in try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0 }
        try await store.limitSize(pages: pages + 2)
        let runner = LoadRunner(scenario: plan, api: InMemoryKinesis(), target: "embedded", store: store)
        let error = await #expect(throws: RunStoreFailure.self) {
            _ = try await runner.run(progressInterval: .milliseconds(100))
        }
        #expect(error?.description.contains("failed") == true)
        #expect(error?.description.contains("Kept: run 1") == true)
        let status = try await store.read { db in try String.fetchOne(db, sql: "SELECT status FROM runs WHERE id = 1") }
        #expect(status == "error")
    }

    @Test("a stop while the stream is being set up ends the run at once, with nothing stored")
    func stopDuringSetUp() async throws {
        let (store, _) = try temporaryStore()
        let engine = InMemoryKinesis()
        engine.faults { $0.latency = .seconds(600) }
        let stop = StopSignal()
        stop.request()
        let plan = try scenario(["load": ["executor": "fixed-events", "events": 5]])
        await #expect(throws: RunStoppedBeforeStart.self) {
            _ = try await LoadRunner(scenario: plan, api: engine, target: "embedded", store: store).run(stop: stop)
        }
        #expect(try await store.runIds().isEmpty)
    }

    @Test("two databases' run 1 never share a report folder; the same run reuses its own")
    func reportFoldersPerDatabase() async throws {
        let reports = FileManager.default.temporaryDirectory.appendingPathComponent("reports-\(UUID().uuidString)").path
        let plan = try scenario(["load": ["executor": "fixed-events", "events": 20]])
        var folders: [String] = []
        for _ in 0..<2 {
            let (store, _) = try temporaryStore()
            let result = try await LoadRunner(scenario: plan, api: InMemoryKinesis(), target: "embedded", store: store).run()
            let summary = try await store.summary(run: result.runId)
            let folder = try ReportWriter.write(summary, into: reports)
            #expect(try ReportWriter.write(summary, into: reports) == folder, "rewriting a run's report uses its own folder")
            folders.append(folder)
        }
        #expect(folders[0] != folders[1])
        #expect(folders[0].hasSuffix("/0001-t"))
        // A file where the reports should go is found before a run, not after.
        let file = reports + "/file"
        FileManager.default.createFile(atPath: file, contents: Data())
        #expect(throws: ReportError.self) { try ReportWriter.checkWritable(file) }
        try ReportWriter.checkWritable(reports + "/new/sub")
    }

    @Test("a huge scenario is stored by hash, not copied into every run")
    func hugeScenarioText() async throws {
        let (store, _) = try temporaryStore()
        var plan = try scenario(["load": ["executor": "fixed-events", "events": 5]])
        plan.source = String(repeating: " ", count: MetricsStore.storedScenarioLimit + 1)
        let result = try await LoadRunner(scenario: plan, api: InMemoryKinesis(), target: "embedded", store: store).run()
        let id = result.runId
        let (stored, hash, bytes) = try await store.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT length(scenario_json) AS n, scenario_sha256, scenario_bytes FROM runs WHERE id = ?", arguments: [id])
            return (row?["n"] as Int?, row?["scenario_sha256"] as String?, row?["scenario_bytes"] as Int?)
        }
        #expect(stored == 0)
        #expect(hash?.count == 64)
        #expect(bytes == MetricsStore.storedScenarioLimit + 1)
    }
}
