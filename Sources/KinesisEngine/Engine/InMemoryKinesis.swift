import Foundation
import Kinesis
import Synchronization

/// An in-process Kinesis with the service's semantics: shards and hash key ranges, 56-digit
/// sequence numbers, all five iterator types with expiry, retention, resharding with
/// lineage, AWS's validation and error messages, opt-in per-shard throughput limits,
/// scripted faults, and an injectable clock.
///
/// ```swift
/// let kinesis = InMemoryKinesis()
/// try await kinesis.createStream(.init(streamName: "orders", shardCount: 2))
/// let out = try await kinesis.putRecord(.init(streamName: "orders", data: Data("hi".utf8), partitionKey: "user-1"))
/// ```
///
/// Every call is recorded (``calls``); ``snapshot()`` shows the streams and their records;
/// ``reset()`` forgets everything.
public final class InMemoryKinesis: KinesisAPI {
    /// Delays, limits and history size the engine was made with.
    public let configuration: EngineConfiguration
    /// The time the engine runs on (a manual clock in tests).
    public let clock: any EngineClock

    struct State: Sendable {
        var streams: [String: StreamState] = [:]
        var faults = FaultPlan()
        var calls: [RecordedCall] = []
        var random: SplitMix64
        /// DescribeAccountSettings' answer; nil until UpdateAccountSettings is called.
        var billingCommitment: MinimumThroughputBillingCommitmentOutput?
        /// Journal entries made by the call in progress (only with a ``journal``).
        var journalBuffer: [UInt8] = []
        /// Why the data directory can no longer be written, once it cannot.
        var journalBroken: String?
        /// Live SubscribeToShard calls, by consumer ARN and shard index.
        var subscriptions: [String: Subscription] = [:]
        var nextSubscriptionId: UInt64 = 0
    }

    let state: Mutex<State>
    /// Where stored records and stream changes go before a call is answered (`serve --data-dir`).
    let journal: EngineJournal?

    /// An empty engine: no streams until one is created.
    public init(configuration: EngineConfiguration = EngineConfiguration(), clock: any EngineClock = SystemEngineClock()) {
        self.configuration = configuration
        self.clock = clock
        self.state = Mutex(State(random: SplitMix64(seed: configuration.seed)))
        self.journal = nil
    }

    init(configuration: EngineConfiguration, clock: any EngineClock, state: State, journal: EngineJournal) {
        self.configuration = configuration
        self.clock = clock
        self.state = Mutex(state)
        self.journal = journal
    }

    // MARK: - Test controls

    /// Changes the fault plan.
    public func faults(_ change: (inout FaultPlan) -> Void) {
        state.withLock { change(&$0.faults) }
    }

    /// The calls answered so far, oldest first (at most `callHistoryLimit`).
    public var calls: [RecordedCall] {
        state.withLock { Array($0.calls.suffix(configuration.callHistoryLimit)) }
    }

    /// Forgets every stream, fault and recorded call.
    public func reset() {
        state.withLock { $0 = State(random: SplitMix64(seed: configuration.seed)) }
    }

    /// A copy of every stream: status, shards and their live records.
    public func snapshot() -> EngineSnapshot {
        let now = clock.now()
        return state.withLock { state in
            for name in state.streams.keys { Self.advance(&state, name, now: now, configuration: configuration) }
            return EngineSnapshot(
                streams: state.streams.values.sorted { $0.name < $1.name }.map { stream in
                    EngineSnapshot.Stream(
                        name: stream.name, arn: stream.arn, status: stream.status, mode: stream.mode,
                        retentionPeriodHours: stream.retentionHours,
                        shards: stream.shards.map { shard in
                            EngineSnapshot.Shard(
                                shard: shard.wire,
                                records: shard.records[shard.head...].map {
                                    Record(
                                        sequenceNumber: $0.sequenceNumber,
                                        data: $0.data, partitionKey: $0.partitionKey,
                                        approximateArrivalTimestamp: Date(timeIntervalSince1970: $0.arrival))
                                })
                        })
                })
        }
    }

    // MARK: - Plumbing

    /// Runs one operation: latency, outage and scripted faults first, then `body` under the
    /// lock, and the call recorded whatever its outcome.
    func perform<T: Sendable>(
        _ operation: KinesisOperation, stream: String?, validate fields: [String: FieldValue]? = nil,
        _ body: (inout State, Double) throws -> (result: T, records: Int, failed: Int)
    ) async throws -> T {
        let latency = state.withLock { $0.faults.latency }
        if latency > .zero { try await Task.sleep(for: latency) }
        let now = clock.now()
        let limit = configuration.callHistoryLimit
        var mustSync: UInt64?
        let value: T = try state.withLock { state in
            var call = RecordedCall(
                operation: operation, streamName: stream, time: now, recordCount: 0, errorCode: nil, failedRecordCount: 0)
            defer {
                state.calls.append(call)
                if state.calls.count > limit * 2 { state.calls.removeFirst(state.calls.count - limit) }
            }
            do {
                if let broken = state.journalBroken { throw KinesisError(code: .internalFailure, message: broken, httpStatus: 500) }
                if let outage = state.faults.outage, outage.contains(now) {
                    throw KinesisError(
                        code: .serviceUnavailable, message: "Service unavailable (scripted outage)", httpStatus: 503)
                }
                if let scripted = state.faults.takeScripted(for: operation) { throw scripted }
                if let fields {
                    // Only writes carry records; their stream may take records over 1 MiB.
                    let writes = operation == .putRecord || operation == .putRecords
                    let recordLimit = writes ? stream.flatMap { state.streams[$0]?.maxRecordSizeInKiB }.map { $0 * 1024 } : nil
                    try Validator.validate(operation, fields, recordMaxBytes: recordLimit ?? ServiceLimits.recordMaxBytes)
                }
                let (result, records, failed) = try body(&state, now)
                call.recordCount = records
                call.failedRecordCount = failed
                if let journal { mustSync = try journalEntries(of: operation, &state, journal) }
                return result
            } catch var error as KinesisError {
                error.operation = operation.rawValue
                call.errorCode = error.code
                throw error
            }
        }
        // Answered only once its records and changes are on disk.
        if let journal, let mustSync {
            do {
                try journal.sync(through: mustSync)
            } catch {
                throw state.withLock { journalBroken(error, &$0) }
            }
        }
        return value
    }

