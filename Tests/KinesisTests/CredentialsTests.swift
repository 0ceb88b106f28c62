import Foundation
import Logging
import InMemoryLogging
import Testing

@testable import Kinesis

@Suite("Credentials")
struct CredentialsTests {
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    static let token = "FQoGZXIvYXdzEXAMPLETOKEN"

    func chain(_ environment: [String: String], explicit: AWSCredentials? = nil, profile: String? = nil)
        -> DefaultCredentialChain
    {
        DefaultCredentialChain(
            explicit: explicit, profile: profile,
            environment: ["HOME": "/nonexistent-kinesis-toolkit-home", "AWS_EC2_METADATA_DISABLED": "true"].merging(environment) { $1 })
    }

    @Test("explicit credentials win over the environment")
    func explicitFirst() async throws {
        let explicit = AWSCredentials(accessKeyId: "EXPLICIT", secretAccessKey: "s1")
        let found = try await chain(
            ["AWS_ACCESS_KEY_ID": "ENV", "AWS_SECRET_ACCESS_KEY": "s2"], explicit: explicit
        ).credentials()
        #expect(found.accessKeyId == "EXPLICIT")
    }

    @Test("the environment wins over the shared files, with the session token")
    func environmentSecond() async throws {
        let folder = try TemporaryFolder()
        try folder.write("credentials", "[default]\naws_access_key_id = FILE\naws_secret_access_key = s\n")
        let found = try await chain([
            "AWS_ACCESS_KEY_ID": "ENV", "AWS_SECRET_ACCESS_KEY": "s2", "AWS_SESSION_TOKEN": Self.token,
            "AWS_SHARED_CREDENTIALS_FILE": folder.path("credentials"),
        ]).credentials()
        #expect(found == AWSCredentials(accessKeyId: "ENV", secretAccessKey: "s2", sessionToken: Self.token))
    }

    @Test("reads the selected profile from the credentials file, then the config file")
    func sharedFiles() async throws {
        let folder = try TemporaryFolder()
        try folder.write(
            "credentials",
            """
            # comment
            [default]
            aws_access_key_id = DEFAULTKEY
            aws_secret_access_key = default-secret

            [prod]
            aws_access_key_id=PRODKEY
            aws_secret_access_key=prod-secret
            aws_session_token = prod-token
            """)
        try folder.write(
            "config",
            """
            [profile staging]
            region = eu-west-1
            aws_access_key_id = STAGINGKEY
            aws_secret_access_key = staging-secret
            """)
        let files = ["AWS_SHARED_CREDENTIALS_FILE": folder.path("credentials"), "AWS_CONFIG_FILE": folder.path("config")]
        #expect(try await chain(files).credentials().accessKeyId == "DEFAULTKEY")
        let prod = try await chain(files.merging(["AWS_PROFILE": "prod"]) { $1 }).credentials()
        #expect(prod == AWSCredentials(accessKeyId: "PRODKEY", secretAccessKey: "prod-secret", sessionToken: "prod-token"))
        #expect(try await chain(files, profile: "staging").credentials().accessKeyId == "STAGINGKEY")
    }

    @Test("says what it tried when nothing is found, without secrets; a named profile that does not exist is said so")
    func nothingFound() async throws {
        await #expect {
            _ = try await chain([:]).credentials()
        } throws: { error in
            let text = "\(error)"
            return text.contains("profile 'default'") && text.contains("AWS_ACCESS_KEY_ID")
        }
        await #expect {
            _ = try await chain(["AWS_PROFILE": "missing"]).credentials()
        } throws: { error in
            "\(error)".contains("profile 'missing' (from AWS_PROFILE) does not exist")
        }
    }

    @Test("names the missing half of a key pair in the environment")
    func halfPair() async throws {
        await #expect {
            _ = try await chain(["AWS_ACCESS_KEY_ID": "ONLYID"]).credentials()
        } throws: { error in
            "\(error)".contains("AWS_SECRET_ACCESS_KEY is not")
        }
    }

    @Test("never shows the secret or token in description, debugDescription, dump or logs")
    func redaction() {
        let credentials = AWSCredentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: Self.secret, sessionToken: Self.token)
        var dumped = ""
        dump(credentials, to: &dumped)
        let logs = InMemoryLogHandler()
        let logger = Logger(label: "test", factory: { _ in logs })
        logger.error("credentials", metadata: ["credentials": "\(credentials)"])
        for text in [credentials.description, credentials.debugDescription, "\(credentials)", dumped]
            + logs.entries.map({ "\($0)" })
        {
            #expect(!text.contains(Self.secret))
            #expect(!text.contains(Self.token))
            #expect(!text.contains("AKIAIOSFODNN7EXAMPLE"))
        }
        #expect(credentials.description.contains("****************MPLE"))
    }
}
