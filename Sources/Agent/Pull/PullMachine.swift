/// Which server a pull exchange goes to.
public enum PullServer: String, Sendable {
    case locationServer = "LS"
    case remoteServer = "RS"
}

/// How a line is asked to change (the line-ctrl script's first argument).
public enum LineAction: String, Sendable {
    case connect, disconnect, status
}

/// What the line-ctrl step reported (agent.md §5.2, exit codes 128–132 after polling).
public enum LineStatus: Equatable, Sendable {
    case connected
    case disconnected
    case timeout
    case authenticationFailure
    case notAvailable
    /// The script answered something libarms does not know: a fatal callback error.
    case callbackError
}

/// One HTTPS exchange the machine asks for.
public struct PullExchange: Equatable, Sendable {
    public var server: PullServer
    /// The URL as configured, and its position in the phase's list (`RS[i]` in logs).
    public var url: String
    public var index: Int
    /// The request document (`rs-solicitation` or `config-solicitation`).
    public var request: ARMSRequest
    /// Basic-auth password: the LS-SA key or the RS preshared key.
    public var password: String
    /// The CA to verify the server with (RS only; the LS uses the agent's root CA).
    public var trustAnchor: String?
    /// The log line libarms writes once the request body is built (after the TLS handshake).
    public var connectedLog: LibarmsLog
}

/// What came back from an exchange.
public enum PullExchangeOutcome: Equatable, Sendable {
    /// A decoded answer (and, for the RS, its modules already delivered and its SA certificate usable).
    case answered(ARMSResponse)
    /// An answer whose body could not be decoded.
    case undecodable(ARMSDecodeError)
    /// HTTP status ≥ 400.
    case httpStatus(Int)
    /// Connect, TLS, write, read or time-out failure (already logged by the transport).
    case transportFailed
    /// RS content refused after decoding (e.g. unusable SA certificate); the log line says why.
    case rejected(LibarmsLog)
}

/// Events fed to the machine, each answering the blocking action it asked for last.
public enum PullEvent: Equatable, Sendable {
    case start
    case line(LineStatus)
    case exchanged(PullExchangeOutcome)
    case waited
}

/// How `arms_pull()` ended.
public enum PullResult: Equatable, Sendable {
    /// The RS answered: its configuration, and the URL that answered.
    case success(ConfigSolicitationResult, endpoint: String)
    case failure(ARMSErrorCode)
}

/// What the machine asks its runner to do. Non-blocking actions (`log`, `state`, `trigger`)
/// come first; the last action of a step is blocking and is answered by the next event.
public enum PullAction: Equatable, Sendable {
    case log(LibarmsLog)
    case state(from: AgentState, to: AgentState)
    case controlLine(LineAction, LineDefinition, index: Int)
    case exchange(PullExchange)
    case wait(seconds: Int)
    case finish(PullResult)
}

/// Settings of one `arms_pull()` run.
public struct PullSettings: Equatable, Sendable {
    public var distributionID: DistributionID
    /// `<description>` (≤ 32 bytes).
    public var description: String
    /// `<firmware-info>`; `nil` omits it.
    public var firmwareInfo: String?
    public var lsURLs: [String]
    public var lsRetry: LSRetryPolicy
    /// The lines offered for the LS phase (armsd: DHCP ifindex 0, then RA ifindex 0).
    public var lsLines: [LineDefinition]
    public var lsKey: String
    /// The global deadline in seconds (armsd: 0 → 21600).
    public var deadline: Double
    /// libarms' pause when a phase has no line at all.
    public var noLinePause: Int

    public init(distributionID: DistributionID, description: String = "armsd", firmwareInfo: String? = nil,
                lsURLs: [String], lsRetry: LSRetryPolicy, lsLines: [LineDefinition] = [.dhcp(ifindex: 0), .ra(ifindex: 0)],
                lsKey: String, deadline: Double = 21600, noLinePause: Int = 60) {
        self.distributionID = distributionID
        self.description = description
        self.firmwareInfo = firmwareInfo
        self.lsURLs = lsURLs
        self.lsRetry = lsRetry
        self.lsLines = lsLines
        self.lsKey = lsKey
        self.deadline = deadline
        self.noLinePause = noLinePause
    }
}

/// libarms' `arms_pull()` as a plain state machine (pull.md §6): LS phase, RS phase,
/// URL walking, rounds and pauses, result-code classes, fallback to the LS.
///
/// Feed it events with the current monotonic time in seconds; it answers with
/// actions. It does no I/O, so every path is testable without sockets.
public struct PullMachine: Sendable {
    public let settings: PullSettings
    public private(set) var knowledge: PullKnowledge
    public private(set) var state: AgentState
    /// The `<trigger>` sent with the next request.
    public private(set) var trigger: String

