import Foundation
import Testing

/// `warplink-mock run` as users run it: a process, its lines, its exit code and its reports.
@Suite("warplink-mock run", .serialized)
struct RunCommandTests {
    @Test("two scenarios pass; the seed is printed; JUnit and JSON reports are written")
    func reports() async throws {
        let dir = try TemporaryDirectory("run-cli")
        let scenarios = Repository.root.appendingPathComponent("scenarios")
        let run = try RunningProcess(try Repository.executable("warplink-mock"), [
            "run", scenarios.appendingPathComponent("pull-001-first-boot.yaml").path,
            scenarios.appendingPathComponent("push-004-md-command.yaml").path,
            "--seed", "4242", "--junit", dir.path("report.xml"), "--json", dir.path("report.json"),
        ])
        #expect(try await run.waitExit(timeout: 60) == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("seed 4242"))
        #expect(run.stdoutLines.contains { $0.hasPrefix("PASS ARMS-PULL-001") })
        #expect(run.stdoutLines.contains { $0.hasPrefix("PASS ARMS-PUSH-004") })
        let xml = try String(contentsOfFile: dir.path("report.xml"), encoding: .utf8)
        #expect(xml.contains("<testsuite name=\"warplink-mock scenarios\" tests=\"2\" failures=\"0\""))
        #expect(xml.contains("<property name=\"seed\" value=\"4242\"/>"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.path("report.json")))) as? [String: Any]
        #expect(json?["seed"] as? Int == 4242)
        #expect(json?["passed"] as? Int == 2)
        let results = json?["scenarios"] as? [[String: Any]] ?? []
        #expect(results.map { $0["id"] as? String } == ["ARMS-PULL-001", "ARMS-PUSH-004"])
        #expect(((results.first?["timeline"] as? [[String: Any]]) ?? []).contains { ($0["text"] as? String)?.contains("rs-solicitation") == true })
    }

    @Test("a failing scenario exits 1 with its timeline in the JUnit failure")
    func failure() async throws {
        let dir = try TemporaryDirectory("run-cli-fail")
        // First boot expects the LS; claiming it is never asked must fail.
        let text = try String(contentsOf: Repository.root.appendingPathComponent("scenarios/pull-001-first-boot.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "{role: LS, message: rs-solicitation, count: 1}", with: "{role: LS, message: rs-solicitation, count: 0}")
        try text.write(toFile: dir.path("wrong.yaml"), atomically: true, encoding: .utf8)
        let run = try RunningProcess(try Repository.executable("warplink-mock"),
                                     ["run", dir.path("wrong.yaml"), "--junit", dir.path("report.xml"), "--work-directory", dir.path("work")])
        #expect(try await run.waitExit(timeout: 60) == 1)
        #expect(run.stdout.contains("FAIL ARMS-PULL-001"))
        #expect(run.stdout.contains("expected exactly 0, saw 1"))
        #expect(run.stdout.contains("timeline"))
        let xml = try String(contentsOfFile: dir.path("report.xml"), encoding: .utf8)
        #expect(xml.contains("<failure message=\"journal (line"))
        #expect(xml.contains("INITIAL -&gt; LSPULL"))
    }

    @Test("a broken file is refused with file, line and key, exit 2")
    func badFile() async throws {
        let dir = try TemporaryDirectory("run-cli-bad")
        try "version: 1\nid: ARMS-PULL-999\ntitle: t\nrule: r\ntime:\n  rs-retry-max: lots\nexpect: {}\n".write(toFile: dir.path("bad.yaml"), atomically: true, encoding: .utf8)
        let run = try RunningProcess(try Repository.executable("warplink-mock"), ["run", dir.path("bad.yaml")])
        #expect(try await run.waitExit(timeout: 30) == 2)
        #expect(run.stderr.contains("bad.yaml:6: time.rs-retry-max: \"lots\" is not a whole number"), "\(run.stderr)")
    }
}
