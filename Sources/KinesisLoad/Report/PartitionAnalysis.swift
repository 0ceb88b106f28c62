import Foundation
import Kinesis

/// Predicts, without sending anything, how a scenario's keys spread over N shards at its peak
/// rate: records and bytes per second per shard, the hot shards and the keys behind them,
/// and whether the stream would throttle.
package struct PartitionAnalysis: Codable, Sendable {
    package struct ShardLoad: Codable, Sendable {
        package var shardId: String
        package var sharePercent: Double
        /// User records per second at the peak rate.
        package var recordsPerSecond: Double
        package var bytesPerSecond: Double
        /// Kinesis records per second: aggregates count once in aggregated mode.
        package var kinesisRecordsPerSecond: Double
        package var recordsPercent: Double
        package var bytesPercent: Double
        package var wouldThrottle: Bool
        package var hot: Bool
        package var topKeys: [KeyShare]
    }

    package struct KeyShare: Codable, Sendable {
        package var partitionKey: String
        package var sharePercent: Double
    }

    package var scenario: String
    package var shards: Int
    package var peakRate: Double
    package var publisher: String
    package var sampledEvents: Int
    package var distinctKeys: Int
    package var meanRecordBytes: Double
    package var shardLoads: [ShardLoad]
    package var hotShards: [String]
    package var wouldThrottle: Bool
    /// How each event type's keys spread: a strategy with few keys reaches few shards.
    package var types: [TypeSpread]

    package struct TypeSpread: Codable, Sendable {
        package var type: String
        package var strategy: String
        /// Its share of all events.
        package var sharePercent: Double
        /// Distinct keys sampled (counted up to 100,000).
        package var distinctKeys: Int
        /// Shards that got any of its records, of `shards`.
        package var shardsHit: Int
        package var busiestShard: String
        /// The busiest shard's share of this type's records (an even spread is 100 / shards).
        package var busiestSharePercent: Double
    }

    package static func analyze(_ scenario: Scenario, shards: Int, peakRate: Double, sampleEvents: Int? = nil) -> PartitionAnalysis {
        let map = ShardMap.even(count: shards)
        var source = EventSource(scenario: scenario, shardMap: map)
        let samples = sampleEvents ?? min(200_000, max(20_000, Int(peakRate * 10)))
        var records = [Int](repeating: 0, count: shards)
        var bytes = [Int](repeating: 0, count: shards)
        var keysByShard = [[String: Int]](repeating: [:], count: shards)
        var distinct = Set<String>()
        var totalBytes = 0
        var typeShards = [[Int]](repeating: [Int](repeating: 0, count: shards), count: scenario.events.count)
        var typeKeys = [Set<String>](repeating: [], count: scenario.events.count)
        for _ in 0..<samples {
            let event = source.next()
            let hashKey = ShardMap.hashKey(forPartitionKey: event.partitionKey, explicitHashKey: event.explicitHashKey)
            let shard = map.index(forHashKey: hashKey) ?? 0
            let size = event.data.count + event.partitionKey.utf8.count
            records[shard] += 1
            bytes[shard] += size
            totalBytes += size
            if keysByShard[shard].count < 50_000 || keysByShard[shard][event.partitionKey] != nil {
                keysByShard[shard][event.partitionKey, default: 0] += 1
            }
            if distinct.count < 1_000_000 { distinct.insert(event.partitionKey) }
            typeShards[event.type][shard] += 1
            if typeKeys[event.type].count < 100_000 { typeKeys[event.type].insert(event.partitionKey) }
        }
        let types = scenario.events.indices.map { index in
            let counts = typeShards[index]
            let total = max(1, counts.reduce(0, +))
            let busiest = counts.indices.max { counts[$0] < counts[$1] } ?? 0
            return TypeSpread(
                type: scenario.events[index].type, strategy: scenario.events[index].partitionKey.name,
                sharePercent: Double(counts.reduce(0, +)) / Double(samples) * 100, distinctKeys: typeKeys[index].count,
                shardsHit: counts.filter { $0 > 0 }.count, busiestShard: map.entries[busiest].shardId,
                busiestSharePercent: Double(counts[busiest]) / Double(total) * 100)
        }
        let aggregated = scenario.publisher.mode == .aggregated
        let flushesPerSecond = 1 / max(scenario.publisher.maxBufferedTime.timeInterval, 0.001)
        let fair = 100 / Double(shards)
        var loads: [ShardLoad] = []
        for index in 0..<shards {
            let share = Double(records[index]) / Double(samples)
            let recordsPerSecond = share * peakRate
            let bytesPerSecond = Double(bytes[index]) / Double(samples) * peakRate
            // An aggregate holds up to 50 KiB and leaves at least once per buffering period.
            let kinesisRecords =
                aggregated && recordsPerSecond > 0
                ? min(recordsPerSecond, max(flushesPerSecond, (bytesPerSecond / 51_200).rounded(.up))) : recordsPerSecond
            let recordsPercent = kinesisRecords / RunSummary.shardRecordsPerSecond * 100
            let bytesPercent = bytesPerSecond / RunSummary.shardBytesPerSecond * 100
            let throttles = recordsPercent > 100 || bytesPercent > 100
            let top = keysByShard[index].sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(5).map {
                KeyShare(partitionKey: $0.key, sharePercent: Double($0.value) / Double(samples) * 100)
            }
            loads.append(
                ShardLoad(
                    shardId: map.entries[index].shardId, sharePercent: share * 100, recordsPerSecond: recordsPerSecond,
                    bytesPerSecond: bytesPerSecond, kinesisRecordsPerSecond: kinesisRecords, recordsPercent: recordsPercent,
                    bytesPercent: bytesPercent, wouldThrottle: throttles, hot: throttles || (shards > 1 && share * 100 > 2 * fair),
                    topKeys: Array(top)))
        }
        return PartitionAnalysis(
            scenario: scenario.name, shards: shards, peakRate: peakRate, publisher: scenario.publisher.mode.rawValue, sampledEvents: samples,
            distinctKeys: distinct.count, meanRecordBytes: Double(totalBytes) / Double(samples), shardLoads: loads,
            hotShards: loads.filter(\.hot).map(\.shardId), wouldThrottle: loads.contains(where: \.wouldThrottle), types: types)
    }

    package var text: String {
        var out = "\(scenario): \(shards) shard\(shards == 1 ? "" : "s") at the peak of \(ReportWriter.fixed(peakRate)) events/s (\(publisher))\n"
        out += "sampled \(sampledEvents) events: \(distinctKeys)\(distinctKeys >= 1_000_000 ? "+" : "") distinct keys, \(ReportWriter.fixed(meanRecordBytes)) bytes per record on average\n\n"
        let header = ["shard", "share", "records/s", "kinesis rec/s", "bytes/s", "% records", "% bytes", ""]
        var rows = [header]
        for load in shardLoads {
            rows.append([
                load.shardId, ReportWriter.fixed(load.sharePercent) + "%", ReportWriter.fixed(load.recordsPerSecond),
                ReportWriter.fixed(load.kinesisRecordsPerSecond), ReportWriter.bytes(Int(load.bytesPerSecond)) + "/s",
                ReportWriter.fixed(load.recordsPercent) + "%", ReportWriter.fixed(load.bytesPercent) + "%",
                load.wouldThrottle ? "THROTTLES" : load.hot ? "hot" : "",
            ])
        }
        out += formatTable(rows) + "\n"
        out += "\nby event type (which shards each type's keys reach):\n"
        var typeRows = [["event type", "strategy", "share", "keys", "shards", "busiest shard", "of its records"]]
        for type in types {
            typeRows.append([
                type.type, type.strategy, ReportWriter.fixed(type.sharePercent) + "%", String(type.distinctKeys) + (type.distinctKeys >= 100_000 ? "+" : ""),
                "\(type.shardsHit) of \(shards)", type.busiestShard, ReportWriter.fixed(type.busiestSharePercent) + "%",
            ])
        }
        out += formatTable(typeRows) + "\n"
        // A type whose records reach fewer shards than there are, or pile onto one, is named.
        for type in types where type.sharePercent > 0 && (type.shardsHit < shards || type.busiestSharePercent > 2 * 100 / Double(shards)) {
            out += "concentrates: \(type.type) (\(type.strategy)) reaches \(type.shardsHit) of \(shards) shards; \(type.busiestShard) takes \(ReportWriter.fixed(type.busiestSharePercent))% of its records\n"
        }
        out += "\n"
        if hotShards.isEmpty {
            out += "No hot shard: the busiest shard gets \(ReportWriter.fixed(shardLoads.map(\.sharePercent).max() ?? 0))% of records (an even share is \(ReportWriter.fixed(100 / Double(shards)))%).\n"
        }
        for load in shardLoads where load.hot {
            let keys = load.topKeys.prefix(3).map { "\($0.partitionKey) (\(ReportWriter.fixed($0.sharePercent))%)" }.joined(separator: ", ")
            out += "hot: \(load.shardId) takes \(ReportWriter.fixed(load.sharePercent))% of records; top keys: \(keys)\n"
        }
        out += wouldThrottle
            ? "verdict: WOULD THROTTLE on \(shardLoads.filter(\.wouldThrottle).map(\.shardId).joined(separator: ", ")) (over 1,000 records/s or 1 MiB/s per shard)\n"
            : "verdict: no shard over 1,000 records/s or 1 MiB/s at the peak rate\n"
        return out
    }
}
