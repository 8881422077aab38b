import Foundation
import MockCore
import MockService
import Testing

/// The built `armsd` against the mock LS/RS over real TLS on loopback: the pull, up to
/// PULLDONE, and the hand-over to the push phase.
@Suite(.serialized) struct PullConformanceTests {
    @Test func firstBootPullsThroughLSAndRSRunsScriptsAndSavesTheCache() async throws {
        try await PullRig.with { rig in
            let agent = try rig.startAgent()
            try await rig.waitForLog("state cache saved", agent: agent)
            try await waitUntil("post-pull script") { rig.scriptCalls.contains { $0.first == "post-pull" } }
            try await rig.waitForPushReady(agent: agent)

            #expect(rig.stateChanges == ["INITIAL -> LSPULL", "LSPULL -> RSPULL", "RSPULL -> PULLDONE",
                                         "PULLDONE -> PUSH_SENDREADY", "PUSH_SENDREADY -> PUSH_WAIT"])
            for line in ["no state cache file - try LS-PULL", "log callback: 2 - Pull from LS.", "log callback: 3 - LS Access Done",
                         "log callback: 6 - RS Access Done", "initial configuration succeeded"] {
                #expect(rig.log.contains(line), "\(line)")
            }
            // Scripts, with armsd's arguments: start <id> <version> <info> <config file>; then post-pull.
            let calls = rig.scriptCalls
            let starts = calls.filter { $0.first == "start" }
            #expect(starts.map { Array($0.prefix(4)) } == [["start", "0", "1.0", ""], ["start", "1", "1.0", "router-main"]])
            #expect(starts.allSatisfy { $0.count == 5 && $0[4].hasPrefix(rig.workPath + "/tmp/") })
            #expect(try String(contentsOfFile: rig.dir.path("config-1"), encoding: .utf8) == SAProfile.demo.modules[1].config)
            #expect(calls.filter { $0.first == "state-changed" }.map { Array($0.dropFirst()) }
                    == [["INITIAL", "LSPULL"], ["LSPULL", "RSPULL"], ["RSPULL", "PULLDONE"],
                        ["PULLDONE", "PUSH_SENDREADY"], ["PUSH_SENDREADY", "PUSH_WAIT"]])
            // post-pull follows the first pull's start scripts.
            let firstPostPull = try #require(calls.firstIndex { $0.first == "post-pull" })
            #expect(calls[..<firstPostPull].filter { $0.first == "start" }.count == 2)
            // The working directory holds the configs as received; the cache is 29456 bytes, mode 0600.
            #expect(try String(contentsOfFile: rig.workPath + "/running-config/1", encoding: .utf8) == SAProfile.demo.modules[1].config)
            let attributes = try FileManager.default.attributesOfItem(atPath: rig.statePath)
            #expect(attributes[.size] as? Int == 29456)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            // The mock saw one LS and one RS exchange, both answered 100.
            #expect(rig.journal(.ls).map(\.resultCode) == [100])
            // Then push-method-query on the same RS (push.md §3.1), answered 100.
            #expect(rig.journal(.rs).map(\.resultCode) == [100, 100])
            #expect(rig.journal(.rs).map(\.messageType) == ["config-solicitation", "push-method-query"])

            // SIGTERM: "signal 15 caught. exit.", status 1, working directory removed.
            #expect(try await agent.stop() == 1)
            #expect(rig.log.contains("signal 15 caught. exit."))
            #expect(!FileManager.default.fileExists(atPath: rig.workPath))
        }
    }

    @Test func restartWithTheCacheSkipsTheLSAndACorruptCacheDoesNot() async throws {
        try await PullRig.with { rig in
            let first = try rig.startAgent()
            try await rig.waitForLog("state cache saved", agent: first)
            try await first.stop()

            try FileManager.default.removeItem(atPath: rig.logPath)
            let second = try rig.startAgent()
            try await rig.waitForLog("state cache saved", agent: second)
            try await second.stop()
            #expect(rig.log.contains("log callback: 5 - Skip LS access.  Pull from RS."))
            #expect(Array(rig.stateChanges.prefix(2)) == ["INITIAL -> RSPULL", "RSPULL -> PULLDONE"])
            #expect(rig.journal(.ls).count == 1, "the LS was not asked again")
            // Each run pulled from the RS once (push-method-query traffic after PULLDONE not counted).
            #expect(rig.journal(.rs).filter { $0.messageType == "config-solicitation" }.count == 2)

            // Flip one byte: the digest no longer matches, the cache is ignored.
            var bytes = try Data(contentsOf: URL(fileURLWithPath: rig.statePath))
            bytes[200] ^= 0xFF
            try bytes.write(to: URL(fileURLWithPath: rig.statePath))
            try FileManager.default.removeItem(atPath: rig.logPath)
            let third = try rig.startAgent()
            try await rig.waitForLog("state cache saved", agent: third)
            try await third.stop()
            #expect(rig.log.contains("cannot restore state cache"))
            #expect(rig.stateChanges.first == "INITIAL -> LSPULL")
            #expect(rig.journal(.ls).count == 2)
        }
    }

    @Test func lsFailsTwiceThenAnswers() async throws {
        let lsAttempts = Counter()
        try await PullRig.with({ c in
            c.lsRetryMax = 3
            c.faultHook = { context in
                guard context.role == .ls else { return .none }
                return lsAttempts.next() <= 2 ? .status(.serviceUnavailable) : .none
            }
        }) { rig in
            let agent = try rig.startAgent()
            try await rig.waitForLog("state cache saved", agent: agent)
            try await agent.stop()
            #expect(rig.log.contains("log callback: 105 - http response (503)"))
            #expect(rig.log.contains("log callback: 8 - LS retry(1/1500), wait 0 sec."))
            #expect(rig.log.contains("log callback: 8 - LS retry(2/1500), wait 0 sec."))
            #expect(!rig.log.contains("LS retry(3/"))
            #expect(rig.journal(.ls).map(\.outcome) == ["fault:http-503", "fault:http-503", "ok"])
        }
    }

    @Test func firstRSDownSecondAnswersAndIsRemembered() async throws {
        try await PullRig.with({ c in
            c.hosts = ["127.0.0.1", "::1"]
            c.faultHook = { context in
                context.role == .rs && context.request.local?.hasPrefix("127.0.0.1") == true ? .close : .none
            }
        }) { rig in
            let agent = try rig.startAgent()
            try await rig.waitForLog("state cache saved", agent: agent)
            try await agent.stop()
            // The LS hands out both RS URLs with a line-static block, so both families are tried.
            #expect(rig.log.contains("log callback: 35 - retry to send request."))
            #expect(rig.log.contains("RS End point: https://[::1]:"))
            #expect(Array(rig.journal(.rs).map(\.outcome).prefix(2)) == ["fault:close", "ok"])
        }
    }

    @Test(arguments: [
        (501, "LS/RS denied pull access. exit.", false),
        (503, "reboot requested. exit.", true),
        (201, "reboot requested. exit.", true),
    ])
    func fatalLSResultCodesEndTheAgent(code: Int, line: String, runsReboot: Bool) async throws {
        let body = Array("<arms-message><arms-response type=\"rs-solicitation\"><result-code>\(code)</result-code></arms-response></arms-message>".utf8)
        let answer = Array("HTTP/1.0 200 OK\r\nContent-Type: text/xml\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
        try await PullRig.with({ c in
            c.faultHook = { $0.role == .ls ? .raw(answer) : .none }
        }) { rig in
            let agent = try rig.startAgent()
            #expect(try await agent.waitExit(timeout: 30) == 0)
            #expect(rig.log.contains(line), "\(rig.log)")
            #expect(rig.stateChanges.last == "LSPULL -> BOOT_FAIL")
            #expect(rig.scriptCalls.contains { $0.first == "reboot" } == runsReboot)
            #expect(rig.journal(.ls).count == 1, "no retry after a fatal class")
        }
    }

    @Test func wrongCAAndWrongLSNameAreRefused() async throws {
        for identity in [TLSIdentity.locationServerWrongCA, .locationServerWrongCN] {
            let rig = try await PullRig.start { c in c.lsTLS = ServerTLS(identity: identity) }
            let agent = try rig.startAgent()
            try await rig.waitForLog("LS retry(1/", agent: agent)
            try await agent.stop()
            await rig.stop()
            #expect(rig.log.contains("verification failure of server certificate"), "\(rig.log)")
            #expect(!rig.log.contains("LS Access Done"))
        }
    }

    @Test func malformedAndOversizedAnswersOnlyFailThatAttempt() async throws {
        let attempts = Counter()
        let malformed = Array("HTTP/1.0 200 OK\r\nContent-Length: 30\r\n\r\n<arms-message><arms-response>".utf8)
        let huge = Array("HTTP/1.0 200 OK\r\n\r\n<arms-message>".utf8) + [UInt8](repeating: 0x41, count: 5 << 20)
        try await PullRig.with({ c in
            c.lsRetryMax = 3
            c.faultHook = { context in
                guard context.role == .ls else { return .none }
                switch attempts.next() {
                case 1: return .raw(malformed)
                case 2: return .raw(huge)
                default: return .none
                }
            }
        }) { rig in
            let agent = try rig.startAgent()
            try await rig.waitForLog("state cache saved", agent: agent)
            try await agent.stop()
            #expect(rig.log.contains("LS retry(2/1500)"))
            #expect(rig.journal(.ls).map(\.outcome) == ["fault:raw", "fault:raw", "ok"])
        }
    }
}

