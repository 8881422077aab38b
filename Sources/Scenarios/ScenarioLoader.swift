import ARMSProtocol
import Foundation
import MockCore
import MockRS
import MockService
import Yams

/// Reads scenario files (docs/scenarios.md). Every key is checked; errors name file, line
/// and key: `scenarios/pull-001.yaml:14: faults[0].do: "result abc" …`.
public enum ScenarioLoader {
    public static let formatVersion = 1
    public static let maxSize = 256 * 1024
    public static let maxDepth = 16
    public static let maxSteps = 200
    public static let maxFaults = 100

    /// The scenario files of the paths given: files as they are, directories' `*.yaml`
    /// (not recursive), sorted by name.
    public static func files(_ paths: [String]) throws(YAMLLoadError) -> [String] {
        var out: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw YAMLLoadError(fileName: path, line: nil, key: "", message: "no such file or directory")
            }
            if isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                out += names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
                    .map { path.hasSuffix("/") ? path + $0 : path + "/" + $0 }
            } else {
                out.append(path)
            }
        }
        return out
    }

    public static func load(contentsOf path: String) throws(YAMLLoadError) -> Scenario {
        try parse(try YAMLDocument.read(contentsOf: path, maxSize: maxSize), fileName: path)
    }

    public static func parse(_ text: String, fileName: String = "scenario.yaml") throws(YAMLLoadError) -> Scenario {
        try YAMLDocument.withRoot(text, fileName: fileName, maxSize: maxSize, maxDepth: maxDepth) { (root, w) throws(YAMLLoadError) in
            guard let root else { throw YAMLLoadError(fileName: fileName, line: 1, key: "", message: "empty file") }
            return try ScenarioReader(w: w).scenario(root)
        }
    }
}

/// The walk over one scenario document.
struct ScenarioReader {
    let w: YAMLWalker

    func scenario(_ root: Node) throws(YAMLLoadError) -> Scenario {
        let e = try w.mapping(root, "", allowed: ["version", "id", "title", "rule", "seed", "timeout", "sas", "topology", "time",
                                                  "agent", "steps", "faults", "end", "expect"])
        let version = try w.string(e, "version", in: "", at: root)
        guard version == String(ScenarioLoader.formatVersion) else {
            throw w.fail(e["version"]?.value, "version", "unsupported version \"\(version)\" (this build reads version \(ScenarioLoader.formatVersion))")
        }
        let id = try w.string(e, "id", in: "", at: root)
        let parts = id.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "ARMS", Scenario.areas.contains(String(parts[1])), parts[2].count == 3,
              parts[2].allSatisfy(\.isNumber) else {
            throw w.fail(e["id"]?.value, "id", "\"\(id)\" is not a check id ARMS-<AREA>-<NNN> with AREA one of \(Scenario.areas.joined(separator: ", "))")
        }
        let title = try w.string(e, "title", in: "", at: root)
        let rule = try w.string(e, "rule", in: "", at: root)
        var seed: UInt64?
        if let v = e["seed"]?.value {
            seed = UInt64(try w.integer(v, "seed", in: 0...999_999_999))
        }
        let timeout = try e["timeout"].map { kv throws(YAMLLoadError) in try w.seconds(kv.value, "timeout", in: 0.1...600) } ?? 20
        var sas: [SAProfile] = [.demo]
        if let v = e["sas"]?.value {
            let items = try w.sequence(v, "sas")
            guard !items.isEmpty, items.count <= 100 else { throw w.fail(v, "sas", "give 1 to 100 SAs") }
            sas = []
            for (k, item) in items.enumerated() { sas.append(try w.saProfile(item, "sas[\(k)]")) }
        }
        var topology = Topology()
        if let v = e["topology"]?.value { topology = try self.topology(v) }
        var timing = Timing()
        if let v = e["time"]?.value { timing = try self.timing(v) }
        var agent = AgentSetup()
        if let v = e["agent"]?.value { agent = try self.agent(v) }
        var steps: [Step] = []
        if let v = e["steps"]?.value {
            let items = try w.sequence(v, "steps")
            guard items.count <= ScenarioLoader.maxSteps else { throw w.fail(v, "steps", "at most \(ScenarioLoader.maxSteps) steps") }
            for (k, item) in items.enumerated() { steps.append(try step(item, "steps[\(k)]")) }
        }
        var faults: [FaultRule] = []
        if let v = e["faults"]?.value {
            let items = try w.sequence(v, "faults")
            guard items.count <= ScenarioLoader.maxFaults else { throw w.fail(v, "faults", "at most \(ScenarioLoader.maxFaults) faults") }
            for (k, item) in items.enumerated() { faults.append(try fault(item, "faults[\(k)]")) }
        }
        var end = End()
        if let v = e["end"]?.value { end = try self.end(v) }
        guard let expectNode = e["expect"]?.value else { throw w.fail(root, "expect", "missing (required: what a conforming agent does)") }
        let expect = try expectations(expectNode)
        return Scenario(id: id, title: title, rule: rule, file: w.fileName, seed: seed, timeout: timeout, sas: sas, topology: topology,
                        timing: timing, agent: agent, steps: steps, faults: faults, end: end, expect: expect)
    }

