import Foundation
import Scenarios
import Testing

/// The scenario catalog (`scenarios/`) against the built `armsd`, as `warplink-mock run` runs it.
@Suite("Scenario catalog", .serialized)
struct ScenarioCatalogTests {
    static func catalog() throws -> [Scenario] {
        try ScenarioLoader.files([Repository.root.appendingPathComponent("scenarios").path]).map { try ScenarioLoader.load(contentsOf: $0) }
    }

    static func options(agent: String) throws -> RunOptions {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString.prefix(8))").path
        var options = RunOptions(agentPath: agent, seed: 20261128, workDirectory: work)
        options.jobs = 4
        return options
    }

    @Test("every scenario passes against our armsd")
    func catalogPasses() async throws {
        let scenarios = try Self.catalog()
        #expect(scenarios.count >= 40)
        let options = try Self.options(agent: try Repository.executable("armsd").path)
        let results = await ScenarioRunner.run(scenarios, options: options)
        for r in results where !r.passed {
            Issue.record("\(Reports.line(r))\n\(Reports.failureDetail(r))")
        }
        #expect(results.filter(\.passed).count == scenarios.count)
        try? FileManager.default.removeItem(atPath: options.workDirectory)
    }

    @Test("check ids are unique and docs/checks.md lists every one")
    func checkPage() throws {
        let scenarios = try Self.catalog()
        let ids = scenarios.map(\.id)
        #expect(Set(ids).count == ids.count, "duplicate check ids")
        for area in Scenario.areas { #expect(scenarios.contains { $0.area == area }, "no scenario for \(area)") }
        let page = try String(contentsOf: Repository.root.appendingPathComponent("docs/checks.md"), encoding: .utf8)
        #expect(page == CatalogPage.markdown(scenarios), "docs/checks.md is stale: run `swift run warplink-mock run --catalog scenarios > docs/checks.md`")
    }

    /// A deliberately broken agent: a wrapper around our armsd that lowers the Initial-Config's
    /// retry-max by one before starting it, so that it gives up on the LS hundreds of rounds
    /// too early. The LS-exhaustion scenario must fail, and its timeline must show why.
    @Test("an agent that retries too few times fails the retry scenario, with a timeline that shows it")
    func brokenAgentIsCaught() async throws {
        let dir = try TemporaryDirectory("broken-agent")
        let wrapper = dir.path("armsd-fewer-retries")
        let armsd = try Repository.executable("armsd").path
        try writeScript(wrapper, """
            conf=""
            prev=""
            for a in "$@"; do [ "$prev" = "-f" ] && conf="$a"; prev="$a"; done
            iconfig=$(sed -n 's/^path-iconfig: *//p' "$conf")
            last=$(tail -n 1 "$iconfig")
            if [ "$last" -gt 0 ]; then sed -i '$ s/.*/'$((last - 1))'/' "$iconfig"; fi
            exec '\(armsd)' "$@"
            """)
        let scenario = try #require(try Self.catalog().first { $0.id == "ARMS-PULL-015" })
        let results = await ScenarioRunner.run([scenario], options: try Self.options(agent: wrapper))
        let result = try #require(results.first)
        #expect(!result.passed)
        #expect(result.failures.contains { $0.contains("LS rs-solicitation") && $0.contains("expected exactly 501, saw 1") },
                "\(result.failures)")
        let text = Reports.failureDetail(result)
        #expect(text.contains("rs-solicitation http 503"))
        #expect(text.contains("arms") || text.contains("reboot"))
        if let kept = result.directory { try? FileManager.default.removeItem(atPath: kept) }
    }
}
