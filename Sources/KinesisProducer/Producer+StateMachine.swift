import DequeModule
import Foundation
import Kinesis

/// Every decision of the ``Producer``, with no I/O, no lock and no clock: admission against the
/// in-flight budget, buffering and aggregation by shard, collection into PutRecords requests,
/// per-shard rate limits, settling of answers (retry, reject, misrouted aggregates), shard-map
/// installs, flush and shutdown.
///
/// Time comes in as seconds since the producer's origin (`now:` arguments), randomness from a
/// seeded generator, so tests drive it step by step. Each mutating function returns what the
/// caller must do once it has released its lock (complete tickets, wake waiting callers, send
/// requests), in the manner of async-http-client's `Transaction+StateMachine`.
struct ProducerStateMachine {
    /// The parts of ``Producer/Configuration`` the decisions read, with durations in seconds.
    struct Configuration {
        var aggregation: Bool
        var aggregationMaxSize: Int
        var limits: RecordLimits
        var maxInFlightRecords: Int
        var maxInFlightBytes: Int
        var recordTTL: Duration
        var recordTTLSeconds: Double
        var maxBufferedTime: Double
        var rateLimitPercent: Double?
        var maxConcurrentRequests: Int
        var retry: RetryPolicy
        var ordered: Bool
        /// Per-key order without aggregation: every record has one key, so held-back records wait
        /// in a queue per key.
        var queuesByKey: Bool { ordered && !aggregation }
        /// With per-key order, an aggregate whose shard still has one under way keeps growing up to
        /// this size (a record's limit, less room for its key), since it could not go out earlier
        /// anyway: one large aggregate per round trip instead of one of `aggregationMaxSize`.
        var orderedAggregateCeiling: Int

        init(_ configuration: Producer.Configuration) {
            aggregation = configuration.aggregation
            aggregationMaxSize = configuration.aggregationMaxSize
            limits = configuration.limits
            maxInFlightRecords = configuration.maxInFlightRecords
            maxInFlightBytes = configuration.maxInFlightBytes
            recordTTL = configuration.recordTTL
            recordTTLSeconds = configuration.recordTTL.timeInterval
            maxBufferedTime = configuration.maxBufferedTime.timeInterval
            rateLimitPercent = configuration.rateLimitPercent
            maxConcurrentRequests = configuration.maxConcurrentRequests
            retry = configuration.retry
            ordered = configuration.ordering == .perKey
            orderedAggregateCeiling = max(configuration.aggregationMaxSize, configuration.limits.maximumRecordBytes - 1_024)
        }
    }

    /// A user record in the producer's care.
    struct UserEntry {
        var partitionKey: String
        var explicitHashKey: String?
        var data: Data
        var hashKey: UInt128
        /// Seconds since the producer's origin when `put` took it.
        var arrival: Double
        /// How its outcome reaches whoever put it.
        var completion: Completion
        /// Admission order, set when the record is taken: put order for one caller.
        var sequence: UInt64 = 0
        var bytes: Int { data.count + partitionKey.utf8.count }
    }

    /// A Kinesis record to send: one user record, or an aggregate of several for one shard.
    struct Outgoing {
        var partitionKey: String
        var explicitHashKey: String?
        var data: Data
        /// How the outcomes of the user records inside reach their callers, in order: all that is
        /// kept of them once the aggregate is sealed, so payloads are not copied around again.
        var completions: [Completion]
        /// Data plus partition key bytes of the user records, for the in-flight budget.
        var userBytes: Int
        /// When the oldest user record inside arrived.
        var oldest: Double
        /// The first user record's partition key, for messages.
        var firstKey: String
        var shardId: String?
        /// The smallest admission number inside: records sharing a key go out in this order.
        var sequence: UInt64
        /// The distinct partition keys inside (filled only when keeping per-key order).
        var keys: [String]
        var attempts = 0
        var notBefore = 0.0
        var lastError: KinesisError?
        /// The shard map it was routed by (``ProducerStateMachine/generation``).
        var generation = 0
        /// Whether its keys are counted in `inFlightKeys` (sent while order was kept key by key).
        var keysInFlight = false
        /// An aggregate not encoded yet: ``data`` is empty until ``encode()``.
        var pending: AggregatedRecordBuilder?
        var size: Int { (pending?.size ?? data.count) + partitionKey.utf8.count }

