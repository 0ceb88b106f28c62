import Foundation
import Testing

@testable import Kinesis

@Suite("Configuration from the environment")
struct ConfigurationTests {
    /// An environment with HOME in an empty folder, so no real ~/.aws file is read.
    static func environment(_ values: [String: String]) -> [String: String] {
        ["HOME": "/nonexistent-kinesis-toolkit-home"].merging(values) { $1 }
    }

    @Test("reads every variable")
    func readsEverything() throws {
        let configuration = try KinesisConfiguration.fromEnvironment(
            Self.environment([
                "AWS_REGION": "eu-west-1", "KINESIS_STREAM_NAME": "orders", "AWS_PROFILE": "prod",
                "KINESIS_SHARD_COUNT": "4", "KINESIS_RETENTION_PERIOD": "168",
                "AWS_ENDPOINT_URL_KINESIS": "http://127.0.0.1:4567",
            ]))
        #expect(configuration.region == "eu-west-1")
        #expect(configuration.streamName == "orders")
        #expect(configuration.profile == "prod")
        #expect(configuration.shardCount == 4)
        #expect(configuration.retentionPeriodHours == 168)
        #expect(configuration.resolvedEndpoint.absoluteString == "http://127.0.0.1:4567")
    }

    @Test("uses defaults and the regional endpoint when nothing is set")
    func defaults() throws {
        let configuration = try KinesisConfiguration.fromEnvironment(Self.environment([:]))
        #expect(configuration.region == "us-east-1")
        #expect(configuration.streamName == nil)
        #expect(configuration.shardCount == 1)
        #expect(configuration.retentionPeriodHours == 24)
        #expect(configuration.resolvedEndpoint.absoluteString == "https://kinesis.us-east-1.amazonaws.com")
    }

    @Test("falls back: AWS_DEFAULT_REGION, AWS_KINESIS_NAME, AWS_ENDPOINT_URL")
    func fallbacks() throws {
        let configuration = try KinesisConfiguration.fromEnvironment(
            Self.environment([
                "AWS_DEFAULT_REGION": "ap-south-1", "AWS_KINESIS_NAME": "legacy-name",
                "AWS_ENDPOINT_URL": "http://localhost:4566",
            ]))
        #expect(configuration.region == "ap-south-1")
        #expect(configuration.streamName == "legacy-name")
        #expect(configuration.resolvedEndpoint.absoluteString == "http://localhost:4566")
    }

    @Test("prefers AWS_REGION, KINESIS_STREAM_NAME and AWS_ENDPOINT_URL_KINESIS")
    func precedence() throws {
        let configuration = try KinesisConfiguration.fromEnvironment(
            Self.environment([
                "AWS_REGION": "us-west-2", "AWS_DEFAULT_REGION": "ap-south-1", "KINESIS_STREAM_NAME": "new",
                "AWS_KINESIS_NAME": "old", "AWS_ENDPOINT_URL_KINESIS": "http://a:1", "AWS_ENDPOINT_URL": "http://b:2",
            ]))
        #expect(configuration.region == "us-west-2")
        #expect(configuration.streamName == "new")
        #expect(configuration.resolvedEndpoint.absoluteString == "http://a:1")
    }

    @Test("takes the region from the profile in the config file")
    func regionFromProfile() throws {
        let folder = try TemporaryFolder()
        try folder.write("config", "[default]\nregion = us-east-2\n[profile prod]\nregion = eu-north-1\n")
        let configuration = try KinesisConfiguration.fromEnvironment(
            Self.environment(["AWS_CONFIG_FILE": folder.path("config"), "AWS_PROFILE": "prod"]))
        #expect(configuration.region == "eu-north-1")
    }

    @Test(
        "rejects a bad value with the variable, the value and the allowed range",
        arguments: [
            ("KINESIS_SHARD_COUNT", "four", "KINESIS_SHARD_COUNT='four' is not valid: expected an integer from 1 to 100000"),
            ("KINESIS_SHARD_COUNT", "0", "KINESIS_SHARD_COUNT='0' is not valid: expected an integer from 1 to 100000"),
            (
                "KINESIS_RETENTION_PERIOD", "10",
                "KINESIS_RETENTION_PERIOD='10' is not valid: expected an integer from 24 to 8760 hours"
            ),
            (
                "KINESIS_RETENTION_PERIOD", "9000",
                "KINESIS_RETENTION_PERIOD='9000' is not valid: expected an integer from 24 to 8760 hours"
            ),
            ("AWS_ENDPOINT_URL_KINESIS", "localhost:4567", "AWS_ENDPOINT_URL_KINESIS='localhost:4567' is not valid"),
            ("AWS_REGION", "US East", "AWS_REGION='US East' is not valid"),
            ("KINESIS_STREAM_NAME", "my stream", "KINESIS_STREAM_NAME='my stream' is not valid"),
        ])
    func rejectsBadValues(variable: String, value: String, message: String) {
        #expect {
            _ = try KinesisConfiguration.fromEnvironment(Self.environment([variable: value]))
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.source == variable && error.value == value && error.description.hasPrefix(message)
        }
    }
}

/// A folder under the system's temporary directory, removed when the value goes away.
final class TemporaryFolder {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("kinesis-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    func write(_ name: String, _ text: String) throws {
        try text.write(toFile: path(name), atomically: true, encoding: .utf8)
    }
    deinit { try? FileManager.default.removeItem(at: url) }

    @Test("an endpoint port above 65535 is a clear error naming the source, not a crash")
    func endpointPortOutOfRange() {
        for raw in ["http://127.0.0.1:70000", "http://127.0.0.1:65536", "http://127.0.0.1:0"] {
            #expect(throws: ConfigurationError.self) { try KinesisConfiguration.parseEndpoint(raw, source: "--endpoint") }
        }
        #expect(throws: ConfigurationError.self) {
            try KinesisConfiguration.fromEnvironment(["AWS_ENDPOINT_URL_KINESIS": "http://127.0.0.1:99999"])
        }
        #expect((try? KinesisConfiguration.parseEndpoint("http://127.0.0.1:65535", source: "--endpoint"))?.port == 65535)
    }
}
