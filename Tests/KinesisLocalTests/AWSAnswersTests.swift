import Foundation
import Kinesis
import KinesisLocal
import Testing

@testable import KinesisEngine

/// Answers as AWS gives them, where kinesalite's suite (recorded against AWS) showed ours
/// differed: sequence numbers and iterators in AWS's layout, shard ids read as AWS reads
/// them, tag characters, MergeShards' order, a deleted stream's iterator, and the endpoint's
/// bodies and headers.
@Suite("AWS's answers")
struct AWSAnswersTests {
    // MARK: Sequence numbers

    static func hex(_ decimal: String) -> String {
        SequenceNumber.hexDigits(fromDecimal: decimal)!.map { String($0, radix: 16) }.joined()
    }

    @Test("sequence numbers have AWS's layout: 56 digits, hex 2|creation|shard digit|counter|00|arrival|shard|2")
    func sequenceLayout() throws {
        let number = SequenceNumber.format(streamCreation: 1_796_224_311, shardIndex: 2, counter: 5, millis: 1_796_224_320_999)
        #expect(number.count == 56)
        let hex = Self.hex(number)
        #expect(hex.count == 47)
        #expect(hex.range(of: "^2[0-9a-f]{9}2[0-9a-f]{16}00[0-9a-f]{9}000000022$", options: .regularExpression) != nil, "\(hex)")
        #expect(Int(hex.dropFirst(1).prefix(9), radix: 16) == 1_796_224_311)
        #expect(Int(hex.dropFirst(29).prefix(9), radix: 16) == 1_796_224_320, "arrival in seconds")
        let parts = try #require(SequenceNumber.parse(number))
        #expect(parts == .init(streamCreation: 1_796_224_311, shardIndex: 2, counter: 5, arrivalSeconds: 1_796_224_320))
        // Increasing in a shard, and decimal all the way back.
        let next = SequenceNumber.format(streamCreation: 1_796_224_311, shardIndex: 2, counter: 6, millis: 1_796_224_320_000)
        #expect(UInt128(String(next.prefix(38)))! >= UInt128(String(number.prefix(38)))! && next > number)
        #expect(SequenceNumber.decimal(fromHexDigits: SequenceNumber.hexDigits(fromDecimal: number)!) == number)
    }

    @Test("a number of the engine's earlier layout (in data directories written before) still reads")
    func earlierLayout() throws {
        // 49 | creation 1796224311 | shard 000003 | counter 22 digits (7) | millis 13 | 000
        let earlier = "49" + "1796224311" + "000003" + String(repeating: "0", count: 21) + "7" + "1796224320999" + "000"
        #expect(earlier.count == 56)
        #expect(SequenceNumber.parse(earlier) == .init(streamCreation: 1_796_224_311, shardIndex: 3, counter: 7, arrivalSeconds: 1_796_224_320))
    }

    @Test("SequenceNumberForOrdering: AWS's layouts with times not ahead are taken; a set top bit or a far creation is not")
    func orderingNumbers() {
        func decimal(_ hex: String) -> String { SequenceNumber.decimal(fromHexDigits: hex.map { UInt8(String($0), radix: 16)! }) }
        let now = 1_796_224_320.0
        #expect(SequenceNumber.isUsableForOrdering(decimal("20000000000000000000000000000000000000000000002"), now: now))
        #expect(SequenceNumber.isUsableForOrdering(decimal("20000000000000000000000000000000000000000000001"), now: now))
        #expect(SequenceNumber.isUsableForOrdering("0", now: now))
        #expect(!SequenceNumber.isUsableForOrdering(decimal("20000000000800000000000000000000000000000000002"), now: now), "counter's top bit")
        #expect(!SequenceNumber.isUsableForOrdering(decimal("2ffffffffff7fffffffffffffff000000000007fffffff2"), now: now), "creation past 2477")
        let ahead = SequenceNumber.format(streamCreation: 1_796_224_311, shardIndex: 0, counter: 1, millis: Int64(now + 60) * 1000)
        #expect(!SequenceNumber.isUsableForOrdering(ahead, now: now), "arrival in the future")
    }

