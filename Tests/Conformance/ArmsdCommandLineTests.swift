import Foundation
import Testing

/// The built `armsd` binary's command line and configuration errors (agent.md §2–3).
@Suite(.serialized) struct ArmsdCommandLineTests {
    @Test func versionAndHelp() async throws {
        let v = try RunningProcess(try Repository.executable("armsd"), ["-V"])
        #expect(try await v.waitExit() == 0)
        #expect(v.stdout.hasPrefix("armsd version "))
        let h = try RunningProcess(try Repository.executable("armsd"), ["-h"])
        #expect(try await h.waitExit() == 0)
        #expect(h.stdout.contains("usage: armsd"))
    }

    @Test func unknownOptionExitsOneWithUsage() async throws {
        let p = try RunningProcess(try Repository.executable("armsd"), ["-Z"])
        #expect(try await p.waitExit() == 1)
        #expect(p.stderr.contains("invalid option -- 'Z'"))
        #expect(p.stderr.contains("usage: armsd"))
    }

    @Test func badConfigurationNamesTheLineAndKey() async throws {
        let dir = try TemporaryDirectory()
        let conf = dir.path("armsd.conf")
        try "# test\ndistribution-id: 0001-0000-0000-0000-0000-0000-0000-0001\ntimeout: soon\n".write(toFile: conf, atomically: true, encoding: .utf8)
        let p = try RunningProcess(try Repository.executable("armsd"), ["-D", "-f", conf])
        #expect(try await p.waitExit() == 1)
        #expect(p.stderr.contains("armsd.conf:3: timeout:"), "stderr: \(p.stderr)")
    }

    @Test func missingDistributionIDExitsOne() async throws {
        let dir = try TemporaryDirectory()
        let conf = dir.path("armsd.conf")
        try "ls-sa-key: x\n".write(toFile: conf, atomically: true, encoding: .utf8)
        let p = try RunningProcess(try Repository.executable("armsd"), ["-D", "-f", conf])
        #expect(try await p.waitExit() == 1)
        #expect(p.stderr.contains("no distribution-id"))
    }

    @Test func unknownKeyOnlyWarns() async throws {
        let dir = try TemporaryDirectory()
        let conf = dir.path("armsd.conf")
        // No path-root-ca: the agent then refuses to start, but only after warning about the unknown key.
        try "distribution-id: 0001-0000-0000-0000-0000-0000-0000-0001\nfancy-key: 1\n".write(toFile: conf, atomically: true, encoding: .utf8)
        let p = try RunningProcess(try Repository.executable("armsd"), ["-D", "-f", conf])
        #expect(try await p.waitExit() == 1)
        #expect(p.stderr.contains("warning: unknown configuration parameter: fancy-key=1"))
        #expect(p.stderr.contains("path-root-ca"))
    }
}
