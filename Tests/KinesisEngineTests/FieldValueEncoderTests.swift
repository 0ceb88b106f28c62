import Foundation
import Kinesis
import Testing

@testable import KinesisEngine

/// The validator's fields come from the inputs' own CodingKeys; the hand-built fields of the
/// hot calls must say exactly the same, so a renamed member cannot slip past validation.
@Suite("Validation fields")
struct FieldValueEncoderTests {
    /// Absent and null mean the same to the validator.
    func withoutNulls(_ fields: [String: FieldValue]) -> [String: FieldValue] {
        func clean(_ value: FieldValue) -> FieldValue? {
            switch value {
            case .null: nil
            case .structure(let members): .structure(members.compactMapValues(clean))
            case .list(let items): .list(items.compactMap(clean))
            default: value
            }
        }
        return fields.compactMapValues(clean)
    }

    @Test("the hand-built fields of PutRecord, PutRecords and GetRecords match the encoder's")
    func hotCallsMatch() {
        let put = PutRecordInput(streamName: "s", data: Data(count: 7), partitionKey: "k", explicitHashKey: "12")
        #expect(withoutNulls(put.validationFields) == FieldValueEncoder.fields(of: put))
        let bare = PutRecordInput(streamName: "s", data: Data(), partitionKey: "")
        #expect(withoutNulls(bare.validationFields) == FieldValueEncoder.fields(of: bare))
        let batch = PutRecordsInput(
            streamName: "s", records: [.init(data: Data(count: 3), partitionKey: "a"), .init(data: Data(), partitionKey: "b", explicitHashKey: "5")])
        #expect(withoutNulls(batch.validationFields) == FieldValueEncoder.fields(of: batch))
        let read = GetRecordsInput(shardIterator: "it", limit: 10)
        #expect(withoutNulls(read.validationFields) == FieldValueEncoder.fields(of: read))
    }

    @Test("the encoder reads wire names, blobs by length, nested structures, maps and enums")
    func encodesShapes() {
        let create = CreateStreamInput(streamName: "s", shardCount: 2, mode: .onDemand, tags: ["team": "a"])
        let fields = FieldValueEncoder.fields(of: create)
        #expect(fields["StreamName"] == .string("s"))
        #expect(fields["ShardCount"] == .integer(2))
        #expect(fields["StreamModeDetails"] == .structure(["StreamMode": .string("ON_DEMAND")]))
        #expect(fields["Tags"] == .map(["team": "a"]))
        let filter = FieldValueEncoder.fields(of: ListShardsInput(streamName: "s", shardFilter: ShardFilter(type: .atLatest)))
        #expect(filter["ShardFilter"] == .structure(["Type": .string("AT_LATEST")]))
    }
}