        /// Encodes a pending aggregate into ``data`` (the MD5 included): done by the sending task.
        mutating func encode() {
            guard let builder = pending, let built = builder.build() else { return }
            pending = nil
            data = built.data
        }
    }

    struct Buffer {
        var builder: AggregatedRecordBuilder
        var completions: [Completion] = []
        var userBytes = 0
        var firstArrival: Double
        var firstKey: String
        var sequence: UInt64
    }

    /// A caller of `put` waiting for room, with the record it brought: buffered by the machine
    /// itself when room is found, so nothing can slip in between admission and buffering.
    struct Waiting {
        var id: Int
        var users: [UserEntry]
        var bytes: Int
    }

    /// What the caller must do once the lock is released; metrics included, so the machine
    /// stays free of side effects.
    struct Actions {
        /// Kinesis records that landed, with the completions of the user records inside, in order:
        /// told outside the lock, where each user record's result (its place in the aggregate)
        /// is made, so settling an aggregate of thousands holds the lock for one append.
        var delivered: [(completions: [Completion], landed: PublishResult)] = []
        /// User records in ``delivered``.
        var deliveredRecords: Int { delivered.reduce(0) { $0 + $1.completions.count } }
        /// Outcomes of failed records put with a ticket or a callback (counted ones only count).
        var failed: [(Completion, ProducerError)] = []
        /// Waiting callers whose records were admitted and buffered.
        var admitted: [Int] = []
        /// Waiting callers turned away (the producer stopped), with the error to throw.
        var turnedAway: [(Int, ProducerError)] = []
        /// Every record accepted before a flush is settled: wake the flush waiters.
        var flushed = false
        /// Error codes to count, once each.
        var errors: [String] = []
        var retries = 0
        /// User records sent again because their aggregate landed on a shard that does not cover them all.
        var resentAfterReshard = 0
        var expired = 0
        var kinesisRecordsPut = 0
        var userRecordsPut = 0
        var bytesPut = 0
        /// Data and partition key bytes of the user records put.
        var userBytesPut = 0

        mutating func merge(_ other: Actions) {
            delivered += other.delivered
            failed += other.failed
            admitted += other.admitted
            turnedAway += other.turnedAway
            flushed = flushed || other.flushed
            errors += other.errors
            retries += other.retries
            resentAfterReshard += other.resentAfterReshard
            expired += other.expired
            kinesisRecordsPut += other.kinesisRecordsPut
            userRecordsPut += other.userRecordsPut
            bytesPut += other.bytesPut
            userBytesPut += other.userBytesPut
        }
    }

    let configuration: Configuration
    private(set) var shardMap: ShardMap?
    /// A record landed on another shard than predicted: refresh the map before sending more.
    private(set) var mapIsStale = true
    /// Aggregates that landed on another shard than predicted: settled once the map is
    /// refreshed, re-sending the records whose hash keys the landing shard does not cover.
    private var misrouted: [(record: Outgoing, landed: String, result: PublishResult)] = []
    /// One aggregate in the making per open shard, indexed like `shardMap.entries`.
    private var buffers: [Buffer?] = []
    /// Records ready to send, oldest first. A deque: `collect` takes from the front and puts
    /// back what stays without copying the rest (a long queue is the normal state of a
    /// producer that is rate limited or keeping per-key order).
    private(set) var ready = Deque<Outgoing>()
    private var retrying: [Outgoing] = []
    private(set) var inFlightRecords = 0
    private(set) var inFlightBytes = 0
    private(set) var inFlightRequests = 0
    private var waiting: [Waiting] = []
    private var flushRequested = false
    private(set) var shuttingDown = false
    private var buckets: [String: (records: TokenBucket, bytes: TokenBucket)] = [:]
    /// Admission counter, for per-key order.
    private var nextSequence: UInt64 = 0
    /// Keys carried by requests under way, with how many carry each (per-key order only).
    private var inFlightKeys: [String: Int] = [:]
    /// Without aggregation and with per-key order, the records of a key held back behind an
    /// earlier one, oldest first: a long queue is then not scanned again on every call.
    private var blocked: [String: Deque<Outgoing>] = [:]
    /// Shards with an aggregate under way, with how many (per-key order only).
    private var inFlightShards: [String: Int] = [:]
    /// Counts shard map installs: a record routed under an earlier map may sit on another shard
    /// than newer records of its key.
    private var generation = 0
    /// An explicit hash key can send one partition key to two shards.
    private var explicitHashKeysSeen = false
    /// Records under way by the map they were routed by (-1: none), with how many.
    private var inFlightGenerations: [Int: Int] = [:]

