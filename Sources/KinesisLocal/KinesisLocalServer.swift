import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import Kinesis
import KinesisEngine
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

/// The engine served over HTTP: a Kinesis-compatible endpoint that boto3, the AWS CLI or any
/// SDK can use (`endpoint_url=http://127.0.0.1:4567`).
///
/// ```swift
/// let app = try KinesisLocalServer.application(endpoint: KinesisEndpoint(engine: InMemoryKinesis()), port: 4567)
/// try await app.runService()
/// ```
public enum KinesisLocalServer {
    /// How long a new connection may take to send a complete request head.
    public static let defaultHeaderTimeout: Duration = .seconds(10)
    /// How long a connection may sit without sending a request part before it is closed.
    public static let defaultIdleTimeout: Duration = .seconds(60)

    /// Makes the Hummingbird application. Binds 127.0.0.1 unless told otherwise; port 0
    /// picks a free port, which `onRunning` receives. A connection that does not send a
    /// complete request head within `headerTimeout`, or sits idle for `idleTimeout`, is closed,
    /// so slow or abandoned clients cannot starve the others.
    /// Plain HTTP serves HTTP/1.1 and HTTP/2 with prior knowledge (h2c) on one port; with `tls`,
    /// the endpoint is HTTPS and negotiates HTTP/2 (ALPN `h2`) or HTTP/1.1. The Java SDK and the
    /// KCL subscribe to shards over HTTP/2. With `metrics`, every request and connection is counted.
    public static func application(
        endpoint: KinesisEndpoint, host: String = "127.0.0.1", port: Int = 4567, headerTimeout: Duration = defaultHeaderTimeout,
        idleTimeout: Duration = defaultIdleTimeout, tls: ServerTLS? = nil, logger: Logger? = nil, metrics: EndpointMetrics? = nil,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            var request = request
            let body: ByteBuffer
            do {
                body = try await request.collectBody(upTo: endpoint.maximumRequestBytes)
            } catch {
                let length = request.headers[.contentLength].flatMap { Int($0) }
                return makeResponse(endpoint.tooLarge(length))
            }
            var headers: [(name: String, value: String)] = []
            if let authority = request.head.authority { headers.append(("Host", authority)) }
            for field in request.headers { headers.append((field.name.rawName, field.value)) }
            let query = request.uri.queryParameters.map { (name: String($0.key), value: String($0.value)) }
            let began = ContinuousClock.now
            let answer = await endpoint.handle(
                method: request.method.rawValue, path: request.uri.path, query: query, headers: headers,
                body: Array(body.readableBytesView))
            if let metrics {
                metrics.request(
                    operation: operationName(request.headers[HTTPField.Name("X-Amz-Target")!]), answer: answerName(answer),
                    seconds: began.duration(to: .now).timeInterval, requestBytes: body.readableBytes, responseBytes: answer.body.count)
            }
            return makeResponse(answer)
        }
        var quiet = logger ?? Logger(label: "kinesis-local")
        if logger == nil { quiet.logLevel = .warning }
        let header = TimeAmount.nanoseconds(headerTimeout.wholeNanoseconds)
        let idle = TimeAmount.nanoseconds(idleTimeout.wholeNanoseconds)
        let http1 = HTTP1Channel.Configuration(additionalChannelHandlers: [HeaderTimeoutHandler(timeout: header)], idleTimeout: idle)
        let server: HTTPServerBuilder
        if let tls {
            server = HTTPServerBuilder { responder in
                CountedChannel(
                    base: try HTTP2UpgradeChannel(
                        tlsConfiguration: tls.configuration, configuration: .init(idleTimeout: idleTimeout, streamConfiguration: http1),
                        responder: responder),
                    metrics: metrics)
            }
        } else {
            // HTTP/1.1, and HTTP/2 with prior knowledge (h2c) on the same port.
            server = HTTPServerBuilder { responder in
                CountedChannel(
                    base: CleartextHTTP2Channel(
                        http1: HTTP1Channel(responder: responder, configuration: http1),
                        http2: HTTP2Channel(responder: responder, configuration: .init(idleTimeout: idleTimeout, streamConfiguration: http1)),
                        firstBytesTimeout: header),
                    metrics: metrics)
            }
        }
        return Application(
            responder: responder,
            server: server,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) }, logger: quiet)
    }

    /// The operation an X-Amz-Target names, as a metric label: "unknown" unless it is a Kinesis
    /// operation (a label never carries what a client made up).
    static func operationName(_ target: String?) -> String {
        guard let target, let dot = target.firstIndex(of: "."), target[..<dot] == "Kinesis_20131202",
            let operation = KinesisOperation(rawValue: String(target[target.index(after: dot)...]))
        else { return "unknown" }
        return operation.rawValue
    }

    /// How a request was answered, as a metric label: "ok" or the error type.
    static func answerName(_ answer: KinesisEndpoint.Response) -> String {
        if (200..<300).contains(answer.status) { return "ok" }
        if let type = answer.headers.first(where: { asciiCaseInsensitiveEquals($0.name, "x-amzn-ErrorType") })?.value {
            return String(type.split(separator: ":", maxSplits: 1).first ?? "error")
        }
        return "http_\(answer.status)"
    }

    static func makeResponse(_ answer: KinesisEndpoint.Response) -> Response {
        var fields = HTTPFields()
        for header in answer.headers {
            if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
        }
        if let events = answer.events {
            // SubscribeToShard: each event is written as it comes (chunked), for as long as the
            // subscription lasts; a client that goes away, or the server shutting down, ends it.
            return Response(
                status: HTTPResponse.Status(code: answer.status), headers: fields,
                body: ResponseBody { writer in
                    for try await frame in events.cancelOnGracefulShutdown() { try await writer.write(ByteBuffer(bytes: frame)) }
                    try await writer.finish(nil)
                })
        }
        return Response(
            status: HTTPResponse.Status(code: answer.status), headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
    }
}

/// A connection as a child channel serves it, counted while it lasts (when there are metrics).
struct CountedChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let metrics: EndpointMetrics?

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> { base.setup(channel: channel, logger: logger) }

    func handle(value: Value, logger: Logger) async {
        metrics?.connectionOpened()
        defer { metrics?.connectionClosed() }
        await base.handle(value: value, logger: logger)
    }
}

/// A certificate and key for serving HTTPS (and HTTP/2).
public struct ServerTLS: Sendable {
    let configuration: TLSConfiguration

    /// Reads a PEM certificate chain and its PEM private key; an unreadable file is an error
    /// naming it.
    public init(certificateFile: String, keyFile: String) throws {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificateFile)
        } catch {
            throw TLSFileError(description: "cannot read a PEM certificate from \(certificateFile): \(error)")
        }
        guard !chain.isEmpty else { throw TLSFileError(description: "\(certificateFile) holds no PEM certificate") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
        } catch {
            throw TLSFileError(description: "cannot read a PEM private key from \(keyFile): \(error)")
        }
        configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
    }

    /// A certificate or key file that cannot be used.
    public struct TLSFileError: Error, CustomStringConvertible {
        /// What was wrong, naming the file.
        public var description: String
    }
}