    // MARK: - Sections

    func topology(_ node: Node) throws(YAMLLoadError) -> Topology {
        let p = "topology"
        let e = try w.mapping(node, p, allowed: ["families", "ls-url", "rs-urls", "remote-servers", "push-methods", "tunnel-urls", "proxy", "certificates"])
        var t = Topology()
        let familyNames = AddressFamilies.allCases.map(\.rawValue)
        if let v = e["families"]?.value { t.families = AddressFamilies(rawValue: try w.choice(v, p + ".families", familyNames))! }
        if let v = e["ls-url"]?.value { t.lsURL = AddressFamilies(rawValue: try w.choice(v, p + ".ls-url", ["ipv4", "ipv6"]))! }
        if let v = e["rs-urls"]?.value { t.rsURLs = AddressFamilies(rawValue: try w.choice(v, p + ".rs-urls", familyNames))! }
        if let v = e["tunnel-urls"]?.value { t.tunnelURLs = AddressFamilies(rawValue: try w.choice(v, p + ".tunnel-urls", familyNames))! }
        if let v = e["remote-servers"]?.value { t.remoteServers = try w.integer(v, p + ".remote-servers", in: 1...2) }
        if let v = e["push-methods"]?.value {
            t.pushMethods = []
            for (k, item) in try w.sequence(v, p + ".push-methods").enumerated() {
                t.pushMethods.append(try w.choice(item, p + ".push-methods[\(k)]", [PushMethod.httpsTunnel, PushMethod.httpsSimple]))
            }
        }
        if let v = e["proxy"]?.value { t.proxy = try w.bool(v, p + ".proxy") }
        if let v = e["certificates"]?.value {
            let c = try w.mapping(v, p + ".certificates", allowed: ["ls", "rs"])
            let names = CertificateChoice.allCases.map(\.rawValue)
            if let n = c["ls"]?.value { t.lsCertificate = CertificateChoice(rawValue: try w.choice(n, p + ".certificates.ls", names))! }
            if let n = c["rs"]?.value {
                t.rsCertificate = CertificateChoice(rawValue: try w.choice(n, p + ".certificates.rs", ["good", "wrong-ca"]))!
            }
        }
        if t.families == .ipv6 && t.lsURL == .ipv4 { throw w.fail(e["ls-url"]?.value, p + ".ls-url", "the mocks do not listen on IPv4") }
        if t.families == .ipv4 && t.lsURL == .ipv6 { throw w.fail(e["ls-url"]?.value, p + ".ls-url", "the mocks do not listen on IPv6") }
        return t
    }

