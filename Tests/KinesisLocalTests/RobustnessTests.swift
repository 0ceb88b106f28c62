import Foundation
import Kinesis
import KinesisLocal
import KinesisTesting
import Testing

/// The endpoint never crashes on input: seeded random bodies for every operation, built from
/// values near the edges of every constraint, get an AWS-shaped answer.
@Suite("KinesisLocal robustness")
struct RobustnessTests {
    struct Generator {
        var random: SplitMix64
        mutating func next() -> UInt64 { random.next() }
        mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }
    }

    static let names = [
        "StreamName", "ShardCount", "Data", "PartitionKey", "ExplicitHashKey", "ShardId", "ShardIteratorType",
        "StartingSequenceNumber", "Timestamp", "ShardIterator", "Limit", "RetentionPeriodHours", "TargetShardCount",
        "ScalingType", "ShardToSplit", "NewStartingHashKey", "ShardToMerge", "AdjacentShardToMerge", "Records", "NextToken",
        "MaxResults", "ExclusiveStartShardId", "ShardFilter", "StreamModeDetails", "StreamARN", "Tags",
    ]

    static let values: [String] = [
        "null", "true", "0", "-1", "1", "500", "501", "100000", "1e300", "-1e300", "1.5", "\"\"", "\"s\"", "\"AAAA\"", "\"AA=A\"",
        "\"shardId-000000000000\"", "\"shardId-999999999999\"", "\"shardId-\"", "\"TRIM_HORIZON\"", "\"AT_SEQUENCE_NUMBER\"",
        "\"AT_TIMESTAMP\"", "\"UNIFORM_SCALING\"", "\"340282366920938463463374607431768211455\"",
        "\"340282366920938463463374607431768211456\"", "\"0\"", "\"18446744073709551615\"",
        "\"49179592139600000100000000000000000000011795921396574000\"",
        "\"49000000000000000018446744073709551615000000000000000000\"", "\"4999999999999999999999999999999999999999999999999999999\"",
        "[]", "[{}]", "[{\"Data\":\"AAAA\",\"PartitionKey\":\"k\"}]", "{}", "{\"Type\":\"AT_LATEST\"}", "{\"StreamMode\":\"ON_DEMAND\"}",
        "{\"a\":1}", "\"" + String(repeating: "x", count: 600) + "\"", "\"S0tUSTF8c3wxfDB8MHww\"",
    ]

    @Test("2,000 random bodies across all operations get 200, 400 or 500 answers with an AWS error body")
    func randomBodies() async throws {
        let engine = InMemoryKinesis()
        try await engine.createStream(.init(streamName: "s", shardCount: 2))
        _ = try await engine.putRecord(.init(streamName: "s", data: Data("x".utf8), partitionKey: "k"))
        let endpoint = KinesisEndpoint(engine: engine)
        var random = Generator(random: SplitMix64(seed: 7))
        let operations = KinesisOperation.allCases
        for _ in 0..<2000 {
            let operation = random.pick(operations)
            var members: [String] = []
            for _ in 0..<Int(random.next() % 6) {
                let name = random.pick(Self.names)
                var value = random.pick(Self.values)
                if name == "StreamName", random.next() % 2 == 0 { value = "\"s\"" }
                members.append("\"\(name)\":\(value)")
            }
            let body = "{" + members.joined(separator: ",") + "}"
            let answer = await endpoint.handle(
                method: "POST", path: "/", query: [],
                headers: [("X-Amz-Target", "Kinesis_20131202.\(operation.rawValue)"), ("Content-Type", KinesisWire.contentType)],
                body: Array(body.utf8))
            #expect([200, 400, 500, 503].contains(answer.status), "\(operation.rawValue) \(body)")
            if answer.status != 200 {
                let json = try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any]
                #expect(json?["__type"] is String, "\(operation.rawValue) \(body)")
                #expect(answer.status != 500, "\(operation.rawValue) \(body): \(String(decoding: answer.body, as: UTF8.self))")
            }
        }
    }
}
