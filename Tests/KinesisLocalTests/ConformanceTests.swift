import Foundation
import Kinesis
import KinesisTesting
import Testing

/// One suite, run against the engine in process and over HTTP: both must behave as Kinesis does.
@Suite("Conformance")
struct ConformanceTests {
    static let account = "000000000000"

    @Test("streams: create, describe with even hash ranges, duplicate and missing names", arguments: Target.allCases)
    func lifecycle(target: Target) async throws {
        try await withHarness(target) { h in
            try await h.api.createStream(.init(streamName: "orders", shardCount: 3))
            let description = try await h.api.describeStream(.init(streamName: "orders")).streamDescription
            #expect(description.streamStatus == .active)
            #expect(description.shards.map(\.shardId) == ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"])
            #expect(description.shards[1].hashKeyRange.startingHashKey == "113427455640312821154458202477256070485")
            #expect(description.shards[2].hashKeyRange.endingHashKey == "340282366920938463463374607431768211455")
            #expect(description.streamARN == "arn:aws:kinesis:us-east-1:\(Self.account):stream/orders")
            #expect(try await h.api.describeStreamSummary(.init(streamName: "orders")).streamDescriptionSummary.openShardCount == 3)

            await expectError(.resourceInUse, "Stream orders under account \(Self.account) already exists.") {
                try await h.api.createStream(.init(streamName: "orders", shardCount: 1))
            }
            try await h.api.deleteStream(.init(streamName: "orders"))
            await expectError(.resourceNotFound, "Stream orders under account \(Self.account) not found.") {
                _ = try await h.api.describeStreamSummary(.init(streamName: "orders"))
            }
        }
    }

    @Test("routing: MD5 big-endian to open shards, explicit hash keys, per-entry shards", arguments: Target.allCases)
    func routing(target: Target) async throws {
        try await withHarness(target) { h in
            try await h.api.createStream(.init(streamName: "s", shardCount: 3))
            var shards: [String] = []
            for key in ["a", "b", "e", "f"] {
                shards.append(try await h.api.putRecord(.init(streamName: "s", data: Data("x".utf8), partitionKey: key)).shardId)
            }
            #expect(shards == ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002", "shardId-000000000001"])
            let explicit = try await h.api.putRecord(
                .init(streamName: "s", data: Data("x".utf8), partitionKey: "a", explicitHashKey: "340282366920938463463374607431768211455"))
            #expect(explicit.shardId == "shardId-000000000002")

            let map = try ShardMap(shards: try await h.api.listShards(.init(streamName: "s")).shards ?? [])
            let keys = (0..<200).map { "user-\($0)" }
            let batch = try await h.api.putRecords(
                .init(streamName: "s", records: keys.map { .init(data: Data($0.utf8), partitionKey: $0) }))
            #expect(batch.failedRecordCount == 0)
            #expect(batch.records.map(\.shardId) == keys.map { map.shardId(forPartitionKey: $0) })
        }
    }

    @Test("records: binary data round-trips; 56-digit sequence numbers increase in each shard", arguments: Target.allCases)
    func records(target: Target) async throws {
        try await withHarness(target) { h in
            try await h.api.createStream(.init(streamName: "s", shardCount: 1))
            let payloads = [Data((0...255).map { UInt8($0) }), Data(), Data([0]), Data("é☃😀".utf8)]
            var sequenceNumbers: [String] = []
            for payload in payloads {
                sequenceNumbers.append(try await h.api.putRecord(.init(streamName: "s", data: payload, partitionKey: "k")).sequenceNumber)
            }
            #expect(sequenceNumbers.allSatisfy { $0.count == 56 && $0.allSatisfy(\.isNumber) })
            #expect(zip(sequenceNumbers, sequenceNumbers.dropFirst()).allSatisfy { $0 < $1 })
            let read = try await h.api.readAll(stream: "s", shardId: "shardId-000000000000")
            #expect(read.map(\.data) == payloads)
            #expect(read.map(\.sequenceNumber) == sequenceNumbers)
            #expect(read.allSatisfy { $0.partitionKey == "k" && $0.approximateArrivalTimestamp != nil })
        }
    }

