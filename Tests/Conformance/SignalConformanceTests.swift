import Foundation
import Testing

/// SIGTERM ends armsd with `signal 15 caught. exit.` and status 1 whatever the agent is
/// doing at that moment (agent.md §2). The moment right after the state cache is saved is
/// the busy one: the post-pull script starts and the push-method-query connection opens on
/// the main thread while the signal thread ends the process. Ending it with `exit` there ran
/// OpenSSL's atexit cleanup under the main thread's feet and crashed about one time in four.
@Suite(.serialized) struct SignalConformanceTests {
    @Test func sigtermRightAfterThePullEndsWithStatusOneEveryTime() async throws {
        try await PullRig.with { rig in
            var statuses: [Int32] = []
            for round in 0..<16 {
                for path in [rig.logPath, rig.statePath] { try? FileManager.default.removeItem(atPath: path) }
                let agent = try rig.startAgent()
                try await rig.waitForLog("state cache saved", agent: agent)
                let status = try await agent.stop(signal: SIGTERM)
                statuses.append(status)
                #expect(status == 1, "round \(round): status \(status)\n\(rig.log)\n\(agent.stderr)")
                #expect(rig.log.contains("signal 15 caught. exit."), "round \(round)")
            }
            #expect(statuses.count == 16)
        }
    }
}
