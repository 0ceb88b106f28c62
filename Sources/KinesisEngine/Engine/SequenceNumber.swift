/// The engine's sequence numbers, laid out as AWS's are (as kinesalite worked them out): in
/// hexadecimal, `2` | the stream's creation, epoch seconds (9) | the shard index's last hex
/// digit (1) | a counter (16) | `00` | the arrival, epoch seconds (9) | the shard index (8) |
/// `2` (the layout's version), written in decimal: 56 digits. Strictly increasing in a shard
/// (the counter is the stream's); the shard index and stream creation time let the engine
/// reject a number used on the wrong shard or stream, as AWS does.
package enum SequenceNumber {
    /// The counter's field holds 63 bits (AWS's top bit is never set).
    static let maximumCounter: UInt64 = 0x7FFF_FFFF_FFFF_FFFF

    package static func format(streamCreation: Int, shardIndex: Int, counter: UInt64, millis: Int64) -> String {
        var hex = [UInt8]()
        hex.reserveCapacity(47)
        hex.append(2)
        appendHex(UInt64(max(0, streamCreation)), digits: 9, to: &hex)
        appendHex(UInt64(shardIndex & 0xF), digits: 1, to: &hex)
        appendHex(min(counter, maximumCounter), digits: 16, to: &hex)
        appendHex(0, digits: 2, to: &hex)
        appendHex(UInt64(max(0, millis / 1000)), digits: 9, to: &hex)
        appendHex(UInt64(UInt32(truncatingIfNeeded: shardIndex)), digits: 8, to: &hex)
        hex.append(2)
        return decimal(fromHexDigits: hex)
    }

    private static func appendHex(_ value: UInt64, digits: Int, to hex: inout [UInt8]) {
        for shift in stride(from: (digits - 1) * 4, through: 0, by: -4) { hex.append(UInt8((value >> UInt64(shift)) & 0xF)) }
    }

    /// A number given as hex digit values (0...15), in decimal.
    static func decimal(fromHexDigits hex: [UInt8]) -> String {
        // Base 10^9 limbs, most significant last; each hex digit multiplies by 16 and adds.
        var limbs: [UInt64] = [0]
        for digit in hex {
            var carry = UInt64(digit)
            for i in limbs.indices {
                let value = limbs[i] * 16 + carry
                limbs[i] = value % 1_000_000_000
                carry = value / 1_000_000_000
            }
            if carry > 0 { limbs.append(carry) }
        }
        var text = String(limbs.last!)
        for limb in limbs.dropLast().reversed() {
            let part = String(limb)
            text += String(repeating: "0", count: 9 - part.count) + part
        }
        return text
    }

    /// A decimal number's hex digit values (0...15), most significant first; nil for anything
    /// that is not decimal digits.
    static func hexDigits(fromDecimal text: String) -> [UInt8]? {
        guard !text.isEmpty, text.utf8.count <= 80, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        // Base 2^32 limbs, least significant first.
        var limbs: [UInt64] = [0]
        for byte in text.utf8 {
            var carry = UInt64(byte - 0x30)
            for i in limbs.indices {
                let value = limbs[i] * 10 + carry
                limbs[i] = value & 0xFFFF_FFFF
                carry = value >> 32
            }
            if carry > 0 { limbs.append(carry) }
        }
        var hex: [UInt8] = []
        for limb in limbs.reversed() { for shift in stride(from: 28, through: 0, by: -4) { hex.append(UInt8((limb >> UInt64(shift)) & 0xF)) } }
        let first = hex.firstIndex { $0 != 0 } ?? (hex.count - 1)
        return Array(hex[first...])
    }

    struct Parts: Equatable {
        var streamCreation: Int
        /// The shard index, read as a Java int (so `0x80000000` is -2147483648).
        var shardIndex: Int
        var counter: UInt64
        var arrivalSeconds: Int
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
    /// format (below 2^124, `0` among them), or one of AWS's later layouts (version 1 or 2)
    /// whose time is not in the future.
    static func isUsableForOrdering(_ text: String, now: Double) -> Bool {
        if legacyShardIndex(text) != nil { return true }
        guard let hex = hexDigits(fromDecimal: text), hex.count == 47, hex[0] == 2, hex[46] == 1 || hex[46] == 2,
            field(hex, 1, 9) < latestCreation, hex[46] == 1 || hex[11] <= 7
        else { return false }
        let time = hex[46] == 2 ? field(hex, 29, 9) : field(hex, 13, 9)
        return time <= UInt64(max(0, (now).rounded(.up)))
    }

    /// AWS refuses a number whose creation time is this many epoch seconds or more (the year 2477).
    static let latestCreation: UInt64 = 16_025_175_000

    private static func field(_ hex: [UInt8], _ offset: Int, _ width: Int) -> UInt64 {
        hex[offset..<(offset + width)].reduce(UInt64(0)) { $0 << 4 | UInt64($1) }
    }

    /// The parts of a number of the layout this engine issues (version 2), or of the decimal
    /// layout it issued before (`49` | creation (10) | shard (6) | counter (22) | millis (13) |
    /// `000`), which a data directory written then still holds; nil for any other.
    static func parse(_ text: String) -> Parts? {
        parseCurrent(text) ?? parseEarlier(text)
    }

    private static func parseEarlier(_ text: String) -> Parts? {
        let utf8 = Array(text.utf8)
        guard utf8.count == 56, utf8[0] == 0x34, utf8[1] == 0x39, utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        func read(_ offset: Int, _ width: Int) -> UInt64? { UInt64(String(decoding: utf8[offset..<(offset + width)], as: UTF8.self)) }
        guard let creation = read(2, 10), let shard = read(12, 6), let counter = read(18, 22), let millis = read(40, 13) else { return nil }
        return Parts(streamCreation: Int(creation), shardIndex: Int(shard), counter: counter, arrivalSeconds: Int(millis / 1000))
    }

    private static func parseCurrent(_ text: String) -> Parts? {
        guard let hex = hexDigits(fromDecimal: text), hex.count == 47, hex[0] == 2, hex[46] == 2, hex[11] <= 7,
            field(hex, 1, 9) < latestCreation
        else { return nil }
        return Parts(
            streamCreation: Int(field(hex, 1, 9)), shardIndex: Int(Int32(bitPattern: UInt32(field(hex, 38, 8)))),
            counter: field(hex, 11, 16), arrivalSeconds: Int(field(hex, 29, 9)))
    }
}
