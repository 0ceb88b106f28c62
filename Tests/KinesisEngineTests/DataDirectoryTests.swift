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

    /// A directory whose journal holds stream "s" (1 shard) and `count` records.
    static func journal(records count: Int) async throws -> (directory: URL, file: URL) {
        let directory = try Self.temporaryDirectory()
        let (engine, _) = try InMemoryKinesis.persistent(directory: directory)
        try await engine.createStream(.init(streamName: "s", shardCount: 1))
        for index in 0..<count { _ = try await engine.putRecord(.init(streamName: "s", data: Data("record \(index)".utf8), partitionKey: "k")) }
        return (directory, directory.appendingPathComponent("journal.kinesis"))
    }

    /// Where each entry of a journal starts (13-byte headers: kind, length, two checksums).
    static func entryOffsets(_ bytes: [UInt8]) -> [Int] {
        var offsets: [Int] = []
        var offset = 0
        while offset + 13 <= bytes.count {
            offsets.append(offset)
            let length = bytes[offset + 1..<offset + 5].reduce(0) { $0 << 8 | Int($1) }
            offset += 13 + length
        }
        return offsets
    }

    /// Starting on the damaged file fails naming the byte, and leaves the file as it was.
    static func expectRefused(_ directory: URL, file: URL, at byte: Int) throws {
        let before = try Data(contentsOf: file)
        #expect {
            _ = try InMemoryKinesis.persistent(directory: directory)
        } throws: { error in
            "\(error)".contains("journal.kinesis is damaged at byte \(byte) ") && "\(error)".contains("Nothing was changed")
        }
        #expect(try Data(contentsOf: file) == before, "a start never rewrites away bytes it could not read")
    }

    @Test("a write cut short at the end of the file is dropped, said so and kept aside; a legacy torn entry too")
    func tornTail() async throws {
        let (directory, file) = try await Self.journal(records: 10)
        defer { try? FileManager.default.removeItem(at: directory) }
        let intact = try Data(contentsOf: file)
        // A header that holds (its own checksum matches) declaring 200 bytes, of which 3 were written.
        var header: [UInt8] = [0x82, 0, 0, 0, 200, 9, 9, 9, 9]
        let crc = CRC32.checksum(header[...])
        header += [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF), 1, 2, 3]
        try (intact + header).write(to: file)
        do {
            let (engine, restored) = try InMemoryKinesis.persistent(directory: directory)
            #expect(restored.records == 10)
            #expect(restored.droppedTailBytes == 16)
            #expect(engine.snapshot().stream("s")?.records.count == 10)
            let kept = try #require(restored.droppedTailKeptIn)
            #expect(try Data(contentsOf: URL(fileURLWithPath: kept)) == Data(header), "the dropped bytes are kept aside")
        }
        // The restart rewrote the file without the torn entry.
        do {
            let (_, restored) = try InMemoryKinesis.persistent(directory: directory)
            #expect(restored.records == 10)
            #expect(restored.droppedTailBytes == 0)
        }
        // A file written before headers had their own checksum: its torn last entry is still dropped.
        try (try Data(contentsOf: file) + [2, 0, 0, 0, 200, 1, 2, 3, 4, 5, 6]).write(to: file)
        let (_, restored) = try InMemoryKinesis.persistent(directory: directory)
        #expect(restored.records == 10 && restored.droppedTailBytes == 11)
    }

    @Test("a flipped bit in an entry's length, anywhere, stops the start naming the byte; no record is dropped")
    func damagedLength() async throws {
        let (directory, file) = try await Self.journal(records: 50)
        defer { try? FileManager.default.removeItem(at: directory) }
        let intact = try Data(contentsOf: file)
        let offsets = Self.entryOffsets(Array(intact))
        #expect(offsets.count >= 51)
        // The first entry's length (byte 1 lost every stream before), and one in the middle.
        for entry in [offsets[0], offsets[25]] {
            for bit in [0, 6] {
                var damaged = intact
                damaged[entry + 3] ^= 1 << bit
                try damaged.write(to: file)
                try Self.expectRefused(directory, file: file, at: entry)
            }
        }
        try intact.write(to: file)
        let (_, restored) = try InMemoryKinesis.persistent(directory: directory)
        #expect(restored.records == 50, "the intact file still reads whole")
    }

    @Test("a bit-rotted entry (full length, bad checksum) stops the start, even the last one")
    func damagedPayload() async throws {
        let (directory, file) = try await Self.journal(records: 10)
        defer { try? FileManager.default.removeItem(at: directory) }
        let intact = try Data(contentsOf: file)
        let offsets = Self.entryOffsets(Array(intact))
        var lastRotted = intact
        lastRotted[lastRotted.count - 3] ^= 0x10
        try lastRotted.write(to: file)
        try Self.expectRefused(directory, file: file, at: offsets.last!)
        var middleRotted = intact
        middleRotted[offsets[4] + 20] ^= 0x01
        try middleRotted.write(to: file)
        try Self.expectRefused(directory, file: file, at: offsets[4])
    }

    @Test("a stale journal.kinesis.new is removed; a file as the directory and a smaller budget are said plainly")
    func startUpLeftovers() async throws {
        let (directory, file) = try await Self.journal(records: 40)
        defer { try? FileManager.default.removeItem(at: directory) }
        let stale = directory.appendingPathComponent("journal.kinesis.new")
        try Data(repeating: 7, count: 100).write(to: stale)
        var configuration = EngineConfiguration()
        configuration.maxRetainedBytesPerShard = 400
        let (engine, restored) = try InMemoryKinesis.persistent(directory: directory, configuration: configuration)
        #expect(!FileManager.default.fileExists(atPath: stale.path))
        #expect(restored.expired == 0, "nothing was past its retention period")
        #expect(restored.trimmedToBudget > 0 && restored.records + restored.trimmedToBudget == 40)
        withExtendedLifetime(engine) {}
        #expect {
            _ = try InMemoryKinesis.persistent(directory: file)
        } throws: { error in
            "\(error)".contains("is a file, not a directory") && !"\(error)".contains("NSCocoaErrorDomain")
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
