import Kinesis

/// A position in a shard as consumers checkpoint it: a Kinesis sequence number and, for a
/// record of a KPL aggregate, the user record's index in it (its sub-sequence number).
///
/// Positions order by sequence number (numerically: they are decimal numbers of up to 128
/// bits), then sub-sequence number. The starting sentinels (`trimHorizon`, `latest`,
/// `atTimestamp`) sort below every real position and `shardEnd` above all, so "at or below the
/// checkpoint" is one comparison.
public struct ExtendedSequenceNumber: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, Codable {
        case trimHorizon = "TRIM_HORIZON"
        case latest = "LATEST"
        case atTimestamp = "AT_TIMESTAMP"
        case sequence = "SEQUENCE"
        case shardEnd = "SHARD_END"
    }

    public var kind: Kind
    /// The Kinesis sequence number (decimal digits); empty for the sentinels.
    public var sequenceNumber: String
    /// The user record's index within its aggregate; 0 for a plain record.
    public var subSequenceNumber: Int

    public init(_ sequenceNumber: String, subSequenceNumber: Int = 0) {
        kind = .sequence
        self.sequenceNumber = sequenceNumber
        self.subSequenceNumber = subSequenceNumber
    }

    init(kind: Kind) {
        self.kind = kind
        sequenceNumber = ""
        subSequenceNumber = 0
    }

    public static let trimHorizon = ExtendedSequenceNumber(kind: .trimHorizon)
    public static let latest = ExtendedSequenceNumber(kind: .latest)
    public static let atTimestamp = ExtendedSequenceNumber(kind: .atTimestamp)
    /// A closed shard read to its end: a restart never reads it again.
    public static let shardEnd = ExtendedSequenceNumber(kind: .shardEnd)

    public var isSentinel: Bool { kind != .sequence }

    public var description: String {
        kind == .sequence ? "\(sequenceNumber)/\(subSequenceNumber)" : kind.rawValue
    }

    private var rank: Int {
        switch kind {
        case .trimHorizon, .latest, .atTimestamp: 0
        case .sequence: 1
        case .shardEnd: 2
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        if lhs.rank != rhs.rank { return lhs.rank < rhs.rank }
        guard lhs.kind == .sequence else { return false }
        let order = compareSequenceNumbers(lhs.sequenceNumber, rhs.sequenceNumber)
        return order != 0 ? order < 0 : lhs.subSequenceNumber < rhs.subSequenceNumber
    }

    /// -1, 0 or 1: decimal strings compared as numbers (shorter is smaller, then digit by digit).
    public static func compareSequenceNumbers(_ a: String, _ b: String) -> Int {
        let a = a.drop { $0 == "0" }, b = b.drop { $0 == "0" }
        if a.utf8.count != b.utf8.count { return a.utf8.count < b.utf8.count ? -1 : 1 }
        if a == b { return 0 }
        return a < b ? -1 : 1
    }
}
