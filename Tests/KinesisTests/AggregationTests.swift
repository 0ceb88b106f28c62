import Foundation
import Testing

@testable import Kinesis

@Suite("KPL aggregation")
struct AggregationTests {
    static func sample(_ count: Int, explicit: Bool = false) -> [AggregatedRecord.UserRecord] {
        (0..<count).map { (index: Int) -> AggregatedRecord.UserRecord in
            let length = index * 13 % 300
            let bytes: [UInt8] = (0..<length).map { (offset: Int) -> UInt8 in UInt8((offset + index) % 256) }
            let hashKey: String? = explicit ? String(UInt128(index) * 1_000_003) : nil
            return AggregatedRecord.UserRecord(partitionKey: "user-\(index % 7)", explicitHashKey: hashKey, data: Data(bytes))
        }
    }

    @Test("round-trips records; key tables hold each key once; the size is exact")
    func roundTrip() throws {
        for explicit in [false, true] {
            var builder = AggregatedRecordBuilder(maximumSize: 1 << 20)
            let records = Self.sample(50, explicit: explicit)
            for record in records {
                let added = builder.append(record)
                #expect(added)
            }
            let built = try #require(builder.build())
            #expect(built.partitionKey == "a")
            #expect(built.data.count == builder.size)
            #expect(AggregatedRecord.deaggregate(built.data) == records)
        }
    }

    @Test("the aggregate carries the first record's hash key, so it lands on that record's shard")
    func explicitHashKeyOfFirst() throws {
        var builder = AggregatedRecordBuilder()
        builder.append(.init(partitionKey: "user-123", data: Data("a".utf8)))
        builder.append(.init(partitionKey: "other", data: Data("b".utf8)))
        #expect(builder.build()?.explicitHashKey == "250018372642977770877286195909578633128")
    }

    @Test("one record is sent plain, with its own keys")
    func single() {
        var builder = AggregatedRecordBuilder()
        builder.append(.init(partitionKey: "k", explicitHashKey: "5", data: Data("x".utf8)))
        let built = builder.build()
        #expect(built?.partitionKey == "k")
        #expect(built?.explicitHashKey == "5")
        #expect(built?.data == Data("x".utf8))
    }

    @Test("stops at maximumSize; an oversized first record is still accepted alone")
    func sizeLimit() {
        var builder = AggregatedRecordBuilder(maximumSize: 1000)
        var accepted = 0
        while builder.append(.init(partitionKey: "k", data: Data(count: 90))) { accepted += 1 }
        #expect(accepted > 5)
        #expect(builder.size <= 1000)
        var big = AggregatedRecordBuilder(maximumSize: 1000)
        let first = big.append(.init(partitionKey: "k", data: Data(count: 5000)))
        let second = big.append(.init(partitionKey: "k", data: Data(count: 1)))
        #expect(first)
        #expect(!second)
    }

    @Test("plain data, a wrong MD5 or a broken message are not aggregated")
    func notAggregated() throws {
        #expect(AggregatedRecord.deaggregate(Data("plain".utf8)) == nil)
        var builder = AggregatedRecordBuilder()
        for record in Self.sample(3) { builder.append(record) }
        var data = try #require(builder.build()).data
        data[data.count - 1] ^= 0xFF
        #expect(AggregatedRecord.deaggregate(data) == nil)
        var garbage = Data(AggregatedRecord.magic) + Data([0x1A, 0x7F, 0x01])
        garbage += Data(Insecure_md5([0x1A, 0x7F, 0x01]))
        #expect(AggregatedRecord.deaggregate(garbage) == nil)
    }

    // MARK: - Against aws-kinesis-agg (Python), an independent implementation

    static func python(_ command: String, _ input: Any) throws -> Any {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", root.appendingPathComponent("Tests/python/agg_helper.py").path, command]
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: input))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw PythonFailed(message: String(decoding: errors, as: UTF8.self))
        }
        return try JSONSerialization.jsonObject(with: output)
    }

    struct PythonFailed: Error, CustomStringConvertible {
        var message: String
        var description: String { "agg_helper.py failed (scripts/test.sh installs aws_kinesis_agg): \(message)" }
    }

    @Test("aggregated in Swift, deaggregated whole by aws-kinesis-agg", arguments: [false, true])
    func swiftToPython(explicit: Bool) throws {
        let records = Self.sample(40, explicit: explicit)
        var builder = AggregatedRecordBuilder(maximumSize: 1 << 20)
        for record in records { builder.append(record) }
        let built = try #require(builder.build())
        let out = try #require(
            try Self.python("deaggregate", ["pk": built.partitionKey, "data": built.data.base64EncodedString()]) as? [[String: Any]])
        #expect(out.count == records.count)
        #expect(out.map { $0["pk"] as? String } == records.map(\.partitionKey))
        #expect(out.map { Data(base64Encoded: $0["data"] as? String ?? "") } == records.map(\.data))
        #expect(out.map { $0["sub"] as? Int } == Array(0..<records.count))
        if explicit { #expect(out.map { $0["ehk"] as? String } == records.map(\.explicitHashKey)) }
    }

    @Test("aggregated by aws-kinesis-agg, deaggregated whole in Swift", arguments: [false, true])
    func pythonToSwift(explicit: Bool) throws {
        let records = Self.sample(40, explicit: explicit)
        let input = records.map { record -> [String: Any] in
            var entry: [String: Any] = ["pk": record.partitionKey, "data": record.data.base64EncodedString()]
            if let ehk = record.explicitHashKey { entry["ehk"] = ehk }
            return entry
        }
        let out = try #require(try Self.python("aggregate", input) as? [String: Any])
        let data = try #require(Data(base64Encoded: out["data"] as? String ?? ""))
        let decoded = try #require(AggregatedRecord.deaggregate(data))
        #expect(decoded.map(\.partitionKey) == records.map(\.partitionKey))
        #expect(decoded.map(\.data) == records.map(\.data))
        if explicit {
            #expect(decoded.map(\.explicitHashKey) == records.map(\.explicitHashKey))
        }
    }
}

import Crypto

func Insecure_md5(_ bytes: [UInt8]) -> [UInt8] { Array(Insecure.MD5.hash(data: bytes)) }
