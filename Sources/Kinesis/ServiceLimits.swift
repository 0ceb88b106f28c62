/// The service's limits and naming rules, in one place: the engine's validation, the
/// publishers' record checks, the load runner, the reports and the command line read them here
/// instead of restating them. Values from the current Kinesis API model and AWS's quotas page.
public enum ServiceLimits {
    /// Writes one shard accepts per second (records; PutRecords entries and aggregates count once).
    public static let shardWriteRecordsPerSecond = 1_000
    /// Bytes one shard accepts per second (data plus partition keys).
    public static let shardWriteBytesPerSecond = 1_048_576
    /// GetRecords calls one shard answers per second.
    public static let shardReadCallsPerSecond = 5
    /// Bytes one shard serves per second to GetRecords.
    public static let shardReadBytesPerSecond = 2_097_152
    /// Records one GetRecords call returns at most (also the largest `Limit`).
    public static let getRecordsMaxRecords = 10_000
    /// Bytes one GetRecords call returns at most.
    public static let getRecordsMaxBytes = 10_485_760

    /// Data plus partition key of one record, unless the stream opted in to more.
    public static let recordMaxBytes = 1_048_576
    /// The largest record a stream can opt in to (`UpdateMaxRecordSize`, 10 MiB).
    public static let recordMaxBytesCeiling = 10_485_760
    /// Data plus partition keys of one PutRecords request (10 MiB since October 2025).
    public static let putRecordsMaxBytes = 10_485_760
    /// Entries of one PutRecords request.
    public static let putRecordsMaxRecords = 500
    /// Partition key length in Unicode characters (UTF-16 code units, as the service counts).
    public static let partitionKeyLength = 1...256

    /// Shards a CreateStream or UpdateShardCount may ask for (the account quota applies on top).
    public static let shardCount = 1...100_000
    /// Retention period in hours.
    public static let retentionHours = 24...8760
    /// Retention when none is asked for.
    public static let defaultRetentionHours = 24
    /// Seconds a shard iterator stays valid after it is issued.
    public static let iteratorLifetimeSeconds = 300

    /// Stream names and shard ids: 1 to 128 characters from this set.
    public static let namePattern = "[a-zA-Z0-9_.-]+"
    /// Lengths of stream names and shard ids.
    public static let nameLength = 1...128

    /// Whether `name` is a valid stream name (1 to 128 of `[a-zA-Z0-9_.-]`).
    public static func isValidStreamName(_ name: String) -> Bool {
        nameLength.contains(name.utf8.count)
            && name.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == 0x5F || byte == 0x2E || byte == 0x2D
            }
    }

    /// The instant the test doubles' clocks start at (2026-11-28 23:44:30 UTC): one value,
    /// so engine snapshots and recorded publishes line up in tests.
    public static let doublesStartEpochSeconds = 1_795_919_070.0
}
