import Foundation
import Kinesis

extension KinesisOperation {
    /// Whether a successful call changes streams, consumers, tags or settings (anything but
    /// records), so that a data directory must keep the new descriptions.
    var changesStreams: Bool {
        switch self {
        case .describeStream, .describeStreamSummary, .listStreams, .listShards, .putRecord, .putRecords, .getShardIterator,
            .getRecords, .listTagsForStream, .listTagsForResource, .describeLimits, .describeAccountSettings,
            .describeStreamConsumer, .listStreamConsumers, .getResourcePolicy, .subscribeToShard:
            return false
        case .createStream, .deleteStream, .increaseStreamRetentionPeriod, .decreaseStreamRetentionPeriod, .updateShardCount,
            .splitShard, .mergeShards, .updateStreamMode, .addTagsToStream, .removeTagsFromStream, .tagResource, .untagResource,
            .startStreamEncryption, .stopStreamEncryption, .enableEnhancedMonitoring, .disableEnhancedMonitoring,
            .updateAccountSettings, .registerStreamConsumer, .deregisterStreamConsumer, .putResourcePolicy,
            .deleteResourcePolicy, .updateMaxRecordSize, .updateStreamWarmThroughput:
            // Listed, not a default: a new operation must be placed here by someone who knows what it does.
            return true
        }
    }
}

extension InMemoryKinesis {
    /// What ``persistent(directory:configuration:clock:)`` found in its directory.
    public struct Restored: Sendable {
        /// Streams read back.
        public var streams: Int
        /// Records read back and still within their stream's retention (and the per-shard budget).
        public var records: Int
        /// Records left behind because their retention period had passed.
        public var expired: Int
        /// Records left behind to keep each shard within the per-shard byte budget.
        public var trimmedToBudget: Int = 0
        /// Bytes at the end of the file that held an entry cut short by a crash: a call that
        /// was never answered.
        public var droppedTailBytes: Int
        /// The file those bytes were kept in.
        public var droppedTailKeptIn: String? = nil
        /// False when there was no room to rewrite the journal compacted (a full disk): it is
        /// appended to as it was, and the next start compacts it.
        public var compacted = true
    }

    /// An engine that keeps its streams and records in `directory` (created if missing), as
    /// `kinesis-load serve --data-dir` does: what it held when it stopped is there again, and a
    /// call is answered only once its records are on disk, so a crash loses nothing
    /// acknowledged. One process at a time may use a directory.
    ///
    /// Damage other than a torn last entry is an error naming the file and the byte, never a
    /// silent start from empty.
    public static func persistent(
        directory: URL, configuration: EngineConfiguration = EngineConfiguration(), clock: any EngineClock = SystemEngineClock()
    ) throws -> (engine: InMemoryKinesis, restored: Restored) {
        var state = State(random: SplitMix64(seed: configuration.seed))
        var restored = Restored(streams: 0, records: 0, expired: 0, droppedTailBytes: 0)
        let journal = try EngineJournal.open(directory: directory) { contents in
            restored.droppedTailBytes = contents.droppedTailBytes
            restored.droppedTailKeptIn = contents.keptAside
            for entry in contents.entries { replay(entry, into: &state, configuration: configuration) }
            let now = clock.now()
            var live: [UInt8] = []
            for name in Array(state.streams.keys) { advance(&state, name, now: now, configuration: configuration) }
            for name in state.streams.keys.sorted() {
                guard var stream = state.streams[name] else { continue }
                for index in stream.shards.indices {
                    let before = stream.shards[index].liveCount
                    stream.shards[index].trim(before: now - Double(stream.retentionHours) * 3600)
                    let retained = stream.shards[index].liveCount
                    if let budget = configuration.maxRetainedBytesPerShard { stream.shards[index].trim(toBytes: budget) }
                    restored.expired += before - retained
                    restored.trimmedToBudget += retained - stream.shards[index].liveCount
                    restored.records += stream.shards[index].liveCount
                }
                state.streams[name] = stream
            }
            restored.streams = state.streams.count
            try EngineJournal.appendCatalog(
                EngineJournal.Catalog(streams: state.streams.values.sorted { $0.name < $1.name }, billingCommitment: state.billingCommitment),
                into: &live)
            for name in state.streams.keys.sorted() {
                let stream = state.streams[name]!
                for shard in stream.shards {
                    for record in shard.records[shard.head...] {
                        EngineJournal.appendRecord(stream: name, shard: shard.index, record: record, into: &live)
                    }
                }
            }
            return live
        }
        restored.compacted = journal.compacted
        return (InMemoryKinesis(configuration: configuration, clock: clock, state: state, journal: journal), restored)
    }

    /// Applies one journal entry: a catalog replaces every stream's description (keeping the
    /// records of a stream that is still the same stream), a record joins its shard.
    private static func replay(_ entry: EngineJournal.Entry, into state: inout State, configuration: EngineConfiguration) {
        switch entry {
        case .catalog(let catalog):
            var streams: [String: StreamState] = [:]
            for var stream in catalog.streams {
                let now = stream.shards.map(\.createdAt).max() ?? stream.createdAt
                if let previous = state.streams[stream.name], previous.arn == stream.arn, previous.createdAt == stream.createdAt {
                    for index in stream.shards.indices where index < previous.shards.count {
                        stream.shards[index].records = previous.shards[index].records
                        stream.shards[index].head = previous.shards[index].head
                        stream.shards[index].liveBytes = previous.shards[index].liveBytes
                    }
                    stream.counter = max(stream.counter, previous.counter)
                }
                if let limits = configuration.limits {
                    for index in stream.shards.indices { stream.shards[index].startLimits(limits, now: now) }
                }
                stream.rebuildOpenMap()
                streams[stream.name] = stream
            }
            state.streams = streams
            state.billingCommitment = catalog.billingCommitment
        case .record(let entry):
            // A reshard whose UPDATING period ended before this record was written had been
            // applied when it was written: apply it now too.
            advance(&state, entry.stream, now: entry.record.arrival, configuration: configuration)
            guard var stream = state.streams.removeValue(forKey: entry.stream) else { return }
            defer { state.streams[entry.stream] = stream }
            guard entry.shard < stream.shards.count else { return }
            let record = entry.record
            stream.shards[entry.shard].records.append(record)
            stream.shards[entry.shard].liveBytes += EngineConfiguration.retainedBytes(
                data: record.data.count, partitionKey: record.partitionKey.utf8.count, sequenceNumber: record.sequenceNumber.utf8.count)
            stream.counter = max(stream.counter, record.counter + 1)
        }
    }
}

extension ShardState {
    /// Fresh token buckets for the engine's per-shard limits.
    mutating func startLimits(_ limits: ThroughputLimits, now: Double) {
        writeRecords = TokenBucket(rate: limits.writeRecordsPerSecond, now: now)
        writeBytes = TokenBucket(rate: limits.writeBytesPerSecond, now: now)
        readCalls = TokenBucket(rate: limits.readCallsPerSecond, now: now)
        readBytes = TokenBucket(rate: limits.readBytesPerSecond, now: now)
    }
}
