import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import KinesisLoad

@Suite("The schedule's thread")
struct ScheduleThreadTests {
    @Test("work that prefers it runs on its one thread, away from the cooperative pool, and a wait never ends early")
    func runsOnItsThreadAndWaitsToTheDeadline() async throws {
        let thread = ScheduleThread()
        defer { thread.shutdown() }
        let clock = ContinuousClock()
        let (threads, early) = await withTaskExecutorPreference(thread) { () -> (Set<pthread_t>, Int) in
            var threads = Set<pthread_t>()
            var early = 0
            // Near deadlines (blocking waits) and far ones (a task sleep first), each checked on waking.
            for step in 0..<40 {
                let deadline = clock.now.advanced(by: step.isMultiple(of: 4) ? .milliseconds(3) : .microseconds(200))
                await thread.wait(until: deadline, clock: clock)
                if clock.now < deadline { early += 1 }
                threads.insert(pthread_self())
            }
            return (threads, early)
        }
        #expect(early == 0)
        #expect(threads.count == 1)
        #expect(!threads.contains(pthread_self()))
    }

    @Test("a wait from a task that does not run on the thread is an ordinary sleep, and still not early")
    func waitElsewhereSleeps() async {
        let thread = ScheduleThread()
        defer { thread.shutdown() }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .milliseconds(2))
        await thread.wait(until: deadline, clock: clock)
        #expect(clock.now >= deadline)
    }
}