    private enum Pending: Sendable {
        case nextLine
        case success(ConfigSolicitationResult, endpoint: String)
        case fatal(ARMSErrorCode)
        case fallbackToLS
        case nextPhase
    }

    private enum Step: Sendable {
        case idle
        case pauseBeforeRound
        case noLinePause(then: Pending)
        case connecting
        case exchanging(attempt: Int)
        case disconnecting(Pending)
        case finished
    }

    private var phase: PullServer = .locationServer
    private var step: Step = .idle
    private var round = 0
    private var lineOffset = 0
    private var lineStart = 0
    private var lsCurrent = 0
    /// The server index the running transaction started at.
    private var transactionStart = 0
    private var startTime: Double = 0

    public init(settings: PullSettings, knowledge: PullKnowledge = PullKnowledge(),
                state: AgentState = .initial, trigger: String = "power on boot") {
        self.settings = settings
        self.knowledge = knowledge
        self.state = state
        self.trigger = trigger
    }

    public var isFinished: Bool {
        if case .finished = step { return true }
        return false
    }

    // MARK: phase parameters

    private var lines: [LineDefinition] { phase == .locationServer ? settings.lsLines : knowledge.lines }
    private var urls: [String] { phase == .locationServer ? settings.lsURLs : knowledge.rsURLs }
    private var rounds: Int { phase == .locationServer ? settings.lsRetry.rounds : knowledge.rsRetryMax + 1 }
    private var interval: Int { phase == .locationServer ? settings.lsRetry.intervalSeconds : knowledge.rsRetryInterval }
    private var method: String { phase == .locationServer ? "rs-solicitation" : "config-solicitation" }
    private var current: Int {
        get { phase == .locationServer ? lsCurrent : knowledge.currentServer }
        set { if phase == .locationServer { lsCurrent = newValue } else { knowledge.currentServer = newValue } }
    }

    // MARK: driving

    public mutating func handle(_ event: PullEvent, now: Double) -> [PullAction] {
        var out: [PullAction] = []
        switch (event, step) {
        case (.start, .idle):
            startTime = now
            if knowledge.rsEndpoint?.isEmpty == false {
                out.append(.log(LibarmsLog(5, "Skip LS access.  Pull from RS.")))
                beginRSPhase(&out, now: now)
            } else {
                beginLSPhase(&out, now: now)
            }
        case (.waited, .pauseBeforeRound):
            connectLine(&out, now: now)
        case (.waited, .noLinePause(let then)):
            conclude(then, &out, now: now)
        case (.line(let status), .connecting):
            lineConnected(status, &out, now: now)
        case (.exchanged(let outcome), .exchanging(let attempt)):
            exchanged(outcome, attempt: attempt, &out, now: now)
        case (.line(let status), .disconnecting(let pending)):
            if status == .callbackError {
                finish(.failure(.callback), &out)
            } else {
                out.append(.log(LibarmsLog(25, "Line \(Self.lineName(lineInUse))(\(lineIndex)) Disconnected.")))
                conclude(pending, &out, now: now)
            }
        default:
            // An event that does not answer the last action: a runner bug, never silently ignored.
            finish(.failure(.fatal), &out)
        }
        return out
    }

    private mutating func setState(_ new: AgentState, _ out: inout [PullAction]) {
        guard new != state else { return }
        out.append(.state(from: state, to: new))
        state = new
    }

    private mutating func finish(_ result: PullResult, _ out: inout [PullAction]) {
        if case .failure = result { setState(.bootFail, &out) }
        step = .finished
        out.append(.finish(result))
    }

    private mutating func beginLSPhase(_ out: inout [PullAction], now: Double) {
        phase = .locationServer
        out.append(.log(LibarmsLog(2, "Pull from LS.")))
        setState(.lsPull, &out)
        knowledge.forgetRemoteServers()
        out.append(.log(.debug("calculated. ls max retry \(max(0, rounds - 1)) times.")))
        out.append(.log(.debug("calculated. ls retry interval \(interval) sec.")))
        beginPhase(&out, now: now)
    }

    private mutating func beginRSPhase(_ out: inout [PullAction], now: Double) {
        phase = .remoteServer
        setState(.rsPull, &out)
        out.append(.log(.debug("calculated. rs max retry \(knowledge.rsRetryMax) times.")))
        out.append(.log(.debug("calculated. rs retry interval \(interval) sec.")))
        beginPhase(&out, now: now)
    }

