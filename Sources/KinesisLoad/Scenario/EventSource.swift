import Foundation
import Kinesis
import KinesisProducer
import KinesisEngine

/// One event, rendered and keyed, ready to publish.
package struct LoadEvent: Sendable {
    /// Index into the scenario's `events`.
    package var type: Int
    package var data: Data
    package var partitionKey: String
    package var explicitHashKey: String?
    /// Its number in the run (publishing order), set by the runner.
    package var index: UInt64 = 0
}

/// What a partition key strategy sees of a rendered event: the captured members' text.
package struct RenderedFields: Sendable {
    package var captured: [String]
    /// A key drawn from a pool, for the `key` strategy.
    package var poolKey: String
}

/// Draws keys from a pool: uniform, or Zipf-skewed so that rank 1 (`prefix0`) is the hottest.
struct KeyPool: Sendable {
    let prefix: [UInt8]
    let prefixString: String
    let count: Int
    /// Cumulative probabilities by rank, for Zipf.
    let cdf: [Double]?

    init(_ spec: Scenario.KeyPoolSpec) {
        prefix = Array(Template.escaped(spec.prefix).dropFirst().dropLast())
        prefixString = spec.prefix
        count = spec.count
        if case .zipf(let exponent) = spec.distribution {
            var weights = (1...spec.count).map { 1 / pow(Double($0), exponent) }
            let total = weights.reduce(0, +)
            var running = 0.0
            for index in weights.indices {
                running += weights[index] / total
                weights[index] = running
            }
            weights[weights.count - 1] = 1
            cdf = weights
        } else {
            cdf = nil
        }
    }

    func draw(_ random: inout SplitMix64) -> Int {
        guard let cdf else { return Int(random.next() % UInt64(count)) }
        let u = random.unit()
        var low = 0, high = cdf.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cdf[mid] < u { low = mid + 1 } else { high = mid }
        }
        return low
    }

    func key(_ index: Int) -> String { prefixString + String(index) }
}

