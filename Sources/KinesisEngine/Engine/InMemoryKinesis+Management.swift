import Foundation
import Kinesis

// Tags, encryption, enhanced monitoring, limits and account settings, registered consumers,
// resource policies, record size and warm throughput.

extension InMemoryKinesis {
    /// The most tags a stream or consumer may carry.
    static let maximumTags = 50
    /// The most consumers one stream may register (On-demand Advantage allows 50).
    static let maximumConsumers = 20
    /// DescribeLimits' on-demand stream quota.
    static let onDemandStreamLimit = 50

    // MARK: - Naming a stream

    /// The stream an input names by `StreamName` or `StreamARN` (the name wins when both are given).
    func streamName(_ name: String?, arn: String?) throws -> String {
        if let name { return name }
        guard let arn else { throw invalidArgument("Either StreamName or StreamARN must be provided.") }
        return try stream(ofARN: arn).streamName
    }

    /// A stream or consumer ARN of this engine's account and region; another account's or
    /// region's resource is not found.
    func stream(ofARN text: String) throws -> KinesisARN {
        guard let arn = KinesisARN(text) else { throw invalidArgument("\(text) is not a valid Kinesis ARN.") }
        guard arn.account == account, arn.region == configuration.region else {
            throw KinesisError(
                code: .resourceNotFound, message: "Stream \(arn.streamName) under account \(arn.account) not found.", httpStatus: 400)
        }
        return arn
    }

    /// The stream name a `StreamARN` names, for an operation whose input has only
    /// `StreamName` in the Swift API: a malformed ARN is AWS's pattern ValidationException, one
    /// of another account or region is not found.
    package func streamName(fromARN text: String, operation: KinesisOperation) throws -> String {
        if let failure = Validator.failure(of: .pattern(KinesisSchema.streamARNPattern), value: .string(text)) {
            throw KinesisError(
                code: .validation, message: "1 validation error detected: Value '\(text)' at 'streamARN' failed to satisfy constraint: \(failure)",
                httpStatus: 400, operation: operation.rawValue)
        }
        do {
            let arn = try stream(ofARN: text)
            guard arn.consumerName == nil else { throw invalidArgument("\(text) is a consumer ARN, not a stream ARN.") }
            return arn.streamName
        } catch var error as KinesisError {
            error.operation = operation.rawValue
            throw error
        }
    }

    /// `input` with its `StreamName` taken from its `StreamARN` when it gives only the ARN (a
    /// malformed ARN is AWS's pattern ValidationException, one of another account or region is
    /// not found).
    func resolvingARN<Input: StreamNaming>(_ input: Input, _ operation: KinesisOperation) throws -> Input {
        guard input.streamName == nil, let arn = input.streamARN else { return input }
        var input = input
        input.streamName = try streamName(fromARN: arn, operation: operation)
        return input
    }

    /// `input` as ``resolvingARN(_:_:)`` makes it, and the stream it names. An input that names
    /// no stream at all gets an empty name, which no stream has; validation refuses it before
    /// then (`Value null at 'streamName'`, a ``ModelCorrections`` entry).
    func addressing<Input: StreamNaming>(_ input: Input, _ operation: KinesisOperation) throws -> (Input, String) {
        let input = try resolvingARN(input, operation)
        return (input, input.streamName ?? "")
    }

    /// Moves the stream's consumers along: CREATING becomes ACTIVE, DELETING goes away.
    func advanceConsumers(_ stream: inout StreamState, now: Double) {
        stream.consumers = stream.consumers.compactMap { consumer in
            guard let until = consumer.statusUntil, now >= until else { return consumer }
            if consumer.status == .deleting { return nil }
            var active = consumer
            active.status = .active
            active.statusUntil = nil
            return active
        }
    }