    private mutating func beginPhase(_ out: inout [PullAction], now: Double) {
        round = 0
        lineOffset = 0
        lineStart = phase == .remoteServer && !lines.isEmpty ? knowledge.lastLine % lines.count : 0
        guard !lines.isEmpty else {
            out.append(.log(.debug(phase == .locationServer
                ? "line configuration not found.  see initial-config"
                : "line configuration not found.  see location-config")))
            trigger = phase == .locationServer ? "LS not found" : "RS not found"
            step = .noLinePause(then: phase == .locationServer ? .fatal(.pull) : .fallbackToLS)
            out.append(.wait(seconds: settings.noLinePause))
            return
        }
        connectLine(&out, now: now)
    }

    private var lineIndex: Int { (lineStart + lineOffset) % max(1, lines.count) }
    private var lineInUse: LineDefinition { lines[lineIndex] }

    private mutating func connectLine(_ out: inout [PullAction], now: Double) {
        if deadlinePassed(now) {
            out.append(.log(.debug("global timeout. ARMS_ETIMEOUT")))
            finish(.failure(.timeout), &out)
            return
        }
        out.append(.log(.debug("line: connecting(\(lineIndex)): \(Self.lineName(lineInUse))")))
        step = .connecting
        out.append(.controlLine(.connect, lineInUse, index: lineIndex))
    }

    private mutating func lineConnected(_ status: LineStatus, _ out: inout [PullAction], now: Double) {
        switch status {
        case .connected:
            out.append(.log(LibarmsLog(21, "Line \(Self.lineName(lineInUse))(\(lineIndex)) Connected.")))
            out.append(.log(.debug("[-] Start \(method)")))
            if phase == .remoteServer {
                for (i, u) in urls.enumerated() { out.append(.log(.debug("RS[\(i)]: \(u)"))) }
            }
            transactionStart = current
            tryURL(attempt: 0, &out, now: now)
            return
        case .callbackError:
            out.append(.log(LibarmsLog(108, "Callback Function Error")))
            finish(.failure(.callback), &out)
            return
        case .authenticationFailure:
            out.append(.log(LibarmsLog(120, "Line Authentication Failure")))
        case .timeout:
            out.append(.log(LibarmsLog(121, "Line Timeout")))
        case .notAvailable, .disconnected:
            out.append(.log(LibarmsLog(122, "Line \(Self.lineName(lineInUse))(\(lineIndex)) not available.")))
        }
        disconnect(then: .nextLine, &out)
    }

    private mutating func disconnect(then pending: Pending, _ out: inout [PullAction]) {
        out.append(.log(.debug("line: disconnecting(\(lineIndex)): \(Self.lineName(lineInUse))")))
        step = .disconnecting(pending)
        out.append(.controlLine(.disconnect, lineInUse, index: lineIndex))
    }

    /// Tries URL number `attempt` of this transaction (pull.md §6.4): starting at the
    /// current server index, wrapping around, skipping unusable URLs.
    private mutating func tryURL(attempt: Int, _ out: inout [PullAction], now: Double) {
        var attempt = attempt
        let list = urls
        while attempt < list.count {
            let index = (transactionStart + attempt) % list.count
            let text = list[index]
            guard let url = try? ARMSURL(parsing: text) else {
                out.append(.log(LibarmsLog(100, "invalid url: \(text)")))
                current = (index + 1) % list.count
                attempt += 1
                continue
            }
            guard url.isUsable else {
                out.append(.log(LibarmsLog(100, "\(text): scheme is not https, cannot access")))
                current = (index + 1) % list.count
                attempt += 1
                continue
            }
            guard lineInUse.type.accepts(url.addressFamily) else {
                out.append(.log(.debug("address family mismatched: \(url.host)")))
                current = (index + 1) % list.count
                attempt += 1
                continue
            }
            if attempt > 0 { out.append(.log(LibarmsLog(35, "retry to send request."))) }
            step = .exchanging(attempt: attempt)
            out.append(.exchange(makeExchange(url: text, index: index)))
            return
        }
        if phase == .locationServer && list.isEmpty { trigger = "LS not found" }
        disconnect(then: .nextLine, &out)
    }