    var account: String { configuration.accountId }

    /// Writes the call's journal entries (and, after a change to streams, their descriptions);
    /// returns the offset to sync before answering.
    private func journalEntries(of operation: KinesisOperation, _ state: inout State, _ journal: EngineJournal) throws -> UInt64? {
        do {
            if operation.changesStreams {
                try EngineJournal.appendCatalog(
                    EngineJournal.Catalog(streams: Array(state.streams.values), billingCommitment: state.billingCommitment),
                    into: &state.journalBuffer)
            }
            guard !state.journalBuffer.isEmpty else { return nil }
            defer { state.journalBuffer.removeAll(keepingCapacity: state.journalBuffer.count < 1 << 20) }
            return try journal.append(state.journalBuffer)
        } catch {
            throw journalBroken(error, &state)
        }
    }

    /// A data directory that cannot be written fails this call and every later one (with
    /// InternalFailure): an answer must never claim a record is kept when a restart would lose it.
    private func journalBroken(_ error: any Error, _ state: inout State) -> KinesisError {
        let message = "The data directory cannot be written (\(error)); no call is answered until kinesis-load serve is restarted."
        if state.journalBroken == nil {
            FileHandle.standardError.write(Data("kinesis engine: \(message)\n".utf8))
            state.journalBroken = message
        }
        return KinesisError(code: .internalFailure, message: message, httpStatus: 500)
    }

    func notFound(_ name: String) -> KinesisError {
        KinesisError(code: .resourceNotFound, message: "Stream \(name) under account \(account) not found.", httpStatus: 400)
    }

    func notActive(_ stream: StreamState) -> KinesisError {
        KinesisError(
            code: .resourceInUse,
            message: "Stream \(stream.name) under account \(account) not ACTIVE, instead in state \(stream.status.rawValue)",
            httpStatus: 400)
    }

    func invalidArgument(_ message: String) -> KinesisError {
        KinesisError(code: .invalidArgument, message: message, httpStatus: 400)
    }

    /// Moves a stream along its lifecycle: CREATING and UPDATING end (applying pending
    /// reshards), DELETING removes it.
    static func advance(_ state: inout State, _ name: String, now: Double, configuration: EngineConfiguration) {
        guard var stream = state.streams[name], let until = stream.statusUntil, now >= until else { return }
        if stream.status == .deleting {
            state.streams[name] = nil
            return
        }
        for change in stream.pending { apply(change, to: &stream, now: until, limits: configuration.limits) }
        stream.pending = []
        stream.status = .active
        stream.statusUntil = nil
        state.streams[name] = stream
    }

    /// The stream, brought up to date; ResourceNotFoundException if it does not exist.
    func stream(_ state: inout State, _ name: String, now: Double) throws -> StreamState {
        Self.advance(&state, name, now: now, configuration: configuration)
        guard let stream = state.streams[name] else { throw notFound(name) }
        return stream
    }

    /// Like ``stream(_:_:now:)`` for data calls: a stream being created or deleted is not found.
    private func readableStream(_ state: inout State, _ name: String, now: Double) throws -> StreamState {
        let stream = try stream(&state, name, now: now)
        guard stream.status == .active || stream.status == .updating else { throw notFound(name) }
        return stream
    }

    /// Runs `body` on the stream moved out of the dictionary, so that appending to a shard
    /// mutates its records in place instead of copying them (copy-on-write would otherwise
    /// copy every record of the shard on every put), and puts it back whatever happens.
    private func mutateStream<T>(
        _ state: inout State, _ name: String, now: Double, _ body: (inout StreamState, inout State) throws -> T
    ) throws -> T {
        Self.advance(&state, name, now: now, configuration: configuration)
        guard var stream = state.streams.removeValue(forKey: name) else { throw notFound(name) }
        defer { state.streams[name] = stream }
        guard stream.status == .active || stream.status == .updating else { throw notFound(name) }
        return try body(&stream, &state)
    }

    private static func apply(_ change: PendingChange, to stream: inout StreamState, now: Double, limits: ThroughputLimits?) {
        switch change {
        case .split(let index, let at):
            let parent = stream.shards[index]
            stream.close(index, now: now)
            stream.addShard(range: parent.range.lowerBound...(at - 1), parent: parent.id, adjacentParent: nil, now: now, limits: limits)
            stream.addShard(range: at...parent.range.upperBound, parent: parent.id, adjacentParent: nil, now: now, limits: limits)
        case .merge(let index, let adjacent):
            let first = stream.shards[index]
            let second = stream.shards[adjacent]
            stream.close(index, now: now)
            stream.close(adjacent, now: now)
            let lower = min(first.range.lowerBound, second.range.lowerBound)
            let upper = max(first.range.upperBound, second.range.upperBound)
            stream.addShard(range: lower...upper, parent: first.id, adjacentParent: second.id, now: now, limits: limits)
        case .uniform(let target):
            // Kinesis reaches the target through splits and merges; the engine goes there in
            // one step, giving each new shard the old shards its range overlaps as parents.
            let old = stream.shards.filter(\.isOpen)
            for shard in old { stream.close(shard.index, now: now) }
            for range in ShardMap.evenRanges(count: target) {
                let parent = old.first { $0.range.contains(range.lowerBound) }
                let adjacent = old.first { $0.range.contains(range.upperBound) && $0.index != parent?.index }
                stream.addShard(range: range, parent: parent?.id, adjacentParent: adjacent?.id, now: now, limits: limits)
            }
        case .mode(let mode):
            stream.mode = mode
        case .encryption(let type, let keyId):
            stream.encryptionType = type
            stream.keyId = keyId
        }
        stream.rebuildOpenMap()
    }

    /// Starts an UPDATING period that ends with `change` applied (at once when the delay is zero).
    func update(_ state: inout State, _ name: String, with change: PendingChange, now: Double) {
        guard var stream = state.streams[name] else { return }
        if configuration.updatingDelay == .zero {
            Self.apply(change, to: &stream, now: now, limits: configuration.limits)
        } else {
            stream.status = .updating
            stream.statusUntil = now + configuration.updatingDelay.timeInterval
            stream.pending.append(change)
        }
        state.streams[name] = stream
    }

