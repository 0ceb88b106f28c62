/// The engine's sequence numbers: 56 decimal digits, like AWS's, strictly increasing in a
/// stream (and so in every shard), and a child shard's numbers are above its parents'.
///
/// Layout: `49` | stream creation, epoch seconds (10) | shard index (6) | counter (22) |
/// arrival, epoch milliseconds (13) | `000`. The counter leads, so numbers compare by
/// arrival order; the shard index and stream creation time let the engine reject a number
/// used on the wrong shard or stream, as AWS does.
package enum SequenceNumber {
    static let length = 56
    static let maximumCounter: UInt64 = 9_999_999_999_999_999_999  // 19 nines: fits UInt64; printed in 22 digits

    package static func format(streamCreation: Int, shardIndex: Int, counter: UInt64, millis: Int64) -> String {
        var digits = [UInt8](repeating: 0x30, count: length)
        digits[0] = 0x34
        digits[1] = 0x39
        write(UInt64(max(0, streamCreation)), into: &digits, at: 2, width: 10)
        write(UInt64(shardIndex), into: &digits, at: 12, width: 6)
        write(counter, into: &digits, at: 18, width: 22)
        write(UInt64(max(0, millis)), into: &digits, at: 40, width: 13)
        return String(decoding: digits, as: UTF8.self)
    }

    private static func write(_ value: UInt64, into digits: inout [UInt8], at offset: Int, width: Int) {
        var remaining = value
        var position = offset + width - 1
        while position >= offset {
            digits[position] = 0x30 + UInt8(remaining % 10)
            remaining /= 10
            position -= 1
        }
    }

    struct Parts: Equatable {
        var streamCreation: Int
        var shardIndex: Int
        var counter: UInt64
    }

    /// 2^124: AWS reads a smaller number as a sequence number of its first format, whose low 16
    /// bits are the shard index.
    static let legacyLimit: UInt128 = 1 << 124

    /// The shard index a number below 2^124 encodes (its low 16 bits); nil for any other text.
    static func legacyShardIndex(_ text: String) -> Int? {
        guard text.utf8.count <= 38, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = UInt128(text), value < legacyLimit else {
            return nil
        }
        return Int(value & 0xFFFF)
    }

    /// Whether PutRecord accepts `text` as SequenceNumberForOrdering: a number of the first
    /// format (below 2^124, `0` among them), or one of this engine's numbers whose time is not
    /// in the future.
    static func isUsableForOrdering(_ text: String, now: Double) -> Bool {
        if legacyShardIndex(text) != nil { return true }
        guard parse(text) != nil else { return false }
        let millis = Array(text.utf8)[40..<53].reduce(Int64(0)) { $0 * 10 + Int64($1 - 0x30) }
        return millis <= Int64((now * 1000).rounded(.up))
    }

    /// The parts of a number this engine issued; nil for any other number.
    static func parse(_ text: String) -> Parts? {
        let utf8 = Array(text.utf8)
        guard utf8.count == length, utf8[0] == 0x34, utf8[1] == 0x39, utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return nil
        }
        func read(_ offset: Int, _ width: Int) -> UInt64? {
            var value: UInt64 = 0
            for byte in utf8[offset..<(offset + width)] {
                let (multiplied, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (added, overflow2) = multiplied.addingReportingOverflow(UInt64(byte - 0x30))
                if overflow1 || overflow2 { return nil }
                value = added
            }
            return value
        }
        guard let creation = read(2, 10), let shard = read(12, 6), let counter = read(18, 22) else { return nil }
        return Parts(streamCreation: Int(creation), shardIndex: Int(shard), counter: counter)
    }
}
