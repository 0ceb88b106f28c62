import Foundation

/// A DynamoDB attribute value as the JSON protocol writes it: an object with one type key,
/// `{"S": "text"}`, `{"N": "42"}`, `{"SS": ["a", "b"]}`, `{"M": {...}}`. Numbers stay the decimal
/// text DynamoDB sends (up to 38 digits), never a lossy `Double`.
public indirect enum AttributeValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case s(String)
    case n(String)
    case b(Data)
    case ss([String])
    case ns([String])
    case bs([Data])
    case bool(Bool)
    case null
    case l([AttributeValue])
    case m([String: AttributeValue])

    /// DynamoDB nests documents at most 32 levels deep; an answer nested deeper is refused
    /// rather than followed (every parser of network input bounds its depth).
    public static let maximumDepth = 32

    enum Key: String, CodingKey {
        case S, N, B, SS, NS, BS, BOOL, NULL, L, M
    }

    /// A number attribute from an integer.
    public static func number(_ value: some BinaryInteger) -> AttributeValue { .n(String(value)) }

    public init(from decoder: any Decoder) throws {
        // Each level of nesting adds a key (M) or an index (L) and the type key to the path.
        guard decoder.codingPath.count <= Self.maximumDepth * 2 + 4 else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "attribute value nested deeper than \(Self.maximumDepth) levels"))
        }
        let container = try decoder.container(keyedBy: Key.self)
        guard container.allKeys.count == 1, let key = container.allKeys.first else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "an attribute value has exactly one type key (S, N, B, SS, NS, BS, BOOL, NULL, L or M), found \(container.allKeys.map(\.stringValue))"
                ))
        }
        switch key {
        case .S: self = .s(try container.decode(String.self, forKey: key))
        case .N: self = .n(try container.decode(String.self, forKey: key))
        case .B: self = .b(try container.decode(Data.self, forKey: key))
        case .SS: self = .ss(try container.decode([String].self, forKey: key))
        case .NS: self = .ns(try container.decode([String].self, forKey: key))
        case .BS: self = .bs(try container.decode([Data].self, forKey: key))
        case .BOOL: self = .bool(try container.decode(Bool.self, forKey: key))
        case .NULL: self = .null
        case .L: self = .l(try container.decode([AttributeValue].self, forKey: key))
        case .M: self = .m(try container.decode([String: AttributeValue].self, forKey: key))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        switch self {
        case .s(let value): try container.encode(value, forKey: .S)
        case .n(let value): try container.encode(value, forKey: .N)
        case .b(let value): try container.encode(value, forKey: .B)
        case .ss(let value): try container.encode(value, forKey: .SS)
        case .ns(let value): try container.encode(value, forKey: .NS)
        case .bs(let value): try container.encode(value, forKey: .BS)
        case .bool(let value): try container.encode(value, forKey: .BOOL)
        case .null: try container.encode(true, forKey: .NULL)
        case .l(let value): try container.encode(value, forKey: .L)
        case .m(let value): try container.encode(value, forKey: .M)
        }
    }

    /// The text of an S attribute.
    public var string: String? {
        if case .s(let value) = self { return value }
        return nil
    }

    /// An N attribute as an integer (nil when it is not one, or does not fit).
    public var int64: Int64? {
        if case .n(let value) = self { return Int64(value) }
        return nil
    }

    /// The members of an SS attribute.
    public var stringSet: [String]? {
        if case .ss(let value) = self { return value }
        return nil
    }

    /// The DynamoDB type name: S, N, SS, ...
    public var typeName: String {
        switch self {
        case .s: "S"
        case .n: "N"
        case .b: "B"
        case .ss: "SS"
        case .ns: "NS"
        case .bs: "BS"
        case .bool: "BOOL"
        case .null: "NULL"
        case .l: "L"
        case .m: "M"
        }
    }

    public var description: String {
        switch self {
        case .s(let value): "S:\(value)"
        case .n(let value): "N:\(value)"
        case .b(let value): "B:\(value.count) bytes"
        case .ss(let value): "SS:\(value)"
        case .ns(let value): "NS:\(value)"
        case .bs(let value): "BS:\(value.count) values"
        case .bool(let value): "BOOL:\(value)"
        case .null: "NULL"
        case .l(let value): "L:\(value)"
        case .m(let value): "M:\(value)"
        }
    }
}
