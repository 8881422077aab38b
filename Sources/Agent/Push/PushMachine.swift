/// The https-tunnel push method as a plain state machine (push.md §3.5, §4.3,
/// §5, §6; tunnel.md §2–§11): it takes events (connected, bytes received,
/// connection lost, timer, work done) and returns actions (connect, send,
/// close, run work, log, state change, finish). No sockets, no clocks: the
/// driver passes `now` and asks `nextDeadline`.
public struct PushMachine {
    public let settings: PushSettings
    /// Keep-alive period in seconds (push-method-query answer, default 60).
    public let echoInterval: Int
    /// The family of the push-method-query connection (`sa_af`).
    public let family: AddressFamily
    public let tunnelURLs: [String]
    public private(set) var state: AgentState
    /// The module DB as the last pull or configure left it (read-module-list).
    public private(set) var modules: [ModuleInfo]
    /// Set once a finish action was returned; later events are ignored.
    public private(set) var end: PushLoopEnd?
    /// Some tunnel completed confirmation since the method started.
    public private(set) var everConfirmed = false

    var tunnels: [TunnelSession] = []
    var randomID: () -> UInt32
    private var nextToken = 1
    private var operations: [Int: Operation] = [:]

    /// Timeouts of tunnel.md §9.
    public static let headTimeout: Duration = .seconds(30)
    public static let confirmStartTimeout: Duration = .seconds(60)
    public static let confirmDoneTimeout: Duration = .seconds(30)
    /// Reconnect delay after a configure commit (tunnel.md §7.4).
    public static let configureReconnectDelay: Duration = .seconds(1)
    /// Longest response head accepted.
    static let maxHeadBytes = 8192

    enum Operation {
        case sync(tunnel: Int, name: MessageName, moduleID: UInt32)
        case async(tunnel: Int, name: MessageName, transactionID: Int)
        case configureStore(tunnel: Int, transactionID: Int)
        case configureCommit(tunnel: Int)
        case configureRevert(tunnel: Int)
    }

    /// - Parameter randomID: the source of message and transaction ids (libarms: `random()`).
    public init(settings: PushSettings, tunnelURLs: [String], echoInterval: Int?, family: AddressFamily,
                state: AgentState, modules: [ModuleInfo], randomID: @escaping () -> UInt32) {
        self.settings = settings
        self.tunnelURLs = Array(tunnelURLs.prefix(5))
        self.echoInterval = max(1, echoInterval ?? 60)
        self.family = family
        self.state = state
        self.modules = modules
        self.randomID = randomID
    }

    var echoPeriod: Duration { .seconds(echoInterval) }
    var retryWait: Duration { .seconds(max(0, settings.retryInterval)) }

    /// The earliest moment `handle(.timer)` has something to do.
    public var nextDeadline: ContinuousClock.Instant? {
        guard end == nil else { return nil }
        return tunnels.compactMap(\.nextDeadline).min()
    }

    /// Tunnel numbers that are connected now.
    public var connectedTunnels: [Int] { tunnels.filter(\.isConnected).map(\.index) }

    /// Tunnel numbers that are confirmed and serving push requests.
    public var readyTunnels: [Int] { tunnels.filter { $0.phase == .ready }.map(\.index) }

    // MARK: start

    /// Starts every tunnel (tunnel.md §2).
    public mutating func start(now: ContinuousClock.Instant) -> [PushAction] {
        var out: [PushAction] = [.log(LibarmsLog(91, "Push method: tunnel"))]
        tunnels = []
        for (i, text) in tunnelURLs.enumerated() {
            out.append(.log(.debug("tunnel#\(i): \(text)")))
        }
        guard !tunnelURLs.isEmpty else {
            out.append(.log(LibarmsLog(105, "tunnel destination URL is not found.")))
            end = .methodFailed
            out.append(.finish(.methodFailed))
            return out
        }
        out.append(.log(LibarmsLog(70, "Start push confirmation")))
        out += changeState(to: .pushSendReady)
        out += startTunnels(now: now)
        return out
    }