    private func makeExchange(url: String, index: Int) -> PullExchange {
        let request: ARMSRequest
        if phase == .locationServer {
            request = ARMSRequest(type: .rsSolicitation, distributionID: settings.distributionID.description,
                                  description: settings.description, body: .rsSolicitation(trigger: trigger))
        } else {
            request = ARMSRequest(type: .configSolicitation, distributionID: settings.distributionID.description,
                                  description: settings.description,
                                  body: .configSolicitation(ConfigSolicitationRequest(trigger: trigger, firmwareInfo: settings.firmwareInfo)))
        }
        return PullExchange(
            server: phase, url: url, index: index, request: request,
            password: phase == .locationServer ? settings.lsKey : knowledge.rsPresharedKey,
            trustAnchor: phase == .remoteServer ? knowledge.rsTrustAnchor : nil,
            connectedLog: phase == .locationServer ? LibarmsLog(2, "Connecting to LS") : LibarmsLog(5, "Connecting to RS"))
    }

    private mutating func exchanged(_ outcome: PullExchangeOutcome, attempt: Int, _ out: inout [PullAction], now: Double) {
        let list = urls
        let index = (transactionStart + attempt) % max(1, list.count)
        let failLog = phase == .locationServer
            ? LibarmsLog(130, "Failed to get location config from LS")
            : LibarmsLog(131, "Failed to get configuration from RS")

        switch outcome {
        case .transportFailed:
            failOver(from: index, attempt: attempt, &out, now: now)
        case .httpStatus(let code):
            out.append(.log(LibarmsLog(105, "http response (\(code))")))
            failOver(from: index, attempt: attempt, &out, now: now)
        case .rejected(let log):
            out.append(.log(log))
            out.append(.log(failLog))
            failOver(from: index, attempt: attempt, &out, now: now)
        case .undecodable(let error):
            out.append(.log(failLog))
            // A missing or garbled result-code in an LS answer counts as code 200 (pull.md §3.4).
            if phase == .locationServer, Self.isResultCodeError(error) {
                out.append(.log(.debug("libarms got result 200 from RS[\(index)].")))
                fatal(.reboot, trigger: "got result of failure from server", &out)
            } else {
                failOver(from: index, attempt: attempt, &out, now: now)
            }
        case .answered(let response):
            let code = response.resultCode
            let outcome = phase == .locationServer ? PullOutcome.forLocationServer(code) : PullOutcome.forRemoteServer(code)
            if outcome != .accept {
                out.append(.log(failLog))
                out.append(.log(.debug("libarms got result \(code.rawValue) from RS[\(index)].")))
            }
            switch outcome {
            case .accept:
                current = index
                if phase == .locationServer {
                    acceptLS(response, index: index, attempt: attempt, &out, now: now)
                } else {
                    acceptRS(response, url: list[index], index: index, attempt: attempt, &out, now: now)
                }
            case .tryNextServer:
                failOver(from: index, attempt: attempt, &out, now: now)
            case .reboot:
                let t = code.rawValue == 503 ? "received 503 Need reboot" : "got result of failure from server"
                fatal(.reboot, trigger: t, &out)
            case .dontRetry:
                fatal(.dontRetry, trigger: "received 501 Out of service", &out)
            case .pullAgain:
                trigger = "received 502 Push failed"
                if phase == .locationServer {
                    disconnect(then: .fatal(.pull), &out)
                } else {
                    disconnect(then: .fallbackToLS, &out)
                }
            }
        }
    }

    /// This URL failed: advance the current server past it and try the next one at once (pull.md §6.4).
    private mutating func failOver(from index: Int, attempt: Int, _ out: inout [PullAction], now: Double) {
        current = (index + 1) % max(1, urls.count)
        tryURL(attempt: attempt + 1, &out, now: now)
    }

    private mutating func fatal(_ code: ARMSErrorCode, trigger newTrigger: String, _ out: inout [PullAction]) {
        trigger = newTrigger
        disconnect(then: .fatal(code), &out)
    }

    private static func isResultCodeError(_ error: ARMSDecodeError) -> Bool {
        switch error {
        case .missingElement("result-code"), .badInteger(element: "result-code", text: _): return true
        default: return false
        }
    }

    /// pull.md §4.4: store what the LS said; an empty Location-Config counts as code 200.
    private mutating func acceptLS(_ response: ARMSResponse, index: Int, attempt: Int, _ out: inout [PullAction], now: Double) {
        guard case .rsSolicitation(let r)? = response.body else {
            out.append(.log(LibarmsLog(130, "Failed to get location config from LS")))
            failOver(from: index, attempt: attempt, &out, now: now)
            return
        }
        if r.locationConfigs.contains(where: \.isEmpty) || r.locationConfigs.isEmpty {
            out.append(.log(LibarmsLog(130, "Failed to get location config from LS")))
            fatal(.reboot, trigger: "got result of failure from server", &out)
            return
        }
        var k = knowledge
        k.rsRetryMax = r.rsRetryMax ?? 0
        k.rsRetryInterval = r.rsRetryInterval ?? 0
        k.llTimeout = r.llTimeout ?? 0
        if let key = r.rsPresharedKey { k.rsPresharedKey = String(key.prefix(64)) }
        k.rsURLs = r.urls
        k.rsCertificates = []
        for (i, text) in r.locationConfigs.enumerated() {
            let parsed = try? LocationConfig(parsing: text)
            if i == 0 { k.lines = parsed?.lines ?? [] }
            k.rsCertificates.append(parsed?.rsCertificatePEM)
        }
        k.currentServer = 0
        k.lastLine = 0
        knowledge = k
        out.append(.log(LibarmsLog(3, "LS Access Done")))
        out.append(.log(.debug("[-] End rs-solicitation")))
        disconnect(then: .nextPhase, &out)
    }

