import ARMSProtocol
import MockCore
import MockRS

/// One scenario file (docs/scenarios.md): what the service does, what faults it injects,
/// what the steps drive, and what a conforming agent must do in answer.
public struct Scenario: Sendable {
    /// The check id, `ARMS-PULL-001`: one area (PULL, PUSH, TUN, HB, AF, CACHE) and a number.
    public var id: String
    public var title: String
    /// The libarms rule the scenario checks, in one line.
    public var rule: String
    /// Where it was read from (for messages).
    public var file: String
    /// Fixed seed for the fault plane's random choices; `nil` takes the run's seed.
    public var seed: UInt64?
    /// The whole scenario must end within this many seconds of the agent's start.
    public var timeout: Double
    /// The SAs provisioned; the agent runs as the first.
    public var sas: [SAProfile]
    public var topology: Topology
    public var timing: Timing
    public var agent: AgentSetup
    public var steps: [Step]
    public var faults: [FaultRule]
    public var end: End
    public var expect: Expectations

    /// The areas a check id may name.
    public static let areas = ["PULL", "PUSH", "TUN", "HB", "AF", "CACHE"]

    /// The area of the id (`PULL` of `ARMS-PULL-001`).
    public var area: String { id.split(separator: "-").dropFirst().first.map(String.init) ?? "" }
}

public enum AddressFamilies: String, Sendable, CaseIterable {
    case ipv4, ipv6, both

    /// The loopback addresses the mocks listen on.
    public var hosts: [String] {
        switch self {
        case .ipv4: return ["127.0.0.1"]
        case .ipv6: return ["::1"]
        case .both: return ["127.0.0.1", "::1"]
        }
    }
}

public enum CertificateChoice: String, Sendable, CaseIterable {
    case good, wrongCA = "wrong-ca", wrongCN = "wrong-cn", expired, notYetValid = "not-yet-valid"
}

public struct Topology: Sendable {
    /// The families the LS, RS and tunnel endpoint listen on.
    public var families: AddressFamilies = .ipv4
    /// The family of the LS URL in the agent's Initial-Config (default: the first listened on).
    public var lsURL: AddressFamilies?
    /// How many RS URLs the LS hands out (1 or 2 per family; the second RS listens on
    /// 127.0.0.2, or on a second port of ::1).
    public var remoteServers = 1
    /// The push methods the RS offers, in its order; empty offers none.
    public var pushMethods: [String] = [PushMethod.httpsTunnel]
    /// The families of the RS URLs the LS hands out (default: every listened family).
    public var rsURLs: AddressFamilies?
    /// Which tunnel URLs are offered (default: every listened family).
    public var tunnelURLs: AddressFamilies?
    /// Start a CONNECT proxy and name it in armsd.conf (`https-proxy-url`).
    public var proxy = false
    public var lsCertificate: CertificateChoice = .good
    public var rsCertificate: CertificateChoice = .good
}

/// The intervals and counts the mocks hand out, shortened so that schedules run in seconds.
public struct Timing: Sendable {
    /// Initial-Config `retry-interval` (libarms pauses × 20 s between LS rounds).
    public var lsRetryInterval = 0
    /// Initial-Config `retry-max` (libarms makes × 500 + 1 LS rounds).
    public var lsRetryMax = 0
    public var rsRetryInterval = 0
    public var rsRetryMax = 1
    /// `https-tunnel-echo-interval`; nil leaves it out (libarms: 60 s).
    public var echoInterval: Int? = 60
    /// Heartbeat interval given to every SA (nil keeps the profile's own, or none).
    public var heartbeatInterval: Int?
    /// The tunnel endpoint closes a silent tunnel after this long.
    public var tunnelIdleTimeout: Double = 130
    /// The LS/RS read time-out per connection.
    public var readTimeout: Double = 30
}

public struct AgentSetup: Sendable {
    /// Start without a state cache, or with the one a fault-free warm-up run to PUSH_WAIT
    /// left (`warm`), damaged (`corrupt`: a byte flipped; `truncated`: cut short).
    public var stateCache: CacheStart = .none
    /// Exit codes of the recording callback scripts (`reconfig: 1`).
    public var scriptExits: [String: Int32] = [:]
    /// Extra `key: value` lines for armsd.conf.
    public var confLines: [String] = []
    /// Extra command-line arguments for the agent.
    public var arguments: [String] = []

    public enum CacheStart: String, Sendable, CaseIterable { case none, warm, corrupt, truncated }
}

