/// The https-simple push method as a plain state machine (push.md §4.2, §4.4,
/// §5, §7): events in (listener request, POST outcome, timer, work done),
/// actions out (listen, POST, answer a connection, run work, log, state,
/// finish). No sockets, no clocks.
public struct SimplePushMachine {
    public let settings: PushSettings
    /// `sa_af` and `sa_address` of the push-method-query connection.
    public let family: AddressFamily
    public let localHost: String
    /// The listener port (`-p`, default 10443) advertised in `push-endpoint`.
    public var port: Int
    /// rs-pull-server-url list, already in the pull's order (push.md §4.2 step 2).
    public let pullServerURLs: [String]
    public private(set) var state: AgentState
    public private(set) var modules: [ModuleInfo]
    public private(set) var end: PushLoopEnd?
    /// Some confirmation was answered since the method started ("keep push wait").
    public private(set) var everConfirmed = false
    public private(set) var confirmed = false
    /// Where done requests go (push.md §7.5).
    public private(set) var resultURL: String

    var randomID: () -> UInt32
    private var nextToken = 1
    private var operations: [Int: Operation] = [:]
    private var posts: [Int: Post] = [:]
    private var watchdog: ContinuousClock.Instant?
    private var configure: PendingConfigure?
    private var listenFailures = 0
    private var listenRetryAt: ContinuousClock.Instant?

    /// push.md §7.1: a failing bind is retried 7 times, 60 s apart, then the loop ends with pull.
    public static let listenRetryMax = 7
    public static let listenRetryWait: Duration = .seconds(60)

    /// push.md §4.2 step 6.
    public static let confirmationTimeout: Duration = .seconds(60)
    /// push.md §5.6: more transactions than this → 406 for async requests.
    static let maxTransactions = 10

    enum Operation: Equatable {
        case sync(connection: Int, name: MessageName, moduleID: UInt32)
        case async(name: MessageName, transactionID: Int)
        case configureStore(connection: Int, transactionID: Int)
        case configureCommit
        case configureRevert
    }

    enum Post: Equatable {
        case confirmStart
        case done(name: MessageName, transactionID: Int)
        case configureDone
    }

    struct PendingConfigure: Equatable {
        var transactionID: Int
        var result: ResultCode?
        var rolledBack = false
        var retries = 0
        /// Next configure-done attempt (nil: one is in flight or not yet due).
        var retryAt: ContinuousClock.Instant?
    }

    public init(settings: PushSettings, family: AddressFamily, localHost: String, port: Int, pullServerURLs: [String],
                resultURL: String, state: AgentState, modules: [ModuleInfo], randomID: @escaping () -> UInt32) {
        self.settings = settings
        self.family = family
        self.localHost = localHost
        self.port = port == 0 ? 10443 : port
        self.pullServerURLs = pullServerURLs
        self.resultURL = resultURL
        self.state = state
        self.modules = modules
        self.randomID = randomID
    }

    /// `https://<sa_address>:<port>/` (push.md §4.1).
    public var pushEndpoint: String {
        family == .ipv6 ? "https://[\(localHost)]:\(port)/" : "https://\(localHost):\(port)/"
    }

    public var nextDeadline: ContinuousClock.Instant? {
        guard end == nil else { return nil }
        return [watchdog, configure?.retryAt, listenRetryAt].compactMap { $0 }.min()
    }

    /// Pending async transactions (check-transaction, the 406 limit).
    var transactionIDs: [Int] {
        var ids: [Int] = []
        for op in operations.values { if case .async(_, let id) = op { ids.append(id) } }
        for post in posts.values { if case .done(_, let id) = post { ids.append(id) } }
        if let c = configure { ids.append(c.transactionID) }
        return ids.sorted()
    }

    // MARK: start

    /// Opens the listener and POSTs push-confirmation-start everywhere (push.md §4.2).
    public mutating func start(now: ContinuousClock.Instant) -> [PushAction.Simple] {
        var out: [PushAction.Simple] = [.log(LibarmsLog(90, "Push method: simple"))]
        out += changeState(to: .pushSendReady)
        out += confirm(now: now)
        return out
    }

    private mutating func confirm(now: ContinuousClock.Instant) -> [PushAction.Simple] {
        confirmed = false
        watchdog = nil
        listenFailures = 0
        listenRetryAt = nil
        return [.log(LibarmsLog(70, "Start push confirmation")), .listen(port: port)]
    }

