import Kinesis

extension KinesisAPI {
    /// Every record of a shard from TRIM_HORIZON, following iterators until the reader is
    /// caught up (an empty page at the tip) or a closed shard is drained: for assertions on
    /// what a stream holds, through the same calls a consumer makes.
    public func readAll(stream: String, shardId: String) async throws -> [Record] {
        var iterator = try await getShardIterator(.init(streamName: stream, shardId: shardId, shardIteratorType: .trimHorizon))
            .shardIterator
        var records: [Record] = []
        while let current = iterator {
            let page = try await getRecords(.init(shardIterator: current))
            records += page.records
            if page.records.isEmpty && page.millisBehindLatest == 0 && page.nextShardIterator != nil { break }
            iterator = page.nextShardIterator
        }
        return records
    }
}