    @Test("iterators: all five types start where they should", arguments: Target.allCases)
    func iteratorTypes(target: Target) async throws {
        try await withHarness(target) { h in
            try await h.api.createStream(.init(streamName: "s", shardCount: 1))
            let shard = "shardId-000000000000"
            var sequenceNumbers: [String] = []
            for index in 0..<5 {
                sequenceNumbers.append(
                    try await h.api.putRecord(.init(streamName: "s", data: Data("\(index)".utf8), partitionKey: "k")).sequenceNumber)
                h.clock.advance(by: .seconds(10))
            }
            func read(_ type: ShardIteratorType, sequenceNumber: String? = nil, timestamp: Date? = nil) async throws -> [String] {
                let iterator = try await h.api.getShardIterator(
                    .init(streamName: "s", shardId: shard, shardIteratorType: type, startingSequenceNumber: sequenceNumber, timestamp: timestamp)
                ).shardIterator!
                return try await h.api.getRecords(.init(shardIterator: iterator)).records.map { String(decoding: $0.data, as: UTF8.self) }
            }
            #expect(try await read(.trimHorizon) == ["0", "1", "2", "3", "4"])
            #expect(try await read(.atSequenceNumber, sequenceNumber: sequenceNumbers[2]) == ["2", "3", "4"])
            #expect(try await read(.afterSequenceNumber, sequenceNumber: sequenceNumbers[2]) == ["3", "4"])
            let start = Date(timeIntervalSince1970: h.clock.now() - 25)
            #expect(try await read(.atTimestamp, timestamp: start) == ["3", "4"])

            let latest = try await h.api.getShardIterator(.init(streamName: "s", shardId: shard, shardIteratorType: .latest)).shardIterator!
            let empty = try await h.api.getRecords(.init(shardIterator: latest))
            #expect(empty.records.isEmpty)
            #expect(empty.millisBehindLatest == 0)
            _ = try await h.api.putRecord(.init(streamName: "s", data: Data("5".utf8), partitionKey: "k"))
            let next = try await h.api.getRecords(.init(shardIterator: empty.nextShardIterator!))
            #expect(next.records.map { String(decoding: $0.data, as: UTF8.self) } == ["5"])

            await expectError(
                .invalidArgument,
                "Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber."
            ) {
                _ = try await h.api.getShardIterator(.init(streamName: "s", shardId: shard, shardIteratorType: .atSequenceNumber))
            }
            await expectError(.resourceNotFound, "Shard shardId-000000000005 in stream s under account \(Self.account) does not exist") {
                _ = try await h.api.getShardIterator(.init(streamName: "s", shardId: "shardId-000000000005", shardIteratorType: .latest))
            }
        }
    }

    @Test("iterators expire after 5 minutes; garbage is Invalid ShardIterator.", arguments: Target.allCases)
    func iteratorExpiry(target: Target) async throws {
        try await withHarness(target) { h in
            try await h.api.createStream(.init(streamName: "s", shardCount: 1))
            let iterator = try await h.api.getShardIterator(
                .init(streamName: "s", shardId: "shardId-000000000000", shardIteratorType: .trimHorizon)
            ).shardIterator!
            h.clock.advance(by: .seconds(299))
            _ = try await h.api.getRecords(.init(shardIterator: iterator))
            h.clock.advance(by: .seconds(2))
            do {
                _ = try await h.api.getRecords(.init(shardIterator: iterator))
                Issue.record("an iterator 301 seconds old must be expired")
            } catch let error as KinesisError {
                #expect(error.code == .expiredIterator)
                #expect(error.message.hasPrefix("Iterator expired. The iterator was created at time "))
                #expect(error.message.hasSuffix("which is further in the future than the tolerated delay of 300000 milliseconds."))
                #expect(error.message.contains("UTC 2026"))
            }
            await expectError(.invalidArgument, "Invalid ShardIterator.") {
                _ = try await h.api.getRecords(.init(shardIterator: "AAAAAAAAAAGarbage"))
            }
        }
    }

