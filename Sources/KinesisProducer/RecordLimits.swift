import Foundation
import Kinesis

/// The service's limits on what a producer sends, checked before sending so that a bad
/// record fails alone, with a message naming it and the limit, instead of failing a batch.
public struct RecordLimits: Sendable, Hashable {
    /// Data plus partition key bytes of one record: 1 MiB unless the stream opted in to more (up to 10 MiB).
    public var maximumRecordBytes: Int
    /// Data plus partition keys of one PutRecords request.
    public var maximumRequestBytes: Int
    /// Entries of one PutRecords request.
    public var maximumRequestRecords: Int

    /// Limits of a stream; the defaults are the service's (``ServiceLimits``).
    public init(
        maximumRecordBytes: Int = ServiceLimits.recordMaxBytes, maximumRequestBytes: Int = ServiceLimits.putRecordsMaxBytes,
        maximumRequestRecords: Int = ServiceLimits.putRecordsMaxRecords
    ) {
        self.maximumRecordBytes = maximumRecordBytes
        self.maximumRequestBytes = maximumRequestBytes
        self.maximumRequestRecords = maximumRequestRecords
    }

    /// The service's limits for a stream that did not opt in to larger records.
    public static let `default` = RecordLimits()

    /// Why `entry` cannot be sent (a ``PublishError`` with ``PublishError/Code/invalidRecord``
    /// and the rule broken), or nil when it can. `index` names it in the message.
    public func problem(with entry: PublishEntry, index: Int? = nil) -> PublishError? {
        // Built only when something is wrong: this check runs for every record a producer takes.
        var name: String {
            index.map { "record \($0) (partition key '\(entry.partitionKey.prefix(40))')" }
                ?? "record with partition key '\(entry.partitionKey.prefix(40))'"
        }
        let keyLength = entry.partitionKey.utf16.count
        if !ServiceLimits.partitionKeyLength.contains(keyLength) {
            return PublishError(
                code: .invalidRecord, message: "\(name): the partition key is \(keyLength) characters; Kinesis accepts 1 to 256",
                rule: "InvalidPartitionKey")
        }
        let size = entry.data.count + entry.partitionKey.utf8.count
        if size > maximumRecordBytes {
            return PublishError(
                code: .invalidRecord,
                message: "\(name): data and partition key are \(size) bytes, over the maximum record size of \(maximumRecordBytes) bytes",
                rule: "RecordTooLarge")
        }
        if let hashKey = entry.explicitHashKey, (try? ShardMap.parseHashKey(hashKey)) == nil {
            return PublishError(
                code: .invalidRecord, message: "\(name): explicit hash key '\(hashKey.prefix(50))' is not a decimal integer from 0 to 2^128-1",
                rule: "InvalidExplicitHashKey")
        }
        return nil
    }
}
