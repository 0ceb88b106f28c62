import Foundation
import Kinesis
import Synchronization

/// A `KinesisAPI` that passes every call through and tells the recorder, shard by shard, what
/// Kinesis accepted, throttled and refused. It sits under the publisher, so it sees what the
/// stream sees whatever the publishing mode: aggregates as one record each, and every retry.
package final class ObservedKinesis: KinesisAPIForwarding {
    package let base: any KinesisAPI
    let recorder: Recorder
    private let shardMap: Mutex<(map: ShardMap, known: Set<String>)>
    private let refreshing = Atomic<Bool>(false)

    init(base: any KinesisAPI, recorder: Recorder, shardMap: ShardMap) {
        self.base = base
        self.recorder = recorder
        self.shardMap = Mutex((shardMap, Set(shardMap.entries.map(\.shardId))))
    }

    /// The shard map in use: the run's first, reloaded after records land on a shard it does not know.
    var currentShardMap: ShardMap { shardMap.withLock { $0.map } }

    /// After a reshard, records land on shards the map does not know: reload it (once at a
    /// time), so that refused entries are charged to the shards that refuse them now.
    private func noteLanded(on shardIds: some Sequence<String>, stream: String?) async {
        let unknown = shardMap.withLock { state in shardIds.contains { !state.known.contains($0) } }
        guard unknown, refreshing.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return }
        defer { refreshing.store(false, ordering: .releasing) }
        guard let stream, let map = try? await StreamManager(api: base).shardMap(stream: stream) else { return }
        shardMap.withLock { $0 = (map, Set(map.entries.map(\.shardId))) }
    }

    /// The shard Kinesis will route an entry to, by the current map.
    func predictedShard(partitionKey: String, explicitHashKey: String?) -> String {
        let hashKey = ShardMap.hashKey(forPartitionKey: partitionKey, explicitHashKey: explicitHashKey)
        return shardMap.withLock { $0.map.shardId(forHashKey: hashKey) } ?? "unknown"
    }

    package func putRecord(_ input: PutRecordInput) async throws -> PutRecordOutput {
        do {
            let output = try await base.putRecord(input)
            recorder.shard(output.shardId, accepted: 1, bytes: input.data.count + input.partitionKey.utf8.count, errors: [:])
            await noteLanded(on: CollectionOfOne(output.shardId), stream: input.streamName)
            return output
        } catch let error as KinesisError {
            let shard = predictedShard(partitionKey: input.partitionKey, explicitHashKey: input.explicitHashKey)
            recorder.shard(shard, accepted: 0, bytes: 0, errors: [error.code.rawValue: 1])
            throw error
        }
    }

    package func putRecords(_ input: PutRecordsInput) async throws -> PutRecordsOutput {
        let output: PutRecordsOutput
        do {
            output = try await base.putRecords(input)
        } catch let error as KinesisError {
            var byShard: [String: Int] = [:]
            for entry in input.records {
                byShard[predictedShard(partitionKey: entry.partitionKey, explicitHashKey: entry.explicitHashKey), default: 0] += 1
            }
            for (shard, count) in byShard { recorder.shard(shard, accepted: 0, bytes: 0, errors: [error.code.rawValue: count]) }
            throw error
        }
        var accepted: [String: (records: Int, bytes: Int)] = [:]
        var refused: [String: [String: Int]] = [:]
        for (entry, result) in zip(input.records, output.records) {
            if let code = result.errorCode {
                let shard = predictedShard(partitionKey: entry.partitionKey, explicitHashKey: entry.explicitHashKey)
                refused[shard, default: [:]][code, default: 0] += 1
            } else if let shard = result.shardId {
                accepted[shard, default: (0, 0)].records += 1
                accepted[shard, default: (0, 0)].bytes += entry.data.count + entry.partitionKey.utf8.count
            }
        }
        for shard in Set(accepted.keys).union(refused.keys) {
            recorder.shard(shard, accepted: accepted[shard]?.records ?? 0, bytes: accepted[shard]?.bytes ?? 0, errors: refused[shard] ?? [:])
        }
        await noteLanded(on: accepted.keys, stream: input.streamName)
        return output
    }
}
