import Testing
@testable import Agent

/// Runs a PullMachine against a scripted world: no sockets, simulated time.
struct PullWorld {
    var answer: (PullExchange) -> PullExchangeOutcome
    var line: (LineAction, LineDefinition) -> LineStatus = { action, _ in action == .disconnect ? .disconnected : .connected }
    var now: Double = 0
    var exchanges: [PullExchange] = []
    var waits: [Int] = []
    var logs: [LibarmsLog] = []
    var states: [AgentState] = []
    var triggers: [String] = []

    init(answer: @escaping (PullExchange) -> PullExchangeOutcome) { self.answer = answer }

    mutating func run(_ machine: inout PullMachine, maxSteps: Int = 100_000) -> PullResult? {
        var actions = machine.handle(.start, now: now)
        for _ in 0..<maxSteps {
            var next: PullEvent?
            for action in actions {
                switch action {
                case .log(let l): logs.append(l)
                case .state(_, let to): states.append(to)
                case .controlLine(let a, let l, _): next = .line(line(a, l))
                case .exchange(let e):
                    exchanges.append(e)
                    if case .rsSolicitation(let t) = e.request.body { triggers.append(t) }
                    if case .configSolicitation(let c) = e.request.body { triggers.append(c.trigger) }
                    next = .exchanged(answer(e))
                case .wait(let s):
                    waits.append(s)
                    now += Double(s)
                    next = .waited
                case .finish(let r): return r
                }
            }
            guard let event = next else { return nil }
            actions = machine.handle(event, now: now)
        }
        return nil
    }

    func logged(_ code: Int, _ text: String) -> Bool { logs.contains(LibarmsLog(code, text)) }
}

enum PullFixture {
    static let id = DistributionID(version: 1, vendorCode: 0, saType: 0, saCode: 1)
    static let ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    static let lsURL = "https://127.0.0.1:18443/arms.cgi"
    static let rsURLs = ["https://127.0.0.1:18444/rs.cgi", "https://127.0.0.1:18454/rs.cgi"]

    static func settings(lsURLs: [String] = [lsURL], rounds: Int = 3, interval: Int = 20, deadline: Double = 21600) -> PullSettings {
        PullSettings(distributionID: id, lsURLs: lsURLs, lsRetry: LSRetryPolicy(rounds: rounds, intervalSeconds: interval),
                     lsKey: "ls-key", deadline: deadline)
    }

    static func lsAnswer(code: ResultCode = .success, rsURLs: [String] = rsURLs, retryMax: Int = 2, retryInterval: Int = 5,
                         configs: [String]? = nil) -> PullExchangeOutcome {
        let config = "line-dhcp {\n ifindex 0;\n};\nrs-certificate {\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n};\n"
        return .answered(.standard(.rsSolicitation, code, body: .rsSolicitation(RSSolicitationResult(
            rsPresharedKey: "rs-key", llTimeout: 30, rsRetryMax: retryMax, rsRetryInterval: retryInterval,
            urls: rsURLs, locationConfigs: configs ?? rsURLs.map { _ in config }))))
    }

    static let rsResult = ConfigSolicitationResult(
        saCertificate: "cert", saPrivateKey: "key",
        rsPullServerURLs: rsURLs,
        modules: [ModuleInfo(id: 0, version: "1.0", info: "m")], configs: [ModuleConfig(id: 0, content: "x\n")])

    static func rsAnswer(code: ResultCode = .success) -> PullExchangeOutcome {
        .answered(.standard(.configSolicitation, code, body: .configSolicitation(rsResult)))
    }
}

@Suite struct PullMachineTests {
    typealias F = PullFixture

    @Test func happyPathLSThenRS() {
        var machine = PullMachine(settings: F.settings())
        var world = PullWorld { e in e.server == .locationServer ? F.lsAnswer() : F.rsAnswer() }
        let result = world.run(&machine)
        #expect(result == .success(F.rsResult, endpoint: F.rsURLs[0]))
        #expect(world.states == [.lsPull, .rsPull, .pullDone])
        #expect(world.exchanges.map(\.server) == [.locationServer, .remoteServer])
        #expect(world.exchanges[0].password == "ls-key" && world.exchanges[1].password == "rs-key")
        #expect(world.exchanges[1].trustAnchor == F.ca)
        #expect(world.exchanges[0].request.encode().bytes.count > 0)
        #expect(world.triggers == ["power on boot", "power on boot"])
        for (code, text) in [(2, "Pull from LS."), (21, "Line DHCP(0) Connected."), (3, "LS Access Done"),
                             (25, "Line DHCP(0) Disconnected."), (6, "RS Access Done")] {
            #expect(world.logged(code, text), "\(code) \(text)")
        }
        #expect(machine.knowledge.rsEndpoint == F.rsURLs[0])
        #expect(machine.knowledge.rsPresharedKey == "rs-key")
        #expect(machine.knowledge.lines == [.dhcp(ifindex: 0)])
        #expect(world.waits.isEmpty)
    }

