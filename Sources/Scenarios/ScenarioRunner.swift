import Foundation

/// How a run goes.
public struct RunOptions: Sendable {
    /// The agent binary: any armsd-compatible program (our `armsd` by default).
    public var agentPath: String
    /// The run's seed; a scenario with its own `seed:` keeps it.
    public var seed: UInt64
    /// Where each scenario gets a fresh directory.
    public var workDirectory: String
    /// Keep every scenario's directory (failed ones are always kept).
    public var keepFiles = false
    /// Scenarios run at once.
    public var jobs = 4

    public init(agentPath: String, seed: UInt64, workDirectory: String) {
        self.agentPath = agentPath
        self.seed = seed
        self.workDirectory = workDirectory
    }

    /// A seed from the clock, when none was given.
    public static func freshSeed() -> UInt64 {
        UInt64(Date().timeIntervalSince1970 * 1000) % 1_000_000_000
    }
}

/// Runs scenarios, `jobs` at a time, each against its own in-process mocks on free ports.
public enum ScenarioRunner {
    /// Runs every scenario; `report` is called as each one ends (in completion order).
    /// The results come back in the order given.
    public static func run(_ scenarios: [Scenario], options: RunOptions,
                           report: @escaping @Sendable (ScenarioResult) -> Void = { _ in }) async -> [ScenarioResult] {
        var results = [ScenarioResult?](repeating: nil, count: scenarios.count)
        // The long ones (by their timeout) start first, so that they do not end the run alone.
        let order = scenarios.indices.sorted { scenarios[$0].timeout > scenarios[$1].timeout || (scenarios[$0].timeout == scenarios[$1].timeout && $0 < $1) }
        await withTaskGroup(of: (Int, ScenarioResult).self) { group in
            var next = 0
            func startNext() {
                guard next < order.count else { return }
                let index = order[next]
                next += 1
                group.addTask { (index, await ScenarioExecution(scenarios[index], options: options).run()) }
            }
            for _ in 0..<max(1, options.jobs) { startNext() }
            while let (index, result) = await group.next() {
                results[index] = result
                report(result)
                startNext()
            }
        }
        return results.map { $0! }
    }
}
