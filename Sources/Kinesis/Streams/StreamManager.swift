import Logging

/// Creates, describes, waits for, reshards and deletes streams.
///
/// ```swift
/// let manager = StreamManager(api: client)
/// try await manager.ensureExists("orders", capacity: .provisioned(shards: 4))   // creates if missing, then waits
/// let shards = try await manager.listAllShards(stream: "orders")
/// ```
public struct StreamManager: Sendable {
    /// Where the calls go.
    public let api: any KinesisAPI
    /// Time between DescribeStreamSummary calls while waiting.
    public var pollInterval: Duration
    /// How long a wait may take before ``KinesisError/Code/waiterTimeout``.
    public var waitTimeout: Duration
    /// The retention ``ensureExists(_:capacity:retentionPeriodHours:)`` gives a stream when
    /// the call names none: by default the client's configured `KINESIS_RETENTION_PERIOD`.
    public var defaultRetentionPeriodHours: Int?
    private let logger: Logger?

    /// A manager for the streams `api` reaches.
    public init(
        api: any KinesisAPI, pollInterval: Duration = .seconds(1), waitTimeout: Duration = .seconds(300),
        logger: Logger? = nil
    ) {
        self.api = api
        self.pollInterval = pollInterval
        self.waitTimeout = waitTimeout
        self.defaultRetentionPeriodHours = (api as? HTTPKinesisClient)?.configuration.retentionPeriodHours
        self.logger = logger
    }

    /// How a stream is billed and sized.
    public enum Capacity: Sendable, Hashable {
        case provisioned(shards: Int)
        case onDemand
    }

    /// Asks Kinesis to create a stream; it starts in CREATING. See ``ensureExists(_:capacity:retentionPeriodHours:)``.
    public func create(_ name: String, capacity: Capacity) async throws {
        switch capacity {
        case .provisioned(let shards):
            try await api.createStream(CreateStreamInput(streamName: name, shardCount: shards))
        case .onDemand:
            try await api.createStream(CreateStreamInput(streamName: name, mode: .onDemand))
        }
    }

    /// The stream's summary (status, mode, retention, open shard count).
    public func describe(_ name: String) async throws -> StreamDescriptionSummary {
        try await api.describeStreamSummary(DescribeStreamSummaryInput(streamName: name)).streamDescriptionSummary
    }

    /// Every shard of the stream (open and closed unless `filter` says otherwise), following NextToken pages.
    public func listAllShards(stream name: String, filter: ShardFilter? = nil) async throws -> [Shard] {
        var shards: [Shard] = []
        var page = try await api.listShards(ListShardsInput(streamName: name, shardFilter: filter))
        shards += page.shards ?? []
        while let token = page.nextToken, page.shards?.isEmpty == false {
            page = try await api.listShards(ListShardsInput(nextToken: token))
            shards += page.shards ?? []
        }
        return shards
    }

    /// Every stream name of the account and region, following pages.
    public func listAllStreams() async throws -> [String] {
        var names: [String] = []
        var page = try await api.listStreams(ListStreamsInput())
        names += page.streamNames
        while page.hasMoreStreams, !page.streamNames.isEmpty {
            if let token = page.nextToken {
                page = try await api.listStreams(ListStreamsInput(nextToken: token))
            } else {
                page = try await api.listStreams(ListStreamsInput(exclusiveStartStreamName: names.last))
            }
            names += page.streamNames
        }
        return names
    }

    /// The shard map of the stream's open shards (listed with the AT_LATEST filter, so a stream
    /// resharded many times costs no more pages than one that never was).
    public func shardMap(stream name: String) async throws -> ShardMap {
        try ShardMap(shards: try await listAllShards(stream: name, filter: ShardFilter(type: .atLatest)))
    }

    /// Waits until the stream is ACTIVE, polling every ``pollInterval``.
    ///
    /// - Throws: ``KinesisError`` with ``KinesisError/Code/waiterTimeout`` after ``waitTimeout``,
    ///   or with `ResourceInUseException` if the stream is being deleted.
    @discardableResult
    public func waitUntilActive(_ name: String, clock: some Clock<Duration> = ContinuousClock()) async throws
        -> StreamDescriptionSummary
    {
        let start = clock.now
        while true {
            let summary = try await describe(name)
            if summary.streamStatus == .active { return summary }
            if summary.streamStatus == .deleting {
                throw KinesisError(
                    code: .resourceInUse, message: "Stream \(name) is being deleted while waiting for it to become ACTIVE")
            }
            logger?.debug("waiting for stream", metadata: ["stream": "\(name)", "status": "\(summary.streamStatus)"])
            try await pause(since: start, clock: clock, waitingFor: "\(name) to become ACTIVE (last status \(summary.streamStatus))")
        }
    }

    /// Waits until DescribeStreamSummary answers ResourceNotFoundException.
    public func waitUntilDeleted(_ name: String, clock: some Clock<Duration> = ContinuousClock()) async throws {
        let start = clock.now
        while true {
            do {
                _ = try await describe(name)
            } catch let error as KinesisError where error.code == .resourceNotFound {
                return
            }
            try await pause(since: start, clock: clock, waitingFor: "\(name) to be deleted")
        }
    }

    private func pause<C: Clock<Duration>>(since start: C.Instant, clock: C, waitingFor what: String) async throws {
        if start.duration(to: clock.now) + pollInterval > waitTimeout {
            throw KinesisError(code: .waiterTimeout, message: "timed out after \(waitTimeout) waiting for \(what)")
        }
        try await clock.sleep(for: pollInterval)
    }

    /// Creates the stream if it does not exist, then waits until it is ACTIVE.
    /// Raises the retention period when the stream was created with a smaller one.
    ///
    /// - Returns: true when this call created the stream.
    @discardableResult
    public func ensureExists(_ name: String, capacity: Capacity, retentionPeriodHours: Int? = nil) async throws -> Bool {
        var created = false
        do {
            try await create(name, capacity: capacity)
            created = true
        } catch let error as KinesisError where error.code == .resourceInUse {
            // It exists (or is being created by someone else): wait for it below.
        }
        let summary = try await waitUntilActive(name)
        if let retentionPeriodHours = retentionPeriodHours ?? defaultRetentionPeriodHours,
            summary.retentionPeriodHours < retentionPeriodHours
        {
            try await api.increaseStreamRetentionPeriod(
                IncreaseStreamRetentionPeriodInput(streamName: name, retentionPeriodHours: retentionPeriodHours))
            try await waitUntilActive(name)
        }
        return created
    }

    /// Deletes the stream (consumers too, when asked) and, if `wait`, waits until it is gone.
    public func delete(_ name: String, enforceConsumerDeletion: Bool = false, wait: Bool = true) async throws {
        try await api.deleteStream(
            DeleteStreamInput(streamName: name, enforceConsumerDeletion: enforceConsumerDeletion ? true : nil))
        if wait { try await waitUntilDeleted(name) }
    }

    /// Changes the open shard count with UpdateShardCount (uniform scaling) and waits until
    /// the stream is ACTIVE again.
    @discardableResult
    public func reshard(_ name: String, to targetShardCount: Int) async throws -> StreamDescriptionSummary {
        _ = try await api.updateShardCount(UpdateShardCountInput(streamName: name, targetShardCount: targetShardCount))
        return try await waitUntilActive(name)
    }
}
