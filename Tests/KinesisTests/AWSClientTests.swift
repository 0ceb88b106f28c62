import Foundation
import Kinesis
import TestSupport
import Testing

/// The one AWS request path: endpoint resolution, a second service (DynamoDB, JSON 1.0, on
/// moto_server's port) through the same client, and error answers of every protocol read into
/// one error that names the service and the operation.
@Suite("AWS client core")
struct AWSClientTests {
    static let credentials = StaticCredentialProvider(AWSCredentials(accessKeyId: "testing", secretAccessKey: "testing"))

    @Test("endpoints resolve as the SDKs do: configured, AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, then regional")
    func endpointResolution() throws {
        let both = ["AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000", "AWS_ENDPOINT_URL": "http://127.0.0.1:9000"]
        #expect(try AWSService.dynamoDB.endpoint(region: "eu-west-1", environment: both).absoluteString == "http://127.0.0.1:8000")
        #expect(try AWSService.kinesis.endpoint(region: "eu-west-1", environment: both).absoluteString == "http://127.0.0.1:9000")
        let configured = URL(string: "http://localhost:4567")!
        #expect(try AWSService.kinesis.endpoint(region: "eu-west-1", environment: both, configured: configured) == configured)
        #expect(try AWSService.cloudWatch.endpoint(region: "eu-west-1", environment: [:]).absoluteString == "https://monitoring.eu-west-1.amazonaws.com")
        #expect(try AWSService.sso.endpoint(region: "cn-north-1", environment: [:]).absoluteString == "https://portal.sso.cn-north-1.amazonaws.com.cn")
        #expect(throws: ConfigurationError.self) { try AWSService.dynamoDB.endpoint(region: "eu-west-1", environment: ["AWS_ENDPOINT_URL_DYNAMODB": "ftp://x"]) }
        do {
            _ = try AWSService.dynamoDB.endpoint(region: "eu-west-1", environment: ["AWS_ENDPOINT_URL_DYNAMODB": "nonsense"])
            Issue.record("a bad endpoint was accepted")
        } catch {
            #expect("\(error)".contains("AWS_ENDPOINT_URL_DYNAMODB='nonsense'"))
        }
    }

    @Test("a JSON 1.0 service through the same core: DynamoDB on moto_server answers, and its errors name service and operation")
    func dynamoDBThroughTheCore() async throws {
        let endpoint = try await MotoServer.endpoint()
        let client = AWSClient(service: .dynamoDB, region: "us-east-1", endpoint: endpoint, credentials: Self.credentials, retry: .none)
        defer { Task { try await client.shutdown() } }
        let answer = try await client.json("ListTables", body: Array("{}".utf8))
        let tables = try JSONDecoder().decode([String: [String]].self, from: answer.data)
        #expect(tables["TableNames"] != nil)

        let table = "missing-\(UUID().uuidString.prefix(8))"
        do {
            _ = try await client.json("DescribeTable", body: Array(#"{"TableName":"\#(table)"}"#.utf8))
            Issue.record("DescribeTable of a missing table succeeded")
        } catch let error as AWSError {
            #expect(error.code == .resourceNotFound)
            #expect(error.service == "DynamoDB" && error.operation == "DescribeTable" && error.httpStatus == 400)
            #expect(error.description.hasPrefix("DynamoDB DescribeTable failed: ResourceNotFoundException"))
            #expect(!error.isRetryable)
        }
    }

    @Test("the query protocol's XML errors (STS) are read into the same error")
    func queryProtocolErrors() {
        let body = Array(
            """
            <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>\
            <Message>Couldn&apos;t retrieve verification key</Message></Error><RequestId>abc-123</RequestId></ErrorResponse>
            """.utf8)
        let error = AWSError.fromXMLResponse(status: 400, body: body, requestId: nil, operation: "AssumeRoleWithWebIdentity")
        #expect(error.code == "InvalidIdentityToken" && error.message == "Couldn't retrieve verification key" && error.requestId == "abc-123")
        let throttled = AWSError.fromXMLResponse(status: 400, body: Array("<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>".utf8), requestId: nil, operation: "AssumeRole")
        #expect(throttled.code == "Throttling" && throttled.message.isEmpty)
        let unreadable = AWSError.fromXMLResponse(status: 503, body: Array("<html>down</html>".utf8), requestId: nil, operation: "AssumeRole")
        #expect(unreadable.code == .internalFailure && unreadable.message == "<html>down</html>" && unreadable.isRetryable)
    }

    @Test("a refused connection through the core is a ConnectionFailure naming the service, retried by the policy")
    func refusedConnection() async throws {
        let client = AWSClient(
            service: .cloudWatch, region: "us-east-1", endpoint: URL(string: "http://127.0.0.1:9")!, credentials: Self.credentials,
            retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(1)))
        defer { Task { try await client.shutdown() } }
        await #expect {
            _ = try await client.json("ListMetrics", body: Array("{}".utf8))
        } throws: { error in
            guard let error = error as? AWSError else { return false }
            return error.code == .connectionFailure && error.service == "CloudWatch" && error.operation == "ListMetrics" && error.isRetryable
        }
    }
}
