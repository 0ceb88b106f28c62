import Foundation
import Kinesis
import KinesisTesting
import Testing

/// The management operations (tags, encryption, monitoring, limits, account settings,
/// registered consumers, resource policies, record size, warm throughput), in process and over HTTP.
@Suite("Conformance: management operations")
struct ManagementConformanceTests {
    static let account = "000000000000"
    static let arn = "arn:aws:kinesis:us-east-1:\(account):stream/managed"

    @Test("tags: add, list in key order with paging, remove; on streams and consumers", arguments: Target.allCases)
    func tags(target: Target) async throws {
        try await withHarness(target) { h in
            try await h.api.createStream(.init(streamName: "managed", shardCount: 1, tags: ["team": "a"]))
            try await h.api.addTagsToStream(.init(tags: ["env": "test"], streamARN: Self.arn))
            let listed = try await h.api.listTagsForStream(.init(streamName: "managed", limit: 1))
            #expect(listed.tags == [Tag(key: "env", value: "test")])
            #expect(listed.hasMoreTags)
            try await h.api.removeTagsFromStream(.init(streamName: "managed", tagKeys: ["env"]))
            #expect(try await h.api.listTagsForResource(.init(resourceARN: Self.arn)).tags == [Tag(key: "team", value: "a")])
            await expectError(.invalidArgument, "Either StreamName or StreamARN must be provided.") {
                try await h.api.addTagsToStream(.init(tags: ["a": "b"]))
            }
            let consumer = try await h.api.registerStreamConsumer(.init(streamARN: Self.arn, consumerName: "c")).consumer
            try await h.api.tagResource(.init(tags: ["x": "y"], resourceARN: consumer.consumerARN))
            #expect(try await h.api.listTagsForResource(.init(resourceARN: consumer.consumerARN)).tags == [Tag(key: "x", value: "y")])
            try await h.api.untagResource(.init(tagKeys: ["x"], resourceARN: consumer.consumerARN))
            #expect(try await h.api.listTagsForResource(.init(resourceARN: consumer.consumerARN)).tags == [])
        }
    }

    @Test("encryption goes through UPDATING; monitoring reports current and desired metrics", arguments: Target.allCases)
    func encryptionAndMonitoring(target: Target) async throws {
        try await withHarness(target, configuration: EngineConfiguration(updatingDelay: .seconds(5))) { h in
            try await h.api.createStream(.init(streamName: "managed", shardCount: 1))
            try await h.api.startStreamEncryption(.init(streamName: "managed", encryptionType: .kms, keyId: "alias/aws/kinesis"))
            var summary = try await h.api.describeStreamSummary(.init(streamName: "managed")).streamDescriptionSummary
            #expect(summary.streamStatus == .updating)
            #expect(summary.encryptionType == "NONE")
            h.clock.advance(by: .seconds(5))
            summary = try await h.api.describeStreamSummary(.init(streamName: "managed")).streamDescriptionSummary
            #expect(summary.streamStatus == .active)
            #expect(summary.encryptionType == "KMS")
            #expect(summary.keyId == "alias/aws/kinesis")
            #expect(try await h.api.putRecord(.init(streamName: "managed", data: Data("x".utf8), partitionKey: "k")).encryptionType == "KMS")
            let iterator = try await h.api.getShardIterator(.init(streamName: "managed", shardId: "shardId-000000000000", shardIteratorType: .trimHorizon))
            #expect(try await h.api.getRecords(.init(shardIterator: try #require(iterator.shardIterator))).records.map(\.encryptionType) == ["KMS"])
            await expectError(.invalidArgument, nil) {
                try await h.api.stopStreamEncryption(.init(streamName: "managed", encryptionType: .kms, keyId: "alias/another"))
            }
            try await h.api.stopStreamEncryption(.init(encryptionType: .kms, keyId: "alias/aws/kinesis", streamARN: Self.arn))
            h.clock.advance(by: .seconds(5))
            summary = try await h.api.describeStreamSummary(.init(streamName: "managed")).streamDescriptionSummary
            #expect(summary.encryptionType == "NONE")
            #expect(summary.keyId == nil)

            let enabled = try await h.api.enableEnhancedMonitoring(.init(streamName: "managed", shardLevelMetrics: ["ALL"]))
            #expect(enabled.currentShardLevelMetrics == [])
            #expect(enabled.desiredShardLevelMetrics == MetricsName.shardLevel)
            let disabled = try await h.api.disableEnhancedMonitoring(.init(shardLevelMetrics: ["IteratorAgeMilliseconds"], streamARN: Self.arn))
            #expect(disabled.desiredShardLevelMetrics == Array(MetricsName.shardLevel.dropLast()))
            let shown = try await h.api.describeStream(.init(streamName: "managed")).streamDescription.enhancedMonitoring
            #expect(shown == [EnhancedMetrics(shardLevelMetrics: disabled.desiredShardLevelMetrics)])
        }
    }

