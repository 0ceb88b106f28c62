import Foundation

/// One worker's share of a run (`run --segment i/n`): the events whose index in the whole run
/// is `i` modulo `n`. Striped rather than cut in blocks, so every segment sees the same rate
/// profile, event mix and key distribution, and the union of the `n` segments is exactly the
/// whole run (the same events, keys, payloads and intended times as one run with the seed).
package struct RunSegment: Sendable, Hashable, CustomStringConvertible {
    /// 0-based.
    package var index: Int
    package var count: Int

    package init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// Reads `i/n` (0-based, `2/4`); the error says what is wrong with the text.
    package init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw RunSegmentError(description: "'\(text)' is not a segment: write i/n, 0-based, such as 0/4 or 3/4")
        }
        guard count >= 1 else { throw RunSegmentError(description: "'\(text)': the number of segments must be at least 1") }
        guard (0..<count).contains(index) else {
            throw RunSegmentError(description: "'\(text)': the segment index is 0-based and must be below \(count) (0/\(count) to \(count - 1)/\(count))")
        }
        self.init(index: index, count: count)
    }

    /// Whether the event with this index in the whole run is this segment's.
    package func owns(_ eventIndex: UInt64) -> Bool { eventIndex % UInt64(count) == UInt64(index) }

    /// Of `total` events of the whole run, how many are this segment's.
    package func share(of total: Int) -> Int { total > index ? (total - index + count - 1) / count : 0 }

    /// Whether this segment reads the shard: its number (``ShardMap/index(ofShardId:)``) modulo
    /// the count, so that the segments' consumers together read every shard once.
    package func reads(shard shardId: String) -> Bool { RunConsumers.owner(of: shardId, among: count) == index }

    package var description: String { "\(index)/\(count)" }
}

/// A `--segment` that cannot be read.
package struct RunSegmentError: Error, Sendable, CustomStringConvertible {
    package var description: String
}
