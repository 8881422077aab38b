import ARMSProtocol
import Foundation
import MockCore
import MockRS
import MockService

/// One scenario's run: mocks, fault plane, agent, steps, expectations, timeline.
final class ScenarioExecution: @unchecked Sendable {
    let scenario: Scenario
    let options: RunOptions
    let seed: UInt64
    let plane: FaultPlane
    let sa: DistributionID

    // Files.
    let directory: String
    let scripts: RecordingScripts
    var confPath: String { directory + "/armsd.conf" }
    var logPath: String { directory + "/armsd.log" }
    var statePath: String { directory + "/state-cache" }
    var workPath: String { directory + "/work" }

    // Run state.
    var runtime: ServiceRuntime?
    var proxy: ScenarioProxy?
    var agent: AgentProcess?
    var follower: RecordFollower
    var t0 = Date().timeIntervalSince1970
    var journalMark = 0
    var failures: [String] = []
    var notes: [TimelineEvent] = []
    /// Entered states, in order, with their times.
    var states: [(time: Double, old: String, new: String)] = []
    var calls: [(time: Double, fields: [String])] = []
    var exits: [(time: Double, text: String)] = []
    var endTime: Double?
    var agentStarts = 0

    init(_ scenario: Scenario, options: RunOptions) {
        self.scenario = scenario
        self.options = options
        seed = scenario.seed ?? options.seed
        plane = FaultPlane(rules: scenario.faults, seed: seed)
        sa = scenario.sas[0].distributionID
        directory = options.workDirectory + "/" + scenario.id + "-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        scripts = RecordingScripts(directory: directory + "/scripts", recordPath: directory + "/scripts.log",
                                   configPrefix: directory + "/config-")
        follower = RecordFollower(path: scripts.recordPath)
    }

    var now: Double { Date().timeIntervalSince1970 }

    func run() async -> ScenarioResult {
        let started = now
        do {
            try await setUp()
            try await drive()
            evaluate()
        } catch {
            failures.append("\(error)")
        }
        poll()
        if let agent, agent.isRunning {
            note("agent", "the scenario ended: stopping the agent (SIGTERM)")
            await agent.stop()
        }
        poll()
        let timeline = buildTimeline()
        if let runtime { await runtime.stop() }
        await proxy?.stop()
        let passed = failures.isEmpty
        var kept: String? = directory
        if passed && !options.keepFiles {
            try? FileManager.default.removeItem(atPath: directory)
            kept = nil
        }
        return ScenarioResult(id: scenario.id, title: scenario.title, rule: scenario.rule, file: scenario.file, passed: passed,
                              duration: now - started, seed: seed, failures: failures, timeline: timeline, directory: kept)
    }

    // MARK: - Setting up

    struct SetupError: Error, CustomStringConvertible {
        let description: String
    }

    func setUp() async throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let topology = scenario.topology
        let timing = scenario.timing
        var c = ServiceConfiguration.inProcess()
        c.hosts = topology.families.hosts
        let rsHosts = (topology.rsURLs ?? topology.families).hosts
        c.rsHosts = rsHosts
        if topology.remoteServers == 2 {
            c.rsHosts = rsHosts.flatMap { $0 == "127.0.0.1" ? ["127.0.0.1", "127.0.0.2"] : [$0, $0] }
        }
        c.fleet = scenario.sas.map { profile in
            var p = profile
            if let interval = timing.heartbeatInterval {
                p.heartbeat = HeartbeatProfile(passphrase: p.heartbeat?.passphrase ?? "scenario-hb-passphrase", interval: interval,
                                               servers: p.heartbeat?.servers ?? [])
            }
            return p
        }
        c.rsRetryMax = timing.rsRetryMax
        c.rsRetryInterval = timing.rsRetryInterval
        c.lsRetryInterval = timing.lsRetryInterval
        c.lsRetryMax = timing.lsRetryMax
        c.readTimeout = .milliseconds(Int64(timing.readTimeout * 1000))
        c.tunnelIdleTimeout = .milliseconds(Int64(timing.tunnelIdleTimeout * 1000))
        c.lsTLS = ServerTLS(identity: Self.lsIdentity(topology.lsCertificate))
        c.rsTLS = topology.rsCertificate == .wrongCA ? ServerTLS(identity: .remoteServerWrongCA) : .remoteServer
        c.pushOffer = PushOffer(methods: topology.pushMethods, echoInterval: timing.echoInterval)
        if let families = topology.tunnelURLs { c.offeredTunnelHosts = families.hosts }
        FaultWiring.install(plane, into: &c)
        let runtime = try await ServiceRuntime.start(c)
        self.runtime = runtime
        FaultWiring.install(plane, into: runtime)

        if topology.proxy {
            proxy = try await ScenarioProxy.start(journal: runtime.journal)
        }
        try writeAgentFiles(runtime)
        if scenario.agent.stateCache != .none { try await warmUp() }
        try damageCache(scenario.agent.stateCache)
    }

    static func lsIdentity(_ choice: CertificateChoice) -> TLSIdentity {
        switch choice {
        case .good: return .locationServer
        case .wrongCA: return .locationServerWrongCA
        case .wrongCN: return .locationServerWrongCN
        case .expired: return .locationServerExpired
        case .notYetValid: return .locationServerNotYetValid
        }
    }

    func writeAgentFiles(_ runtime: ServiceRuntime) throws {
        let data = DataDirectory(path: directory + "/data")
        try data.create()
        try data.writeRootCA(pem: TestPKI.rootCACertificatePEM)
        let lsFamily = scenario.topology.lsURL ?? (scenario.topology.families == .ipv6 ? .ipv6 : .ipv4)
        let lsURLs = runtime.lsURLs.filter { $0.host.contains(":") == (lsFamily == .ipv6) }
        try data.writeInitialConfig(lsURLs: lsURLs, retryInterval: scenario.timing.lsRetryInterval, retryMax: scenario.timing.lsRetryMax)
        guard let profile = runtime.fleet[sa] else { throw SetupError(description: "the agent's SA \(sa) is not provisioned") }
        var conf = data.armsdConfiguration(for: profile)
        conf.scripts = [:]
        conf.pathStateCache = statePath
        conf.pathPID = directory + "/armsd.pid"
        var text = try conf.encoded()
        text += scripts.confLines.joined(separator: "\n") + "\n"
        if let proxy { text += "https-proxy-url: \(proxy.url)\n" }
        for line in scenario.agent.confLines { text += line + "\n" }
        try text.write(toFile: confPath, atomically: true, encoding: .utf8)
        try scripts.write(exits: scenario.agent.scriptExits)
    }

    /// The https-simple listener's port (`-p`), free at setup, so that scenarios running at once never share one.
    lazy var simplePort: Int? = scenario.topology.pushMethods.contains(PushMethod.httpsSimple) ? Self.freeTCPPort() : nil

    static func freeTCPPort() -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        return bound ? Int(UInt16(bigEndian: address.sin_port)) : nil
    }

    func startAgent() throws {
        agentStarts += 1
        let n = agentStarts
        let port = simplePort.map { ["-p", String($0)] } ?? []
        agent = try AgentProcess(executable: options.agentPath,
                                 arguments: ["-D", "-v", "-b", workPath, "-l", logPath, "-f", confPath] + port + scenario.agent.arguments,
                                 stdoutPath: directory + "/agent-\(n).out", stderrPath: directory + "/agent-\(n).err")
        note("agent", "started \(URL(fileURLWithPath: options.agentPath).lastPathComponent) (pid \(agent!.pid))")
    }

    /// Runs the agent once to PUSH_WAIT without faults, so that it leaves a state cache;
    /// its calls and exchanges stay out of the expectations (the timeline shows them before 0).
    func warmUp() async throws {
        plane.arm(false)
        try startAgent()
        let deadline = now + 20
        while now < deadline {
            poll()
            if states.last?.new == "PUSH_WAIT" { break }
            if let agent, !agent.isRunning { throw SetupError(description: "warm-up: the agent exited (\(agent.exitDescription)) before PUSH_WAIT") }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        guard states.last?.new == "PUSH_WAIT" else { throw SetupError(description: "warm-up: no PUSH_WAIT within 20 s") }
        await agent?.stop()
        poll()
        guard FileManager.default.fileExists(atPath: statePath) else { throw SetupError(description: "warm-up: the agent left no state cache") }
        note("agent", "warm-up done (\(exits.last?.text ?? "")); state cache kept")
        // Everything so far is the warm-up: keep it for the timeline, out of the checks.
        warmUpEvents = states.map { s in TimelineEvent(time: s.time, source: "state", text: "\(s.old) -> \(s.new)") }
            + calls.map { c in TimelineEvent(time: c.time, source: "script", text: c.fields.joined(separator: " ")) }
        states = []
        calls = []
        exits = []
        journalMark = runtime!.journal.nextSequence - 1
        agent = nil
        plane.arm(true)
    }
    var warmUpEvents: [TimelineEvent] = []

    /// Flips a byte in the middle of the state cache, or cuts it to half its size.
    func damageCache(_ how: AgentSetup.CacheStart) throws {
        guard how == .corrupt || how == .truncated else { return }
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: statePath)))
        guard bytes.count > 2 else { throw SetupError(description: "warm-up: the state cache has only \(bytes.count) bytes") }
        if how == .corrupt { bytes[bytes.count / 2] ^= 0x5A } else { bytes.removeLast(bytes.count / 2) }
        try Data(bytes).write(to: URL(fileURLWithPath: statePath))
        note("agent", how == .corrupt ? "state cache corrupted (one byte flipped)" : "state cache truncated to \(bytes.count) bytes")
    }

    // MARK: - Driving

    func drive() async throws {
        t0 = now
        plane.arm(true)
        try startAgent()
        t0 = agent!.startTime
        let deadline = t0 + scenario.timeout
        var index = 0
        var firedAt: Double?
        var running: PendingStep?
        var endSeen: Double?
        while true {
            poll()
            if now > deadline {
                let waiting = index < scenario.steps.count
                    ? "step \(index + 1) (line \(scenario.steps[index].line)) waiting for \(scenario.steps[index].trigger)"
                    : "the end (\(endDescription))"
                failures.append(String(format: "did not end within the timeout of %g s: %@", scenario.timeout, waiting))
                endTime = now
                return
            }
            if let pending = running {
                if let outcome = pending.outcome {
                    notes += outcome.notes
                    failures += outcome.failures
                    running = nil
                    index += 1
                    firedAt = nil
                }
            } else if index < scenario.steps.count {
                let step = scenario.steps[index]
                if firedAt == nil, holds(step.trigger) { firedAt = now }
                if let fired = firedAt, now >= fired + step.delay {
                    note("step", "step \(index + 1) (line \(step.line)): \(describe(step.action))")
                    if case .push(let request) = step.action, let runtime {
                        running = PendingStep.push(request, step: step, number: index + 1, sa: sa, runtime: runtime)
                    } else {
                        await perform(step, number: index + 1)
                        index += 1
                        firedAt = nil
                    }
                }
            } else {
                if endSeen == nil, endReached() { endSeen = now }
                if let seen = endSeen, now >= seen + scenario.end.settle {
                    endTime = seen
                    return
                }
            }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
    }

    var endDescription: String {
        if let t = scenario.end.trigger { return "\(t)" }
        switch scenario.expect.exit {
        case .running: return scenario.expect.finalState.map { "state \($0)" } ?? "steps done"
        default: return "agent exit"
        }
    }

    func endReached() -> Bool {
        if let t = scenario.end.trigger { return holds(t) }
        switch scenario.expect.exit {
        case .running:
            if let final = scenario.expect.finalState { return states.last?.new == final }
            return true
        default:
            return !(agent?.isRunning ?? false)
        }
    }

    func holds(_ trigger: Trigger) -> Bool {
        switch trigger {
        case .now: return true
        case .at(let s): return now - t0 >= s
        case .state(let name, let n): return states.filter { $0.new == name }.count >= n
        case .message(let match, let n): return journalCount(match) >= n
        case .pushReady: return runtime?.pushStatus(of: sa).pushReady ?? false
        case .agentExit: return !(agent?.isRunning ?? true)
        }
    }

    func journalCount(_ match: JournalMatch) -> Int {
        runtime?.journal.count { $0.sequence > journalMark && match.matches($0) } ?? 0
    }

    func describe(_ action: Step.Action) -> String {
        switch action {
        case .push(let r): return "push \(r.operation)"
        case .editConfig(let m, _): return "edit config of module \(m)"
        case .server(let role, let up): return "\(role.rawValue) \(up ? "up" : "down")"
        case .restartAgent(let keep): return "restart the agent (\(keep ? "keeping" : "deleting") its state cache)"
        case .stopAgent: return "stop the agent"
        case .dropTunnels: return "drop the SA's tunnels"
        case .echoReplies(let on): return "echo replies \(on ? "on" : "off")"
        case .mark: return "mark"
        }
    }

    func perform(_ step: Step, number: Int) async {
        guard let runtime else { return }
        switch step.action {
        case .push:
            break  // run by PendingStep, beside the polling
        case .editConfig(let module, let config):
            _ = runtime.fleet.update(sa) { p in
                if let i = p.modules.firstIndex(where: { $0.id == module }) { p.modules[i].config = config }
                else { p.modules.append(ModuleProfile(id: module, version: "1.0", info: "", config: config)) }
            }
        case .server(let role, let up):
            plane.setDown(role, !up)
        case .restartAgent(let keep):
            await agent?.stop()
            poll()
            if !keep { try? FileManager.default.removeItem(atPath: statePath) }
            do { try startAgent() } catch { failures.append("step \(number): agent restart failed: \(error)") }
        case .stopAgent:
            await agent?.stop()
        case .dropTunnels:
            runtime.dropTunnels(of: sa)
        case .echoReplies(let on):
            runtime.setEchoReplies(enabled: on)
        case .mark:
            break
        }
    }

    // MARK: - Observing

    func poll() {
        let t = now
        for fields in follower.read() {
            calls.append((t, fields))
            if fields.first == "state-changed", fields.count >= 3 { states.append((t, fields[1], fields[2])) }
        }
        if let agent, !agent.isRunning, !agent.exitNoted {
            agent.exitNoted = true
            exits.append((t, agent.exitDescription))
            note("agent", "exited: \(agent.exitDescription)")
        }
    }

    func note(_ source: String, _ text: String) {
        notes.append(TimelineEvent(time: now, source: source, text: text))
    }
}
