import DequeModule
import Foundation
import Kinesis
import KinesisConsumer
import KinesisProducer
import Synchronization

/// Matches what the consumers read to what the publisher had acknowledged, by where Kinesis put
/// each record (shard, sequence number, index inside an aggregate) and what it holds (a
/// fingerprint of partition key and data). Gives each event's end-to-end latency (intended start
/// to a consumer's receipt, on this process's clock alone) and, at the end, the books of the
/// read-back, which always add up:
///
/// - every acknowledged event is exactly one of `read` (matched to a read of its position with
///   its key and data), `lost` (never read, the read-back having caught up) or `notVerified`
///   (never read, the read-back having been stopped or timed out first);
/// - every record received is exactly one of `read`, `duplicated` (a copy, at another position,
///   of an acknowledged event), `reread` (a position read again: a consumer restarted from an
///   older checkpoint), `unexpected` (never acknowledged, no copy of anything acknowledged),
///   `reusedPositions` (a position acknowledged for another key or payload) or `resentCopies`
///   (inside an aggregate the Producer sent again after a reshard).
///
/// Two acknowledgements at one position (`sharedPositions`: the service acknowledged two records
/// where it can keep one) are both kept: the one read is `read`, the other is `lost`.
///
/// Reads are matched in the order each shard delivered them, so the per-key order check sees
/// the stream's order. A read that comes before its acknowledgement (a consumer can be faster
/// than the answer to the put) waits at the head of its shard's queue until the answer comes;
/// one whose answer does not come within the grace period is judged a copy or unexpected, and
/// is remembered (up to a limit) so that an acknowledgement arriving later still moves it to
/// `read`. A record that reached the stream before the run started is unexpected at once. The
/// state holds only what is in flight plus bounded memories: it does not grow with a run.
package final class ReadBackVerifier: Sendable {
    package struct Position: Hashable, Sendable, Comparable {
        var shard: String
        var sequence: String
        var sub: Int

        /// Within a shard: sequence numbers are decimal strings, compared by value.
        package static func < (a: Position, b: Position) -> Bool {
            if a.sequence.utf8.count != b.sequence.utf8.count { return a.sequence.utf8.count < b.sequence.utf8.count }
            if a.sequence != b.sequence { return a.sequence < b.sequence }
            return a.sub < b.sub
        }
    }

    struct Acknowledged {
        var type: Int32
        var index: UInt64
        var intended: ContinuousClock.Instant
        var key: String
        var fingerprint: UInt64
        /// When the acknowledgement came: a merge judges an unread event lost only when its
        /// shard's reader caught up after it.
        var acknowledgedAt: ContinuousClock.Instant
        /// The segment that published it (0 in one process): order per key is checked within a
        /// segment, whose events of a key are put in order; two workers' are not.
        var lane: Int32 = 0
    }

    /// A key's order is tracked per publishing segment.
    struct OrderKey: Hashable {
        var lane: Int32
        var key: String
    }

    struct Read {
        var position: Position
        var key: String
        var fingerprint: UInt64
        var at: ContinuousClock.Instant
        /// Reached the stream before the run started.
        var beforeRun: Bool
    }

    /// A read judged without its acknowledgement, kept for one that comes late.
    struct Judged {
        var kind: Kind
        var fingerprint: UInt64
        var at: ContinuousClock.Instant
    }

    enum Kind: String { case duplicated, unexpected, reusedPosition }

    /// One record that did not match, as the reports show it. `otherEventType` and
    /// `otherPartitionKey` name the second event of a shared or reused position.
    package struct Example: Sendable, Hashable, Codable {
        package var kind: String
        package var eventType: String?
        package var partitionKey: String
        package var shardId: String
        package var sequenceNumber: String
        package var subSequenceNumber: Int
        package var otherEventType: String? = nil
        package var otherPartitionKey: String? = nil
    }

    /// The verdict of a read-back.
    package struct Result: Sendable, Hashable, Codable {
        package var acknowledged = 0
        /// Acknowledged events read (each counted once).
        package var read = 0
        /// Acknowledged and never read, the read-back having caught up.
        package var lost = 0
        /// Acknowledged and not read when the read-back was stopped or timed out: neither read nor lost.
        package var notVerified = 0
        /// Read again: a copy, at another position, of an acknowledged event.
        package var duplicated = 0
        /// A position read a second time (a consumer restarted from an older checkpoint).
        package var reread = 0
        /// Read before an earlier event of the same partition key.
        package var outOfOrder = 0
        /// Read, never acknowledged, and no copy of anything acknowledged.
        package var unexpected = 0
        /// Copies inside an aggregate that landed on a shard not covering all its records: the
        /// Producer sent those records again, so readers skip them (not counted as duplicates).
        package var resentCopies = 0
        /// Acknowledgements at a position already acknowledged for another event.
        package var sharedPositions = 0
        /// Reads of a position acknowledged for another partition key or payload.
        package var reusedPositions = 0
        /// Acknowledgements that came after their read had been judged (and moved it to `read`).
        package var lateAcknowledgements = 0
        /// Records the consumers handed over (-1 in runs stored before they were counted).
        package var received = 0
        /// Every shard was read to its tip within the catch-up timeout.
        package var caughtUp = true
        package var examples: [Example] = []

        package init() {}

        /// What went wrong, in short phrases ("75 lost", "75 acknowledged at a shared position"); empty when nothing did.
        package var findings: [String] {
            let parts: [(Int, String)] = [
                (lost, "lost"), (notVerified, "not verified"), (duplicated, "duplicated"), (reread, "reread"), (outOfOrder, "out of order"),
                (unexpected, "unexpected"), (sharedPositions, "acknowledged at a position already acknowledged"),
                (reusedPositions, "read at a position acknowledged for another event"),
            ]
            return parts.filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }
        }

        /// Where the books do not add up, in sentences; empty when they do.
        package var inconsistencies: [String] {
            var found: [String] = []
            if acknowledged != read + lost + notVerified {
                found.append(
                    "the read-back counted \(acknowledged) acknowledged events, but read + lost + not verified is \(read) + \(lost) + \(notVerified) = \(read + lost + notVerified)"
                )
            }
            let classified = read + duplicated + reread + unexpected + reusedPositions + resentCopies
            if received >= 0, received != classified {
                found.append(
                    "the consumers handed over \(received) records, but read + duplicated + reread + unexpected + reused positions + resent copies is \(classified)"
                )
            }
            return found
        }

        enum CodingKeys: String, CodingKey {
            case acknowledged, read, lost, notVerified, duplicated, reread, outOfOrder, unexpected, resentCopies, sharedPositions
            case reusedPositions, lateAcknowledgements, received, caughtUp, examples
        }

        package init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            func count(_ key: CodingKeys) throws -> Int { try c.decodeIfPresent(Int.self, forKey: key) ?? 0 }
            acknowledged = try count(.acknowledged)
            read = try count(.read)
            lost = try count(.lost)
            notVerified = try count(.notVerified)
            duplicated = try count(.duplicated)
            reread = try count(.reread)
            outOfOrder = try count(.outOfOrder)
            unexpected = try count(.unexpected)
            resentCopies = try count(.resentCopies)
            sharedPositions = try count(.sharedPositions)
            reusedPositions = try count(.reusedPositions)
            lateAcknowledgements = try count(.lateAcknowledgements)
            received = try count(.received)
            caughtUp = try c.decodeIfPresent(Bool.self, forKey: .caughtUp) ?? true
            examples = try c.decodeIfPresent([Example].self, forKey: .examples) ?? []
        }
    }

    /// The kinds of examples, in the order the reports list them.
    package static let exampleKinds = ["lost", "notVerified", "sharedPosition", "reusedPosition", "duplicated", "reread", "outOfOrder", "unexpected"]
    static let examplesPerKind = 5
    /// How long a read waits for its acknowledgement before it is judged a copy or unexpected.
    static let defaultGrace: Duration = .seconds(10)
    /// Seconds of read fingerprints kept to recognise a copy read after its original: longer
    /// than the grace period, so that a copy read with its original (the usual case: the copy
    /// lands right after it) is still recognised when it is judged.
    static let fingerprintSeconds = 25
    static let trackedKeyLimit = 100_000
    /// Judged reads remembered for a late acknowledgement, and matched positions remembered for a
    /// second acknowledgement at one of them.
    static let judgedLimit = 200_000
    /// How far before the run's start a record's arrival time must be to count as older than
    /// the run. None: a record of this run is matched first when its acknowledgement is in, and
    /// one judged too early (a service clock behind ours) is moved back to read when its
    /// acknowledgement comes, so a margin would only let old records pass as copies.
    static let clockSlack: TimeInterval = 0

    private struct State {
        /// Acknowledged and not read yet; more than one at a position only when the service
        /// acknowledged two records there.
        var pending: [Position: [Acknowledged]] = [:]
        var pendingCount = 0
        /// Fingerprints of the pending events: how many, and the type of one.
        var pendingFingerprints: [UInt64: (count: Int32, type: Int32)] = [:]
        var queues: [String: Deque<Read>] = [:]
        /// Fingerprints of recently matched reads (with their event type), one map per second, newest last.
        var recent: Deque<[UInt64: Int32]> = [[:]]
        var lastIndexByKey: [OrderKey: UInt64] = [:]
        /// The furthest position judged on each shard, in the shard's order.
        var furthest: [String: Position] = [:]
        var judged: [Position: Judged] = [:]
        var judgedOrder: Deque<Position> = []
        /// Recently matched positions (event type and key), to recognise a second acknowledgement there.
        var matched: [Position: (Int32, String)] = [:]
        var matchedOrder: Deque<Position> = []
        var result = Result()
        var examples: [String: [Example]] = [:]
        var finished = false
    }

    private let state = Mutex(State())
    private let recorder: any ReadBackSink
    private let typeNames: [String]
    private let clock = ContinuousClock()
    private let grace: Duration
    private let runStartedAt: Date?

    /// `runStartedAt`: when the run began (wall clock); records that reached the stream well
    /// before it are judged unexpected at once instead of holding their shard's queue.
    package init(recorder: any ReadBackSink, typeNames: [String], runStartedAt: Date? = nil, grace: Duration = ReadBackVerifier.defaultGrace) {
        self.recorder = recorder
        self.typeNames = typeNames
        self.runStartedAt = runStartedAt
        self.grace = grace
    }

    /// 64-bit FNV-1a of the key, a separator and the data: the same in every process, so that
    /// the workers of a segmented run can hand fingerprints to `merge`.
    static func fingerprint(partitionKey: String, data: Data) -> UInt64 {
        var hasher = FNV1a()
        var key = partitionKey
        key.withUTF8 { hasher.combine(UnsafeRawBufferPointer($0)) }
        hasher.combine(0xff)
        data.withUnsafeBytes { hasher.combine($0) }
        return hasher.value
    }

    /// The publisher's acknowledgement of event number `index` (publishing order).
    package func acknowledged(_ event: LoadEvent, index: UInt64, intended: ContinuousClock.Instant, at landed: PublishResult) {
        let position = Position(shard: landed.shardId, sequence: landed.sequenceNumber, sub: landed.subSequenceNumber)
        let entry = Acknowledged(
            type: Int32(event.type), index: index, intended: intended, key: event.partitionKey,
            fingerprint: Self.fingerprint(partitionKey: event.partitionKey, data: event.data), acknowledgedAt: clock.now)
        let latencies = acknowledge(entry, at: position)
        if !latencies.isEmpty { recorder.consumed(shard: position.shard, userRecords: 0, latencies: latencies) }
    }

    /// Books an acknowledgement; returns the end-to-end latencies of the reads it matched.
    func acknowledge(_ entry: Acknowledged, at position: Position) -> [UInt64] {
        state.withLock { state -> [UInt64] in
            guard !state.finished else { return [] }
            state.result.acknowledged += 1
            let earlier = state.pending[position]?.first.map { ($0.type, $0.key) } ?? state.matched[position]
            if let earlier {
                state.result.sharedPositions += 1
                note(&state, kind: "sharedPosition", type: earlier.0, key: earlier.1, position: position, other: (entry.type, entry.key))
            }
            if let judged = state.judged[position] {
                if judged.fingerprint == entry.fingerprint {
                    // Its read came first and was judged without it (unacknowledged, or reused
                    // because another event's acknowledgement at this position came first, as
                    // when the service hands one position out twice): that read is this event's.
                    forget(&state, judged: position)
                    state.result.lateAcknowledgements += 1
                    state.result.read += 1
                    state.recent[state.recent.count - 1][entry.fingerprint] = entry.type
                    rememberMatch(&state, entry, at: position)
                    return [Self.micros(from: entry.intended, to: judged.at)]
                }
                if earlier == nil {
                    // The position was read with another key or payload: reused. This event stays unread.
                    forget(&state, judged: position)
                    state.result.reusedPositions += 1
                    state.judged[position] = Judged(kind: .reusedPosition, fingerprint: judged.fingerprint, at: judged.at)
                    note(&state, kind: "reusedPosition", type: entry.type, key: entry.key, position: position, other: nil)
                }
            }
            state.pending[position, default: []].append(entry)
            state.pendingCount += 1
            state.pendingFingerprints[entry.fingerprint, default: (0, entry.type)].count += 1
            return drain(&state, shard: position.shard, now: nil)
        }
    }

    /// Records a consumer received at `at`, in the order its shard gave them.
    package func received(_ records: [ConsumerRecord], at: ContinuousClock.Instant) {
        guard let shard = records.first?.shardId else { return }
        let reads = records.filter { !$0.inMisroutedAggregate }.map { Self.read($0, at: at, runStartedAt: runStartedAt) }
        let latencies = receive(shard: shard, reads, resentCopies: records.count - reads.count)
        recorder.consumed(shard: shard, userRecords: records.count, latencies: latencies)
    }

    /// A record as the verifier books its read: `beforeRun` when it reached the stream before the run began.
    static func read(_ record: ConsumerRecord, at: ContinuousClock.Instant, runStartedAt: Date?) -> Read {
        let oldest = runStartedAt.map { $0.addingTimeInterval(-Self.clockSlack) }
        let beforeRun = oldest.map { oldest in record.approximateArrivalTimestamp.map { $0 < oldest } ?? false } ?? false
        return Read(
            position: Position(shard: record.shardId, sequence: record.sequenceNumber, sub: record.subSequenceNumber),
            key: record.partitionKey, fingerprint: Self.fingerprint(partitionKey: record.partitionKey, data: record.data), at: at,
            beforeRun: beforeRun)
    }

    /// Books the reads of one shard, in its order, and `resentCopies` records skipped inside
    /// misrouted aggregates; returns the end-to-end latencies of the matches.
    func receive(shard: String, _ reads: [Read], resentCopies: Int) -> [UInt64] {
        state.withLock { state -> [UInt64] in
            guard !state.finished else { return [] }
            state.result.received += reads.count + resentCopies
            state.result.resentCopies += resentCopies
            for read in reads { state.queues[read.position.shard, default: []].append(read) }
            return drain(&state, shard: shard, now: nil)
        }
    }

    /// Judges the reads of `shard` that waited past the grace period at `now`, without turning
    /// the second over (a replay's reads are judged as they come).
    func settle(shard: String, now: ContinuousClock.Instant) -> [UInt64] {
        state.withLock { state in drain(&state, shard: shard, now: now) }
    }

    /// Judges reads that waited past the grace period; called about once a second.
    package func tick(now: ContinuousClock.Instant? = nil) {
        let now = now ?? clock.now
        let matched = state.withLock { state in
            state.recent.append([:])
            while state.recent.count > Self.fingerprintSeconds { state.recent.removeFirst() }
            return state.queues.keys.map { ($0, drain(&state, shard: $0, now: now)) }
        }
        for (shard, latencies) in matched where !latencies.isEmpty { recorder.consumed(shard: shard, userRecords: 0, latencies: latencies) }
    }

    /// Acknowledged events not read yet, and reads not matched yet.
    package var outstanding: (acknowledged: Int, reads: Int) {
        state.withLock { state in (state.pendingCount, state.queues.values.reduce(0) { $0 + $1.count }) }
    }

    /// The verdict: every read still waiting is judged now, and what was acknowledged and never
    /// read is lost when the read-back caught up, not verified when it did not. Call once
    /// publishing and reading are over; what comes after is not counted.
    ///
    /// `isLost`, when given, decides each unread event instead (a merge: whether its shard's
    /// reader caught up after its acknowledgement); `caughtUp` is then the result's flag only.
    package func finish(caughtUp: Bool) -> Result { finish(caughtUp: caughtUp, isLost: nil) }

    func finish(caughtUp: Bool, isLost: ((Position, Acknowledged) -> Bool)?) -> Result {
        let distantFuture = clock.now.advanced(by: .seconds(86_400 * 365))
        let (result, matched) = state.withLock { state -> (Result, [(String, [UInt64])]) in
            let matched = state.queues.keys.map { ($0, drain(&state, shard: $0, now: distantFuture)) }
            state.finished = true
            let unread = state.pending.flatMap { position, entries in entries.map { (position, $0) } }.sorted { $0.1.index < $1.1.index }
            for (position, entry) in unread {
                let lost = isLost?(position, entry) ?? caughtUp
                if lost { state.result.lost += 1 } else { state.result.notVerified += 1 }
                note(&state, kind: lost ? "lost" : "notVerified", type: entry.type, key: entry.key, position: position, other: nil)
            }
            state.result.caughtUp = caughtUp
            var result = state.result
            result.examples = Self.exampleKinds.flatMap { state.examples[$0] ?? [] }
            return (result, matched)
        }
        for (shard, latencies) in matched where !latencies.isEmpty { recorder.consumed(shard: shard, userRecords: 0, latencies: latencies) }
        return result
    }

    private static func micros(from intended: ContinuousClock.Instant, to at: ContinuousClock.Instant) -> UInt64 {
        UInt64(max(0, intended.duration(to: at).wholeNanoseconds / 1000))
    }

    private func note(_ state: inout State, kind: String, type: Int32?, key: String, position: Position, other: (type: Int32?, key: String)?) {
        guard state.examples[kind, default: []].count < Self.examplesPerKind else { return }
        state.examples[kind, default: []].append(
            Example(
                kind: kind, eventType: type.map { typeNames[Int($0)] }, partitionKey: key, shardId: position.shard,
                sequenceNumber: position.sequence, subSequenceNumber: position.sub, otherEventType: other?.type.map { typeNames[Int($0)] },
                otherPartitionKey: other?.key))
    }

    /// Takes a judged read back out of its count (and its examples).
    private func forget(_ state: inout State, judged position: Position) {
        guard let judged = state.judged.removeValue(forKey: position) else { return }
        switch judged.kind {
        case .duplicated: state.result.duplicated -= 1
        case .unexpected: state.result.unexpected -= 1
        case .reusedPosition: state.result.reusedPositions -= 1
        }
        state.examples[judged.kind.rawValue]?.removeAll { $0.shardId == position.shard && $0.sequenceNumber == position.sequence && $0.subSequenceNumber == position.sub }
    }

    private func remember(_ state: inout State, _ kind: Kind, _ read: Read) {
        state.judged[read.position] = Judged(kind: kind, fingerprint: read.fingerprint, at: read.at)
        state.judgedOrder.append(read.position)
        while state.judgedOrder.count > Self.judgedLimit { state.judged.removeValue(forKey: state.judgedOrder.removeFirst()) }
    }

    private func rememberMatch(_ state: inout State, _ entry: Acknowledged, at position: Position) {
        state.matched[position] = (entry.type, entry.key)
        state.matchedOrder.append(position)
        while state.matchedOrder.count > Self.judgedLimit { state.matched.removeValue(forKey: state.matchedOrder.removeFirst()) }
    }

    private func removePending(_ state: inout State, at position: Position, index: Int) -> Acknowledged {
        let entry = state.pending[position]!.remove(at: index)
        if state.pending[position]!.isEmpty { state.pending.removeValue(forKey: position) }
        state.pendingCount -= 1
        if let known = state.pendingFingerprints[entry.fingerprint], known.count > 1 {
            state.pendingFingerprints[entry.fingerprint]!.count -= 1
        } else {
            state.pendingFingerprints.removeValue(forKey: entry.fingerprint)
        }
        return entry
    }

    /// Matches the reads at the head of `shard`'s queue; a read with no acknowledgement is
    /// judged once it is older than the grace period at `now` (never when `now` is nil), at
    /// once when it is a position read again or one from before the run.
    /// Returns the end-to-end latencies of the matches, in microseconds.
    private func drain(_ state: inout State, shard: String, now: ContinuousClock.Instant?) -> [UInt64] {
        var latencies: [UInt64] = []
        while let head = state.queues[shard]?.first {
            let reread = state.furthest[shard].map { head.position <= $0 } ?? false
            if let entries = state.pending[head.position] {
                if let match = entries.firstIndex(where: { $0.fingerprint == head.fingerprint }) {
                    let entry = removePending(&state, at: head.position, index: match)
                    state.result.read += 1
                    state.recent[state.recent.count - 1][entry.fingerprint] = entry.type
                    latencies.append(Self.micros(from: entry.intended, to: head.at))
                    checkOrder(&state, entry, at: head.position)
                    rememberMatch(&state, entry, at: head.position)
                } else {
                    // Acknowledged for another key or payload: that event stays unread.
                    state.result.reusedPositions += 1
                    note(&state, kind: "reusedPosition", type: entries[0].type, key: entries[0].key, position: head.position, other: (nil, head.key))
                    // Remembered: when the event read here is acknowledged at this position later
                    // (the service handed the position out twice), the read is moved to read.
                    remember(&state, .reusedPosition, head)
                }
            } else if reread {
                state.result.reread += 1
                note(&state, kind: "reread", type: nil, key: head.key, position: head.position, other: nil)
            } else if head.beforeRun {
                state.result.unexpected += 1
                note(&state, kind: "unexpected", type: nil, key: head.key, position: head.position, other: nil)
                remember(&state, .unexpected, head)
            } else if let now, head.at.advanced(by: grace) <= now {
                let original = state.pendingFingerprints[head.fingerprint]?.type ?? state.recent.lazy.compactMap { $0[head.fingerprint] }.first
                if let original {
                    state.result.duplicated += 1
                    note(&state, kind: "duplicated", type: original, key: head.key, position: head.position, other: nil)
                    remember(&state, .duplicated, head)
                } else {
                    state.result.unexpected += 1
                    note(&state, kind: "unexpected", type: nil, key: head.key, position: head.position, other: nil)
                    remember(&state, .unexpected, head)
                }
            } else {
                break
            }
            if !reread { state.furthest[shard] = head.position }
            state.queues[shard]!.removeFirst()
        }
        return latencies
    }

    private func checkOrder(_ state: inout State, _ entry: Acknowledged, at position: Position) {
        let key = OrderKey(lane: entry.lane, key: entry.key)
        if let index = state.lastIndexByKey.index(forKey: key) {
            if entry.index < state.lastIndexByKey.values[index] {
                state.result.outOfOrder += 1
                note(&state, kind: "outOfOrder", type: entry.type, key: entry.key, position: position, other: nil)
            } else {
                state.lastIndexByKey.values[index] = entry.index
            }
        } else if state.lastIndexByKey.count < Self.trackedKeyLimit {
            state.lastIndexByKey[key] = entry.index
        }
    }
}

/// Where the verifier reports what a consumer received (user records) and the end-to-end
/// latencies (microseconds) of the reads it matched: the run's recorder, or a merge's replay.
package protocol ReadBackSink: Sendable {
    func consumed(shard: String, userRecords: Int, latencies: [UInt64])
}

extension Recorder: ReadBackSink {}