/// Renders the scenario's events in a repeatable order: the event type by weight, its
/// payload from the template, its partition key from its strategy. Not thread-safe: one
/// runner task owns it.
package struct EventSource: Sendable {
    let types: [String]
    let templates: [Template]
    let strategies: [PartitionKeyStrategy<RenderedFields>]
    let poolOf: [Int?]
    let cumulativeWeights: [Double]
    let pools: [KeyPool]
    var random: SplitMix64
    var sequence: Int64 = 0
    var buffer: [UInt8] = []
    private var clockCache = ClockCache()
    private static let filler: [UInt8] = {
        var random = SplitMix64(seed: 7)
        return (0..<65_536).map { _ in UInt8(97 + random.next() % 26) }
    }()

    /// - Parameter shardMap: the stream's open shards, for round-robin over shards.
    package init(scenario: Scenario, shardMap: ShardMap) {
        let poolNames = scenario.keyPools.keys.sorted()
        pools = poolNames.map { KeyPool(scenario.keyPools[$0]!) }
        types = scenario.events.map(\.type)
        var strategies: [PartitionKeyStrategy<RenderedFields>] = []
        var poolOf: [Int?] = []
        for (index, event) in scenario.events.enumerated() {
            var pool: Int?
            let strategy: PartitionKeyStrategy<RenderedFields>
            switch event.partitionKey {
            case .field:
                strategy = .field { $0.captured[0] }
            case .entity(let type, _):
                strategy = PartitionKeyStrategy(name: "entity") { PartitionKey("\(type)_\($0.captured[0])") }
            case .composite(let paths, let separator):
                strategy = .composite(separator: separator, paths.indices.map { i in { $0.captured[i] } })
            case .hash(_, let buckets):
                strategy = .hash(buckets: buckets) { $0.captured[0] }
            case .timeWindow(let window):
                strategy = .timeWindow(window)
            case .random(let keys):
                strategy = .random(keys: keys, seed: scenario.seed &+ UInt64(index))
            case .roundRobin(let keys):
                strategy = .roundRobin(keys: keys)
            case .roundRobinShards:
                strategy = .roundRobin(over: shardMap)
            case .constant(let value):
                strategy = .constant(value)
            case .pool(let name):
                pool = poolNames.firstIndex(of: name)
                strategy = .field { $0.poolKey }
            case .nestjsHash:
                strategy = .nestjsHash { $0.captured[0] }
            case .nestjsComposite(let paths):
                strategy = .nestjsComposite(paths.indices.map { i in { $0.captured[i] } })
            case .nestjsRandom(let count):
                strategy = .nestjsRandom(shardCount: count, seed: scenario.seed &+ UInt64(index))
            case .nestjsRoundRobin(let count):
                strategy = .nestjsRoundRobin(shardCount: count)
            case .nestjsTimeWindow(let milliseconds):
                strategy = .nestjsTimeWindow(milliseconds: milliseconds)
            case .clock(let prefix, let modulo):
                strategy = .clockModulo(prefix: prefix, modulo: modulo)
            }
            strategies.append(strategy)
            poolOf.append(pool)
        }
        // Compiled when the scenario was read, against the same sorted pool names.
        self.templates = scenario.events.map(\.compiled)
        self.strategies = strategies
        self.poolOf = poolOf
        let total = scenario.events.map(\.weight).reduce(0, +)
        var running = 0.0
        cumulativeWeights = scenario.events.map {
            running += $0.weight / total
            return running
        }
        random = SplitMix64(seed: scenario.seed)
        buffer.reserveCapacity(4096)
    }

    package var typeNames: [String] { types }

    /// The next event of the stream.
    package mutating func next() -> LoadEvent {
        let u = random.unit()
        var type = cumulativeWeights.count - 1
        for (index, limit) in cumulativeWeights.enumerated() where u < limit {
            type = index
            break
        }
        return next(type: type)
    }

    /// The next event of type `type` (an index into the scenario's `events`).
    package mutating func next(type: Int) -> LoadEvent {
        sequence += 1
        var poolKey = ""
        if let pool = poolOf[type] { poolKey = pools[pool].key(pools[pool].draw(&random)) }
        let captured = render(type)
        let key = strategies[type].key(for: RenderedFields(captured: captured, poolKey: poolKey))
        return LoadEvent(type: type, data: Data(buffer), partitionKey: key.key, explicitHashKey: key.explicitHashKey)
    }

    /// Renders template `type` into `buffer`; returns the captured members' text.
    mutating func render(_ type: Int) -> [String] {
        let template = templates[type]
        buffer.removeAll(keepingCapacity: true)
        var captured = [String](repeating: "", count: template.captures.count)
        var starts = [Int](repeating: 0, count: template.captures.count)
        for piece in template.pieces {
            switch piece {
            case .literal(let bytes): buffer.append(contentsOf: bytes)
            case .generate(let generator): generate(generator, type: type)
            case .beginCapture(let index): starts[index] = buffer.count
            case .endCapture(let index):
                var slice = buffer[starts[index]..<buffer.count]
                if slice.count >= 2, slice.first == 0x22, slice.last == 0x22 { slice = slice.dropFirst().dropLast() }
                captured[index] = String(decoding: slice, as: UTF8.self)
            }
        }
        if let size = template.size, buffer.count < size {
            let member: [UInt8] = Array((template.isEmptyObject ? "\"_pad\":\"" : ",\"_pad\":\"").utf8)
            let padding = size - buffer.count - member.count - 1
            if padding >= 0 {
                buffer.removeLast()
                buffer.append(contentsOf: member)
                appendFiller(padding)
                buffer.append(contentsOf: [0x22, 0x7D])
            }
        }
        return captured
    }

    static let base36Digits = Array("0123456789abcdefghijklmnopqrstuvwxyz".utf8)

    private mutating func appendFiller(_ count: Int) {
        var left = count
        while left > 0 {
            let start = Int(random.next() % UInt64(Self.filler.count / 2))
            let take = min(left, Self.filler.count - start)
            buffer.append(contentsOf: Self.filler[start..<(start + take)])
            left -= take
        }
    }

    private mutating func generate(_ generator: Template.Generator, type: Int) {
        switch generator {
        case .uuid:
            let high = random.next(), low = random.next()
            var bytes = [UInt8](repeating: 0, count: 16)
            for i in 0..<8 {
                bytes[i] = UInt8(truncatingIfNeeded: high >> (8 * UInt64(i)))
                bytes[8 + i] = UInt8(truncatingIfNeeded: low >> (8 * UInt64(i)))
            }
            bytes[6] = (bytes[6] & 0x0F) | 0x40
            bytes[8] = (bytes[8] & 0x3F) | 0x80
            let hex: [UInt8] = Array("0123456789abcdef".utf8)
            for (index, byte) in bytes.enumerated() {
                if index == 4 || index == 6 || index == 8 || index == 10 { buffer.append(0x2D) }
                buffer.append(hex[Int(byte >> 4)])
                buffer.append(hex[Int(byte & 0x0F)])
            }
        case .sequence: appendInteger(sequence)
        case .int(let low, let high):
            let span = UInt64(bitPattern: high &- low) &+ 1
            appendInteger(span == 0 ? Int64(bitPattern: random.next()) : low &+ Int64(bitPattern: random.next() % span))
        case .float(let low, let high, let decimals):
            appendDecimal(low + random.unit() * (high - low), decimals: decimals)
        case .pick(let values): buffer.append(contentsOf: values[Int(random.next() % UInt64(values.count))])
        case .bool: buffer.append(contentsOf: random.next() & 1 == 0 ? Array("false".utf8) : Array("true".utf8))
        case .now: buffer.append(contentsOf: clockCache.iso8601())
        case .epochMillis: appendInteger(Int64(Date().timeIntervalSince1970 * 1000))
        case .key(let pool):
            buffer.append(contentsOf: pools[pool].prefix)
            appendInteger(Int64(pools[pool].draw(&random)))
        case .text(let count): appendFiller(count)
        case .bytes(let count):
            var raw = [UInt8](repeating: 0, count: count)
            for index in raw.indices { raw[index] = UInt8(truncatingIfNeeded: random.next()) }
            buffer.append(contentsOf: Data(raw).base64EncodedData())
        case .base36(let count):
            for _ in 0..<count { buffer.append(Self.base36Digits[Int(random.next() % 36)]) }
        case .type: buffer.append(contentsOf: Template.escaped(types[type]).dropFirst().dropLast())
        }
    }

    /// Decimal digits written in place: no temporary array per number.
    private mutating func appendInteger(_ value: Int64) {
        if value < 0 { buffer.append(0x2D) }
        var magnitude = value.magnitude
        var digits = 1
        var scale: UInt64 = 10
        while digits < 20, magnitude >= scale {
            digits += 1
            if scale > UInt64.max / 10 { break }
            scale *= 10
        }
        let end = buffer.count + digits
        buffer.append(contentsOf: repeatElement(0x30, count: digits))
        var index = end - 1
        repeat {
            buffer[index] = UInt8(48 + magnitude % 10)
            magnitude /= 10
            index -= 1
        } while magnitude > 0
    }

    private mutating func appendDecimal(_ value: Double, decimals: Int) {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let scaled = Int64((abs(value) * scale).rounded())
        if value < 0, scaled != 0 { buffer.append(0x2D) }
        let whole = scaled / Int64(scale)
        appendInteger(whole)
        guard decimals > 0 else { return }
        buffer.append(0x2E)
        var fraction = scaled % Int64(scale)
        var digits = [UInt8](repeating: 0x30, count: decimals)
        for index in stride(from: decimals - 1, through: 0, by: -1) {
            digits[index] = UInt8(48 + fraction % 10)
            fraction /= 10
        }
        buffer.append(contentsOf: digits)
    }
}

/// ISO 8601 with milliseconds, the date part recomputed once a second.
private struct ClockCache: Sendable {
    var second: Int = -1
    var prefix: [UInt8] = []

    mutating func iso8601() -> [UInt8] {
        let now = Date().timeIntervalSince1970
        let whole = Int(now)
        if whole != second {
            second = whole
            var time = time_t(whole)
            var parts = tm()
            gmtime_r(&time, &parts)
            prefix = Array(
                String(
                    format: "%04d-%02d-%02dT%02d:%02d:%02d.", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                    Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec)
                ).utf8)
        }
        let millis = min(999, Int((now - Double(whole)) * 1000))
        return prefix + [UInt8(48 + millis / 100), UInt8(48 + (millis / 10) % 10), UInt8(48 + millis % 10), 0x5A]
    }
}