    func timing(_ node: Node) throws(YAMLLoadError) -> Timing {
        let p = "time"
        let e = try w.mapping(node, p, allowed: ["ls-retry-interval", "ls-retry-max", "rs-retry-interval", "rs-retry-max", "echo-interval",
                                                 "heartbeat-interval", "tunnel-idle-timeout", "read-timeout"])
        var t = Timing()
        if let v = e["ls-retry-interval"]?.value { t.lsRetryInterval = try w.integer(v, p + ".ls-retry-interval", in: 0...3) }
        if let v = e["ls-retry-max"]?.value { t.lsRetryMax = try w.integer(v, p + ".ls-retry-max", in: 0...3) }
        if let v = e["rs-retry-interval"]?.value { t.rsRetryInterval = try w.integer(v, p + ".rs-retry-interval", in: 0...60) }
        if let v = e["rs-retry-max"]?.value { t.rsRetryMax = try w.integer(v, p + ".rs-retry-max", in: 0...20) }
        if let v = e["echo-interval"]?.value { t.echoInterval = try w.integer(v, p + ".echo-interval", in: 1...600) }
        if let v = e["heartbeat-interval"]?.value { t.heartbeatInterval = try w.integer(v, p + ".heartbeat-interval", in: 1...600) }
        if let v = e["tunnel-idle-timeout"]?.value { t.tunnelIdleTimeout = try w.seconds(v, p + ".tunnel-idle-timeout", in: 0.5...600) }
        if let v = e["read-timeout"]?.value { t.readTimeout = try w.seconds(v, p + ".read-timeout", in: 0.2...60) }
        return t
    }

    func agent(_ node: Node) throws(YAMLLoadError) -> AgentSetup {
        let p = "agent"
        let e = try w.mapping(node, p, allowed: ["state-cache", "script-exit", "conf", "arguments"])
        var a = AgentSetup()
        if let v = e["state-cache"]?.value { a.stateCache = AgentSetup.CacheStart(rawValue: try w.choice(v, p + ".state-cache", AgentSetup.CacheStart.allCases.map(\.rawValue)))! }
        if let v = e["script-exit"]?.value {
            let m = try w.mapping(v, p + ".script-exit", allowed: RecordingScripts.names)
            for (name, kv) in m { a.scriptExits[name] = Int32(try w.integer(kv.value, p + ".script-exit." + name, in: 0...255)) }
        }
        if let v = e["conf"]?.value {
            for (k, item) in try w.sequence(v, p + ".conf").enumerated() {
                guard let line = try w.optionalString(item, p + ".conf[\(k)]"), line.contains(":"), !line.contains("\n") else {
                    throw w.fail(item, p + ".conf[\(k)]", "expected one `key: value` line of armsd.conf")
                }
                a.confLines.append(line)
            }
        }
        if let v = e["arguments"]?.value {
            for (k, item) in try w.sequence(v, p + ".arguments").enumerated() {
                a.arguments.append(try w.optionalString(item, p + ".arguments[\(k)]") ?? "")
            }
        }
        return a
    }

    // MARK: - Steps and triggers

    static let actions = ["push", "edit-config", "rs", "ls", "restart-agent", "stop-agent", "drop-tunnels", "echo-replies", "mark"]

    func step(_ node: Node, _ p: String) throws(YAMLLoadError) -> Step {
        let e = try w.mapping(node, p, allowed: ["when", "delay", "expect"] + Self.actions)
        let trigger = try e["when"].map { kv throws(YAMLLoadError) in try self.trigger(kv.value, p + ".when") } ?? .now
        let delay = try e["delay"].map { kv throws(YAMLLoadError) in try w.seconds(kv.value, p + ".delay", in: 0...300) } ?? 0
        let present = Self.actions.filter { e[$0] != nil }
        guard present.count == 1, let name = present.first, let (_, v) = e[name] else {
            throw w.fail(node, p, present.isEmpty ? "a step needs one action (\(Self.actions.joined(separator: ", ")))"
                                                  : "one action per step (found \(present.joined(separator: ", ")))")
        }
        let at = p + "." + name
        let action: Step.Action
        var pushExpect: PushExpectation?
        switch name {
        case "push":
            action = .push(try push(v, at))
            if let x = e["expect"]?.value { pushExpect = try self.pushExpect(x, p + ".expect") }
        case "edit-config":
            let m = try w.mapping(v, at, allowed: ["module", "config"])
            let module = UInt32(try w.integer(m["module"]?.value ?? v, at + ".module", in: 0...Int(UInt32.max)))
            action = .editConfig(module: module, config: try w.string(m, "config", in: at, at: v))
        case "rs", "ls":
            let up = try w.choice(v, at, ["up", "down"]) == "up"
            action = .server(role: name == "rs" ? .rs : .ls, up: up)
        case "restart-agent":
            let cache = try w.choice(v, at, ["keep-cache", "delete-cache"])
            action = .restartAgent(keepCache: cache == "keep-cache")
        case "stop-agent": action = .stopAgent
        case "drop-tunnels": action = .dropTunnels
        case "echo-replies": action = .echoReplies(try w.choice(v, at, ["on", "off"]) == "on")
        default: action = .mark
        }
        if pushExpect == nil, let x = e["expect"] { throw w.fail(x.key, p + ".expect", "only a push step has an expect") }
        return Step(line: node.mark?.line ?? 0, trigger: trigger, delay: delay, action: action, pushExpect: pushExpect)
    }

