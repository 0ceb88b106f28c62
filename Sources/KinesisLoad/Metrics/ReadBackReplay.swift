import Foundation
import GRDB
import Histogram
import Synchronization

/// `merge`'s read-back: every segment's acknowledgements and reads (``ReadBackAckRow``,
/// ``ReadBackReadRow``) matched together by the verifier the runs use, so the merged books are
/// those of one read-back of the whole run. Acknowledgements go in first, then each shard's
/// reads in the order it gave them, each read judged as it comes. An event never read is lost
/// when its shard's reader caught up after its acknowledgement, not verified otherwise; order
/// per key is checked within each publishing segment and summed. End-to-end latencies are
/// taken from wall-clock times of two processes (on two machines, their clocks' skew is in them).
enum ReadBackReplay {
    struct Outcome {
        var result: ReadBackVerifier.Result
        /// End-to-end latencies (µs) per second of the merged run and shard.
        var endToEnd: [Int: [String: LatencyHistogram]]
    }

    /// Collects matched latencies under the second and shard of the read being judged.
    final class Sink: ReadBackSink {
        struct State {
            var current: (second: Int, shard: String) = (0, "")
            var histograms: [Int: [String: LatencyHistogram]] = [:]
        }
        let state = Mutex(State())

        func consumed(shard: String, userRecords: Int, latencies: [UInt64]) {
            guard !latencies.isEmpty else { return }
            state.withLock { state in
                let (second, shard) = state.current
                for latency in latencies { state.histograms[second, default: [:]][shard, default: .latency()].recordClamped(latency) }
            }
        }
    }

    /// Whether the parts kept a read-back for `merge` (segmented workers that verified).
    static func kept(_ parts: [RunMerge.Part]) async throws -> Bool {
        for part in parts {
            let store = try MetricsStore(path: part.path)
            let any = try await store.read { db in
                try ReadBackShardRow.filter(Column("run_id") == part.runId).fetchCount(db) > 0
                    || ReadBackAckRow.filter(Column("run_id") == part.runId).fetchCount(db) > 0
            }
            if any { return true }
        }
        return false
    }

    /// Matches the parts' read-backs; `startUs` is the merged run's start (wall clock, µs).
    static func replay(_ parts: [RunMerge.Part], typeNames: [String], runStartedAt: Date, startUs: Int64) async throws -> Outcome {
        let sink = Sink()
        let verifier = ReadBackVerifier(recorder: sink, typeNames: typeNames, runStartedAt: runStartedAt)
        let base = ContinuousClock.now
        @Sendable func instant(_ us: Int64) -> ContinuousClock.Instant { base.advanced(by: .microseconds(us - startUs)) }
        @Sendable func second(_ us: Int64) -> Int { Int((Double(us - startUs) / 1e6).rounded(.down)) }

        var caughtUpUs: [String: Int64] = [:]
        var lastAckUs: [String: Int64] = [:]
        var stores: [MetricsStore] = []
        for part in parts {
            let store = try MetricsStore(path: part.path)
            stores.append(store)
            let shards = try await store.read { db in try ReadBackShardRow.filter(Column("run_id") == part.runId).fetchAll(db) }
            for shard in shards {
                let reached = shard.finished ? Int64.max : shard.caughtUpUs ?? Int64.min
                caughtUpUs[shard.shardId] = max(caughtUpUs[shard.shardId] ?? Int64.min, reached)
            }
        }
        for (part, store) in zip(parts, stores) {
            let lane = Int32(part.segment.index)
            let last = try await store.read { db -> [String: Int64] in
                var last: [String: Int64] = [:]
                let rows = try ReadBackAckRow.filter(Column("run_id") == part.runId).fetchCursor(db)
                while let row = try rows.next() {
                    let entry = ReadBackVerifier.Acknowledged(
                        type: Int32(row.eventType), index: UInt64(row.eventIndex), intended: instant(row.intendedUs), key: row.partitionKey,
                        fingerprint: UInt64(bitPattern: row.fingerprint), acknowledgedAt: instant(row.acknowledgedUs), lane: lane)
                    let position = ReadBackVerifier.Position(shard: row.shardId, sequence: row.sequenceNumber, sub: row.subSequenceNumber)
                    _ = verifier.acknowledge(entry, at: position)
                    last[row.shardId] = max(last[row.shardId] ?? Int64.min, row.acknowledgedUs)
                }
                return last
            }
            lastAckUs.merge(last, uniquingKeysWith: max)
        }
        for (part, store) in zip(parts, stores) {
            try await store.read { db in
                let rows = try ReadBackReadRow.filter(Column("run_id") == part.runId).order(Column("shard_id"), Column.rowID).fetchCursor(db)
                while let row = try rows.next() {
                    sink.state.withLock { $0.current = (second(row.readUs), row.shardId) }
                    let at = instant(row.readUs)
                    if row.resentCopy {
                        _ = verifier.receive(shard: row.shardId, [], resentCopies: 1)
                        continue
                    }
                    let read = ReadBackVerifier.Read(
                        position: .init(shard: row.shardId, sequence: row.sequenceNumber, sub: row.subSequenceNumber), key: row.partitionKey,
                        fingerprint: UInt64(bitPattern: row.fingerprint), at: at, beforeRun: row.beforeRun)
                    let matched = verifier.receive(shard: row.shardId, [read], resentCopies: 0)
                    sink.consumed(shard: row.shardId, userRecords: 0, latencies: matched)
                    // Every acknowledgement is in: a read still waiting has none, and is judged now.
                    let judged = verifier.settle(shard: row.shardId, now: at.advanced(by: ReadBackVerifier.defaultGrace))
                    sink.consumed(shard: row.shardId, userRecords: 0, latencies: judged)
                }
            }
        }
        let caughtUp = lastAckUs.allSatisfy { shard, last in (caughtUpUs[shard] ?? Int64.min) >= last }
        func wallUs(_ instant: ContinuousClock.Instant) -> Int64 {
            let (seconds, attoseconds) = base.duration(to: instant).components
            return startUs + seconds * 1_000_000 + attoseconds / 1_000_000_000_000
        }
        var result = verifier.finish(caughtUp: caughtUp) { position, entry in
            (caughtUpUs[position.shard] ?? Int64.min) >= wallUs(entry.acknowledgedAt)
        }
        result.caughtUp = caughtUp
        return Outcome(result: result, endToEnd: sink.state.withLock { $0.histograms })
    }
}