    /// Whether per-key order can be kept shard by shard, which costs nothing per key: with
    /// aggregation, every record of a key is routed by the current map to one shard, and a
    /// shard's aggregates go out one at a time, oldest first, so its keys' records cannot
    /// overtake each other. That holds while everything held was routed by the current map and
    /// no explicit hash key was put; otherwise order is kept key by key.
    private var ordersByShard: Bool {
        guard configuration.ordered, configuration.aggregation, shardMap != nil, !explicitHashKeysSeen else { return false }
        return inFlightGenerations.keys.allSatisfy { $0 == generation } && misrouted.isEmpty && !ready.contains(where: isStale)
            && !retrying.contains(where: isStale)
    }

    private func isStale(_ record: Outgoing) -> Bool { record.generation != generation || record.shardId == nil }

    /// The generation a record under way is counted under: -1 for one routed without a shard.
    private static func routing(_ record: Outgoing) -> Int { record.shardId == nil ? -1 : record.generation }

    /// Whether a shard still waits for an aggregate of its own: its next one cannot go out yet.
    private func shardIsBusy(_ shard: Int) -> Bool {
        guard configuration.ordered, let id = shardMap?.entries[shard].shardId else { return false }
        return inFlightShards[id] != nil || retrying.contains { $0.shardId == id }
    }
    private(set) var statistics = Producer.Statistics()
    private var random: SplitMix64

    init(configuration: Configuration, seed: UInt64) {
        self.configuration = configuration
        self.random = SplitMix64(seed: seed)
    }

    /// Whether the shard map should be reloaded now: it is stale and no request is under way
    /// whose answer could still use the old one.
    var needsMapRefresh: Bool { mapIsStale && inFlightRequests == 0 }

    /// Waiting callers, in order.
    var waitingCount: Int { waiting.count }

    /// Records ready to send, whether in the ready queue or held behind an earlier record of their key.
    var readyCount: Int { ready.count + blocked.values.reduce(0) { $0 + $1.count } }

    // MARK: - Admission

    private static let shutDownError = ProducerError(code: .shutDown, message: "the producer is shutting down")

    private func fits(_ bytes: Int) -> Bool {
        inFlightRecords == 0
            || (inFlightRecords + 1 <= configuration.maxInFlightRecords && inFlightBytes + bytes <= configuration.maxInFlightBytes)
    }

    /// Takes `users[start...]` while they fit in the budget and nobody waits before them.
    /// Returns how many were taken (and buffered); 0 means the caller must wait.
    mutating func admit(_ users: [UserEntry], from start: Int = 0) throws(ProducerError) -> Int {
        if shuttingDown { throw Self.shutDownError }
        guard waiting.isEmpty else { return 0 }
        var count = 0
        while start + count < users.count, fits(users[start + count].bytes) {
            take(users[start + count])
            count += 1
        }
        return count
    }

    /// Takes one record if it fits; false means the caller must wait (``enqueue(_:id:)``).
    mutating func admit(_ user: UserEntry) throws(ProducerError) -> Bool {
        if shuttingDown { throw Self.shutDownError }
        guard waiting.isEmpty, fits(user.bytes) else { return false }
        take(user)
        return true
    }

    private mutating func take(_ user: UserEntry) {
        inFlightRecords += 1
        inFlightBytes += user.bytes
        var user = user
        if user.explicitHashKey != nil { explicitHashKeysSeen = true }
        user.sequence = nextSequence
        nextSequence += 1
        buffer(user)
    }