    func trigger(_ node: Node, _ p: String) throws(YAMLLoadError) -> Trigger {
        if case .scalar = node {
            switch try w.optionalString(node, p) {
            case "push-ready": return .pushReady
            case "agent-exit": return .agentExit
            case "now": return .now
            default: throw w.fail(node, p, "expected push-ready, agent-exit, now, or a mapping (at, state, message)")
            }
        }
        let e = try w.mapping(node, p, allowed: ["at", "state", "occurrence", "message", "role", "outcome", "result", "detail", "count"])
        if let v = e["at"]?.value { return .at(try w.seconds(v, p + ".at", in: 0...600)) }
        if let v = e["state"]?.value {
            let state = try w.choice(v, p + ".state", AgentStates.names)
            let n = try e["occurrence"].map { kv throws(YAMLLoadError) in try w.integer(kv.value, p + ".occurrence", in: 1...1000) } ?? 1
            return .state(state, occurrence: n)
        }
        if e["message"] != nil || e["role"] != nil || e["outcome"] != nil || e["detail"] != nil {
            let match = try journalMatch(e, p)
            let n = try e["count"].map { kv throws(YAMLLoadError) in try w.integer(kv.value, p + ".count", in: 1...100_000) } ?? 1
            return .message(match, count: n)
        }
        throw w.fail(node, p, "give at, state or message")
    }

    func journalMatch(_ e: YAMLWalker.Entries, _ p: String) throws(YAMLLoadError) -> JournalMatch {
        var m = JournalMatch()
        if let v = e["role"]?.value { m.role = ServerRole(rawValue: try w.choice(v, p + ".role", ["LS", "RS", "tunnel", "simple", "heartbeat", "proxy"])) }
        if let v = e["message"]?.value { m.messageType = try w.optionalString(v, p + ".message") }
        if let v = e["outcome"]?.value { m.outcome = try w.optionalString(v, p + ".outcome") }
        if let v = e["result"]?.value { m.resultCode = try w.integer(v, p + ".result", in: 0...999) }
        if let v = e["detail"]?.value { m.detail = try w.optionalString(v, p + ".detail") }
        return m
    }

    func push(_ node: Node, _ p: String) throws(YAMLLoadError) -> PushOperationRequest {
        let e = try w.mapping(node, p, allowed: ["operation", "module", "modules", "command", "parameter", "configs", "storage", "address",
                                                 "count", "size", "max-hop", "pull-type"])
        let operation = try w.choice(e["operation"]?.value ?? node, p + ".operation", PushOperationRequest.operations)
        var r = PushOperationRequest(operation: operation)
        func module(_ n: Node, _ at: String) throws(YAMLLoadError) -> UInt32 { UInt32(try w.integer(n, at, in: 0...Int(UInt32.max))) }
        if let v = e["module"]?.value { r.module = try module(v, p + ".module") }
        if let v = e["modules"]?.value {
            r.modules = []
            for (k, item) in try w.sequence(v, p + ".modules").enumerated() { r.modules?.append(try module(item, p + ".modules[\(k)]")) }
        }
        if let v = e["command"]?.value { r.command = try w.optionalString(v, p + ".command") }
        if let v = e["parameter"]?.value { r.parameter = try w.optionalString(v, p + ".parameter") }
        if let v = e["storage"]?.value { r.storage = try w.choice(v, p + ".storage", ["running", "candidate", "backup"]) }
        if let v = e["address"]?.value { r.address = try w.optionalString(v, p + ".address") }
        if let v = e["count"]?.value { r.count = try w.integer(v, p + ".count", in: 1...100) }
        if let v = e["size"]?.value { r.size = try w.integer(v, p + ".size", in: 1...65_000) }
        if let v = e["max-hop"]?.value { r.maxHop = try w.integer(v, p + ".max-hop", in: 1...255) }
        if let v = e["pull-type"]?.value { r.pullType = try w.choice(v, p + ".pull-type", ["RS", "LS"]) }
        if let v = e["configs"]?.value {
            r.configs = []
            for (k, item) in try w.sequence(v, p + ".configs").enumerated() {
                let cp = p + ".configs[\(k)]"
                let c = try w.mapping(item, cp, allowed: ["module", "config"])
                r.configs?.append(PushConfigArgument(module: try module(c["module"]?.value ?? item, cp + ".module"),
                                                     text: try w.string(c, "config", in: cp, at: item)))
            }
        }
        do { _ = try r.armsRequest(distributionID: SAProfile.demo.distributionID.description, moduleList: []) } catch {
            throw w.fail(node, p, "\(error)")
        }
        return r
    }

