import Foundation
import Kinesis
import KinesisEngine

// `$.keys`: key pools, and the partition key strategy of each event.
extension ScenarioReader {
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
            let exponent = number(pool["exponent"], "\(path).exponent", in: 0.01...10, what: "a Zipf exponent") ?? Scenario.KeyPoolSpec.defaultExponent
            if kind == "uniform", pool["exponent"] != nil { fail("\(path).exponent", "only a \"zipf\" distribution takes an exponent") }
            let prefix = string(pool["prefix"], "\(path).prefix", nonEmpty: false) ?? Scenario.KeyPoolSpec.defaultPrefix(pool: name)
            if let count {
                pools[name] = .init(count: count, distribution: kind == "zipf" ? .zipf(exponent: exponent) : .uniform, prefix: prefix)
            }
        }
        return pools
    }

    /// A non-empty array of template member names (a composite key's `fields`); nil after
    /// reporting what was wrong, or when absent.
    mutating func memberNames(_ value: JSONValue?, _ path: String) -> [String]? {
        guard case .array(let items)? = value else {
            if value != nil { fail(path, "expected an array of member names") }
            return nil
        }
        let names = items.enumerated().compactMap { string($0.element, "\(path)[\($0.offset)]") }
        guard names.count == items.count, !names.isEmpty else {
            if items.isEmpty { fail(path, "expected at least one member name") }
            return nil
        }
        return names
    }

    mutating func keyStrategy(_ value: JSONValue?, _ path: String, pools: [String]) -> Scenario.KeyStrategySpec? {
        let strategies = ["field", "entity", "composite", "hash", "timeWindow", "random", "roundRobin", "constant", "key", "clock"]
        let allowed = [
            "strategy", "style", "field", "fields", "separator", "entityType", "buckets", "window", "keys", "shards", "value", "pool", "prefix",
            "modulo",
        ]
        guard let members = object(value, path, allowed: allowed, required: ["strategy"]) else { return nil }
        guard let strategy = oneOf(members["strategy"], "\(path).strategy", strategies) else { return nil }
        // `"style": "nestjs"`: the NestJS module's key formats, on the strategies it has.
        let nestjs = oneOf(members["style"], "\(path).style", ["toolkit", "nestjs"]) == "nestjs"
        let uses: [String: [String]] =
            nestjs
            ? ["composite": ["fields", "style"], "hash": ["field", "style"], "timeWindow": ["window", "style"], "random": ["keys", "style"],
                "roundRobin": ["keys", "style"]]
            : [
                "field": ["field"], "entity": ["field", "entityType"], "composite": ["fields", "separator", "style"],
                "hash": ["field", "buckets", "style"], "timeWindow": ["window", "style"], "random": ["keys", "style"],
                "roundRobin": ["keys", "shards", "style"], "constant": ["value"], "key": ["pool"], "clock": ["prefix", "modulo"],
            ]
        if nestjs, uses[strategy] == nil {
            fail("\(path).style", "the NestJS module has no \"\(strategy)\" strategy; \"style\": \"nestjs\" applies to \(uses.keys.sorted().joined(separator: ", "))")
            return nil
        }
        for key in members.keys.sorted() where key != "strategy" && !(uses[strategy] ?? []).contains(key) {
            fail(ScenarioProblem.child(path, key), "\"\(key)\" does not apply to the \"\(strategy)\" strategy (it takes: \((uses[strategy] ?? []).joined(separator: ", ")))")
        }
        func need(_ key: String, _ what: String) {
            if members[key] == nil { fail("\(path).\(key)", "required by the \"\(strategy)\" strategy: \(what)") }
        }
        if nestjs {
            switch strategy {
            case "hash":
                need("field", "the template member to hash")
                return string(members["field"], "\(path).field").map { .nestjsHash(path: $0) }
            case "composite":
                need("fields", "an array of template members, joined with _ after composite_")
                return memberNames(members["fields"], "\(path).fields").map { .nestjsComposite(paths: $0) }
            case "timeWindow":
                guard members["window"] != nil else { return .nestjsTimeWindow(milliseconds: 60_000) }
                guard let window = duration(members["window"], "\(path).window") else { return nil }
                let milliseconds = window.wholeNanoseconds / 1_000_000
                guard milliseconds > 0, window.wholeNanoseconds % 1_000_000 == 0 else {
                    fail("\(path).window", "the module counts windows in whole milliseconds, got \(DurationText.format(window))")
                    return nil
                }
                return .nestjsTimeWindow(milliseconds: milliseconds)
            case "random", "roundRobin":
                need("keys", "the shard count the module draws below (its partitionStrategy.shardCount)")
                guard let count = integer(members["keys"], "\(path).keys", in: 1...100_000) else { return nil }
                return strategy == "random" ? .nestjsRandom(shardCount: count) : .nestjsRoundRobin(shardCount: count)
            default: return nil
            }
        }
        switch strategy {
        case "clock":
            need("modulo", "the key is PREFIX followed by the milliseconds since 1970 modulo this, as the module's metrics-${Date.now() % 1000}")
            let prefix = string(members["prefix"], "\(path).prefix", nonEmpty: false) ?? ""
            return integer(members["modulo"], "\(path).modulo", in: 1...1_000_000_000).map { .clock(prefix: prefix, modulo: Int64($0)) }
        case "field":
            need("field", "the template member whose value is the key, such as \"orderId\" or \"user.id\"")
            return string(members["field"], "\(path).field").map { .field(path: $0) }
        case "entity":
            need("field", "the template member holding the entity id")
            let type = string(members["entityType"], "\(path).entityType") ?? "entity"
            return string(members["field"], "\(path).field").map { .entity(type: type, path: $0) }
        case "composite":
            need("fields", "an array of template members, joined in order")
            let separator = string(members["separator"], "\(path).separator", nonEmpty: false) ?? Scenario.KeyStrategySpec.defaultSeparator
            return memberNames(members["fields"], "\(path).fields").map { .composite(paths: $0, separator: separator) }
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
}
