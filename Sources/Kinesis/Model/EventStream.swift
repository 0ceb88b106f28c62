import Foundation

/// AWS's event-stream framing (`application/vnd.amazon.eventstream`), as SubscribeToShard
/// answers: each message is a prelude (total length, headers length, CRC-32 of the two), the
/// headers, the payload, and a CRC-32 of everything before it. Integers are big-endian.
public struct EventStreamMessage: Sendable, Equatable {
    /// String headers (`:message-type`, `:event-type`, `:exception-type`, `:content-type`).
    public var headers: [String: String]
    /// The payload: a JSON document for Kinesis.
    public var payload: [UInt8]

    /// A message with string headers and a payload.
    public init(headers: [String: String], payload: [UInt8]) {
        self.headers = headers
        self.payload = payload
    }

    /// An event: `:message-type` event, the event type, and a JSON payload.
    public static func event(_ type: String, payload: [UInt8]) -> EventStreamMessage {
        EventStreamMessage(
            headers: [":message-type": "event", ":event-type": type, ":content-type": "application/x-amz-json-1.1"], payload: payload)
    }

    /// An exception that ends a stream: `:message-type` exception and its type.
    public static func exception(_ type: String, message: String) -> EventStreamMessage {
        let payload = (try? JSONEncoder().encode(["message": message])).map(Array.init) ?? Array("{}".utf8)
        return EventStreamMessage(
            headers: [":message-type": "exception", ":exception-type": type, ":content-type": "application/x-amz-json-1.1"],
            payload: payload)
    }

    /// The message's bytes.
    public func encoded() -> [UInt8] {
        var headerBytes: [UInt8] = []
        for name in headers.keys.sorted() {
            let value = Array(headers[name]!.utf8)
            headerBytes.append(UInt8(name.utf8.count))
            headerBytes += name.utf8
            headerBytes.append(7)  // string
            headerBytes += [UInt8(value.count >> 8), UInt8(value.count & 0xFF)]
            headerBytes += value
        }
        let total = 12 + headerBytes.count + payload.count + 4
        var out: [UInt8] = []
        out.reserveCapacity(total)
        Self.append(UInt32(total), to: &out)
        Self.append(UInt32(headerBytes.count), to: &out)
        Self.append(CRC32.checksum(out), to: &out)
        out += headerBytes
        out += payload
        Self.append(CRC32.checksum(out), to: &out)
        return out
    }

    private static func append(_ value: UInt32, to out: inout [UInt8]) {
        out += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    /// A damaged or unsupported message.
    public struct Malformed: Error, CustomStringConvertible {
        /// What was wrong.
        public var description: String
    }

    /// The largest message read (the event-stream format's limit is 16 MiB): a larger declared
    /// length is refused at once, never waited for.
    public static let maximumMessageSize = 16 * 1024 * 1024

    /// Takes whole messages off the front of `buffer` (bytes as they arrive); leaves a partial
    /// one there for the next call. Throws on a checksum mismatch.
    public static func decode(from buffer: inout [UInt8]) throws -> [EventStreamMessage] {
        var messages: [EventStreamMessage] = []
        var offset = 0
        func integer(_ at: Int) -> UInt32 {
            UInt32(buffer[at]) << 24 | UInt32(buffer[at + 1]) << 16 | UInt32(buffer[at + 2]) << 8 | UInt32(buffer[at + 3])
        }
        while buffer.count - offset >= 12 {
            let total = Int(integer(offset))
            let headersLength = Int(integer(offset + 4))
            guard total <= Self.maximumMessageSize else {
                throw Malformed(description: "a message declares \(total) bytes, more than the \(Self.maximumMessageSize) an event-stream message may hold")
            }
            guard total >= 16 + headersLength else { throw Malformed(description: "a message of \(total) bytes cannot hold \(headersLength) bytes of headers") }
            guard CRC32.checksum(buffer[offset..<offset + 8]) == integer(offset + 8) else { throw Malformed(description: "prelude checksum mismatch") }
            guard buffer.count - offset >= total else { break }
            guard CRC32.checksum(buffer[offset..<offset + total - 4]) == integer(offset + total - 4) else {
                throw Malformed(description: "message checksum mismatch")
            }
            var headers: [String: String] = [:]
            var cursor = offset + 12
            let headersEnd = cursor + headersLength
            func need(_ count: Int) throws {
                guard cursor + count <= headersEnd else { throw Malformed(description: "a header runs past the headers") }
            }
            while cursor < headersEnd {
                try need(1)
                let nameLength = Int(buffer[cursor])
                try need(2 + nameLength)
                let name = String(decoding: buffer[(cursor + 1)..<(cursor + 1 + nameLength)], as: UTF8.self)
                cursor += 1 + nameLength
                let type = buffer[cursor]
                cursor += 1
                switch type {
                case 7, 6:  // string, bytes
                    try need(2)
                    let length = Int(buffer[cursor]) << 8 | Int(buffer[cursor + 1])
                    try need(2 + length)
                    headers[name] = String(decoding: buffer[(cursor + 2)..<(cursor + 2 + length)], as: UTF8.self)
                    cursor += 2 + length
                case 0, 1: cursor += 0  // true, false
                case 2: cursor += 1
                case 3: cursor += 2
                case 4: cursor += 4
                case 5, 8: cursor += 8
                case 9: cursor += 16
                default: throw Malformed(description: "header type \(type)")
                }
            }
            messages.append(EventStreamMessage(headers: headers, payload: Array(buffer[headersEnd..<(offset + total - 4)])))
            offset += total
        }
        buffer.removeFirst(offset)
        return messages
    }
}