    func pushExpect(_ node: Node, _ p: String) throws(YAMLLoadError) -> PushExpectation {
        let e = try w.mapping(node, p, allowed: ["state", "result", "output"])
        var x = PushExpectation()
        if let v = e["state"]?.value { x.state = try w.choice(v, p + ".state", ["succeeded", "failed", "timed-out"]) }
        if let v = e["result"]?.value { x.resultCode = try w.integer(v, p + ".result", in: 0...999) }
        if let v = e["output"]?.value { x.output = try w.optionalString(v, p + ".output") }
        return x
    }

    // MARK: - Faults

    static let faultRoles: [String: ServerRole] = ["LS": .ls, "RS": .rs, "tunnel": .tunnel, "heartbeat": .heartbeat]

    func fault(_ node: Node, _ p: String) throws(YAMLLoadError) -> FaultRule {
        let e = try w.mapping(node, p, allowed: ["on", "message", "listener", "nth", "probability", "do"])
        let roleName = try w.choice(e["on"]?.value ?? node, p + ".on", Array(Self.faultRoles.keys).sorted())
        let role = Self.faultRoles[roleName]!
        var target = FaultRule.Target(role: role)
        if let v = e["message"]?.value { target.messageType = try w.optionalString(v, p + ".message") }
        if let v = e["listener"]?.value { target.listener = try w.optionalString(v, p + ".listener") }
        var occurrences = OccurrenceSet.all
        if let v = e["nth"]?.value { occurrences = try self.occurrences(v, p + ".nth") }
        var probability = 1.0
        if let v = e["probability"]?.value { probability = try w.seconds(v, p + ".probability", in: 0...1) }
        guard let doNode = e["do"]?.value else { throw w.fail(node, p + ".do", "missing (required: what the fault does)") }
        let action = try self.action(doNode, p + ".do")
        try check(action, on: role, target: target, at: doNode, p + ".do")
        return FaultRule(line: node.mark?.line ?? 0, target: target, occurrences: occurrences, probability: probability, action: action)
    }

    func occurrences(_ node: Node, _ p: String) throws(YAMLLoadError) -> OccurrenceSet {
        var ranges: [ClosedRange<Int>] = []
        for (k, item) in try w.oneOrMany(node, p).enumerated() {
            let at = ranges.isEmpty && k == 0 ? p : p + "[\(k)]"
            let text = try w.optionalString(item, at) ?? ""
            if text == "all" { return .all }
            let bounds = text.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            let low = bounds.first.flatMap { YAMLWalker.decimal($0) }
            let high: Int? = bounds.count == 2 ? (bounds[1].isEmpty ? Int.max : YAMLWalker.decimal(bounds[1])) : low
            guard let low, let high, low >= 1, high >= low, bounds.count <= 2 else {
                throw w.fail(item, at, "\"\(text)\" is not an occurrence (1, 2-4, 3-, all)")
            }
            ranges.append(low...high)
        }
        return OccurrenceSet(ranges: ranges)
    }

