import Foundation
import Histogram
import Kinesis
import KinesisConsumer
import KinesisProducer
import Testing

@testable import KinesisLoad

/// The read-back's books: every acknowledged event is read, lost or not verified exactly once,
/// and every record received is classified exactly once, whatever the service or the consumers do.
@Suite("Read-back books")
struct VerifierBooksTests {
    static let shard = ShardMap.shardId(index: 0)

    struct Books {
        let recorder = Recorder()
        let verifier: ReadBackVerifier
        let start = ContinuousClock.now

        init(runStartedAt: Date? = nil) {
            verifier = ReadBackVerifier(recorder: recorder, typeNames: ["ORDER", "CLICK"], runStartedAt: runStartedAt)
        }

        func ack(_ key: String, _ text: String, type: Int = 0, index: UInt64, at sequence: String, sub: Int = 0) {
            verifier.acknowledged(
                LoadEvent(type: type, data: Data(text.utf8), partitionKey: key), index: index, intended: start,
                at: PublishResult(shardId: shard, sequenceNumber: sequence, subSequenceNumber: sub))
        }

        func read(_ records: [(key: String, text: String, sequence: String)], at: ContinuousClock.Instant? = nil, arrival: Date? = nil, misrouted: Bool = false) {
            verifier.received(
                records.map {
                    ConsumerRecord(
                        shardId: shard, sequenceNumber: $0.sequence, partitionKey: $0.key, data: Data($0.text.utf8), approximateArrivalTimestamp: arrival,
                        inMisroutedAggregate: misrouted)
                }, at: at ?? start)
        }

        /// End-to-end samples recorded so far.
        var samples: Int { recorder.drain().reads.values.flatMap(\.values).reduce(0) { $0 + Int($1.endToEnd.totalCount) } }
    }

    @Test("two events acknowledged at one position: both are on the books, the one never read is lost, the finding names both")
    func sharedPosition() {
        let books = Books()
        books.ack("alice", "first", type: 0, index: 0, at: "100")
        books.ack("bob", "second", type: 1, index: 1, at: "100")
        books.read([("bob", "second", "100")])
        let result = books.verifier.finish(caughtUp: true)
        #expect(result.acknowledged == 2 && result.read == 1 && result.lost == 1)
        #expect(result.sharedPositions == 1)
        #expect(result.inconsistencies.isEmpty)
        let shared = try? #require(result.examples.first { $0.kind == "sharedPosition" })
        #expect(shared?.eventType == "ORDER" && shared?.partitionKey == "alice")
        #expect(shared?.otherEventType == "CLICK" && shared?.otherPartitionKey == "bob")
        #expect(result.examples.contains { $0.kind == "lost" && $0.partitionKey == "alice" })
        #expect(books.samples == 1)
    }

    @Test("a second acknowledgement at a position already read is still a shared position, and lost")
    func sharedAfterRead() {
        let books = Books()
        books.ack("alice", "first", index: 0, at: "100")
        books.read([("alice", "first", "100")])
        books.ack("bob", "second", index: 1, at: "100")
        let result = books.verifier.finish(caughtUp: true)
        #expect(result.acknowledged == 2 && result.read == 1 && result.lost == 1 && result.sharedPositions == 1)
        #expect(result.inconsistencies.isEmpty)
    }

    @Test("one position handed out twice, the read before the acknowledgement of the event it holds: that event is read, the other lost")
    func sharedPositionReadBeforeItsAcknowledgement() {
        // moto under concurrent PutRecords: bob's put returns first, the consumer reads alice's
        // record at the position, alice's acknowledgement comes last (and moto then overwrites it with bob's).
        let books = Books()
        books.ack("bob", "second", type: 1, index: 1, at: "100")
        books.read([("alice", "first", "100")])
        #expect(books.verifier.outstanding.reads == 0, "judged a reused position at once")
        books.ack("alice", "first", type: 0, index: 0, at: "100")
        let result = books.verifier.finish(caughtUp: true)
        #expect(result.acknowledged == 2 && result.read == 1 && result.lost == 1)
        #expect(result.sharedPositions == 1 && result.reusedPositions == 0 && result.lateAcknowledgements == 1)
        #expect(result.inconsistencies.isEmpty)
        #expect(!result.examples.contains { $0.kind == "reusedPosition" })
        #expect(result.examples.contains { $0.kind == "lost" && $0.partitionKey == "bob" })
        #expect(books.samples == 1)
        // A third acknowledgement there with yet another event is one more shared position, lost.
        let third = Books()
        third.ack("bob", "second", index: 1, at: "100")
        third.read([("alice", "first", "100")])
        third.ack("carol", "third", index: 2, at: "100")
        let more = third.verifier.finish(caughtUp: true)
        #expect(more.acknowledged == 2 && more.read == 0 && more.lost == 2 && more.reusedPositions == 1 && more.sharedPositions == 1)
        #expect(more.inconsistencies.isEmpty)
    }

