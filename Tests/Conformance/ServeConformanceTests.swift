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
}