    /// Runs `body` on the named stream, brought up to date, and stores what it leaves.
    func withStream<T>(_ state: inout State, _ name: String, now: Double, _ body: (inout StreamState) throws -> T) throws -> T {
        var stream = try stream(&state, name, now: now)
        advanceConsumers(&stream, now: now)
        let result = try body(&stream)
        state.streams[name] = stream
        return result
    }

    // MARK: - Tags

    /// AWS's two checks of tag text: characters beyond letters, digits, space and `_ . / = + - % @`
    /// first, then `%` (which the first message allows and the second refuses), worded for the
    /// call (`add tags to`, `remove tags from`) and its resource (`stream S`).
    private func checkTagText(_ texts: some Sequence<String>, doing action: String, on resource: String) throws {
        let texts = Array(texts)
        func allowed(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar.value {
            case 0xC0...0x1FFF, 0x2C00...0xD7FF: return true
            default: return scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "_./-=+ @%".unicodeScalars.contains(scalar))
            }
        }
        guard texts.allSatisfy({ $0.unicodeScalars.allSatisfy(allowed) }) else {
            throw invalidArgument("Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @.")
        }
        guard !texts.contains(where: { $0.contains("%") }) else {
            throw invalidArgument(
                "Failed to \(action) \(resource) under account \(account) because some tags contained illegal characters. The allowed characters are Unicode letters, white-spaces, '_',',','/','=','+','-','@'."
            )
        }
    }

    private func checkTags(_ tags: [String: String], resource: String) throws {
        try checkTagText(tags.keys.map { $0 } + tags.values.map { $0 }, doing: "add tags to", on: resource)
        if tags.keys.contains(where: { $0.lowercased().hasPrefix("aws:") }) {
            throw invalidArgument("Tag keys starting with 'aws:' are reserved for AWS use.")
        }
    }

    private func merged(_ existing: [String: String], _ tags: [String: String], resource: String) throws -> [String: String] {
        try checkTags(tags, resource: resource)
        let result = existing.merging(tags) { _, new in new }
        guard result.count <= Self.maximumTags else {
            throw invalidArgument(
                "Failed to add tags to \(resource) under account \(account) because a given resource cannot have more than \(Self.maximumTags) tags associated with it.")
        }
        return result
    }

    private static func tagList(_ tags: [String: String]) -> [Tag] {
        tags.keys.sorted().map { Tag(key: $0, value: tags[$0]) }
    }

    /// `AddTagsToStream`, with the service's validation, errors and limits.
    public func addTagsToStream(_ input: AddTagsToStreamInput) async throws {
        try await perform(.addTagsToStream, stream: input.streamName, validate: FieldValueEncoder.fields(of: input)) { state, now in
            let name = try streamName(input.streamName, arn: input.streamARN)
            try withStream(&state, name, now: now) { stream in
                stream.tags = try merged(stream.tags, input.tags, resource: "stream \(name)")
            }
            return ((), 0, 0)
        }
    }

    /// `RemoveTagsFromStream`: keys that are not there are ignored, as AWS ignores them.
    public func removeTagsFromStream(_ input: RemoveTagsFromStreamInput) async throws {
        try await perform(.removeTagsFromStream, stream: input.streamName, validate: FieldValueEncoder.fields(of: input)) { state, now in
            let name = try streamName(input.streamName, arn: input.streamARN)
            try withStream(&state, name, now: now) { stream in
                try checkTagText(input.tagKeys, doing: "remove tags from", on: "stream \(name)")
                for key in input.tagKeys { stream.tags[key] = nil }
            }
            return ((), 0, 0)
        }
    }

    /// `ListTagsForStream`: tags in key order, paged by `ExclusiveStartTagKey` and `Limit`.
    public func listTagsForStream(_ input: ListTagsForStreamInput) async throws -> ListTagsForStreamOutput {
        try await perform(.listTagsForStream, stream: input.streamName, validate: FieldValueEncoder.fields(of: input)) { state, now in
            let name = try streamName(input.streamName, arn: input.streamARN)
            let stream = try stream(&state, name, now: now)
            var tags = Self.tagList(stream.tags)
            if let start = input.exclusiveStartTagKey { tags = tags.filter { $0.key > start } }
            let limit = input.limit ?? 50
            return (ListTagsForStreamOutput(tags: Array(tags.prefix(limit)), hasMoreTags: tags.count > limit), 0, 0)
        }
    }

    /// Runs `body` on the tags of the stream or consumer `resourceARN` names.
    private func withResource<T>(
        _ state: inout State, _ resourceARN: String, now: Double,
        _ body: (_ tags: inout [String: String], _ policy: inout String?, _ description: String) throws -> T
    ) throws -> T {
        let arn = try stream(ofARN: resourceARN)
        return try withStream(&state, arn.streamName, now: now) { stream in
            guard let consumerName = arn.consumerName else {
                return try body(&stream.tags, &stream.policy, "stream \(stream.name)")
            }
            guard let index = stream.consumers.firstIndex(where: { $0.arn == resourceARN }) else {
                throw KinesisError(
                    code: .resourceNotFound, message: "Consumer \(resourceARN) under account \(account) not found.", httpStatus: 400)
            }
            var consumer = stream.consumers[index]
            defer { stream.consumers[index] = consumer }
            return try body(&consumer.tags, &consumer.policy, "consumer \(consumerName)")
        }
    }

    /// `TagResource` on a stream or a registered consumer.
    public func tagResource(_ input: TagResourceInput) async throws {
        try await perform(.tagResource, stream: nil, validate: FieldValueEncoder.fields(of: input)) { state, now in
            try withResource(&state, input.resourceARN, now: now) { tags, _, description in
                tags = try merged(tags, input.tags, resource: description)
            }
            return ((), 0, 0)
        }
    }

    /// `UntagResource` on a stream or a registered consumer.
    public func untagResource(_ input: UntagResourceInput) async throws {
        try await perform(.untagResource, stream: nil, validate: FieldValueEncoder.fields(of: input)) { state, now in
            try withResource(&state, input.resourceARN, now: now) { tags, _, _ in
                for key in input.tagKeys { tags[key] = nil }
            }
            return ((), 0, 0)
        }
    }

    /// `ListTagsForResource` on a stream or a registered consumer.
    public func listTagsForResource(_ input: ListTagsForResourceInput) async throws -> ListTagsForResourceOutput {
        try await perform(.listTagsForResource, stream: nil, validate: FieldValueEncoder.fields(of: input)) { state, now in
            let tags = try withResource(&state, input.resourceARN, now: now) { tags, _, _ in Self.tagList(tags) }
            return (ListTagsForResourceOutput(tags: tags), 0, 0)
        }
    }

    // MARK: - Encryption and enhanced monitoring

    /// `StartStreamEncryption`: the stream is UPDATING for the configured delay, then KMS.
    public func startStreamEncryption(_ input: StartStreamEncryptionInput) async throws {
        try await changeEncryption(input, operation: .startStreamEncryption)
    }

    /// `StopStreamEncryption`: the stream is UPDATING for the configured delay, then NONE.
    public func stopStreamEncryption(_ input: StopStreamEncryptionInput) async throws {
        try await changeEncryption(input, operation: .stopStreamEncryption)
    }

    private func changeEncryption<Input: EncryptionChange>(_ input: Input, operation: KinesisOperation) async throws {
        try await perform(operation, stream: input.streamName, validate: FieldValueEncoder.fields(of: input)) { state, now in
            let name = try streamName(input.streamName, arn: input.streamARN)
            let stream = try stream(&state, name, now: now)
            guard input.encryptionType == .kms else {
                throw invalidArgument("Encryption type \(input.encryptionType) is not valid for \(operation.rawValue): use KMS.")
            }
            guard stream.status == .active else { throw notActive(stream) }
            if operation == .stopStreamEncryption {
                guard stream.encryptionType == .kms else {
                    throw invalidArgument("Stream \(name) under account \(account) is not encrypted.")
                }
                guard stream.keyId == input.keyId else {
                    throw invalidArgument("KeyId \(input.keyId) does not match the key stream \(name) under account \(account) is encrypted with.")
                }
            }
            let start = operation == .startStreamEncryption
            update(&state, name, with: .encryption(type: start ? .kms : .unencrypted, keyId: start ? input.keyId : nil), now: now)
            return ((), 0, 0)
        }
    }

    /// `EnableEnhancedMonitoring`.
    public func enableEnhancedMonitoring(_ input: EnableEnhancedMonitoringInput) async throws -> EnhancedMonitoringOutput {
        try await changeMonitoring(input, operation: .enableEnhancedMonitoring)
    }

    /// `DisableEnhancedMonitoring`.
    public func disableEnhancedMonitoring(_ input: DisableEnhancedMonitoringInput) async throws -> EnhancedMonitoringOutput {
        try await changeMonitoring(input, operation: .disableEnhancedMonitoring)
    }

    private func changeMonitoring<Input: MonitoringChange>(_ input: Input, operation: KinesisOperation) async throws -> EnhancedMonitoringOutput {
        try await perform(operation, stream: input.streamName, validate: FieldValueEncoder.fields(of: input)) { state, now in
            let all = MetricsName.shardLevel
            let metrics = input.shardLevelMetrics
            for metric in metrics where metric != .all && !all.contains(metric) {
                throw KinesisError(
                    code: .validation,
                    message: "1 validation error detected: Value '[\(metrics.map(\.rawValue).joined(separator: ", "))]' at 'shardLevelMetrics' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [\((all + [.all]).map(\.rawValue).joined(separator: ", "))]]",
                    httpStatus: 400)
            }
            let name = try streamName(input.streamName, arn: input.streamARN)
            let output = try withStream(&state, name, now: now) { stream in
                guard stream.status == .active else { throw notActive(stream) }
                let named = metrics.contains(.all) ? Set(all) : Set(metrics)
                let current = stream.shardLevelMetrics
                let desired = operation == .enableEnhancedMonitoring
                    ? all.filter { named.contains($0) || current.contains($0) } : current.filter { !named.contains($0) }
                stream.shardLevelMetrics = desired
                return EnhancedMonitoringOutput(
                    streamName: stream.name, currentShardLevelMetrics: current, desiredShardLevelMetrics: desired, streamARN: stream.arn)
            }
            return (output, 0, 0)
        }
    }

    // MARK: - Limits and account settings

    /// `DescribeLimits`: the shard quota from the configuration and what the streams use.
    public func describeLimits(_ input: DescribeLimitsInput = DescribeLimitsInput()) async throws -> DescribeLimitsOutput {
        try await perform(.describeLimits, stream: nil) { state, now in
            for name in Array(state.streams.keys) { Self.advance(&state, name, now: now, configuration: configuration) }
            let streams = state.streams.values
            let provisioned = streams.filter { $0.mode != .onDemand }
            let output = DescribeLimitsOutput(
                shardLimit: configuration.shardLimit, openShardCount: provisioned.reduce(0) { $0 + $1.openShardCount },
                onDemandStreamCount: streams.count - provisioned.count, onDemandStreamCountLimit: Self.onDemandStreamLimit)
            return (output, 0, 0)
        }
    }

    /// `DescribeAccountSettings`: the minimum throughput billing commitment (DISABLED until
    /// UpdateAccountSettings turns it on).
    public func describeAccountSettings(_ input: DescribeAccountSettingsInput = DescribeAccountSettingsInput()) async throws -> DescribeAccountSettingsOutput {
        try await perform(.describeAccountSettings, stream: nil) { state, now in
            (DescribeAccountSettingsOutput(minimumThroughputBillingCommitment: Self.commitment(state, now: now)), 0, 0)
        }
    }

    private static func commitment(_ state: State, now: Double) -> MinimumThroughputBillingCommitmentOutput {
        guard var commitment = state.billingCommitment else { return MinimumThroughputBillingCommitmentOutput(status: .disabled) }
        if commitment.status == .enabledUntilEarliestAllowedEnd, let end = commitment.earliestAllowedEndAt,
            now >= end.timeIntervalSince1970
        {
            commitment.status = .disabled
            commitment.endedAt = end
        }
        return commitment
    }

    /// `UpdateAccountSettings`: a commitment lasts at least 24 hours; turning it off earlier
    /// leaves it ENABLED_UNTIL_EARLIEST_ALLOWED_END.
    public func updateAccountSettings(_ input: UpdateAccountSettingsInput) async throws -> UpdateAccountSettingsOutput {
        try await perform(.updateAccountSettings, stream: nil, validate: FieldValueEncoder.fields(of: input)) { state, now in
            let current = Self.commitment(state, now: now)
            let date = Date(timeIntervalSince1970: now)
            var next = current
            switch input.minimumThroughputBillingCommitment.status {
            case .enabled:
                if current.status != .enabled {
                    next = MinimumThroughputBillingCommitmentOutput(
                        status: .enabled, startedAt: date, earliestAllowedEndAt: date.addingTimeInterval(24 * 3600))
                }
            default:
                if current.status == .enabled {
                    if let end = current.earliestAllowedEndAt, end.timeIntervalSince1970 > now {
                        next.status = .enabledUntilEarliestAllowedEnd
                    } else {
                        next.status = .disabled
                        next.endedAt = date
                    }
                }
            }
            state.billingCommitment = next
            return (UpdateAccountSettingsOutput(minimumThroughputBillingCommitment: next), 0, 0)
        }
    }

    // MARK: - Registered consumers

    /// `RegisterStreamConsumer`: CREATING for the configured creation delay, then ACTIVE.
    public func registerStreamConsumer(_ input: RegisterStreamConsumerInput) async throws -> RegisterStreamConsumerOutput {
        try await perform(.registerStreamConsumer, stream: nil, validate: FieldValueEncoder.fields(of: input)) { state, now in
            let arn = try stream(ofARN: input.streamARN)
            let consumer = try withStream(&state, arn.streamName, now: now) { stream in
                guard stream.arn == input.streamARN else { throw notFound(arn.streamName) }
                if stream.consumers.contains(where: { $0.name == input.consumerName }) {
                    throw KinesisError(
                        code: .resourceInUse, message: "Consumer \(input.consumerName) under stream \(stream.arn) already exists.",
                        httpStatus: 400)
                }
                guard stream.consumers.count < Self.maximumConsumers else {
                    throw KinesisError(
                        code: .limitExceeded,
                        message: "Stream \(stream.arn) already has \(Self.maximumConsumers) registered consumers, the most a stream can have.",
                        httpStatus: 400)
                }
                if let tags = input.tags { _ = try merged([:], tags, resource: "consumer \(input.consumerName)") }
                let delay = configuration.creatingDelay.timeInterval
                let consumer = ConsumerState(
                    name: input.consumerName, arn: "\(stream.arn)/consumer/\(input.consumerName):\(Int(now))", createdAt: now,
                    status: delay > 0 ? .creating : .active, statusUntil: delay > 0 ? now + delay : nil, tags: input.tags ?? [:])
                stream.consumers.append(consumer)
                return consumer
            }
            return (RegisterStreamConsumerOutput(consumer: consumer.wire()), 0, 0)
        }
    }

    /// The index of the consumer an input names, in its stream.
    private func consumerIndex(_ input: some ConsumerNaming, in stream: StreamState) throws -> Int {
        let found: Int?
        if let arn = input.consumerARN {
            found = stream.consumers.firstIndex { $0.arn == arn }
        } else {
            found = stream.consumers.firstIndex { $0.name == input.consumerName }
        }
        guard let found else {
            let name = input.consumerARN ?? input.consumerName ?? ""
            throw KinesisError(
                code: .resourceNotFound, message: "Consumer \(name) under stream \(stream.arn) not found.", httpStatus: 400)
        }
        return found
    }

    /// The stream a consumer input belongs to: from the consumer's ARN, or from `StreamARN`
    /// with `ConsumerName`.
    private func consumerStreamName(_ input: some ConsumerNaming) throws -> String {
        if let consumerARN = input.consumerARN { return try stream(ofARN: consumerARN).streamName }
        guard let streamARN = input.streamARN, input.consumerName != nil else {
            throw invalidArgument("Either ConsumerARN or both StreamARN and ConsumerName must be provided.")
        }
        return try stream(ofARN: streamARN).streamName
    }

    /// `DeregisterStreamConsumer`: DELETING for the configured deletion delay, then gone.
    public func deregisterStreamConsumer(_ input: DeregisterStreamConsumerInput) async throws {
        try await perform(.deregisterStreamConsumer, stream: nil, validate: FieldValueEncoder.fields(of: input)) { state, now in
            let name = try consumerStreamName(input)
            try withStream(&state, name, now: now) { stream in
                let index = try consumerIndex(input, in: stream)
                let delay = configuration.deletingDelay.timeInterval
                if delay > 0 {
                    stream.consumers[index].status = .deleting
                    stream.consumers[index].statusUntil = now + delay
                } else {
                    stream.consumers.remove(at: index)
                }
            }
            return ((), 0, 0)
        }
    }

    /// `DescribeStreamConsumer`.
    public func describeStreamConsumer(_ input: DescribeStreamConsumerInput) async throws -> DescribeStreamConsumerOutput {
        try await perform(.describeStreamConsumer, stream: nil, validate: FieldValueEncoder.fields(of: input)) { state, now in
            let name = try consumerStreamName(input)
            let consumer = try withStream(&state, name, now: now) { stream in
                stream.consumers[try consumerIndex(input, in: stream)].description(streamARN: stream.arn)
            }
            return (DescribeStreamConsumerOutput(consumerDescription: consumer), 0, 0)
        }
    }

    /// `ListStreamConsumers`, oldest first, paged with `NextToken`.
    public func listStreamConsumers(_ input: ListStreamConsumersInput) async throws -> ListStreamConsumersOutput {
        try await perform(.listStreamConsumers, stream: nil, validate: FieldValueEncoder.fields(of: input)) { state, now in
            let arn = try stream(ofARN: input.streamARN)
            let consumers = try withStream(&state, arn.streamName, now: now) { stream in stream.consumers }
            var start = 0
            if let token = input.nextToken {
                guard let offset = PageToken.decode("consumers", token).flatMap({ Int($0) }) else {
                    throw invalidArgument("NextToken \(token) is not valid.")
                }
                start = min(offset, consumers.count)
            }
            let limit = input.maxResults ?? 100
            let page = consumers[start...].prefix(limit)
            let end = start + page.count
            let next = end < consumers.count ? PageToken.encode("consumers", after: String(end)) : nil
            return (ListStreamConsumersOutput(consumers: page.map { $0.wire() }, nextToken: next), 0, 0)
        }
    }

    // MARK: - Resource policies

    /// `PutResourcePolicy`: the policy must be a JSON object.
    public func putResourcePolicy(_ input: PutResourcePolicyInput) async throws {
        try await perform(.putResourcePolicy, stream: nil, validate: FieldValueEncoder.fields(of: input)) { state, now in
            guard let object = try? JSONSerialization.jsonObject(with: Data(input.policy.utf8)), object is [String: Any] else {
                throw invalidArgument("Policy is not a valid JSON document.")
            }
            try withResource(&state, input.resourceARN, now: now) { _, policy, _ in policy = input.policy }
            return ((), 0, 0)
        }
    }

    /// `GetResourcePolicy`: `{}` when the resource has none.
    public func getResourcePolicy(_ input: GetResourcePolicyInput) async throws -> GetResourcePolicyOutput {
        try await perform(.getResourcePolicy, stream: nil, validate: FieldValueEncoder.fields(of: input)) { state, now in
            let policy = try withResource(&state, input.resourceARN, now: now) { _, policy, _ in policy }
            return (GetResourcePolicyOutput(policy: policy ?? "{}"), 0, 0)
        }
    }

    /// `DeleteResourcePolicy`.
    public func deleteResourcePolicy(_ input: DeleteResourcePolicyInput) async throws {
        try await perform(.deleteResourcePolicy, stream: nil, validate: FieldValueEncoder.fields(of: input)) { state, now in
            try withResource(&state, input.resourceARN, now: now) { _, policy, _ in policy = nil }
            return ((), 0, 0)
        }
    }

    // MARK: - Record size and warm throughput

    /// `UpdateMaxRecordSize`: PutRecord and PutRecords then take records up to this size.
    public func updateMaxRecordSize(_ input: UpdateMaxRecordSizeInput) async throws {
        try await perform(.updateMaxRecordSize, stream: nil, validate: FieldValueEncoder.fields(of: input)) { state, now in
            guard let streamARN = input.streamARN else { throw invalidArgument("StreamARN must be provided.") }
            let name = try stream(ofARN: streamARN).streamName
            try withStream(&state, name, now: now) { stream in
                guard stream.status == .active else { throw notActive(stream) }
                stream.maxRecordSizeInKiB = input.maxRecordSizeInKiB
            }
            return ((), 0, 0)
        }
    }

    /// `UpdateStreamWarmThroughput`: on-demand streams only.
    public func updateStreamWarmThroughput(_ input: UpdateStreamWarmThroughputInput) async throws -> UpdateStreamWarmThroughputOutput {
        try await perform(.updateStreamWarmThroughput, stream: input.streamName, validate: FieldValueEncoder.fields(of: input)) {
            state, now in
            let name = try streamName(input.streamName, arn: input.streamARN)
            let output = try withStream(&state, name, now: now) { stream in
                guard stream.mode == .onDemand else {
                    throw invalidArgument(
                        "Warm throughput applies to streams in ON_DEMAND mode; stream \(name) under account \(account) is PROVISIONED.")
                }
                guard stream.status == .active else { throw notActive(stream) }
                stream.warmThroughputMiBps = input.warmThroughputMiBps
                return UpdateStreamWarmThroughputOutput(
                    streamName: stream.name, streamARN: stream.arn,
                    warmThroughput: WarmThroughputObject(targetMiBps: input.warmThroughputMiBps, currentMiBps: input.warmThroughputMiBps))
            }
            return (output, 0, 0)
        }
    }
}

/// The two encryption calls' inputs, which carry the same members.
protocol EncryptionChange: StreamNaming, Encodable, Sendable {
    var encryptionType: EncryptionType { get }
    var keyId: String { get }
}

extension StartStreamEncryptionInput: EncryptionChange {}
extension StopStreamEncryptionInput: EncryptionChange {}

/// The two enhanced-monitoring calls' inputs, which carry the same members.
protocol MonitoringChange: StreamNaming, Encodable, Sendable {
    var shardLevelMetrics: [MetricsName] { get }
}

extension EnableEnhancedMonitoringInput: MonitoringChange {}
extension DisableEnhancedMonitoringInput: MonitoringChange {}

/// The inputs that name one registered consumer: by its ARN, or by its stream's ARN and its name.
protocol ConsumerNaming: Encodable, Sendable {
    var streamARN: String? { get }
    var consumerName: String? { get }
    var consumerARN: String? { get }
}

extension DescribeStreamConsumerInput: ConsumerNaming {}
extension DeregisterStreamConsumerInput: ConsumerNaming {}