    // MARK: - Stream lifecycle

    /// `CreateStream`, with the service's validation, errors and limits.
    public func createStream(_ input: CreateStreamInput) async throws {
        try await perform(.createStream, stream: input.streamName, validate: FieldValueEncoder.fields(of: input)) { state, now in
            Self.advance(&state, input.streamName, now: now, configuration: configuration)
            if state.streams[input.streamName] != nil {
                throw KinesisError(
                    code: .resourceInUse, message: "Stream \(input.streamName) under account \(account) already exists.",
                    httpStatus: 400)
            }
            let mode = input.streamModeDetails?.streamMode ?? .provisioned
            let shardCount: Int
            switch mode {
            case .onDemand:
                if input.shardCount != nil {
                    throw invalidArgument("ShardCount is not supported for a stream in ON_DEMAND mode.")
                }
                shardCount = configuration.onDemandShardCount
            default:
                guard let count = input.shardCount else {
                    throw invalidArgument("ShardCount is required for a stream in PROVISIONED mode.")
                }
                shardCount = count
                try checkShardQuota(state, adding: count)
            }
            let second = Int(now)
            var stream = StreamState(
                name: input.streamName,
                arn: "arn:aws:kinesis:\(configuration.region):\(account):stream/\(input.streamName)", createdAt: now,
                creationSecond: second, mode: mode, retentionHours: 24, status: .creating, statusUntil: nil,
                openMap: ShardMap(entries: []))
            stream.tags = input.tags ?? [:]
            stream.maxRecordSizeInKiB = input.maxRecordSizeInKiB ?? 1024
            if mode == .onDemand { stream.warmThroughputMiBps = input.warmThroughputMiBps }
            for range in ShardMap.evenRanges(count: shardCount) {
                stream.addShard(range: range, parent: nil, adjacentParent: nil, now: now, limits: configuration.limits)
            }
            stream.rebuildOpenMap()
            if configuration.creatingDelay == .zero {
                stream.status = .active
            } else {
                stream.statusUntil = now + configuration.creatingDelay.timeInterval
            }
            state.streams[input.streamName] = stream
            return ((), 0, 0)
        }
    }

    /// `DeleteStream`, with the service's validation, errors and limits.
    public func deleteStream(_ input: DeleteStreamInput) async throws {
        let (input, name) = try addressing(input, .deleteStream)
        return try await perform(.deleteStream, stream: name, validate: FieldValueEncoder.fields(of: input)) { state, now in
            var stream = try stream(&state, name, now: now)
            advanceConsumers(&stream, now: now)
            if !stream.consumers.isEmpty, input.enforceConsumerDeletion != true {
                throw KinesisError(
                    code: .resourceInUse,
                    message: "Stream \(stream.name) under account \(account) has \(stream.consumers.count) registered consumer\(stream.consumers.count == 1 ? "" : "s"): deregister them or set EnforceConsumerDeletion.",
                    httpStatus: 400)
            }
            if configuration.deletingDelay == .zero {
                state.streams[name] = nil
            } else {
                if stream.status == .creating { stream.deletedWhileCreating = true }
                stream.status = .deleting
                stream.statusUntil = now + configuration.deletingDelay.timeInterval
                stream.pending = []
                state.streams[name] = stream
            }
            return ((), 0, 0)
        }
    }

    /// `DescribeStream`, with the service's validation, errors and limits.
    public func describeStream(_ input: DescribeStreamInput) async throws -> DescribeStreamOutput {
        let (input, name) = try addressing(input, .describeStream)
        return try await perform(.describeStream, stream: name, validate: FieldValueEncoder.fields(of: input)) { state, now in
            let stream = try stream(&state, name, now: now)
            // AWS lists no shards until a stream is ACTIVE, nor after it was deleted while CREATING.
            var shards = stream.status == .creating || stream.deletedWhileCreating == true ? [] : stream.shards
            if let start = input.exclusiveStartShardId {
                let after = ShardState.index(of: start) ?? -1
                shards = shards.filter { $0.index > after }
            }
            let limit = input.limit ?? 100
            let page = shards.prefix(limit)
            var description = StreamDescription(
                streamName: stream.name, streamStatus: stream.status, shards: page.map(\.wire),
                hasMoreShards: shards.count > limit, retentionPeriodHours: stream.retentionHours,
                streamARN: stream.arn, streamModeDetails: StreamModeDetails(streamMode: stream.mode),
                streamCreationTimestamp: Date(timeIntervalSince1970: stream.createdAt),
                enhancedMonitoring: [EnhancedMetrics(shardLevelMetrics: stream.shardLevelMetrics)], encryptionType: stream.encryptionType)
            description.keyId = stream.keyId
            return (DescribeStreamOutput(streamDescription: description), 0, 0)
        }
    }

    /// `DescribeStreamSummary`, with the service's validation, errors and limits.
    public func describeStreamSummary(_ input: DescribeStreamSummaryInput) async throws -> DescribeStreamSummaryOutput {
        let (input, name) = try addressing(input, .describeStreamSummary)
        return try await perform(.describeStreamSummary, stream: name, validate: FieldValueEncoder.fields(of: input)) { state, now in
            var stream = try stream(&state, name, now: now)
            advanceConsumers(&stream, now: now)
            var summary = StreamDescriptionSummary(
                streamName: stream.name, streamStatus: stream.status, retentionPeriodHours: stream.retentionHours,
                openShardCount: stream.openShardCount, streamARN: stream.arn,
                streamModeDetails: StreamModeDetails(streamMode: stream.mode),
                streamCreationTimestamp: Date(timeIntervalSince1970: stream.createdAt),
                enhancedMonitoring: [EnhancedMetrics(shardLevelMetrics: stream.shardLevelMetrics)], encryptionType: stream.encryptionType,
                consumerCount: stream.consumers.count)
            summary.keyId = stream.keyId
            summary.maxRecordSizeInKiB = stream.maxRecordSizeInKiB
            summary.warmThroughput = stream.warmThroughputMiBps.map { WarmThroughputObject(targetMiBps: $0, currentMiBps: $0) }
            return (DescribeStreamSummaryOutput(streamDescriptionSummary: summary), 0, 0)
        }
    }