    @Test("an acknowledgement that comes after its read was judged moves that read to read, with its latency")
    func lateAcknowledgement() {
        let books = Books()
        books.read([("k", "late", "100")], at: books.start)
        books.verifier.tick(now: books.start.advanced(by: .seconds(30)))
        #expect(books.verifier.outstanding.reads == 0, "judged after the grace period")
        books.ack("k", "late", index: 0, at: "100")
        let result = books.verifier.finish(caughtUp: true)
        #expect(result.read == 1 && result.lost == 0 && result.unexpected == 0 && result.lateAcknowledgements == 1)
        #expect(!result.examples.contains { $0.kind == "unexpected" })
        #expect(result.inconsistencies.isEmpty)
        #expect(books.samples == 1, "a matched read gives its end-to-end sample")
    }

    @Test("a position read with another key or payload than acknowledged there is a reused position; the event is lost")
    func reusedPosition() {
        let books = Books()
        books.ack("k", "mine", index: 0, at: "100")
        books.read([("other", "theirs", "100")])
        var result = books.verifier.finish(caughtUp: true)
        #expect(result.reusedPositions == 1 && result.lost == 1 && result.read == 0 && result.unexpected == 0)
        #expect(result.inconsistencies.isEmpty)
        // The same when the read came first and was judged before the acknowledgement.
        let late = Books()
        late.read([("other", "theirs", "100")])
        late.verifier.tick(now: late.start.advanced(by: .seconds(30)))
        late.ack("k", "mine", index: 0, at: "100")
        result = late.verifier.finish(caughtUp: true)
        #expect(result.reusedPositions == 1 && result.lost == 1 && result.unexpected == 0)
        #expect(result.inconsistencies.isEmpty)
    }

    @Test("records resent after a reshard: the copy in the misrouted aggregate is skipped, the resend is read once")
    func resentAfterReshard() {
        let books = Books()
        books.read([("k", "event", "100")], misrouted: true)
        books.ack("k", "event", index: 0, at: "200")
        books.read([("k", "event", "200")])
        let result = books.verifier.finish(caughtUp: true)
        #expect(result.read == 1 && result.resentCopies == 1 && result.duplicated == 0 && result.unexpected == 0 && result.lost == 0)
        #expect(result.received == 2 && result.inconsistencies.isEmpty)
    }

    @Test("a consumer restarted from an older checkpoint reads positions again: reread, never duplicated or unexpected")
    func restartedConsumer() {
        let books = Books()
        for index in 0..<5 { books.ack("k", "e\(index)", index: UInt64(index), at: "\(100 + index)") }
        books.read((0..<5).map { ("k", "e\($0)", "\(100 + $0)") })
        // The restart goes back to the checkpoint after event 1 and reads 2, 3, 4 again, long after.
        books.read((2..<5).map { ("k", "e\($0)", "\(100 + $0)") }, at: books.start.advanced(by: .seconds(60)))
        let result = books.verifier.finish(caughtUp: true)
        #expect(result.read == 5 && result.reread == 3 && result.duplicated == 0 && result.unexpected == 0 && result.outOfOrder == 0)
        #expect(result.received == 8 && result.inconsistencies.isEmpty)
    }

