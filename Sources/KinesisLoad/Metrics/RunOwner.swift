import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The process that owns a run while it is `running`: host, process id and the process's start
/// (so that a reused pid is not taken for the owner). A run whose owner is gone was killed or
/// crashed: it is `abandoned`, never left `running`.
package struct RunOwner: Sendable, Hashable {
    package var host: String
    package var pid: Int32
    /// The kernel's boot id and the process's start time in clock ticks since boot (Linux), or
    /// nil where `/proc` is missing (then the pid alone is checked).
    package var started: String?

    package static var current: RunOwner {
        let pid = getpid()
        return RunOwner(host: ProcessInfo.processInfo.hostName, pid: pid, started: startMark(of: pid))
    }

    /// Whether the owner is still running. Only answerable on the owner's host: elsewhere the
    /// answer is nil (unknown).
    package var isAlive: Bool? {
        guard host == ProcessInfo.processInfo.hostName else { return nil }
        if let started {
            return Self.startMark(of: pid) == started
        }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    static func startMark(of pid: Int32) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let boot = try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)
        else { return nil }
        // The command name (field 2) may hold spaces and parentheses: fields count from the last ')'.
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // Field 22 (starttime) is the 20th after the command name.
        guard fields.count > 19 else { return nil }
        return boot.trimmingCharacters(in: .whitespacesAndNewlines) + ":" + fields[19]
    }
}
