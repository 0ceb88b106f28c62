import Kinesis

/// How the engine behaves: account, lifecycle delays, throughput limits, history.
public struct EngineConfiguration: Sendable {
    /// The account id in ARNs and error messages.
    public var accountId: String
    /// The region in ARNs.
    public var region: String
    /// How long a new stream stays CREATING.
    public var creatingDelay: Duration
    /// How long a reshard, a retention change or a mode change keeps the stream UPDATING.
    public var updatingDelay: Duration
    /// How long a deleted stream stays DELETING.
    public var deletingDelay: Duration
    /// Per-shard throughput limits; nil (the default) for none.
    public var limits: ThroughputLimits?
    /// Shards an on-demand stream starts with.
    public var onDemandShardCount: Int
    /// Calls kept for ``InMemoryKinesis/calls``; older ones are dropped.
    public var callHistoryLimit: Int
    /// How long a shard iterator stays valid.
    public var iteratorLifetime: Duration
    /// Seed of the per-record fault draws.
    public var seed: UInt64
    /// The account's provisioned shard quota (500, as in us-east-1, us-west-2 and eu-west-1):
    /// DescribeLimits reports it, and CreateStream, SplitShard and UpdateShardCount that would
    /// take the open shards of provisioned streams over it get AWS's LimitExceededException.
    public var shardLimit = 500
    /// Most memory a shard's records may take (see ``retainedBytes(data:partitionKey:sequenceNumber:)``):
    /// beyond it the oldest records are trimmed, as retention would trim them. nil (the
    /// default) keeps everything for the retention period; a long load test sets it so memory
    /// stays flat.
    public var maxRetainedBytesPerShard: Int?
    /// Called (under the engine's lock: keep it short) each time records are trimmed to keep a
    /// shard within ``maxRetainedBytesPerShard``, with the stream, the shard and how many
    /// records that shard has had trimmed so far.
    public var onBudgetTrim: (@Sendable (_ stream: String, _ shard: String, _ trimmedSoFar: Int) -> Void)?
    /// Called (under the engine's lock: keep it short) each time a shard refuses a record
    /// (`read` false: its write limit or a throttle fault) or a GetRecords call (`read` true)
    /// with ProvisionedThroughputExceededException: what `serve --metrics-port` counts per shard.
    public var onThrottle: (@Sendable (_ stream: String, _ shard: String, _ read: Bool) -> Void)?

    /// What one stored record counts against ``maxRetainedBytesPerShard``: its data, partition
    /// key and sequence number bytes and 64 bytes of bookkeeping, so that small records are
    /// not undercounted.
    public static func retainedBytes(data: Int, partitionKey: Int, sequenceNumber: Int) -> Int {
        data + partitionKey + sequenceNumber + 64
    }

    /// Settings; the defaults make an engine without delays or limits, as a unit test wants.
    public init(
        accountId: String = "000000000000", region: String = "us-east-1", creatingDelay: Duration = .zero,
        updatingDelay: Duration = .zero, deletingDelay: Duration = .zero, limits: ThroughputLimits? = nil,
        onDemandShardCount: Int = 4, callHistoryLimit: Int = 10_000, iteratorLifetime: Duration = .seconds(ServiceLimits.iteratorLifetimeSeconds),
        seed: UInt64 = 42, maxRetainedBytesPerShard: Int? = nil
    ) {
        self.accountId = accountId
        self.region = region
        self.creatingDelay = creatingDelay
        self.updatingDelay = updatingDelay
        self.deletingDelay = deletingDelay
        self.limits = limits
        self.onDemandShardCount = onDemandShardCount
        self.callHistoryLimit = callHistoryLimit
        self.iteratorLifetime = iteratorLifetime
        self.seed = seed
        self.maxRetainedBytesPerShard = maxRetainedBytesPerShard
    }
}

/// Per-shard throughput limits, enforced with token buckets that hold one second's worth.
public struct ThroughputLimits: Sendable, Hashable {
    /// Records one shard accepts per second.
    public var writeRecordsPerSecond: Double
    /// Data plus partition key bytes.
    public var writeBytesPerSecond: Double
    /// GetRecords calls one shard answers per second.
    public var readCallsPerSecond: Double
    /// Bytes one shard serves per second.
    public var readBytesPerSecond: Double

    /// Limits; AWS's by default (``ServiceLimits``).
    public init(
        writeRecordsPerSecond: Double = Double(ServiceLimits.shardWriteRecordsPerSecond),
        writeBytesPerSecond: Double = Double(ServiceLimits.shardWriteBytesPerSecond),
        readCallsPerSecond: Double = Double(ServiceLimits.shardReadCallsPerSecond),
        readBytesPerSecond: Double = Double(ServiceLimits.shardReadBytesPerSecond)
    ) {
        self.writeRecordsPerSecond = writeRecordsPerSecond
        self.writeBytesPerSecond = writeBytesPerSecond
        self.readCallsPerSecond = readCallsPerSecond
        self.readBytesPerSecond = readBytesPerSecond
    }

    /// The limits of a Kinesis shard: 1,000 records/s and 1 MiB/s in; 5 reads/s and 2 MiB/s out.
    public static let aws = ThroughputLimits()
}

/// A call the engine answered, for assertions.
public struct RecordedCall: Sendable, Hashable {
    /// The operation called.
    public var operation: KinesisOperation
    /// The stream it named, if any.
    public var streamName: String?
    /// Engine-clock seconds since 1970.
    public var time: Double
    /// Records written or read.
    public var recordCount: Int
    /// The error it failed with, nil on success (a PutRecords with failed entries succeeded).
    public var errorCode: KinesisError.Code?
    /// PutRecords entries that failed.
    public var failedRecordCount: Int
}