    /// `ListStreams`, with the service's validation, errors and limits.
    public func listStreams(_ input: ListStreamsInput) async throws -> ListStreamsOutput {
        try await perform(.listStreams, stream: nil, validate: FieldValueEncoder.fields(of: input)) { state, now in
            for name in Array(state.streams.keys) { Self.advance(&state, name, now: now, configuration: configuration) }
            var names = state.streams.keys.sorted()
            let after: String?
            if let token = input.nextToken {
                guard let decoded = PageToken.decode("streams", token) else { throw invalidArgument("NextToken \(token) is not valid.") }
                after = decoded
            } else {
                after = input.exclusiveStartStreamName
            }
            if let after { names = names.filter { $0 > after } }
            let limit = input.limit ?? 100
            let page = Array(names.prefix(limit))
            let more = names.count > limit
            let token = more ? PageToken.encode("streams", after: page.last ?? "") : nil
            return (ListStreamsOutput(streamNames: page, hasMoreStreams: more, nextToken: token), 0, 0)
        }
    }

    /// `ListShards`, with the service's validation, errors and limits.
    public func listShards(_ input: ListShardsInput) async throws -> ListShardsOutput {
        let input = try resolvingARN(input, .listShards)
        return try await perform(.listShards, stream: input.streamName, validate: FieldValueEncoder.fields(of: input)) { state, now in
            var name = input.streamName
            var afterIndex = input.exclusiveStartShardId.flatMap(ShardState.index(of:)) ?? -1
            var filter = input.shardFilter
            switch (input.streamName, input.nextToken) {
            case (nil, nil):
                throw invalidArgument("Either NextToken or StreamName should be provided.")
            case (.some, .some):
                throw invalidArgument("NextToken and StreamName cannot be provided together.")
            case (nil, let token?):
                guard let cursor = ListShardsCursor(token: token) else {
                    throw invalidArgument("NextToken \(token) is not valid.")
                }
                name = cursor.stream
                afterIndex = cursor.afterIndex
                filter = cursor.filter
            default:
                break
            }
            let stream = try stream(&state, name!, now: now)
            var shards = stream.shards.filter { $0.index > afterIndex }
            if let filter { shards = shards.filter { Self.matches($0, filter, stream: stream, now: now) } }
            let limit = input.maxResults ?? 1000
            let page = Array(shards.prefix(limit))
            var token: String?
            if shards.count > limit, let last = page.last {
                token = ListShardsCursor(stream: stream.name, afterIndex: last.index, filter: filter).token
            }
            return (ListShardsOutput(shards: page.map(\.wire), nextToken: token), 0, 0)
        }
    }

    private static func matches(_ shard: ShardState, _ filter: ShardFilter, stream: StreamState, now: Double) -> Bool {
        let trimHorizon = now - Double(stream.retentionHours) * 3600
        switch filter.type {
        case .atLatest:
            return shard.isOpen
        case .afterShardId:
            return shard.index > (filter.shardId.flatMap(ShardState.index(of:)) ?? -1)
        case .atTrimHorizon:
            return shard.isOpen || (shard.closedAt ?? now) >= trimHorizon
        case .atTimestamp, .fromTimestamp:
            let at = filter.timestamp?.timeIntervalSince1970 ?? now
            let openThen = shard.createdAt <= at && (shard.closedAt.map { $0 >= at } ?? true)
            return filter.type == .atTimestamp ? openThen : openThen || shard.createdAt >= at
        default:
            return true
        }
    }

    // MARK: - Writing

    private func throttled(_ shard: ShardState, _ stream: StreamState) -> (code: String, message: String) {
        configuration.onThrottle?(stream.name, shard.id, false)
        return (
            KinesisError.Code.provisionedThroughputExceeded.rawValue,
            "Rate exceeded for shard \(shard.id) in stream \(stream.name) under account \(account)."
        )
    }

    /// Appends one record unless a fault or the shard's limit refuses it.
    private func write(
        _ data: Data, partitionKey: String, explicitHashKey: String?, to stream: inout StreamState, state: inout State,
        now: Double
    ) throws -> Result<(shardId: String, sequenceNumber: String), RecordFailure> {
        let hashKey: UInt128
        if let explicitHashKey {
            guard let parsed = try? ShardMap.parseHashKey(explicitHashKey) else {
                throw invalidArgument("Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was \(explicitHashKey)")
            }
            hashKey = parsed
        } else {
            hashKey = ShardMap.hashKey(forPartitionKey: partitionKey)
        }
        guard let index = stream.openShard(forHashKey: hashKey) else {
            throw KinesisError(code: .internalFailure, message: "No open shard covers hash key \(hashKey).", httpStatus: 500)
        }
        if state.faults.injectsRecordFaults {
            let draw = state.random.unit()
            if draw < state.faults.recordThrottleProbability {
                let failure = throttled(stream.shards[index], stream)
                return .failure(RecordFailure(code: failure.code, message: failure.message))
            }
            if draw < state.faults.recordThrottleProbability + state.faults.recordInternalFailureProbability {
                return .failure(RecordFailure(code: KinesisError.Code.internalFailure.rawValue, message: "Internal service failure."))
            }
        }
        if var records = stream.shards[index].writeRecords, var bytes = stream.shards[index].writeBytes {
            let size = Double(data.count + partitionKey.utf8.count)
            let allowed = TokenBucket.take(&records, 1, &bytes, size, now: now)
            stream.shards[index].writeRecords = records
            stream.shards[index].writeBytes = bytes
            if !allowed {
                let failure = throttled(stream.shards[index], stream)
                return .failure(RecordFailure(code: failure.code, message: failure.message))
            }
        }
        let drop = state.faults.recordDropProbability > 0 && state.random.unit() < state.faults.recordDropProbability
        let copies = state.faults.recordDuplicateProbability > 0 && state.random.unit() < state.faults.recordDuplicateProbability ? 2 : 1
        var sequenceNumber = ""
        for copy in 0..<copies {
            let counter = stream.counter
            stream.counter += 1
            let assigned = stream.sequenceNumber(shard: index, counter: counter, at: now)
            if copy == 0 { sequenceNumber = assigned }
            // A dropped write takes its sequence number and is acknowledged, but never stored.
            if drop { continue }
            let record = StoredRecord(
                counter: counter, arrival: now, data: data, partitionKey: partitionKey, sequenceNumber: assigned,
                encrypted: stream.encryptionType == .kms)
            stream.shards[index].records.append(record)
            if journal != nil {
                EngineJournal.appendRecord(stream: stream.name, shard: index, record: record, into: &state.journalBuffer)
            }
            stream.shards[index].liveBytes += EngineConfiguration.retainedBytes(
                data: data.count, partitionKey: partitionKey.utf8.count, sequenceNumber: assigned.utf8.count)
        }
        if let limit = configuration.maxRetainedBytesPerShard, stream.shards[index].liveBytes > limit {
            let dropped = stream.shards[index].trim(toBytes: limit)
            stream.shards[index].trimmedForBudget += dropped
            configuration.onBudgetTrim?(stream.name, stream.shards[index].id, stream.shards[index].trimmedForBudget)
        }
        let head = stream.shards[index].head
        let cutoff = now - Double(stream.retentionHours) * 3600
        if head < stream.shards[index].records.count, stream.shards[index].records[head].arrival < cutoff {
            stream.shards[index].trim(before: cutoff)
        }
        return .success((stream.shards[index].id, sequenceNumber))
    }