    /// Queues a caller whose record did not fit. Returns true when it fits after all (taken and
    /// buffered now); false when it waits for ``Actions/admitted`` or ``Actions/turnedAway``.
    mutating func enqueue(_ user: UserEntry, id: Int) throws(ProducerError) -> Bool {
        if try admit(user) { return true }
        waiting.append(Waiting(id: id, users: [user], bytes: user.bytes))
        return false
    }

    /// Removes a waiting caller that was cancelled. Returns whether it was still waiting (its
    /// record was never taken) and the callers behind it that fit now.
    mutating func cancelWaiting(id: Int) -> (wasWaiting: Bool, actions: Actions) {
        guard let index = waiting.firstIndex(where: { $0.id == id }) else { return (false, Actions()) }
        waiting.remove(at: index)
        var actions = Actions()
        admitWaiting(into: &actions)
        return (true, actions)
    }

    /// Gives back budget (none is fine: a flush with nothing left held still completes) and
    /// admits waiting callers in order.
    private mutating func release(records: Int, bytes: Int, into actions: inout Actions) {
        inFlightRecords -= records
        inFlightBytes -= bytes
        admitWaiting(into: &actions)
        if inFlightRecords == 0 {
            if flushRequested { actions.flushed = true }
            flushRequested = false
        }
    }

    private mutating func admitWaiting(into actions: inout Actions) {
        while let first = waiting.first, fits(first.bytes) {
            waiting.removeFirst()
            for user in first.users { take(user) }
            actions.admitted.append(first.id)
        }
    }

    // MARK: - Buffering

    private mutating func buffer(_ user: UserEntry) {
        guard configuration.aggregation, let shard = shardMap?.index(forHashKey: user.hashKey) else {
            ready.append(
                Outgoing(
                    partitionKey: user.partitionKey, explicitHashKey: user.explicitHashKey, data: user.data, completions: [user.completion],
                    userBytes: user.bytes, oldest: user.arrival, firstKey: user.partitionKey,
                    shardId: shardMap?.shardId(forHashKey: user.hashKey), sequence: user.sequence,
                    keys: configuration.ordered ? [user.partitionKey] : [], generation: generation))
            return
        }
        let maximumSize = configuration.ordered ? configuration.orderedAggregateCeiling : configuration.aggregationMaxSize
        func fresh() -> Buffer {
            Buffer(
                builder: AggregatedRecordBuilder(maximumSize: maximumSize), firstArrival: user.arrival, firstKey: user.partitionKey,
                sequence: user.sequence)
        }
        // Taken out and put back, so that it is changed in place: reading it through the
        // optional would copy it (and retain everything in it) for every record.
        var current = buffers[shard].take() ?? fresh()
        func append(to buffer: inout Buffer) -> Bool {
            buffer.builder.append(partitionKey: user.partitionKey, explicitHashKey: user.explicitHashKey, data: user.data, hashKey: user.hashKey)
        }
        if !append(to: &current) {
            buffers[shard] = current
            seal(shard)
            current = fresh()
            _ = append(to: &current)
        }
        current.completions.append(user.completion)
        current.userBytes += user.bytes
        current.sequence = min(current.sequence, user.sequence)
        let large = current.builder.size >= configuration.aggregationMaxSize
        buffers[shard] = consume current
        // Past the usual size, an aggregate goes out unless its shard is still busy with the last one.
        if configuration.ordered, large, !shardIsBusy(shard) {
            seal(shard)
        }
    }

    /// Turns a shard's aggregate into a record ready to send; `first` puts it ahead of what is
    /// ready (records sent again, which are older than anything ready that shares their keys).
    private mutating func seal(_ shard: Int, first: Bool = false) {
        guard shard < buffers.count, let buffer = buffers[shard].take() else { return }
        guard !buffer.builder.isEmpty else { return }
        var outgoing = Outgoing(
            partitionKey: "a", explicitHashKey: buffer.builder.aggregateHashKey, data: Data(), completions: buffer.completions,
            userBytes: buffer.userBytes, oldest: buffer.firstArrival, firstKey: buffer.firstKey,
            shardId: shardMap?.entries[shard].shardId, sequence: buffer.sequence,
            keys: configuration.ordered ? buffer.builder.distinctPartitionKeys : [], generation: generation)
        if buffer.builder.count == 1, let built = buffer.builder.build() {
            // One record goes plain, with its own keys: nothing to encode or digest.
            (outgoing.partitionKey, outgoing.explicitHashKey, outgoing.data) = built
        } else {
            // Encoded and digested by the task that sends it, off the caller's path and the lock.
            outgoing.pending = buffer.builder
        }
        if first { ready.prepend(outgoing) } else { ready.append(outgoing) }
    }

