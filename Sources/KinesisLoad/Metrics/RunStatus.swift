import GRDB

/// Where a stored run stands (`runs.status`). The one list of them: the store, the runner,
/// `merge`, the summary and the reports all use it.
package enum RunStatus: String, Codable, Sendable, Hashable, CaseIterable, DatabaseValueConvertible {
    /// Its process is still running it (or died: the next open of the database tells, and marks it abandoned).
    case running
    /// Ran to its end; thresholds not judged yet.
    case completed
    /// Ran to its end; every threshold held.
    case passed
    /// Ran to its end; a threshold failed.
    case failed
    /// A signal stopped it; what ran is stored.
    case interrupted
    /// It stopped on an error, its figures do not add up, or its reports could not be written.
    case error
    /// Its process died (killed or crashed) before it finished.
    case abandoned

    /// Ran until it stopped by itself or was stopped: its figures are whole for the time it ran.
    package var isFinished: Bool { [.completed, .passed, .failed, .interrupted].contains(self) }

    /// Ran its whole schedule (judged or not): what `merge` takes as a segment.
    package var isComplete: Bool { [.completed, .passed, .failed].contains(self) }
}