/// One step: an action, run when its trigger fires. Steps run in order; each is armed
/// once the one before it finished.
public struct Step: Sendable {
    public var line: Int
    public var trigger: Trigger
    /// Waited after the trigger fired.
    public var delay: Double = 0
    public var action: Action
    /// What a push step's operation must end as.
    public var pushExpect: PushExpectation?

    public enum Action: Sendable {
        case push(PushOperationRequest)
        case editConfig(module: UInt32, config: String)
        case server(role: ServerRole, up: Bool)
        case restartAgent(keepCache: Bool)
        case stopAgent
        case dropTunnels
        case echoReplies(Bool)
        /// Nothing: a checkpoint (an end point for `delay`, a trigger to wait for).
        case mark
    }
}

public struct PushExpectation: Sendable {
    /// `succeeded`, `failed` or `timed-out`.
    public var state: String?
    public var resultCode: Int?
    /// Text the operation's output must contain.
    public var output: String?
}

/// When something happens.
public enum Trigger: Sendable, CustomStringConvertible {
    /// Seconds after the agent's start.
    case at(Double)
    /// The agent reached this state for the nth time.
    case state(String, occurrence: Int)
    /// The mock's journal holds the nth exchange matching.
    case message(JournalMatch, count: Int)
    /// The SA is push-ready at the mock (a confirmed tunnel or https-simple endpoint).
    case pushReady
    /// The agent process exited.
    case agentExit
    /// At once (right after the step before).
    case now

    public var description: String {
        switch self {
        case .at(let s): return "at \(s) s"
        case .state(let s, let n): return n == 1 ? "state \(s)" : "state \(s) (#\(n))"
        case .message(let m, let n): return "\(m) #\(n)"
        case .pushReady: return "push-ready"
        case .agentExit: return "agent exit"
        case .now: return "now"
        }
    }
}

/// Which journal entries count.
public struct JournalMatch: Sendable, CustomStringConvertible {
    public var role: ServerRole?
    public var messageType: String?
    /// Exact outcome (`ok`, `fault:http-503`) or a prefix ending in `*` (`fault:*`).
    public var outcome: String?
    public var resultCode: Int?
    /// Text the entry's detail must contain.
    public var detail: String?

    public func matches(_ e: JournalEntry) -> Bool {
        if let detail, !(e.detail ?? "").contains(detail) { return false }
        if let role, e.role != role { return false }
        if let messageType, e.messageType != messageType { return false }
        if let resultCode, e.resultCode != resultCode { return false }
        if let outcome {
            if outcome.hasSuffix("*") { if !e.outcome.hasPrefix(String(outcome.dropLast())) { return false } }
            else if e.outcome != outcome { return false }
        }
        return true
    }

    public var description: String {
        var parts: [String] = []
        if let role { parts.append(role.rawValue) }
        parts.append(messageType ?? "any message")
        if let outcome { parts.append("outcome \(outcome)") }
        if let resultCode { parts.append("result \(resultCode)") }
        if let detail { parts.append("detail ~ \"\(detail)\"") }
        return parts.joined(separator: " ")
    }
}

/// When the scenario ends (then `settle` seconds pass before the expectations are checked).
public struct End: Sendable {
    /// nil: when every step ran and `expect.final-state` (or the expected exit) is reached.
    public var trigger: Trigger?
    public var settle: Double = 0.3
}

public struct Expectations: Sendable {
    /// States the agent must enter, in this order (others may come between).
    public var states: [String] = []
    /// The state the agent is in at the end.
    public var finalState: String?
    /// States the agent must never enter.
    public var never: [String] = []
    public var exit: ExitExpectation = .running
    /// Script calls that must happen in this order: name and argument patterns (`*` matches any text).
    public var scripts: [[String]] = []
    /// Exact number of calls per script.
    public var scriptCounts: [String: Int] = [:]
    /// The config the module's last `start` or `reconfig` received.
    public var configs: [UInt32: String] = [:]
    public var journal: [JournalExpectation] = []
    /// Lines the agent's log must contain (our armsd and libarms' armsd write the same texts).
    public var log: [String] = []
    public var heartbeat: HeartbeatExpectation?
    /// The end must come within this many seconds of the agent's start.
    public var within: Double?

    public enum ExitExpectation: Sendable, Equatable {
        case running
        case exited
        case code(Int32)
        case nonzero
    }
}

