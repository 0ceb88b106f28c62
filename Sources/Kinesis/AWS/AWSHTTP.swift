import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One HTTP exchange, the way every call of the package makes it (the AWS services through
/// ``AWSClient``, the ECS and EC2 metadata endpoints through the credential providers): a
/// time limit, a bounded answer, and no redirect followed, so a request (and what signs it)
/// never goes to another host. Nothing here logs a header or a body.
struct AWSHTTP: Sendable {
    /// A client that never follows a redirect, for the calls that bring no client of their own.
    static let shared = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: HTTPClient.Configuration(redirectConfiguration: .disallow))

    var client: HTTPClient = AWSHTTP.shared
    /// How long the exchange may take.
    var timeout: Duration
    /// Whether `timeout` covers the whole answer, body included (a server trickling its answer
    /// is cut off too), at the cost of a task per call; otherwise it covers the head only, as
    /// AsyncHTTPClient's deadline does.
    var wholeExchange = false
    /// The largest answer read.
    var bodyLimit: Int

    struct Answer: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: ByteBuffer
        var bytes: [UInt8] { Array(body.readableBytesView) }
        var data: Data { Data(body.readableBytesView) }
        var text: String { String(decoding: body.readableBytesView, as: UTF8.self) }
    }

    /// Why no answer came.
    enum Failure: Error {
        /// A 3xx: the location's host (or "elsewhere").
        case redirected(status: Int, to: String)
        case timedOut
        /// The answer was longer than `bodyLimit`.
        case tooLarge(limit: Int)
        /// The connection failed or broke.
        case transport(any Error)

        /// The failure in a few words (never a header or a body).
        var summary: String {
            switch self {
            case .redirected(let status, let to): return "answered HTTP \(status), a redirect to \(to)"
            case .timedOut: return "timed out"
            case .tooLarge(let limit): return "the answer exceeded \(limit) bytes"
            case .transport(let error):
                let text = String(describing: error)
                return text.count > 120 ? String(text.prefix(120)) + "..." : text
            }
        }
    }

    /// Sends `request`; throws ``Failure`` (or `CancellationError`) when no whole answer came.
    func exchange(_ request: HTTPClientRequest) async throws -> Answer {
        do {
            if wholeExchange {
                return try await Self.within(timeout) { [self] in try await receive(request) }
            }
            return try await receive(request)
        } catch {
            throw failure(of: error)
        }
    }

    /// What an error of a request or of reading its answer means: a ``Failure``, or the
    /// `CancellationError` of a cancelled task.
    func failure(of error: any Error) -> any Error {
        switch error {
        case is TimedOut: return Failure.timedOut
        case let failure as Failure: return failure
        case is CancellationError: return CancellationError()
        case is NIOTooManyBytesError: return Failure.tooLarge(limit: bodyLimit)
        case let error as HTTPClientError:
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout: return Failure.timedOut
            case .cancelled where Task.isCancelled: return CancellationError()
            default: return Failure.transport(error)
            }
        default: return Failure.transport(error)
        }
    }

    private func receive(_ request: HTTPClientRequest) async throws -> Answer {
        let response = try await client.execute(request, timeout: .nanoseconds(timeout.wholeNanoseconds), logger: nil)
        let status = Int(response.status.code)
        if (300..<400).contains(status) {
            throw Failure.redirected(status: status, to: response.headers.first(name: "Location").flatMap { URL(string: $0)?.host } ?? "elsewhere")
        }
        // Sized from Content-Length when there is one: a 10 MiB page is written once, not regrown.
        let expected = response.headers.first(name: "Content-Length").flatMap(Int.init) ?? 0
        var body = ByteBufferAllocator().buffer(capacity: min(max(expected, 0), bodyLimit))
        try await response.body.collect(upTo: bodyLimit, into: &body)
        return Answer(status: status, headers: response.headers, body: body)
    }

    struct TimedOut: Error {}

    /// `body`'s result, or ``TimedOut`` once `limit` has passed (the body is cancelled).
    static func within<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw TimedOut() }
            return value
        }
    }

    /// `scheme://host[:port]` of a URL, for messages.
    static func origin(of url: URL) -> String {
        "\(url.scheme ?? "http")://\(url.host ?? "")\(url.port.map { ":\($0)" } ?? "")"
    }
}
