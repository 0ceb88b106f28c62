import Foundation
import Testing

@testable import Kinesis

@Suite("Wire format and errors")
struct WireAndErrorTests {
    @Test("encodes PascalCase keys, base64 data and keeps sequence numbers as strings")
    func encodesWireShape() throws {
        let input = PutRecordInput(
            streamName: "orders", data: Data([0, 1, 2, 255]), partitionKey: "user-1",
            sequenceNumberForOrdering: "49590338271490256608559692538361571095921575989136588898")
        let json = try JSONSerialization.jsonObject(with: KinesisWire.makeEncoder().encode(input)) as! [String: Any]
        #expect(json["StreamName"] as? String == "orders")
        #expect(json["Data"] as? String == "AAEC/w==")
        #expect(json["PartitionKey"] as? String == "user-1")
        #expect(json["SequenceNumberForOrdering"] as? String == "49590338271490256608559692538361571095921575989136588898")
        #expect(json["ExplicitHashKey"] == nil)
    }

    @Test("decodes GetRecords with fractional timestamps and child shards")
    func decodesGetRecords() throws {
        let body = """
            {"Records":[{"SequenceNumber":"49590338271490256608559692538361571095921575989136588898",
            "ApproximateArrivalTimestamp":1.7959190705E9,"Data":"aGk=","PartitionKey":"k"}],
            "MillisBehindLatest":0,"ChildShards":[{"ShardId":"shardId-000000000002","ParentShards":["shardId-000000000000"],
            "HashKeyRange":{"StartingHashKey":"0","EndingHashKey":"5"}}]}
            """
        let output = try KinesisWire.makeDecoder().decode(GetRecordsOutput.self, from: Data(body.utf8))
        #expect(output.records.first?.sequenceNumber == "49590338271490256608559692538361571095921575989136588898")
        #expect(output.records.first?.data == Data("hi".utf8))
        #expect(output.records.first?.approximateArrivalTimestamp?.timeIntervalSince1970 == 1_795_919_070.5)
        #expect(output.nextShardIterator == nil)
        #expect(output.childShards?.first?.parentShards == ["shardId-000000000000"])
    }

    @Test("reads __type with its namespace stripped, message and request id")
    func parsesErrorBody() {
        let body = #"{"__type":"com.amazonaws.kinesis.v20131202#ResourceNotFoundException","message":"Stream s under account 1 not found."}"#
        let error = KinesisError.fromResponse(
            status: 400, body: Array(body.utf8), errorTypeHeader: nil, requestId: "req-1", operation: "PutRecord")
        #expect(error.code == .resourceNotFound)
        #expect(error.message == "Stream s under account 1 not found.")
        #expect(error.httpStatus == 400)
        #expect(error.requestId == "req-1")
        #expect(!error.isRetryable)
        #expect(error.description.contains("PutRecord failed: ResourceNotFoundException"))
    }

    @Test("reads SerializationException's capital Message")
    func capitalMessage() {
        let body = #"{"__type":"SerializationException","Message":"class java.lang.Boolean can not be converted to an String"}"#
        let error = KinesisError.fromResponse(status: 400, body: Array(body.utf8), errorTypeHeader: nil, requestId: nil, operation: nil)
        #expect(error.code == .serialization)
        #expect(error.message == "class java.lang.Boolean can not be converted to an String")
    }

    @Test("falls back to x-amzn-ErrorType and to the status when the body is not JSON")
    func fallbacks() {
        let fromHeader = KinesisError.fromResponse(
            status: 400, body: [], errorTypeHeader: "UnknownOperationException:http://internal.amazon.com/",
            requestId: nil, operation: nil)
        #expect(fromHeader.code == .unknownOperation)
        let gateway = KinesisError.fromResponse(
            status: 502, body: Array("<html>Bad Gateway</html>".utf8), errorTypeHeader: nil, requestId: nil, operation: nil)
        #expect(gateway.code == .internalFailure)
        #expect(gateway.isRetryable)
        #expect(gateway.message.contains("Bad Gateway"))
    }
}

@Suite("GetRecords written by hand")
struct GetRecordsWireTests {
    @Test("a broken GetRecords answer is an error, not a crash")
    func brokenAnswer() {
        for text in [#"{"Records":[{"SequenceNumber":"1","Data":"!!!!","PartitionKey":"k"}]}"#, #"{"Records":[{"#, "", "[]"] {
            #expect(throws: (any Error).self) { try KinesisWire.decodeGetRecords(Array(text.utf8)) }
        }
    }