    private mutating func startTunnels(now: ContinuousClock.Instant) -> [PushAction] {
        var out: [PushAction] = []
        tunnels = []
        for (i, text) in tunnelURLs.enumerated() {
            guard let url = try? ARMSURL(parsing: text), url.isUsable else {
                out.append(.log(.debug("tunnel#\(i): invalid url: \(text)")))
                var dead = TunnelSession(index: i, url: (try? ARMSURL(host: "0.0.0.0")) ?? Self.placeholderURL, now: now)
                dead.phase = .removed
                tunnels.append(dead)
                continue
            }
            tunnels.append(TunnelSession(index: i, url: url, now: now))
        }
        for i in tunnels.indices where !tunnels[i].isRemoved {
            out += connect(i)
        }
        out += checkAllGone(now: now)
        return out
    }

    private static let placeholderURL = try! ARMSURL(host: "0.0.0.0")

    private mutating func connect(_ i: Int) -> [PushAction] {
        let url = tunnels[i].url
        let tag = tunnels[i].tag
        if url.addressFamily != family {
            tunnels[i].phase = .removed
            return [.log(.debug("\(tag): address family mismatched: \(url.host)")), .log(.debug("\(tag): closed."))]
        }
        tunnels[i].phase = .connecting
        return [.log(.debug("\(tag): try to connect \(url.host):\(url.port)")),
                .log(.debug("\(tag): socket prepared. connecting...")),
                .connect(tunnel: i, url: url)]
    }

    // MARK: events

    public mutating func handle(_ event: PushEvent, now: ContinuousClock.Instant) -> [PushAction] {
        guard end == nil else { return [] }
        switch event {
        case .connected(let i):
            guard tunnels.indices.contains(i), tunnels[i].phase == .connecting else { return [] }
            tunnels[i].resetStream()
            tunnels[i].phase = .awaitingHead(deadline: now + Self.headTimeout)
            let url = tunnels[i].url
            let open = TunnelHandshake.openRequest(path: url.path, host: url.host, port: url.port,
                                                   credentials: settings.credentials)
            let tag = tunnels[i].tag
            return [.log(.debug("\(tag): socket connected.")), .log(.debug("\(tag): SSL connection established.")),
                    .send(tunnel: i, writes: [open]), .log(.debug("\(tag): sent http header."))]
        case .connectFailed(let i, let reason):
            guard tunnels.indices.contains(i), tunnels[i].phase == .connecting else { return [] }
            return [.log(.debug("\(tunnels[i].tag): \(reason)"))] + retry(i, now: now)
        case .connectionLost(let i, let reason):
            guard tunnels.indices.contains(i), tunnels[i].isConnected else { return [] }
            return [.log(.debug("\(tunnels[i].tag): \(reason)"))] + retry(i, now: now)
        case .received(let i, let bytes):
            guard tunnels.indices.contains(i), tunnels[i].isConnected else { return [] }
            return received(i, bytes, now: now)
        case .timer:
            return timer(now: now)
        case .executed(let token, let result):
            guard let op = operations.removeValue(forKey: token) else { return [] }
            return executed(op, result, now: now)
        }
    }

    private mutating func received(_ i: Int, _ bytes: [UInt8], now: ContinuousClock.Instant) -> [PushAction] {
        var out: [PushAction] = []
        var stream = bytes
        if case .awaitingHead = tunnels[i].phase {
            tunnels[i].head += bytes
            let head = tunnels[i].head
            guard let end = Self.headEnd(head) else {
                if head.count > Self.maxHeadBytes { return [.log(.debug("\(tunnels[i].tag): http response (-1)"))] + retry(i, now: now) }
                return []
            }
            let status = Self.tunnelStatus(Array(head[..<end]))
            guard status == 200 else {
                return [.log(.debug("\(tunnels[i].tag): http response (\(status))"))] + retry(i, now: now)
            }
            stream = Array(head[end...])
            tunnels[i].head = []
            out.append(.log(.debug("\(tunnels[i].tag): received http header.")))
            tunnels[i].echoDue = now + echoPeriod
            if var pending = tunnels[i].configure, let result = pending.result {
                // The configure-done goes first, without confirmation (tunnel.md §7.4).
                pending.doneSent = true
                tunnels[i].configure = pending
                tunnels[i].phase = .ready
                let done = ARMSRequest(type: MessageType(.configure, .done), transactionResult: result,
                                       distributionID: settings.distid, transactionID: pending.transactionID,
                                       description: settings.description, body: .empty)
                out.append(.log(.debug("Generate configure-done")))
                out.append(sendMessage(i, .request(done)))
            } else {
                out += startConfirmation(i, now: now)
            }
        }
        guard !stream.isEmpty else { return out }
        tunnels[i].assembler.feed(stream)
        while tunnels[i].isConnected && end == nil {
            let event: TunnelEvent?
            do {
                event = try tunnels[i].assembler.next()
            } catch {
                return out + [.log(.debug("\(tunnels[i].tag): \(error)"))] + retry(i, now: now)
            }
            guard let event else { break }
            switch event {
            case .echoReply:
                tunnels[i].echoOutstanding = false
            case .echoRequest:
                break
            case .endOfStream:
                return out + [.log(.debug("\(tunnels[i].tag): received last chunk."))] + retry(i, now: now)
            case .message(let message):
                out += handleMessage(i, message.data, now: now)
            }
        }
        return out
    }

