import ArgumentParser
import Foundation
import Kinesis
import KinesisProducer
import KinesisEngine

#if canImport(Glibc)
    import Glibc
#endif

struct PutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put",
        abstract: "Publish newline-delimited records from standard input through the Producer.",
        discussion: """
            Each non-empty line is one record, its bytes sent as they are (they need not be UTF-8). Lines of one partition key land in the order \
            they were read unless --unordered is given. The partition key is --key, or the JSON \
            field at --key-field (dotted: user.id), or a random key per line. Prints how many records were \
            sent, failed and retried (and how many were resent because a reshard split their aggregate); exits non-zero if any failed. A line that cannot be keyed fails alone, \
            named by its number; every other line is still sent.
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var cloudwatch: CloudWatchOptions
    @Argument(help: "Stream name (default: KINESIS_STREAM_NAME, or AWS_KINESIS_NAME as the NestJS module names it).")
    var stream: String?
    @Option(help: "JSON field holding each record's partition key, dotted for nested fields (user.id).")
    var keyField: String?
    @Option(help: "One partition key for every record.") var key: String?
    @Flag(help: "Aggregate records bound for the same shard (KPL format).") var aggregate = false
    @Flag(help: "Drop per-key order: lines of one partition key may land out of order (a little faster).")
    var unordered = false
    @Option(help: "Milliseconds a record may wait in the buffer.") var maxBufferedMs = 100
    @Option(help: "Seconds before an undelivered record fails as Expired.") var ttlSeconds = 30

    func validate() throws {
        if keyField != nil && key != nil { throw ValidationError("--key-field and --key exclude each other") }
        if let key, !(1...256).contains(key.utf16.count) {
            throw ValidationError("--key must be 1 to 256 characters, got \(key.utf16.count)")
        }
        if let keyField, keyField.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) {
            throw ValidationError("--key-field '\(keyField)' has an empty segment: write it as user.id")
        }
        if let stream { try validateStreamName(stream) }
        guard (1...60_000).contains(maxBufferedMs) else { throw ValidationError("--max-buffered-ms must be from 1 to 60000, got \(maxBufferedMs)") }
        guard (1...86_400).contains(ttlSeconds) else { throw ValidationError("--ttl-seconds must be from 1 to 86400, got \(ttlSeconds)") }
    }

    func run() async throws {
        var status = stat()
        if fstat(STDIN_FILENO, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR {
            throw CommandFailure("standard input is a directory: give put newline-delimited records, e.g. `kinesis-load put STREAM < events.jsonl`")
        }
        guard let stream = try stream ?? connection.configuration().streamName else {
            throw ValidationError("Missing the stream: name it as the first argument or set KINESIS_STREAM_NAME")
        }
        var producerConfiguration = Producer.Configuration(streamName: stream)
        producerConfiguration.aggregation = aggregate
        producerConfiguration.ordering = unordered ? .none : .perKey
        producerConfiguration.maxBufferedTime = .milliseconds(maxBufferedMs)
        producerConfiguration.recordTTL = .seconds(ttlSeconds)
        let path = keyField?.split(separator: ".").map(String.init)
        let constant = key
        let metrics = try cloudwatch.start(try connection.configuration())
        producerConfiguration.metricsFactory = metrics?.factory
        let outcome: (Int, Int, Producer.Statistics, [String])
        do {
            outcome = try await send(producerConfiguration, path: path, constant: constant)
        } catch {
            await metrics?.finish()
            throw error
        }
        await metrics?.finish()
        let (sent, failed, statistics, problems) = outcome
        for problem in problems.prefix(20) { FileHandle.standardError.write(Data("\(problem)\n".utf8)) }
        if problems.count > 20 { FileHandle.standardError.write(Data("... and \(problems.count - 20) more\n".utf8)) }
        var summary = "sent: \(sent), failed: \(failed), retried: \(statistics.retried)"
        if statistics.resentAfterReshard > 0 {
            summary += " (\(statistics.resentAfterReshard) of them resent whole aggregates after a reshard)"
        }
        print(summary)
        if failed > 0 { throw ExitCode(1) }
    }

    /// Publishes standard input's lines; returns what was delivered, failed, the statistics and the problems.
    func send(_ producerConfiguration: Producer.Configuration, path: [String]?, constant: String?) async throws -> (Int, Int, Producer.Statistics, [String]) {
        try await connection.withClient { client in
            let producer = Producer(api: client, configuration: producerConfiguration)
            let problems = try await producer.withRunning {
                var tickets: [(line: Int, ticket: RecordTicket)] = []
                var problems: [String] = []
                var random = SystemRandomNumberGenerator()
                var number = 0
                var lines = LineReader(descriptor: STDIN_FILENO)
                while let line = try lines.next() {
                    number += 1
                    if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                    let partitionKey: String
                    if let constant {
                        partitionKey = constant
                    } else if let path {
                        switch Self.field(path, in: line) {
                        case .found(let key): partitionKey = key
                        case .notJSON:
                            problems.append("line \(number): not JSON, so it has no field \(path.joined(separator: ".")) to key it by; not sent")
                            continue
                        case .missing:
                            problems.append("line \(number): no string or number at \(path.joined(separator: ".")); not sent")
                            continue
                        }
                    } else {
                        partitionKey = String(random.next(), radix: 36)
                    }
                    do {
                        tickets.append((number, try await producer.put(data: line, partitionKey: partitionKey)))
                    } catch {
                        problems.append("line \(number): \(error)")
                    }
                }
                await producer.flush()
                var failed = problems.count
                for (line, ticket) in tickets {
                    if case .failure(let error) = ticket.outcome {
                        failed += 1
                        problems.append("line \(line): \(error)")
                    }
                }
                return (failed: failed, problems: problems)
            }
            let statistics = producer.statistics
            return (statistics.delivered, problems.failed, statistics, problems.problems)
        }
    }

    enum Field: Equatable {
        case found(String)
        case missing
        case notJSON
    }

    /// The string or number at a dotted path of a JSON object line.
    static func field(_ path: [String], in line: Data) -> Field {
        guard var value = try? JSONDecoder().decode(JSONValue.self, from: line) else { return .notJSON }
        for segment in path {
            guard case .object(let object) = value, let next = object[segment] else { return .missing }
            value = next
        }
        switch value {
        case .string(let text): return text.isEmpty ? .missing : .found(text)
        case .number(let number): return .found(number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number))
        case .bool(let flag): return .found(String(flag))
        default: return .missing
        }
    }
}

/// Lines of a file descriptor as bytes, without their "\n" (or "\r\n"): nothing is decoded,
/// so a record is sent exactly as it was written.
struct LineReader {
    let descriptor: Int32
    var buffer: [UInt8] = []
    var start = 0
    var ended = false

    init(descriptor: Int32) { self.descriptor = descriptor }

    mutating func next() throws -> Data? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 0x0A) {
                var end = newline
                if end > start, buffer[end - 1] == 0x0D { end -= 1 }
                let line = Data(buffer[start..<end])
                start = newline + 1
                return line
            }
            if ended {
                guard start < buffer.count else { return nil }
                let line = Data(buffer[start...])
                start = buffer.count
                return line
            }
            if start > 0 {
                buffer.removeFirst(start)
                start = 0
            }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw CommandFailure("cannot read standard input: \(String(cString: strerror(errno)))")
            }
            if count == 0 { ended = true } else { buffer.append(contentsOf: chunk[0..<count]) }
        }
    }
}
