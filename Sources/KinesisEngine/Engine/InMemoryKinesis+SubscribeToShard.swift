import Foundation
import Kinesis
import Synchronization

/// A live SubscribeToShard: which call holds the (consumer, shard) pair, and since when.
struct Subscription: Sendable {
    var id: UInt64
    var started: Double
}

extension InMemoryKinesis {
    /// How long a subscription lasts before the consumer must subscribe again.
    public static let subscriptionLifetime: Double = 300
    /// A second subscription of the same consumer to the same shard within this many seconds
    /// is refused; after it, the new one takes over.
    static let resubscribeGuard: Double = 5
    /// Bytes per second each consumer gets from each shard (when limits are on).
    static let fanOutBytesPerSecond = 2.0 * 1024 * 1024
    /// How often a subscription looks for new records, in real time.
    static let subscriptionPoll: Duration = .milliseconds(100)
    /// How long a subscription with nothing new stays silent before it sends an empty event
    /// (with the current MillisBehindLatest and continuation).
    static let heartbeat: Double = 5

    /// `SubscribeToShard` (enhanced fan-out): the consumer must be registered and ACTIVE; the
    /// events carry records as they arrive, from the starting position, for five minutes of
    /// the engine's clock, then the sequence ends. With limits on, each consumer gets 2 MiB/s
    /// of the shard, apart from every other reader. At the end of a closed shard the last
    /// event names its children and the sequence ends. A subscription taken over by a newer
    /// one of the same consumer and shard ends; one whose stream is deleted ends with
    /// ResourceNotFoundException.
    public func subscribeToShard(_ input: SubscribeToShardInput) async throws -> SubscribeToShardOutput {
        let start = try await perform(.subscribeToShard, stream: nil, validate: FieldValueEncoder.fields(of: input)) { state, now in
            let arn = try stream(ofARN: input.consumerARN)
            guard let index = ShardState.index(of: input.shardId) else { throw shardNotFound(input.shardId, stream: arn.streamName) }
            var stream = try stream(&state, arn.streamName, now: now)
            advanceConsumers(&stream, now: now)
            guard let consumer = stream.consumers.first(where: { $0.arn == input.consumerARN }) else {
                throw KinesisError(
                    code: .resourceNotFound, message: "Consumer \(input.consumerARN) under stream \(stream.arn) not found.", httpStatus: 400)
            }
            guard consumer.status == .active else {
                throw KinesisError(
                    code: .resourceInUse, message: "Consumer \(input.consumerARN) is \(consumer.status.rawValue), not ACTIVE.", httpStatus: 400)
            }
            guard index < stream.shards.count else {
                throw KinesisError(
                    code: .resourceNotFound,
                    message: "Shard \(ShardState.id(index)) in stream \(stream.name) under account \(account) does not exist", httpStatus: 400)
            }
            let position = try startPosition(
                input.startingPosition.type, sequenceNumber: input.startingPosition.sequenceNumber,
                timestamp: input.startingPosition.timestamp, stream: stream, shard: index, now: now, operation: "SubscribeToShard")
            let key = "\(consumer.arn)|\(index)"
            if let current = state.subscriptions[key], now - current.started < Self.resubscribeGuard {
                throw KinesisError(
                    code: .resourceInUse,
                    message: "Another active subscription exists for consumer \(consumer.arn) on shard \(ShardState.id(index)); subscribe again after \(Int(Self.resubscribeGuard)) seconds to take it over.",
                    httpStatus: 400)
            }
            state.nextSubscriptionId += 1
            let subscription = Subscription(id: state.nextSubscriptionId, started: now)
            state.subscriptions[key] = subscription
            state.streams[stream.name] = stream
            return (
                (name: stream.name, creation: stream.creationSecond, index: index, position: position, consumer: consumer.arn, key: key,
                    subscription: subscription), 0, 0
            )
        }
        let (events, continuation) = AsyncThrowingStream.makeStream(of: SubscribeToShardEvent.self)
        let task = Task { [self] in
            do {
                try await deliver(
                    start.name, creation: start.creation, shard: start.index, from: start.position, consumer: start.consumer, key: start.key,
                    subscription: start.subscription, to: continuation)
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
            let key = start.key
            let id = start.subscription.id
            state.withLock { state in
                if state.subscriptions[key]?.id == id { state.subscriptions[key] = nil }
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return SubscribeToShardOutput(events: events)
    }

    /// The event loop of one subscription.
    private func deliver(
        _ name: String, creation: Int, shard index: Int, from start: UInt64, consumer consumerARN: String, key: String,
        subscription: Subscription,
        to continuation: AsyncThrowingStream<SubscribeToShardEvent, any Error>.Continuation
    ) async throws {
        var position = start
        var budget = configuration.limits.map { _ in TokenBucket(rate: Self.fanOutBytesPerSecond, now: subscription.started) }
        var lastEvent = -Double.infinity
        var lastSequence: String?
        while !Task.isCancelled {
            let now = clock.now()
            if now - subscription.started >= Self.subscriptionLifetime { return }
            let step: (page: Page, continuation: String)? = try state.withLock { state in
                guard state.subscriptions[key]?.id == subscription.id else { return nil }  // taken over
                Self.advance(&state, name, now: now, configuration: configuration)
                guard let stream = state.streams[name], stream.creationSecond == creation, stream.status != .deleting else {
                    throw KinesisError(code: .resourceNotFound, message: "Stream \(name) under account \(account) not found.", httpStatus: 400)
                }
                // A consumer deregistered while subscribed loses its subscription.
                guard stream.consumers.contains(where: { $0.arn == consumerARN && $0.status == .active }) else {
                    throw KinesisError(
                        code: .resourceNotFound, message: "Consumer \(consumerARN) under stream \(stream.arn) not found.", httpStatus: 400)
                }
                var byteLimit = Self.getRecordsByteLimit
                if var bucket = budget {
                    _ = bucket.take(0, now: now)
                    // A full bucket lets one record of any size through; otherwise what is left.
                    byteLimit = bucket.tokens >= Self.fanOutBytesPerSecond ? Int.max : max(0, Int(bucket.tokens))
                    budget = bucket
                }
                var page = byteLimit > 0
                    ? Self.page(of: stream, shard: index, from: position, limit: ServiceLimits.getRecordsMaxRecords, byteLimit: byteLimit, now: now)
                    : Page(records: [], bytes: 0, next: position, millisBehindLatest: 0, children: nil)
                if byteLimit == 0 {
                    let shard = stream.shards[index]
                    let cursor = shard.firstIndex(atOrAfter: position)
                    if cursor < shard.records.count { page.millisBehindLatest = Int((now - shard.records[cursor].arrival) * 1000) }
                }
                let continuation = page.records.last?.sequenceNumber ?? lastSequence
                    ?? stream.sequenceNumber(shard: index, counter: max(position, 1) - 1, at: now)
                return (page, continuation)
            }
            guard let step else { return }
            let page = step.page
            if var bucket = budget {
                bucket.spend(Double(page.bytes))
                budget = bucket
            }
            if !page.records.isEmpty || page.children != nil || now - lastEvent >= Self.heartbeat {
                continuation.yield(
                    SubscribeToShardEvent(
                        records: page.records, millisBehindLatest: page.millisBehindLatest,
                        continuationSequenceNumber: page.children == nil ? step.continuation : nil, childShards: page.children))
                lastEvent = now
            }
            if page.children != nil { return }
            position = page.next
            lastSequence = step.continuation
            if page.records.isEmpty || page.millisBehindLatest == 0 {
                try await Task.sleep(for: Self.subscriptionPoll)
            }
        }
    }
}
