import Foundation
import Kinesis

/// Checks a request's SigV4 `Authorization` header against one key pair, answering with
/// AWS's error types: MissingAuthenticationTokenException, IncompleteSignatureException,
/// UnrecognizedClientException, InvalidSignatureException.
public struct SignatureVerifier: Sendable {
    /// The one key pair requests must be signed with.
    public let credentials: AWSCredentials

    /// How far a request's `X-Amz-Date` may be from the server's clock, either way: AWS
    /// refuses Kinesis requests signed more than 15 minutes ago (so a captured request cannot
    /// be replayed later) or more than 15 minutes ahead.
    public static let allowedSkew: TimeInterval = 15 * 60

    /// A verifier for `credentials`.
    public init(credentials: AWSCredentials) { self.credentials = credentials }

    /// Checks that a request carries a complete SigV4 signature, in the `Authorization` header
    /// or a presigned query, as AWS does before it looks at the signature itself (so even an
    /// endpoint without `--auth` answers an unsigned request as AWS would). Throws AWS's
    /// MissingAuthenticationTokenException, IncompleteSignatureException or
    /// InvalidSignatureException, in AWS's words.
    public static func checkWellFormed(query: [(name: String, value: String)], headers: [(name: String, value: String)]) throws {
        func header(_ name: String) -> String? {
            headers.first { asciiCaseInsensitiveEquals($0.name, name) }?.value
        }
        let authorization = header("Authorization")
        let presigned = query.contains { $0.name == "X-Amz-Algorithm" }
        if authorization != nil, presigned {
            throw KinesisError(
                code: .invalidSignature,
                message: "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.", httpStatus: 400)
        }
        var message = ""
        if let authorization {
            var parameters: [String: String] = [:]
            let tokens = authorization.split(whereSeparator: { $0 == "," || $0 == " " }).dropFirst()
            for token in tokens {
                let pair = token.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                if pair.count == 2, !pair[1].isEmpty { parameters[String(pair[0])] = String(pair[1]) }
            }
            for name in ["Credential", "Signature", "SignedHeaders"] where parameters[name] == nil {
                message += "Authorization header requires '\(name)' parameter. "
            }
            if header("X-Amz-Date") == nil, header("Date") == nil {
                message += "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
            }
            if !message.isEmpty { message += "Authorization=\(authorization)" }
        } else if presigned {
            let present = Set(query.filter { !$0.value.isEmpty }.map(\.name))
            for name in ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date"]
            where !present.contains(name) {
                message += "AWS query-string parameters must include '\(name)'. "
            }
            if !message.isEmpty { message += "Re-examine the query-string parameters." }
        } else {
            throw KinesisError(code: .missingAuthenticationToken, message: "Missing Authentication Token", httpStatus: 400)
        }
        if !message.isEmpty { throw KinesisError(code: .incompleteSignature, message: message, httpStatus: 400) }
    }

    /// Checks a request's SigV4 signature and its date against `now`; throws the error AWS
    /// would answer with.
    public func verify(
        method: String, path: String, query: [(name: String, value: String)], headers: [(name: String, value: String)],
        body: [UInt8], now: Date = Date()
    ) throws {
        func header(_ name: String) -> String? {
            headers.first { asciiCaseInsensitiveEquals($0.name, name) }?.value
        }
        try Self.checkWellFormed(query: query, headers: headers)
        guard let authorization = header("Authorization") else {
            throw KinesisError(
                code: .invalidSignature,
                message: "Presigned (query-string) signatures are not checked by this endpoint: sign with the Authorization header.",
                httpStatus: 400)
        }
        guard authorization.hasPrefix("AWS4-HMAC-SHA256 ") else {
            throw KinesisError(
                code: .incompleteSignature, message: "Unsupported Authorization Type: only AWS4-HMAC-SHA256 is accepted",
                httpStatus: 400)
        }
        var parameters: [String: String] = [:]
        for part in authorization.dropFirst("AWS4-HMAC-SHA256 ".count).split(separator: ",") {
            let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if pair.count == 2 { parameters[String(pair[0])] = String(pair[1]) }
        }
        let missing = ["Credential", "Signature", "SignedHeaders"].filter { parameters[$0] == nil }
        guard missing.isEmpty, let credential = parameters["Credential"], let signature = parameters["Signature"],
            let signedHeaders = parameters["SignedHeaders"]
        else {
            throw KinesisError(
                code: .incompleteSignature,
                message: missing.map { "Authorization header requires '\($0)' parameter." }.joined(separator: " "),
                httpStatus: 400)
        }
        guard let amzDate = header("X-Amz-Date"), let date = SigV4Signer.parseAmzDate(amzDate) else {
            throw KinesisError(
                code: .incompleteSignature,
                message: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.", httpStatus: 400)
        }
        // AWS's own wording, e.g. "Signature expired: 20260101T000000Z is now earlier than
        // 20260101T001500Z (20260101T003000Z - 15 min.)".
        let minutes = Int(Self.allowedSkew / 60)
        if date < now.addingTimeInterval(-Self.allowedSkew) {
            throw KinesisError(
                code: .invalidSignature,
                message:
                    "Signature expired: \(amzDate) is now earlier than \(SigV4Signer.amzDate(now.addingTimeInterval(-Self.allowedSkew))) (\(SigV4Signer.amzDate(now)) - \(minutes) min.)",
                httpStatus: 400)
        }
        if date > now.addingTimeInterval(Self.allowedSkew) {
            throw KinesisError(
                code: .invalidSignature,
                message:
                    "Signature not yet current: \(amzDate) is still later than \(SigV4Signer.amzDate(now.addingTimeInterval(Self.allowedSkew))) (\(SigV4Signer.amzDate(now)) + \(minutes) min.)",
                httpStatus: 400)
        }
        let scope = credential.split(separator: "/")
        guard scope.count == 5, scope[4] == "aws4_request" else {
            throw KinesisError(
                code: .incompleteSignature, message: "Credential should be scoped to a valid region, not '\(credential)'.",
                httpStatus: 400)
        }
        guard scope[0] == credentials.accessKeyId else {
            throw KinesisError(
                code: .unrecognizedClient, message: "The security token included in the request is invalid.", httpStatus: 400)
        }
        let names = Set(signedHeaders.split(separator: ";").map { $0.lowercased() })
        let signed = headers.filter { names.contains($0.name.lowercased()) }
        let token = names.contains("x-amz-security-token") ? header("X-Amz-Security-Token") : nil
        let signer = SigV4Signer(service: String(scope[3]), region: String(scope[2]))
        let expected = signer.sign(
            method: method, path: path, query: query, headers: signed, body: body,
            credentials: AWSCredentials(
                accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, sessionToken: token),
            date: date)
        guard expected.signature == signature, String(scope[1]) == String(amzDate.prefix(8)) else {
            throw KinesisError(
                code: .invalidSignature,
                message: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
                httpStatus: 400)
        }
    }
}