    func action(_ node: Node, _ p: String) throws(YAMLLoadError) -> FaultAction {
        let text = try w.optionalString(node, p) ?? ""
        let words = text.split(separator: " ").map(String.init)
        guard let verb = words.first, let (_, takesNumber) = FaultAction.verbs.first(where: { $0.0 == verb }) else {
            throw w.fail(node, p, "\"\(text)\" is not a fault (one of: \(FaultAction.verbs.map { $0.1 ? $0.0 + " N" : $0.0 }.joined(separator: ", ")))")
        }
        guard words.count == (takesNumber ? 2 : 1) else {
            throw w.fail(node, p, takesNumber ? "\(verb) needs one number (\(verb) N)" : "\(verb) takes no argument")
        }
        let number = words.count == 2 ? words[1] : ""
        func code(_ range: ClosedRange<Int>) throws(YAMLLoadError) -> Int {
            guard let n = YAMLWalker.decimal(number), range.contains(n) else {
                throw w.fail(node, p, "\"\(number)\" is not a code from \(range.lowerBound) to \(range.upperBound)")
            }
            return n
        }
        func seconds() throws(YAMLLoadError) -> Double {
            guard let s = Double(number), s >= 0, s <= 120 else { throw w.fail(node, p, "\"\(number)\" is not a number of seconds (0 to 120)") }
            return s
        }
        switch verb {
        case "result": return .resultCode(try code(100...999))
        case "http": return .httpStatus(try code(100...599))
        case "close": return .close
        case "delay": return .delay(try seconds())
        case "dribble": return .dribble(try seconds())
        case "reset": return .resetMidBody
        case "truncate": return .truncate
        case "malformed-xml": return .malformedXML
        case "refuse": return .refuse
        case "handshake-cut": return .handshakeCut
        case "handshake-stall": return .handshakeStall
        case "confirm-result": return .confirmResult(try code(100...999))
        case "open-status": return .openStatus(try code(100...599))
        case "chunk-truncate": return .chunkTruncate
        case "chunk-malformed": return .chunkMalformed
        case "chunk-malformed-xml": return .chunkMalformedXML
        case "drop": return .drop
        case "duplicate": return .duplicate
        default: return .corrupt
        }
    }

    /// Which actions make sense on which role.
    func check(_ action: FaultAction, on role: ServerRole, target: FaultRule.Target, at node: Node, _ p: String) throws(YAMLLoadError) {
        let ok: Bool
        switch action {
        case .resultCode, .httpStatus, .close, .delay, .dribble, .resetMidBody, .truncate, .malformedXML:
            ok = role == .ls || role == .rs
        case .refuse, .handshakeCut, .handshakeStall:
            ok = role == .ls || role == .rs || role == .tunnel
            if ok, target.messageType != nil {
                throw w.fail(node, p, "\(action) acts on connections, before any message is read: drop `message`")
            }
        case .confirmResult, .openStatus, .chunkTruncate, .chunkMalformed, .chunkMalformedXML:
            ok = role == .tunnel
        case .drop, .duplicate, .corrupt:
            ok = role == .heartbeat
        }
        if !ok { throw w.fail(node, p, "\(action) cannot be injected on \(role.rawValue)") }
    }

    // MARK: - End and expectations

    func end(_ node: Node) throws(YAMLLoadError) -> End {
        let e = try w.mapping(node, "end", allowed: ["when", "settle"])
        var end = End()
        if let v = e["when"]?.value { end.trigger = try trigger(v, "end.when") }
        if let v = e["settle"]?.value { end.settle = try w.seconds(v, "end.settle", in: 0...30) }
        return end
    }

