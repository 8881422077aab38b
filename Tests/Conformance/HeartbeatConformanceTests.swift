import Foundation
import MockCore
import Testing

/// armsd's heartbeats reach the mock's receiver once the agent is in PUSH_WAIT
/// (heartbeat.md §6).
@Suite struct HeartbeatConformanceTests {
    @Test
    func armsdHeartbeatsReachTheMockAtPushWait() async throws {
        var sa = SAProfile.demo
        sa.heartbeat = HeartbeatProfile(passphrase: "e2e-passphrase", interval: 1)
        try await PullRig.with({ $0.fleet = [sa] }) { rig in
            let agent = try rig.startAgent()
            try await waitUntil("two heartbeats from armsd", timeout: 60) {
                (rig.runtime.heartbeatSnapshot(of: sa.distributionID)?.sampleCount ?? 0) >= 2
            }
            try await waitUntil("four heartbeats from armsd", timeout: 30) {
                (rig.runtime.heartbeatSnapshot(of: sa.distributionID)?.sampleCount ?? 0) >= 4
            }
            let snapshot = try #require(rig.runtime.heartbeatSnapshot(of: sa.distributionID))
            #expect(snapshot.rejected.isEmpty)
            // The series follows the 1 s interval the RS handed out (fixed rate, heartbeat.md §6).
            let intervals = try #require(snapshot.intervals)
            #expect(intervals.mean > 0.7 && intervals.mean < 1.5, "\(intervals)")
            #expect(snapshot.last?.memory.isEmpty == false)
            #expect(rig.log.contains("Start heartbeat (interval: 1 sec)"))
            #expect(try await agent.stop() == 1)
        }
    }
}
