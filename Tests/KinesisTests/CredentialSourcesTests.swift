import Foundation
import Synchronization
import TestSupport
import Testing

@testable import Kinesis

/// The temporary-credential machinery: refresh before expiry on a manual clock, one refresh for
/// concurrent callers, profile resolution, and AssumeRole against moto_server's STS. Each source
/// against a fake of its service is in Tests/python/test_credentials.py, through the binary.
@Suite("Credential sources")
struct CredentialSourcesTests {
    /// Counts calls; each answer expires an hour after `now`, and can be held until released.
    final class Counting: CredentialProvider {
        let calls = Atomic<Int>(0)
        let now: @Sendable () -> Date
        let gate: AsyncStream<Void>?
        init(now: @escaping @Sendable () -> Date, gate: AsyncStream<Void>? = nil) {
            self.now = now
            self.gate = gate
        }
        func credentials() async throws -> AWSCredentials {
            let n = calls.wrappingAdd(1, ordering: .relaxed).newValue
            if let gate { for await _ in gate { break } }
            return AWSCredentials(accessKeyId: "KEY\(n)", secretAccessKey: "s", sessionToken: "t", expiration: now().addingTimeInterval(3600))
        }
    }

    final class ManualDate: Sendable {
        let seconds = Mutex(1_800_000_000.0)
        var now: Date { Date(timeIntervalSince1970: seconds.withLock { $0 }) }
        func advance(_ by: Double) { seconds.withLock { $0 += by } }
    }

    @Test func temporaryCredentialsAreRefreshedFiveMinutesBeforeTheyExpire() async throws {
        let clock = ManualDate()
        let base = Counting(now: { clock.now })
        let provider = RefreshingCredentialProvider(base, now: { clock.now })
        #expect(try await provider.credentials().accessKeyId == "KEY1")
        clock.advance(3600 - 301)
        #expect(try await provider.credentials().accessKeyId == "KEY1", "still more than five minutes left")
        clock.advance(2)
        #expect(try await provider.credentials().accessKeyId == "KEY2", "inside the five minutes: refreshed")
        #expect(base.calls.load(ordering: .relaxed) == 2)
    }

    @Test func concurrentCallersShareOneRefresh() async throws {
        let clock = ManualDate()
        let (gate, open) = AsyncStream<Void>.makeStream()
        let base = Counting(now: { clock.now }, gate: gate)
        let provider = RefreshingCredentialProvider(base, now: { clock.now })
        try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 { group.addTask { try await provider.credentials().accessKeyId } }
            // Every caller is waiting on the one refresh under way; let it finish.
            while base.calls.load(ordering: .relaxed) == 0 { await Task.yield() }
            open.yield()
            open.finish()
            var keys: Set<String> = []
            for try await key in group { keys.insert(key) }
            #expect(keys == ["KEY1"])
        }
        #expect(base.calls.load(ordering: .relaxed) == 1)
    }

    func files(config: String, credentials: String = "") throws -> [String: String] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("creds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try config.write(to: folder.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        try credentials.write(to: folder.appendingPathComponent("credentials"), atomically: true, encoding: .utf8)
        return [
            "HOME": folder.path, "AWS_CONFIG_FILE": folder.appendingPathComponent("config").path,
            "AWS_SHARED_CREDENTIALS_FILE": folder.appendingPathComponent("credentials").path, "AWS_EC2_METADATA_DISABLED": "true",
        ]
    }

    @Test func profileMistakesAreErrorsNamingTheProfile() async throws {
        let cases: [(String, String)] = [
            ("[profile a]\nrole_arn = arn:aws:iam::1:role/r\n", "has role_arn but neither source_profile nor credential_source"),
            ("[profile a]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Laptop\n", "credential_source 'Laptop' is not"),
            ("[profile a]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = ghost\n", "its source_profile 'ghost' is not in"),
            ("[profile a]\nweb_identity_token_file = /tmp/t\n", "has web_identity_token_file but no role_arn"),
            ("[profile a]\nsso_start_url = https://x/start\nsso_region = us-east-1\n", "SSO profile without sso_account_id, sso_role_name"),
            ("[profile a]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = b\nduration_seconds = 60\n[profile b]\naws_access_key_id = K\naws_secret_access_key = S\n",
             "duration_seconds='60' is not a whole number from 900 to 43200"),
        ]
        for (config, message) in cases {
            let chain = DefaultCredentialChain(profile: "a", environment: try files(config: config))
            await #expect {
                _ = try await chain.credentials()
            } throws: { error in
                let text = "\(error)"
                return text.contains("profile 'a'") && text.contains(message)
            }
        }
    }

    @Test func aProfileThatNamesItselfUsesItsOwnKeysToAssumeItsRole() throws {
        let environment = try files(
            config: "", credentials: "[a]\naws_access_key_id = SELF\naws_secret_access_key = S\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = a\n")
        let provider = try ProfileResolver(files: SharedConfigFiles(environment: environment), environment: environment, region: "eu-west-1")
            .provider(for: "a")
        #expect(provider is RefreshingCredentialProvider)
    }

    @Test func stsIsRegionalAndHonoursTheEndpointVariables() throws {
        #expect(try SecurityTokenService(region: "eu-west-1", environment: [:]).endpoint.absoluteString == "https://sts.eu-west-1.amazonaws.com")
        #expect(try SecurityTokenService(region: "eu-west-1", environment: ["AWS_ENDPOINT_URL": "http://127.0.0.1:9"]).endpoint.port == 9)
        #expect(
            try SecurityTokenService(region: "eu-west-1", environment: ["AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:8"])
                .endpoint.port == 8)
        #expect(throws: CredentialsError.self) { try SecurityTokenService(region: "eu-west-1", environment: ["AWS_ENDPOINT_URL_STS": "ftp://x"]) }
    }

    @Test func assumeRoleAgainstMotoServersSTS() async throws {
        let moto = try await MotoServer.endpoint()
        var environment = try files(
            config: "[profile app]\nrole_arn = arn:aws:iam::123456789012:role/app\nsource_profile = base\nrole_session_name = it\n",
            credentials: "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n")
        environment["AWS_ENDPOINT_URL_STS"] = moto.absoluteString
        let chain = DefaultCredentialChain(profile: "app", region: "us-east-1", environment: environment)
        let assumed = try await chain.credentials()
        #expect(assumed.accessKeyId != "AKIDBASE")
        #expect(assumed.sessionToken?.isEmpty == false)
        #expect(assumed.expiration.map { $0 > Date() } == true)
        // The assumed credentials work against moto's Kinesis.
        let client = HTTPKinesisClient(configuration: KinesisConfiguration(region: "us-east-1", endpoint: moto), credentials: chain)
        _ = try await client.listStreams(.init())
        try await client.shutdown()
    }
}