    @Test func lsFailsTwiceThenAnswersWithTheInitialConfigSpacing() {
        var lsCalls = 0
        var machine = PullMachine(settings: F.settings(rounds: 5, interval: 7))
        var world = PullWorld { e in
            if e.server == .locationServer {
                lsCalls += 1
                return lsCalls <= 2 ? .transportFailed : F.lsAnswer()
            }
            return F.rsAnswer()
        }
        let result = world.run(&machine)
        #expect(result == .success(F.rsResult, endpoint: F.rsURLs[0]))
        #expect(lsCalls == 3)
        #expect(world.waits == [7, 7])
        #expect(world.logged(8, "LS retry(1/4), wait 7 sec."))
        #expect(world.logged(8, "LS retry(2/4), wait 7 sec."))
        // The RA line of the LS phase skips IPv4 URLs silently.
        #expect(world.logs.contains(.debug("address family mismatched: 127.0.0.1")))
    }

    @Test func secondRSAnswersWhenTheFirstIsDownAndIsRemembered() {
        var machine = PullMachine(settings: F.settings())
        var world = PullWorld { e in
            if e.server == .locationServer { return F.lsAnswer() }
            return e.index == 0 ? .transportFailed : F.rsAnswer()
        }
        #expect(world.run(&machine) == .success(F.rsResult, endpoint: F.rsURLs[1]))
        #expect(world.logged(35, "retry to send request."))
        #expect(machine.knowledge.currentServer == 1)
        #expect(machine.knowledge.rsEndpoint == F.rsURLs[1])

        // A later pull (LS skipped) starts at the RS that worked.
        var again = PullMachine(settings: F.settings(), knowledge: machine.knowledge, state: .pushReboot)
        var world2 = PullWorld { _ in F.rsAnswer() }
        #expect(world2.run(&again) == .success(F.rsResult, endpoint: F.rsURLs[1]))
        #expect(world2.exchanges.map(\.index) == [1])
        #expect(world2.states == [.rsPull, .pullDone])
        #expect(world2.logged(5, "Skip LS access.  Pull from RS."))
    }

    @Test(arguments: [
        (403, nil as ARMSErrorCode?), (301, nil), (99, nil),
        (201, .reboot), (299, .reboot), (501, .dontRetry), (502, .pull), (503, .reboot), (599, .reboot),
    ])
    func lsResultCodeClasses(code: Int, fatal: ARMSErrorCode?) {
        var machine = PullMachine(settings: F.settings(lsURLs: [F.lsURL, "https://127.0.0.1:18453/arms.cgi"], rounds: 2, interval: 1))
        var world = PullWorld { e in
            e.server == .locationServer ? .answered(.standard(.rsSolicitation, ResultCode(code), body: nil)) : F.rsAnswer()
        }
        let result = world.run(&machine)
        if let fatal {
            #expect(result == .failure(fatal))
            #expect(world.exchanges.count == 1, "fatal classes stop at once")
            #expect(world.states.last == .bootFail)
        } else {
            // Retry class: both URLs, both rounds, then ARMS_EMAXRETRY.
            #expect(result == .failure(.maxRetry))
            #expect(world.exchanges.count == 4)
            #expect(world.logged(130, "Failed to get location config from LS"))
        }
    }

    @Test func lsAnswerWithoutResultCodeMeansReboot() {
        var machine = PullMachine(settings: F.settings())
        var world = PullWorld { _ in .undecodable(.missingElement("result-code")) }
        #expect(world.run(&machine) == .failure(.reboot))
        var m2 = PullMachine(settings: F.settings(rounds: 1))
        var w2 = PullWorld { _ in .undecodable(.xml(.malformed(line: 1, message: "x"))) }
        #expect(w2.run(&m2) == .failure(.maxRetry), "malformed XML only fails this URL")
    }

    @Test func emptyLocationConfigMeansReboot() {
        var machine = PullMachine(settings: F.settings())
        var world = PullWorld { _ in F.lsAnswer(configs: [""]) }
        #expect(world.run(&machine) == .failure(.reboot))
    }

