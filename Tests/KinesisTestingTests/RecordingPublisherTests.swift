import Foundation
import Kinesis
import KinesisProducer
import KinesisTesting
import Testing

// An app's code, as in the README: it publishes through `any EventPublisher`.
struct OrderCreated: Codable, Equatable, Sendable {
    var eventType = "ORDER_CREATED"
    var orderId: String
    var amount: Double
}

struct OrderService {
    let publisher: any EventPublisher
    func place(orderId: String, amount: Double) async throws {
        _ = try await publisher.publish(OrderCreated(orderId: orderId, amount: amount), partitionKey: orderId)
    }
}

@Suite("RecordingPublisher")
struct RecordingPublisherTests {
    @Test("keeps what the app published, decoded into the app's types, with partition keys")
    func recordsEvents() async throws {
        let publisher = RecordingPublisher()
        let orders = OrderService(publisher: publisher)
        try await orders.place(orderId: "o-1", amount: 20)
        try await orders.place(orderId: "o-2", amount: 5.5)
        #expect(try publisher.events(as: OrderCreated.self) == [OrderCreated(orderId: "o-1", amount: 20), OrderCreated(orderId: "o-2", amount: 5.5)])
        #expect(publisher.published.map(\.partitionKey) == ["o-1", "o-2"])
    }

    @Test("predicts the shard each key lands on, as Kinesis would")
    func predictsShards() async throws {
        let publisher = RecordingPublisher(shardCount: 3)
        for key in ["a", "b", "e", "f"] { _ = try await publisher.publish(data: Data(), partitionKey: key) }
        #expect(publisher.published.map(\.shardId) == ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002", "shardId-000000000001"])
    }

    @Test("makes the next publish fail, then recovers")
    func failNext() async throws {
        let publisher = RecordingPublisher()
        publisher.failNext()
        await #expect(throws: PublishError.self) { try await OrderService(publisher: publisher).place(orderId: "o-1", amount: 1) }
        try await OrderService(publisher: publisher).place(orderId: "o-1", amount: 1)
        #expect(publisher.published.count == 1)

        publisher.failNext(2)
        let batch = try await publisher.publishBatch((0..<4).map { PublishEntry(data: Data("\($0)".utf8), partitionKey: "k\($0)") })
        #expect(batch.failedCount == 2)
        #expect(batch.publishedCount == 2)
        if case .failed(let code, _, _) = batch.outcomes[0] { #expect(code == "ProvisionedThroughputExceededException") } else {
            Issue.record("the first entry should have failed")
        }
    }

    @Test("waits for events published from another task")
    func waits() async throws {
        let publisher = RecordingPublisher()
        async let published = publisher.waitForEvents(count: 3)
        Task {
            for index in 0..<3 { _ = try await publisher.publish(data: Data("\(index)".utf8), partitionKey: "k") }
        }
        #expect(try await published.count == 3)
    }

    @Test("a wait that is not met names what it waited for")
    func waitTimeout() async throws {
        let publisher = RecordingPublisher()
        _ = try await publisher.publish(data: Data(), partitionKey: "k")
        await #expect {
            try await publisher.waitForEvents(count: 2, timeout: .milliseconds(50))
        } throws: { error in
            "\(error)".contains("for 2 events, 1 were published")
        }
    }

    @Test("rejects a partition key Kinesis would refuse, and names the record that does not decode")
    func badInput() async throws {
        let publisher = RecordingPublisher()
        await #expect(throws: PublishError.self) { _ = try await publisher.publish(data: Data(), partitionKey: "") }
        _ = try await publisher.publish(data: Data("not json".utf8), partitionKey: "k")
        #expect {
            _ = try publisher.events(as: OrderCreated.self)
        } throws: { error in
            "\(error)".contains("record 0 (partition key k) is not a OrderCreated")
        }
    }

    @Test("applies exactly the record checks of KinesisService: a test cannot pass where production would throw")
    func sameChecksAsKinesisService() async throws {
        let publisher = RecordingPublisher()
        let engine = InMemoryKinesis()
        try await engine.createStream(.init(streamName: "s", shardCount: 1))
        let service = KinesisService(api: engine, streamName: "s")
        // 200 emoji are 200 characters but 400 UTF-16 code units: Kinesis counts the latter.
        let cases = [
            PublishEntry(data: Data("x".utf8), partitionKey: String(repeating: "\u{1F600}", count: 200)),
            PublishEntry(data: Data(count: 1_048_576), partitionKey: "k"),
            PublishEntry(data: Data("x".utf8), partitionKey: "k", explicitHashKey: "-1"),
            PublishEntry(data: Data("x".utf8), partitionKey: ""),
        ]
        for entry in cases {
            var recorded: PublishError?
            var produced: PublishError?
            do { _ = try await publisher.publish(data: entry.data, partitionKey: entry.partitionKey, explicitHashKey: entry.explicitHashKey) } catch let error as PublishError { recorded = error }
            do { _ = try await service.publish(data: entry.data, partitionKey: entry.partitionKey, explicitHashKey: entry.explicitHashKey) } catch let error as PublishError { produced = error }
            #expect(recorded != nil)
            #expect(recorded == produced)
        }
        #expect(publisher.published.isEmpty)
    }
}