    @Test("validation: AWS's grammar and messages", arguments: Target.allCases)
    func validation(target: Target) async throws {
        try await withHarness(target) { h in
            try await h.api.createStream(.init(streamName: "s", shardCount: 1))
            await expectError(
                .validation,
                "1 validation error detected: Value '' at 'partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1"
            ) {
                _ = try await h.api.putRecord(.init(streamName: "s", data: Data("x".utf8), partitionKey: ""))
            }
            await expectError(
                .validation,
                "2 validation errors detected: Value '' at 'shardIterator' failed to satisfy constraint: Member must have length greater than or equal to 1; Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
            ) {
                _ = try await h.api.getRecords(.init(shardIterator: "", limit: 0))
            }
            await expectError(
                .validation,
                "1 validation error detected: Value 'bad' at 'records.2.member.explicitHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})"
            ) {
                _ = try await h.api.putRecords(
                    .init(
                        streamName: "s",
                        records: [.init(data: Data(), partitionKey: "a"), .init(data: Data(), partitionKey: "b", explicitHashKey: "bad")]))
            }
            await expectError(
                .validation,
                "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1048577 cap=1048577]' at 'data' failed to satisfy constraint: Member must have length less than or equal to 1048576"
            ) {
                _ = try await h.api.putRecord(.init(streamName: "s", data: Data(count: 1_048_577), partitionKey: "k"))
            }
            await expectError(.validation) {
                _ = try await h.api.putRecords(.init(streamName: "s", records: []))
            }
            await expectError(.validation) {
                _ = try await h.api.putRecords(
                    .init(streamName: "s", records: (0..<501).map { _ in .init(data: Data(), partitionKey: "k") }))
            }
        }
    }

    @Test("resharding: split, drain the parent to its children, merge, UpdateShardCount", arguments: Target.allCases)
    func resharding(target: Target) async throws {
        try await withHarness(target) { h in
            try await h.api.createStream(.init(streamName: "s", shardCount: 1))
            _ = try await h.api.putRecord(.init(streamName: "s", data: Data("before".utf8), partitionKey: "k"))
            try await h.api.splitShard(
                .init(streamName: "s", shardToSplit: "shardId-000000000000", newStartingHashKey: "170141183460469231731687303715884105728"))
            let shards = try await h.api.listShards(.init(streamName: "s")).shards ?? []
            #expect(shards.count == 3)
            #expect(shards[0].sequenceNumberRange.endingSequenceNumber != nil)
            #expect(shards[1].parentShardId == "shardId-000000000000")
            #expect(shards[2].parentShardId == "shardId-000000000000")
            #expect(shards[1].hashKeyRange.endingHashKey == "170141183460469231731687303715884105727")
            #expect(shards[1].sequenceNumberRange.startingSequenceNumber > shards[0].sequenceNumberRange.startingSequenceNumber)

            let after = try await h.api.putRecord(.init(streamName: "s", data: Data("after".utf8), partitionKey: "k"))
            #expect(after.shardId != "shardId-000000000000")

            // The parent keeps its record; draining it ends the iterator and names the children.
            let iterator = try await h.api.getShardIterator(
                .init(streamName: "s", shardId: "shardId-000000000000", shardIteratorType: .trimHorizon)
            ).shardIterator!
            let drained = try await h.api.getRecords(.init(shardIterator: iterator))
            #expect(drained.records.map { String(decoding: $0.data, as: UTF8.self) } == ["before"])
            #expect(drained.nextShardIterator == nil)
            #expect(Set(drained.childShards?.map(\.shardId) ?? []) == ["shardId-000000000001", "shardId-000000000002"])

            await expectError(
                .resourceInUse,
                "Shard shardId-000000000000 in stream s under account \(Self.account) has already been merged or split, and thus is not eligible for merging or splitting."
            ) {
                try await h.api.splitShard(.init(streamName: "s", shardToSplit: "shardId-000000000000", newStartingHashKey: "5"))
            }
            try await h.api.mergeShards(
                .init(streamName: "s", shardToMerge: "shardId-000000000001", adjacentShardToMerge: "shardId-000000000002"))
            let merged = try await h.api.listShards(.init(streamName: "s", shardFilter: .init(type: .atLatest))).shards ?? []
            #expect(merged.count == 1)
            #expect(merged[0].parentShardId == "shardId-000000000001")
            #expect(merged[0].adjacentParentShardId == "shardId-000000000002")
            #expect(merged[0].hashKeyRange == HashKeyRange(startingHashKey: "0", endingHashKey: "340282366920938463463374607431768211455"))

            let update = try await h.api.updateShardCount(.init(streamName: "s", targetShardCount: 2))
            #expect(update.currentShardCount == 1 && update.targetShardCount == 2)
            #expect(try await h.api.describeStreamSummary(.init(streamName: "s")).streamDescriptionSummary.openShardCount == 2)
            await expectError(.limitExceeded) {
                _ = try await h.api.updateShardCount(.init(streamName: "s", targetShardCount: 5))
            }
        }
    }

