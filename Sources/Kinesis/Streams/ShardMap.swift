import Crypto

/// Which open shard a record goes to, as Kinesis decides it.
///
/// The hash key of a record is the MD5 of its partition key's UTF-8 bytes read as an
/// unsigned big-endian 128-bit integer, or its explicit hash key. The record lands on the
/// open shard whose inclusive hash key range holds that value. Closed shards (split or
/// merged parents) are left out: they receive nothing new.
///
/// ```swift
/// let map = try ShardMap(shards: try await manager.listAllShards(stream: "orders"))
/// map.shardId(forPartitionKey: "user-123")   // "shardId-000000000001"
/// ```
public struct ShardMap: Sendable, Hashable {
    /// An open shard and its hash key range.
    public struct Entry: Sendable, Hashable {
        /// The shard.
        public var shardId: String
        /// The hash keys it covers, both ends included.
        public var range: ClosedRange<UInt128>
        /// An entry of the map.
        public init(shardId: String, range: ClosedRange<UInt128>) {
            self.shardId = shardId
            self.range = range
        }
    }

    /// Open shards, sorted by the start of their range.
    public let entries: [Entry]

    /// Builds the map from a ListShards or DescribeStream answer.
    ///
    /// - Throws: ``ShardMapError`` when a hash key is not a 128-bit decimal number.
    public init(shards: [Shard]) throws {
        var entries: [Entry] = []
        for shard in shards where shard.isOpen {
            let start = try Self.parseHashKey(shard.hashKeyRange.startingHashKey, field: "\(shard.shardId).StartingHashKey")
            let end = try Self.parseHashKey(shard.hashKeyRange.endingHashKey, field: "\(shard.shardId).EndingHashKey")
            guard start <= end else {
                throw ShardMapError(message: "shard \(shard.shardId) has a hash key range that ends before it starts")
            }
            entries.append(Entry(shardId: shard.shardId, range: start...end))
        }
        self.entries = entries.sorted { $0.range.lowerBound < $1.range.lowerBound }
    }

    /// A map of the given shards and ranges, which cannot fail: for shards you made yourself.
    public init(entries: [Entry]) {
        self.entries = entries.sorted { $0.range.lowerBound < $1.range.lowerBound }
    }

    /// The map of a new stream of `count` shards: `shardId-000000000000` onwards, even ranges.
    public static func even(count: Int) -> ShardMap {
        ShardMap(entries: evenRanges(count: count).enumerated().map { Entry(shardId: shardId(index: $0), range: $1) })
    }

    /// The shard number in an id as AWS reads it: the number after the last `-` (`shardId-5`,
    /// `shard-0` and `anything-0` name shards 5, 0 and 0; `4` names shard 4); nil when it is none.
    public static func index(ofShardId shardId: String) -> Int? {
        let digits = shardId.lastIndex(of: "-").map { shardId[shardId.index(after: $0)...] } ?? Substring(shardId)
        guard !digits.isEmpty, digits.count <= 12, digits.allSatisfy(\.isASCII), let value = Int(digits), value >= 0 else {
            return nil
        }
        return value
    }

    /// The id Kinesis gives the shard made `index`-th in a stream: `shardId-` and 12 digits.
    public static func shardId(index: Int) -> String {
        let digits = String(index)
        return "shardId-" + String(repeating: "0", count: max(0, 12 - digits.count)) + digits
    }

    /// The number of open shards.
    public var count: Int { entries.count }

    /// The shard a partition key maps to; nil only when no open shard covers it.
    public func shardId(forPartitionKey partitionKey: String) -> String? {
        shardId(forHashKey: Self.hashKey(forPartitionKey: partitionKey))
    }

    /// The shard an explicit hash key maps to.
    ///
    /// - Throws: ``ShardMapError`` when the key is not a decimal number in 0...2^128-1.
    public func shardId(forExplicitHashKey explicitHashKey: String) throws -> String? {
        shardId(forHashKey: try Self.parseHashKey(explicitHashKey, field: "ExplicitHashKey"))
    }

    /// The index in ``entries`` of the shard holding a hash key (binary search).
    public func index(forHashKey hashKey: UInt128) -> Int? {
        var low = 0
        var high = entries.count - 1
        while low <= high {
            let middle = (low + high) / 2
            let range = entries[middle].range
            if hashKey < range.lowerBound {
                high = middle - 1
            } else if hashKey > range.upperBound {
                low = middle + 1
            } else {
                return middle
            }
        }
        return nil
    }

    /// The shard holding a hash key.
    public func shardId(forHashKey hashKey: UInt128) -> String? {
        index(forHashKey: hashKey).map { entries[$0].shardId }
    }

    /// The hash key Kinesis routes a record by: its explicit hash key when that is a valid
    /// one, else the MD5 of its partition key.
    public static func hashKey(forPartitionKey partitionKey: String, explicitHashKey: String?) -> UInt128 {
        explicitHashKey.flatMap { try? parseHashKey($0) } ?? hashKey(forPartitionKey: partitionKey)
    }

    /// MD5 of the partition key's UTF-8 bytes, as an unsigned big-endian 128-bit integer.
    public static func hashKey(forPartitionKey partitionKey: String) -> UInt128 {
        var key = partitionKey
        // Hash the string's own UTF-8 storage: no array per call on the publishing hot path.
        let digest = key.withUTF8 { Insecure.MD5.hash(data: UnsafeRawBufferPointer($0)) }
        return digest.withUnsafeBytes { bytes in
            var value: UInt128 = 0
            for byte in bytes { value = value << 8 | UInt128(byte) }
            return value
        }
    }

    /// Parses a hash key: a decimal string matching `0|([1-9]\d{0,38})` with a value below 2^128.
    public static func parseHashKey(_ text: String, field: String = "hash key") throws -> UInt128 {
        let digitsOnly = !text.isEmpty && text.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
        guard digitsOnly, text == "0" || text.first != "0", text.count <= 39, let value = UInt128(text) else {
            throw ShardMapError(message: "\(field) '\(text)' is not a decimal integer from 0 to 2^128-1")
        }
        return value
    }

    /// The hash key ranges CreateStream gives `count` shards: step = floor(2^128 / count),
    /// shard i covers [i*step, (i+1)*step - 1], and the last one ends at 2^128-1.
    public static func evenRanges(count: Int) -> [ClosedRange<UInt128>] {
        precondition(count >= 1, "a stream has at least one shard")
        guard count > 1 else { return [0...UInt128.max] }
        // floor(2^128 / n) without 2^128 itself: (2^128 - 1) / n, plus one when n divides 2^128.
        let divisor = UInt128(count)
        let step = UInt128.max / divisor + (UInt128.max % divisor == divisor - 1 ? 1 : 0)
        return (0..<count).map { index in
            let start = UInt128(index) * step
            let end = index == count - 1 ? UInt128.max : UInt128(index + 1) * step - 1
            return start...end
        }
    }
}

/// A shard list or hash key that cannot be used.
public struct ShardMapError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, in a sentence.
    public var message: String
    /// A one-line text for logs and messages.
    public var description: String { message }
}