    // MARK: - Shard map

    /// Seals every aggregate, installs a new shard map, and settles misrouted aggregates.
    mutating func install(_ map: ShardMap) -> Actions {
        for shard in buffers.indices { seal(shard) }
        shardMap = map
        generation += 1
        buffers = Array(repeating: nil, count: map.count)
        mapIsStale = false
        return resolveMisrouted(with: map)
    }

    /// The shard map could not be loaded: send without aggregation until it can, and take the
    /// misrouted aggregates as delivered (nothing tells where their records belong).
    mutating func mapUnavailable() -> Actions {
        mapIsStale = false
        return resolveMisrouted(with: nil)
    }

    /// A misrouted aggregate is settled whole, because a KCL reader keeps or drops it whole
    /// (`AggregatorUtil.deaggregate` drops every record of an aggregate at its first sub-record
    /// outside the shard's hash range): delivered if the shard it landed on covers every one of
    /// its records under `map`, otherwise every record is buffered again, re-aggregated by the new
    /// map (keeping its completion, its budget and its arrival time, so the TTL still counts from the
    /// first put), as the KPL does. Readers that do not check ranges then see the records of a
    /// mixed aggregate twice. Without a map, all are taken as delivered.
    private mutating func resolveMisrouted(with map: ShardMap?) -> Actions {
        var actions = Actions()
        let items = misrouted
        misrouted = []
        var releasedRecords = 0
        var releasedBytes = 0
        for item in items {
            let users = AggregatedRecord.deaggregate(item.record.data) ?? []
            let hashKeys = users.map { ShardMap.hashKey(forPartitionKey: $0.partitionKey, explicitHashKey: $0.explicitHashKey) }
            guard let map, users.count == item.record.completions.count,
                !hashKeys.allSatisfy({ map.shardId(forHashKey: $0) == item.landed })
            else {
                actions.delivered.append((item.record.completions, item.result))
                statistics.delivered += item.record.completions.count
                releasedRecords += item.record.completions.count
                releasedBytes += item.record.userBytes
                continue
            }
            statistics.retried += users.count
            statistics.resentAfterReshard += users.count
            actions.resentAfterReshard += users.count
            for ((user, hashKey), completion) in zip(zip(users, hashKeys), item.record.completions) {
                buffer(
                    UserEntry(
                        partitionKey: user.partitionKey, explicitHashKey: user.explicitHashKey, data: user.data, hashKey: hashKey,
                        arrival: item.record.oldest, completion: completion, sequence: item.record.sequence))
            }
            // Sealed at once and put first: newer records of these keys may be ready already
            // (sealed when the map was installed) and must not overtake them.
            for shard in buffers.indices.reversed() { seal(shard, first: true) }
        }
        release(records: releasedRecords, bytes: releasedBytes, into: &actions)
        return actions
    }

    // MARK: - Collecting requests

    /// What is due now: PutRecords requests to send, and the records that expired.
    struct Collected {
        var requests: [[Outgoing]] = []
        var actions = Actions()
        /// Shut down and nothing is held or under way: the run loop may end.
        var finished = false
    }