    @Test("retention: AWS's range messages, and records older than it are trimmed", arguments: Target.allCases)
    func retention(target: Target) async throws {
        try await withHarness(target) { h in
            try await h.api.createStream(.init(streamName: "s", shardCount: 1))
            await expectError(.invalidArgument, "Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is too short.") {
                try await h.api.decreaseStreamRetentionPeriod(.init(streamName: "s", retentionPeriodHours: 23))
            }
            await expectError(.invalidArgument, "Maximum allowed retention period is 8760 hours. Requested retention period (9000 hours) is too long.") {
                try await h.api.increaseStreamRetentionPeriod(.init(streamName: "s", retentionPeriodHours: 9000))
            }
            try await h.api.increaseStreamRetentionPeriod(.init(streamName: "s", retentionPeriodHours: 48))
            #expect(try await h.api.describeStreamSummary(.init(streamName: "s")).streamDescriptionSummary.retentionPeriodHours == 48)
            try await h.api.decreaseStreamRetentionPeriod(.init(streamName: "s", retentionPeriodHours: 24))

            _ = try await h.api.putRecord(.init(streamName: "s", data: Data("old".utf8), partitionKey: "k"))
            h.clock.advance(by: .seconds(23 * 3600))
            _ = try await h.api.putRecord(.init(streamName: "s", data: Data("new".utf8), partitionKey: "k"))
            h.clock.advance(by: .seconds(2 * 3600))
            let left = try await h.api.readAll(stream: "s", shardId: "shardId-000000000000")
            #expect(left.map { String(decoding: $0.data, as: UTF8.self) } == ["new"])
        }
    }

    @Test("listing: ListStreams and ListShards page with tokens; ListShards needs a name or a token", arguments: Target.allCases)
    func listing(target: Target) async throws {
        try await withHarness(target) { h in
            for name in ["a", "b", "c"] { try await h.api.createStream(.init(streamName: name, shardCount: 5)) }
            let first = try await h.api.listStreams(.init(limit: 2))
            #expect(first.streamNames == ["a", "b"])
            #expect(first.hasMoreStreams)
            let second = try await h.api.listStreams(.init(nextToken: first.nextToken))
            #expect(second.streamNames == ["c"])
            #expect(!second.hasMoreStreams)

            let page = try await h.api.listShards(.init(streamName: "a", maxResults: 2))
            #expect(page.shards?.map(\.shardId) == ["shardId-000000000000", "shardId-000000000001"])
            let rest = try await h.api.listShards(.init(nextToken: page.nextToken, maxResults: 10))
            #expect(rest.shards?.map(\.shardId) == ["shardId-000000000002", "shardId-000000000003", "shardId-000000000004"])
            #expect(rest.nextToken == nil)
            await expectError(.invalidArgument, "Either NextToken or StreamName should be provided.") {
                _ = try await h.api.listShards(.init())
            }
        }
    }

    @Test("on-demand streams start with 4 shards and refuse UpdateShardCount", arguments: Target.allCases)
    func onDemand(target: Target) async throws {
        try await withHarness(target) { h in
            try await h.api.createStream(.init(streamName: "od", mode: .onDemand))
            let summary = try await h.api.describeStreamSummary(.init(streamName: "od")).streamDescriptionSummary
            #expect(summary.streamModeDetails?.streamMode == .onDemand)
            #expect(summary.openShardCount == 4)
            await expectError(.validation) {
                _ = try await h.api.updateShardCount(.init(streamName: "od", targetShardCount: 8))
            }
            try await h.api.updateStreamMode(.init(streamARN: summary.streamARN!, mode: .provisioned))
            _ = try await h.api.updateShardCount(.init(streamName: "od", targetShardCount: 8))
            #expect(try await h.api.describeStreamSummary(.init(streamName: "od")).streamDescriptionSummary.openShardCount == 8)
        }
    }

