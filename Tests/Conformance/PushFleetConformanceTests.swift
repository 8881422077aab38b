import ARMSProtocol
import Foundation
import MockCore
import MockRS
import MockService
import Testing

/// Many real agents against one mock: every one becomes push-ready over its own tunnel,
/// and pushes to all of them at once all complete, each answered by its own agent.
@Suite struct PushFleetConformanceTests {
    static let count = 50

    @Test func pushesToFiftyAgentsAtOnceAllComplete() async throws {
        let fleet = (1...Self.count).map { n in
            var sa = SAProfile.demo
            sa.distributionID = DistributionID(version: 1, vendorCode: 0, saType: 0x50, saCode: UInt64(n))
            sa.lsKey = "ls-key-\(n)"
            sa.rsKey = "rs-key-\(n)"
            sa.heartbeat = nil
            return sa
        }
        try await PullRig.with({ $0.fleet = fleet }) { rig in
            let data = try #require(rig.runtime.dataDirectory)
            let template = try String(contentsOfFile: rig.confPath, encoding: .utf8)
            var agents: [RunningProcess] = []
            do {
                for sa in fleet {
                    // The rig's armsd.conf (scripts included) with this SA's id, key and state cache.
                    var conf = data.armsdConfiguration(for: sa)
                    conf.pathStateCache = rig.dir.path("state-\(sa.distributionID)")
                    conf.pathPID = rig.dir.path("pid-\(sa.distributionID)")
                    for line in template.split(separator: "\n") where line.hasPrefix("script-") {
                        let parts = line.split(separator: ":", maxSplits: 1)
                        if let key = ArmsdConfiguration.Script(rawValue: String(parts[0])) {
                            conf.scripts[key] = parts[1].trimmingCharacters(in: .whitespaces)
                        }
                    }
                    let path = rig.dir.path("armsd-\(sa.distributionID).conf")
                    try conf.encoded().write(toFile: path, atomically: true, encoding: .utf8)
                    agents.append(try RunningProcess(try Repository.executable("armsd"),
                                                     ["-D", "-b", rig.dir.path("work-\(sa.distributionID)"),
                                                      "-l", rig.dir.path("log-\(sa.distributionID)"), "-f", path]))
                }
                try await waitUntil("\(Self.count) agents push-ready", timeout: 120) {
                    if let dead = agents.first(where: { !$0.process.isRunning }) {
                        throw HarnessError("an armsd exited (\(dead.process.terminationStatus)): \(dead.stderr)")
                    }
                    return fleet.allSatisfy { rig.runtime.pushStatus(of: $0.distributionID).pushReady }
                }

                let runtime = rig.runtime
                let results = try await withThrowingTaskGroup(of: (DistributionID, PushOperationResult).self) { group in
                    for sa in fleet {
                        group.addTask {
                            (sa.distributionID, try await runtime.push(.mdCommand("who are you \(sa.distributionID)", module: 1),
                                                                       to: sa.distributionID, timeout: .seconds(60)))
                        }
                    }
                    var all: [DistributionID: PushOperationResult] = [:]
                    for try await (id, result) in group { all[id] = result }
                    return all
                }
                #expect(results.count == Self.count)
                for sa in fleet {
                    let result = try #require(results[sa.distributionID])
                    #expect(result.state == .succeeded, "\(sa.distributionID): \(result)")
                    #expect(result.output.first?.text == "ran:who are you \(sa.distributionID)")
                }
                #expect(rig.calls(of: "command").count == Self.count)
            } catch {
                for agent in agents { _ = try? await agent.stop() }
                throw error
            }
            for agent in agents { _ = try await agent.stop() }
        }
    }
}
