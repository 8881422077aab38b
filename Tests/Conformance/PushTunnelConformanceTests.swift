import ARMSProtocol
import Foundation
import MockCore
import MockRS
import MockService
import Testing

/// The built `armsd` against the in-process mocks over real TLS: push-method-query,
/// https-tunnel, confirmation and every push operation carried out through the
/// callback scripts (push.md, tunnel.md, agent.md §5–§8).
@Suite struct PushTunnelConformanceTests {
    static let sa = SAProfile.demo.distributionID

    /// Starts the rig and an agent, and waits until the mock sees the SA push-ready.
    static func withPushReadyAgent(_ configure: @escaping (inout ServiceConfiguration) -> Void = { _ in },
                                   extra: [String] = [],
                                   _ body: (PullRig, RunningProcess) async throws -> Void) async throws {
        try await PullRig.with({ configuration in
            configuration.pushOffer.echoInterval = 60
            configure(&configuration)
        }) { rig in
            let agent = try rig.startAgent(extra: extra)
            do {
                try await rig.waitForPushReady(agent: agent)
                try await body(rig, agent)
            } catch {
                _ = try? await agent.stop()
                throw error
            }
            if agent.process.isRunning { _ = try await agent.stop() }
        }
    }

    @Test func agentReachesPushWaitOverTheTunnel() async throws {
        try await Self.withPushReadyAgent { rig, _ in
            try await rig.waitForLog("tunnel#0: ready to push.")
            let changes = rig.stateChanges
            let pullDone = try #require(changes.firstIndex(of: "RSPULL -> PULLDONE"))
            #expect(Array(changes[pullDone...].prefix(3)) == ["RSPULL -> PULLDONE", "PULLDONE -> PUSH_SENDREADY", "PUSH_SENDREADY -> PUSH_WAIT"])
            #expect(rig.log.contains("Push method: tunnel"))
            #expect(rig.log.contains("Start push confirmation"))
            #expect(rig.log.contains("Done push confirmation"))
            // The state-changed script saw the same sequence.
            #expect(rig.calls(of: "state-changed").suffix(2) == [["PULLDONE", "PUSH_SENDREADY"], ["PUSH_SENDREADY", "PUSH_WAIT"]])
            let status = rig.runtime.pushStatus(of: Self.sa)
            #expect(status.mode == PushMethod.httpsTunnel)
            #expect(status.tunnels.count == 1 && status.tunnels.allSatisfy(\.ready))
            let query = rig.journal(.rs).filter { $0.messageType == "push-method-query" }
            #expect(query.count == 1 && query.first?.resultCode == 100)
        }
    }

    @Test func mdCommandRunsTheCommandScript() async throws {
        try await Self.withPushReadyAgent { rig, _ in
            let result = try await rig.runtime.push(.mdCommand("show version", module: 1), to: Self.sa)
            #expect(result.state == .succeeded, "\(result)")
            #expect(result.resultCode == 100)
            #expect(result.output.first?.text == "ran:show version")
            #expect(rig.calls(of: "command").first?.first == "1")

            // A failing command script: result 102 with its output (agent.md §5.2).
            try rig.setScriptExit("command", 3)
            let failed = try await rig.runtime.push(.mdCommand("reload", module: 1), to: Self.sa)
            #expect(failed.resultCode == 102, "\(failed)")
            #expect(failed.output.first?.text == "ran:reload")
        }
    }

    @Test func configureCommitsEveryModuleOfThePush() async throws {
        try await Self.withPushReadyAgent { rig, _ in
            let result = try await rig.runtime.push(.configure([
                PushConfigArgument(module: 0, text: "VERSION=2.0\n"),
                PushConfigArgument(module: 1, text: "hostname pushed-router\n"),
            ]), to: Self.sa)
            #expect(result.state == .succeeded, "\(result)")
            #expect(result.transactionResult == 100)
            let reconfigs = rig.calls(of: "reconfig")
            #expect(reconfigs.count == 2)
            #expect(reconfigs.map { $0.first } == ["0", "1"])
            #expect(reconfigs.allSatisfy { $0.count == 4 && $0[3].hasSuffix("candidate-config/\($0[0])") })
            #expect(rig.receivedConfig(0) == "VERSION=2.0\n")
            #expect(rig.receivedConfig(1) == "hostname pushed-router\n")
            #expect(rig.log.contains("Execute configure commit"))
            // After a configure every tunnel confirms again (tunnel.md §7.4); the state stays PUSH_WAIT.
            try await rig.waitForConfirmations(2)
            #expect(!rig.stateChanges.contains("PUSH_WAIT -> PUSH_REBOOT"))
            // The running store now answers with the pushed config.
            let storage = try await rig.runtime.push(.readStorage(StorageName.running), to: Self.sa)
            #expect(storage.output.map(\.text) == ["VERSION=2.0\n", "hostname pushed-router\n"], "\(storage)")
        }
    }