    /// The listener is up: start the watchdog and POST the confirmation starts.
    private mutating func listening(now: ContinuousClock.Instant) -> [PushAction.Simple] {
        var out: [PushAction.Simple] = []
        listenRetryAt = nil
        watchdog = now + Self.confirmationTimeout
        let request = ARMSRequest(type: .pushConfirmationStart, distributionID: settings.distid,
                                  description: settings.description,
                                  body: .pushConfirmationStart(method: PushMethod.httpsSimple, endpoint: pushEndpoint))
        for text in pullServerURLs {
            guard let url = try? ARMSURL(parsing: text), url.isUsable else {
                out.append(.log(.debug("invalid url: \(text)")))
                continue
            }
            guard url.addressFamily == family else {
                out.append(.log(.debug("address family mismatched: \(url.host)")))
                continue
            }
            out.append(.log(.debug("[-] Start push-confirmation-start")))
            out.append(.post(token: addPost(.confirmStart), url: text, request: request, expecting: .pushConfirmationStart))
        }
        return out
    }

    // MARK: events

    public mutating func handle(_ event: SimplePushEvent, now: ContinuousClock.Instant) -> [PushAction.Simple] {
        guard end == nil else { return [] }
        switch event {
        case .listening:
            return listening(now: now)
        case .listenFailed(let reason):
            listenFailures += 1
            guard listenFailures <= Self.listenRetryMax else {
                return [.log(.debug("listen failed: \(reason)"))]
                    + finish(.pull(trigger: "cannot listen", forgetEndpoint: false))
            }
            listenRetryAt = now + Self.listenRetryWait
            return [.log(.debug("listen failed: \(reason), retry (\(listenFailures)/\(Self.listenRetryMax)) after 60 sec."))]
        case .badRequest(let connection, let reason):
            return [.log(.debug("bad request: \(reason)")),
                    .answer(connection: connection, bytes: HTTPServerResponse.simpleListenerRejection(.badRequest))]
        case .request(let connection, let authorization, let body):
            guard SimpleRequestReader.authorized(authorization, settings.credentials) else {
                return [.log(.debug("authentication failed")),
                        .answer(connection: connection, bytes: HTTPServerResponse.simpleListenerRejection(.unauthorized))]
            }
            return request(connection, body, now: now)
        case .posted(let token, let outcome):
            guard let post = posts.removeValue(forKey: token) else { return [] }
            return posted(post, outcome, now: now)
        case .timer:
            return timer(now: now)
        case .executed(let token, let result):
            guard let op = operations.removeValue(forKey: token) else { return [] }
            return executed(op, result, now: now)
        }
    }

    private func answer(_ connection: Int, _ response: ARMSResponse) -> PushAction.Simple {
        .answer(connection: connection, bytes: HTTPServerResponse.simpleListener(body: response.encode(style: .libarms).bytes))
    }

