import Foundation
import Kinesis
import Synchronization

/// Where leases live, with the KCL's conditional writes: every write that moves a lease is
/// conditional on what the writer last saw, so two workers can never both hold one, and a
/// worker that lost a lease can never move its checkpoint. Each write returns the lease as
/// written (its counter moved), or nil when its condition did not hold.
public protocol LeaseTable: Sendable {
    /// The table's name, for messages.
    var name: String { get }
    /// Makes sure the table exists: creates it when missing and `create` says so, otherwise
    /// throws a ``LeaseTableError`` naming it.
    func prepare(create: Bool) async throws
    /// Every lease, read at once (one Scan); other entities of the table are skipped.
    func leases() async throws -> [Lease]
    /// One lease, read strongly consistent.
    func lease(_ key: String) async throws -> Lease?
    /// Writes `lease` unless one with its key exists; returns whether it was written.
    func create(_ lease: Lease) async throws -> Bool
    /// Moves the counter of a lease `owner` holds, if nobody wrote it since `lease`.
    func renew(_ lease: Lease, owner: String) async throws -> Lease?
    /// Makes `owner` the holder, if nobody wrote the lease since `lease` was read.
    func take(_ lease: Lease, owner: String) async throws -> Lease?
    /// Frees a lease `owner` holds, so another worker takes it at once.
    func release(_ lease: Lease, owner: String) async throws -> Lease?
    /// Moves the checkpoint of a lease `owner` holds, if nobody wrote it since `lease`.
    func checkpoint(_ lease: Lease, owner: String, at position: ExtendedSequenceNumber, childShardIds: [String]?) async throws -> Lease?
}

/// The rules every table applies, on a lease as last seen: one place, so the in-memory table
/// and DynamoDB's conditions say the same.
enum LeaseRules {
    static func held(_ current: Lease, as seen: Lease, by owner: String) -> Bool {
        current.leaseCounter == seen.leaseCounter && current.leaseOwner == owner
    }

    static func taken(_ current: Lease, by owner: String) -> Lease {
        var next = current
        if let previous = current.leaseOwner, previous != owner { next.ownerSwitchesSinceCheckpoint += 1 }
        next.leaseOwner = owner
        next.leaseCounter += 1
        return next
    }

    static func checkpointed(_ current: Lease, at position: ExtendedSequenceNumber, childShardIds: [String]?) -> Lease {
        var next = current
        next.checkpoint = position
        next.pendingCheckpoint = nil
        next.pendingCheckpointState = nil
        next.ownerSwitchesSinceCheckpoint = 0
        if let childShardIds { next.childShardIds = childShardIds.sorted() }
        next.leaseCounter += 1
        return next
    }
}

/// Leases in memory, with the same semantics as the DynamoDB table and conditional writes
/// that are linearizable (each one is a single critical section): for tests, for workers
/// sharing a stream inside one process, and for the embedded engine.
public final class InMemoryLeaseTable: LeaseTable {
    public let name: String
    private let leasesByKey = Mutex<[String: Lease]>([:])

    public init(name: String = "in-memory") { self.name = name }

    public func prepare(create: Bool) async throws {}

    public func leases() async throws -> [Lease] { leasesByKey.withLock { $0.values.sorted { $0.leaseKey < $1.leaseKey } } }

    public func lease(_ key: String) async throws -> Lease? { leasesByKey.withLock { $0[key] } }

    public func create(_ lease: Lease) async throws -> Bool {
        leasesByKey.withLock { leases in
            guard leases[lease.leaseKey] == nil else { return false }
            leases[lease.leaseKey] = lease
            return true
        }
    }

    /// Replaces a lease as is (tests: a table another worker, or the Java KCL, wrote).
    public func put(_ lease: Lease) { leasesByKey.withLock { $0[lease.leaseKey] = lease } }

    func update(_ key: String, _ change: (Lease) -> Lease?) -> Lease? {
        leasesByKey.withLock { leases in
            guard let current = leases[key], let next = change(current) else { return nil }
            leases[key] = next
            return next
        }
    }

    public func renew(_ lease: Lease, owner: String) async throws -> Lease? {
        update(lease.leaseKey) { current in
            guard LeaseRules.held(current, as: lease, by: owner) else { return nil }
            var next = current
            next.leaseCounter += 1
            return next
        }
    }

    public func take(_ lease: Lease, owner: String) async throws -> Lease? {
        update(lease.leaseKey) { current in current.leaseCounter == lease.leaseCounter ? LeaseRules.taken(current, by: owner) : nil }
    }

    public func release(_ lease: Lease, owner: String) async throws -> Lease? {
        update(lease.leaseKey) { current in
            guard current.leaseOwner == owner else { return nil }
            var next = current
            next.leaseOwner = nil
            next.leaseCounter += 1
            return next
        }
    }

    public func checkpoint(_ lease: Lease, owner: String, at position: ExtendedSequenceNumber, childShardIds: [String]?) async throws -> Lease? {
        update(lease.leaseKey) { current in
            LeaseRules.held(current, as: lease, by: owner) ? LeaseRules.checkpointed(current, at: position, childShardIds: childShardIds) : nil
        }
    }
}

