import Foundation
import Kinesis

/// One shard's lease, in the KCL's lease table format: who reads the shard (`leaseOwner`), a
/// fencing counter every owner's write moves (`leaseCounter`), and where reading resumes
/// (`checkpoint`). A Swift worker reads and writes the items a Java KCL 2.x worker does, so the
/// two can share a stream and a Swift application can take over a KCL application's table.
public struct Lease: Sendable, Hashable {
    /// The shard id (`leaseKey`).
    public var leaseKey: String
    /// The worker holding it; nil when free.
    public var leaseOwner: String?
    /// Moved by every renew, take, release and checkpoint: a write conditional on it fails once
    /// anyone else has written the lease.
    public var leaseCounter: Int64
    /// A sequence number, or TRIM_HORIZON, LATEST, AT_TIMESTAMP or SHARD_END.
    public var checkpoint: ExtendedSequenceNumber
    public var pendingCheckpoint: ExtendedSequenceNumber?
    public var pendingCheckpointState: Data?
    public var ownerSwitchesSinceCheckpoint: Int64
    /// The parents (the KCL's `parentShardId`, a string set under a singular name).
    public var parentShardIds: [String]
    public var childShardIds: [String]
    public var startingHashKey: String?
    public var endingHashKey: String?

    public init(
        leaseKey: String, leaseOwner: String? = nil, leaseCounter: Int64 = 0, checkpoint: ExtendedSequenceNumber, pendingCheckpoint: ExtendedSequenceNumber? = nil,
        pendingCheckpointState: Data? = nil, ownerSwitchesSinceCheckpoint: Int64 = 0, parentShardIds: [String] = [], childShardIds: [String] = [],
        startingHashKey: String? = nil, endingHashKey: String? = nil
    ) {
        self.leaseKey = leaseKey
        self.leaseOwner = leaseOwner
        self.leaseCounter = leaseCounter
        self.checkpoint = checkpoint
        self.pendingCheckpoint = pendingCheckpoint
        self.pendingCheckpointState = pendingCheckpointState
        self.ownerSwitchesSinceCheckpoint = ownerSwitchesSinceCheckpoint
        self.parentShardIds = parentShardIds.sorted()
        self.childShardIds = childShardIds.sorted()
        self.startingHashKey = startingHashKey
        self.endingHashKey = endingHashKey
    }

    /// Read to its end: its children may be processed.
    public var isFinished: Bool { checkpoint == .shardEnd }

    // MARK: - The KCL's attributes

    /// The attribute names, as `DynamoDBLeaseSerializer` writes them.
    public enum Attribute {
        public static let leaseKey = "leaseKey"
        public static let leaseOwner = "leaseOwner"
        public static let leaseCounter = "leaseCounter"
        public static let checkpoint = "checkpoint"
        public static let checkpointSubSequenceNumber = "checkpointSubSequenceNumber"
        public static let pendingCheckpoint = "pendingCheckpoint"
        public static let pendingCheckpointSubSequenceNumber = "pendingCheckpointSubSequenceNumber"
        public static let pendingCheckpointState = "pendingCheckpointState"
        public static let ownerSwitchesSinceCheckpoint = "ownerSwitchesSinceCheckpoint"
        public static let parentShardId = "parentShardId"
        public static let childShardIds = "childShardIds"
        public static let startingHashKey = "startingHashKey"
        public static let endingHashKey = "endingHashKey"
        /// KCL 3.5 keeps other entities in the lease table; a missing value is a lease.
        public static let entityType = "entityType"
    }

    /// The item a new lease is written as.
    public var item: DynamoDBItem {
        var item: DynamoDBItem = [
            Attribute.leaseKey: .s(leaseKey), Attribute.leaseCounter: .number(leaseCounter),
            Attribute.ownerSwitchesSinceCheckpoint: .number(ownerSwitchesSinceCheckpoint),
        ]
        item.merge(Self.checkpointAttributes(checkpoint)) { _, new in new }
        if let leaseOwner { item[Attribute.leaseOwner] = .s(leaseOwner) }
        if let pendingCheckpoint {
            item[Attribute.pendingCheckpoint] = .s(Self.checkpointText(pendingCheckpoint))
            item[Attribute.pendingCheckpointSubSequenceNumber] = .number(pendingCheckpoint.subSequenceNumber)
        }
        if let pendingCheckpointState { item[Attribute.pendingCheckpointState] = .b(pendingCheckpointState) }
        if !parentShardIds.isEmpty { item[Attribute.parentShardId] = .ss(parentShardIds) }
        if !childShardIds.isEmpty { item[Attribute.childShardIds] = .ss(childShardIds) }
        if let startingHashKey { item[Attribute.startingHashKey] = .s(startingHashKey) }
        if let endingHashKey { item[Attribute.endingHashKey] = .s(endingHashKey) }
        return item
    }