    struct RecordFailure: Error {
        var code: String
        var message: String
    }

    /// `PutRecord`, with the service's validation, errors and limits.
    public func putRecord(_ input: PutRecordInput) async throws -> PutRecordOutput {
        let (input, name) = try addressing(input, .putRecord)
        return try await perform(.putRecord, stream: name, validate: input.validationFields) { state, now in
            var encryption: EncryptionType?
            let outcome = try mutateStream(&state, name, now: now) { stream, state in
                encryption = stream.writeEncryption
                if let ordering = input.sequenceNumberForOrdering, !SequenceNumber.isUsableForOrdering(ordering, now: now) {
                    throw invalidArgument(
                        "ExclusiveMinimumSequenceNumber \(ordering) used in PutRecord on stream \(stream.name) under account \(account) is invalid.")
                }
                return try write(
                    input.data, partitionKey: input.partitionKey, explicitHashKey: input.explicitHashKey, to: &stream,
                    state: &state, now: now)
            }
            switch outcome {
            case .success(let written):
                return (PutRecordOutput(shardId: written.shardId, sequenceNumber: written.sequenceNumber, encryptionType: encryption), 1, 0)
            case .failure(let failure):
                throw KinesisError(
                    code: KinesisError.Code(rawValue: failure.code), message: failure.message,
                    httpStatus: failure.code == KinesisError.Code.internalFailure.rawValue ? 500 : 400)
            }
        }
    }

    /// The most a PutRecords request may carry, data and partition keys together.
    public static let putRecordsByteLimit = 10 * 1024 * 1024

    /// `PutRecords`, with the service's validation, errors and limits.
    public func putRecords(_ input: PutRecordsInput) async throws -> PutRecordsOutput {
        let (input, name) = try addressing(input, .putRecords)
        return try await perform(.putRecords, stream: name, validate: input.validationFields) { state, now in
            let total = input.records.reduce(0) { $0 + $1.data.count + $1.partitionKey.utf8.count }
            if total > Self.putRecordsByteLimit {
                _ = try readableStream(&state, name, now: now)
                throw invalidArgument(
                    "Records size exceeds \(Self.putRecordsByteLimit) bytes: the request carries \(total) bytes of data and partition keys.")
            }
            var results: [PutRecordsResultEntry] = []
            results.reserveCapacity(input.records.count)
            var failed = 0
            var encryption: EncryptionType?
            try mutateStream(&state, name, now: now) { stream, state in
                encryption = stream.writeEncryption
                for entry in input.records {
                    switch try write(
                        entry.data, partitionKey: entry.partitionKey, explicitHashKey: entry.explicitHashKey, to: &stream,
                        state: &state, now: now)
                    {
                    case .success(let written):
                        results.append(PutRecordsResultEntry(sequenceNumber: written.sequenceNumber, shardId: written.shardId))
                    case .failure(let failure):
                        failed += 1
                        results.append(PutRecordsResultEntry(errorCode: failure.code, errorMessage: failure.message))
                    }
                }
            }
            return (
                PutRecordsOutput(records: results, failedRecordCount: failed, encryptionType: encryption),
                input.records.count - failed, failed
            )
        }
    }

    // MARK: - Reading

    /// `GetShardIterator`, with the service's validation, errors and limits.
    public func getShardIterator(_ input: GetShardIteratorInput) async throws -> GetShardIteratorOutput {
        let (input, name) = try addressing(input, .getShardIterator)
        return try await perform(.getShardIterator, stream: name, validate: FieldValueEncoder.fields(of: input)) { state, now in
            // AWS reads the shard id before it looks the stream up: a shard id it cannot read, or
            // any shard of a stream that does not exist, is named in the error.
            guard let index = ShardState.index(of: input.shardId) else { throw shardNotFound(input.shardId, stream: name) }
            let missingShard = KinesisError(
                code: .resourceNotFound,
                message: "Shard \(ShardState.id(index)) in stream \(name) under account \(account) does not exist",
                httpStatus: 400)
            let stream: StreamState
            do {
                stream = try readableStream(&state, name, now: now)
            } catch let error as KinesisError where error.code == .resourceNotFound {
                throw missingShard
            }
            let name = stream.name
            guard index < stream.shards.count else { throw missingShard }
            let position = try startPosition(
                input.shardIteratorType, sequenceNumber: input.startingSequenceNumber, timestamp: input.timestamp, stream: stream,
                shard: index, now: now, operation: "GetShardIterator")
            let iterator = ShardIteratorToken(
                stream: name, streamCreation: stream.creationSecond, shardIndex: index, position: position,
                issuedMillis: Int64(now * 1000))
            return (GetShardIteratorOutput(shardIterator: iterator.encoded), 0, 0)
        }
    }

