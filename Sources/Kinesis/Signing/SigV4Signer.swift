import Crypto
import Foundation
import Synchronization

/// AWS Signature Version 4 for header-signed requests.
///
/// The signer adds `X-Amz-Date` (and `X-Amz-Security-Token` for temporary credentials),
/// signs every header it is given, and returns the `Authorization` header. The derived
/// signing key is cached per day, region, service and secret, so steady traffic costs one
/// HMAC chain a day instead of four HMACs a request.
///
/// ```swift
/// let signer = SigV4Signer(service: "kinesis", region: "us-east-1")
/// let signed = signer.sign(method: "POST", path: "/", headers: headers, body: body,
///                          credentials: credentials, date: Date())
/// ```
public struct SigV4Signer: Sendable {
    /// The signing name of the service (`kinesis`).
    public let service: String
    /// The region in the credential scope.
    public let region: String
    private let cache: SigningKeyCache

    /// A signer for one service and region.
    public init(service: String, region: String) {
        self.service = service
        self.region = region
        self.cache = SigningKeyCache()
    }

    /// A request's signature and the headers that carry it.
    public struct Signed: Sendable {
        /// The headers given plus `X-Amz-Date`, `X-Amz-Security-Token` (when needed) and `Authorization`.
        public var headers: [(name: String, value: String)]
        /// The `Authorization` header value.
        public var authorization: String
        /// The canonical request, for debugging a signature mismatch.
        public var canonicalRequest: String
        /// The string to sign, for debugging a signature mismatch.
        public var stringToSign: String
        /// The hex signature.
        public var signature: String
    }

