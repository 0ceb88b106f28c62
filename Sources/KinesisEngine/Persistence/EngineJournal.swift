import Foundation
import Kinesis
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An engine's streams and records on disk, in one append-only file (`journal.kinesis` in the
/// data directory): every record the engine stores and, after each call that changes streams,
/// the description of every stream. A call is answered only after its entries are on disk
/// (`fsync`, shared by the calls that wait at the same time), so a crash loses nothing that
/// was acknowledged. At start the file is read back and rewritten with only what is still live.
///
/// An entry is `[kind | 0x80: 1 byte][length: 4][CRC-32 of the payload: 4][CRC-32 of the 9
/// bytes before: 4][payload]`, integers big-endian; files written before the header had its own
/// checksum hold `[kind][length][CRC-32 of the payload][payload]` entries, still read. Only a
/// tail that is really cut short (fewer bytes than a header, or than a header whose checksum
/// holds declares) is a write a crash interrupted: it is dropped, said so, and its bytes are
/// kept aside in the directory. Damage anywhere else (a header or payload that fails its
/// checksum, even in the last entry) stops the start with an error naming the file and the
/// byte, and nothing is rewritten.
final class EngineJournal: Sendable {
    enum Kind: UInt8 {
        /// The JSON of a ``Catalog``.
        case catalog = 1
        /// One stored record (``appendRecord(_:stream:shard:record:)``).
        case record = 2
    }

    /// What the streams are, apart from their records.
    struct Catalog: Codable {
        var streams: [StreamState]
        var billingCommitment: MinimumThroughputBillingCommitmentOutput?
    }

    struct RecordEntry {
        var stream: String
        var shard: Int
        var record: StoredRecord
    }

    enum Entry {
        case catalog(Catalog)
        case record(RecordEntry)
    }

    /// The file's entries and what was left unread at its end.
    struct Contents {
        var entries: [Entry]
        var droppedTailBytes: Int
        /// Where the dropped bytes were kept.
        var keptAside: String? = nil
    }

    static let fileName = "journal.kinesis"
    /// A header without its own checksum (files written before it had one), and with it.
    static let legacyHeaderBytes = 9
    static let headerBytes = 13
    /// Set in the kind byte of an entry whose header carries its own checksum.
    static let checkedHeader: UInt8 = 0x80

    let url: URL
    private let descriptor: Int32
    private let lockDescriptor: Int32
    /// Whether the start rewrote the file with only what is live (false: no room, it appends to the file as it was).
    let compacted: Bool
    /// Bytes written, and bytes known to be on disk.
    private let written: Atomic<UInt64>
    private let synced: Mutex<UInt64>

    /// Opens the journal in `directory` for appending, after ``rewrite(_:in:)`` left it holding
    /// the live state. Only one process may use a directory at a time.
    private init(url: URL, descriptor: Int32, lockDescriptor: Int32, size: UInt64, compacted: Bool) {
        self.url = url
        self.compacted = compacted
        self.descriptor = descriptor
        self.lockDescriptor = lockDescriptor
        self.written = Atomic(size)
        self.synced = Mutex(size)
    }