    private mutating func request(_ connection: Int, _ body: [UInt8], now: ContinuousClock.Instant) -> [PushAction.Simple] {
        let request: ARMSRequest
        do {
            guard case .request(let r) = try ARMSMessage.decode(body, options: .libarms) else {
                return [answer(connection, .standard(.genericError, .invalidMessageType))]
            }
            request = r
        } catch {
            let code: ResultCode
            switch error {
            case .unknownType, .missingType: code = .invalidMessageType
            default: code = .invalidXML
            }
            return [.log(.debug("\(error)")), answer(connection, .standard(.genericError, code))]
        }
        if let url = request.resultURL {
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                let name = request.type.name
                return [answer(connection, .standard(name.isAsync ? MessageType(name, .start) : MessageType(name), .invalidParameter))]
            }
            resultURL = url
        }
        let name = request.type.name
        if request.type == .pushConfirmationDone, let d = request.distributionID, d != settings.distid {
            return confirmationDone(connection, .distributionIDMismatch)
        }
        let ids = transactionIDs
        let plan = PushRequestPlan.plan(request, distid: settings.distid, modules: modules, transactionIDs: { ids },
                                        configureBusy: configure != nil, dumpDebugFacts: { dumpDebugFacts() })
        let replyType = name.isAsync ? MessageType(name, .start) : MessageType(name)
        let transactionID = name.isAsync ? newTransactionID() : nil
        func reply(_ code: ResultCode, _ body: ResponseBody? = .empty) -> PushAction.Simple {
            answer(connection, .standard(replyType, code, transactionID: transactionID, body: body))
        }
        let startLog = PushAction.Simple.log(.debug("[\(transactionID.map(String.init) ?? "-")] Start \(name.rawValue)"))
        if name.isAsync, ids.count + 1 > Self.maxTransactions {
            return [reply(.tooManyTransactions)]
        }
        switch plan {
        case .invalidType:
            return [answer(connection, .standard(.genericError, .invalidMessageType))]
        case .reply(let code, let body):
            guard code == .success else { return [reply(code, body)] }
            return [startLog, reply(code, body), .log(.debug("[-] End \(name.rawValue)"))]
        case .confirmationDone:
            return confirmationDone(connection, .success)
        case .reboot:
            return [startLog, reply(.success), .log(.debug("[-] End reboot"))]
                + finish(.reboot(trigger: "Reboot requested by RS"))
        case .pullConfig(let forget):
            if forget { resultURL = "" }
            return [startLog, reply(.success), .log(.debug("[-] End pull-config"))]
                + finish(.pull(trigger: "Pull requested by RS", forgetEndpoint: forget))
        case .sync(let work, let moduleID):
            let token = addOperation(.sync(connection: connection, name: name, moduleID: moduleID))
            return [startLog, .execute(token: token, work)]
        case .configure(let request):
            guard let id = transactionID else { return [] }
            let token = addOperation(.configureStore(connection: connection, transactionID: id))
            return [startLog, .execute(token: token, .configureStore(request))]
        case .async(let work):
            guard let id = transactionID else { return [] }
            let token = addOperation(.async(name: name, transactionID: id))
            // push.md §5.3: start answer, close, then execute.
            return [startLog, reply(.success), .execute(token: token, work)]
        }
    }

    /// push.md §4.1: any answered push-confirmation-done (even 423) confirms;
    /// the https-simple answer carries no transaction-id.
    private mutating func confirmationDone(_ connection: Int, _ code: ResultCode) -> [PushAction.Simple] {
        var out: [PushAction.Simple] = [.log(.debug("[-] Start push-confirmation-done")),
                                        answer(connection, .standard(.pushConfirmationDone, code)),
                                        .log(.debug("[-] End push-confirmation-done"))]
        if !confirmed {
            confirmed = true
            everConfirmed = true
            watchdog = nil
            out += changeState(to: .pushWait)
        }
        return out
    }

    // MARK: work results

    private mutating func executed(_ op: Operation, _ result: PushWorkResult, now: ContinuousClock.Instant) -> [PushAction.Simple] {
        switch op {
        case .sync(let connection, let name, let moduleID):
            guard case .moduleOutput(let code, let output) = result else { return [] }
            let body = ResponseBody.moduleResult(output.map { ModuleResult(moduleID: moduleID, output: $0) })
            return [.log(.debug("Generate response to RS")),
                    answer(connection, .standard(MessageType(name), code, body: body)),
                    .log(.debug("[-] End \(name.rawValue)"))]
        case .async(let name, let id):
            let (code, body) = PushMachine.doneBody(result)
            let done = ARMSRequest(type: MessageType(name, .done), transactionResult: code, distributionID: settings.distid,
                                   transactionID: id, description: settings.description, body: body)
            return [.log(.debug("Generate \(name.rawValue)-done")),
                    .post(token: addPost(.done(name: name, transactionID: id)), url: resultURL, request: done,
                          expecting: MessageType(name, .done))]
        case .configureStore(let connection, let id):
            guard case .configureStored(let code, let list) = result else { return [] }
            modules = list
            let response = ARMSResponse.standard(MessageType(.configure, .start), code, transactionID: id)
            guard code == .success else { return [answer(connection, response)] }
            configure = PendingConfigure(transactionID: id)
            return [answer(connection, response), .log(LibarmsLog(73, "Execute configure commit")),
                    .execute(token: addOperation(.configureCommit), .configureCommit)]
        case .configureCommit:
            guard case .configureCommitted(let code) = result else { return [] }
            if code == .rollbackFailure {
                return [.log(LibarmsLog(74, "Execute configure rollback")), .log(LibarmsLog(110, "rollback failure."))]
                    + finish(.pull(trigger: "rollback failure", forgetEndpoint: false))
            }
            configure?.result = code
            var out: [PushAction.Simple] = []
            if code == .rollbacked {
                configure?.rolledBack = true
                out.append(.log(LibarmsLog(74, "Execute configure rollback")))
            }
            return out + sendConfigureDone()
        case .configureRevert:
            guard case .configureReverted(let ok) = result, ok else {
                return [.log(LibarmsLog(110, "rollback failure."))]
                    + finish(.pull(trigger: "rollback failure", forgetEndpoint: false))
            }
            let wait = retryWait(for: .rollbacked, retry: 1)
            configure?.result = .rollbacked
            configure?.rolledBack = true
            configure?.retries = 0
            configure?.retryAt = now + wait
            return []
        }
    }

    private mutating func sendConfigureDone() -> [PushAction.Simple] {
        guard var pending = configure, let result = pending.result else { return [] }
        pending.retryAt = nil
        configure = pending
        let done = ARMSRequest(type: MessageType(.configure, .done), transactionResult: result,
                               distributionID: settings.distid, transactionID: pending.transactionID,
                               description: settings.description, body: .empty)
        return [.log(.debug("Generate configure-done")),
                .post(token: addPost(.configureDone), url: resultURL, request: done, expecting: MessageType(.configure, .done))]
    }

    /// push.md §5.5: the wait before a retry, from the SA's own result.
    func retryWait(for result: ResultCode, retry: Int) -> Duration {
        let interval = max(0, settings.retryInterval)
        switch result.rawValue {
        case 200..<300: return .seconds(interval * 120)
        case 300..<400: return .seconds(interval * retry * retry)
        default: return .seconds(interval)
        }
    }

    // MARK: POST outcomes

    private mutating func posted(_ post: Post, _ outcome: PushExchanger.Outcome, now: ContinuousClock.Instant) -> [PushAction.Simple] {
        switch post {
        case .confirmStart:
            guard case .answered(let response, _) = outcome else {
                if case .failed(let reason) = outcome { return [.log(.debug("push-confirmation-start: \(reason)"))] }
                return []
            }
            let code = response.resultCode
            if !code.isSuccess {
                switch code.rawValue {
                case 300..<500: return [.log(.debug("push-confirmation-start result \(code.rawValue)"))]
                case 507: return finish(.pull(trigger: "no push method", forgetEndpoint: false))
                default: return PushLoopEnd.forResult(code).map { finish($0) } ?? []
                }
            }
            guard let id = response.transactionID else {
                return [.log(.debug("push-confirmation-start response without transaction-id"))]
            }
            return [.log(.debug("[\(id)] End push-confirmation-start"))]
        case .done(let name, let id):
            guard case .answered(let response, _) = outcome, response.type == MessageType(name, .done) else {
                return [.log(.debug("transaction is aborted id=\(id)")), .log(.debug("[\(id)] End \(name.rawValue)"))]
            }
            var out: [PushAction.Simple] = [.log(.debug("libarms got result \(response.resultCode.rawValue) from server.")),
                                            .log(.debug("[\(id)] End \(name.rawValue)"))]
            if let stop = PushLoopEnd.forResult(response.resultCode) { out += finish(stop) }
            return out
        case .configureDone:
            guard var pending = configure else { return [] }
            guard case .answered(let response, _) = outcome else {
                // Transport failure: retry, bounded (push.md §5.5).
                pending.retries += 1
                if pending.retries > settings.retryMax {
                    if pending.rolledBack {
                        return [.log(LibarmsLog(110, "rollback failure."))]
                            + finish(.pull(trigger: "rollback failure", forgetEndpoint: false))
                    }
                    configure = pending
                    return [.log(LibarmsLog(74, "Execute configure rollback")),
                            .execute(token: addOperation(.configureRevert), .configureRevert)]
                }
                pending.retryAt = now + retryWait(for: pending.result ?? .success, retry: pending.retries)
                configure = pending
                return [.log(.debug("retry configure-done (\(pending.retries)/\(settings.retryMax))"))]
            }
            let code = response.resultCode.rawValue
            var out: [PushAction.Simple] = [.log(.debug("libarms got result \(code) from server.")),
                                            .log(.debug("[\(pending.transactionID)] End configure"))]
            switch code {
            case 100..<200:
                configure = nil
                if pending.result == .moduleSyncing { return out + finish(.reboot(trigger: "module sync")) }
                // push.md §4.4: https-simple closes everything and confirms again.
                out.append(.closeListener)
                out += changeState(to: .pushReboot)
                out += changeState(to: .pushSendReady)
                return out + confirm(now: now)
            case 500...:
                return out + finish(PushLoopEnd.forResult(response.resultCode) ?? .reboot(trigger: "got result of failure from server"))
            default:
                if !pending.rolledBack {
                    out.append(.log(LibarmsLog(74, "Execute configure rollback")))
                    out.append(.execute(token: addOperation(.configureRevert), .configureRevert))
                    return out
                }
                if (300..<500).contains(code) {
                    pending.retryAt = now + retryWait(for: .rollbacked, retry: max(1, pending.retries))
                    configure = pending
                    return out
                }
                return out + [.log(LibarmsLog(110, "rollback failure."))]
                    + finish(.pull(trigger: "rollback failure", forgetEndpoint: false))
            }
        }
    }

    // MARK: timer

    private mutating func timer(now: ContinuousClock.Instant) -> [PushAction.Simple] {
        var out: [PushAction.Simple] = []
        if let due = listenRetryAt, due <= now {
            listenRetryAt = nil
            out.append(.listen(port: port))
        }
        if let due = configure?.retryAt, due <= now {
            out += sendConfigureDone()
        }
        if let due = watchdog, due <= now {
            watchdog = nil
            out += [.log(.debug("confirmation timeout")), .log(LibarmsLog(72, "Failed push confirmation by simple.")),
                    .closeListener]
            if everConfirmed {
                return out + confirm(now: now)
            }
            end = .methodFailed
            return out + [.finish(.methodFailed)]
        }
        return out
    }

    // MARK: helpers

    private mutating func finish(_ result: PushLoopEnd) -> [PushAction.Simple] {
        var out: [PushAction.Simple] = [.closeListener]
        out += changeState(to: .pushReboot)
        end = result
        out.append(.finish(result))
        return out
    }

    private mutating func changeState(to new: AgentState) -> [PushAction.Simple] {
        guard new != state else { return [] }
        let old = state
        state = new
        return [.state(from: old, to: new)]
    }

    private mutating func newTransactionID() -> Int {
        var id = Int(randomID() & 0x7FFF_FFFF)
        if id == 0 { id = 1 }
        return id
    }

    private mutating func addOperation(_ op: Operation) -> Int {
        defer { nextToken += 1 }
        operations[nextToken] = op
        return nextToken
    }

    private mutating func addPost(_ post: Post) -> Int {
        defer { nextToken += 1 }
        posts[nextToken] = post
        return nextToken
    }

    private func dumpDebugFacts() -> [String] {
        // agent.md §5.5: `Push Method: simple` + `SA Address: https://<addr>:<port>/`.
        ["Confirmed Protocol: \(family == .ipv6 ? "IPv6" : "IPv4")", "Push Method: simple", "SA Address: \(pushEndpoint)"]
    }
}

