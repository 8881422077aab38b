/// One line of a scenario's timeline.
public struct TimelineEvent: Codable, Sendable {
    /// Seconds since the agent's (first) start; negative for the warm-up.
    public var time: Double
    /// `state`, `script`, `LS`, `RS`, `tunnel`, `simple`, `heartbeat`, `proxy`, `fault`, `step`, `agent`.
    public var source: String
    public var text: String
}

/// What running one scenario gave.
public struct ScenarioResult: Codable, Sendable {
    public var id: String
    public var title: String
    public var rule: String
    public var file: String
    public var passed: Bool
    /// Wall-clock seconds, setup and teardown included.
    public var duration: Double
    /// The seed its fault plane used.
    public var seed: UInt64
    /// Why it failed, one line each (empty when it passed).
    public var failures: [String]
    public var timeline: [TimelineEvent]
    /// Where its files were kept (`--keep`, or on failure), else nil.
    public var directory: String?
}
