import Foundation
import Kinesis
import KinesisEngine

/// The Kinesis protocol in CBOR (`application/x-amz-cbor-1.1`), as the Java SDKs and the KCL
/// speak it by default: the same documents as JSON 1.1, with blobs as CBOR byte strings and
/// timestamps as tag 1 holding epoch **milliseconds** (AWS's reading of tag 1, not RFC 8949's
/// seconds). The endpoint turns a CBOR request into its JSON document, answers it as usual, and
/// turns the answer (errors included) back into CBOR.
enum CBOR {
    static let contentType = KinesisCBOR.contentType

    /// Members of the Kinesis model that hold a timestamp; in CBOR they travel as tag 1.
    static let timestampMembers: Set<String> = [
        "ApproximateArrivalTimestamp", "StreamCreationTimestamp", "ConsumerCreationTimestamp", "Timestamp", "StartedAt",
        "EndedAt", "EarliestAllowedEndAt",
    ]
    /// Members that hold a blob; in CBOR they travel as byte strings.
    static let blobMembers: Set<String> = ["Data"]

    // MARK: - Writing

    /// The CBOR form of a JSON answer: `Data` members as byte strings, timestamps as tag 1
    /// with epoch milliseconds, whole numbers as integers.
    static func cbor(fromJSON json: [UInt8]) throws -> [UInt8] {
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(json))
        var out: [UInt8] = []
        out.reserveCapacity(json.count)
        write(value, member: nil, into: &out)
        return out
    }

    private static func write(_ value: JSONValue, member: String?, into out: inout [UInt8]) {
        switch value {
        case .null: out.append(0xF6)
        case .bool(let flag): out.append(flag ? 0xF5 : 0xF4)
        case .number(let number):
            if let member, timestampMembers.contains(member) {
                KinesisCBOR.head(6, 1, into: &out)
                KinesisCBOR.writeNumber((number * 1000).rounded(), into: &out)
            } else {
                KinesisCBOR.writeNumber(number, into: &out)
            }
        case .string(let text):
            if let member, blobMembers.contains(member), let bytes = Data(base64Encoded: text) {
                KinesisCBOR.head(2, UInt64(bytes.count), into: &out)
                out += bytes
            } else {
                KinesisCBOR.writeText(text, into: &out)
            }
        case .array(let items):
            KinesisCBOR.head(4, UInt64(items.count), into: &out)
            // A list's items belong to its member: a list of blobs or timestamps stays one.
            for item in items { write(item, member: member, into: &out) }
        case .object(let object):
            KinesisCBOR.head(5, UInt64(object.count), into: &out)
            for key in object.keys.sorted() {
                KinesisCBOR.writeText(key, into: &out)
                write(object[key]!, member: key, into: &out)
            }
        }
    }
}
