import Kinesis

/// Where the Kinesis service answers otherwise than its published model says: the one place
/// the generated validation table (`Generated/KinesisSchema+Model.swift`) is changed. Each
/// correction names the answer it matches; those answers were recorded against AWS (by
/// kinesalite's tests, whose messages the endpoint's fidelity tests pin).
enum ModelCorrections {
    /// A change to one member of one operation's input.
    struct Correction: Sendable {
        var operations: Set<KinesisOperation>
        /// The member's wire name (top level of the input).
        var member: String
        /// What the service checks instead of what the model states.
        var change: @Sendable (inout Member) -> Void
        /// The answer this correction matches.
        var answer: String
    }

    /// The operations whose stream the service needs named, by `StreamName` or `StreamARN`. The
    /// model made StreamName optional when StreamARN came; a request with neither is answered
    /// as before.
    static let namedByStream: Set<KinesisOperation> = [
        .deleteStream, .describeStream, .describeStreamSummary, .putRecord, .putRecords, .getShardIterator,
        .increaseStreamRetentionPeriod, .decreaseStreamRetentionPeriod, .updateShardCount, .splitShard, .mergeShards,
    ]

    static let table: [Correction] = [
        Correction(
            operations: namedByStream, member: "StreamName", change: { $0.constraints.insert(.notNullWithout("StreamARN"), at: 0) },
            answer: "Value null at 'streamName' failed to satisfy constraint: Member must not be null"),
        Correction(
            operations: [.createStream], member: "ShardCount",
            change: { $0.constraints.append(.maxValue(Int64(ServiceLimits.shardCount.upperBound))) },
            answer: "Value '100001' at 'shardCount' failed to satisfy constraint: Member must have value less than or equal to 100000"),
        Correction(
            operations: [.updateShardCount], member: "TargetShardCount",
            change: { $0.constraints.append(.maxValue(Int64(ServiceLimits.shardCount.upperBound))) },
            answer: "Value '100001' at 'targetShardCount' failed to satisfy constraint: Member must have value less than or equal to 100000"),
        Correction(
            operations: [.increaseStreamRetentionPeriod, .decreaseStreamRetentionPeriod], member: "RetentionPeriodHours",
            change: { $0.constraints.append(.minValue(1)) },
            answer: "Value '0' at 'retentionPeriodHours' failed to satisfy constraint: Member must have value greater than or equal to 1"),
        Correction(
            operations: [.getShardIterator], member: "ShardIteratorType",
            change: { member in
                member.constraints = member.constraints.map {
                    if case .oneOf = $0 { .oneOf(["AFTER_SEQUENCE_NUMBER", "LATEST", "AT_TIMESTAMP", "AT_SEQUENCE_NUMBER", "TRIM_HORIZON"]) } else { $0 }
                }
            },
            answer: "Value '' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_TIMESTAMP, AT_SEQUENCE_NUMBER, TRIM_HORIZON]"),
    ]

    /// `members` (the model's, for `operation`) as the service checks them, for a stream whose
    /// records may be 1 MiB.
    static func apply(to members: [Member], of operation: KinesisOperation) -> [Member] {
        var members = members
        for correction in table where correction.operations.contains(operation) {
            guard let index = members.firstIndex(where: { $0.name == correction.member }) else {
                preconditionFailure("ModelCorrections: \(operation.rawValue) has no member \(correction.member) in the model")
            }
            correction.change(&members[index])
        }
        return limitingData(members, to: ServiceLimits.recordMaxBytes)
    }

    /// The model allows records of 10 MiB (the most UpdateMaxRecordSize can set); a stream takes
    /// what it was set to, 1 MiB by default: `Value '…' at 'data' failed to satisfy constraint:
    /// Member must have length less than or equal to 1048576`.
    static func limitingData(_ members: [Member], to recordMaxBytes: Int) -> [Member] {
        members.map { member in
            var member = member
            switch (member.name, member.type) {
            case ("Data", .blob):
                member.constraints = member.constraints.map { if case .maxLength = $0 { .maxLength(recordMaxBytes) } else { $0 } }
            case ("Records", .list(.structure(let entry), let name)):
                member.type = .list(of: .structure(limitingData(entry, to: recordMaxBytes)), memberName: name)
            default:
                break
            }
            return member
        }
    }
}
