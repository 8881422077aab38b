import Foundation
import Testing

/// The README's main command as users run it: `warplink-mock serve` as a process, then
/// the built `armsd` with nothing but the armsd.conf it wrote.
@Suite(.serialized) struct ServeConformanceTests {
    struct Ready: Decodable {
        struct Files: Decodable { let directory, ca, initialConfig, armsdConf: String }
        let event: String
        let ls, rs, sas: [String]
        let control: String
        let data: Files?
    }

    @Test func serveThenArmsdWithTheGeneratedConfigReachesPullDone() async throws {
        let dir = try TemporaryDirectory("serve")
        let serve = try RunningProcess(try Repository.executable("warplink-mock"),
                                       ["serve", "--data", dir.path("data"), "--ls-port", "0", "--rs-port", "0", "--tunnel-port", "0", "--heartbeat-port", "0",
                                        "--control-port", "0", "--host", "127.0.0.1", "--host", "::1"])
        let line = try await serve.waitForLine(containing: "\"event\":\"ready\"")
        let ready = try JSONDecoder().decode(Ready.self, from: Data(line.utf8))
        #expect(ready.ls.count == 2 && ready.rs.count == 2)
        #expect(ready.ls.contains { $0.hasPrefix("https://[::1]:") })
        let files = try #require(ready.data)
        for path in [files.ca, files.initialConfig, files.armsdConf] {
            #expect(FileManager.default.fileExists(atPath: path), "\(path)")
        }

        let log = dir.path("armsd.log")
        let agent = try RunningProcess(try Repository.executable("armsd"),
                                       ["-D", "-b", dir.path("work"), "-l", log, "-f", files.armsdConf])
        try await waitUntil("armsd to save its state cache", timeout: 30) {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("state cache saved")
        }
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(text.contains("state changed: RSPULL -> PULLDONE"))
        #expect(text.contains("initial configuration succeeded"))
        #expect(try await agent.stop() == 1)

        // The CLI finds the running server through the data directory.
        let list = try RunningProcess(try Repository.executable("warplink-mock"), ["sa", "list", "--data", files.directory])
        #expect(try await list.waitExit() == 0)
        #expect(list.stdout.contains(ready.sas[0]))

        #expect(try await serve.stop(signal: SIGTERM) == 0)
        #expect(!FileManager.default.fileExists(atPath: files.directory + "/control.json"))
    }

    /// The README's session: `serve`, `armsd` on the armsd.conf and demo scripts it wrote,
    /// then `warplink-mock push …` from another process, and the scripts' output on armsd's stdout.
    @Test func readmeSessionPushesAConfigThroughTheCLI() async throws {
        let dir = try TemporaryDirectory("session")
        let mock = try Repository.executable("warplink-mock")
        let serve = try RunningProcess(mock, ["serve", "--data", dir.path("data"), "--ls-port", "0", "--rs-port", "0", "--tunnel-port", "0",
                                              "--heartbeat-port", "0", "--control-port", "0"])
        let line = try await serve.waitForLine(containing: "\"event\":\"ready\"")
        let ready = try JSONDecoder().decode(Ready.self, from: Data(line.utf8))
        let files = try #require(ready.data)
        let sa = try #require(ready.sas.first)
        let agent = try RunningProcess(try Repository.executable("armsd"), ["-D", "-b", dir.path("work"), "-f", files.armsdConf])
        do {
            // The demo state-changed script prints every state on armsd's stdout.
            _ = try await agent.waitForLine(containing: "[state] PUSH_SENDREADY -> PUSH_WAIT", timeout: 30)
            #expect(agent.stdout.contains("[start] module 1 version 1.0 info 'router-main':"))

            let config = dir.path("router.conf")
            try "hostname edge-router-7\ninterface lan0 address 10.0.0.1/24\n".write(toFile: config, atomically: true, encoding: .utf8)
            let configure = try RunningProcess(mock, ["push", "configure", "--data", files.directory, "--sa", sa, "--module", "1",
                                                      "--config", config])
            #expect(try await configure.waitExit(timeout: 60) == 0, "\(configure.stdout)\(configure.stderr)")
            #expect(configure.stdout.contains("transaction-result: 100"), "\(configure.stdout)")
            _ = try await agent.waitForLine(containing: "    | hostname edge-router-7", timeout: 10)
            #expect(agent.stdout.contains("[reconfig] module 1 version 1.0 info 'router-main' from "))

            // After a configure the tunnel confirms again; the CLI waits until the SA is push-ready
            // or says why not.
            var answer = ""
            for _ in 0..<100 where answer.isEmpty {
                let command = try RunningProcess(mock, ["push", "md-command", "--data", files.directory, "--sa", sa, "--module", "1",
                                                        "--command", "show version"])
                if try await command.waitExit(timeout: 30) == 0 { answer = command.stdout } else {
                    #expect(command.stderr.contains("not push-ready"), "\(command.stderr)")
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            #expect(answer.contains("module 1 ran: show version"), "\(answer)")

            // Errors are clear and exit non-zero: an unknown operation, an SA that is not push-ready.
            let unknown = try RunningProcess(mock, ["push", "frobnicate", "--data", files.directory, "--sa", sa])
            #expect(try await unknown.waitExit() != 0)
            #expect(unknown.stderr.contains("frobnicate"), "\(unknown.stderr)")
            let absent = try RunningProcess(mock, ["push", "reboot", "--data", files.directory, "--sa", "0001-0000-0000-0000-0000-0000-0000-0099"])
            #expect(try await absent.waitExit() != 0)
            #expect(!absent.stderr.isEmpty)
        } catch {
            _ = try? await agent.stop()
            _ = try? await serve.stop()
            throw error
        }
        #expect(try await agent.stop() == 1)
        #expect(try await serve.stop(signal: SIGTERM) == 0)
    }
}
