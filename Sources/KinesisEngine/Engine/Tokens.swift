import Foundation
import Kinesis

/// A shard iterator: where to read next in which shard, and when it was issued. Opaque to
/// callers (base64), parsed back by the engine; anything else is "Invalid ShardIterator.".
struct ShardIteratorToken: Sendable, Equatable {
    var stream: String
    var streamCreation: Int
    var shardIndex: Int
    var position: UInt64
    var issuedMillis: Int64

    /// Shaped as AWS's iterators are (the SDKs treat them as opaque, but tools look): bytes
    /// that start with 0x0000000000000001 and are 152 long, or 16 longer for each 16 more.
    var encoded: String {
        var bytes: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 1]
        bytes += Array("KTI1|\(stream)|\(streamCreation)|\(shardIndex)|\(position)|\(issuedMillis)|".utf8)
        let length = bytes.count <= 152 ? 152 : 152 + (bytes.count - 152 + 15) / 16 * 16
        bytes += [UInt8](repeating: 0, count: length - bytes.count)
        return Data(bytes).base64EncodedString()
    }

    init(stream: String, streamCreation: Int, shardIndex: Int, position: UInt64, issuedMillis: Int64) {
        self.stream = stream
        self.streamCreation = streamCreation
        self.shardIndex = shardIndex
        self.position = position
        self.issuedMillis = issuedMillis
    }

    init?(encoded: String) {
        guard let data = Data(base64Encoded: encoded), data.count > 8, data.prefix(8) == Data([0, 0, 0, 0, 0, 0, 0, 1]) else { return nil }
        let parts = String(decoding: data.dropFirst(8), as: UTF8.self).split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 7, parts[0] == "KTI1", parts[6].utf8.allSatisfy({ $0 == 0 }), let creation = Int(parts[2]), let shard = Int(parts[3]), shard >= 0,
            let position = UInt64(parts[4]), let issued = Int64(parts[5])
        else { return nil }
        self.init(
            stream: String(parts[1]), streamCreation: creation, shardIndex: shard, position: position, issuedMillis: issued)
    }
}

/// ListShards' NextToken: the stream, the last shard listed and the filter.
struct ListShardsCursor: Sendable {
    var stream: String
    var afterIndex: Int
    var filter: ShardFilter?

    init(stream: String, afterIndex: Int, filter: ShardFilter?) {
        self.stream = stream
        self.afterIndex = afterIndex
        self.filter = filter
    }

    var token: String {
        let filterPart = filter.map { "\($0.type.rawValue),\($0.shardId ?? ""),\($0.timestamp?.timeIntervalSince1970 ?? -1)" } ?? ""
        return Data("shards|\(stream)|\(afterIndex)|\(filterPart)".utf8).base64EncodedString()
    }

    init?(token: String) {
        guard let data = Data(base64Encoded: token) else { return nil }
        let parts = String(decoding: data, as: UTF8.self).split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "shards", let after = Int(parts[2]) else { return nil }
        stream = String(parts[1])
        afterIndex = after
        if parts[3].isEmpty {
            filter = nil
        } else {
            let fields = parts[3].split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == 3, let seconds = Double(fields[2]) else { return nil }
            filter = ShardFilter(
                type: .init(rawValue: String(fields[0])), shardId: fields[1].isEmpty ? nil : String(fields[1]),
                timestamp: seconds < 0 ? nil : Date(timeIntervalSince1970: seconds))
        }
    }
}

/// A list call's NextToken of one kind (`streams`, `consumers`): where the next page starts,
/// opaque to callers (base64).
enum PageToken {
    static func encode(_ kind: String, after value: String) -> String {
        Data("\(kind)|\(value)".utf8).base64EncodedString()
    }

    /// What `token` carries, or nil when it is not a token of this kind.
    static func decode(_ kind: String, _ token: String) -> String? {
        guard let decoded = Data(base64Encoded: token).map({ String(decoding: $0, as: UTF8.self) }), decoded.hasPrefix("\(kind)|") else {
            return nil
        }
        return String(decoded.dropFirst(kind.count + 1))
    }
}