    /// Takes what is due: sealed aggregates, expired buffers, retries whose wait is over;
    /// fails records past their TTL; and cuts PutRecords requests within the limits, the
    /// per-shard rate limits and the cap on concurrent requests.
    mutating func collect(now: Double) -> Collected {
        var collected = Collected()
        let ttl = configuration.recordTTLSeconds
        let buffered = configuration.maxBufferedTime
        let sealAll = flushRequested || shuttingDown
        for shard in buffers.indices {
            if let buffer = buffers[shard], sealAll || (now - buffer.firstArrival >= buffered && !shardIsBusy(shard)) { seal(shard) }
        }
        if !retrying.isEmpty {
            var stillWaiting: [Outgoing] = []
            var due: [Outgoing] = []
            for record in retrying {
                if record.notBefore <= now { due.append(record) } else { stillWaiting.append(record) }
            }
            retrying = stillWaiting
            // A record sent again is older than anything ready that shares a key with it (those
            // waited while it was out): it goes first.
            if configuration.queuesByKey {
                for record in due { blocked[record.firstKey, default: []].prepend(record) }
            } else {
                if configuration.ordered { due.sort { $0.sequence < $1.sequence } }
                ready.prepend(contentsOf: due)
            }
        }
        // Expire records past their TTL, whole Kinesis records at a time.
        var expired: [Outgoing] = []
        if ready.contains(where: { now - $0.oldest > ttl }) {
            var kept = Deque<Outgoing>()
            for record in ready {
                if now - record.oldest > ttl { expired.append(record) } else { kept.append(record) }
            }
            ready = kept
        }
        // A key's queue is oldest first: only its front can have expired first.
        for key in Array(blocked.keys) {
            while let head = blocked[key]?.first, now - head.oldest > ttl {
                expired.append(head)
                blocked[key]!.removeFirst()
            }
            if blocked[key]?.isEmpty == true { blocked[key] = nil }
        }
        var requests: [[Outgoing]] = []
        var leftover: [Outgoing] = []
        var current: [Outgoing] = []
        var bytes = 0
        // Per-key order: a key is busy while a request carrying it is under way, while a record
        // of it waits to be sent again, or once an earlier record of it stays behind this round.
        var busy = Set<String>()
        // Or shard by shard, when that is exact (``ordersByShard``): a shard is busy while an
        // aggregate of it is under way or waits to be sent again, or once one stays behind.
        let byShard = ordersByShard
        var busyShards = Set<String>()
        if byShard {
            busyShards.formUnion(inFlightShards.keys)
            for record in retrying { if let shard = record.shardId { busyShards.insert(shard) } }
        } else if configuration.ordered {
            busy.formUnion(inFlightKeys.keys)
            for record in retrying { busy.formUnion(record.keys) }
            for item in misrouted { busy.formUnion(item.record.keys) }
        }
        var noRoom: Bool { inFlightRequests + requests.count >= configuration.maxConcurrentRequests }
        /// Marks what `record` carries as busy for the rest of this round: its shard, or its keys.
        func markBusy(_ record: Outgoing) {
            if byShard {
                busyShards.insert(record.shardId!)
            } else if configuration.ordered {
                busy.formUnion(record.keys)
            }
        }
        /// Takes `record` into the request being cut, if the rate limit allows; false if not.
        func take(_ record: Outgoing) -> Bool {
            if let percent = configuration.rateLimitPercent, let shard = record.shardId {
                var bucket = buckets[shard] ?? Self.bucket(percent: percent, now: now)
                let allowed = TokenBucket.take(&bucket.records, 1, &bucket.bytes, Double(record.size), now: now)
                buckets[shard] = bucket
                if !allowed { return false }
            }
            if !current.isEmpty,
                current.count == configuration.limits.maximumRequestRecords || bytes + record.size > configuration.limits.maximumRequestBytes
            {
                requests.append(current)
                current = []
                bytes = 0
            }
            current.append(record)
            bytes += record.size
            markBusy(record)
            return true
        }
        // First the oldest held-back record of each key that is free again; one that cannot go
        // now goes back to the front of its queue.
        if !blocked.isEmpty {
            var heads: [Outgoing] = []
            for key in Array(blocked.keys) where !busy.contains(key) {
                heads.append(blocked[key]!.removeFirst())
                if blocked[key]!.isEmpty { blocked[key] = nil }
            }
            heads.sort { $0.sequence < $1.sequence }
            for head in heads where noRoom || !take(head) {
                blocked[head.firstKey, default: []].prepend(head)
            }
            busy.formUnion(blocked.keys)
        }
        func holdBack(_ record: Outgoing) {
            if configuration.queuesByKey {
                // Newer than anything already held for its key: to the back of its queue.
                blocked[record.firstKey, default: []].append(record)
                busy.insert(record.firstKey)
            } else {
                leftover.append(record)
                markBusy(record)
            }
        }
        // Past this many records held back, the rest of the queue waits unexamined: with per-key
        // order a long queue of aggregates would otherwise be scanned on every call.
        let scanLimit = configuration.limits.maximumRequestRecords * configuration.maxConcurrentRequests
        var scanned = 0
        // Records are taken from the front; what stays goes back in front, in order, and the
        // rest of the queue is never touched.
        while !ready.isEmpty, !noRoom, scanned < scanLimit {
            let record = ready.removeFirst()
            if configuration.ordered, byShard ? busyShards.contains(record.shardId!) : record.keys.contains(where: busy.contains) {
                holdBack(record)
                if !configuration.queuesByKey { scanned += 1 }
                continue
            }
            if !take(record) { holdBack(record) }
        }
        // A partial request waits for more records until its oldest has waited maxBufferedTime
        // (or a flush or shutdown asks for everything now).
        if !current.isEmpty {
            let due = sealAll || current.contains { now - $0.oldest >= buffered || $0.attempts > 0 }
            if due, !noRoom {
                requests.append(current)
            } else {
                // Back in front: they are older than anything held back behind their keys.
                if configuration.queuesByKey {
                    for record in current { blocked[record.firstKey, default: []].prepend(record) }
                } else {
                    leftover = current + leftover
                }
                if configuration.rateLimitPercent != nil {
                    // Give back the tokens taken for records that stay.
                    for record in current {
                        guard let shard = record.shardId, var bucket = buckets[shard] else { continue }
                        bucket.records.spend(-1)
                        bucket.bytes.spend(-Double(record.size))
                        buckets[shard] = bucket
                    }
                }
            }
        }
        ready.prepend(contentsOf: leftover)
        inFlightRequests += requests.count
        if configuration.ordered {
            for r in requests.indices {
                for i in requests[r].indices {
                    if !byShard {
                        for key in requests[r][i].keys { inFlightKeys.add(key) }
                        requests[r][i].keysInFlight = true
                    }
                    inFlightGenerations.add(Self.routing(requests[r][i]))
                    if let shard = requests[r][i].shardId { inFlightShards.add(shard) }
                }
            }
        }
        statistics.requests += requests.count
        collected.requests = requests
        var releasedRecords = 0
        var releasedBytes = 0
        for record in expired {
            let count = record.completions.count
            let error = ProducerError(
                code: .expired,
                message: "not delivered within the record TTL of \(configuration.recordTTL) (partition key '\(record.firstKey.prefix(40))'"
                    + (count > 1 ? " and \(count - 1) more records aggregated with it)" : ")"),
                attempts: record.attempts, underlying: record.lastError)
            for completion in record.completions where completion.isTracked { collected.actions.failed.append((completion, error)) }
            collected.actions.expired += count
            collected.actions.errors.append(ProducerError.Code.expired.rawValue)
            releasedRecords += count
            releasedBytes += record.userBytes
        }
        statistics.failed += releasedRecords
        release(records: releasedRecords, bytes: releasedBytes, into: &collected.actions)
        collected.finished = shuttingDown && inFlightRecords == 0 && inFlightRequests == 0
        return collected
    }

