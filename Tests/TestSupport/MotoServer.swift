import Foundation
import Kinesis

#if canImport(Glibc)
import Glibc
#endif

/// The moto_server the integration tests talk to (Kinesis, STS, DynamoDB and CloudWatch on one port): `MOTO_ENDPOINT` when the environment names
/// one (scripts/test.sh starts one for the whole run), otherwise one this test process starts
/// on a free port of 127.0.0.1 and stops when it exits, so `swift test` alone works on any
/// machine where moto is installed (`pip install 'moto[server]'`).
public enum MotoServer {
    /// The endpoint, starting moto_server on first use when none is configured.
    public static func endpoint() async throws -> URL {
        if let value = ProcessInfo.processInfo.environment["MOTO_ENDPOINT"] {
            return try KinesisConfiguration.parseEndpoint(value, source: "MOTO_ENDPOINT")
        }
        return try await started.value
    }

    private static let started = Task<URL, any Error> { try await start() }

    private static func start() async throws -> URL {
        let port = try freePort()
        let process = Process()
        // moto_server runs in a Python that exits once this test process is gone, however it
        // ends (the test runner does not always run exit handlers): its parent changes then.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let script = """
            import os, sys, threading, time
            parent = os.getppid()
            def watch():
                while os.getppid() == parent:
                    time.sleep(0.5)
                os._exit(0)
            threading.Thread(target=watch, daemon=True).start()
            from moto.server import main
            main(["-H", "127.0.0.1", "-p", sys.argv[1]])
            """
        process.arguments = ["python3", "-c", script, "\(port)"]
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("moto-\(port).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let url = URL(string: "http://127.0.0.1:\(port)")!
        let client = HTTPKinesisClient(
            configuration: KinesisConfiguration(
                region: "us-east-1", endpoint: url, credentials: AWSCredentials(accessKeyId: "testing", secretAccessKey: "testing"),
                retry: .none))
        defer { Task { try? await client.shutdown() } }
        // Up to 30 s for it to answer: a cold Python start on a busy 2-core machine takes a few.
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if !process.isRunning { break }
            if (try? await client.listStreams(ListStreamsInput())) != nil { return url }
            try await Task.sleep(for: .milliseconds(100))
        }
        let logged: Data = (try? Data(contentsOf: log)) ?? Data()
        let output = String(decoding: logged, as: UTF8.self)
        throw MotoUnavailable(
            message: "moto_server did not answer on \(url) within 30 s (install it with pip install 'moto[server]'); its log:\n\(output)")
    }

    /// A port the kernel just handed out on 127.0.0.1.
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw MotoUnavailable(message: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw MotoUnavailable(message: "could not bind a port on 127.0.0.1") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

public struct MotoUnavailable: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