    /// Where a reader starting at `type` begins in shard `index`: the counter of the first
    /// record it gets. AWS's checks and words for each iterator type.
    func startPosition(
        _ type: ShardIteratorType, sequenceNumber: String?, timestamp: Date?, stream: StreamState, shard index: Int, now: Double,
        operation: String
    ) throws -> UInt64 {
        var shard = stream.shards[index]
        shard.trim(before: now - Double(stream.retentionHours) * 3600)
        let name = stream.name
        let position: UInt64
        switch type {
        case .atSequenceNumber, .afterSequenceNumber:
            guard let text = sequenceNumber else {
                throw invalidArgument(
                    "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified \(type.rawValue) and no StartingSequenceNumber."
                )
            }
            if let encoded = SequenceNumber.legacyShardIndex(text) {
                // A number below 2^124 reads as an old-format sequence number of shard
                // (number mod 65536), as on AWS: another shard's is refused by name, and
                // this shard's fails inside the service.
                guard encoded == index else {
                    throw invalidArgument(
                        "Invalid StartingSequenceNumber. It encodes \(ShardState.id(encoded)), while it was used in a call to a shard with \(shard.id)")
                }
                throw KinesisError(code: .internalFailure, message: "", httpStatus: 500)
            }
            guard let parts = SequenceNumber.parse(text) else {
                throw invalidArgument(
                    "StartingSequenceNumber \(text) used in \(operation) on shard \(shard.id) in stream \(name) under account \(account) is invalid."
                )
            }
            guard parts.shardIndex == index else {
                throw invalidArgument(
                    "Invalid StartingSequenceNumber. It encodes \(ShardState.id(parts.shardIndex)), while it was used in a call to a shard with \(shard.id)"
                )
            }
            guard parts.streamCreation == stream.creationSecond else {
                throw invalidArgument(
                    "StartingSequenceNumber \(text) used in \(operation) on shard \(shard.id) in stream \(name) under account \(account) is invalid because it did not come from this stream."
                )
            }
            position = type == .atSequenceNumber ? parts.counter : parts.counter &+ (parts.counter == .max ? 0 : 1)
        case .trimHorizon, .latest:
            if sequenceNumber != nil {
                throw invalidArgument(
                    "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified \(type.rawValue) and also a StartingSequenceNumber."
                )
            }
            position = type == .trimHorizon ? 0 : stream.counter
        case .atTimestamp:
            guard let timestamp = timestamp?.timeIntervalSince1970 else {
                throw invalidArgument(
                    "Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter.")
            }
            let requested = Int64((timestamp * 1000).rounded(.down))
            let current = Int64((now * 1000).rounded(.down))
            if requested > current {
                throw invalidArgument(
                    "The timestampInMillis parameter cannot be greater than the currentTimestampInMillis. timestampInMillis: \(requested), currentTimestampInMillis: \(current)")
            }
            let live = shard.records[shard.head...]
            position = live.first { $0.arrival >= timestamp }?.counter ?? stream.counter
        default:
            throw invalidArgument("Unsupported ShardIteratorType \(type.rawValue).")
        }
        return position
    }

    /// What one read of a shard returns.
    struct Page {
        var records: [Record]
        /// Data and partition key bytes of `records`.
        var bytes: Int
        /// The counter to read from next.
        var next: UInt64
        var millisBehindLatest: Int
        /// The shard's children, once a closed shard has been read to its end.
        var children: [ChildShard]?
    }

    /// Records of shard `index` from counter `position` on: at most `limit` of them and
    /// `byteLimit` bytes (one record always, so that no record is too big to read).
    static func page(of stream: StreamState, shard index: Int, from position: UInt64, limit: Int, byteLimit: Int, now: Double) -> Page {
        let shard = stream.shards[index]
        var cursor = shard.firstIndex(atOrAfter: position)
        var records: [Record] = []
        var bytes = 0
        while cursor < shard.records.count, records.count < limit {
            let stored = shard.records[cursor]
            let size = stored.data.count + stored.partitionKey.utf8.count
            if !records.isEmpty, bytes + size > byteLimit { break }
            bytes += size
            records.append(
                Record(
                    sequenceNumber: stored.sequenceNumber, data: stored.data,
                    partitionKey: stored.partitionKey, approximateArrivalTimestamp: Date(timeIntervalSince1970: stored.arrival), encryptionType: stored.encrypted ? .kms : nil))
            cursor += 1
        }
        let next = cursor < shard.records.count ? shard.records[cursor].counter : max(position, stream.counter)
        let drained = cursor >= shard.records.count
        let millisBehind = drained || records.isEmpty ? 0 : Int((now - shard.records[cursor - 1].arrival) * 1000)
        var children: [ChildShard]?
        if drained, !shard.isOpen {
            children = stream.shards.filter { $0.parentShardId == shard.id || $0.adjacentParentShardId == shard.id }
                .map { child in
                    ChildShard(
                        shardId: child.id, parentShards: [child.parentShardId, child.adjacentParentShardId].compactMap { $0 },
                        hashKeyRange: child.wire.hashKeyRange)
                }
        }
        return Page(records: records, bytes: bytes, next: next, millisBehindLatest: millisBehind, children: children)
    }

    /// The most GetRecords returns in one call.
    public static let getRecordsByteLimit = 10 * 1024 * 1024