    private static func bucket(percent: Double, now: Double) -> (records: TokenBucket, bytes: TokenBucket) {
        (
            TokenBucket(rate: Double(ServiceLimits.shardWriteRecordsPerSecond) * percent / 100, now: now),
            TokenBucket(rate: Double(ServiceLimits.shardWriteBytesPerSecond) * percent / 100, now: now)
        )
    }

    // MARK: - Settling answers

    /// Settles the answer to one request: delivers what landed, schedules the retryable
    /// failures with ``RetryPolicy`` backoff, rejects the rest. `outcomes` are in request order.
    mutating func settle(_ outcomes: [(Outgoing, Result<PutRecordsResultEntry, KinesisError>)], now: Double) -> Actions {
        var actions = Actions()
        inFlightRequests -= 1
        var releasedRecords = 0
        var releasedBytes = 0
        for (sent, result) in outcomes {
            var record = sent
            record.attempts += 1
            if configuration.ordered {
                if record.keysInFlight {
                    for key in record.keys { inFlightKeys.remove(key) }
                    record.keysInFlight = false
                }
                inFlightGenerations.remove(Self.routing(record))
                if let shard = record.shardId { inFlightShards.remove(shard) }
            }
            switch result {
            case .success(let entry):
                let shardId = entry.shardId ?? ""
                let landed = PublishResult(shardId: shardId, sequenceNumber: entry.sequenceNumber ?? "")
                statistics.kinesisRecords += 1
                if let predicted = record.shardId, predicted != shardId {
                    // The stream was resharded: predictions are wrong until the map is refreshed.
                    mapIsStale = true
                    actions.errors.append("WrongShard")
                    if record.completions.count > 1 {
                        // A KCL reader drops the records of an aggregate whose hash keys fall
                        // outside the shard it is read from: sort them out after the refresh.
                        record.encode()  // a no-op when its sender encoded it
                        misrouted.append((record, shardId, landed))
                        continue
                    }
                }
                actions.delivered.append((record.completions, landed))
                releasedRecords += record.completions.count
                releasedBytes += record.userBytes
                statistics.delivered += record.completions.count
                actions.kinesisRecordsPut += 1
                actions.userRecordsPut += record.completions.count
                actions.bytesPut += record.size
                actions.userBytesPut += record.userBytes
            case .failure(let error):
                actions.errors.append(error.code.rawValue)
                record.lastError = error
                let decision = configuration.retry.decide(
                    after: error, attempt: record.attempts, elapsed: .seconds(max(0, now - record.oldest)), using: &random)
                switch decision {
                case .retry(let wait):
                    actions.retries += 1
                    statistics.retried += 1
                    record.notBefore = now + wait.timeInterval
                    retrying.append(record)
                case .fail:
                    statistics.failed += record.completions.count
                    let rejected = ProducerError(failedWith: error, attempts: record.attempts)
                    for completion in record.completions where completion.isTracked { actions.failed.append((completion, rejected)) }
                    releasedRecords += record.completions.count
                    releasedBytes += record.userBytes
                }
            }
        }
        release(records: releasedRecords, bytes: releasedBytes, into: &actions)
        return actions
    }