    @Test("a StartingSequenceNumber whose shard field is 0x80000000 names shardId--02147483648")
    func negativeShard() async throws {
        let engine = InMemoryKinesis()
        try await engine.createStream(.init(streamName: "s", shardCount: 1))
        let number = SequenceNumber.decimal(fromHexDigits: "20000000000000000000000000000000000000800000002".map { UInt8(String($0), radix: 16)! })
        await expectError(
            .invalidArgument,
            "Invalid StartingSequenceNumber. It encodes shardId--02147483648, while it was used in a call to a shard with shardId-000000000000"
        ) {
            _ = try await engine.getShardIterator(
                .init(streamName: "s", shardId: "shardId-0", shardIteratorType: .atSequenceNumber, startingSequenceNumber: number))
        }
    }

    // MARK: Iterators, shard ids, MergeShards, tags

    @Test("shard iterators look like AWS's: base64 of 0x0000000000000001 and 152 + 16n bytes")
    func iteratorShape() async throws {
        let engine = InMemoryKinesis()
        for name in ["s", String(repeating: "n", count: 128)] {
            try await engine.createStream(.init(streamName: name, shardCount: 1))
            let iterator = try #require(
                try await engine.getShardIterator(.init(streamName: name, shardId: "shardId-000000000000", shardIteratorType: .latest))
                    .shardIterator)
            let bytes = try #require(Data(base64Encoded: iterator))
            #expect(bytes.prefix(8) == Data([0, 0, 0, 0, 0, 0, 0, 1]))
            #expect(bytes.count >= 152 && (bytes.count - 152) % 16 == 0)
            #expect(iterator.count <= 512)
            _ = try await engine.getRecords(.init(shardIterator: iterator))
        }
    }

    @Test("shard ids are read as AWS reads them", arguments: [
        ("shardId-000000000007", 7), ("7", 7), ("a-00002147483647", 2_147_483_647), ("-0", 0), ("x-12-3", 12),
    ])
    func shardIds(text: String, index: Int) {
        #expect(ShardState.index(of: text) == index)
    }

    @Test("shard ids AWS cannot read", arguments: ["shardId-002147483648", "1e3", "a-b-1", "shardId-", "abc", ""])
    func unreadableShardIds(text: String) {
        #expect(ShardState.index(of: text) == nil)
    }

    @Test("an unknown stream with a readable shard id is not found; an unreadable id names itself")
    func unknownStreamShardIds() async {
        let engine = InMemoryKinesis()
        await expectError(.resourceNotFound, "Stream missing under account 000000000000 not found.") {
            try await engine.mergeShards(.init(streamName: "missing", shardToMerge: "a-00002147483647", adjacentShardToMerge: "x-0"))
        }
        await expectError(.resourceNotFound, "Could not find shard shardId-002147483648 in stream missing under account 000000000000.") {
            try await engine.mergeShards(.init(streamName: "missing", shardToMerge: "shardId-002147483648", adjacentShardToMerge: "x-0"))
        }
    }

    @Test("MergeShards takes the adjacent shard only from above: the pair the other way round is refused")
    func invertedMerge() async throws {
        let engine = InMemoryKinesis()
        try await engine.createStream(.init(streamName: "s", shardCount: 3))
        await expectError(
            .invalidArgument,
            "Shards shardId-000000000001 and shardId-000000000000 in stream s under account 000000000000 are not an adjacent pair of shards eligible for merging"
        ) {
            try await engine.mergeShards(.init(streamName: "s", shardToMerge: "shardId-000000000001", adjacentShardToMerge: "shardId-000000000000"))
        }
        #expect(try await engine.listShards(.init(streamName: "s")).shards?.count == 3, "nothing merged")
        try await engine.mergeShards(.init(streamName: "s", shardToMerge: "shardId-000000000000", adjacentShardToMerge: "shardId-000000000001"))
    }

    @Test("tag text: a tab, newline, comma or ; is an invalid character; % passes that check and is then illegal")
    func tagCharacters() async throws {
        let engine = InMemoryKinesis()
        try await engine.createStream(.init(streamName: "s", shardCount: 1))
        let invalid = "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @."
        for text in ["a\tb", "a\nb", "a,b", "a;b"] {
            await expectError(.invalidArgument, invalid) { try await engine.addTagsToStream(.init(streamName: "s", tags: [text: "1"])) }
            await expectError(.invalidArgument, invalid) { try await engine.addTagsToStream(.init(streamName: "s", tags: ["k": text])) }
            await expectError(.invalidArgument, invalid) { try await engine.removeTagsFromStream(.init(streamName: "s", tagKeys: [text])) }
        }
        let allowed = "'_',',','/','=','+','-','@'."
        await expectError(
            .invalidArgument,
            "Failed to add tags to stream s under account 000000000000 because some tags contained illegal characters. The allowed characters are Unicode letters, white-spaces, \(allowed)"
        ) { try await engine.addTagsToStream(.init(streamName: "s", tags: ["a%b": "1"])) }
        await expectError(
            .invalidArgument,
            "Failed to remove tags from stream s under account 000000000000 because some tags contained illegal characters. The allowed characters are Unicode letters, white-spaces, \(allowed)"
        ) { try await engine.removeTagsFromStream(.init(streamName: "s", tagKeys: ["a%b"])) }
        try await engine.addTagsToStream(.init(streamName: "s", tags: ["Ünïcode key_./=+-@ 1": "välue"]))
    }

    @Test("the iterator of a deleted stream, or of a shard its successor lacks, names the shard")
    func deletedStreamIterator() async throws {
        let engine = InMemoryKinesis()
        try await engine.createStream(.init(streamName: "s", shardCount: 2))
        let iterator = try await engine.getShardIterator(.init(streamName: "s", shardId: "shardId-000000000001", shardIteratorType: .latest))
            .shardIterator!
        try await engine.deleteStream(.init(streamName: "s"))
        let gone = "Shard shardId-000000000001 in stream s under account 000000000000 does not exist"
        await expectError(.resourceNotFound, gone) { _ = try await engine.getRecords(.init(shardIterator: iterator)) }
        try await engine.createStream(.init(streamName: "s", shardCount: 1))
        await expectError(.resourceNotFound, gone) { _ = try await engine.getRecords(.init(shardIterator: iterator)) }
    }

    @Test("PutRecord says EncryptionType only for an encrypted stream")
    func putRecordEncryption() async throws {
        let engine = InMemoryKinesis()
        try await engine.createStream(.init(streamName: "s", shardCount: 1))
        #expect(try await engine.putRecord(.init(streamName: "s", data: Data("x".utf8), partitionKey: "k")).encryptionType == nil)
        let batch = try await engine.putRecords(.init(streamName: "s", records: [.init(data: Data("x".utf8), partitionKey: "k")]))
        #expect(batch.encryptionType == nil)
    }

    // MARK: Validation from the model

    @Test("list elements and map keys and values are checked against their shapes, in AWS's wording")
    func elementConstraints() async throws {
        let engine = InMemoryKinesis()
        let long = String(repeating: "a", count: 129)
        await expectError(
            .validation,
            "1 validation error detected: Value '[a, \(long), b]' at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]"
        ) { try await engine.removeTagsFromStream(.init(streamName: "s", tagKeys: ["a", long, "b"])) }
        await expectError(
            .validation,
            "1 validation error detected: Value '{\(long)=3}' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]"
        ) { try await engine.addTagsToStream(.init(streamName: "s", tags: [long: "3"])) }
        let longValue = String(repeating: "v", count: 257)
        await expectError(
            .validation,
            "1 validation error detected: Value '{c=\(longValue)}' at 'tags' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 256, Member must have length greater than or equal to 0]"
        ) { try await engine.addTagsToStream(.init(streamName: "s", tags: ["c": longValue])) }
    }

    @Test("ShardIteratorType's enum is listed in the order AWS lists it, not the model's")
    func enumOrder() async {
        let engine = InMemoryKinesis()
        await expectError(
            .validation,
            "1 validation error detected: Value 'NEWEST' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_TIMESTAMP, AT_SEQUENCE_NUMBER, TRIM_HORIZON]"
        ) { _ = try await engine.getShardIterator(.init(streamName: "s", shardId: "shardId-0", shardIteratorType: .init(rawValue: "NEWEST"))) }
    }

    @Test("every correction names a member the model has (a model refresh that drops one fails here)")
    func correctionsApply() {
        for operation in KinesisOperation.allCases {
            let members = KinesisSchema.modelMembers(of: operation).map(\.name)
            for correction in ModelCorrections.table where correction.operations.contains(operation) {
                #expect(members.contains(correction.member), "\(operation.rawValue) has no \(correction.member)")
            }
        }
        let putRecord = KinesisSchema.members(of: .putRecord)
        #expect(putRecord.map(\.name) == KinesisSchema.modelMembers(of: .putRecord).map(\.name), "the model's order")
    }

    @Test("a stream is named by StreamName or by StreamARN alone; naming neither is AWS's null StreamName")
    func streamByNameOrARN() async throws {
        let engine = InMemoryKinesis()
        try await engine.createStream(.init(streamName: "s", shardCount: 2))
        let arn = try #require(try await engine.describeStreamSummary(.init(streamName: "s")).streamDescriptionSummary.streamARN)
        // By ARN alone, through the Swift inputs the model gives every such call.
        let put = try await engine.putRecord(.init(data: Data("x".utf8), partitionKey: "k", streamARN: arn))
        let batch = try await engine.putRecords(.init(records: [.init(data: Data("y".utf8), partitionKey: "k")], streamARN: arn))
        #expect(batch.failedRecordCount == 0)
        #expect(try await engine.describeStream(.init(streamARN: arn)).streamDescription.streamName == "s")
        #expect(try await engine.listShards(.init(streamARN: arn)).shards?.count == 2)
        let iterator = try await engine.getShardIterator(.init(shardId: put.shardId, shardIteratorType: .trimHorizon, streamARN: arn))
        #expect(try await engine.getRecords(.init(shardIterator: try #require(iterator.shardIterator))).records.first?.data == Data("x".utf8))
        try await engine.increaseStreamRetentionPeriod(.init(retentionPeriodHours: 48, streamARN: arn))
        #expect(try await engine.describeStreamSummary(.init(streamName: "s")).streamDescriptionSummary.retentionPeriodHours == 48)
        // Neither: AWS's answer from before StreamARN existed.
        let error = await #expect(throws: KinesisError.self) {
            _ = try await engine.putRecord(.init(data: Data("x".utf8), partitionKey: "k"))
        }
        #expect(error?.message == "1 validation error detected: Value null at 'streamName' failed to satisfy constraint: Member must not be null")
        // Another account's ARN names no stream here.
        let elsewhere = arn.replacingOccurrences(of: ":000000000000:", with: ":111111111111:")
        let missing = await #expect(throws: KinesisError.self) {
            _ = try await engine.describeStream(.init(streamARN: elsewhere))
        }
        #expect(missing?.code == .resourceNotFound)
    }

    // MARK: The endpoint

    static let signature = [
        ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261202/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"),
        ("X-Amz-Date", "20261202T000000Z"), ("Content-Type", "application/x-amz-json-1.1"),
    ]

    @Test("an operation that answers nothing has an empty body; every answer has a UUID-shaped request id and x-amz-id-2")
    func emptyBodiesAndIds() async throws {
        let endpoint = KinesisEndpoint(engine: InMemoryKinesis())
        func call(_ target: String, _ body: String) async -> KinesisEndpoint.Response {
            await endpoint.handle(
                method: "POST", path: "/", query: [], headers: Self.signature + [("X-Amz-Target", "Kinesis_20131202.\(target)")],
                body: Array(body.utf8))
        }
        let created = await call("CreateStream", #"{"StreamName":"s","ShardCount":1}"#)
        #expect(created.status == 200 && created.body.isEmpty)
        var ids: Set<String> = []
        for answer in [created, await call("ListStreams", "{}"), await call("DescribeStream", #"{"StreamName":"missing"}"#)] {
            let id = try #require(answer.headers.first { $0.name == "x-amzn-RequestId" }?.value)
            #expect(id.range(of: "^[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}$", options: .regularExpression) != nil, "\(id)")
            ids.insert(id)
            let extended = try #require(answer.headers.first { $0.name == "x-amz-id-2" }?.value)
            #expect((64...80).contains(Data(base64Encoded: extended)?.count ?? 0))
        }
        #expect(ids.count == 3, "each answer its own id")
    }
}
