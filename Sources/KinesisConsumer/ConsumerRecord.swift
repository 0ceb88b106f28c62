import Foundation
import Kinesis

/// One user record as a consumer receives it: a plain Kinesis record, or one user record of a
/// KPL aggregate (deaggregated), with where it was read from.
public struct ConsumerRecord: Sendable, Hashable {
    public var shardId: String
    public var sequenceNumber: String
    /// Index within the aggregate; 0 for a plain record.
    public var subSequenceNumber: Int
    public var partitionKey: String
    public var explicitHashKey: String?
    public var data: Data
    public var approximateArrivalTimestamp: Date?
    /// Whether it came out of a KPL aggregate.
    public var aggregated: Bool
    /// A deaggregated record whose hash key is outside the shard's range (the KCL would drop
    /// its whole aggregate): delivered anyway, flagged, and counted.
    public var outOfShardRange: Bool
    /// Some user record of its aggregate (this one or another) is outside the shard's range:
    /// the KCL drops such an aggregate whole. A producer that resends misrouted aggregates (the
    /// toolkit's `Producer` does, after a reshard) has delivered these records again elsewhere,
    /// so an app reading that producer's stream exactly once skips them; an app reading a
    /// producer that does not resend (the KPL) keeps them, where the KCL would lose them.
    public var inMisroutedAggregate: Bool
    /// A record that starts with the KPL magic but whose digest or message is wrong: delivered
    /// as the raw Kinesis record, flagged, never a crash.
    public var corruptAggregate: Bool

    public init(
        shardId: String, sequenceNumber: String, subSequenceNumber: Int = 0, partitionKey: String, explicitHashKey: String? = nil,
        data: Data, approximateArrivalTimestamp: Date? = nil, aggregated: Bool = false, outOfShardRange: Bool = false,
        inMisroutedAggregate: Bool = false, corruptAggregate: Bool = false
    ) {
        self.shardId = shardId
        self.sequenceNumber = sequenceNumber
        self.subSequenceNumber = subSequenceNumber
        self.partitionKey = partitionKey
        self.explicitHashKey = explicitHashKey
        self.data = data
        self.approximateArrivalTimestamp = approximateArrivalTimestamp
        self.aggregated = aggregated
        self.outOfShardRange = outOfShardRange
        self.inMisroutedAggregate = inMisroutedAggregate
        self.corruptAggregate = corruptAggregate
    }

    /// Its checkpoint position.
    public var position: ExtendedSequenceNumber { ExtendedSequenceNumber(sequenceNumber, subSequenceNumber: subSequenceNumber) }

    /// The data decoded as JSON into an app type.
    public func decode<T: Decodable>(_ type: T.Type, decoder: JSONDecoder = JSONDecoder()) throws -> T {
        try decoder.decode(type, from: data)
    }
}

/// Turns Kinesis records into user records, deaggregating KPL aggregates, without ever dropping
/// one silently.
public enum Deaggregator {
    /// The user records of `records` read from a shard whose hash keys are `range` (nil when
    /// unknown: nothing is flagged out of range then).
    public static func userRecords(_ records: [Record], shardId: String, range: ClosedRange<UInt128>?) -> [ConsumerRecord] {
        var keys: PartitionKeyCache? = range == nil ? nil : PartitionKeyCache()
        return userRecords(records, shardId: shardId, range: range, keys: &keys)
    }

    /// ``userRecords(_:shardId:range:)`` with partition keys remembered across calls: a reader
    /// keeps one cache per shard, so a key met in an earlier aggregate is neither validated
    /// nor hashed again.
    public static func userRecords(
        _ records: [Record], shardId: String, range: ClosedRange<UInt128>?, keys: inout PartitionKeyCache?
    ) -> [ConsumerRecord] {
        var out: [ConsumerRecord] = []
        out.reserveCapacity(records.count)
        for record in records { append(record, shardId: shardId, range: range, keys: &keys, to: &out) }
        return out
    }

    public static func append(_ record: Record, shardId: String, range: ClosedRange<UInt128>?, to out: inout [ConsumerRecord]) {
        var keys: PartitionKeyCache? = nil
        append(record, shardId: shardId, range: range, keys: &keys, to: &out)
    }

    static func append(
        _ record: Record, shardId: String, range: ClosedRange<UInt128>?, keys: inout PartitionKeyCache?, to out: inout [ConsumerRecord]
    ) {
        guard AggregatedRecord.hasMagic(record.data) else {
            out.append(
                ConsumerRecord(
                    shardId: shardId, sequenceNumber: record.sequenceNumber, partitionKey: record.partitionKey, data: record.data,
                    approximateArrivalTimestamp: record.approximateArrivalTimestamp))
            return
        }
        guard let aggregate = AggregatedRecord.deaggregateIndexed(record.data, keys: &keys) else {
            out.append(
                ConsumerRecord(
                    shardId: shardId, sequenceNumber: record.sequenceNumber, partitionKey: record.partitionKey, data: record.data,
                    approximateArrivalTimestamp: record.approximateArrivalTimestamp, corruptAggregate: true))
            return
        }
        let first = out.count
        var misrouted = false
        // Each distinct partition key of the aggregate is hashed once, not once per record.
        var hashKeys: [UInt128?] =
            aggregate.partitionKeyHashes.isEmpty
            ? Array(repeating: nil, count: range == nil ? 0 : aggregate.partitionKeys.count) : aggregate.partitionKeyHashes.map { $0 }
        aggregate.forEachData { index, data in
            let user = aggregate.records[index]
            var outside = false
            let explicitHashKey = user.explicitHashKey.map { aggregate.explicitHashKeys[$0] }
            if let range {
                let key: UInt128
                if let explicit = explicitHashKey, let parsed = UInt128(explicit) {
                    key = parsed
                } else if let known = hashKeys[user.partitionKey] {
                    key = known
                } else {
                    key = ShardMap.hashKey(forPartitionKey: aggregate.partitionKeys[user.partitionKey])
                    hashKeys[user.partitionKey] = key
                }
                outside = !range.contains(key)
            }
            out.append(
                ConsumerRecord(
                    shardId: shardId, sequenceNumber: record.sequenceNumber, subSequenceNumber: index,
                    partitionKey: aggregate.partitionKeys[user.partitionKey], explicitHashKey: explicitHashKey, data: data,
                    approximateArrivalTimestamp: record.approximateArrivalTimestamp, aggregated: true, outOfShardRange: outside))
            if outside { misrouted = true }
        }
        if misrouted {
            for index in first..<out.count { out[index].inMisroutedAggregate = true }
        }
    }
}