    @Test("lifecycle delays: CREATING, UPDATING and DELETING last as configured", arguments: Target.allCases)
    func delays(target: Target) async throws {
        let configuration = EngineConfiguration(creatingDelay: .seconds(10), updatingDelay: .seconds(5), deletingDelay: .seconds(3))
        try await withHarness(target, configuration: configuration) { h in
            try await h.api.createStream(.init(streamName: "s", shardCount: 1))
            #expect(try await h.api.describeStreamSummary(.init(streamName: "s")).streamDescriptionSummary.streamStatus == .creating)
            await expectError(.resourceNotFound) {
                _ = try await h.api.putRecord(.init(streamName: "s", data: Data(), partitionKey: "k"))
            }
            #expect(try await h.api.describeStream(.init(streamName: "s")).streamDescription.shards.isEmpty, "no shards until ACTIVE, as AWS")
            h.clock.advance(by: .seconds(10))
            #expect(try await h.api.describeStreamSummary(.init(streamName: "s")).streamDescriptionSummary.streamStatus == .active)
            #expect(try await h.api.describeStream(.init(streamName: "s")).streamDescription.shards.count == 1)
            // Deleted while CREATING: DELETING, and still no shards.
            try await h.api.createStream(.init(streamName: "young", shardCount: 1))
            try await h.api.deleteStream(.init(streamName: "young"))
            let young = try await h.api.describeStream(.init(streamName: "young")).streamDescription
            #expect(young.streamStatus == .deleting && young.shards.isEmpty)
            _ = try await h.api.updateShardCount(.init(streamName: "s", targetShardCount: 2))
            let updating = try await h.api.describeStreamSummary(.init(streamName: "s")).streamDescriptionSummary
            #expect(updating.streamStatus == .updating)
            #expect(updating.openShardCount == 1)
            _ = try await h.api.putRecord(.init(streamName: "s", data: Data(), partitionKey: "k"))  // writes go on while UPDATING
            await expectError(.resourceInUse, "Stream s under account \(Self.account) not ACTIVE, instead in state UPDATING") {
                _ = try await h.api.updateShardCount(.init(streamName: "s", targetShardCount: 1))
            }
            h.clock.advance(by: .seconds(5))
            #expect(try await h.api.describeStreamSummary(.init(streamName: "s")).streamDescriptionSummary.openShardCount == 2)
            try await h.api.deleteStream(.init(streamName: "s"))
            #expect(try await h.api.describeStreamSummary(.init(streamName: "s")).streamDescriptionSummary.streamStatus == .deleting)
            h.clock.advance(by: .seconds(3))
            await expectError(.resourceNotFound) { _ = try await h.api.describeStreamSummary(.init(streamName: "s")) }
        }
    }

