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
        return try await Self.closing(client, shutdown: { try await $0.shutdown() }, body)
    }

    /// Runs `body` with a DynamoDB client (leases): `--endpoint` when given (a local emulator
    /// such as moto serves both), otherwise `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL`,
    /// then the region's DynamoDB; credentials as for Kinesis.
    func withDynamoDB<T: Sendable>(_ body: (DynamoDBClient) async throws -> T) async throws -> T {
        let configuration = try configuration()
        let client = try DynamoDBClient(
            region: configuration.region, endpoint: try endpoint.map { try KinesisConfiguration.parseEndpoint($0, source: "--endpoint") },
            credentials: DefaultCredentialChain(explicit: configuration.credentials, profile: configuration.profile, region: configuration.region))
        return try await Self.closing(client, shutdown: { try await $0.shutdown() }, body)
    }

    /// `body(client)`, then the client shut down, whether `body` threw or not.
    static func closing<C: Sendable, T: Sendable>(_ client: C, shutdown: (C) async throws -> Void, _ body: (C) async throws -> T) async throws -> T {
        let result: T
        do {
            result = try await body(client)
        } catch {
            try? await shutdown(client)
            throw error
        }
        try await shutdown(client)
        return result
    }
}
