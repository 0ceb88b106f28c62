import ArgumentParser
import Foundation
import Kinesis
import Logging

/// Where to reach Kinesis: flags win over the environment (`AWS_REGION`, `AWS_PROFILE`,
/// `AWS_ENDPOINT_URL_KINESIS`, ...).
struct ConnectionOptions: ParsableArguments {
    @Option(help: "Endpoint URL of a Kinesis-compatible service, such as http://127.0.0.1:4567.")
    var endpoint: String?

    @Option(help: "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region, us-east-1).")
    var region: String?

    @Option(help: "Profile of the shared AWS files to read credentials from (default: AWS_PROFILE, then default).")
    var profile: String?

    func configuration() throws -> KinesisConfiguration {
        var configuration = try KinesisConfiguration.fromEnvironment()
        if let region {
            try KinesisConfiguration.validateRegion(region, source: "--region")
            configuration.region = region
        }
        if let profile { configuration.profile = profile }
        if let endpoint {
            configuration.endpoint = try KinesisConfiguration.parseEndpoint(endpoint, source: "--endpoint")
        }
        return configuration
    }

    /// Runs `body` with a client that is shut down afterwards, whatever happens; with
    /// `cborReads`, the client reads GetRecords pages in CBOR.
    func withClient<T: Sendable>(cborReads: Bool = false, _ body: (HTTPKinesisClient) async throws -> T) async throws -> T {
        var configuration = try configuration()
        configuration.cborReads = cborReads
        // The client's warnings (an endpoint that cannot read CBOR) go to standard error, one line each.
        var logger = Logger(label: "kinesis-load", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = .warning
        let client = HTTPKinesisClient(configuration: configuration, logger: logger)
        let result: T
        do {
            result = try await body(client)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
        return result
    }
}