    @Test("base64 in a page decodes as Foundation decodes it, every padding, and a byte outside the alphabet anywhere is refused")
    func base64() throws {
        var random = SystemRandomNumberGenerator()
        for length in 0..<70 {
            let bytes = Data((0..<length).map { _ in UInt8.random(in: 0...255, using: &random) })
            let text = Array(bytes.base64EncodedString().utf8)
            #expect(text.withUnsafeBufferPointer { Base64.decode($0) } == bytes)
            for position in text.indices where text[position] != UInt8(ascii: "=") {
                for bad in [UInt8(ascii: "!"), UInt8(ascii: "-"), 0x80, 0x00] {
                    var broken = text
                    broken[position] = bad
                    #expect(broken.withUnsafeBufferPointer { Base64.decode($0) } == nil, "length \(length), byte \(bad) at \(position)")
                }
            }
        }
        #expect(Array("QQ=".utf8).withUnsafeBufferPointer { Base64.decode($0) } == nil)
    }

    @Test("the hand-written GetRecords JSON reads back as what JSONEncoder would have written")
    func sameDocument() throws {
        let records = (0..<40).map { index in
            Record(
                sequenceNumber: "4959\(index)", data: Data((0..<index).map { UInt8(truncatingIfNeeded: $0 * 37) }),
                partitionKey: ["plain", "quote\"back\\slash", "tab\tnewline\n\u{1}", "emoji 😀", "ü"][index % 5],
                approximateArrivalTimestamp: Date(timeIntervalSince1970: 1_795_919_070.125 + Double(index)))
        }
        for output in [
            GetRecordsOutput(records: records, nextShardIterator: "it\"er", millisBehindLatest: 1234),
            GetRecordsOutput(
                records: [], nextShardIterator: nil, millisBehindLatest: 0,
                childShards: [ChildShard(shardId: "shardId-000000000002", parentShards: ["shardId-000000000000"], hashKeyRange: HashKeyRange(startingHashKey: "0", endingHashKey: "5"))]),
        ] {
            let decoded = try KinesisWire.makeDecoder().decode(GetRecordsOutput.self, from: Data(KinesisWire.encodeGetRecords(output)))
            #expect(decoded == output)
            let encoded = try KinesisWire.makeEncoder().encode(output)
            let viaEncoder = try KinesisWire.makeDecoder().decode(GetRecordsOutput.self, from: encoded)
            #expect(decoded == viaEncoder)
            // The hand-written reader reads both documents (JSONEncoder's escapes "/" as "\/").
            #expect(try KinesisWire.decodeGetRecords(KinesisWire.encodeGetRecords(output)) == output)
            #expect(try KinesisWire.decodeGetRecords(Array(encoded)) == output)
            #expect(try KinesisWire.decodeGetRecords(Array(#"{"Records":[], "Unknown": {"a": [1, "x\"y"]}, "MillisBehindLatest": 7}"#.utf8)).millisBehindLatest == 7)
        }
    }
}


@Suite("GetRecords in CBOR")
struct GetRecordsCBORTests {
    static let page = GetRecordsOutput(
        records: (0..<30).map { index in
            var record = Record(
                sequenceNumber: "4959\(index)", data: Data((0..<(index * 37)).map { UInt8(truncatingIfNeeded: $0 * 31) }),
                partitionKey: ["plain", "quote\"back\\slash", "emoji 😀", ""][index % 4], approximateArrivalTimestamp: index % 3 == 0 ? nil : Date(timeIntervalSince1970: 1_795_919_070.125 + Double(index)))
            if index % 5 == 0 { record.encryptionType = "KMS" }
            return record
        },
        nextShardIterator: "AAAA/iter+", millisBehindLatest: 86_400_000,
        childShards: [ChildShard(shardId: "shardId-000000000002", parentShards: ["shardId-000000000000", "shardId-000000000001"], hashKeyRange: HashKeyRange(startingHashKey: "0", endingHashKey: "340282366920938463463374607431768211455"))])

