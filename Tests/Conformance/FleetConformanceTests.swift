import ARMSProtocol
import FleetSimulator
import Foundation
import MockCore
import MockRS
import MockService
import Testing

/// The fleet simulator over real sockets: simulated SAs against a mock in this process, and
/// `warplink-mock fleet --serve` as a process.
@Suite(.serialized) struct FleetConformanceTests {
    @Test func twoHundredSimulatedSAsBecomePushReadyAnswerPushesAndSendHeartbeats() async throws {
        let count = 200
        let runtime = try await ServiceRuntime.start(FleetSetup.serviceConfiguration(count: count, seed: 7, heartbeatInterval: 60))
        var options = FleetOptions()
        options.seed = 7
        options.maxConcurrency = 50
        let fleet = FleetSetup.fleet(for: runtime, options: options)
        #expect(fleet.members.count == count)
        try await fleet.start()
        do {
            let allReady = await fleet.waitUntilAllReady(timeout: .seconds(120))
            let snapshot = fleet.snapshot
            #expect(allReady, "\(snapshot.everReady)/\(count) push-ready; errors: \(snapshot.topErrors)")
            #expect(snapshot[.ready] == count)
            #expect(snapshot.allReadyAfter != nil)

            // The mock sees every SA push-ready over a confirmed tunnel. An SA counts itself ready
            // once it has written its confirm-done response; the mock only when it has read it, so
            // wait (bounded) for the mock to catch up, then name any SA it still does not see.
            _ = try? await waitUntil("the mock to see every SA push-ready", timeout: 30) {
                fleet.members.allSatisfy { runtime.pushStatus(of: $0.distributionID).pushReady }
            }
            for member in fleet.members {
                #expect(runtime.pushStatus(of: member.distributionID).pushReady, "\(member.distributionID)")
            }

            // One md-command to each, all at once: each SA echoes its own command.
            let results = await withTaskGroup(of: (DistributionID, PushOperationResult?).self) { group in
                for member in fleet.members {
                    group.addTask {
                        let id = member.distributionID
                        return (id, try? await runtime.push(.mdCommand("echo \(id)", module: FleetProvisioning.moduleID), to: id,
                                                            timeout: .seconds(60)))
                    }
                }
                var all: [(DistributionID, PushOperationResult?)] = []
                for await r in group { all.append(r) }
                return all
            }
            #expect(results.count == count)
            for (id, result) in results {
                #expect(result?.state == .succeeded, "\(id): \(String(describing: result))")
                #expect(result?.output.first?.text == "echo \(id)")
            }

            // Heartbeats from every SA, verified with its own passphrase by the receiver.
            try await waitUntil("a heartbeat from every simulated SA", timeout: 30) {
                fleet.members.allSatisfy { runtime.heartbeatSnapshot(of: $0.distributionID).map { $0.sampleCount > 0 && $0.rejectedTotal == 0 } ?? false }
            }
            #expect(fleet.snapshot.heartbeatsSent >= count)
        } catch {
            await fleet.stop()
            await runtime.stop()
            throw error
        }
        await fleet.stop()
        // Stopping closes every tunnel: the mock sees no push-ready SA any more.
        try await waitUntil("the mock to see every tunnel closed", timeout: 30) {
            fleet.members.allSatisfy { !runtime.pushStatus(of: $0.distributionID).pushReady }
        }
        await runtime.stop()
    }

    @Test func fleetCommandWithItsOwnMockExitsZeroWithASummary() async throws {
        let process = try RunningProcess(try Repository.executable("warplink-mock"),
                                         ["fleet", "--serve", "--count", "50", "--ramp", "2", "--push-rate", "20",
                                          "--push-after-ready", "--stop-after", "25", "--seed", "3"])
        let status = try await process.waitExit(timeout: 90)
        #expect(status == 0, "\(process.stdout)\n\(process.stderr)")
        #expect(process.stdout.contains("fleet summary"))
        #expect(process.stdout.contains("SAs: 50, push-ready at least once: 50"), "\(process.stdout)")
        #expect(process.stdout.contains("all push-ready after: "))
        #expect(!process.stdout.contains("not reached"))
        #expect(process.stdout.contains(" 0 failed"), "\(process.stdout)")
        #expect(process.stderr.contains("stopping (--stop-after"), "\(process.stderr)")
        // --push-after-ready: the pushes start once all 50 are ready, and all of them succeed.
        #expect(process.stderr.contains("all SAs push-ready: pushes start"), "\(process.stderr)")
        #expect(process.stdout.range(of: #"pushes \(md-command\): [1-9][0-9]* succeeded, 0 failed"#, options: .regularExpression) != nil,
                "\(process.stdout)")
    }
}
