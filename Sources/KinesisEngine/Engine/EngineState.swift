import Foundation
import Kinesis

/// A record as the engine keeps it.
struct StoredRecord: Sendable {
    var counter: UInt64
    var arrival: Double
    var data: Data
    var partitionKey: String
    var sequenceNumber: String
    /// Written while the stream was encrypted: GetRecords says `KMS` for it.
    var encrypted = false
}

package struct ShardState: Sendable, Codable {
    var index: Int
    var id: String
    var parentShardId: String?
    var adjacentParentShardId: String?
    var range: ClosedRange<UInt128>
    var startingSequenceNumber: String
    var endingSequenceNumber: String?
    var createdAt: Double
    var closedAt: Double?
    /// Records from `head` on are live; earlier ones were trimmed by retention.
    var records: [StoredRecord] = []
    var head = 0
    /// What the live records take, as ``EngineConfiguration/retainedBytes(data:partitionKey:sequenceNumber:)`` counts it.
    var liveBytes = 0
    /// Records dropped so far to keep the shard within ``EngineConfiguration/maxRetainedBytesPerShard``.
    var trimmedForBudget = 0
    var writeRecords: TokenBucket? = nil
    var writeBytes: TokenBucket? = nil
    var readCalls: TokenBucket? = nil
    var readBytes: TokenBucket? = nil

    /// What a data directory keeps of a shard besides its records (``EngineJournal``).
    enum CodingKeys: String, CodingKey {
        case index, id, parentShardId, adjacentParentShardId, range, startingSequenceNumber, endingSequenceNumber, createdAt, closedAt
    }

    var isOpen: Bool { endingSequenceNumber == nil }
    var liveCount: Int { records.count - head }

    var wire: Shard {
        Shard(
            shardId: id,
            hashKeyRange: HashKeyRange(startingHashKey: String(range.lowerBound), endingHashKey: String(range.upperBound)),
            sequenceNumberRange: SequenceNumberRange(startingSequenceNumber: startingSequenceNumber, endingSequenceNumber: endingSequenceNumber),
            parentShardId: parentShardId, adjacentParentShardId: adjacentParentShardId)
    }

    /// The index in `records` of the first live record whose counter is at least `counter`.
    func firstIndex(atOrAfter counter: UInt64) -> Int {
        var low = head
        var high = records.count
        while low < high {
            let middle = (low + high) / 2
            if records[middle].counter < counter { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Drops records older than the retention period.
    mutating func trim(before cutoff: Double) {
        while head < records.count, records[head].arrival < cutoff { dropOldest() }
        compact()
    }

    /// Drops the oldest records until at most `limit` bytes are live.
    /// Returns how many were dropped.
    @discardableResult
    mutating func trim(toBytes limit: Int) -> Int {
        let before = head
        while head < records.count, liveBytes > limit { dropOldest() }
        compact()
        return head - before
    }

    private mutating func dropOldest() {
        let record = records[head]
        liveBytes -= EngineConfiguration.retainedBytes(
            data: record.data.count, partitionKey: record.partitionKey.utf8.count, sequenceNumber: record.sequenceNumber.utf8.count)
        // Free the payload now: the slot itself goes at the next compaction.
        records[head].data = Data()
        head += 1
    }

    /// Frees trimmed records once they are half the array: amortized O(1) per record.
    private mutating func compact() {
        if head > 64, head * 2 > records.count {
            records.removeFirst(head)
            head = 0
        }
    }

    /// `shardId-` and 12 digits; a negative index (read from a sequence number) is AWS's
    /// `shardId--` and 11.
    static func id(_ index: Int) -> String {
        guard index < 0 else { return ShardMap.shardId(index: index) }
        let digits = String(index.magnitude)
        return "shardId--" + String(repeating: "0", count: max(0, 11 - digits.count)) + digits
    }

    /// The index named by a shard id, as AWS reads it: the digits after the first `-` (or the
    /// whole id when there is none, or nothing after it), any number of leading zeros, at most a
    /// Java int. `shardId-7`, `a-00002147483647` and `-0` name shards; `shardId-002147483648`,
    /// `1e3` and `a-b-1` do not.
    package static func index(of shardId: String) -> Int? {
        let utf8 = shardId.utf8
        var digits = Substring(shardId)
        if let dash = utf8.firstIndex(of: 0x2D) {
            let after = shardId[shardId.index(after: dash)...]
            let field = after.prefix { $0 != "-" }
            if !field.isEmpty { digits = field }
        }
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        let significant = digits.drop { $0 == "0" }
        guard significant.utf8.count <= 10, let value = Int(significant.isEmpty ? "0" : significant), value <= Int(Int32.max) else { return nil }
        return value
    }
}

/// A change the engine applies when a stream's UPDATING or DELETING period ends.
enum PendingChange: Sendable, Codable {
    case split(shard: Int, at: UInt128)
    case merge(shard: Int, adjacent: Int)
    case uniform(target: Int)
    case mode(StreamMode)
    case encryption(type: EncryptionType, keyId: String?)
}

/// A registered (enhanced fan-out) consumer.
struct ConsumerState: Sendable, Codable {
    var name: String
    var arn: String
    var createdAt: Double
    var status: ConsumerStatus
    /// When CREATING becomes ACTIVE, or DELETING ends.
    var statusUntil: Double?
    var tags: [String: String] = [:]
    var policy: String?

    func wire() -> Consumer {
        Consumer(consumerName: name, consumerARN: arn, consumerStatus: status, consumerCreationTimestamp: Date(timeIntervalSince1970: createdAt))
    }

    func description(streamARN: String) -> ConsumerDescription {
        ConsumerDescription(
            consumerName: name, consumerARN: arn, consumerStatus: status,
            consumerCreationTimestamp: Date(timeIntervalSince1970: createdAt), streamARN: streamARN)
    }
}

struct StreamState: Sendable, Codable {
    var name: String
    var arn: String
    var createdAt: Double
    var creationSecond: Int
    var mode: StreamMode
    var retentionHours: Int
    var status: StreamStatus
    var statusUntil: Double?
    var pending: [PendingChange] = []
    var shards: [ShardState] = []
    var counter: UInt64 = 1
    var tags: [String: String] = [:]
    /// `NONE` or `KMS`, and the KMS key named by StartStreamEncryption.
    var encryptionType = EncryptionType.unencrypted
    var keyId: String?
    /// The shard-level metrics turned on by EnableEnhancedMonitoring, in AWS's order.
    var shardLevelMetrics: [MetricsName] = []
    /// The largest record accepted, set by CreateStream or UpdateMaxRecordSize.
    var maxRecordSizeInKiB = 1024
    /// Warm throughput of an on-demand stream, in MiB/s.
    var warmThroughputMiBps: Int?
    /// Registered consumers, oldest first.
    var consumers: [ConsumerState] = []
    /// The resource policy attached to the stream.
    var policy: String?
    /// Set when DeleteStream came while the stream was CREATING: AWS describes it without shards.
    var deletedWhileCreating: Bool?
    /// Open shards for routing, rebuilt on every reshard.
    var openMap = ShardMap(entries: [])
    var openIndices: [Int] = []

    /// What a data directory keeps of a stream besides its records (``EngineJournal``).
    enum CodingKeys: String, CodingKey {
        case name, arn, createdAt, creationSecond, mode, retentionHours, status, statusUntil, pending, shards, counter, tags
        case encryptionType, keyId, shardLevelMetrics, maxRecordSizeInKiB, warmThroughputMiBps, consumers, policy
        case deletedWhileCreating
    }

    var openShardCount: Int { openIndices.count }

    /// What PutRecord(s) say of the stream's encryption: nothing unless it is encrypted.
    var writeEncryption: EncryptionType? { encryptionType == .unencrypted ? nil : encryptionType }

    mutating func rebuildOpenMap() {
        let open = shards.filter(\.isOpen).sorted { $0.range.lowerBound < $1.range.lowerBound }
        openIndices = open.map(\.index)
        openMap = (try? ShardMap(shards: open.map(\.wire))) ?? openMap
    }

    /// The shard index holding a hash key, among open shards.
    func openShard(forHashKey hashKey: UInt128) -> Int? {
        openMap.index(forHashKey: hashKey).map { openIndices[$0] }
    }

    func sequenceNumber(shard: Int, counter: UInt64, at time: Double) -> String {
        SequenceNumber.format(
            streamCreation: creationSecond, shardIndex: shard, counter: counter, millis: Int64(time * 1000))
    }

    mutating func addShard(
        range: ClosedRange<UInt128>, parent: String?, adjacentParent: String?, now: Double, limits: ThroughputLimits?
    ) {
        let index = shards.count
        var shard = ShardState(
            index: index, id: ShardState.id(index), parentShardId: parent, adjacentParentShardId: adjacentParent, range: range,
            startingSequenceNumber: sequenceNumber(shard: index, counter: counter, at: now), createdAt: now)
        if let limits { shard.startLimits(limits, now: now) }
        shards.append(shard)
    }

    mutating func close(_ index: Int, now: Double) {
        shards[index].endingSequenceNumber = SequenceNumber.format(
            streamCreation: creationSecond, shardIndex: index, counter: SequenceNumber.maximumCounter,
            millis: Int64(now * 1000))
        shards[index].closedAt = now
    }
}
