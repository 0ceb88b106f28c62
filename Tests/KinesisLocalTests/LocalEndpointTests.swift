import Foundation
import Kinesis
import KinesisLocal
import KinesisTesting
import Testing

/// What the local endpoint answers to input no SDK would send, and to bad signatures.
@Suite("KinesisLocal endpoint")
struct LocalEndpointTests {
    static func withServer(credentials: AWSCredentials? = nil, maximumRequestBytes: Int = KinesisEndpoint.defaultMaximumRequestBytes,
        _ body: (URL, InMemoryKinesis) async throws -> Void) async throws
    {
        let engine = InMemoryKinesis()
        try await engine.createStream(.init(streamName: "s", shardCount: 1))
        let endpoint = KinesisEndpoint(engine: engine, credentials: credentials, maximumRequestBytes: maximumRequestBytes)
        try await withLocalServer(endpoint) { url in try await body(url, engine) }
    }

    @Test("PutRecord {} lists the three missing members in the service model's order")
    func missingMembers() async throws {
        try await Self.withServer { url, _ in
            let answer = try await rawPost(url, target: "Kinesis_20131202.PutRecord", body: "{}")
            #expect(answer.status == 400)
            #expect(answer.json["__type"] == "ValidationException")
            #expect(
                answer.json["message"]
                    == "3 validation errors detected: Value null at 'streamName' failed to satisfy constraint: Member must not be null; Value null at 'data' failed to satisfy constraint: Member must not be null; Value null at 'partitionKey' failed to satisfy constraint: Member must not be null"
            )
        }
    }

    @Test(
        "wrong JSON types are SerializationException with a capital Message",
        arguments: [
            (#"{"StreamName": true}"#, "class java.lang.Boolean can not be converted to an String"),
            (#"{"StreamName": 5}"#, "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String"),
            (#"{"StreamName": "s", "PartitionKey": "k", "Data": "abc"}"#, "'abc' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3"),
            (#"{"StreamName": "s", "PartitionKey": "k", "Data": "ab*d"}"#, "'ab*d' can not be converted to a Blob: Invalid Base64 character: '*'"),
            (#"{"StreamName": ["s"]}"#, "Start of list found where not expected"),
        ])
    func wrongTypes(body: String, message: String) async throws {
        try await Self.withServer { url, _ in
            let answer = try await rawPost(url, target: "Kinesis_20131202.PutRecord", body: body)
            #expect(answer.status == 400)
            #expect(answer.json["__type"] == "SerializationException")
            #expect(answer.json["Message"] == message)
        }
    }

    @Test("malformed JSON, unknown and missing targets get AWS's error types, never a 500")
    func malformed() async throws {
        try await Self.withServer { url, _ in
            let broken = try await rawPost(url, target: "Kinesis_20131202.PutRecord", body: "{not json")
            #expect(broken.status == 400)
            #expect(broken.json["__type"] == "SerializationException")
            for target in ["Kinesis_20131202.Nope", "DynamoDB_20120810.ListTables", nil] {
                let unknown = try await rawPost(url, target: target, body: "{}")
                #expect(unknown.status == 400)
                #expect(unknown.json["__type"] == "UnknownOperationException")
            }
            for body in ["[]", "null", "\"x\"", "{\"Records\": {}}", String(repeating: "[", count: 10_000)] {
                let answer = try await rawPost(url, target: "Kinesis_20131202.PutRecords", body: body)
                #expect(answer.status == 400, "body \(body.prefix(20))")
            }
        }
    }

    @Test("bodies over the limit get HTTP 413")
    func tooLarge() async throws {
        try await Self.withServer(maximumRequestBytes: 1024) { url, engine in
            let answer = try await rawPost(url, target: "Kinesis_20131202.PutRecord", body: String(repeating: "x", count: 4096))
            #expect(answer.status == 413)
            #expect(engine.snapshot().stream("s")?.records.isEmpty == true)
        }
    }

    @Test("with credentials: unsigned, wrong key, wrong secret and right secret")
    func signatures() async throws {
        try await Self.withServer(credentials: testCredentials) { url, _ in
            let unsigned = try await rawPost(url, target: "Kinesis_20131202.ListStreams", body: "{}")
            #expect(unsigned.json["__type"] == "MissingAuthenticationTokenException")
            #expect(unsigned.json["message"] == "Missing Authentication Token")

            func call(_ credentials: AWSCredentials) async throws -> KinesisError? {
                let client = HTTPKinesisClient(
                    configuration: KinesisConfiguration(endpoint: url, credentials: credentials, retry: .none))
                defer { Task { try? await client.shutdown() } }
                do {
                    _ = try await client.listStreams(.init())
                    return nil
                } catch let error as KinesisError {
                    return error
                }
            }
            #expect(try await call(AWSCredentials(accessKeyId: "OTHER", secretAccessKey: testCredentials.secretAccessKey))?.code == .unrecognizedClient)
            let wrongSecret = try await call(AWSCredentials(accessKeyId: testCredentials.accessKeyId, secretAccessKey: "wrong"))
            #expect(wrongSecret?.code == .invalidSignature)
            #expect(wrongSecret?.message.hasPrefix("The request signature we calculated does not match") == true)
            #expect(try await call(testCredentials) == nil)
            let withToken = AWSCredentials(
                accessKeyId: testCredentials.accessKeyId, secretAccessKey: testCredentials.secretAccessKey, sessionToken: "token")
            #expect(try await call(withToken) == nil)
        }
    }

    @Test("a signature dated more than 15 minutes from the server's clock gets AWS's expired or not-yet-current answer")
    func signatureDates() throws {
        let verifier = SignatureVerifier(credentials: testCredentials)
        let signer = SigV4Signer(service: "kinesis", region: "us-east-1")
        let now = Date(timeIntervalSince1970: 1_795_000_000)
        let body = Array("{}".utf8)
        func verify(signedAt offset: TimeInterval) -> KinesisError? {
            let signed = signer.sign(
                method: "POST", path: "/", headers: [("Host", "127.0.0.1:4567"), ("X-Amz-Target", "Kinesis_20131202.ListStreams")], body: body,
                credentials: testCredentials, date: now.addingTimeInterval(offset))
            do {
                try verifier.verify(method: "POST", path: "/", query: [], headers: signed.headers, body: body, now: now)
                return nil
            } catch {
                return error as? KinesisError
            }
        }
        #expect(verify(signedAt: 0) == nil)
        #expect(verify(signedAt: -14 * 60) == nil)
        #expect(verify(signedAt: 14 * 60) == nil)
        let old = verify(signedAt: -16 * 60)
        #expect(old?.code == .invalidSignature)
        #expect(
            old?.message == "Signature expired: \(SigV4Signer.amzDate(now.addingTimeInterval(-960))) is now earlier than "
                + "\(SigV4Signer.amzDate(now.addingTimeInterval(-900))) (\(SigV4Signer.amzDate(now)) - 15 min.)")
        let future = verify(signedAt: 16 * 60)
        #expect(future?.code == .invalidSignature)
        #expect(future?.message.hasPrefix("Signature not yet current: \(SigV4Signer.amzDate(now.addingTimeInterval(960))) is still later than") == true)
    }
}
