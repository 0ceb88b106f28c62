import Foundation

/// What a Kinesis ARN names: `arn:<partition>:kinesis:<region>:<account>:stream/<name>` and
/// `.../stream/<name>/consumer/<consumer>:<epoch seconds>`.
public struct KinesisARN: Sendable, Hashable {
    /// The region field.
    public var region: String
    /// The 12-digit account field.
    public var account: String
    /// The stream's name.
    public var streamName: String
    /// The consumer's name, for a consumer ARN.
    public var consumerName: String?

    /// Parses `text`; nil when it is not a Kinesis stream or consumer ARN.
    public init?(_ text: String) {
        let fields = text.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard fields.count == 6, fields[0] == "arn", fields[1].hasPrefix("aws"), fields[2] == "kinesis",
            fields[4].count == 12, fields[4].allSatisfy(\.isASCIIDigitCharacter), fields[5].hasPrefix("stream/")
        else { return nil }
        region = String(fields[3])
        account = String(fields[4])
        let resource = fields[5].dropFirst("stream/".count)
        if let slash = resource.firstIndex(of: "/") {
            let rest = resource[slash...]
            guard rest.hasPrefix("/consumer/") else { return nil }
            streamName = String(resource[..<slash])
            let consumer = rest.dropFirst("/consumer/".count)
            consumerName = String(consumer.split(separator: ":", maxSplits: 1).first ?? consumer)
        } else {
            streamName = String(resource)
            consumerName = nil
        }
        guard !streamName.isEmpty, consumerName?.isEmpty != true else { return nil }
    }
}

extension Character {
    var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}
