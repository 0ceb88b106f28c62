import Foundation
import Kinesis
import KinesisEngine

/// One thing wrong with a scenario: where (a JSON path such as `$.load.stages[1].duration`)
/// and what was expected.
public struct ScenarioProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public var path: String
    public var message: String
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { "\(path): \(message)" }

    static func child(_ path: String, _ key: String) -> String {
        key.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } && !key.isEmpty ? "\(path).\(key)" : "\(path)[\"\(key)\"]"
    }
}

/// Every problem of a scenario, so that one `validate` lists them all.
public struct ScenarioErrors: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var problems: [ScenarioProblem]
    public var description: String {
        "\(file): \(problems.count) problem\(problems.count == 1 ? "" : "s")\n" + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}

extension Scenario {
    /// Reads and checks a scenario file.
    public static func load(path: String) throws(ScenarioErrors) -> Scenario {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ScenarioErrors(file: path, problems: [ScenarioProblem(path: "$", message: "cannot read the file")])
        }
        return try parse(data, file: path)
    }

    /// Decodes and checks a scenario; throws every problem found, each with its JSON path.
    public static func parse(_ data: Data, file: String = "scenario") throws(ScenarioErrors) -> Scenario {
        let root: JSONValue
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw ScenarioErrors(file: file, problems: [ScenarioProblem(path: "$", message: "not valid JSON: \(Self.syntaxMessage(data))")])
        }
        var reader = ScenarioReader()
        let scenario = reader.scenario(root, source: String(decoding: data, as: UTF8.self))
        guard let scenario, reader.problems.isEmpty else {
            throw ScenarioErrors(file: file, problems: reader.problems)
        }
        return scenario
    }

    /// JSONDecoder does not say where the syntax broke; JSONSerialization does, by character
    /// offset, which is turned into a line and column here (only on this failure path).
    private static func syntaxMessage(_ data: Data) -> String {
        do {
            _ = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            return "the document is not a JSON value"
        } catch {
            var message = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? "\(error)"
            if let range = message.range(of: "around character "),
                let offset = Int(message[range.upperBound...].prefix { $0.isNumber })
            {
                let prefix = String(decoding: data.prefix(offset), as: UTF8.self)
                let line = prefix.filter { $0 == "\n" }.count + 1
                let column = prefix.count - (prefix.lastIndex(of: "\n").map { prefix.distance(from: prefix.startIndex, to: $0) + 1 } ?? 0) + 1
                message += " (line \(line), column \(column))"
            }
            return message
        }
    }
}

/// Walks the parsed JSON, collecting problems instead of stopping at the first.
struct ScenarioReader {
    var problems: [ScenarioProblem] = []

    mutating func fail(_ path: String, _ message: String) { problems.append(ScenarioProblem(path: path, message: message)) }

    /// The members of an object, after reporting unknown keys (with a suggestion) and missing required ones.
    mutating func object(_ value: JSONValue?, _ path: String, allowed: [String], required: [String] = []) -> [String: JSONValue]? {
        guard let value else { return nil }
        guard case .object(let members) = value else {
            fail(path, "expected an object, got \(describe(value))")
            return nil
        }
        for key in members.keys.sorted() where !allowed.contains(key) {
            let hint = Suggest.hint(for: key, in: allowed)
            fail(ScenarioProblem.child(path, key), "unknown key \"\(key)\"\(hint) (allowed here: \(allowed.joined(separator: ", ")))")
        }
        for key in required where members[key] == nil {
            fail(ScenarioProblem.child(path, key), "required, missing")
        }
        return members
    }

