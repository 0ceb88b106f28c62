import Foundation
import Kinesis

/// Turns a typed input into the fields the ``Validator`` checks, through the input's own
/// `Codable` conformance: the wire member names come from its `CodingKeys`, written once in
/// `Kinesis/Generated/Shapes.swift`, and are not restated here. `Data` becomes a blob checked by
/// length, `Date` a timestamp, nil members are simply absent (the validator reads absence as null).
package enum FieldValueEncoder {
    package static func fields(of input: some Encodable) -> [String: FieldValue] {
        let encoder = FieldEncoder()
        guard (try? input.encode(to: encoder)) != nil, case .structure(let fields)? = encoder.storage.value else { return [:] }
        return fields
    }
}

/// Where an encoder or container puts what it encoded: a box, because nested containers
/// write into their parent after the parent has handed them out.
private final class Slot {
    var value: FieldValue?
    init(_ value: FieldValue? = nil) { self.value = value }
}

private final class FieldEncoder: Encoder {
    let storage = Slot()
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] = [:]

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let members = Members()
        storage.value = .structure([:])
        members.onChange = { [storage] in storage.value = .structure($0) }
        return KeyedEncodingContainer(KeyedFields<Key>(members: members))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let items = Items()
        storage.value = .list([])
        items.onChange = { [storage] in storage.value = .list($0) }
        return ListFields(items: items)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleField(slot: storage) }
}

/// Encodes one value into a `FieldValue`, catching the types the wire treats specially.
private func fieldValue(of value: some Encodable) throws -> FieldValue {
    switch value {
    case let data as Data: return .blob(length: data.count)
    case let date as Date: return .timestamp(date.timeIntervalSince1970)
    case let map as [String: String]: return .map(map)
    default:
        let encoder = FieldEncoder()
        try value.encode(to: encoder)
        return encoder.storage.value ?? .null
    }
}

private final class Members {
    var fields: [String: FieldValue] = [:] {
        didSet { onChange?(fields) }
    }
    var onChange: (([String: FieldValue]) -> Void)?
}

private final class Items {
    var items: [FieldValue] = [] {
        didSet { onChange?(items) }
    }
    var onChange: (([FieldValue]) -> Void)?
}

private struct KeyedFields<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let members: Members
    var codingPath: [any CodingKey] = []

    mutating func encodeNil(forKey key: Key) throws {}
    mutating func encode(_ value: Bool, forKey key: Key) throws { members.fields[key.stringValue] = .boolean(value) }
    mutating func encode(_ value: String, forKey key: Key) throws { members.fields[key.stringValue] = .string(value) }
    mutating func encode(_ value: Double, forKey key: Key) throws { members.fields[key.stringValue] = .timestamp(value) }
    mutating func encode(_ value: Int, forKey key: Key) throws { members.fields[key.stringValue] = .integer(javaInt(value)) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { members.fields[key.stringValue] = .integer(value) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { members.fields[key.stringValue] = try fieldValue(of: value) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let nested = Members()
        let name = key.stringValue
        members.fields[name] = .structure([:])
        nested.onChange = { [members] in members.fields[name] = .structure($0) }
        return KeyedEncodingContainer(KeyedFields<NestedKey>(members: nested))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = Items()
        let name = key.stringValue
        members.fields[name] = .list([])
        nested.onChange = { [members] in members.fields[name] = .list($0) }
        return ListFields(items: nested)
    }

    mutating func superEncoder() -> any Encoder { FieldEncoder() }
    mutating func superEncoder(forKey key: Key) -> any Encoder { FieldEncoder() }
}

private struct ListFields: UnkeyedEncodingContainer {
    let items: Items
    var codingPath: [any CodingKey] = []
    var count: Int { items.items.count }

    mutating func encodeNil() throws { items.items.append(.null) }
    mutating func encode<T: Encodable>(_ value: T) throws { items.items.append(try fieldValue(of: value)) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let nested = Members()
        let index = items.items.count
        items.items.append(.structure([:]))
        nested.onChange = { [items] in items.items[index] = .structure($0) }
        return KeyedEncodingContainer(KeyedFields<NestedKey>(members: nested))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let nested = Items()
        let index = items.items.count
        items.items.append(.list([]))
        nested.onChange = { [items] in items.items[index] = .list($0) }
        return ListFields(items: nested)
    }

    mutating func superEncoder() -> any Encoder { FieldEncoder() }
}

private struct SingleField: SingleValueEncodingContainer {
    let slot: Slot
    var codingPath: [any CodingKey] = []

    mutating func encodeNil() throws { slot.value = .null }
    mutating func encode(_ value: Bool) throws { slot.value = .boolean(value) }
    mutating func encode(_ value: String) throws { slot.value = .string(value) }
    mutating func encode(_ value: Int) throws { slot.value = .integer(javaInt(value)) }
    mutating func encode(_ value: Int64) throws { slot.value = .integer(value) }
    mutating func encode(_ value: Double) throws { slot.value = .timestamp(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { slot.value = try fieldValue(of: value) }
}

/// The service reads an integer member as a Java int: a larger one is held to 2147483647 (and
/// then fails the member's range), as the endpoint's slow path reads JSON numbers.
private func javaInt(_ value: Int) -> Int64 { Int64(Int32(clamping: value)) }