    func expectations(_ node: Node) throws(YAMLLoadError) -> Expectations {
        let p = "expect"
        let e = try w.mapping(node, p, allowed: ["states", "final-state", "never", "exit", "scripts", "script-counts", "configs", "journal",
                                                 "log", "heartbeat", "within"])
        var x = Expectations()
        if let v = e["states"]?.value {
            for (k, item) in try w.sequence(v, p + ".states").enumerated() { x.states.append(try w.choice(item, p + ".states[\(k)]", AgentStates.names)) }
        }
        if let v = e["final-state"]?.value { x.finalState = try w.choice(v, p + ".final-state", AgentStates.names) }
        if let v = e["never"]?.value {
            for (k, item) in try w.oneOrMany(v, p + ".never").enumerated() { x.never.append(try w.choice(item, p + ".never[\(k)]", AgentStates.names)) }
        }
        if let v = e["exit"]?.value {
            let text = try w.optionalString(v, p + ".exit") ?? ""
            switch text {
            case "running": x.exit = .running
            case "exited": x.exit = .exited
            case "nonzero": x.exit = .nonzero
            default:
                guard let n = YAMLWalker.decimal(text), n <= 255 else { throw w.fail(v, p + ".exit", "expected running, exited, nonzero or an exit code") }
                x.exit = .code(Int32(n))
            }
        }
        if let v = e["scripts"]?.value {
            for (k, item) in try w.sequence(v, p + ".scripts").enumerated() {
                let text = try w.optionalString(item, p + ".scripts[\(k)]") ?? ""
                let words = text.split(separator: " ").map(String.init)
                guard let name = words.first, RecordingScripts.names.contains(name) else {
                    throw w.fail(item, p + ".scripts[\(k)]", "\"\(text)\": expected a script name (\(RecordingScripts.names.joined(separator: ", "))) and argument patterns")
                }
                x.scripts.append(words)
            }
        }
        if let v = e["script-counts"]?.value {
            let m = try w.mapping(v, p + ".script-counts", allowed: RecordingScripts.names)
            for (name, kv) in m { x.scriptCounts[name] = try w.integer(kv.value, p + ".script-counts." + name, in: 0...10_000) }
        }
        if let v = e["configs"]?.value {
            guard case .mapping(let m) = v else { throw w.fail(v, p + ".configs", "expected module: config lines") }
            for (k, value) in m {
                let at = p + ".configs." + w.scalarText(k)
                x.configs[UInt32(try w.integer(k, at, in: 0...Int(UInt32.max)))] = try w.optionalString(value, at) ?? ""
            }
        }
        if let v = e["journal"]?.value {
            for (k, item) in try w.sequence(v, p + ".journal").enumerated() {
                let jp = p + ".journal[\(k)]"
                let m = try w.mapping(item, jp, allowed: ["role", "message", "outcome", "result", "detail", "count", "at-least", "at-most"])
                var j = JournalExpectation(line: item.mark?.line ?? 0, match: try journalMatch(m, jp))
                if let c = m["count"]?.value { j.exactly = try w.integer(c, jp + ".count", in: 0...1_000_000) }
                if let c = m["at-least"]?.value { j.atLeast = try w.integer(c, jp + ".at-least", in: 0...1_000_000) }
                if let c = m["at-most"]?.value { j.atMost = try w.integer(c, jp + ".at-most", in: 0...1_000_000) }
                if j.exactly == nil && j.atLeast == nil && j.atMost == nil { throw w.fail(item, jp, "give count, at-least or at-most") }
                x.journal.append(j)
            }
        }
        if let v = e["log"]?.value {
            for (k, item) in try w.oneOrMany(v, p + ".log").enumerated() { x.log.append(try w.optionalString(item, p + ".log[\(k)]") ?? "") }
        }
        if let v = e["heartbeat"]?.value {
            let hp = p + ".heartbeat"
            let m = try w.mapping(v, hp, allowed: ["accepted-at-least", "rejected", "rejected-for", "interval-tolerance", "family"])
            var h = HeartbeatExpectation()
            if let c = m["accepted-at-least"]?.value { h.acceptedAtLeast = try w.integer(c, hp + ".accepted-at-least", in: 0...100_000) }
            if let c = m["rejected"]?.value { h.rejected = try w.integer(c, hp + ".rejected", in: 0...100_000) }
            if let c = m["family"]?.value { h.family = try w.choice(c, hp + ".family", ["ipv4", "ipv6"]) }
            if let c = m["interval-tolerance"]?.value { h.intervalTolerance = try w.seconds(c, hp + ".interval-tolerance", in: 0...1) }
            if let c = m["rejected-for"]?.value {
                guard case .mapping(let r) = c else { throw w.fail(c, hp + ".rejected-for", "expected reason: count lines") }
                for (k, value) in r { h.rejectedFor[w.scalarText(k)] = try w.integer(value, hp + ".rejected-for." + w.scalarText(k), in: 1...100_000) }
            }
            x.heartbeat = h
        }
        if let v = e["within"]?.value { x.within = try w.seconds(v, p + ".within", in: 0.1...600) }
        return x
    }
}

/// The state names armsd reports (agent.md §11).
public enum AgentStates {
    public static let names = ["INITIAL", "LSPULL", "RSPULL", "PULLDONE", "BOOT_FAIL", "PUSH_INITIAL", "PUSH_SENDREADY", "PUSH_WAIT", "PUSH_REBOOT"]
}
