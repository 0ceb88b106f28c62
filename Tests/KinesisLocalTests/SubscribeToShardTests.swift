import Foundation
import Kinesis
import KinesisTesting
import Testing

/// SubscribeToShard (enhanced fan-out), in process and over HTTP (the client reading AWS's event
/// stream from the local server).
@Suite("Conformance: SubscribeToShard")
struct SubscribeToShardTests {
    static let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/fan"

    static func consumer(_ h: Harness, name: String = "reader") async throws -> String {
        try await h.api.registerStreamConsumer(.init(streamARN: arn, consumerName: name)).consumer.consumerARN
    }

    @Test("events carry the shard's records in order; a closed shard ends with its children", arguments: Target.allCases)
    func recordsAndChildren(target: Target) async throws {
        try await withHarness(target) { h in
            try await h.api.createStream(.init(streamName: "fan", shardCount: 1))
            let consumer = try await Self.consumer(h)
            var written: [String] = []
            for index in 0..<20 {
                written.append(try await h.api.putRecord(.init(streamName: "fan", data: Data("r\(index)".utf8), partitionKey: "k\(index)")).sequenceNumber)
            }
            try await h.api.splitShard(.init(streamName: "fan", shardToSplit: "shardId-000000000000", newStartingHashKey: "170141183460469231731687303715884105728"))
            let output = try await h.api.subscribeToShard(
                .init(consumerARN: consumer, shardId: "shardId-000000000000", startingPosition: .init(type: .trimHorizon)))
            var read: [String] = []
            var last: SubscribeToShardEvent?
            for try await event in output.events {
                read += event.records.map(\.sequenceNumber)
                last = event
            }
            #expect(read == written)
            #expect(last?.childShards?.map(\.shardId).sorted() == ["shardId-000000000001", "shardId-000000000002"])
            #expect(last?.continuationSequenceNumber == nil)
        }
    }

    @Test("AFTER the continuation number resumes with no gap; a second subscription within 5 s is refused, after it takes over", arguments: Target.allCases)
    func continuationAndTakeOver(target: Target) async throws {
        try await withHarness(target) { h in
            try await h.api.createStream(.init(streamName: "fan", shardCount: 1))
            let consumer = try await Self.consumer(h)
            for index in 0..<5 { _ = try await h.api.putRecord(.init(streamName: "fan", data: Data("a\(index)".utf8), partitionKey: "k")) }
            let first = try await h.api.subscribeToShard(
                .init(consumerARN: consumer, shardId: "shardId-000000000000", startingPosition: .init(type: .trimHorizon)))
            var iterator = first.events.makeAsyncIterator()
            var seen: [String] = []
            var continuation: String?
            while seen.count < 5, let event = try await iterator.next() {
                seen += event.records.map { String(decoding: $0.data, as: UTF8.self) }
                continuation = event.continuationSequenceNumber
            }
            #expect(seen == ["a0", "a1", "a2", "a3", "a4"])
            await expectError(.resourceInUse, nil) {
                _ = try await h.api.subscribeToShard(
                    .init(consumerARN: consumer, shardId: "shardId-000000000000", startingPosition: .init(type: .latest)))
            }
            for index in 5..<8 { _ = try await h.api.putRecord(.init(streamName: "fan", data: Data("a\(index)".utf8), partitionKey: "k")) }
            h.clock.advance(by: .seconds(5))
            let second = try await h.api.subscribeToShard(
                .init(
                    consumerARN: consumer, shardId: "shardId-000000000000",
                    startingPosition: .init(type: .afterSequenceNumber, sequenceNumber: continuation)))
            // The first subscription was taken over: its events end.
            while try await iterator.next() != nil {}
            var resumed: [String] = []
            for try await event in second.events {
                resumed += event.records.map { String(decoding: $0.data, as: UTF8.self) }
                if resumed.count >= 3 { break }
            }
            #expect(resumed == ["a5", "a6", "a7"])
        }
    }

    @Test("a subscription ends after five minutes of the engine's clock; unknown and inactive consumers are refused", arguments: Target.allCases)
    func lifetimeAndRefusals(target: Target) async throws {
        try await withHarness(target, configuration: EngineConfiguration(creatingDelay: .seconds(1))) { h in
            try await h.api.createStream(.init(streamName: "fan", shardCount: 1))
            h.clock.advance(by: .seconds(1))
            let consumer = try await Self.consumer(h)
            await expectError(.resourceInUse, nil) {
                _ = try await h.api.subscribeToShard(
                    .init(consumerARN: consumer, shardId: "shardId-000000000000", startingPosition: .init(type: .latest)))
            }
            h.clock.advance(by: .seconds(1))
            let output = try await h.api.subscribeToShard(
                .init(consumerARN: consumer, shardId: "shardId-000000000000", startingPosition: .init(type: .latest)))
            var iterator = output.events.makeAsyncIterator()
            let first = try await iterator.next()
            #expect(first?.records == [])
            h.clock.advance(by: .seconds(301))
            while try await iterator.next() != nil {}
            let other = consumer.replacingOccurrences(of: "/consumer/reader:", with: "/consumer/nobody:")
            await expectError(.resourceNotFound, "Consumer \(other) under stream \(Self.arn) not found.") {
                _ = try await h.api.subscribeToShard(
                    .init(consumerARN: other, shardId: "shardId-000000000000", startingPosition: .init(type: .latest)))
            }
        }
    }

    @Test("a consumer deregistered while subscribed loses its subscription with ResourceNotFoundException", arguments: Target.allCases)
    func deregisteredWhileSubscribed(target: Target) async throws {
        try await withHarness(target) { h in
            try await h.api.createStream(.init(streamName: "fan", shardCount: 1))
            let consumer = try await Self.consumer(h)
            let output = try await h.api.subscribeToShard(
                .init(consumerARN: consumer, shardId: "shardId-000000000000", startingPosition: .init(type: .latest)))
            var iterator = output.events.makeAsyncIterator()
            _ = try await iterator.next()
            try await h.api.deregisterStreamConsumer(.init(consumerARN: consumer))
            await expectError(.resourceNotFound, "Consumer \(consumer) under stream \(Self.arn) not found.") {
                while try await iterator.next() != nil {}
            }
        }
    }
}
