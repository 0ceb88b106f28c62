import Foundation
import Kinesis

/// A value as the validator sees it: what a typed Swift input and a parsed JSON body both
/// become, so one set of rules serves the Swift API and the HTTP endpoint alike.
public indirect enum FieldValue: Sendable, Hashable {
    case null
    case string(String)
    case integer(Int64)
    case boolean(Bool)
    case timestamp(Double)
    /// A blob is checked by its decoded length only.
    case blob(length: Int)
    case list([FieldValue])
    case structure([String: FieldValue])
    case map([String: String])
}

/// The wire type of a member.
public indirect enum FieldType: Sendable {
    case string, integer, boolean, timestamp, blob
    case list(of: FieldType, memberName: String?)
    case structure([Member])
    case map
}

/// A constraint of the AWS model; its message is AWS's wording.
public enum Constraint: Sendable {
    case notNull
    /// `notNull` unless the input gives the named member instead (StreamName, or StreamARN).
    case notNullWithout(String)
    case pattern(String)
    case minLength(Int)
    case maxLength(Int)
    case minValue(Int64)
    case maxValue(Int64)
    case oneOf([String])
}

/// A member of an input shape: wire name, type and constraints, listed in the order AWS
/// reports their errors.
public struct Member: Sendable {
    /// The wire name, such as `StreamName`.
    public var name: String
    /// What JSON type the member must have.
    public var type: FieldType
    /// AWS's constraints, checked in this order.
    public var constraints: [Constraint]
    /// The constraints of each element of a list (`TagKeys`' keys).
    public var elements: [Constraint]
    /// The constraints of a map's keys and of its values (`Tags`).
    public var keys: [Constraint]
    public var values: [Constraint]
    /// A member with its wire name, type and constraints.
    public init(
        _ name: String, _ type: FieldType, _ constraints: [Constraint] = [], elements: [Constraint] = [], keys: [Constraint] = [],
        values: [Constraint] = []
    ) {
        self.name = name
        self.type = type
        self.constraints = constraints
        self.elements = elements
        self.keys = keys
        self.values = values
    }
}

/// The input shapes of the operations: the service model's (generated into
/// `Generated/KinesisSchema+Model.swift`), with ``ModelCorrections`` applied.
public enum KinesisSchema {
    static let streamNamePattern = ServiceLimits.namePattern
    static let hashKeyPattern = "0|([1-9]\\d{0,38})"
    static let sequenceNumberPattern = "0|([1-9]\\d{0,128})"
    /// The model's pattern of a `StreamARN`.
    static let streamARNPattern: String = {
        for member in modelMembers(of: .listStreamConsumers) where member.name == "StreamARN" {
            for case .pattern(let pattern) in member.constraints { return pattern }
        }
        preconditionFailure("the model's ListStreamConsumers has no StreamARN pattern")
    }()

    /// The members of each operation's input, in the model's order; `recordMaxBytes` is the
    /// stream's record size limit (1 MiB unless UpdateMaxRecordSize raised it).
    public static func members(of operation: KinesisOperation, recordMaxBytes: Int = ServiceLimits.recordMaxBytes) -> [Member] {
        let members = corrected[operation] ?? []
        guard recordMaxBytes != ServiceLimits.recordMaxBytes, operation == .putRecord || operation == .putRecords else { return members }
        return ModelCorrections.limitingData(members, to: recordMaxBytes)
    }

    /// Every operation's members, corrected once.
    static let corrected: [KinesisOperation: [Member]] = Dictionary(
        uniqueKeysWithValues: KinesisOperation.allCases.map { ($0, ModelCorrections.apply(to: modelMembers(of: $0), of: $0)) })
}
