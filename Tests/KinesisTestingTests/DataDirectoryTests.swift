import Foundation
import Kinesis
import KinesisTesting
import Testing

/// `serve --data-dir`: an engine that keeps its streams and records in a directory.
@Suite("Data directory")
struct DataDirectoryTests {
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kinesis-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Every stream's shards and records, for comparing two engines.
    static func contents(_ engine: InMemoryKinesis) -> [String] {
        engine.snapshot().streams.flatMap { stream in
            stream.shards.flatMap { shard in
                ["\(stream.name) \(shard.shard.shardId) \(shard.shard.sequenceNumberRange.endingSequenceNumber ?? "open")"]
                    + shard.records.map { "\($0.sequenceNumber) \($0.partitionKey) \($0.data.base64EncodedString())" }
            }
        }
    }

    @Test("streams, records, reshards, tags and consumers are there again after a restart")
    func restart() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let clock = ManualEngineClock()
        var before: [String] = []
        var lastSequence = ""
        do {
            let (engine, restored) = try InMemoryKinesis.persistent(directory: directory, clock: clock)
            #expect(restored.streams == 0)
            try await engine.createStream(.init(streamName: "kept", shardCount: 2, tags: ["team": "a"]))
            for index in 0..<200 {
                _ = try await engine.putRecord(.init(streamName: "kept", data: Data("record \(index)".utf8), partitionKey: "key-\(index)"))
            }
            try await engine.splitShard(.init(streamName: "kept", shardToSplit: "shardId-000000000000", newStartingHashKey: "42"))
            let put = try await engine.putRecords(
                .init(streamName: "kept", records: (0..<300).map { .init(data: Data(repeating: UInt8($0 % 256), count: 100), partitionKey: "p\($0)") }))
            #expect(put.failedRecordCount == 0)
            let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/kept"
            _ = try await engine.registerStreamConsumer(.init(streamARN: arn, consumerName: "reader"))
            try await engine.createStream(.init(streamName: "dropped", shardCount: 1))
            try await engine.deleteStream(.init(streamName: "dropped"))
            before = Self.contents(engine)
            lastSequence = put.records.last!.sequenceNumber!
        }
        let (engine, restored) = try InMemoryKinesis.persistent(directory: directory, clock: clock)
        #expect(restored.streams == 1)
        #expect(restored.records == 500)
        #expect(restored.droppedTailBytes == 0)
        #expect(Self.contents(engine) == before)
        #expect(try await engine.listTagsForStream(.init(streamName: "kept")).tags == [Tag(key: "team", value: "a")])
        #expect(try await engine.listStreamConsumers(.init(streamARN: "arn:aws:kinesis:us-east-1:000000000000:stream/kept")).consumers?.map(\.consumerName) == ["reader"])
        // New records continue the shard's sequence.
        let next = try await engine.putRecord(.init(streamName: "kept", data: Data("after".utf8), partitionKey: "p299"))
        #expect(next.sequenceNumber.count == lastSequence.count)
        #expect(next.sequenceNumber > lastSequence)
    }

    @Test("a write cut short at the end of the file is dropped and said so; damage before it is an error naming the byte")
    func damage() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            let (engine, _) = try InMemoryKinesis.persistent(directory: directory)
            try await engine.createStream(.init(streamName: "s", shardCount: 1))
            for index in 0..<10 { _ = try await engine.putRecord(.init(streamName: "s", data: Data("\(index)".utf8), partitionKey: "k")) }
        }
        let file = directory.appendingPathComponent("journal.kinesis")
        var bytes = try Data(contentsOf: file)
        bytes.append(contentsOf: [2, 0, 0, 0, 200, 1, 2, 3, 4, 5, 6])  // a record entry whose payload never made it
        try bytes.write(to: file)
        do {
            let (engine, restored) = try InMemoryKinesis.persistent(directory: directory)
            #expect(restored.records == 10)
            #expect(restored.droppedTailBytes == 11)
            #expect(engine.snapshot().stream("s")?.records.count == 10)
        }
        // The restart rewrote the file without the torn entry.
        do {
            let (_, restored) = try InMemoryKinesis.persistent(directory: directory)
            #expect(restored.records == 10)
            #expect(restored.droppedTailBytes == 0)
        }

        var damaged = try Data(contentsOf: file)
        damaged[damaged.count - 3] ^= 0xFF  // inside the last record's payload: a checksum mismatch at the end is a torn write
        damaged.append(contentsOf: try Data(contentsOf: file).suffix(30))
        try damaged.write(to: file)
        #expect {
            _ = try InMemoryKinesis.persistent(directory: directory)
        } throws: { error in
            "\(error)".contains("journal.kinesis is damaged at byte") && "\(error)".contains("checksum mismatch")
        }
    }

    @Test("one process at a time: a second engine on the same directory is refused")
    func lock() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (engine, _) = try InMemoryKinesis.persistent(directory: directory)
        #expect {
            _ = try InMemoryKinesis.persistent(directory: directory)
        } throws: { error in
            "\(error)".contains("is in use by another kinesis-load serve")
        }
        withExtendedLifetime(engine) {}
    }
}