public struct JournalExpectation: Sendable {
    public var line: Int
    public var match: JournalMatch
    public var exactly: Int?
    public var atLeast: Int?
    public var atMost: Int?
}

public struct HeartbeatExpectation: Sendable {
    public var acceptedAtLeast: Int?
    /// Exact number of rejected datagrams (nil: not checked).
    public var rejected: Int?
    /// At least this many rejections for a reason (`bad-hmac`, …).
    public var rejectedFor: [String: Int] = [:]
    /// The mean interval between accepted datagrams must be within ± this fraction of the handed-out interval.
    public var intervalTolerance: Double?
    /// Every accepted datagram came from this family.
    public var family: String?
}

/// A fault: which events it applies to and what it does.
public struct FaultRule: Sendable {
    public var line: Int
    public var target: Target
    /// Occurrences (1-based) of the matching event it applies to; empty = every one.
    public var occurrences: OccurrenceSet
    public var probability: Double = 1
    public var action: FaultAction

    public struct Target: Sendable, CustomStringConvertible {
        public var role: ServerRole
        /// The ARMS message type (`config-solicitation`); nil = every exchange of the role.
        public var messageType: String?
        /// Only this RS/LS listener address (`127.0.0.2`); nil = any.
        public var listener: String?

        public var description: String {
            [role.rawValue, messageType, listener.map { "on \($0)" }].compactMap { $0 }.joined(separator: " ")
        }
    }
}

/// 1-based occurrence numbers: `all`, `1`, `[1, 3]`, `2-4`, `3-` (from the third on).
public struct OccurrenceSet: Sendable, CustomStringConvertible {
    public var ranges: [ClosedRange<Int>]
    public static let all = OccurrenceSet(ranges: [])

    public func contains(_ n: Int) -> Bool { ranges.isEmpty || ranges.contains { $0.contains(n) } }

    public var description: String {
        if ranges.isEmpty { return "every" }
        return ranges.map { r in
            r.lowerBound == r.upperBound ? "#\(r.lowerBound)" : (r.upperBound == Int.max ? "#\(r.lowerBound)+" : "#\(r.lowerBound)-\(r.upperBound)")
        }.joined(separator: ",")
    }
}

public enum FaultAction: Sendable, CustomStringConvertible {
    // LS / RS exchanges
    case resultCode(Int)
    case httpStatus(Int)
    case close
    case delay(Double)
    case dribble(Double)
    case resetMidBody
    case truncate
    case malformedXML
    // connections (LS, RS, tunnel)
    case refuse
    case handshakeCut
    case handshakeStall
    // inside the tunnel
    case confirmResult(Int)
    case openStatus(Int)
    case chunkTruncate
    case chunkMalformed
    case chunkMalformedXML
    // heartbeat datagrams
    case drop
    case duplicate
    case corrupt

    public var description: String {
        switch self {
        case .resultCode(let c): return "result \(c)"
        case .httpStatus(let s): return "http \(s)"
        case .close: return "close"
        case .delay(let s): return "delay \(s)"
        case .dribble(let s): return "dribble \(s)"
        case .resetMidBody: return "reset"
        case .truncate: return "truncate"
        case .malformedXML: return "malformed-xml"
        case .refuse: return "refuse"
        case .handshakeCut: return "handshake-cut"
        case .handshakeStall: return "handshake-stall"
        case .confirmResult(let c): return "confirm-result \(c)"
        case .openStatus(let s): return "open-status \(s)"
        case .chunkTruncate: return "chunk-truncate"
        case .chunkMalformed: return "chunk-malformed"
        case .chunkMalformedXML: return "chunk-malformed-xml"
        case .drop: return "drop"
        case .duplicate: return "duplicate"
        case .corrupt: return "corrupt"
        }
    }

    /// The verbs a `do:` line may start with, and whether they take a number.
    static let verbs: [(String, Bool)] = [
        ("result", true), ("http", true), ("close", false), ("delay", true), ("dribble", true), ("reset", false),
        ("truncate", false), ("malformed-xml", false), ("refuse", false), ("handshake-cut", false),
        ("handshake-stall", false), ("confirm-result", true), ("open-status", true), ("chunk-truncate", false),
        ("chunk-malformed", false), ("chunk-malformed-xml", false), ("drop", false),
        ("duplicate", false), ("corrupt", false),
    ]

    /// Whether the action is decided per connection (before any request is read).
    var isConnectionLevel: Bool {
        switch self {
        case .refuse, .handshakeCut, .handshakeStall: return true
        default: return false
        }
    }
}