    /// `GetRecords`, with the service's validation, errors and limits.
    public func getRecords(_ input: GetRecordsInput) async throws -> GetRecordsOutput {
        let token = ShardIteratorToken(encoded: input.shardIterator)
        return try await perform(.getRecords, stream: token?.stream, validate: input.validationFields) { state, now in
            guard let token else { throw invalidArgument("Invalid ShardIterator.") }
            let lifetime = configuration.iteratorLifetime.timeInterval
            let issued = Double(token.issuedMillis) / 1000
            if now - issued > lifetime {
                throw KinesisError(
                    code: .expiredIterator,
                    message: "Iterator expired. The iterator was created at time \(Self.javaDate(issued)) while right now it is \(Self.javaDate(now)) which is further in the future than the tolerated delay of \(Int(lifetime * 1000)) milliseconds.",
                    httpStatus: 400)
            }
            // The iterator's stream deleted, or a stream of its name without its shard: AWS names the shard.
            let gone = KinesisError(
                code: .resourceNotFound,
                message: "Shard \(ShardState.id(token.shardIndex)) in stream \(token.stream) under account \(account) does not exist", httpStatus: 400)
            guard state.streams[token.stream] != nil else { throw gone }
            return try mutateStream(&state, token.stream, now: now) { stream, _ in
                guard token.shardIndex < stream.shards.count else { throw gone }
                guard stream.creationSecond == token.streamCreation else { throw invalidArgument("Invalid ShardIterator.") }
                let index = token.shardIndex
                stream.shards[index].trim(before: now - Double(stream.retentionHours) * 3600)
                if stream.shards[index].readCalls != nil {
                    let hasCall = stream.shards[index].readCalls!.take(1, now: now)
                    let hasBytes = stream.shards[index].readBytes!.take(0, now: now) && stream.shards[index].readBytes!.tokens > 0
                    if !hasCall || !hasBytes {
                        configuration.onThrottle?(stream.name, stream.shards[index].id, true)
                        throw KinesisError(
                            code: .provisionedThroughputExceeded,
                            message: "Rate exceeded for Shard - \(stream.shards[index].id) in stream \(stream.name) under account \(account).",
                            httpStatus: 400)
                    }
                }
                let page = Self.page(of: stream, shard: index, from: token.position, limit: input.limit ?? 10_000, byteLimit: Self.getRecordsByteLimit, now: now)
                if stream.shards[index].readBytes != nil {
                    _ = stream.shards[index].readBytes!.take(0, now: now)
                    stream.shards[index].readBytes!.spend(Double(page.bytes))
                }
                if let children = page.children {
                    return (GetRecordsOutput(records: page.records, nextShardIterator: nil, millisBehindLatest: 0, childShards: children), page.records.count, 0)
                }
                let next = ShardIteratorToken(
                    stream: stream.name, streamCreation: stream.creationSecond, shardIndex: index, position: page.next,
                    issuedMillis: Int64(now * 1000))
                return (
                    GetRecordsOutput(records: page.records, nextShardIterator: next.encoded, millisBehindLatest: page.millisBehindLatest),
                    page.records.count, 0
                )
            }
        }
    }

    /// `Thu Jan 22 01:22:02 UTC 2015`, as Java prints a date.
    static func javaDate(_ seconds: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE MMM dd HH:mm:ss 'UTC' yyyy"
        return formatter.string(from: Date(timeIntervalSince1970: seconds))
    }

    // MARK: - Retention and resharding

    /// `IncreaseStreamRetentionPeriod`, with the service's validation, errors and limits.
    public func increaseStreamRetentionPeriod(_ input: IncreaseStreamRetentionPeriodInput) async throws {
        try await changeRetention(input, operation: .increaseStreamRetentionPeriod)
    }

    /// `DecreaseStreamRetentionPeriod`, with the service's validation, errors and limits.
    public func decreaseStreamRetentionPeriod(_ input: DecreaseStreamRetentionPeriodInput) async throws {
        try await changeRetention(input, operation: .decreaseStreamRetentionPeriod)
    }

    private func changeRetention<Input: RetentionChange>(_ input: Input, operation: KinesisOperation) async throws {
        let (input, name) = try addressing(input, operation)
        return try await perform(operation, stream: name, validate: FieldValueEncoder.fields(of: input)) { state, now in
            var stream = try stream(&state, name, now: now)
            let hours = input.retentionPeriodHours
            if hours < 24 {
                throw invalidArgument("Minimum allowed retention period is 24 hours. Requested retention period (\(hours) hours) is too short.")
            }
            if hours > 8760 {
                throw invalidArgument("Maximum allowed retention period is 8760 hours. Requested retention period (\(hours) hours) is too long.")
            }
            if operation == .increaseStreamRetentionPeriod, hours < stream.retentionHours {
                throw invalidArgument(
                    "Requested retention period (\(hours) hours) for stream \(stream.name) can not be shorter than existing retention period (\(stream.retentionHours) hours). Use DecreaseRetentionPeriod API."
                )
            }
            if operation == .decreaseStreamRetentionPeriod, hours > stream.retentionHours {
                throw invalidArgument(
                    "Requested retention period (\(hours) hours) for stream \(stream.name) can not be longer than existing retention period (\(stream.retentionHours) hours). Use IncreaseRetentionPeriod API."
                )
            }
            guard stream.status == .active else { throw notActive(stream) }
            stream.retentionHours = hours
            state.streams[name] = stream
            return ((), 0, 0)
        }
    }

    /// `UpdateShardCount`, with the service's validation, errors and limits.
    public func updateShardCount(_ input: UpdateShardCountInput) async throws -> UpdateShardCountOutput {
        let (input, name) = try addressing(input, .updateShardCount)
        return try await perform(.updateShardCount, stream: name, validate: FieldValueEncoder.fields(of: input)) { state, now in
            let stream = try stream(&state, name, now: now)
            if stream.mode == .onDemand {
                throw KinesisError(
                    code: .validation,
                    message: "UpdateShardCount is not supported for stream \(stream.name) under account \(account) because it is in ON_DEMAND mode.",
                    httpStatus: 400)
            }
            guard stream.status == .active else { throw notActive(stream) }
            let current = stream.openShardCount
            let target = input.targetShardCount
            if target > current * 2 || target * 2 < current {
                throw KinesisError(
                    code: .limitExceeded,
                    message: "UpdateShardCount cannot scale stream \(stream.name) under account \(account) from \(current) to \(target) shards: the target must be between half and double the current open shard count (\((current + 1) / 2) to \(current * 2)).",
                    httpStatus: 400)
            }
            if target > current { try checkShardQuota(state, adding: target - current) }
            update(&state, name, with: .uniform(target: target), now: now)
            return (
                UpdateShardCountOutput(streamName: stream.name, currentShardCount: current, targetShardCount: target, streamARN: stream.arn),
                0, 0
            )
        }
    }