    /// Index just past the blank line ending the head.
    static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for k in 3..<bytes.count where bytes[k] == 10 && bytes[k - 1] == 13 && bytes[k - 2] == 10 && bytes[k - 3] == 13 {
            return k + 1
        }
        return nil
    }

    /// libarms' check (tunnel.md §3.3): `HTTP/1.1 ` and a decimal status; -1 otherwise.
    static func tunnelStatus(_ head: [UInt8]) -> Int {
        let prefix = Array("HTTP/1.1 ".utf8)
        guard head.starts(with: prefix) else { return -1 }
        let digits = head.dropFirst(prefix.count).prefix { $0 >= 48 && $0 <= 57 }
        guard !digits.isEmpty, digits.count < 6 else { return -1 }
        return Int(String(decoding: digits, as: UTF8.self)) ?? -1
    }

    // MARK: confirmation

    private mutating func startConfirmation(_ i: Int, now: ContinuousClock.Instant) -> [PushAction] {
        tunnels[i].phase = .confirmingStart(deadline: now + Self.confirmStartTimeout)
        let request = ARMSRequest(type: .pushConfirmationStart, distributionID: settings.distid,
                                  description: settings.description,
                                  body: .pushConfirmationStart(method: PushMethod.httpsTunnel, endpoint: nil))
        return [.log(.debug("[-] Start push-confirmation-start")), sendMessage(i, .request(request))]
    }

    private mutating func confirmationMessage(_ i: Int, _ data: [UInt8], now: ContinuousClock.Instant) -> [PushAction] {
        let tag = tunnels[i].tag
        if case .confirmingStart = tunnels[i].phase {
            guard let response = try? ARMSResponse.decode(data, expecting: .pushConfirmationStart, options: .libarms) else {
                return [.log(.debug("\(tag): invalid push-confirmation-start response"))] + retry(i, now: now)
            }
            let code = response.resultCode
            if !code.isSuccess {
                switch code.rawValue {
                case 300..<500:
                    return [.log(.debug("\(tag): push-confirmation-start result \(code.rawValue)"))] + retry(i, now: now)
                case 507:
                    return finishAll(.pull(trigger: "no push method", forgetEndpoint: false), now: now)
                default:
                    if let stop = PushLoopEnd.forResult(code) { return finishAll(stop, now: now) }
                    return retry(i, now: now)
                }
            }
            guard let id = response.transactionID else {
                return [.log(.debug("\(tag): push-confirmation-start response without transaction-id"))] + retry(i, now: now)
            }
            tunnels[i].confirmationID = id
            tunnels[i].phase = .confirmingDone(deadline: now + Self.confirmDoneTimeout)
            return [.log(.debug("[\(id)] End push-confirmation-start")), .log(.debug("[-] Start push-confirmation-done"))]
        }
        guard let request = try? ARMSRequest.decode(data, options: .libarms), request.type == .pushConfirmationDone else {
            return [.log(.debug("\(tag): unexpected message during confirmation"))] + retry(i, now: now)
        }
        let id = request.transactionID ?? 0
        var code: ResultCode = .success
        if let d = request.distributionID, d != settings.distid { code = .distributionIDMismatch }
        let response = ARMSResponse.standard(.pushConfirmationDone, code, transactionID: id)
        var out: [PushAction] = [sendMessage(i, .response(response)), .log(.debug("[\(id)] End push-confirmation-done"))]
        tunnels[i].phase = .ready
        tunnels[i].retries = 0
        tunnels[i].confirmedOnce = true
        everConfirmed = true
        out += changeState(to: .pushWait)
        out.append(.log(LibarmsLog(71, "Done push confirmation")))
        out.append(.log(LibarmsLog(63, "\(tag): ready to push.")))
        return out
    }

    // MARK: messages in PUSH_WAIT

    private mutating func handleMessage(_ i: Int, _ data: [UInt8], now: ContinuousClock.Instant) -> [PushAction] {
        switch tunnels[i].phase {
        case .confirmingStart, .confirmingDone:
            return confirmationMessage(i, data, now: now)
        case .ready:
            break
        default:
            return []
        }
        let message: ARMSMessage
        do {
            message = try ARMSMessage.decode(data, options: .libarms)
        } catch {
            let code: ResultCode
            switch error {
            case .unknownType, .missingType: code = .invalidMessageType
            default: code = .invalidXML
            }
            return [.log(.debug("\(tunnels[i].tag): \(error)")),
                    sendMessage(i, .response(.standard(.genericError, code)))]
        }
        switch message {
        case .response(let response):
            let id = response.transactionID ?? 0
            if let pending = tunnels[i].configure, pending.doneSent, pending.transactionID == id {
                return configureDone(i, response, now: now)
            }
            if let name = tunnels[i].pendingDones[id] {
                tunnels[i].pendingDones[id] = nil
                guard response.type == MessageType(name, .done) else {
                    return [.log(.debug("\(tunnels[i].tag): invalid \(name.rawValue)-done response"))] + retry(i, now: now)
                }
                var out: [PushAction] = [.log(.debug("libarms got result \(response.resultCode.rawValue) from server.")),
                                         .log(.debug("[\(id)] End \(name.rawValue)"))]
                if let stop = PushLoopEnd.forResult(response.resultCode) { out += finishAll(stop, now: now) }
                return out
            }
            return [.log(.debug("\(tunnels[i].tag): response for no transaction (id=\(id)) ignored"))]
        case .request(let request):
            return handleRequest(i, request, now: now)
        }
    }

    private mutating func handleRequest(_ i: Int, _ request: ARMSRequest, now: ContinuousClock.Instant) -> [PushAction] {
        let name = request.type.name
        let tunnels = self.tunnels
        let plan = PushRequestPlan.plan(
            request, distid: settings.distid, modules: modules,
            transactionIDs: { tunnels.flatMap { $0.pendingDones.keys.sorted() + ($0.configure.map { [$0.transactionID] } ?? []) } },
            configureBusy: tunnels.contains(where: { $0.configure != nil }),
            dumpDebugFacts: { dumpDebugFacts() })
        if plan == .invalidType {
            return [sendMessage(i, .response(.standard(.genericError, .invalidMessageType)))]
        }
        let replyType = name.isAsync ? MessageType(name, .start) : MessageType(name)
        let transactionID = name.isAsync ? newTransactionID() : nil
        func reply(_ code: ResultCode, _ body: ResponseBody? = .empty) -> PushAction {
            sendMessage(i, .response(.standard(replyType, code, transactionID: transactionID, body: body)))
        }
        let startLog = PushAction.log(.debug("[\(transactionID.map(String.init) ?? "-")] Start \(name.rawValue)"))
        switch plan {
        case .invalidType:
            return []
        case .reply(let code, let body):
            guard code == .success else { return [reply(code, body)] }
            return [startLog, reply(code, body), .log(.debug("[-] End \(name.rawValue)"))]
        case .confirmationDone:
            let response = ARMSResponse.standard(.pushConfirmationDone, .success, transactionID: request.transactionID)
            return [sendMessage(i, .response(response))]
        case .reboot:
            return [startLog, reply(.success), .log(.debug("[-] End reboot"))]
                + finishAll(.reboot(trigger: "Reboot requested by RS"), now: now)
        case .pullConfig(let forget):
            return [startLog, reply(.success), .log(.debug("[-] End pull-config"))]
                + finishAll(.pull(trigger: "Pull requested by RS", forgetEndpoint: forget), now: now)
        case .sync(let work, let moduleID):
            let token = addOperation(.sync(tunnel: i, name: name, moduleID: moduleID))
            return [startLog, .execute(token: token, work)]
        case .configure(let configure):
            guard let id = transactionID else { return [] }
            let token = addOperation(.configureStore(tunnel: i, transactionID: id))
            return [startLog, .execute(token: token, .configureStore(configure))]
        case .async(let work):
            return startAsync(i, name, transactionID, work, startLog)
        }
    }

    private mutating func startAsync(_ i: Int, _ name: MessageName, _ transactionID: Int?, _ work: PushWork,
                                     _ startLog: PushAction) -> [PushAction] {
        guard let id = transactionID else { return [] }
        let token = addOperation(.async(tunnel: i, name: name, transactionID: id))
        let response = ARMSResponse.standard(MessageType(name, .start), .success, transactionID: id)
        return [startLog, sendMessage(i, .response(response)), .execute(token: token, work)]
    }

    private mutating func addOperation(_ op: Operation) -> Int {
        let token = nextToken
        nextToken += 1
        operations[token] = op
        return token
    }

    private func dumpDebugFacts() -> [String] {
        let active = tunnels.filter(\.isConnected).map { "\($0.index) " }.joined()
        var lines = ["Confirmed Protocol: \(family == .ipv6 ? "IPv6" : "IPv4")",
                     "Push Method: tunnel", "Active Tunnel List: \(active)"]
        for (i, url) in tunnelURLs.enumerated() { lines.append("Tunnel-Url.\(i): \(url)") }
        return lines
    }

    // MARK: work results

    private mutating func executed(_ op: Operation, _ result: PushWorkResult, now: ContinuousClock.Instant) -> [PushAction] {
        switch op {
        case .sync(let i, let name, let moduleID):
            guard case .moduleOutput(let code, let output) = result else { return [] }
            let body = ResponseBody.moduleResult(output.map { ModuleResult(moduleID: moduleID, output: $0) })
            guard tunnels[i].phase == .ready else { return [] }
            return [.log(.debug("Generate response to RS")),
                    sendMessage(i, .response(.standard(MessageType(name), code, body: body))),
                    .log(.debug("[-] End \(name.rawValue)"))]
        case .async(let i, let name, let id):
            let (code, body) = Self.doneBody(result)
            guard tunnels[i].phase == .ready else {
                return [.log(.debug("\(tunnels[i].tag): transaction is removed id=\(id)"))]
            }
            tunnels[i].pendingDones[id] = name
            let done = ARMSRequest(type: MessageType(name, .done), transactionResult: code, distributionID: settings.distid,
                                   transactionID: id, description: settings.description, body: body)
            return [.log(.debug("Generate \(name.rawValue)-done")), sendMessage(i, .request(done))]
        case .configureStore(let i, let id):
            guard case .configureStored(let code, let list) = result else { return [] }
            modules = list
            let response = ARMSResponse.standard(MessageType(.configure, .start), code, transactionID: id)
            guard code == .success else {
                return tunnels[i].isConnected ? [sendMessage(i, .response(response))] : []
            }
            var out: [PushAction] = []
            if tunnels[i].isConnected {
                out.append(sendMessage(i, .response(response)))
                out.append(.close(tunnel: i, orderly: false))
                out.append(.log(.debug("\(tunnels[i].tag): closed.")))
            }
            tunnels[i].resetStream()
            tunnels[i].configure = TunnelSession.PendingConfigure(transactionID: id)
            tunnels[i].phase = .waiting(until: now + Self.configureReconnectDelay)
            out.append(.log(LibarmsLog(73, "Execute configure commit")))
            out.append(.execute(token: addOperation(.configureCommit(tunnel: i)), .configureCommit))
            return out
        case .configureCommit(let i):
            guard case .configureCommitted(let code) = result else { return [] }
            if code == .rollbackFailure {
                return [.log(LibarmsLog(74, "Execute configure rollback")), .log(LibarmsLog(110, "rollback failure."))]
                    + finishAll(.pull(trigger: "rollback failure", forgetEndpoint: false), now: now)
            }
            tunnels[i].configure?.result = code
            if code == .rollbacked {
                tunnels[i].configure?.rolledBack = true
                return [.log(LibarmsLog(74, "Execute configure rollback"))]
            }
            return []
        case .configureRevert(let i):
            guard case .configureReverted(let ok) = result, ok else {
                return [.log(LibarmsLog(110, "rollback failure."))]
                    + finishAll(.pull(trigger: "rollback failure", forgetEndpoint: false), now: now)
            }
            tunnels[i].configure?.result = .rollbacked
            tunnels[i].configure?.rolledBack = true
            tunnels[i].configure?.doneSent = false
            return tunnels[i].isConnected ? retry(i, now: now) : []
        }
    }

    /// The done request's transaction-result and body for a work result.
    static func doneBody(_ result: PushWorkResult) -> (ResultCode, RequestBody) {
        switch result {
        case .statusReports(let reports): return (.success, .statusReports(reports))
        case .storedConfigs(let configs): return (.success, .storedConfigs(configs))
        case .ping(let code, let success, let failure):
            return code == .success ? (code, .pingResult(success: success, failure: failure)) : (code, .empty)
        case .traceroute(let code, let hops): return (code, code == .success ? .tracerouteResult(hops) : .empty)
        case .moduleOutput(let code, _): return (code, .empty)
        case .configureStored(let code, _), .configureCommitted(let code): return (code, .empty)
        case .configureReverted(let ok): return (ok ? .rollbacked : .rollbackFailure, .empty)
        }
    }

    /// The RS answered this tunnel's configure-done (push.md §6.1 "Done response").
    private mutating func configureDone(_ i: Int, _ response: ARMSResponse, now: ContinuousClock.Instant) -> [PushAction] {
        guard let pending = tunnels[i].configure else { return [] }
        let code = response.resultCode.rawValue
        var out: [PushAction] = [.log(.debug("\(tunnels[i].tag): transaction is removed id=\(pending.transactionID)")),
                                 .log(.debug("[\(pending.transactionID)] End configure"))]
        switch code {
        case 100..<200:
            tunnels[i].configure = nil
            if pending.result == .moduleSyncing {
                return out + finishAll(.reboot(trigger: "module sync"), now: now)
            }
            // Every tunnel confirms again on its current connection (push.md §4.4).
            for k in tunnels.indices where tunnels[k].phase == .ready {
                out += startConfirmation(k, now: now)
            }
            return out
        case 500...:
            return out + finishAll(PushLoopEnd.forResult(response.resultCode) ?? .reboot(trigger: "got result of failure from server"), now: now)
        default:
            if !pending.rolledBack {
                out.append(.log(LibarmsLog(74, "Execute configure rollback")))
                out.append(.execute(token: addOperation(.configureRevert(tunnel: i)), .configureRevert))
                return out
            }
            if (300..<500).contains(code) {
                tunnels[i].configure?.doneSent = false
                return out + retry(i, now: now)
            }
            return out + [.log(LibarmsLog(110, "rollback failure."))]
                + finishAll(.pull(trigger: "rollback failure", forgetEndpoint: false), now: now)
        }
    }

    // MARK: timers

    private mutating func timer(now: ContinuousClock.Instant) -> [PushAction] {
        var out: [PushAction] = []
        for i in tunnels.indices {
            guard end == nil else { break }
            let tag = tunnels[i].tag
            switch tunnels[i].phase {
            case .waiting(let until) where until <= now:
                out += connect(i)
                out += checkAllGone(now: now)
                continue
            case .awaitingHead(let deadline) where deadline <= now:
                out += [.log(.debug("\(tag): read http header timeout"))] + retry(i, now: now)
                continue
            case .confirmingStart(let deadline) where deadline <= now, .confirmingDone(let deadline) where deadline <= now:
                out += [.log(.debug("\(tag): confirmation timeout."))] + retry(i, now: now)
                continue
            default:
                break
            }
            guard tunnels[i].isConnected, let due = tunnels[i].echoDue, due <= now else { continue }
            if tunnels[i].echoOutstanding {
                out += [.log(.debug("\(tag): no echo response received."))] + retry(i, now: now)
                continue
            }
            if tunnels[i].phase != .ready {
                tunnels[i].echoDue = now + .seconds(1)
                continue
            }
            tunnels[i].echoOutstanding = true
            tunnels[i].echoDue = due + echoPeriod
            if tunnels[i].echoDue! <= now { tunnels[i].echoDue = now + echoPeriod }
            out.append(.send(tunnel: i, writes: [TunnelChunkEncoder.echoRequest]))
        }
        return out
    }

    // MARK: reconnect and end

    /// tunnel.md §10.2–10.3: drop, count, wait rs-retry-interval (or give up).
    private mutating func retry(_ i: Int, now: ContinuousClock.Instant) -> [PushAction] {
        var out: [PushAction] = []
        let tag = tunnels[i].tag
        if tunnels[i].isConnected {
            out.append(.close(tunnel: i, orderly: false))
            out.append(.log(.debug("\(tag): closing ssl tunnel and retry.")))
        }
        for id in tunnels[i].pendingDones.keys.sorted() {
            out.append(.log(.debug("\(tag): transaction is removed id=\(id)")))
        }
        tunnels[i].resetStream()
        tunnels[i].configure?.doneSent = false
        let seconds = max(0, settings.retryInterval)
        if tunnels[i].confirmedOnce && tunnels[i].configure == nil {
            tunnels[i].phase = .waiting(until: now + retryWait)
            out.append(.log(LibarmsLog(62, "\(tag): retry, wait \(seconds) sec.")))
            return out
        }
        tunnels[i].retries += 1
        if tunnels[i].retries > settings.retryMax {
            out.append(.log(.debug("\(tag): retry is over.")))
            if let pending = tunnels[i].configure {
                if pending.rolledBack {
                    out.append(.log(LibarmsLog(110, "rollback failure.")))
                    return out + finishAll(.pull(trigger: "rollback failure", forgetEndpoint: false), now: now)
                }
                // A new series reporting the rollback (push.md §5.5).
                tunnels[i].retries = 0
                tunnels[i].phase = .waiting(until: now + retryWait)
                out.append(.log(LibarmsLog(74, "Execute configure rollback")))
                out.append(.execute(token: addOperation(.configureRevert(tunnel: i)), .configureRevert))
                return out
            }
            tunnels[i].phase = .removed
            out.append(.log(.debug("\(tag): closed.")))
            return out + checkAllGone(now: now)
        }
        tunnels[i].phase = .waiting(until: now + retryWait)
        out.append(.log(LibarmsLog(62, "\(tag): retry(\(tunnels[i].retries)/\(settings.retryMax)), wait \(seconds) sec.")))
        return out
    }

    /// tunnel.md §10.4.
    private mutating func checkAllGone(now: ContinuousClock.Instant) -> [PushAction] {
        guard end == nil, !tunnels.isEmpty, tunnels.allSatisfy(\.isRemoved) else { return [] }
        if everConfirmed {
            var out = changeState(to: .pushReboot)
            out += changeState(to: .pushSendReady)
            out.append(.log(LibarmsLog(70, "Start push confirmation")))
            return out + startTunnels(now: now)
        }
        end = .methodFailed
        return [.finish(.methodFailed)]
    }

    /// Ends the loop: zero chunk and close_notify on every open tunnel (tunnel.md §7.3).
    private mutating func finishAll(_ result: PushLoopEnd, now: ContinuousClock.Instant) -> [PushAction] {
        var out: [PushAction] = []
        for i in tunnels.indices where tunnels[i].isConnected {
            out.append(.send(tunnel: i, writes: [TunnelChunkEncoder.lastChunk]))
            out.append(.close(tunnel: i, orderly: true))
            out.append(.log(.debug("\(tunnels[i].tag): closed.")))
            tunnels[i].phase = .removed
        }
        for i in tunnels.indices { tunnels[i].phase = .removed }
        out += changeState(to: .pushReboot)
        end = result
        out.append(.finish(result))
        return out
    }

    // MARK: helpers

    private mutating func changeState(to new: AgentState) -> [PushAction] {
        guard new != state else { return [] }
        let old = state
        state = new
        return [.state(from: old, to: new)]
    }

    mutating func newTransactionID() -> Int {
        var id = Int(randomID() & 0x7FFF_FFFF)
        if id == 0 { id = 1 }
        return id
    }

    private mutating func sendMessage(_ i: Int, _ message: ARMSMessage) -> PushAction {
        let id = UInt32(newTransactionID())
        return .send(tunnel: i, writes: TunnelWrites.message(message.encode(style: .libarms).pieces, id: id))
    }
}