    func describe(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let flag): "\(flag)"
        case .number(let number): Template.formatNumber(number)
        case .string(let text): "\"\(text)\""
        case .array: "an array"
        case .object: "an object"
        }
    }

    mutating func string(_ value: JSONValue?, _ path: String, nonEmpty: Bool = true) -> String? {
        guard let value else { return nil }
        guard case .string(let text) = value else {
            fail(path, "expected a string, got \(describe(value))")
            return nil
        }
        if nonEmpty, text.isEmpty {
            fail(path, "expected a non-empty string")
            return nil
        }
        return text
    }

    mutating func number(_ value: JSONValue?, _ path: String, in range: ClosedRange<Double>, what: String = "a number") -> Double? {
        guard let value else { return nil }
        guard case .number(let number) = value, range.contains(number) else {
            fail(path, "expected \(what) from \(Template.formatNumber(range.lowerBound)) to \(Template.formatNumber(range.upperBound)), got \(describe(value))")
            return nil
        }
        return number
    }

    mutating func integer(_ value: JSONValue?, _ path: String, in range: ClosedRange<Int>) -> Int? {
        guard let value else { return nil }
        guard case .number(let number) = value, number == number.rounded(), number >= Double(range.lowerBound),
            number <= Double(range.upperBound)
        else {
            fail(path, "expected a whole number from \(range.lowerBound) to \(range.upperBound), got \(describe(value))")
            return nil
        }
        return Int(number)
    }

    mutating func bool(_ value: JSONValue?, _ path: String) -> Bool? {
        guard let value else { return nil }
        guard case .bool(let flag) = value else {
            fail(path, "expected true or false, got \(describe(value))")
            return nil
        }
        return flag
    }

    mutating func duration(_ value: JSONValue?, _ path: String, positive: Bool = true) -> Duration? {
        guard let value else { return nil }
        guard case .string(let text) = value, let duration = DurationText.parse(text), !positive || duration > .zero else {
            fail(path, "expected a\(positive ? " positive" : "") duration such as \"500ms\", \"30s\", \"2m\" or \"1m30s\", got \(describe(value))")
            return nil
        }
        return duration
    }

    mutating func oneOf(_ value: JSONValue?, _ path: String, _ choices: [String]) -> String? {
        guard let text = string(value, path) else { return nil }
        guard choices.contains(text) else {
            let hint = Suggest.hint(for: text, in: choices)
            fail(path, "expected one of \(choices.map { "\"\($0)\"" }.joined(separator: ", ")), got \"\(text)\"\(hint)")
            return nil
        }
        return text
    }

    // MARK: - The scenario

    mutating func scenario(_ root: JSONValue, source: String) -> Scenario? {
        let keys = ["$schema", "name", "description", "seed", "stream", "load", "publisher", "keys", "events", "thresholds", "sampling"]
        guard let top = object(root, "$", allowed: keys, required: ["name", "stream", "load", "events"]) else { return nil }
        let name = string(top["name"], "$.name")
        if let name, !name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) {
            fail("$.name", "use letters, digits, '-', '_' and '.' only (it names the report folder), got \"\(name)\"")
        }
        let description = string(top["description"], "$.description", nonEmpty: false)
        let seed = integer(top["seed"], "$.seed", in: 0...Int.max).map(UInt64.init) ?? 1
        let stream = streamSpec(top["stream"])
        let load = loadSpec(top["load"])
        let publisher = publisherSpec(top["publisher"])
        let pools = keyPools(top["keys"])
        var declaredPools: [String] = []
        if case .object(let members)? = top["keys"] { declaredPools = members.keys.sorted() }
        let events = eventSpecs(top["events"], pools: declaredPools)
        let thresholds = thresholdSpecs(top["thresholds"])
        var samples = 0
        if let sampling = object(top["sampling"], "$.sampling", allowed: ["records"]) {
            samples = integer(sampling["records"], "$.sampling.records", in: 0...10_000) ?? 0
        }
        guard let name, let stream, let load, let publisher, let events else { return nil }
        return Scenario(
            name: name, description: description, seed: seed, stream: stream, load: load, publisher: publisher,
            keyPools: pools ?? [:], events: events, thresholds: thresholds, sampledRecordsPerType: samples, source: source)
    }

    mutating func streamSpec(_ value: JSONValue?) -> Scenario.StreamSpec? {
        guard let members = object(value, "$.stream", allowed: ["name", "shards", "onDemand", "create"], required: ["name"]) else { return nil }
        let name = string(members["name"], "$.stream.name")
        if let name, !ServiceLimits.isValidStreamName(name) {
            fail("$.stream.name", "expected 1 to 128 characters from a-z, A-Z, 0-9, '_', '.' and '-', got \"\(name)\"")
        }
        let onDemand = bool(members["onDemand"], "$.stream.onDemand") ?? false
        let shards = integer(members["shards"], "$.stream.shards", in: ServiceLimits.shardCount)
        if onDemand, shards != nil { fail("$.stream.shards", "an on-demand stream has no shard count; remove \"shards\" or \"onDemand\"") }
        if !onDemand, members["shards"] == nil { fail("$.stream.shards", "required unless \"onDemand\" is true") }
        let create = bool(members["create"], "$.stream.create") ?? true
        guard let name, onDemand || shards != nil else { return nil }
        return Scenario.StreamSpec(name: name, shards: onDemand ? nil : shards, create: create)
    }

    mutating func loadSpec(_ value: JSONValue?) -> Scenario.LoadSpec? {
        let allowed = ["executor", "rate", "duration", "startRate", "stages", "events", "arrivals", "maxInFlight"]
        guard let members = object(value, "$.load", allowed: allowed, required: ["executor"]) else { return nil }
        let executors = ["constant-arrival-rate", "ramping-arrival-rate", "fixed-events"]
        let kind = oneOf(members["executor"], "$.load.executor", executors)
        let poisson = (oneOf(members["arrivals"], "$.load.arrivals", ["uniform", "poisson"]) ?? "uniform") == "poisson"
        let maxInFlight = integer(members["maxInFlight"], "$.load.maxInFlight", in: 1...10_000_000) ?? 100_000
        let rateRange = 0.001...10_000_000.0
        func unexpected(_ keys: [String], for executor: String) {
            for key in keys where members[key] != nil {
                fail(ScenarioProblem.child("$.load", key), "\"\(key)\" does not apply to \(executor)")
            }
        }
        var executor: Scenario.Executor?
        switch kind {
        case "constant-arrival-rate":
            unexpected(["startRate", "stages", "events"], for: "constant-arrival-rate")
            if members["rate"] == nil { fail("$.load.rate", "required, missing (events per second)") }
            if members["duration"] == nil { fail("$.load.duration", "required, missing (such as \"30s\")") }
            let rate = number(members["rate"], "$.load.rate", in: rateRange, what: "events per second")
            let duration = duration(members["duration"], "$.load.duration")
            if let rate, let duration { executor = .constantArrivalRate(rate: rate, duration: duration) }
        case "ramping-arrival-rate":
            unexpected(["rate", "duration", "events"], for: "ramping-arrival-rate")
            let start = number(members["startRate"], "$.load.startRate", in: 0...10_000_000, what: "events per second") ?? 0
            var stages: [Scenario.Stage] = []
            var stagesOK = true
            if case .array(let items)? = members["stages"], !items.isEmpty {
                for (index, item) in items.enumerated() {
                    let path = "$.load.stages[\(index)]"
                    guard let stage = object(item, path, allowed: ["target", "duration"], required: ["target", "duration"]) else {
                        stagesOK = false
                        continue
                    }
                    let target = number(stage["target"], "\(path).target", in: 0...10_000_000, what: "events per second")
                    let duration = duration(stage["duration"], "\(path).duration")
                    if let target, let duration { stages.append(.init(target: target, duration: duration)) } else { stagesOK = false }
                }
            } else {
                fail("$.load.stages", "required: a non-empty array of {\"target\": events per second, \"duration\": \"30s\"}")
                stagesOK = false
            }
            if stagesOK, stages.allSatisfy({ $0.target == 0 }), start == 0 {
                fail("$.load.stages", "every stage targets 0 events per second: nothing would be sent")
                stagesOK = false
            }
            if stagesOK { executor = .rampingArrivalRate(startRate: start, stages: stages) }
        case "fixed-events":
            unexpected(["startRate", "stages", "duration"], for: "fixed-events")
            if members["events"] == nil { fail("$.load.events", "required, missing (how many events)") }
            let count = integer(members["events"], "$.load.events", in: 1...1_000_000_000)
            let rate = number(members["rate"], "$.load.rate", in: rateRange, what: "events per second")
            if poisson, rate == nil { fail("$.load.arrivals", "poisson arrivals need a \"rate\"") }
            if let count { executor = .fixedEvents(count: count, rate: rate) }
        default: break
        }
        guard let executor else { return nil }
        return Scenario.LoadSpec(executor: executor, poisson: poisson, maxInFlight: maxInFlight)
    }

    mutating func publisherSpec(_ value: JSONValue?) -> Scenario.PublisherSpec? {
        var spec = Scenario.PublisherSpec(
            mode: .aggregated, maxBufferedTime: .milliseconds(100), batchSize: 500, rateLimitPercent: 150, maxConcurrentRequests: 8,
            recordTTL: .seconds(30))
        guard let value else { return spec }
        let allowed = ["mode", "maxBufferedTime", "batchSize", "rateLimitPercent", "maxConcurrentRequests", "recordTTL"]
        guard let members = object(value, "$.publisher", allowed: allowed) else { return nil }
        if let mode = oneOf(members["mode"], "$.publisher.mode", Scenario.PublisherMode.allCases.map(\.rawValue)) {
            spec.mode = Scenario.PublisherMode(rawValue: mode)!
        }
        if let time = duration(members["maxBufferedTime"], "$.publisher.maxBufferedTime") { spec.maxBufferedTime = time }
        if let size = integer(members["batchSize"], "$.publisher.batchSize", in: 1...500) { spec.batchSize = size }
        if members["rateLimitPercent"] == .null {
            spec.rateLimitPercent = nil
        } else if let percent = number(members["rateLimitPercent"], "$.publisher.rateLimitPercent", in: 1...10_000, what: "a percentage") {
            spec.rateLimitPercent = percent
        }
        if let count = integer(members["maxConcurrentRequests"], "$.publisher.maxConcurrentRequests", in: 1...1024) { spec.maxConcurrentRequests = count }
        if let ttl = duration(members["recordTTL"], "$.publisher.recordTTL") { spec.recordTTL = ttl }
        return spec
    }

    mutating func keyPools(_ value: JSONValue?) -> [String: Scenario.KeyPoolSpec]? {
        guard case .object(let members)? = value else {
            if let value { fail("$.keys", "expected an object of key pools, got \(describe(value))") }
            return nil
        }
        var pools: [String: Scenario.KeyPoolSpec] = [:]
        for name in members.keys.sorted() {
            let path = ScenarioProblem.child("$.keys", name)
            guard let pool = object(members[name], path, allowed: ["count", "distribution", "exponent", "prefix"], required: ["count"]) else {
                continue
            }
            let count = integer(pool["count"], "\(path).count", in: 1...5_000_000)
            let kind = oneOf(pool["distribution"], "\(path).distribution", ["uniform", "zipf"]) ?? "uniform"
            let exponent = number(pool["exponent"], "\(path).exponent", in: 0.01...10, what: "a Zipf exponent") ?? 1.0
            if kind == "uniform", pool["exponent"] != nil { fail("\(path).exponent", "only a \"zipf\" distribution takes an exponent") }
            let prefix = string(pool["prefix"], "\(path).prefix", nonEmpty: false) ?? "\(name)-"
            if let count {
                pools[name] = .init(count: count, distribution: kind == "zipf" ? .zipf(exponent: exponent) : .uniform, prefix: prefix)
            }
        }
        return pools
    }

    /// - Parameter pools: every pool the scenario declares, valid or not, so that a bad pool
    ///   is reported once (at its own path) rather than again at each use.
    mutating func eventSpecs(_ value: JSONValue?, pools poolNames: [String]) -> [Scenario.EventSpec]? {
        guard let value else { return nil }
        guard case .array(let items) = value, !items.isEmpty else {
            fail("$.events", "expected a non-empty array of event types")
            return nil
        }
        var events: [Scenario.EventSpec] = []
        var seen: Set<String> = []
        for (index, item) in items.enumerated() {
            let path = "$.events[\(index)]"
            guard
                let members = object(
                    item, path, allowed: ["type", "weight", "partitionKey", "template", "size"], required: ["type", "partitionKey", "template"])
            else { continue }
            let type = string(members["type"], "\(path).type")
            if let type, !seen.insert(type).inserted { fail("\(path).type", "\"\(type)\" is already the type of an earlier event") }
            let weight = number(members["weight"], "\(path).weight", in: 0...1_000_000, what: "a weight") ?? 1
            let strategy = keyStrategy(members["partitionKey"], "\(path).partitionKey", pools: poolNames)
            let size = integer(members["size"], "\(path).size", in: 1...1_048_576)
            guard let type, let strategy, let template = members["template"] else { continue }
            var captures: [String] = []
            switch strategy {
            case .field(let member), .entity(_, let member), .hash(let member, _): captures = [member]
            case .composite(let members, _): captures = members
            default: break
            }
            _ = Template.compile(
                template, path: "\(path).template", eventType: type, pools: poolNames, capturePaths: captures, size: size, problems: &problems)
            events.append(Scenario.EventSpec(type: type, weight: weight, partitionKey: strategy, template: template, size: size))
        }
        if !events.isEmpty, events.allSatisfy({ $0.weight == 0 }) { fail("$.events", "every event has weight 0: nothing would be sent") }
        return events.count == items.count ? events : nil
    }

    mutating func keyStrategy(_ value: JSONValue?, _ path: String, pools: [String]) -> Scenario.KeyStrategySpec? {
        let strategies = ["field", "entity", "composite", "hash", "timeWindow", "random", "roundRobin", "constant", "key"]
        let allowed = ["strategy", "field", "fields", "separator", "entityType", "buckets", "window", "keys", "shards", "value", "pool"]
        guard let members = object(value, path, allowed: allowed, required: ["strategy"]) else { return nil }
        guard let strategy = oneOf(members["strategy"], "\(path).strategy", strategies) else { return nil }
        let uses: [String: [String]] = [
            "field": ["field"], "entity": ["field", "entityType"], "composite": ["fields", "separator"], "hash": ["field", "buckets"],
            "timeWindow": ["window"], "random": ["keys"], "roundRobin": ["keys", "shards"], "constant": ["value"], "key": ["pool"],
        ]
        for key in members.keys.sorted() where key != "strategy" && !(uses[strategy] ?? []).contains(key) {
            fail(ScenarioProblem.child(path, key), "\"\(key)\" does not apply to the \"\(strategy)\" strategy (it takes: \((uses[strategy] ?? []).joined(separator: ", ")))")
        }
        func need(_ key: String, _ what: String) {
            if members[key] == nil { fail("\(path).\(key)", "required by the \"\(strategy)\" strategy: \(what)") }
        }
        switch strategy {
        case "field":
            need("field", "the template member whose value is the key, such as \"orderId\" or \"user.id\"")
            return string(members["field"], "\(path).field").map { .field(path: $0) }
        case "entity":
            need("field", "the template member holding the entity id")
            let type = string(members["entityType"], "\(path).entityType") ?? "entity"
            return string(members["field"], "\(path).field").map { .entity(type: type, path: $0) }
        case "composite":
            need("fields", "an array of template members, joined in order")
            let separator = string(members["separator"], "\(path).separator", nonEmpty: false) ?? "_"
            guard case .array(let items)? = members["fields"] else {
                if members["fields"] != nil { fail("\(path).fields", "expected an array of member names") }
                return nil
            }
            let fields = items.enumerated().compactMap { string($0.element, "\(path).fields[\($0.offset)]") }
            guard fields.count == items.count, !fields.isEmpty else {
                if items.isEmpty { fail("\(path).fields", "expected at least one member name") }
                return nil
            }
            return .composite(paths: fields, separator: separator)
        case "hash":
            need("field", "the template member to hash")
            need("buckets", "how many distinct keys")
            let buckets = integer(members["buckets"], "\(path).buckets", in: 1...1_000_000)
            guard let field = string(members["field"], "\(path).field"), let buckets else { return nil }
            return .hash(path: field, buckets: buckets)
        case "timeWindow":
            need("window", "the window, such as \"1m\"")
            return duration(members["window"], "\(path).window").map { .timeWindow($0) }
        case "random":
            return .random(keys: integer(members["keys"], "\(path).keys", in: 1...100_000_000))
        case "roundRobin":
            let shards = bool(members["shards"], "\(path).shards") ?? false
            if shards {
                if members["keys"] != nil { fail("\(path).keys", "give \"keys\" or \"shards\": true, not both") }
                return .roundRobinShards
            }
            need("keys", "how many keys to rotate through (or \"shards\": true for every shard in turn)")
            return integer(members["keys"], "\(path).keys", in: 1...1_000_000).map { .roundRobin(keys: $0) }
        case "constant":
            need("value", "the one key")
            return string(members["value"], "\(path).value").map { .constant($0) }
        case "key":
            need("pool", "a key pool named in \"keys\"")
            guard let pool = string(members["pool"], "\(path).pool") else { return nil }
            guard pools.contains(pool) else {
                let hint = Suggest.hint(for: pool, in: pools)
                fail("\(path).pool", "no key pool \"\(pool)\" in \"keys\"\(hint)")
                return nil
            }
            return .pool(pool)
        default: return nil
        }
    }

    mutating func thresholdSpecs(_ value: JSONValue?) -> [Threshold] {
        guard let value else { return [] }
        guard case .object(let members) = value else {
            fail("$.thresholds", "expected an object such as {\"latency.p99\": \"< 200ms\"}, got \(describe(value))")
            return []
        }
        var thresholds: [Threshold] = []
        for metric in members.keys.sorted() {
            let path = ScenarioProblem.child("$.thresholds", metric)
            var expressions: [(String, String)] = []
            switch members[metric]! {
            case .string(let text): expressions = [(text, path)]
            case .array(let items):
                for (index, item) in items.enumerated() {
                    if let text = string(item, "\(path)[\(index)]") { expressions.append((text, "\(path)[\(index)]")) }
                }
            default: fail(path, "expected a condition such as \"< 200ms\" or an array of them")
            }
            for (text, where_) in expressions {
                do {
                    thresholds.append(try Threshold.parse(metric: metric, expression: text))
                } catch {
                    fail(where_, error.message)
                }
            }
        }
        return thresholds
    }
}