    /// The account's shard quota (``EngineConfiguration/shardLimit``): open shards of provisioned
    /// streams, with what a call would add, in AWS's words when it would go over.
    func checkShardQuota(_ state: State, adding: Int) throws {
        let open = state.streams.values.filter { $0.mode != .onDemand }.reduce(0) { $0 + $1.openShardCount }
        guard open + adding > configuration.shardLimit else { return }
        throw KinesisError(
            code: .limitExceeded,
            message: "This request would exceed the shard limit for the account \(account) in \(configuration.region). Current shard count for the account: \(open). Limit: \(configuration.shardLimit). Number of additional shards that would have resulted from this request: \(adding). Refer to the AWS Service Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits.",
            httpStatus: 400)
    }

    /// AWS's answer for a shard id that names no shard.
    func shardNotFound(_ shardId: String, stream: String) -> KinesisError {
        KinesisError(
            code: .resourceNotFound, message: "Could not find shard \(shardId) in stream \(stream) under account \(account).", httpStatus: 400)
    }

    private func shardIndex(_ shardId: String, in stream: StreamState) throws -> Int {
        guard let index = ShardState.index(of: shardId), index < stream.shards.count else {
            throw shardNotFound(ShardState.index(of: shardId).map(ShardState.id) ?? shardId, stream: stream.name)
        }
        guard stream.shards[index].isOpen else {
            throw KinesisError(
                code: .resourceInUse,
                message: "Shard \(stream.shards[index].id) in stream \(stream.name) under account \(account) has already been merged or split, and thus is not eligible for merging or splitting.",
                httpStatus: 400)
        }
        return index
    }

    /// `SplitShard`, with the service's validation, errors and limits.
    public func splitShard(_ input: SplitShardInput) async throws {
        let (input, name) = try addressing(input, .splitShard)
        return try await perform(.splitShard, stream: name, validate: FieldValueEncoder.fields(of: input)) { state, now in
            // The shard id is read before the stream is looked up, as AWS does.
            guard ShardState.index(of: input.shardToSplit) != nil else { throw shardNotFound(input.shardToSplit, stream: name) }
            let stream = try stream(&state, name, now: now)
            let index = try shardIndex(input.shardToSplit, in: stream)
            try checkShardQuota(state, adding: 1)
            let shard = stream.shards[index]
            guard let key = try? ShardMap.parseHashKey(input.newStartingHashKey), key > shard.range.lowerBound + 1,
                key < shard.range.upperBound
            else {
                throw invalidArgument(
                    "NewStartingHashKey \(input.newStartingHashKey) used in SplitShard() on shard \(shard.id) in stream \(stream.name) under account \(account) is not both greater than one plus the shard's StartingHashKey \(shard.range.lowerBound) and less than the shard's EndingHashKey \(shard.range.upperBound)."
                )
            }
            guard stream.status == .active else { throw notActive(stream) }
            update(&state, name, with: .split(shard: index, at: key), now: now)
            return ((), 0, 0)
        }
    }

    /// `MergeShards`, with the service's validation, errors and limits.
    public func mergeShards(_ input: MergeShardsInput) async throws {
        let (input, name) = try addressing(input, .mergeShards)
        return try await perform(.mergeShards, stream: name, validate: FieldValueEncoder.fields(of: input)) { state, now in
            for shardId in [input.shardToMerge, input.adjacentShardToMerge] where ShardState.index(of: shardId) == nil {
                throw shardNotFound(shardId, stream: name)
            }
            let stream = try stream(&state, name, now: now)
            let first = try shardIndex(input.shardToMerge, in: stream)
            let second = try shardIndex(input.adjacentShardToMerge, in: stream)
            let a = stream.shards[first].range
            let b = stream.shards[second].range
            // The adjacent shard must be the one just above: AWS refuses the pair the other way round.
            guard a.upperBound != UInt128.max && a.upperBound + 1 == b.lowerBound else {
                throw invalidArgument(
                    "Shards \(stream.shards[first].id) and \(stream.shards[second].id) in stream \(stream.name) under account \(account) are not an adjacent pair of shards eligible for merging"
                )
            }
            guard stream.status == .active else { throw notActive(stream) }
            update(&state, name, with: .merge(shard: first, adjacent: second), now: now)
            return ((), 0, 0)
        }
    }

    /// `UpdateStreamMode`, with the service's validation, errors and limits.
    public func updateStreamMode(_ input: UpdateStreamModeInput) async throws {
        try await perform(.updateStreamMode, stream: nil, validate: FieldValueEncoder.fields(of: input)) { state, now in
            guard let name = state.streams.values.first(where: { $0.arn == input.streamARN })?.name else {
                throw KinesisError(
                    code: .resourceNotFound, message: "Stream with ARN \(input.streamARN) not found.", httpStatus: 400)
            }
            let stream = try stream(&state, name, now: now)
            guard stream.status == .active else { throw notActive(stream) }
            if stream.mode != input.streamModeDetails.streamMode {
                update(&state, name, with: .mode(input.streamModeDetails.streamMode), now: now)
            }
            return ((), 0, 0)
        }
    }
}

/// What ``InMemoryKinesis/snapshot()`` returns.
public struct EngineSnapshot: Sendable {
    /// A shard as the snapshot saw it.
    public struct Shard: Sendable {
        /// Its id, hash range, lineage and sequence range.
        public var shard: Kinesis.Shard
        /// Every record it holds, oldest first.
        public var records: [Record]
    }

    /// A stream as the snapshot saw it.
    public struct Stream: Sendable {
        /// The stream name.
        public var name: String
        /// The stream ARN.
        public var arn: String
        /// CREATING, ACTIVE, UPDATING or DELETING.
        public var status: StreamStatus
        /// Provisioned or on-demand.
        public var mode: StreamMode
        /// How long records are kept.
        public var retentionPeriodHours: Int
        /// Every shard, open and closed, in creation order.
        public var shards: [Shard]

        /// Every live record of the stream, shard by shard.
        public var records: [Record] { shards.flatMap(\.records) }
    }

    /// Every stream, in creation order.
    public var streams: [Stream]

    /// The stream called `name`, if there is one.
    public func stream(_ name: String) -> Stream? { streams.first { $0.name == name } }
}

/// The two retention calls' inputs, which carry the same members.
protocol RetentionChange: StreamNaming, Encodable, Sendable {
    var retentionPeriodHours: Int { get }
}

extension IncreaseStreamRetentionPeriodInput: RetentionChange {}
extension DecreaseStreamRetentionPeriodInput: RetentionChange {}
