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
    /// What to change, when asked for with a headroom.
    package var recommendation: Recommendation?
    /// The keys came from a file (`--keys`), not from a scenario's events.
    package var keyFile = false

    /// A shard count for the peak rate with headroom, and the shards to split in the map as it is.
    package struct Recommendation: Codable, Sendable {
        package var headroomPercent: Double
        /// Each shard should stay under this percent of its limits (100 / (1 + headroom)).
        package var targetPercent: Double
        /// The busiest shard now, in percent of the tighter of its limits.
        package var busiestPercent: Double
        /// Evenly split shards that keep every shard under the target; nil when none up to the
        /// search's end can (keys too hot on their own: see `tooHotKeys`).
        package var shardCount: Int?
        /// Keys that alone take more than the target of a shard: no shard count fixes them.
        package var tooHotKeys: [KeyShare]
        package var splits: [Split]
    }

    /// A shard over the target, split into parts of about equal load (weighted by its keys).
    package struct Split: Codable, Sendable {
        package var shardId: String
        package var loadPercent: Double
        package var parts: Int
        /// Where to split (SplitShard's NewStartingHashKey), in order.
        package var atHashKeys: [String]
    }

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

    /// One sampled record: its key, where it goes, its type, its size, how much it weighs.
    struct Sample {
        var key: String
        var explicitHashKey: String?
        var type: Int
        var bytes: Int
        var weight: Double
    }

    /// Real partition keys, with weights (how often each occurs), from a file.
    package struct KeyWeights: Sendable {
        package var keys: [(key: String, weight: Double)]
        package var source: String
        package init(keys: [(key: String, weight: Double)], source: String) {
            self.keys = keys
            self.source = source
        }
    }

    package static func analyze(_ scenario: Scenario, shards: Int, peakRate: Double, sampleEvents: Int? = nil) -> PartitionAnalysis {
        analyze(scenario, map: .even(count: shards), peakRate: peakRate, sampleEvents: sampleEvents)
    }

    /// The scenario's events spread over `map` (an even map, or a real stream's after splits and merges).
    package static func analyze(_ scenario: Scenario, map: ShardMap, peakRate: Double, sampleEvents: Int? = nil, headroom: Double? = nil)
        -> PartitionAnalysis
    {
        var source = EventSource(scenario: scenario, shardMap: map)
        let count = sampleEvents ?? min(200_000, max(20_000, Int(peakRate * 10)))
        var samples: [Sample] = []
        samples.reserveCapacity(count)
        for _ in 0..<count {
            let event = source.next()
            samples.append(
                Sample(
                    key: event.partitionKey, explicitHashKey: event.explicitHashKey, type: event.type,
                    bytes: event.data.count + event.partitionKey.utf8.count, weight: 1))
        }
        return analyze(
            name: scenario.name, samples: samples, map: map, peakRate: peakRate, publisher: scenario.publisher,
            types: scenario.events.map { ($0.type, $0.partitionKey.name) }, headroom: headroom)
    }

    /// Real keys spread over `map`, each record `recordBytes` of data.
    package static func analyze(
        keys: KeyWeights, map: ShardMap, peakRate: Double, recordBytes: Int, publisher: Scenario.PublisherSpec = .default, headroom: Double? = nil
    ) -> PartitionAnalysis {
        let samples = keys.keys.map { Sample(key: $0.key, explicitHashKey: nil, type: 0, bytes: recordBytes + $0.key.utf8.count, weight: $0.weight) }
        var analysis = analyze(
            name: keys.source, samples: samples, map: map, peakRate: peakRate, publisher: publisher, types: [("keys", "keys from \(keys.source)")],
            headroom: headroom)
        analysis.keyFile = true
        return analysis
    }

    static func analyze(
        name: String, samples: [Sample], map: ShardMap, peakRate: Double, publisher: Scenario.PublisherSpec, types typeNames: [(String, String)],
        headroom: Double? = nil
    ) -> PartitionAnalysis {
        let shards = map.count
        var records = [Double](repeating: 0, count: shards)
        var bytes = [Double](repeating: 0, count: shards)
        var keysByShard = [[String: Double]](repeating: [:], count: shards)
        var distinct = Set<String>()
        var totalBytes = 0.0
        var totalWeight = 0.0
        var typeShards = [[Double]](repeating: [Double](repeating: 0, count: shards), count: typeNames.count)
        var typeKeys = [Set<String>](repeating: [], count: typeNames.count)
        for sample in samples {
            let hashKey = ShardMap.hashKey(forPartitionKey: sample.key, explicitHashKey: sample.explicitHashKey)
            let shard = map.index(forHashKey: hashKey) ?? 0
            let size = Double(sample.bytes) * sample.weight
            records[shard] += sample.weight
            bytes[shard] += size
            totalBytes += size
            totalWeight += sample.weight
            if keysByShard[shard].count < 50_000 || keysByShard[shard][sample.key] != nil {
                keysByShard[shard][sample.key, default: 0] += sample.weight
            }
            if distinct.count < 1_000_000 { distinct.insert(sample.key) }
            typeShards[sample.type][shard] += sample.weight
            if typeKeys[sample.type].count < 100_000 { typeKeys[sample.type].insert(sample.key) }
        }
        let total = max(totalWeight, 1e-12)
        let types = typeNames.indices.map { index in
            let counts = typeShards[index]
            let typeTotal = max(counts.reduce(0, +), 1e-12)
            let busiest = counts.indices.max { counts[$0] < counts[$1] } ?? 0
            return TypeSpread(
                type: typeNames[index].0, strategy: typeNames[index].1, sharePercent: counts.reduce(0, +) / total * 100,
                distinctKeys: typeKeys[index].count, shardsHit: counts.filter { $0 > 0 }.count, busiestShard: map.entries[busiest].shardId,
                busiestSharePercent: counts[busiest] / typeTotal * 100)
        }
        let aggregated = publisher.mode == .aggregated
        let flushesPerSecond = 1 / max(publisher.maxBufferedTime.timeInterval, 0.001)
        let fair = 100 / Double(shards)
        var loads: [ShardLoad] = []
        for index in 0..<shards {
            let share = records[index] / total
            let recordsPerSecond = share * peakRate
            let bytesPerSecond = bytes[index] / total * peakRate
            // An aggregate holds up to 50 KiB and leaves at least once per buffering period.
            let kinesisRecords =
                aggregated && recordsPerSecond > 0
                ? min(recordsPerSecond, max(flushesPerSecond, (bytesPerSecond / 51_200).rounded(.up))) : recordsPerSecond
            let recordsPercent = kinesisRecords / RunSummary.shardRecordsPerSecond * 100
            let bytesPercent = bytesPerSecond / RunSummary.shardBytesPerSecond * 100
            let throttles = recordsPercent > 100 || bytesPercent > 100
            let top = keysByShard[index].sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(5).map {
                KeyShare(partitionKey: $0.key, sharePercent: $0.value / total * 100)
            }
            loads.append(
                ShardLoad(
                    shardId: map.entries[index].shardId, sharePercent: share * 100, recordsPerSecond: recordsPerSecond,
                    bytesPerSecond: bytesPerSecond, kinesisRecordsPerSecond: kinesisRecords, recordsPercent: recordsPercent,
                    bytesPercent: bytesPercent, wouldThrottle: throttles, hot: throttles || (shards > 1 && share * 100 > 2 * fair),
                    topKeys: Array(top)))
        }
        var recommendation: Recommendation?
        if let headroom {
            recommendation = recommend(
                samples: samples, total: total, map: map, loads: loads, peakRate: peakRate, aggregated: aggregated,
                flushesPerSecond: flushesPerSecond, headroom: headroom)
        }
        return PartitionAnalysis(
            scenario: name, shards: shards, peakRate: peakRate, publisher: publisher.mode.rawValue, sampledEvents: samples.count,
            distinctKeys: distinct.count, meanRecordBytes: totalBytes / total, shardLoads: loads,
            hotShards: loads.filter(\.hot).map(\.shardId), wouldThrottle: loads.contains(where: \.wouldThrottle), types: types,
            recommendation: recommendation)
    }

    /// The shard count and the splits that keep every shard under 100 / (1 + headroom)% of its limits.
    static func recommend(
        samples: [Sample], total: Double, map: ShardMap, loads: [ShardLoad], peakRate: Double, aggregated: Bool, flushesPerSecond: Double,
        headroom: Double
    ) -> Recommendation {
        let target = 100 / (1 + headroom)
        // Per key: where it goes and its share of records and bytes.
        var perKey: [String: (hashKey: UInt128, weight: Double, bytes: Double)] = [:]
        for sample in samples {
            let id = sample.explicitHashKey.map { sample.key + "\u{0}" + $0 } ?? sample.key
            if let index = perKey.index(forKey: id) {
                perKey.values[index].weight += sample.weight
                perKey.values[index].bytes += Double(sample.bytes) * sample.weight
            } else {
                perKey[id] = (ShardMap.hashKey(forPartitionKey: sample.key, explicitHashKey: sample.explicitHashKey), sample.weight, Double(sample.bytes) * sample.weight)
            }
        }
        let keys = perKey.map { (name: $0.key.split(separator: "\u{0}").first.map(String.init) ?? $0.key, $0.value.hashKey, $0.value.weight, $0.value.bytes) }
        /// A shard's load in percent of the tighter of its limits, for `weight` and `bytes` of the samples.
        func load(_ weight: Double, _ bytes: Double) -> Double {
            let records = weight / total * peakRate
            let bytesPerSecond = bytes / total * peakRate
            let kinesis = aggregated && records > 0 ? min(records, max(flushesPerSecond, (bytesPerSecond / 51_200).rounded(.up))) : records
            return max(kinesis / RunSummary.shardRecordsPerSecond, bytesPerSecond / RunSummary.shardBytesPerSecond) * 100
        }
        let tooHot = keys.filter { load($0.2, $0.3) > target }.sorted { $0.2 > $1.2 }.prefix(10).map {
            KeyShare(partitionKey: $0.name, sharePercent: $0.2 / total * 100)
        }
        var count: Int?
        if tooHot.isEmpty {
            let all = load(total, keys.reduce(0) { $0 + $1.3 })
            let lower = max(1, Int((all / target).rounded(.up)))
            for candidate in lower...min(lower + 400, ServiceLimits.shardCount.upperBound) {
                let even = ShardMap.even(count: candidate)
                var weight = [Double](repeating: 0, count: candidate)
                var bytes = [Double](repeating: 0, count: candidate)
                for key in keys {
                    let index = even.index(forHashKey: key.1) ?? 0
                    weight[index] += key.2
                    bytes[index] += key.3
                }
                if weight.indices.allSatisfy({ load(weight[$0], bytes[$0]) <= target }) {
                    count = candidate
                    break
                }
            }
        }
        var splits: [Split] = []
        for (index, entry) in map.entries.enumerated() {
            let inShard = keys.filter { entry.range.contains($0.1) }.sorted { $0.1 < $1.1 }
            let shardLoad = load(inShard.reduce(0) { $0 + $1.2 }, inShard.reduce(0) { $0 + $1.3 })
            guard shardLoad > target, index < loads.count else { continue }
            let parts = Int((shardLoad / target).rounded(.up))
            // Split points at equal shares of the shard's records, between two keys' hash keys.
            let weight = inShard.reduce(0) { $0 + $1.2 }
            var points: [String] = []
            var running = 0.0
            var next = 1
            for (position, key) in inShard.enumerated() where next < parts {
                running += key.2
                if running >= weight * Double(next) / Double(parts), position + 1 < inShard.count {
                    let point = key.1 + (inShard[position + 1].1 - key.1) / 2 + 1
                    if point > entry.range.lowerBound, point <= entry.range.upperBound { points.append(String(point)) }
                    next += 1
                }
            }
            splits.append(Split(shardId: entry.shardId, loadPercent: shardLoad, parts: parts, atHashKeys: points))
        }
        let busiest = loads.map { max($0.recordsPercent, $0.bytesPercent) }.max() ?? 0
        return Recommendation(
            headroomPercent: headroom * 100, targetPercent: target, busiestPercent: busiest, shardCount: count, tooHotKeys: Array(tooHot),
            splits: splits)
    }

    package var text: String {
        var out = "\(scenario): \(shards) shard\(shards == 1 ? "" : "s") at the peak of \(ReportWriter.fixed(peakRate)) events/s (\(publisher))\n"
        if keyFile {
            out += "\(distinctKeys) distinct keys read from \(scenario), weighted; \(ReportWriter.fixed(meanRecordBytes)) bytes per record\n\n"
        } else {
            out += "sampled \(sampledEvents) events: \(distinctKeys)\(distinctKeys >= 1_000_000 ? "+" : "") distinct keys, \(ReportWriter.fixed(meanRecordBytes)) bytes per record on average\n\n"
        }
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
        if let r = recommendation {
            out += "\nwith \(ReportWriter.fixed(r.headroomPercent, 0))% headroom (every shard under \(ReportWriter.fixed(r.targetPercent))% of its limits; the busiest is at \(ReportWriter.fixed(r.busiestPercent))% now):\n"
            if let count = r.shardCount {
                out += "recommend: \(count) shard\(count == 1 ? "" : "s"), split evenly\n"
            } else if !r.tooHotKeys.isEmpty {
                let names = r.tooHotKeys.prefix(3).map { "\($0.partitionKey) (\(ReportWriter.fixed($0.sharePercent))% of records)" }.joined(separator: ", ")
                out += "recommend: no shard count is enough: these keys alone exceed the target on any shard: \(names); spread them (a suffix, or roundRobin over the shards)\n"
            } else {
                out += "recommend: more shards than the search tried; spread the keys first\n"
            }
            for split in r.splits {
                let at = split.atHashKeys.isEmpty ? "its load is one key: no split helps" : "at hash key\(split.atHashKeys.count == 1 ? "" : "s") " + split.atHashKeys.joined(separator: ", ")
                out += "split: \(split.shardId) (\(ReportWriter.fixed(split.loadPercent))% of its limits) into \(split.parts), \(at)\n"
            }
        }
        out += wouldThrottle
            ? "verdict: WOULD THROTTLE on \(shardLoads.filter(\.wouldThrottle).map(\.shardId).joined(separator: ", ")) (over 1,000 records/s or 1 MiB/s per shard)\n"
            : "verdict: no shard over 1,000 records/s or 1 MiB/s at the peak rate\n"
        return out
    }
}
