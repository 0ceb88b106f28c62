import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A thread of the run's own for its arrival schedule, as a `TaskExecutor`.
///
/// At 50,000 events/s the schedule has 20 µs per event. On the cooperative pool it shares two
/// threads with the publisher's tasks (sealing and sending batches, settling answers), and a
/// timer's wake-up waits behind whatever job holds a thread: lateness of tens of milliseconds
/// that is the tool's, not the target's. Here the schedule runs alone on a thread, and
/// ``wait(until:)`` blocks that thread for the last stretch before an event instead of going
/// through the pool's timers.
final class ScheduleThread: TaskExecutor, @unchecked Sendable {
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var queue: [UnownedJob] = []
    private var stopped = false
    private let thread = Mutex<pthread_t?>(nil)

    /// Starts the thread; ``shutdown()`` ends it once its queue is empty.
    init(name: String = "kinesis-load schedule") {
        let started = Thread { [self] in
            self.thread.withLock { $0 = pthread_self() }
            Self.raisePriority()
            self.loop()
        }
        started.name = name
        started.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        queue.append(job)
        condition.signal()
        condition.unlock()
    }

    private func loop() {
        var batch: [UnownedJob] = []
        while true {
            condition.lock()
            while queue.isEmpty, !stopped { condition.wait() }
            if queue.isEmpty, stopped {
                condition.unlock()
                return
            }
            swap(&batch, &queue)
            condition.unlock()
            for job in batch { job.runSynchronously(on: asUnownedTaskExecutor()) }
            batch.removeAll(keepingCapacity: true)
        }
    }

    /// Asks the kernel to run this thread ahead of the publisher's: with more runnable threads
    /// than cores, a woken schedule otherwise waits out a busy thread's time slice (milliseconds
    /// late). First the lowest real-time priority (SCHED_FIFO 1: it runs as soon as it wakes;
    /// the thread sleeps between events, and with two cores or more the other threads keep at
    /// least one, besides the 5% the kernel's real-time throttling keeps), else a nice value of -10. Both need
    /// privilege (root, or CAP_SYS_NICE); without it the thread keeps the normal priority, and
    /// the run's lateness figures show what that costs.
    private static func raisePriority() {
        #if canImport(Glibc)
        // On one core a real-time schedule that falls behind (and so never sleeps) would leave
        // the publisher almost nothing: there, only the nice value.
        var parameters = sched_param(sched_priority: 1)
        if ProcessInfo.processInfo.activeProcessorCount >= 2,
            pthread_setschedparam(pthread_self(), Int32(SCHED_FIFO), &parameters) == 0
        {
            return
        }
        // On Linux, process 0 is the calling thread alone.
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, -10)
        #endif
    }

    /// Lets the thread end once what is queued has run.
    func shutdown() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    /// Whether the caller runs on this thread.
    private var isCurrent: Bool {
        guard let thread = thread.withLock({ $0 }) else { return false }
        return pthread_equal(thread, pthread_self()) != 0
    }

    /// Suspends until `deadline`: a task sleep while it is more than ``blockingStretch`` away
    /// (the thread stays free for other jobs of the schedule), then, on this thread only, a
    /// blocking sleep to the deadline. Elsewhere it is an ordinary task sleep.
    func wait(until deadline: ContinuousClock.Instant, clock: ContinuousClock = ContinuousClock()) async {
        var now = clock.now
        guard now < deadline else { return }
        guard isCurrent else {
            try? await clock.sleep(until: deadline)
            return
        }
        if now.duration(to: deadline) > Self.blockingStretch {
            try? await clock.sleep(until: deadline.advanced(by: .zero - Self.blockingStretch))
            now = clock.now
        }
        while now < deadline {
            let (seconds, attoseconds) = now.duration(to: deadline).components
            var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
            var remaining = timespec()
            _ = nanosleep(&request, &remaining)
            now = clock.now
        }
    }

    /// How close to an event the thread blocks rather than suspends: long enough to cover a
    /// timer's late wake-up on a busy machine, short enough to leave the thread free.
    static let blockingStretch = Duration.milliseconds(2)
}