    @Test("limits: 1,000 records/s per shard; PutRecords fails only the excess, with AWS's message", arguments: Target.allCases)
    func writeLimits(target: Target) async throws {
        try await withHarness(target, configuration: EngineConfiguration(limits: .aws)) { h in
            try await h.api.createStream(.init(streamName: "s", shardCount: 1))
            let entries = (0..<500).map { PutRecordsRequestEntry(data: Data("r\($0)".utf8), partitionKey: "k\($0)") }
            #expect(try await h.api.putRecords(.init(streamName: "s", records: entries)).failedRecordCount == 0)
            #expect(try await h.api.putRecords(.init(streamName: "s", records: entries)).failedRecordCount == 0)
            let third = try await h.api.putRecords(.init(streamName: "s", records: entries))
            #expect(third.failedRecordCount == 500)
            #expect(third.records.allSatisfy { $0.errorCode == "ProvisionedThroughputExceededException" && $0.sequenceNumber == nil })
            #expect(
                third.records.first?.errorMessage
                    == "Rate exceeded for shard shardId-000000000000 in stream s under account \(Self.account).")
            h.clock.advance(by: .milliseconds(100))
            let partial = try await h.api.putRecords(.init(streamName: "s", records: entries))
            #expect(partial.failedRecordCount == 400)
            #expect(partial.records.prefix(100).allSatisfy { $0.errorCode == nil })
            await expectError(.provisionedThroughputExceeded) {
                _ = try await h.api.putRecord(.init(streamName: "s", data: Data(), partitionKey: "k"))
            }
            // 1 MiB/s: a full second's bytes in one record leaves nothing for the next.
            h.clock.advance(by: .seconds(1))
            _ = try await h.api.putRecord(.init(streamName: "s", data: Data(count: 1_048_000), partitionKey: "k"))
            await expectError(.provisionedThroughputExceeded) {
                _ = try await h.api.putRecord(.init(streamName: "s", data: Data(count: 1000), partitionKey: "k"))
            }
        }
    }

    @Test("limits: 5 GetRecords calls/s per shard", arguments: Target.allCases)
    func readLimits(target: Target) async throws {
        try await withHarness(target, configuration: EngineConfiguration(limits: .aws)) { h in
            try await h.api.createStream(.init(streamName: "s", shardCount: 1))
            var iterator = try await h.api.getShardIterator(
                .init(streamName: "s", shardId: "shardId-000000000000", shardIteratorType: .trimHorizon)
            ).shardIterator!
            for _ in 0..<5 { iterator = try await h.api.getRecords(.init(shardIterator: iterator)).nextShardIterator! }
            await expectError(.provisionedThroughputExceeded) { _ = try await h.api.getRecords(.init(shardIterator: iterator)) }
            h.clock.advance(by: .milliseconds(200))
            _ = try await h.api.getRecords(.init(shardIterator: iterator))
        }
    }

    @Test("faults: scripted failures, seeded per-record failures, outages; every call recorded", arguments: Target.allCases)
    func faults(target: Target) async throws {
        try await withHarness(target) { h in
            try await h.api.createStream(.init(streamName: "s", shardCount: 2))
            h.engine.faults { $0.failNext(2, .putRecord, with: .throttled) }
            await expectError(.provisionedThroughputExceeded) {
                _ = try await h.api.putRecord(.init(streamName: "s", data: Data(), partitionKey: "k"))
            }
            await expectError(.provisionedThroughputExceeded) {
                _ = try await h.api.putRecord(.init(streamName: "s", data: Data(), partitionKey: "k"))
            }
            _ = try await h.api.putRecord(.init(streamName: "s", data: Data(), partitionKey: "k"))

            h.engine.faults {
                $0.recordThrottleProbability = 0.1
                $0.recordInternalFailureProbability = 0.05
            }
            let entries = (0..<500).map { PutRecordsRequestEntry(data: Data("\($0)".utf8), partitionKey: "k\($0)") }
            let out = try await h.api.putRecords(.init(streamName: "s", records: entries))
            let throttled = out.records.filter { $0.errorCode == "ProvisionedThroughputExceededException" }.count
            let internalFailures = out.records.filter { $0.errorCode == "InternalFailure" }.count
            #expect((25...75).contains(throttled))
            #expect((8...45).contains(internalFailures))
            #expect(out.failedRecordCount == throttled + internalFailures)

            h.engine.faults {
                $0.recordThrottleProbability = 0
                $0.recordInternalFailureProbability = 0
                $0.outage = h.clock.now()...(h.clock.now() + 60)
            }
            await expectError(.serviceUnavailable) { _ = try await h.api.listStreams(.init()) }
            h.clock.advance(by: .seconds(61))
            _ = try await h.api.listStreams(.init())

            h.engine.faults { $0.latency = .milliseconds(50) }
            let started = ContinuousClock.now
            _ = try await h.api.listStreams(.init())
            #expect(ContinuousClock.now - started >= .milliseconds(50))   // a lower bound only: never flaky
            h.engine.faults { $0.latency = .zero }

            let calls = h.engine.calls
            #expect(calls.filter { $0.operation == .putRecord }.map(\.errorCode) == [.provisionedThroughputExceeded, .provisionedThroughputExceeded, nil])
            #expect(calls.first { $0.operation == .putRecords }?.failedRecordCount == throttled + internalFailures)
            h.engine.reset()
            #expect(h.engine.calls.isEmpty)
            #expect(h.engine.snapshot().streams.isEmpty)
        }
    }
}