    deinit {
        close(descriptor)
        close(lockDescriptor)
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// A Foundation file error in words (its POSIX reason when it has one), never its dump.
    static func describe(_ error: any Error) -> String {
        let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
        if let code = underlying?.domain == NSPOSIXErrorDomain ? underlying?.code : nil { return String(cString: strerror(Int32(code))) }
        return (error as NSError).localizedDescription
    }

    private static func posixFailure(_ what: String, _ path: String) -> Failure {
        Failure(description: "\(what) \(path): \(String(cString: strerror(errno)))")
    }

    /// Takes the directory's lock, reads what it holds, rewrites it with `compact` (the live
    /// state, given what was read), and opens it for appending.
    static func open(directory: URL, compact: (Contents) throws -> [UInt8]) throws -> EngineJournal {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw Failure(description: "\(directory.path) is a file, not a directory (the data directory is created when missing)")
        }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw Failure(description: "cannot create the directory \(directory.path): \(describe(error))")
        }
        let lockPath = directory.appendingPathComponent("lock").path
        let lock = Glibc.open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard lock >= 0 else { throw posixFailure("cannot open", lockPath) }
        guard flock(lock, LOCK_EX | LOCK_NB) == 0 else {
            close(lock)
            throw Failure(description: "\(directory.path) is in use by another kinesis-load serve (its lock file is held)")
        }
        do {
            let url = directory.appendingPathComponent(fileName)
            // A rewrite a crash interrupted: the journal beside it is still the whole truth.
            try? FileManager.default.removeItem(atPath: url.path + ".new")
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
            if exists, isDirectory.boolValue { throw Failure(description: "\(url.path) is a directory, where the journal file should be") }
            let existing: [UInt8]
            do {
                existing = exists ? Array(try Data(contentsOf: url)) : []
            } catch {
                throw Failure(description: "cannot read \(url.path): \(describe(error))")
            }
            var contents = try read(existing, path: url.path)
            let validLength = existing.count - contents.droppedTailBytes
            if contents.droppedTailBytes > 0 {
                // The bytes about to be dropped are kept, never rewritten away unseen.
                let aside = url.path + ".dropped-tail-at-\(validLength)"
                do {
                    try Data(existing[validLength...]).write(to: URL(fileURLWithPath: aside))
                } catch {
                    throw Failure(description: "cannot keep the \(contents.droppedTailBytes) unreadable bytes at the end of \(url.path) aside in \(aside) (\(describe(error))); nothing was changed")
                }
                contents.keptAside = aside
            }
            let live = try compact(contents)
            var size: UInt64
            var compacted = true
            do {
                size = try rewrite(live, at: url)
            } catch {
                compacted = false
                // No room for the compacted copy (a full disk): keep appending to the file as it
                // is, cut to what was read; the next start compacts it.
                try? FileManager.default.removeItem(atPath: url.path + ".new")
                guard exists else { throw error }
                guard truncate(url.path, off_t(validLength)) == 0 else { throw posixFailure("cannot cut the torn end off", url.path) }
                size = UInt64(validLength)
            }
            let descriptor = Glibc.open(url.path, O_WRONLY | O_APPEND | O_CLOEXEC)
            guard descriptor >= 0 else { throw posixFailure("cannot open", url.path) }
            return EngineJournal(url: url, descriptor: descriptor, lockDescriptor: lock, size: size, compacted: compacted)
        } catch {
            close(lock)
            throw error
        }
    }

    /// Writes `bytes` to a new file, syncs it, and renames it over `url` (then syncs the
    /// directory), so that a crash leaves either the old file or the new one.
    private static func rewrite(_ bytes: [UInt8], at url: URL) throws -> UInt64 {
        let temporary = url.path + ".new"
        let descriptor = Glibc.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw posixFailure("cannot create", temporary) }
        defer { close(descriptor) }
        try writeAll(descriptor, bytes, path: temporary)
        guard fsync(descriptor) == 0 else { throw posixFailure("cannot sync", temporary) }
        guard rename(temporary, url.path) == 0 else { throw posixFailure("cannot rename \(temporary) to", url.path) }
        let directory = Glibc.open(url.deletingLastPathComponent().path, O_RDONLY | O_CLOEXEC)
        if directory >= 0 {
            _ = fsync(directory)
            close(directory)
        }
        return UInt64(bytes.count)
    }

    private static func writeAll(_ descriptor: Int32, _ bytes: [UInt8], path: String) throws {
        try bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let count = Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if count < 0 {
                    if errno == EINTR { continue }
                    throw posixFailure("cannot write", path)
                }
                offset += count
            }
        }
    }

    // MARK: - Appending

    /// Writes `bytes` (whole entries) at the end of the file; returns the offset that must be
    /// on disk before the call that made them is answered. Called under the engine's lock, so
    /// entries keep the order of the calls.
    func append(_ bytes: [UInt8]) throws -> UInt64 {
        try Self.writeAll(descriptor, bytes, path: url.path)
        return written.add(UInt64(bytes.count), ordering: .sequentiallyConsistent).newValue
    }

    /// Returns once everything up to `offset` is on disk; one `fsync` serves every caller
    /// waiting at the time.
    func sync(through offset: UInt64) throws {
        try synced.withLock { synced in
            guard synced < offset else { return }
            let target = written.load(ordering: .sequentiallyConsistent)
            guard fsync(descriptor) == 0 else { throw Self.posixFailure("cannot sync", url.path) }
            synced = target
        }
    }

    // MARK: - Entries

    static func frame(_ kind: Kind, _ payload: [UInt8], into out: inout [UInt8]) {
        let start = out.count
        out.append(kind.rawValue | checkedHeader)
        appendInteger(UInt32(payload.count), to: &out)
        appendInteger(CRC32.checksum(payload), to: &out)
        appendInteger(CRC32.checksum(out[start..<start + legacyHeaderBytes]), to: &out)
        out += payload
    }

    static func appendCatalog(_ catalog: Catalog, into out: inout [UInt8]) throws {
        frame(.catalog, Array(try JSONEncoder().encode(catalog)), into: &out)
    }

    static func appendRecord(stream: String, shard: Int, record: StoredRecord, into out: inout [UInt8]) {
        var payload: [UInt8] = []
        payload.reserveCapacity(record.data.count + stream.utf8.count + record.partitionKey.utf8.count + 96)
        appendText(stream, to: &payload)
        appendInteger(UInt32(shard), to: &payload)
        appendInteger(record.counter, to: &payload)
        appendInteger(record.arrival.bitPattern, to: &payload)
        payload.append(record.encrypted ? 1 : 0)
        appendText(record.partitionKey, to: &payload)
        appendText(record.sequenceNumber, to: &payload)
        appendInteger(UInt32(record.data.count), to: &payload)
        payload += record.data
        frame(.record, payload, into: &out)
    }

    private static func appendInteger<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { out += $0 }
    }

    private static func appendText(_ text: String, to out: inout [UInt8]) {
        appendInteger(UInt32(text.utf8.count), to: &out)
        out += text.utf8
    }

    /// The entries of a journal file. A tail really cut short is left out (and counted); any
    /// other damage is an error naming the file and the byte.
    static func read(_ bytes: [UInt8], path: String) throws -> Contents {
        var entries: [Entry] = []
        var offset = 0
        func damaged(_ what: String) -> Failure {
            Failure(
                description:
                    "\(path) is damaged at byte \(offset) of \(bytes.count): \(what). Nothing was changed. The \(entries.count) entries before that byte are intact: to start with them alone, keep a copy of the file and cut it there (truncate -s \(offset) \(path)); to start empty, move the file away"
            )
        }
        while offset < bytes.count {
            let checked = bytes[offset] & checkedHeader != 0
            let header = checked ? headerBytes : legacyHeaderBytes
            guard bytes.count - offset >= header else { break }
            var cursor = Cursor(bytes: bytes, offset: offset + 1)
            let length = Int(try cursor.integer(UInt32.self))
            let checksum = try cursor.integer(UInt32.self)
            if checked, CRC32.checksum(bytes[offset..<offset + legacyHeaderBytes]) != (try cursor.integer(UInt32.self)) {
                throw damaged("an entry header that fails its checksum (its kind or length is wrong)")
            }
            let end = offset + header + length
            // A header that holds declares more than the file has: the write was cut short.
            guard end <= bytes.count else { break }
            let payload = bytes[(offset + header)..<end]
            guard CRC32.checksum(payload) == checksum else { throw damaged("an entry of \(length) bytes whose checksum does not match") }
            switch Kind(rawValue: bytes[offset] & ~checkedHeader) {
            case .catalog:
                do {
                    entries.append(.catalog(try JSONDecoder().decode(Catalog.self, from: Data(payload))))
                } catch {
                    throw damaged("unreadable stream descriptions (\(error))")
                }
            case .record:
                do {
                    var reader = Cursor(bytes: bytes, offset: offset + header)
                    let stream = try reader.text()
                    let shard = Int(try reader.integer(UInt32.self))
                    let counter = try reader.integer(UInt64.self)
                    let arrival = Double(bitPattern: try reader.integer(UInt64.self))
                    let encrypted = try reader.integer(UInt8.self) == 1
                    let key = try reader.text()
                    let sequence = try reader.text()
                    let count = Int(try reader.integer(UInt32.self))
                    let data = Data(try reader.take(count))
                    entries.append(
                        .record(
                            RecordEntry(
                                stream: stream, shard: shard,
                                record: StoredRecord(
                                    counter: counter, arrival: arrival, data: data, partitionKey: key, sequenceNumber: sequence,
                                    encrypted: encrypted))))
                } catch {
                    throw damaged("an unreadable record")
                }
            case nil:
                throw damaged("unknown entry kind \(bytes[offset] & ~checkedHeader)")
            }
            offset = end
        }
        return Contents(entries: entries, droppedTailBytes: bytes.count - offset)
    }

    private struct Cursor {
        let bytes: [UInt8]
        var offset: Int

        mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
            guard count >= 0, bytes.count - offset >= count else { throw Failure(description: "short entry") }
            defer { offset += count }
            return bytes[offset..<offset + count]
        }

        mutating func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
            try take(MemoryLayout<T>.size).reduce(T(0)) { $0 << 8 | T($1) }
        }

        mutating func text() throws -> String {
            let count = Int(try integer(UInt32.self))
            return String(decoding: try take(count), as: UTF8.self)
        }
    }
}
