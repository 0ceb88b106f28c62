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

    /// A key of a profile in the config file, such as `region`.
    public func configValue(_ key: String, profile: String) -> String? {
        guard let text = try? String(contentsOfFile: configPath, encoding: .utf8) else { return nil }
        let sections = Self.parseINI(text)
        let section = profile == "default" ? (sections["default"] ?? sections["profile default"]) : sections["profile \(profile)"]
        return section?[key]
    }

    /// Every setting of a profile: the config file's `[profile NAME]` (`[default]`), overridden by
    /// the credentials file's `[NAME]`; nil when neither file has the profile. `source` names the
    /// file(s) for messages.
    func profileSettings(_ profile: String) -> (keys: [String: String], source: String)? {
        var keys: [String: String] = [:]
        var sources: [String] = []
        if let text = try? String(contentsOfFile: configPath, encoding: .utf8) {
            let sections = Self.parseINI(text)
            let name = profile == "default" ? "default" : "profile \(profile)"
            if let section = sections[name] ?? (profile == "default" ? sections["profile default"] : nil) {
                keys = section
                sources.append(configPath)
            }
        }
        if let text = try? String(contentsOfFile: credentialsPath, encoding: .utf8), let section = Self.parseINI(text)[profile] {
            keys.merge(section) { $1 }
            sources.append(credentialsPath)
        }
        return sources.isEmpty ? nil : (keys, sources.joined(separator: " and "))
    }

    /// A section of the config file by its whole name, such as `sso-session my-sso`.
    func section(_ name: String) -> [String: String]? {
        guard let text = try? String(contentsOfFile: configPath, encoding: .utf8) else { return nil }
        return Self.parseINI(text)[name]
    }

    /// The profile's keys from the credentials file, then from the config file.
    func profileKeys(_ profile: String) -> (keys: [String: String], source: String)? {
        if let text = try? String(contentsOfFile: credentialsPath, encoding: .utf8),
            let section = Self.parseINI(text)[profile], section["aws_access_key_id"] != nil
        {
            return (section, credentialsPath)
        }
        if let text = try? String(contentsOfFile: configPath, encoding: .utf8) {
            let sections = Self.parseINI(text)
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
    static func parseINI(_ text: String) -> [String: [String: String]] {
        var sections: [String: [String: String]] = [:]
        var current: String?
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline) {
            if rawLine.first == " " || rawLine.first == "\t" { continue }
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") && line.hasSuffix("]") {
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