    @Test("limits and the account's billing commitment", arguments: Target.allCases)
    func limitsAndAccount(target: Target) async throws {
        try await withHarness(target) { h in
            try await h.api.createStream(.init(streamName: "managed", shardCount: 3))
            try await h.api.createStream(.init(streamName: "od", mode: .onDemand))
            let limits = try await h.api.describeLimits(.init())
            #expect(limits == DescribeLimitsOutput(shardLimit: 500, openShardCount: 3, onDemandStreamCount: 1, onDemandStreamCountLimit: 50))
            #expect(try await h.api.describeAccountSettings(.init()).minimumThroughputBillingCommitment?.status == "DISABLED")
            #expect(try await h.api.updateAccountSettings(.init(commitmentEnabled: true)).minimumThroughputBillingCommitment?.status == "ENABLED")
            #expect(
                try await h.api.updateAccountSettings(.init(commitmentEnabled: false)).minimumThroughputBillingCommitment?.status
                    == "ENABLED_UNTIL_EARLIEST_ALLOWED_END")
            h.clock.advance(by: .seconds(24 * 3600))
            #expect(try await h.api.describeAccountSettings(.init()).minimumThroughputBillingCommitment?.status == "DISABLED")
        }
    }

    @Test("consumers: CREATING then ACTIVE, unique names, paging, deregistration, and DeleteStream's guard", arguments: Target.allCases)
    func consumers(target: Target) async throws {
        try await withHarness(target, configuration: EngineConfiguration(creatingDelay: .seconds(2), deletingDelay: .seconds(2))) { h in
            try await h.api.createStream(.init(streamName: "managed", shardCount: 1))
            h.clock.advance(by: .seconds(2))
            let registered = try await h.api.registerStreamConsumer(.init(streamARN: Self.arn, consumerName: "reader")).consumer
            #expect(registered.consumerStatus == .creating)
            #expect(registered.consumerARN.hasPrefix(Self.arn + "/consumer/reader:"))
            await expectError(.resourceInUse, "Consumer reader under stream \(Self.arn) already exists.") {
                _ = try await h.api.registerStreamConsumer(.init(streamARN: Self.arn, consumerName: "reader"))
            }
            h.clock.advance(by: .seconds(2))
            let described = try await h.api.describeStreamConsumer(.init(streamARN: Self.arn, consumerName: "reader")).consumerDescription
            #expect(described.consumerStatus == .active)
            #expect(described.streamARN == Self.arn)
            for index in 0..<3 { _ = try await h.api.registerStreamConsumer(.init(streamARN: Self.arn, consumerName: "more-\(index)")) }
            var names: [String] = []
            var token: String?
            repeat {
                let page = try await h.api.listStreamConsumers(.init(streamARN: Self.arn, nextToken: token, maxResults: token == nil ? 3 : nil))
                names += (page.consumers ?? []).map(\.consumerName)
                token = page.nextToken
            } while token != nil
            #expect(names == ["reader", "more-0", "more-1", "more-2"])
            await expectError(.resourceInUse, nil) { try await h.api.deleteStream(.init(streamName: "managed")) }
            try await h.api.deregisterStreamConsumer(.init(consumerARN: registered.consumerARN))
            #expect(try await h.api.describeStreamConsumer(.init(consumerARN: registered.consumerARN)).consumerDescription.consumerStatus == .deleting)
            h.clock.advance(by: .seconds(2))
            await expectError(.resourceNotFound, "Consumer \(registered.consumerARN) under stream \(Self.arn) not found.") {
                _ = try await h.api.describeStreamConsumer(.init(consumerARN: registered.consumerARN))
            }
            #expect(try await h.api.describeStreamSummary(.init(streamName: "managed")).streamDescriptionSummary.consumerCount == 3)
            try await h.api.deleteStream(.init(streamName: "managed", enforceConsumerDeletion: true))
        }
    }

    @Test("resource policies, record size and warm throughput", arguments: Target.allCases)
    func policiesSizesAndWarmThroughput(target: Target) async throws {
        try await withHarness(target) { h in
            try await h.api.createStream(.init(streamName: "managed", shardCount: 1))
            #expect(try await h.api.getResourcePolicy(.init(resourceARN: Self.arn)).policy == "{}")
            try await h.api.putResourcePolicy(.init(resourceARN: Self.arn, policy: #"{"Version":"2012-10-17","Statement":[]}"#))
            #expect(try await h.api.getResourcePolicy(.init(resourceARN: Self.arn)).policy == #"{"Version":"2012-10-17","Statement":[]}"#)
            await expectError(.invalidArgument, "Policy is not a valid JSON document.") {
                try await h.api.putResourcePolicy(.init(resourceARN: Self.arn, policy: "allow everything"))
            }
            try await h.api.deleteResourcePolicy(.init(resourceARN: Self.arn))
            #expect(try await h.api.getResourcePolicy(.init(resourceARN: Self.arn)).policy == "{}")

            let big = Data(repeating: 7, count: 1_500_000)
            await expectError(
                .validation,
                "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1500000 cap=1500000]' at 'data' failed to satisfy constraint: Member must have length less than or equal to 1048576"
            ) {
                _ = try await h.api.putRecord(.init(streamName: "managed", data: big, partitionKey: "k"))
            }
            try await h.api.updateMaxRecordSize(.init(maxRecordSizeInKiB: 2048, streamARN: Self.arn))
            _ = try await h.api.putRecord(.init(streamName: "managed", data: big, partitionKey: "k"))
            #expect(try await h.api.describeStreamSummary(.init(streamName: "managed")).streamDescriptionSummary.maxRecordSizeInKiB == 2048)

            await expectError(.invalidArgument, nil) {
                _ = try await h.api.updateStreamWarmThroughput(.init(streamName: "managed", warmThroughputMiBps: 10))
            }
            try await h.api.createStream(.init(streamName: "od", mode: .onDemand, warmThroughputMiBps: 20))
            #expect(try await h.api.describeStreamSummary(.init(streamName: "od")).streamDescriptionSummary.warmThroughput?.targetMiBps == 20)
            let warmed = try await h.api.updateStreamWarmThroughput(.init(streamName: "od", warmThroughputMiBps: 50))
            #expect(warmed.warmThroughput == WarmThroughputObject(targetMiBps: 50, currentMiBps: 50))
        }
    }

    @Test("the account's shard quota: CreateStream, SplitShard and UpdateShardCount over it get AWS's LimitExceededException", arguments: Target.allCases)
    func shardQuota(target: Target) async throws {
        var configuration = EngineConfiguration()
        configuration.shardLimit = 10
        try await withHarness(target, configuration: configuration) { h in
            try await h.api.createStream(.init(streamName: "managed", shardCount: 8))
            try await h.api.createStream(.init(streamName: "od", mode: .onDemand))  // on-demand shards do not count
            await expectError(
                .limitExceeded,
                "This request would exceed the shard limit for the account \(Self.account) in us-east-1. Current shard count for the account: 8. Limit: 10. Number of additional shards that would have resulted from this request: 3. Refer to the AWS Service Limits page (http://docs.aws.amazon.com/general/latest/gr/aws_service_limits.html) for current limits and how to request higher limits."
            ) {
                try await h.api.createStream(.init(streamName: "more", shardCount: 3))
            }
            try await h.api.splitShard(.init(streamName: "managed", shardToSplit: "shardId-000000000000", newStartingHashKey: "1000"))
            try await h.api.splitShard(.init(streamName: "managed", shardToSplit: "shardId-000000000001", newStartingHashKey: String(UInt128.max / 8 + 1000)))
            await expectError(.limitExceeded, nil) {
                try await h.api.splitShard(.init(streamName: "managed", shardToSplit: "shardId-000000000002", newStartingHashKey: String(UInt128.max / 4 + 1000)))
            }
            await expectError(.limitExceeded, nil) {
                _ = try await h.api.updateShardCount(.init(streamName: "managed", targetShardCount: 12))
            }
            #expect(try await h.api.describeLimits(.init()).openShardCount == 10)
        }
    }
}
