import Glibc

/// Reads one request on the https-simple listener (push.md §7.3): header
/// lines ≤ 1023 bytes, URI ≤ 80 chars, chunked or Content-Length bodies, or
/// (neither) the raw body up to `</arms-message>` / EOF. Bounded: 1 MiB.
struct SimpleRequestReader {
    enum Outcome: Equatable {
        case needMore
        case request(authorization: String?, body: [UInt8])
        case bad(String)
    }

    private var parser = HTTPRequestParser(limits: HTTPLimits(maxLineLength: 1024, maxHeadLength: 16384, maxBodyLength: 1 << 20))
    private var raw: [UInt8]?
    private var authorization: String?
    /// When set, a head without these credentials ends the request at once
    /// (libarms answers 401 at the end of the head, without reading a body).
    var credentials: BasicCredentials?
    static let endTag = Array("</arms-message>".utf8)
    static let maxRaw = 1 << 20

    init(credentials: BasicCredentials? = nil) {
        self.credentials = credentials
    }

    /// libarms' check (push.md §7.3): an `Authorization` line (name case-sensitive)
    /// with `Basic` credentials equal to the distid and rs-preshared-key.
    static func authorized(_ value: String?, _ credentials: BasicCredentials) -> Bool {
        guard let value, value.hasPrefix("Basic "),
              let given = try? BasicCredentials(parsingHeaderValue: value) else { return false }
        return given.user == credentials.user && given.password == credentials.password
    }

    mutating func feed(_ bytes: [UInt8]) -> Outcome {
        if raw != nil { return rawFeed(bytes) }
        let request: HTTPRequest?
        do {
            request = try parser.feed(bytes)
        } catch {
            if let head = parser.head { return rejectUnauthorized(head) ?? .bad("\(error)") }
            return .bad("\(error)")
        }
        if let head = parser.head {
            if head.target.utf8.count > 80 { return .bad("request URI too long") }
            if let refusal = rejectUnauthorized(head) { return refusal }
        }
        guard let request else { return .needMore }
        authorization = Self.authorization(request.head)
        if !request.body.isEmpty || !request.head.headers.values(for: "Transfer-Encoding").isEmpty {
            return .request(authorization: authorization, body: request.body)
        }
        raw = []
        return rawFeed(parser.unconsumed)
    }

    private mutating func rawFeed(_ bytes: [UInt8]) -> Outcome {
        raw! += bytes
        if raw!.count > Self.maxRaw { return .bad("request too long") }
        if containsEndTag(raw!) { return .request(authorization: authorization, body: raw!) }
        return .needMore
    }

    static func authorization(_ head: HTTPRequestHead) -> String? {
        head.headers.fields.first { $0.name == "Authorization" && $0.value.hasPrefix("Basic ") }?.value
            ?? head.headers.fields.first { $0.name == "Authorization" }?.value
    }

    private func rejectUnauthorized(_ head: HTTPRequestHead) -> Outcome? {
        guard let credentials else { return nil }
        let value = Self.authorization(head)
        return Self.authorized(value, credentials) ? nil : .request(authorization: value, body: [])
    }

    /// The peer closed its side: a raw body ends here.
    mutating func finish() -> Outcome {
        if let raw { return .request(authorization: authorization, body: raw) }
        return .bad("connection closed before the request was complete")
    }

    private func containsEndTag(_ bytes: [UInt8]) -> Bool {
        let tag = Self.endTag
        guard bytes.count >= tag.count else { return false }
        for k in 0...(bytes.count - tag.count) where bytes[k] == tag[0] && Array(bytes[k ..< k + tag.count]) == tag {
            return true
        }
        return false
    }
}

/// Runs a `SimplePushMachine` over real sockets: a `poll(2)` loop over the TLS
/// listener and its accepted connections (one request each, 30 s idle limit)
/// plus hosted timers. POSTs and work block, bounded by their own timeouts.
public final class SimplePushLoop {
    public private(set) var machine: SimplePushMachine
    public let serverConfiguration: TLSServerConfiguration
    public let exchanger: PushExchanger
    public let timeouts: TransportTimeouts
    public var hooks: PushLoopHooks
    public let work: (PushWork) -> PushWorkResult
    /// The bound listener address (port known after `.listen`, also for port 0).
    public private(set) var listenerAddress: SocketAddress?
    /// Called whenever the listener has been (re)bound (tests learn the port here).
    public var listening: (SocketAddress) -> Void = { _ in }
    /// Per-connection idle limit (push.md §7.3: 30 s).
    public var readTimeout: Duration = .seconds(30)
    /// The bind port: nil = the machine's port; tests pass 0.
    public var bindPort: UInt16?

    private var listener: TLSListener?
    private struct Peer {
        let connection: TLSClientConnection
        var reader = SimpleRequestReader()
        var deadline: ContinuousClock.Instant
        var done = false
    }
    private var peers: [Int: Peer] = [:]
    private var nextPeer = 1
    private let clock = ContinuousClock()

    public init(machine: SimplePushMachine, serverConfiguration: TLSServerConfiguration, exchanger: PushExchanger,
                timeouts: TransportTimeouts = .libarms, hooks: PushLoopHooks = PushLoopHooks(),
                work: @escaping (PushWork) -> PushWorkResult) {
        self.machine = machine
        self.serverConfiguration = serverConfiguration
        self.exchanger = exchanger
        self.timeouts = timeouts
        self.hooks = hooks
        self.work = work
    }

