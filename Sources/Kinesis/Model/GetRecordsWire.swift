import Foundation

extension KinesisWire {
    /// A GetRecords answer as wire JSON, written by hand: the same document `JSONEncoder`
    /// writes (members in another order), several times faster on the pages of up to 10 MiB of
    /// base64 that readers pull, which is where an endpoint spends its time.
    public static func encodeGetRecords(_ output: GetRecordsOutput) -> [UInt8] {
        var capacity = 128
        for record in output.records { capacity += (record.data.count + 2) / 3 * 4 + record.partitionKey.utf8.count + 160 }
        var out: [UInt8] = []
        out.reserveCapacity(capacity)
        out.append(contentsOf: #"{"Records":["#.utf8)
        for (index, record) in output.records.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"SequenceNumber":"#.utf8)
            appendString(record.sequenceNumber, to: &out)
            if let arrival = record.approximateArrivalTimestamp {
                out.append(contentsOf: #","ApproximateArrivalTimestamp":"#.utf8)
                out.append(contentsOf: "\(arrival.timeIntervalSince1970)".utf8)
            }
            out.append(contentsOf: #","Data":""#.utf8)
            appendBase64(record.data, to: &out)
            out.append(contentsOf: #"","PartitionKey":"#.utf8)
            appendString(record.partitionKey, to: &out)
            if let encryption = record.encryptionType {
                out.append(contentsOf: #","EncryptionType":"#.utf8)
                appendString(encryption.rawValue, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
        if let next = output.nextShardIterator {
            out.append(contentsOf: #","NextShardIterator":"#.utf8)
            appendString(next, to: &out)
        }
        if let behind = output.millisBehindLatest {
            out.append(contentsOf: #","MillisBehindLatest":"#.utf8)
            out.append(contentsOf: String(behind).utf8)
        }
        if let children = output.childShards {
            out.append(contentsOf: #","ChildShards":"#.utf8)
            out.append(contentsOf: (try? JSONEncoder().encode(children)) ?? Data("[]".utf8))
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static let base64Alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func appendBase64(_ data: Data, to out: inout [UInt8]) {
        let alphabet = base64Alphabet
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            let count = bytes.count
            let start = out.count
            let encodedCount = (count + 2) / 3 * 4
            out.append(contentsOf: repeatElement(0, count: encodedCount))
            out.withUnsafeMutableBufferPointer { buffer in
                var o = start
                var i = 0
                while i + 3 <= count {
                    let value = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
                    buffer[o] = alphabet[Int(value >> 18 & 63)]
                    buffer[o + 1] = alphabet[Int(value >> 12 & 63)]
                    buffer[o + 2] = alphabet[Int(value >> 6 & 63)]
                    buffer[o + 3] = alphabet[Int(value & 63)]
                    i += 3
                    o += 4
                }
                let rest = count - i
                if rest > 0 {
                    let value = UInt32(bytes[i]) << 16 | (rest == 2 ? UInt32(bytes[i + 1]) << 8 : 0)
                    buffer[o] = alphabet[Int(value >> 18 & 63)]
                    buffer[o + 1] = alphabet[Int(value >> 12 & 63)]
                    buffer[o + 2] = rest == 2 ? alphabet[Int(value >> 6 & 63)] : UInt8(ascii: "=")
                    buffer[o + 3] = UInt8(ascii: "=")
                }
            }
        }
    }
}