    @Test func rsExhaustionFallsBackToTheLSWithRetryIsOver() {
        var lsCalls = 0
        var rsCalls = 0
        var machine = PullMachine(settings: F.settings())
        var world = PullWorld { e in
            if e.server == .locationServer {
                lsCalls += 1
                return F.lsAnswer(retryMax: 2, retryInterval: 3)
            }
            rsCalls += 1
            return rsCalls <= 6 ? .transportFailed : F.rsAnswer()
        }
        #expect(world.run(&machine) == .success(F.rsResult, endpoint: F.rsURLs[0]))
        // 2 RS URLs × (2 + 1) rounds, then back to the LS.
        #expect(lsCalls == 2)
        #expect(world.waits == [3, 3])
        #expect(world.logged(9, "RS retry(1/2), wait 3 sec."))
        #expect(world.triggers.last == "retry is over")
        #expect(world.states == [.lsPull, .rsPull, .lsPull, .rsPull, .pullDone])
    }

    @Test(arguments: [(502, nil as ARMSErrorCode?), (501, .dontRetry), (503, .reboot), (404, nil)])
    func rsResultCodeClasses(code: Int, fatal: ARMSErrorCode?) {
        var lsCalls = 0
        var machine = PullMachine(settings: F.settings())
        var world = PullWorld { e in
            if e.server == .locationServer {
                lsCalls += 1
                return lsCalls == 1 ? F.lsAnswer(retryMax: 0) : .answered(.standard(.rsSolicitation, 501, body: nil))
            }
            return .answered(.standard(.configSolicitation, ResultCode(code), body: nil))
        }
        let result = world.run(&machine)
        if let fatal {
            #expect(result == .failure(fatal))
            #expect(lsCalls == 1)
        } else {
            // 502 and the retry class both end in a new LS pull (here refused with 501).
            #expect(lsCalls == 2)
            #expect(result == .failure(.dontRetry))
            if code == 502 { #expect(world.triggers.last == "received 502 Push failed") }
        }
    }

    @Test func lsRetryExhaustionCountsEveryRound() {
        var machine = PullMachine(settings: F.settings(lsURLs: [F.lsURL, "https://[::1]:18443/arms.cgi"], rounds: 4, interval: 2))
        var world = PullWorld { _ in .transportFailed }
        #expect(world.run(&machine) == .failure(.maxRetry))
        // Each round: the DHCP line tries the IPv4 URL, the RA line the IPv6 one.
        #expect(world.exchanges.count == 8)
        #expect(world.waits == [2, 2, 2])
        #expect(world.states == [.lsPull, .bootFail])
    }

    @Test func globalDeadlineEndsThePull() {
        var machine = PullMachine(settings: F.settings(rounds: 100, interval: 60, deadline: 150))
        var world = PullWorld { _ in .transportFailed }
        #expect(world.run(&machine) == .failure(.timeout))
        #expect(world.waits.count == 3)
    }

    @Test func lineProblems() {
        var machine = PullMachine(settings: F.settings(rounds: 1))
        var world = PullWorld { _ in F.lsAnswer() }
        world.line = { a, _ in a == .connect ? .timeout : .disconnected }
        #expect(world.run(&machine) == .failure(.maxRetry))
        #expect(world.logged(121, "Line Timeout"))
        #expect(world.exchanges.isEmpty)

        var m2 = PullMachine(settings: F.settings())
        var w2 = PullWorld { _ in F.lsAnswer() }
        w2.line = { _, _ in .callbackError }
        #expect(w2.run(&m2) == .failure(.callback))
    }

    @Test func rsRefusedWithoutCAInLocationConfig() {
        var lsCalls = 0
        var machine = PullMachine(settings: F.settings())
        var world = PullWorld { e in
            if e.server == .locationServer {
                lsCalls += 1
                if lsCalls > 1 { return .answered(.standard(.rsSolicitation, 501, body: nil)) }
                return F.lsAnswer(retryMax: 0, configs: ["line-dhcp {\n ifindex 0;\n};\n", "line-dhcp {\n ifindex 0;\n};\n"])
            }
            return F.rsAnswer()
        }
        #expect(world.run(&machine) == .failure(.dontRetry))
        #expect(world.logged(106, "Failed to register RS CA certificate."))
    }

    @Test func misorderedEventIsAFatalRunnerError() {
        var machine = PullMachine(settings: F.settings())
        _ = machine.handle(.start, now: 0)
        let actions = machine.handle(.waited, now: 0)
        #expect(actions.last == .finish(.failure(.fatal)))
    }
}