    deinit { shutdown() }

    private func shutdown() {
        for (_, p) in peers { p.connection.abort() }
        peers = [:]
        listener?.close()
        listener = nil
    }

    public func run() -> PushLoopEnd {
        perform(machine.start(now: clock.now))
        while machine.end == nil { waitOnce() }
        shutdown()
        return machine.end ?? .methodFailed
    }

    func waitOnce() {
        let ids = peers.keys.sorted()
        var fds: [pollfd] = []
        if let listener { fds.append(pollfd(fd: listener.fileDescriptor, events: Int16(POLLIN), revents: 0)) }
        for id in ids { fds.append(pollfd(fd: peers[id]!.connection.fileDescriptor, events: Int16(POLLIN), revents: 0)) }
        let deadlines = [machine.nextDeadline] + hooks.timers.map(\.nextDeadline) + ids.map { peers[$0]!.deadline }
        var timeout: Int32 = deadlines.compactMap { $0 }.min().map { pollMilliseconds(until: $0) } ?? 1000
        if ids.contains(where: { peers[$0]!.connection.bufferedByteCount > 0 }) { timeout = 0 }
        timeout = min(timeout, 1000)
        let ready = fds.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), timeout) }
        var k = 0
        if listener != nil {
            if ready > 0 && fds[0].revents != 0 { acceptOne() }
            k = 1
        }
        for (n, id) in ids.enumerated() {
            guard machine.end == nil else { return }
            if fds[k + n].revents != 0 || (peers[id]?.connection.bufferedByteCount ?? 0) > 0 { drain(id) }
        }
        let now = clock.now
        for id in peers.keys.sorted() where (peers[id]?.deadline ?? now) < now {
            hooks.log(.debug("listener: read timeout"))
            drop(id)
        }
        guard machine.end == nil else { return }
        perform(machine.handle(.timer, now: now))
        for timer in hooks.timers {
            if let due = timer.nextDeadline, due <= now { timer.fire(now: now) }
        }
    }

    private func acceptOne() {
        do {
            guard let connection = try listener?.accept() else { return }
            peers[nextPeer] = Peer(connection: connection, reader: SimpleRequestReader(credentials: machine.settings.credentials),
                                   deadline: clock.now + readTimeout)
            nextPeer += 1
        } catch {
            hooks.log(.debug("listener: \(error)"))
        }
    }

    private func drop(_ id: Int) {
        peers.removeValue(forKey: id)?.connection.abort()
    }

    private func drain(_ id: Int) {
        while var peer = peers[id], !peer.done, machine.end == nil {
            let outcome: SimpleRequestReader.Outcome
            do {
                switch try peer.connection.readAvailable(upTo: 8192) {
                case .bytes(let bytes):
                    outcome = peer.reader.feed(bytes)
                    peer.deadline = clock.now + readTimeout
                case .wouldBlock: return
                case .closed: outcome = peer.reader.finish()
                }
            } catch {
                drop(id)
                return
            }
            switch outcome {
            case .needMore:
                peers[id] = peer
                continue
            case .request(let authorization, let body):
                peer.done = true
                peers[id] = peer
                perform(machine.handle(.request(connection: id, authorization: authorization, body: body), now: clock.now))
            case .bad(let reason):
                peer.done = true
                peers[id] = peer
                perform(machine.handle(.badRequest(connection: id, reason: reason), now: clock.now))
            }
            return
        }
    }

    private func perform(_ initial: [PushAction.Simple]) {
        var queue = initial[...]
        while let action = queue.popFirst() {
            var follow: [PushAction.Simple] = []
            switch action {
            case .log(let line):
                hooks.log(line)
            case .state(let from, let to):
                hooks.changeState(from: from, to: to)
            case .listen(let port):
                guard listener == nil else {
                    follow = machine.handle(.listening, now: clock.now)
                    break
                }
                do {
                    let host = machine.family == .ipv6 ? "::" : "0.0.0.0"
                    let address = try SocketAddress.numeric(host: host, port: bindPort ?? UInt16(clamping: port))
                    let l = try TLSListener(address: address, configuration: serverConfiguration, timeouts: timeouts)
                    listener = l
                    listenerAddress = l.localAddress
                    listening(l.localAddress)
                    follow = machine.handle(.listening, now: clock.now)
                } catch {
                    follow = machine.handle(.listenFailed("\(error)"), now: clock.now)
                }
            case .closeListener:
                for (_, p) in peers { p.connection.abort() }
                peers = [:]
                listener?.close()
                listener = nil
            case .answer(let id, let bytes):
                if let peer = peers.removeValue(forKey: id) {
                    try? peer.connection.write(bytes)
                    peer.connection.close()
                }
            case .post(let token, let url, let request, let expecting):
                let outcome = exchanger.chunkedPost(url: url, message: request, expecting: expecting)
                follow = machine.handle(.posted(token: token, outcome), now: clock.now)
            case .execute(let token, let w):
                follow = machine.handle(.executed(token: token, work(w)), now: clock.now)
            case .finish:
                break
            }
            if !follow.isEmpty { queue = (Array(queue) + follow)[...] }
        }
    }
}
