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
                sequenceNumber: "4959\(index)", approximateArrivalTimestamp: Date(timeIntervalSince1970: 1_795_919_070.125 + Double(index)),
                data: Data((0..<index).map { UInt8(truncatingIfNeeded: $0 * 37) }),
                partitionKey: ["plain", "quote\"back\\slash", "tab\tnewline\n\u{1}", "emoji 😀", "ü"][index % 5])
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

