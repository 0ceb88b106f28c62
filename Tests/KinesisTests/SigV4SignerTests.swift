import Foundation
import Testing

@testable import Kinesis

struct SuiteFile: Decodable {
    struct Vector: Decodable {
        var name: String
        var method: String
        var path: String
        var query: [[String]]
        var headers: [[String]]
        var body: String
        var token: Bool
        var authorization: String
    }
    var accessKeyId: String
    var secretAccessKey: String
    var sessionToken: String
    var region: String
    var service: String
    var epochSeconds: Double
    var vectors: [Vector]
}

struct BotocoreFile: Decodable {
    struct Vector: Decodable {
        var operation: String
        var region: String
        var url: String
        var body: String
        var headers: [[String]]
        var accessKeyId: String
        var secretAccessKey: String
        var sessionToken: String?
        var epochSeconds: Double
        var authorization: String
    }
    var botocore: String
    var vectors: [Vector]
}

@Suite("SigV4 signing")
struct SigV4SignerTests {
    static let suite = try! loadFixture("sigv4-suite.json", as: SuiteFile.self)
    /// The tracked vectors, or those scripts/test.sh just generated with the installed botocore
    /// (BOTOCORE_SIGV4_VECTORS names that file, so CI never rewrites the tracked one).
    static let botocore: BotocoreFile = {
        if let path = ProcessInfo.processInfo.environment["BOTOCORE_SIGV4_VECTORS"] {
            return try! JSONDecoder().decode(BotocoreFile.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        }
        return try! loadFixture("botocore-sigv4.json", as: BotocoreFile.self)
    }()

    @Test("matches AWS's published SigV4 test-suite vectors", arguments: suite.vectors.map(\.name))
    func awsTestSuite(name: String) throws {
        let file = Self.suite
        let vector = try #require(file.vectors.first { $0.name == name })
        let signer = SigV4Signer(service: file.service, region: file.region)
        let credentials = AWSCredentials(
            accessKeyId: file.accessKeyId, secretAccessKey: file.secretAccessKey,
            sessionToken: vector.token ? file.sessionToken : nil)
        let signed = signer.sign(
            method: vector.method, path: vector.path, query: vector.query.map { ($0[0], $0[1]) },
            headers: vector.headers.map { ($0[0], $0[1]) }, body: Array(vector.body.utf8),
            credentials: credentials, date: Date(timeIntervalSince1970: file.epochSeconds))
        #expect(signed.authorization == vector.authorization)
    }

    @Test("gives the same Authorization header as botocore on generated Kinesis requests")
    func botocoreCrossCheck() throws {
        let file = Self.botocore
        #expect(file.vectors.count >= 20)
        for vector in file.vectors {
            let url = try #require(URL(string: vector.url))
            let signer = SigV4Signer(service: "kinesis", region: vector.region)
            let headers = [("Host", HTTPKinesisClient.hostHeader(for: url))] + vector.headers.map { ($0[0], $0[1]) }
            let signed = signer.sign(
                method: "POST", path: url.path.isEmpty ? "/" : url.path, headers: headers,
                body: Array(vector.body.utf8),
                credentials: AWSCredentials(
                    accessKeyId: vector.accessKeyId, secretAccessKey: vector.secretAccessKey,
                    sessionToken: vector.sessionToken),
                date: Date(timeIntervalSince1970: vector.epochSeconds))
            #expect(
                signed.authorization == vector.authorization,
                "\(vector.operation) to \(vector.url) in \(vector.region) (botocore \(file.botocore))")
        }
    }

    @Test("derives the signing key once per day and region")
    func signingKeyCache() {
        let signer = SigV4Signer(service: "kinesis", region: "us-east-1")
        let credentials = AWSCredentials(accessKeyId: "AKID", secretAccessKey: "secret")
        let day = Date(timeIntervalSince1970: 1_795_919_070)
        for offset in 0..<50 {
            _ = signer.sign(
                method: "POST", path: "/", headers: [("Host", "h")], body: [UInt8](),
                credentials: credentials, date: day.addingTimeInterval(Double(offset)))
        }
        #expect(signer.derivedKeyCount == 1)
        _ = signer.sign(
            method: "POST", path: "/", headers: [("Host", "h")], body: [UInt8](), credentials: credentials,
            date: day.addingTimeInterval(86_400))
        #expect(signer.derivedKeyCount == 2)
    }

    @Test(
        "formats X-Amz-Date in UTC",
        arguments: [
            (0.0, "19700101T000000Z"), (1_440_938_160, "20150830T123600Z"), (951_782_400, "20000229T000000Z"),
            (4_102_444_799.9, "20991231T235959Z"),
        ])
    func amzDate(epoch: Double, expected: String) {
        #expect(SigV4Signer.amzDate(Date(timeIntervalSince1970: epoch)) == expected)
    }
}