    /// `checkpoint` and `checkpointSubSequenceNumber` of a position.
    static func checkpointAttributes(_ position: ExtendedSequenceNumber) -> DynamoDBItem {
        [Attribute.checkpoint: .s(checkpointText(position)), Attribute.checkpointSubSequenceNumber: .number(position.subSequenceNumber)]
    }

    /// A sequence number, or the sentinel's name (the KCL's `SentinelCheckpoint`).
    static func checkpointText(_ position: ExtendedSequenceNumber) -> String {
        position.kind == .sequence ? position.sequenceNumber : position.kind.rawValue
    }

    static func position(_ text: String, subSequenceNumber: Int) -> ExtendedSequenceNumber? {
        if let kind = ExtendedSequenceNumber.Kind(rawValue: text), kind != .sequence {
            switch kind {
            case .trimHorizon: return .trimHorizon
            case .latest: return .latest
            case .atTimestamp: return .atTimestamp
            case .shardEnd: return .shardEnd
            case .sequence: break
            }
        }
        guard !text.isEmpty, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return ExtendedSequenceNumber(text, subSequenceNumber: subSequenceNumber)
    }

    /// Whether an item of the table is a lease (not one of the entities KCL 3.5 keeps beside them).
    public static func isLease(_ item: DynamoDBItem) -> Bool {
        guard let type = item[Attribute.entityType] else { return true }
        return type.string == "LEASE"
    }

    /// A lease from its item; the error names the attribute and the lease that are wrong.
    public init(item: DynamoDBItem, table: String) throws {
        func fail(_ what: String) -> LeaseTableError {
            LeaseTableError(description: "lease table \(table): item \(item[Attribute.leaseKey]?.description ?? "without leaseKey"): \(what)")
        }
        func string(_ name: String) throws -> String? {
            guard let value = item[name] else { return nil }
            guard let text = value.string else { throw fail("\(name) is \(value.typeName), not S") }
            return text
        }
        func number(_ name: String) throws -> Int64? {
            guard let value = item[name] else { return nil }
            guard let number = value.int64 else { throw fail("\(name) is \(value), not an integer N") }
            return number
        }
        func set(_ name: String) throws -> [String] {
            guard let value = item[name] else { return [] }
            guard let members = value.stringSet else { throw fail("\(name) is \(value.typeName), not SS") }
            return members
        }
        guard let key = try string(Attribute.leaseKey) else { throw fail("no leaseKey") }
        let checkpointText = try string(Attribute.checkpoint) ?? ExtendedSequenceNumber.trimHorizon.kind.rawValue
        guard let checkpoint = Self.position(checkpointText, subSequenceNumber: Int(try number(Attribute.checkpointSubSequenceNumber) ?? 0)) else {
            throw fail("checkpoint '\(checkpointText)' is neither a sequence number nor TRIM_HORIZON, LATEST, AT_TIMESTAMP or SHARD_END")
        }
        var pending: ExtendedSequenceNumber?
        if let text = try string(Attribute.pendingCheckpoint) {
            pending = Self.position(text, subSequenceNumber: Int(try number(Attribute.pendingCheckpointSubSequenceNumber) ?? 0))
        }
        var state: Data?
        if case .b(let data) = item[Attribute.pendingCheckpointState] { state = data }
        self.init(
            leaseKey: key, leaseOwner: try string(Attribute.leaseOwner), leaseCounter: try number(Attribute.leaseCounter) ?? 0, checkpoint: checkpoint,
            pendingCheckpoint: pending, pendingCheckpointState: state, ownerSwitchesSinceCheckpoint: try number(Attribute.ownerSwitchesSinceCheckpoint) ?? 0,
            parentShardIds: try set(Attribute.parentShardId), childShardIds: try set(Attribute.childShardIds),
            startingHashKey: try string(Attribute.startingHashKey), endingHashKey: try string(Attribute.endingHashKey))
    }
}

/// A lease table that cannot be used as it is (missing, or an item that is not a lease of the
/// KCL's format), naming the table.
public struct LeaseTableError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}

/// This worker no longer holds the shard's lease (another took it, or it could not be renewed
/// within the failover time): its checkpoint was not written.
public struct LeaseLostError: Error, Sendable, CustomStringConvertible {
    public var shardId: String
    public var workerId: String
    public var description: String { "worker \(workerId) no longer holds the lease of \(shardId): the checkpoint was not written" }
}
