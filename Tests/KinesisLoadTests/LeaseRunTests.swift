import Foundation
import KinesisTesting
import Testing

@testable import KinesisLoad

/// `consume.workers`: lease-sharing workers in a run, and a fault that kills or freezes one.
@Suite("Runs with lease-sharing workers")
struct LeaseRunTests {
    static func plan(_ action: String, workers: Int = 3) -> [String: Any] {
        [
            "stream": ["name": "leases", "shards": 4],
            "load": ["executor": "constant-arrival-rate", "rate": 500, "duration": "6s"],
            "publisher": ["mode": "putRecords", "maxBufferedTime": "20ms"],
            "consume": [
                "workers": workers, "leases": ["failover": "2s", "takeInterval": "500ms"], "fault": ["worker": 1, "action": action, "at": "2500ms"],
                "catchUpTimeout": "30s",
            ],
            "thresholds": ["lost.count": "== 0"],
        ]
    }

    static func run(_ plan: [String: Any]) async throws -> RunSummary {
        let (store, _) = try temporaryStore()
        let id = try await LoadRunner(scenario: try scenario(plan), api: InMemoryKinesis(), target: "embedded", store: store).run().runId
        return try await store.summary(run: id)
    }

    @Test("a worker killed mid-run: its shards go to the others, nothing is lost, and the report says how long each went unread")
    func killedWorker() async throws {
        // Two workers: whatever the balancing did before the kill, the survivor steals at most what
        // worker-1 holds beyond its share (two of four), so the rest of its leases are taken only
        // when they expire. (With three, a worker holding nothing sees only one other worker and
        // may steal all it holds, dead or not: fast, and as the KCL does.)
        let summary = try await Self.run(Self.plan("kill", workers: 2))
        let v = try #require(summary.verification)
        #expect(v.lost == 0 && v.read == v.acknowledged && v.acknowledged == 3000, "\(v)")
        let leases = try #require(summary.leases)
        #expect(leases.workers == 2 && leases.fault == "kill worker-1 at 2.5s")
        #expect(leases.struck?.hasPrefix("worker-1 killed at ") == true)
        // The shards whose leases worker-1 held when it died went to the other worker; records
        // published after the kill waited about the failover time (2 s, less at most one renew
        // interval) on those it did not steal.
        let struck = try #require(leases.struck)
        let held = leases.shards.filter { struck.contains($0.shardId) }
        // (On a machine starved enough, worker-1 may not have taken a lease before the kill.)
        #expect(held.isEmpty == struck.hasSuffix("holding no lease"), "\(struck)")
        for shard in held { #expect(shard.workers.last == "worker-0", "\(shard)") }
        if let longest = held.map(\.longestUnreadMs).max() { #expect(longest >= 1300, "\(held)") }
        #expect(leases.shards.allSatisfy { $0.workers.last != "worker-1" }, "nobody reads as the dead worker at the end")
        #expect(summary.passed)
        let markdown = ReportWriter.markdown(summary)
        #expect(markdown.contains("## Lease-sharing workers") && markdown.contains("worker-1 killed at"))
    }

    @Test("a frozen worker (a zombie that keeps reading): its shards are taken after the failover time and records are processed twice, none lost")
    func frozenWorker() async throws {
        let summary = try await Self.run(Self.plan("freeze"))
        let v = try #require(summary.verification)
        #expect(v.lost == 0 && v.read == v.acknowledged, "\(v)")
        let leases = try #require(summary.leases)
        let twice = leases.shards.reduce(0) { $0 + $1.reprocessed }
        #expect(twice > 0, "the zombie and the new owner both process what came after the freeze: \(leases.shards)")
        #expect(v.reread > 0, "the read-back sees the same positions read again")
    }

    @Test("workers and consumers exclude each other; a fault needs workers and names a worker that exists")
    func badLeaseSections() throws {
        func problems(_ consume: [String: Any]) -> String {
            var plan = Self.plan("kill")
            plan["consume"] = consume
            do {
                _ = try scenario(plan)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        #expect(problems(["workers": 2, "consumers": 2]).contains("$.consume.workers"))
        #expect(problems(["consumers": 2, "fault": ["worker": 0, "action": "kill", "at": "1s"]]).contains("$.consume.fault: goes with \"workers\""))
        #expect(problems(["workers": 2, "fault": ["worker": 2, "action": "kill", "at": "1s"]]).contains("$.consume.fault.worker"))
        #expect(problems(["workers": 2, "fault": ["worker": 0, "action": "explode", "at": "1s"]]).contains("$.consume.fault.action"))
        #expect(problems(["workers": 2, "fault": ["worker": 0, "action": "kill"]]).contains("$.consume.fault.at"))
        #expect(problems(["workers": 2, "leases": ["failover": "10ms"]]).contains("$.consume.leases.failover"))
        #expect(problems(["workers": 2, "leases": ["failover": "2s"], "fault": ["worker": 1, "action": "freeze", "at": "0s"]]) == "accepted")
    }
}