    @Test func failingReconfigRollsBackAndReports414() async throws {
        try await Self.withPushReadyAgent { rig, _ in
            try rig.setScriptExit("reconfig", 1)
            let result = try await rig.runtime.push(.configure([PushConfigArgument(module: 1, text: "broken config\n")]), to: Self.sa)
            #expect(result.transactionResult == 414, "\(result)")
            #expect(rig.log.contains("Execute configure rollback"))
            let reconfigs = rig.calls(of: "reconfig")
            #expect(reconfigs.count == 2)
            #expect(reconfigs.first.map { $0[3].hasSuffix("candidate-config/1") } == true)
            #expect(reconfigs.last.map { $0[3].hasSuffix("backup-config/1") } == true)
            // The rollback handed the old config back to the script, and running still holds it.
            #expect(rig.receivedConfig(1) == SAProfile.demo.modules[1].config)
            try FileManager.default.removeItem(atPath: rig.dir.path("reconfig-exit"))
            try await rig.waitForConfirmations(2)
            let storage = try await rig.runtime.push(.readStorage(StorageName.running), to: Self.sa)
            #expect(storage.output.last?.text == SAProfile.demo.modules[1].config, "\(storage)")
        }
    }

    @Test func statusAndClearRunTheirScripts() async throws {
        try await Self.withPushReadyAgent { rig, _ in
            let status = try await rig.runtime.push(.readStatus(modules: [0, 1], parameter: "cpu"), to: Self.sa)
            #expect(status.transactionResult == 100, "\(status)")
            #expect(status.output.map(\.text) == ["status of 0:cpu", "status of 1:cpu"])
            #expect(status.output.allSatisfy { $0.result == 100 })
            let clear = try await rig.runtime.push(.clearStatus(modules: [1], parameter: "all"), to: Self.sa)
            #expect(clear.transactionResult == 100, "\(clear)")
            #expect(clear.output.map(\.text) == ["cleared 1"])
            #expect(rig.calls(of: "status").count == 2)
            #expect(rig.calls(of: "clear").count == 1)
        }
    }

    @Test func libarmsAnsweredOperations() async throws {
        try await Self.withPushReadyAgent { rig, _ in
            let list = try await rig.runtime.push(.readModuleList, to: Self.sa)
            #expect(list.resultCode == 100, "\(list)")
            #expect(list.modules?.map(\.id) == [0, 1])
            #expect(list.modules?.last?.info == "router-main")

            let check = try await rig.runtime.push(.checkTransaction, to: Self.sa)
            #expect(check.resultCode == 100, "\(check)")

            let debug = try await rig.runtime.push(.dumpDebug, to: Self.sa)
            #expect(debug.resultCode == 100, "\(debug)")
            let report = debug.output.map(\.text).joined()
            #expect(report.contains("Distribution-ID: \(Self.sa)"))
            #expect(report.contains("Push Method: tunnel"))

            let candidate = try await rig.runtime.push(.readStorage(StorageName.backup), to: Self.sa)
            #expect(candidate.transactionResult == 100, "\(candidate)")
            #expect(candidate.output.first?.text == SAProfile.demo.modules[0].config)
        }
    }

    @Test func pingAndTracerouteUseTheSystemTools() async throws {
        try await Self.withPushReadyAgent { rig, _ in
            let ping = try await rig.runtime.push(.ping("127.0.0.1", count: 2, size: 56), to: Self.sa)
            #expect(ping.state == .succeeded, "\(ping)")
            #expect(ping.pingSuccess == 2 && ping.pingFailure == 0, "\(ping)")
            let trace = try await rig.runtime.push(.traceroute("127.0.0.1", count: 1, maxHop: 3), to: Self.sa)
            #expect(trace.transactionResult == 100, "\(trace)")
            #expect(trace.hops?.first == PushHop(hop: 1, address: "127.0.0.1"), "\(trace)")
        }
    }