/// Leases in a DynamoDB table in the KCL's format (one item per shard, HASH key `leaseKey`),
/// written with conditions on `leaseCounter` and `leaseOwner`. Reading the table costs one Scan
/// per call of ``leases()``; renewing reads nothing.
public final class DynamoDBLeaseTable: LeaseTable {
    public let name: String
    public let client: DynamoDBClient

    public init(name: String, client: DynamoDBClient) {
        self.name = name
        self.client = client
    }

    typealias A = Lease.Attribute

    public func prepare(create: Bool) async throws {
        if let table = try await client.describeTable(name) {
            if table.tableStatus != "ACTIVE" { try await client.waitUntilActive(name) }
            return
        }
        guard create else {
            throw LeaseTableError(
                description: "lease table \(name) does not exist in DynamoDB at \(client.core.endpoint.absoluteString): create it (--create, or createTable: true), or check the application name")
        }
        try await client.createTable(name, hashKey: A.leaseKey)
        try await client.waitUntilActive(name)
    }

    public func leases() async throws -> [Lease] {
        try await client.scan(name).filter(Lease.isLease).map { try Lease(item: $0, table: name) }.sorted { $0.leaseKey < $1.leaseKey }
    }

    public func lease(_ key: String) async throws -> Lease? {
        guard let item = try await client.getItem(name, key: [A.leaseKey: .s(key)]) else { return nil }
        return try Lease(item: item, table: name)
    }

    public func create(_ lease: Lease) async throws -> Bool {
        let condition = DynamoDBClient.Expression("attribute_not_exists(#key)", names: ["#key": A.leaseKey])
        if case .written = try await client.putItem(name, item: lease.item, condition: condition) { return true }
        return false
    }

    /// The condition of an owner's write: the counter it last saw, and itself as the owner.
    func held(_ lease: Lease, by owner: String) -> DynamoDBClient.Expression {
        DynamoDBClient.Expression(
            "#counter = :counter AND #owner = :owner", names: ["#counter": A.leaseCounter, "#owner": A.leaseOwner],
            values: [":counter": .number(lease.leaseCounter), ":owner": .s(owner)])
    }

    func update(_ lease: Lease, _ update: DynamoDBClient.Expression, if condition: DynamoDBClient.Expression) async throws -> Lease? {
        let outcome = try await client.updateItem(name, key: [A.leaseKey: .s(lease.leaseKey)], update: update, condition: condition)
        guard case .written(let item) = outcome else { return nil }
        guard let item else { throw LeaseTableError(description: "lease table \(name): UpdateItem of \(lease.leaseKey) returned no attributes") }
        return try Lease(item: item, table: name)
    }

    static let bump = DynamoDBClient.Expression("SET #counter = #counter + :one", names: ["#counter": A.leaseCounter], values: [":one": .n("1")])

    public func renew(_ lease: Lease, owner: String) async throws -> Lease? {
        try await update(lease, Self.bump, if: held(lease, by: owner))
    }

    public func take(_ lease: Lease, owner: String) async throws -> Lease? {
        var text = "SET #owner = :owner, #counter = #counter + :one"
        var names = ["#owner": A.leaseOwner, "#counter": A.leaseCounter]
        if let previous = lease.leaseOwner, previous != owner {
            text += " ADD #switches :one"
            names["#switches"] = A.ownerSwitchesSinceCheckpoint
        }
        let update = DynamoDBClient.Expression(text, names: names, values: [":owner": .s(owner), ":one": .n("1")])
        let condition = DynamoDBClient.Expression(
            "#counter = :seen", names: ["#counter": A.leaseCounter], values: [":seen": .number(lease.leaseCounter)])
        return try await self.update(lease, update, if: condition)
    }

    public func release(_ lease: Lease, owner: String) async throws -> Lease? {
        let update = DynamoDBClient.Expression(
            "REMOVE #owner SET #counter = #counter + :one", names: ["#owner": A.leaseOwner, "#counter": A.leaseCounter], values: [":one": .n("1")])
        let condition = DynamoDBClient.Expression("#owner = :me", names: ["#owner": A.leaseOwner], values: [":me": .s(owner)])
        return try await self.update(lease, update, if: condition)
    }

    public func checkpoint(_ lease: Lease, owner: String, at position: ExtendedSequenceNumber, childShardIds: [String]?) async throws -> Lease? {
        var text =
            "SET #checkpoint = :checkpoint, #sub = :sub, #switches = :zero, #counter = #counter + :one REMOVE #pending, #pendingSub, #pendingState"
        var names = [
            "#checkpoint": A.checkpoint, "#sub": A.checkpointSubSequenceNumber, "#switches": A.ownerSwitchesSinceCheckpoint, "#counter": A.leaseCounter,
            "#pending": A.pendingCheckpoint, "#pendingSub": A.pendingCheckpointSubSequenceNumber, "#pendingState": A.pendingCheckpointState,
        ]
        var values: DynamoDBItem = [
            ":checkpoint": .s(Lease.checkpointText(position)), ":sub": .number(position.subSequenceNumber), ":zero": .n("0"), ":one": .n("1"),
        ]
        if let childShardIds, !childShardIds.isEmpty {
            text = text.replacingOccurrences(of: " REMOVE", with: ", #children = :children REMOVE")
            names["#children"] = A.childShardIds
            values[":children"] = .ss(childShardIds.sorted())
        }
        let update = DynamoDBClient.Expression(text, names: names, values: values)
        return try await self.update(lease, update, if: held(lease, by: owner))
    }
}