    /// pull.md §5.4: the content checks that make an RS answer fail over to the next RS.
    private mutating func acceptRS(_ response: ARMSResponse, url: String, index: Int, attempt: Int, _ out: inout [PullAction], now: Double) {
        guard case .configSolicitation(let r)? = response.body else {
            out.append(.log(LibarmsLog(131, "Failed to get configuration from RS")))
            failOver(from: index, attempt: attempt, &out, now: now)
            return
        }
        if r.saCertificate == nil { out.append(.log(LibarmsLog(106, "SA certificate is not received from RS"))) }
        if r.saPrivateKey == nil { out.append(.log(LibarmsLog(106, "SA private key is not received from RS"))) }
        var problem: LibarmsLog?
        if knowledge.rsTrustAnchor == nil {
            problem = LibarmsLog(106, "Failed to register RS CA certificate.")
        } else if !r.modules.isEmpty, let bad = r.configs.first(where: { c in !r.modules.contains { $0.id == c.id } }) {
            problem = LibarmsLog.debug("md-config for unknown module id \(bad.id)")
        }
        if let problem {
            out.append(.log(problem))
            out.append(.log(LibarmsLog(131, "Failed to get configuration from RS")))
            failOver(from: index, attempt: attempt, &out, now: now)
            return
        }
        knowledge.rsEndpoint = url
        knowledge.lastLine = lineIndex
        out.append(.log(LibarmsLog(6, "RS Access Done")))
        out.append(.log(.debug("RS End point: \(url)")))
        out.append(.log(.debug("[-] End config-solicitation")))
        disconnect(then: .success(r, endpoint: url), &out)
    }

    /// After the line went down: on to the next line, round, phase, or the end.
    private mutating func conclude(_ pending: Pending, _ out: inout [PullAction], now: Double) {
        switch pending {
        case .success(let result, let endpoint):
            setState(.pullDone, &out)
            finish(.success(result, endpoint: endpoint), &out)
        case .fatal(let code):
            finish(.failure(code), &out)
        case .fallbackToLS:
            knowledge.rsEndpoint = nil
            beginLSPhase(&out, now: now)
        case .nextPhase:
            beginRSPhase(&out, now: now)
        case .nextLine:
            lineOffset += 1
            if lineOffset < lines.count {
                connectLine(&out, now: now)
                return
            }
            lineOffset = 0
            round += 1
            if round >= rounds {
                if phase == .locationServer {
                    if urls.isEmpty {
                        trigger = "LS not found"
                        out.append(.log(LibarmsLog(101, "LS not found.")))
                        finish(.failure(.system), &out)
                    } else {
                        finish(.failure(.maxRetry), &out)
                    }
                } else {
                    trigger = "retry is over"
                    knowledge.rsEndpoint = nil
                    beginLSPhase(&out, now: now)
                }
                return
            }
            if deadlinePassed(now) {
                out.append(.log(.debug("global timeout. ARMS_ETIMEOUT")))
                finish(.failure(.timeout), &out)
                return
            }
            let code = phase == .locationServer ? 8 : 9
            out.append(.log(LibarmsLog(code, "\(phase.rawValue) retry(\(round)/\(rounds - 1)), wait \(interval) sec.")))
            step = .pauseBeforeRound
            out.append(.wait(seconds: interval))
        }
    }

    private func deadlinePassed(_ now: Double) -> Bool { now - startTime >= settings.deadline }

    /// libarms' line names in log texts.
    public static func lineName(_ line: LineDefinition) -> String {
        switch line.type {
        case .pppoe: return "PPPoE"
        case .pppoeIPv6: return "PPPoE-IPv6"
        case .dhcp: return "DHCP"
        case .mobile: return "MOBILE"
        case .staticAddress: return "STATIC"
        case .ra: return "RA"
        }
    }
}
