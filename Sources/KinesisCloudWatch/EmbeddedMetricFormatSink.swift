import Foundation
import Kinesis

/// CloudWatch Embedded Metric Format: each data point becomes one JSON line (on standard output
/// by default) that CloudWatch Logs turns into a metric, for Lambda and containers whose logs
/// go there. No call to CloudWatch is made, so no credentials are needed for metrics.
///
/// A counter or gauge is its value; a distribution is its values repeated by their counts when
/// that is at most 100 samples (EMF's limit per metric), else its mean, with `<name>.SampleCount`,
/// `.Sum`, `.Minimum` and `.Maximum` beside it so that nothing is lost.
public struct EmbeddedMetricFormatSink: CloudWatchMetricsSink {
    let write: @Sendable (String) -> Void

    /// Lines go to `write` (standard output when not given).
    public init(write: (@Sendable (String) -> Void)? = nil) {
        self.write = write ?? { line in FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
    }

    public func publish(namespace: String, data: [CloudWatchClient.MetricDatum]) async throws {
        for datum in data { write(Self.line(namespace: namespace, datum)) }
    }

    /// One datum as an EMF document.
    static func line(namespace: String, _ datum: CloudWatchClient.MetricDatum) -> String {
        var document: [String: EMFValue] = [:]
        for dimension in datum.dimensions { document[dimension.name] = .string(dimension.value) }
        var metrics: [EMFValue] = [.object(["Name": .string(datum.metricName), "Unit": .string(datum.unit)])]
        if let value = datum.value {
            document[datum.metricName] = .number(value)
        } else if let values = datum.values, let counts = datum.counts, counts.reduce(0, +) <= 100 {
            document[datum.metricName] = .array(zip(values, counts).flatMap { value, count in Array(repeating: EMFValue.number(value), count: Int(count)) })
        } else {
            let set =
                datum.statisticValues
                ?? {
                    let values = datum.values ?? [], counts = datum.counts ?? []
                    let samples = counts.reduce(0, +)
                    return .init(
                        sampleCount: samples, sum: zip(values, counts).reduce(0) { $0 + $1.0 * $1.1 }, minimum: values.min() ?? 0, maximum: values.max() ?? 0)
                }()
            document[datum.metricName] = .number(set.sampleCount > 0 ? set.sum / set.sampleCount : 0)
            for (suffix, value) in [("SampleCount", set.sampleCount), ("Sum", set.sum), ("Minimum", set.minimum), ("Maximum", set.maximum)] {
                let name = "\(datum.metricName).\(suffix)"
                document[name] = .number(value)
                metrics.append(.object(["Name": .string(name), "Unit": .string(suffix == "SampleCount" ? "Count" : datum.unit)]))
            }
        }
        document["_aws"] = .object([
            "Timestamp": .number((datum.timestamp * 1000).rounded()),
            "CloudWatchMetrics": .array([
                .object([
                    "Namespace": .string(namespace), "Dimensions": .array([.array(datum.dimensions.map { .string($0.name) })]),
                    "Metrics": .array(metrics),
                ])
            ]),
        ])
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: (try? encoder.encode(EMFValue.object(document))) ?? Data("{}".utf8), as: UTF8.self)
    }
}

/// A JSON value, written (EMF documents are built, never read).
enum EMFValue: Encodable {
    case string(String)
    case number(Double)
    case array([EMFValue])
    case object([String: EMFValue])

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value):
            if value == value.rounded(), abs(value) < 1e15 { try container.encode(Int64(value)) } else { try container.encode(value) }
        case .array(let values): try container.encode(values)
        case .object(let members): try container.encode(members)
        }
    }
}
