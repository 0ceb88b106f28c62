import AsyncHTTPClient
import Foundation
import Hummingbird
import Kinesis
import KinesisLocal
import KinesisTesting
import Logging
import NIOCore
import NIOHTTP1
import Testing

/// Where the conformance suite runs: the engine called in process, or the same engine served
/// by `KinesisLocal` and called through `HTTPKinesisClient` with SigV4, reading GetRecords in
/// JSON or in CBOR (as the Java SDK does).
enum Target: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case inProcess
    case http
    case httpCBOR
    var testDescription: String { rawValue }
}

struct Harness {
    let api: any KinesisAPI
    let engine: InMemoryKinesis
    let clock: ManualEngineClock
}

let testCredentials = AWSCredentials(accessKeyId: "AKIDLOCALTEST", secretAccessKey: "local-test-secret")

/// Runs `body` against a fresh engine on a manual clock, through `target`.
func withHarness(
    _ target: Target, configuration: EngineConfiguration = EngineConfiguration(), _ body: (Harness) async throws -> Void
) async throws {
    let clock = ManualEngineClock()
    let engine = InMemoryKinesis(configuration: configuration, clock: clock)
    switch target {
    case .inProcess:
        try await body(Harness(api: engine, engine: engine, clock: clock))
    case .http, .httpCBOR:
        try await withLocalServer(KinesisEndpoint(engine: engine, credentials: testCredentials)) { url in
            var configuration = KinesisConfiguration(endpoint: url, credentials: testCredentials, retry: .none)
            configuration.cborReads = target == .httpCBOR
            let client = HTTPKinesisClient(configuration: configuration)
            do {
                try await body(Harness(api: client, engine: engine, clock: clock))
            } catch {
                try? await client.shutdown()
                throw error
            }
            try await client.shutdown()
        }
    }
}

/// Serves `endpoint` on a free port of 127.0.0.1 while `body` runs.
func withLocalServer<T: Sendable>(_ endpoint: KinesisEndpoint, _ body: (URL) async throws -> T) async throws -> T {
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    // Cancelling the server at the end of a test is expected: keep its "cancelled" errors out of the output.
    var quiet = Logger(label: "kinesis-local-test")
    quiet.logLevel = .critical
    let app = try KinesisLocalServer.application(endpoint: endpoint, port: 0, logger: quiet) { port in continuation.yield(port) }
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await app.runService(gracefulShutdownSignals: []) }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        do {
            let result = try await body(URL(string: "http://127.0.0.1:\(port)")!)
            group.cancelAll()
            return result
        } catch {
            group.cancelAll()
            throw error
        }
    }
}

/// Posts a raw body to an endpoint: for the answers to input no SDK would send.
func rawPost(_ url: URL, target: String?, body: String, headers: [(String, String)] = []) async throws -> (status: Int, json: [String: String]) {
    var request = HTTPClientRequest(url: url.absoluteString)
    request.method = .POST
    if let target { request.headers.add(name: "X-Amz-Target", value: target) }
    request.headers.add(name: "Content-Type", value: "application/x-amz-json-1.1")
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    request.body = .bytes(ByteBuffer(string: body))
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    let bytes = try await response.body.collect(upTo: 1 << 20)
    let json = (try? JSONDecoder().decode([String: String].self, from: Data(bytes.readableBytesView))) ?? [:]
    return (Int(response.status.code), json)
}

/// Expects `body` to throw a KinesisError with this code and, when given, this exact message.
func expectError(
    _ code: KinesisError.Code, _ message: String? = nil, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async {
    do {
        try await body()
        Issue.record("expected \(code), got success", sourceLocation: sourceLocation)
    } catch let error as KinesisError {
        #expect(error.code == code, sourceLocation: sourceLocation)
        if let message { #expect(error.message == message, sourceLocation: sourceLocation) }
    } catch {
        Issue.record("expected \(code), got \(error)", sourceLocation: sourceLocation)
    }
}