    @Test("a read-back stopped before it caught up: what was not read is not verified, never lost, and no loss threshold passes")
    func stoppedWhileReading() throws {
        let books = Books()
        for index in 0..<4 { books.ack("k", "e\(index)", index: UInt64(index), at: "\(100 + index)") }
        books.read([("k", "e0", "100")])
        let result = books.verifier.finish(caughtUp: false)
        #expect(result.read == 1 && result.notVerified == 3 && result.lost == 0)
        #expect(result.inconsistencies.isEmpty)
        #expect(result.examples.filter { $0.kind == "notVerified" }.count == 3)
        let figures = RunFigures(
            latency: .init(), latencyP95: 0, lateness: .init(), totals: .init(), rate: .init(target: nil, peakTarget: nil, achieved: 0, delivered: 0, accuracy: nil),
            throttled: 0, attempted: 0, endToEnd: nil, reads: nil, verification: result)
        guard case .failure(let missing) = ThresholdMetric.lostCount.value(in: figures) else {
            Issue.record("lost.count had a value with 3 events not verified")
            return
        }
        #expect(missing.description.contains("3 acknowledged events not verified"))
    }

    @Test("records from before the run are unexpected at once, not copies, and do not hold the shard's queue")
    func recordsFromAnEarlierRun() {
        let started = Date()
        let books = Books(runStartedAt: started)
        // An earlier run with the same seed wrote the same key and data.
        books.read([("k", "same", "50")], arrival: started.addingTimeInterval(-600))
        books.read([("k", "same", "100")], arrival: started)
        books.ack("k", "same", index: 0, at: "100")
        #expect(books.verifier.outstanding.reads == 0, "the old record was judged at once, the new one matched")
        let result = books.verifier.finish(caughtUp: true)
        #expect(result.unexpected == 1 && result.duplicated == 0 && result.read == 1)
        #expect(result.inconsistencies.isEmpty)
        #expect(books.samples == 1)
    }

    @Test("reads matched only at the very end still give their latency samples: one per matched read")
    func samplesAtTheEnd() {
        let books = Books()
        // A stranger at the head holds the queue until the end; the reads behind it match in finish().
        books.read([("x", "stranger", "90")])
        for index in 0..<50 { books.ack("k", "e\(index)", index: UInt64(index), at: "\(100 + index)") }
        books.read((0..<50).map { ("k", "e\($0)", "\(100 + $0)") })
        #expect(books.verifier.outstanding.reads == 51)
        let result = books.verifier.finish(caughtUp: true)
        #expect(result.read == 50 && result.unexpected == 1)
        #expect(books.samples == 50)
    }

    @Test("a threshold over zero samples fails with no data, never passes")
    func noSamplesNoPass() throws {
        let figures = RunFigures(
            latency: .init(), latencyP95: 0, lateness: .init(), totals: .init(), rate: .init(target: nil, peakTarget: nil, achieved: 0, delivered: 0, accuracy: nil),
            throttled: 0, attempted: 0, endToEnd: .init(), reads: nil, verification: nil)
        for metric in [ThresholdMetric.endToEndP99, .latencyP99, .rateAccuracy, .lagMax, .lostCount, .duplicatedRate, .errorsRate] {
            guard case .failure(let missing) = metric.value(in: figures) else {
                Issue.record("\(metric.rawValue) had a value over no samples")
                continue
            }
            #expect(missing.description.hasPrefix("no data"))
        }
        // An infinite accuracy (a target of 0) is no data too, never a value JSON cannot hold.
        var infinite = figures
        infinite.rate.accuracy = .infinity
        guard case .failure = ThresholdMetric.rateAccuracy.value(in: infinite) else {
            Issue.record("rate.accuracy took an infinite value")
            return
        }
    }

    @Test("books that do not add up are inconsistencies: the run can never pass")
    func booksThatDoNotAddUp() async throws {
        var result = ReadBackVerifier.Result()
        result.acknowledged = 10
        result.read = 9
        result.received = 9
        #expect(result.inconsistencies.count == 1)
        #expect(result.inconsistencies[0].contains("10 acknowledged events"))
        let (store, _) = try temporaryStore()
        let plan = try scenario(["load": ["executor": "fixed-events", "events": 10], "consume": ["verify": true]])
        let runId = try await store.beginRun(
            .init(
                scenario: plan, scenarioPath: nil, target: "embedded", shardMap: ShardMap.even(count: 1), plannedEvents: 10, plannedSeconds: 0,
                startedAt: Date()))
        try await store.finishRun(runId, status: .completed, exitCode: 0, elapsedSeconds: 1, generationSeconds: 1, hotKeys: [], samples: [], verification: result)
        let summary = try await store.summary(run: runId)
        #expect(summary.inconsistencies.contains { $0.contains("read + lost + not verified") })
        #expect(!summary.passed)
    }
}