/// What happens to the https-simple machine.
public enum SimplePushEvent: Equatable, Sendable {
    /// The listener is bound (answer to `.listen`).
    case listening
    /// The listener could not be opened (answer to `.listen`).
    case listenFailed(String)
    /// A complete request on an accepted connection: its `Authorization` header value (nil: absent) and body.
    case request(connection: Int, authorization: String?, body: [UInt8])
    /// Over-long line, long URI or bad framing (HTTP 400).
    case badRequest(connection: Int, reason: String)
    /// A POST finished.
    case posted(token: Int, PushExchanger.Outcome)
    case timer
    case executed(token: Int, PushWorkResult)
}

extension PushAction {
    /// The https-simple machine's requests to its driver.
    public enum Simple: Equatable, Sendable {
        case log(LibarmsLog)
        case state(from: AgentState, to: AgentState)
        /// Open the TLS listener on the wildcard address of the family (if not open);
        /// answer `.listening` or `.listenFailed`.
        case listen(port: Int)
        case closeListener
        /// Write these bytes on the accepted connection, then close it (close_notify).
        case answer(connection: Int, bytes: [UInt8])
        /// HTTP/1.1 chunked POST of `request` to `url`; answer `.posted(token:_:)`.
        case post(token: Int, url: String, request: ARMSRequest, expecting: MessageType)
        case execute(token: Int, PushWork)
        case finish(PushLoopEnd)
    }
}