    @Test func pullConfigMakesTheAgentPullAgain() async throws {
        try await Self.withPushReadyAgent { rig, _ in
            let result = try await rig.runtime.push(.pullConfig("RS"), to: Self.sa)
            #expect(result.resultCode == 100, "\(result)")
            try await waitUntil("a second config-solicitation", timeout: 30) {
                rig.journal(.rs).filter { $0.messageType == "config-solicitation" }.count >= 2
            }
            try await waitUntil("push-ready again", timeout: 30) {
                rig.runtime.pushStatus(of: Self.sa).pushReady && rig.stateChanges.filter { $0 == "PUSH_SENDREADY -> PUSH_WAIT" }.count >= 2
            }
            // The modules were stopped before the new pull (agent.md §6) and started again from it.
            #expect(rig.calls(of: "stop").map { $0.first } == ["0", "1"])
            #expect(rig.calls(of: "start").count == 4)
        }
    }

    @Test func rebootStopsEveryModuleThenRunsTheRebootScript() async throws {
        try await Self.withPushReadyAgent { rig, agent in
            let result = try await rig.runtime.push(.reboot, to: Self.sa)
            #expect(result.resultCode == 100, "\(result)")
            _ = try await agent.waitExit(timeout: 30)
            let names = rig.scriptCalls.compactMap(\.first).filter { ["stop", "reboot"].contains($0) }
            #expect(names == ["stop", "stop", "reboot"])
            #expect(rig.log.contains("reboot requested. exit."))
        }
    }

    @Test func serverDroppedTunnelIsReopened() async throws {
        try await Self.withPushReadyAgent { rig, _ in
            let first = try #require(rig.runtime.pushStatus(of: Self.sa).tunnels.first?.id)
            rig.runtime.dropTunnels(of: Self.sa)
            try await waitUntil("a new confirmed tunnel", timeout: 30) {
                let status = rig.runtime.pushStatus(of: Self.sa)
                return status.pushReady && status.tunnels.contains { $0.id != first && $0.ready }
            }
            let result = try await rig.runtime.push(.mdCommand("after drop"), to: Self.sa)
            #expect(result.output.first?.text == "ran:after drop")
        }
    }

    @Test func unansweredEchoesMakeTheAgentReconnect() async throws {
        try await Self.withPushReadyAgent({ $0.pushOffer.echoInterval = 1 }) { rig, _ in
            let first = try #require(rig.runtime.pushStatus(of: Self.sa).tunnels.first?.id)
            try await waitUntil("an echo answered", timeout: 15) { (rig.runtime.pushStatus(of: Self.sa).tunnels.first?.echoes ?? 0) >= 1 }
            rig.runtime.setEchoReplies(enabled: false)
            try await rig.waitForLog("no echo response received", timeout: 30)
            rig.runtime.setEchoReplies(enabled: true)
            try await waitUntil("a new confirmed tunnel", timeout: 30) {
                rig.runtime.pushStatus(of: Self.sa).tunnels.contains { $0.id != first && $0.ready }
            }
        }
    }

    /// heartbeat.md §6: a tunnel that drops and reconnects inside the running loop keeps
    /// the heartbeat schedule (libarms 5.33 reconnects without leaving the loop); a loop
    /// that ends (here for a pull asked by the RS) stops it, and the next confirmation
    /// starts it again with an immediate datagram.
    @Test func heartbeatsSurviveATunnelDropAndRestartAfterARepull() async throws {
        var sa = SAProfile.demo
        sa.heartbeat = HeartbeatProfile(passphrase: "restart-passphrase", interval: 1)
        try await Self.withPushReadyAgent({ $0.fleet = [sa] }) { rig, _ in
            func samples() -> Int { rig.runtime.heartbeatSnapshot(of: Self.sa)?.sampleCount ?? 0 }
            try await waitUntil("heartbeats flowing", timeout: 20) { samples() >= 2 }
            let first = try #require(rig.runtime.pushStatus(of: Self.sa).tunnels.first?.id)
            rig.runtime.dropTunnels(of: Self.sa)
            try await waitUntil("the tunnel reconnected", timeout: 30) {
                rig.runtime.pushStatus(of: Self.sa).tunnels.contains { $0.id != first && $0.ready }
            }
            let afterDrop = samples()
            try await waitUntil("heartbeats still flowing", timeout: 20) { samples() > afterDrop }
            #expect(!rig.log.contains("Stop heartbeat."))

            _ = try await rig.runtime.push(.pullConfig("RS"), to: Self.sa)
            try await rig.waitForLog("Stop heartbeat.", timeout: 30)
            try await waitUntil("heartbeat restarted after the new confirmation", timeout: 30) {
                rig.log.components(separatedBy: "Start heartbeat (interval: 1 sec)").count >= 3
            }
            let afterRepull = samples()
            try await waitUntil("heartbeats resumed", timeout: 20) { samples() > afterRepull }
            #expect(rig.runtime.heartbeatSnapshot(of: Self.sa)?.rejected.isEmpty == true)
        }
    }