    /// Signs a request.
    ///
    /// - Parameters:
    ///   - path: the decoded path, such as `/`.
    ///   - query: decoded query parameters, in any order.
    ///   - headers: the headers to sign; must include `Host` (with the port when it is not the default).
    ///   - body: the payload.
    public func sign(
        method: String, path: String, query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)], body: some Collection<UInt8>,
        credentials: AWSCredentials, date: Date
    ) -> Signed {
        let amzDate = Self.amzDate(date)
        var all = headers.filter { header in
            let lower = header.name.lowercased()
            return lower != "x-amz-date" && lower != "authorization"
                && !(credentials.sessionToken != nil && lower == "x-amz-security-token")
        }
        all.append(("X-Amz-Date", amzDate))
        if let token = credentials.sessionToken { all.append(("X-Amz-Security-Token", token)) }

        let payloadHash = Self.hex(SHA256.hash(data: Array(body)))
        let (canonical, signedHeaders) = Self.canonicalRequest(
            method: method, path: path, query: query, headers: all, payloadHash: payloadHash)
        let dateStamp = String(amzDate.prefix(8))
        let scope = "\(dateStamp)/\(region)/\(service)/aws4_request"
        let stringToSign = "AWS4-HMAC-SHA256\n\(amzDate)\n\(scope)\n"
            + Self.hex(SHA256.hash(data: Array(canonical.utf8)))
        let key = cache.key(dateStamp: dateStamp, region: region, service: service, secret: credentials.secretAccessKey)
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
        let authorization =
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyId)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        all.append(("Authorization", authorization))
        return Signed(
            headers: all, authorization: authorization, canonicalRequest: canonical, stringToSign: stringToSign,
            signature: signature)
    }

    /// The canonical request and the signed-headers list.
    public static func canonicalRequest(
        method: String, path: String, query: [(name: String, value: String)],
        headers: [(name: String, value: String)], payloadHash: String
    ) -> (canonicalRequest: String, signedHeaders: String) {
        var canonicalPath = "/"
        if !path.isEmpty {
            let segments: [String] = path.split(separator: "/", omittingEmptySubsequences: false).map { uriEncode(String($0)) }
            canonicalPath = segments.joined(separator: "/")
        }
        var encodedQuery: [(name: String, value: String)] = query.map { (uriEncode($0.name), uriEncode($0.value)) }
        encodedQuery.sort { left, right in left.name == right.name ? left.value < right.value : left.name < right.name }
        let canonicalQuery = encodedQuery.map { pair in pair.name + "=" + pair.value }.joined(separator: "&")

        var grouped: [String: [String]] = [:]
        for header in headers {
            grouped[header.name.lowercased(), default: []].append(normalizeHeaderValue(header.value))
        }
        let names = grouped.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(grouped[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let canonical = [method.uppercased(), canonicalPath, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash]
            .joined(separator: "\n")
        return (canonical, signedHeaders)
    }

    /// Trims a header value and collapses runs of spaces to one, as SigV4 requires.
    static func normalizeHeaderValue(_ value: String) -> String {
        var result = ""
        var lastWasSpace = false
        for character in value.trimmingCharacters(in: .whitespaces) {
            if character == " " {
                if !lastWasSpace { result.append(" ") }
                lastWasSpace = true
            } else {
                result.append(character)
                lastWasSpace = false
            }
        }
        return result
    }

    /// Percent-encodes everything but the unreserved characters `A-Z a-z 0-9 - _ . ~`.
    public static func uriEncode(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x2D, 0x5F, 0x2E, 0x7E:
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                result += "%"
                result.unicodeScalars.append(Unicode.Scalar(hexDigits[Int(byte >> 4)]))
                result.unicodeScalars.append(Unicode.Scalar(hexDigits[Int(byte & 0x0F)]))
            }
        }
        return result
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)
    private static let lowerHexDigits = Array("0123456789abcdef".utf8)

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        for byte in bytes {
            out.append(lowerHexDigits[Int(byte >> 4)])
            out.append(lowerHexDigits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `YYYYMMDD'T'HHMMSS'Z'` in UTC, without a DateFormatter (slow and not thread-safe everywhere).
    public static func amzDate(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return pad(year, 4) + pad(month, 2) + pad(day, 2) + "T" + pad(secondOfDay / 3600, 2)
            + pad(secondOfDay % 3600 / 60, 2) + pad(secondOfDay % 60, 2) + "Z"
    }

    /// Reads an `X-Amz-Date` value (`YYYYMMDD'T'HHMMSS'Z'`); nil when it is not one.
    public static func parseAmzDate(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        guard bytes.count == 16, bytes[8] == 0x54, bytes[15] == 0x5A else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for byte in bytes[range] {
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int64(byte - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(4..<6), let day = number(6..<8), let hour = number(9..<11),
            let minute = number(11..<13), let second = number(13..<15), (1...12).contains(month), (1...31).contains(day),
            hour < 24, minute < 60, second < 61
        else { return nil }
        // Days from civil (Howard Hinnant's algorithm).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return Date(timeIntervalSince1970: Double(days * 86_400 + hour * 3600 + minute * 60 + second))
    }

    /// How many signing keys were derived (rather than taken from the cache): for tests.
    var derivedKeyCount: Int { cache.derivations }
}

/// Signing keys by day, region, service and secret. A key is valid for one day, so only the
/// newest few are kept.
final class SigningKeyCache: Sendable {
    private struct Entry: Hashable {
        var dateStamp: String
        var region: String
        var service: String
        var secret: String
    }

    private struct State {
        var keys: [Entry: [UInt8]] = [:]
        var derivations = 0
    }

    private let state = Mutex(State())

    var derivations: Int { state.withLock { $0.derivations } }

    func key(dateStamp: String, region: String, service: String, secret: String) -> SymmetricKey {
        let entry = Entry(dateStamp: dateStamp, region: region, service: service, secret: secret)
        if let bytes = state.withLock({ $0.keys[entry] }) { return SymmetricKey(data: bytes) }
        let key = Self.derive(dateStamp: dateStamp, region: region, service: service, secret: secret)
        let bytes = key.withUnsafeBytes { Array($0) }
        state.withLock { state in
            if state.keys.count >= 8 { state.keys.removeAll(keepingCapacity: true) }
            state.keys[entry] = bytes
            state.derivations += 1
        }
        return key
    }

    static func derive(dateStamp: String, region: String, service: String, secret: String) -> SymmetricKey {
        func hmac(_ key: SymmetricKey, _ text: String) -> SymmetricKey {
            SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key))
        }
        let kSecret = SymmetricKey(data: Array(("AWS4" + secret).utf8))
        return hmac(hmac(hmac(hmac(kSecret, dateStamp), region), service), "aws4_request")
    }
}