/// A thread-safe counter for fault hooks.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.withLock { value += 1; return value } }
}

/// A server that accepts the request and never answers: libarms' 30 s response timer fails
/// that URL; the agent goes on to the next round and neither crashes nor hangs.
@Suite(.serialized) struct StalledServerConformanceTests {
    @Test func stalledLSTimesOutAndTheNextRoundSucceeds() async throws {
        let attempts = Counter()
        try await PullRig.with({ c in
            c.lsRetryMax = 3
            c.faultHook = { context in
                guard context.role == .ls else { return .none }
                return attempts.next() == 1 ? .delay(.seconds(45)) : .none
            }
        }) { rig in
            let agent = try rig.startAgent()
            let seconds = try await rig.waitForLog("state cache saved", timeout: 60, agent: agent)
            try await agent.stop()
            #expect(seconds >= 29, "the response timer is libarms' 30 s")
            #expect(rig.log.contains("SSL Connection timeout. (read)"), "\(rig.log)")
            #expect(rig.log.contains("LS retry(1/1500)"))
        }
    }
}

/// Without `-D` armsd daemonizes: the launcher exits 0, the daemon writes its PID file,
/// and SIGTERM still reaches it (agent.md §2).
@Suite(.serialized) struct DaemonModeConformanceTests {
    @Test func daemonizedAgentPullsAndStopsOnSIGTERM() async throws {
        try await PullRig.with { rig in
            let pidPath = rig.dir.path("armsd.pid")
            try (String(contentsOfFile: rig.confPath, encoding: .utf8) + "path-pid: \(pidPath)\n")
                .write(toFile: rig.confPath, atomically: true, encoding: .utf8)
            // The daemon inherits the descriptor Foundation uses to notice a child's exit, so the
            // launcher's status is taken through a shell instead of Process.
            let statusPath = rig.dir.path("launcher-status")
            let launcher = try RunningProcess(URL(fileURLWithPath: "/bin/sh"),
                                              ["-c", "\"$0\" \"$@\"; echo $? > \(statusPath)", try Repository.executable("armsd").path,
                                               "-b", rig.workPath, "-l", rig.logPath, "-f", rig.confPath])
            try await waitUntil("the launcher to exit") { FileManager.default.fileExists(atPath: statusPath) }
            #expect(try String(contentsOfFile: statusPath, encoding: .utf8) == "0\n")
            try await rig.waitForLog("state cache saved")
            try await waitUntil("the PID file") { FileManager.default.fileExists(atPath: pidPath) }
            let text = try String(contentsOfFile: pidPath, encoding: .utf8)
            let pid = try #require(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(kill(pid, SIGTERM) == 0)
            try await waitUntil("the daemon to exit") { kill(pid, 0) != 0 }
            #expect(rig.log.contains("signal 15 caught. exit."))
            #expect(!FileManager.default.fileExists(atPath: pidPath))
            #expect(!FileManager.default.fileExists(atPath: rig.workPath))
            _ = try await launcher.waitExit()
        }
    }
}