    @Test("a page written in CBOR reads back as the same page, and as the same JSON document; so does a request")
    func roundTrip() throws {
        for output in [Self.page, GetRecordsOutput(records: [], nextShardIterator: nil, millisBehindLatest: 0)] {
            let cbor = KinesisCBOR.encodeGetRecords(output)
            #expect(try cbor.withUnsafeBytes { try KinesisCBOR.decodeGetRecords(raw: $0) } == output)
            let json = try KinesisCBOR.json(fromCBOR: cbor)
            #expect(try KinesisWire.decodeGetRecords(json) == output)
            // Raw bytes travel as they are: no base64 in the CBOR page.
            if let big = output.records.last { #expect(cbor.count < KinesisWire.encodeGetRecords(output).count - big.data.count / 3) }
        }
        let input = KinesisCBOR.encodeGetRecordsInput(GetRecordsInput(shardIterator: "it", limit: 10_000))
        let document = try KinesisCBOR.json(fromCBOR: input)
        #expect(try JSONDecoder().decode([String: JSONScalar].self, from: Data(document)) == ["Limit": .number(10_000), "ShardIterator": .text("it")])
    }

    @Test("what other writers send is read too: indefinite lengths, chunked strings, float and integer timestamps, unknown members")
    func otherWriters() throws {
        var doc: [UInt8] = [0xBF]  // indefinite map
        KinesisCBOR.writeText("Unknown", into: &doc)
        doc += [0x82, 0x01, 0xF5]  // [1, true]
        KinesisCBOR.writeText("Records", into: &doc)
        doc += [0x9F]  // indefinite array
        for timestamp in [[0xC1, 0x1B] + withUnsafeBytes(of: UInt64(1_795_919_070_250).bigEndian, Array.init), [0xC1, 0xFB] + withUnsafeBytes(of: (1_795_919_070_500.0).bitPattern.bigEndian, Array.init)] {
            doc += [0xA4]
            KinesisCBOR.writeText("SequenceNumber", into: &doc)
            KinesisCBOR.writeText("1", into: &doc)
            KinesisCBOR.writeText("ApproximateArrivalTimestamp", into: &doc)
            doc += timestamp
            KinesisCBOR.writeText("Data", into: &doc)
            doc += [0x5F, 0x42, 0x01, 0x02, 0x41, 0x03, 0xFF]  // chunked byte string 01 02 | 03
            KinesisCBOR.writeText("PartitionKey", into: &doc)
            doc += [0x7F, 0x61, 0x6B, 0x61, 0x31, 0xFF]  // chunked text "k" "1"
        }
        doc += [0xFF]
        KinesisCBOR.writeText("MillisBehindLatest", into: &doc)
        doc += [0x19, 0x01, 0x00]  // 256
        doc += [0xFF]
        let page = try doc.withUnsafeBytes { try KinesisCBOR.decodeGetRecords(raw: $0) }
        #expect(page.records.map(\.data) == [Data([1, 2, 3]), Data([1, 2, 3])])
        #expect(page.records.map(\.partitionKey) == ["k1", "k1"])
        #expect(page.records.map { $0.approximateArrivalTimestamp?.timeIntervalSince1970 } == [1_795_919_070.25, 1_795_919_070.5])
        #expect(page.millisBehindLatest == 256)
        #expect(page.nextShardIterator == nil)
    }

    @Test("a cut or broken page is an error, never a crash")
    func broken() {
        let whole = KinesisCBOR.encodeGetRecords(Self.page)
        for length in stride(from: 0, to: whole.count, by: 7) {
            #expect(throws: (any Error).self) { try Array(whole[..<length]).withUnsafeBytes { try KinesisCBOR.decodeGetRecords(raw: $0) } }
        }
        for document: [UInt8] in [[0xA1, 0x01, 0x02], [0xA1, 0x67] + Array("Records".utf8) + [0x81, 0xA0], [0xA0, 0x00], [0x1C], [0xA1, 0x62, 0xFF, 0xFE, 0x00]] {
            #expect(throws: (any Error).self) { try document.withUnsafeBytes { try KinesisCBOR.decodeGetRecords(raw: $0) } }
        }
    }
}

/// A JSON scalar, to compare small documents.
enum JSONScalar: Decodable, Equatable {
    case number(Double)
    case text(String)
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Double.self) { self = .number(number) } else { self = .text(try container.decode(String.self)) }
    }
}