    /// tunnel.md §11: every offered URL of the family gets a tunnel of its own; a push uses
    /// one of them and the others stay confirmed.
    @Test func twoTunnelURLsGiveTwoConfirmedTunnels() async throws {
        let port = try freeTCPPort()
        let url = try ARMSURL(parsing: "https://127.0.0.1:\(port)/tunnel")
        try await Self.withPushReadyAgent({
            $0.tunnelPort = port
            $0.pushOffer.tunnelURLs = [url, url]
        }) { rig, _ in
            try await rig.waitForLog("tunnel#1: ready to push.")
            // The agent logs readiness once it answered; the mock marks the tunnel ready when it has
            // read that answer, a moment later: wait (bounded) for the mock's view.
            _ = try? await waitUntil("both tunnels ready at the mock", timeout: 10) {
                let s = rig.runtime.pushStatus(of: Self.sa)
                return s.tunnels.count == 2 && s.tunnels.allSatisfy(\.ready)
            }
            let status = rig.runtime.pushStatus(of: Self.sa)
            #expect(status.tunnels.count == 2 && status.tunnels.allSatisfy(\.ready), "\(status)")
            for n in 0..<4 {
                let result = try await rig.runtime.push(.mdCommand("n\(n)"), to: Self.sa)
                #expect(result.output.first?.text == "ran:n\(n)", "\(result)")
            }
            // Both dropped by the server: each reconnects and confirms on its own.
            let first = try #require(status.tunnels.first?.id)
            rig.runtime.dropTunnels(of: Self.sa)
            try await waitUntil("both tunnels back", timeout: 30) {
                let now = rig.runtime.pushStatus(of: Self.sa).tunnels
                return now.count == 2 && now.allSatisfy { $0.ready && $0.id > first }
            }
        }
    }

    @Test func ipv4RSKeepsOnlyTheIPv4Tunnels() async throws {
        try await Self.withPushReadyAgent({ $0.hosts = ["127.0.0.1", "::1"] }) { rig, _ in
            try await rig.waitForLog("address family mismatched")
            let status = rig.runtime.pushStatus(of: Self.sa)
            #expect(!status.tunnels.isEmpty && status.tunnels.allSatisfy { $0.family == "ipv4" }, "\(status)")
            #expect(rig.runtime.tunnelURLs.count == 2)
        }
    }

    @Test func ipv6RSKeepsOnlyTheIPv6Tunnels() async throws {
        try await Self.withPushReadyAgent({ $0.hosts = ["::1", "127.0.0.1"] }) { rig, _ in
            try await rig.waitForLog("address family mismatched")
            let status = rig.runtime.pushStatus(of: Self.sa)
            #expect(!status.tunnels.isEmpty && status.tunnels.allSatisfy { $0.family == "ipv6" }, "\(status)")
            let result = try await rig.runtime.push(.mdCommand("over v6"), to: Self.sa)
            #expect(result.output.first?.text == "ran:over v6")
        }
    }

    @Test func pushToAnSAThatIsNotPushReadyIsRefused() async throws {
        try await PullRig.with { rig in
            await #expect(throws: PushRequestError.self) {
                _ = try await rig.runtime.push(.mdCommand("x"), to: Self.sa, timeout: .seconds(2))
            }
            #expect(rig.runtime.pushStatus(of: Self.sa).pushReady == false)
        }
    }
}

extension PullRig {
    /// Waits until armsd logged `count` completed push confirmations and the mock sees it push-ready.
    func waitForConfirmations(_ count: Int, timeout: Double = 30) async throws {
        let sa = runtime.configuration.fleet.first?.distributionID ?? SAProfile.demo.distributionID
        try await waitUntil("\(count) push confirmations", timeout: timeout) {
            log.components(separatedBy: "Done push confirmation").count > count && runtime.pushStatus(of: sa).pushReady
        }
    }

    /// Waits until the mock counts the SA push-ready (a confirmed tunnel or simple listener).
    func waitForPushReady(agent: RunningProcess, timeout: Double = 30) async throws {
        let sa = runtime.configuration.fleet.first?.distributionID ?? SAProfile.demo.distributionID
        do {
            try await waitUntil("SA push-ready", timeout: timeout) {
                if !agent.process.isRunning { throw HarnessError("armsd exited (\(agent.process.terminationStatus))") }
                return runtime.pushStatus(of: sa).pushReady
            }
        } catch {
            throw HarnessError("\(error)\n--- armsd log ---\n\(log)\n--- stderr ---\n\(agent.stderr)")
        }
    }
}
