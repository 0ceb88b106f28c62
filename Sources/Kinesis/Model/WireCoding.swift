import Foundation

/// The JSON coders for the Kinesis wire format (`application/x-amz-json-1.1`).
///
/// Swift properties are lowerCamelCase; the wire is PascalCase (`StreamName`, `ShardId`): every
/// shape names its keys in `CodingKeys`, which decodes several times faster than a key strategy
/// that rewrites each key. Blobs are base64 (Foundation's default for `Data`) and timestamps are epoch seconds,
/// possibly fractional.
public enum KinesisWire {
    /// Makes an encoder that writes the wire format.
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.dataEncodingStrategy = .base64
        return encoder
    }

    /// Makes a decoder that reads the wire format.
    public static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        decoder.dataDecodingStrategy = .base64
        return decoder
    }

    /// The value of the `X-Amz-Target` header for an operation.
    public static func target(_ operation: String) -> String { AWSService.kinesis.target(operation)! }

    /// The content type of requests and responses.
    public static let contentType = AWSService.kinesis.jsonContentType!
}

/// A response with no members (`{}`), as DeleteStream and SplitShard return.
public struct EmptyResponse: Codable, Sendable, Equatable {
    /// The empty response.
    public init() {}
}
