import ArgumentParser
import Foundation
import Scenarios

/// `warplink-mock run`: runs scenario files against an agent and reports pass or fail.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run scenario files (or directories of them) against an armsd agent.",
        discussion: """
            Each scenario starts the mocks in this process on free loopback ports, writes the \
            agent's armsd.conf, Initial-Config and recording callback scripts into a fresh \
            directory, starts the agent, drives the steps, checks the expectations and stops \
            everything. One line per scenario; a failure prints why and a timeline. Exit code 1 \
            when any scenario fails, 2 when a file cannot be read. See docs/scenarios.md.
            """)

    @Argument(help: "Scenario files or directories (their *.yaml files).")
    var paths: [String]

    @Option(help: "The agent binary (any armsd-compatible program). Default: the armsd next to this program.")
    var agent: String?

    @Option(help: "Write a JUnit XML report to this file.")
    var junit: String?

    @Option(help: "Write a JSON report (results and timelines) to this file.")
    var json: String?

    @Option(help: "The seed of the fault plane's random choices (printed on every run).")
    var seed: UInt64?

    @Option(help: "Scenarios run at once.")
    var jobs = 4

    @Option(help: "Where the scenarios' directories go.")
    var workDirectory: String?

    @Flag(help: "Keep every scenario's directory (failed ones are always kept).")
    var keep = false

    @Option(help: "Run only scenarios whose id starts with this (e.g. ARMS-PULL).")
    var only: String?

    @Flag(help: "Print the check-id page (markdown) of the scenarios instead of running them.")
    var catalog = false

    func run() async throws {
        let files: [String]
        var scenarios: [Scenario] = []
        do {
            files = try ScenarioLoader.files(paths)
            for file in files { scenarios.append(try ScenarioLoader.load(contentsOf: file)) }
        } catch {
            FileHandle.standardError.write(Data("warplink-mock run: \(error)\n".utf8))
            throw ExitCode(2)
        }
        if let only { scenarios = scenarios.filter { $0.id.hasPrefix(only) } }
        if catalog {
            print(CatalogPage.markdown(scenarios), terminator: "")
            return
        }
        let duplicates = Dictionary(grouping: scenarios, by: \.id).filter { $0.value.count > 1 }
        if let (id, list) = duplicates.first {
            FileHandle.standardError.write(Data("warplink-mock run: check id \(id) is used by \(list.map(\.file).joined(separator: " and "))\n".utf8))
            throw ExitCode(2)
        }
        guard !scenarios.isEmpty else {
            FileHandle.standardError.write(Data("warplink-mock run: no scenarios in \(paths.joined(separator: " "))\n".utf8))
            throw ExitCode(2)
        }
        let agentPath = agent ?? Self.defaultAgent()
        guard FileManager.default.isExecutableFile(atPath: agentPath) else {
            FileHandle.standardError.write(Data("warplink-mock run: no agent at \(agentPath) (build it with `swift build --product armsd`, or give --agent)\n".utf8))
            throw ExitCode(2)
        }
        let seed = self.seed ?? RunOptions.freshSeed()
        let work = workDirectory ?? (NSTemporaryDirectory() + "warplink-run-\(getpid())")
        var options = RunOptions(agentPath: agentPath, seed: seed, workDirectory: work)
        options.jobs = max(1, jobs)
        options.keepFiles = keep
        FileHandle.standardOutput.write(Data("warplink-mock run: \(scenarios.count) scenario(s), seed \(seed), agent \(agentPath), \(options.jobs) at once\n".utf8))
        let started = Date()
        let results = await ScenarioRunner.run(scenarios, options: options) { result in
            var text = Reports.line(result) + "\n"
            if !result.passed { text += Reports.failureDetail(result) }
            FileHandle.standardOutput.write(Data(text.utf8))
        }
        let duration = Date().timeIntervalSince(started)
        let failed = results.filter { !$0.passed }
        var summary = String(format: "%d passed, %d failed in %.1f s (seed %llu)\n", results.count - failed.count, failed.count, duration, seed)
        if !failed.isEmpty { summary += "failed: " + failed.map(\.id).joined(separator: " ") + "\n" }
        FileHandle.standardOutput.write(Data(summary.utf8))
        if let junit {
            try Reports.junit(results, seed: seed, duration: duration).write(toFile: junit, atomically: true, encoding: .utf8)
        }
        if let json {
            try Reports.json(results, seed: seed, duration: duration).write(to: URL(fileURLWithPath: json))
        }
        if failed.isEmpty { try? FileManager.default.removeItem(atPath: work) }
        if !failed.isEmpty { throw ExitCode(1) }
    }

    /// `armsd` beside this executable (both come from the same `swift build`).
    static func defaultAgent() -> String {
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let beside = me.deletingLastPathComponent().appendingPathComponent("armsd").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("armsd").path
        return exe
    }
}
