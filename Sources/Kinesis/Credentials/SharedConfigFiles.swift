import Foundation

/// The shared AWS files: `~/.aws/credentials` and `~/.aws/config`, or the paths in
/// `AWS_SHARED_CREDENTIALS_FILE` and `AWS_CONFIG_FILE`.
///
/// In the credentials file a profile's section is `[name]`; in the config file it is
/// `[profile name]`, except `[default]`.
public struct SharedConfigFiles: Sendable {
    /// The credentials file (`~/.aws/credentials` or `AWS_SHARED_CREDENTIALS_FILE`).
    public var credentialsPath: String
    /// The config file (`~/.aws/config` or `AWS_CONFIG_FILE`).
    public var configPath: String

    /// The files the environment names, or the defaults under the home folder.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let home = environment["HOME"] ?? NSHomeDirectory()
        func expand(_ path: String) -> String {
            path.hasPrefix("~/") ? home + path.dropFirst(1) : path
        }
        credentialsPath = expand(environment["AWS_SHARED_CREDENTIALS_FILE"] ?? "~/.aws/credentials")
        configPath = expand(environment["AWS_CONFIG_FILE"] ?? "~/.aws/config")
    }

    /// Files at the given paths.
    public init(credentialsPath: String, configPath: String) {
        self.credentialsPath = credentialsPath
        self.configPath = configPath
    }

    /// A key of a profile in the config file, such as `region`; nil when the file is missing
    /// or unreadable (reading credentials then says why).
    public func configValue(_ key: String, profile: String) -> String? {
        guard let sections = try? Self.sections(of: configPath) else { return nil }
        let section = profile == "default" ? (sections["default"] ?? sections["profile default"]) : sections["profile \(profile)"]
        return section?[key]
    }

    /// The sections of the file at `path`; nil when there is no such file. A file that is a
    /// directory, unreadable, not text, or not in the AWS files' INI form is an error naming it
    /// (and the line), never skipped as if it were missing.
    static func sections(of path: String) throws -> [String: [String: String]]? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return nil }
        if isDirectory.boolValue { throw CredentialsError("the AWS file \(path) is a directory, not a file") }
        guard let data = FileManager.default.contents(atPath: path) else { throw CredentialsError("the AWS file \(path) cannot be read") }
        guard !data.contains(0), let text = String(data: data, encoding: .utf8) else {
            throw CredentialsError("the AWS file \(path) is not text (it holds bytes that are not UTF-8)")
        }
        return try parseINI(text, path: path)
    }

    /// Every setting of a profile: the config file's `[profile NAME]` (`[default]`), overridden by
    /// the credentials file's `[NAME]`; nil when neither file has the profile. `source` names the
    /// file(s) for messages.
    func profileSettings(_ profile: String) throws -> (keys: [String: String], source: String)? {
        var keys: [String: String] = [:]
        var sources: [String] = []
        if let sections = try Self.sections(of: configPath) {
            let name = profile == "default" ? "default" : "profile \(profile)"
            if let section = sections[name] ?? (profile == "default" ? sections["profile default"] : nil) {
                keys = section
                sources.append(configPath)
            }
        }
        if let section = try Self.sections(of: credentialsPath)?[profile] {
            keys.merge(section) { $1 }
            sources.append(credentialsPath)
        }
        return sources.isEmpty ? nil : (keys, sources.joined(separator: " and "))
    }

    /// A section of the config file by its whole name, such as `sso-session my-sso`.
    func section(_ name: String) throws -> [String: String]? {
        try Self.sections(of: configPath)?[name]
    }

    /// The profile's keys from the credentials file, then from the config file.
    func profileKeys(_ profile: String) throws -> (keys: [String: String], source: String)? {
        if let section = try Self.sections(of: credentialsPath)?[profile], section["aws_access_key_id"] != nil {
            return (section, credentialsPath)
        }
        if let sections = try Self.sections(of: configPath) {
            let name = profile == "default" ? "default" : "profile \(profile)"
            if let section = sections[name] ?? (profile == "default" ? sections["profile default"] : nil),
                section["aws_access_key_id"] != nil
            {
                return (section, configPath)
            }
        }
        return nil
    }

    /// Parses the INI dialect of the AWS files: `[section]`, `key = value`, `#` and `;`
    /// comments; keys are case-insensitive. Indented lines (nested values) are ignored.
    /// A line that is none of these is an error naming `path` and the line.
    static func parseINI(_ text: String, path: String = "the AWS file") throws -> [String: [String: String]] {
        var sections: [String: [String: String]] = [:]
        var current: String?
        for (number, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            if rawLine.first == " " || rawLine.first == "\t" { continue }
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            let isSection = line.hasPrefix("[") && line.hasSuffix("]")
            if !isSection, current == nil || !line.contains("=") {
                throw CredentialsError(
                    "\(path) line \(number + 1) is neither a [section] nor a key = value\(current == nil && line.contains("=") ? " inside a section" : ""): the file cannot be read")
            }
            if isSection {
                let name = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
                    .split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
                current = name
                sections[name, default: [:]] = sections[name] ?? [:]
                continue
            }
            guard let current, let equals = line.firstIndex(of: "=") else { continue }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            sections[current]?[key] = value
        }
        return sections
    }
}