    // MARK: - Flush and shutdown

    /// Asks for everything held to be sent now. Returns true when nothing is held (the flush
    /// is done); otherwise ``Actions/flushed`` says when it is.
    mutating func requestFlush() -> Bool {
        if inFlightRecords == 0 { return true }
        flushRequested = true
        return false
    }

    /// Stops accepting records; what is held is still delivered.
    mutating func shutDown() {
        shuttingDown = true
    }

    /// Fails every record still held, and turns waiting callers away: for a producer that was
    /// cancelled and will send nothing more.
    mutating func abandon() -> Actions {
        var actions = Actions()
        shuttingDown = true
        for shard in buffers.indices { seal(shard) }
        let held = Array(ready) + retrying + misrouted.map(\.record) + blocked.values.flatMap { Array($0) }
        blocked = [:]
        ready = []
        retrying = []
        misrouted = []
        let error = ProducerError(code: .shutDown, message: "the producer was cancelled before the record was delivered")
        var records = 0
        var bytes = 0
        for record in held {
            for completion in record.completions where completion.isTracked { actions.failed.append((completion, error)) }
            records += record.completions.count
            bytes += record.userBytes
        }
        statistics.failed += records
        // Callers waiting for room are turned away, not admitted into a producer that has stopped.
        let turnedAway = ProducerError(code: .shutDown, message: "the producer was cancelled")
        for caller in waiting { actions.turnedAway.append((caller.id, turnedAway)) }
        waiting = []
        inFlightRecords -= records
        inFlightBytes -= bytes
        flushRequested = false
        actions.flushed = true
        return actions
    }
}

/// A multiset of names: how many requests under way carry each key or shard.
extension Dictionary where Value == Int {
    fileprivate mutating func add(_ key: Key) { self[key, default: 0] += 1 }

    /// One fewer; the name is gone at zero, so `self[key] != nil` means "some carry it".
    fileprivate mutating func remove(_ key: Key) {
        if let count = self[key], count > 1 { self[key] = count - 1 } else { self[key] = nil }
    }
}
