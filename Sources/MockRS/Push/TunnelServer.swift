#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ARMSProtocol
import MockCore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// How the https-tunnel endpoint listens.
public struct TunnelServerConfiguration: Sendable {
    /// Numeric addresses (IPv4 and/or IPv6); port 0 picks a free one.
    public var endpoints: [ExchangeEndpoint]
    /// The same certificate as the RS by default. `nil`: plain TCP (debugging only).
    public var tls: ServerTLS?
    /// The URL path offered in push-method-query (`https://host:port/<path>`).
    public var path: String
    /// From accept until the request head is complete (TLS handshake included).
    public var headTimeout: Duration
    /// A tunnel that receives nothing (not even an echo probe) for this long is closed.
    /// Choose more than 2 × the echo interval + 10 s (tunnel.md §8).
    public var idleTimeout: Duration
    /// Bounds of the request head and of message reassembly.
    public var limits: PushEngine.Limits
    public var headLimits: HTTPLimits

    public init(endpoints: [ExchangeEndpoint] = [.loopbackIPv4()], tls: ServerTLS? = .remoteServer, path: String = "tunnel",
                headTimeout: Duration = .seconds(30), idleTimeout: Duration = .seconds(130),
                limits: PushEngine.Limits = .init(), headLimits: HTTPLimits = .server) {
        self.endpoints = endpoints
        self.tls = tls
        self.path = path
        self.headTimeout = headTimeout
        self.idleTimeout = idleTimeout
        self.limits = limits
        self.headLimits = headLimits
    }
}

/// MockRS's https-tunnel endpoint (tunnel.md §12) and the push operations driven through
/// it: a TLS listener whose connections feed a `PushEngine`.
///
/// Per connection: read the request head (bounded, `headTimeout`), check it
/// (`TunnelHandshake.checkOpenRequest`) and the Basic credentials (distid and
/// `rs-preshared-key`), answer `401` and close on failure, else write the 200 head in one
/// write and hand every further byte to the engine. Each chunk the engine emits is one
/// write and flush, so a TLS record holds whole chunks.
public final class TunnelServer: Sendable {
    public let configuration: TunnelServerConfiguration
    public let fleet: FleetStore
    public let journal: Journal

    struct State: Sendable {
        var engine: PushEngine
        var channels: [Int: Channel] = [:]
        /// Callers of `wait(for:)`: operation → token → how to wake them.
        var waiters: [Int: [Int: CheckedContinuation<Void, Never>]] = [:]
        var nextWaiter = 0

        /// Wakes the waiters of the operations that finished in the last step: the cost
        /// follows what finished, not how many callers wait.
        mutating func wakeFinished() {
            for operation in engine.takeFinished() {
                guard let woken = waiters.removeValue(forKey: operation) else { continue }
                for wake in woken.values { wake.resume() }
            }
        }

        /// Takes one waiter out (its time ran out); `nil` if it was woken already.
        mutating func removeWaiter(_ token: Int, of operation: Int) -> CheckedContinuation<Void, Never>? {
            let wake = waiters[operation]?.removeValue(forKey: token)
            if waiters[operation]?.isEmpty == true { waiters[operation] = nil }
            return wake
        }
    }

    private let state: NIOLockedValueBox<State>
    private let connectionHook = NIOLockedValueBox<ConnectionFaultHook?>(nil)
    private let openFaultHook = NIOLockedValueBox<(@Sendable (String?) -> TunnelOpenFault?)?>(nil)
    private let faulted = OpenChannels()
    private let givenGroup: (any EventLoopGroup)?
    private let running = NIOLockedValueBox<(channels: [Channel], bound: [BoundEndpoint], group: any EventLoopGroup, owns: Bool)?>(nil)

    public init(configuration: TunnelServerConfiguration = .init(), fleet: FleetStore, journal: Journal,
                eventLoopGroup: (any EventLoopGroup)? = nil) {
        self.configuration = configuration
        self.fleet = fleet
        self.journal = journal
        self.givenGroup = eventLoopGroup
        self.state = NIOLockedValueBox(State(engine: PushEngine(limits: configuration.limits)))
    }

    // MARK: - Listening

    /// Binds every endpoint (port-0 endpoints share one port when possible).
    @discardableResult
    public func start() async throws -> [BoundEndpoint] {
        let context: NIOSSLContext?
        do { context = try configuration.tls?.makeContext() } catch { throw ExchangeServerError.tls("\(error)") }
        let group = givenGroup ?? MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var channels: [Channel] = []
        var bound: [BoundEndpoint] = []
        var shared: Int?
        do {
            for endpoint in configuration.endpoints {
                var channel: Channel?
                if endpoint.port == 0, let shared {
                    channel = try? await bind(host: endpoint.host, port: shared, group, context)
                }
                if channel == nil {
                    do { channel = try await bind(host: endpoint.host, port: endpoint.port, group, context) } catch {
                        throw ExchangeServerError.bindFailed(endpoint, "\(error)")
                    }
                }
                guard let channel, let port = channel.localAddress?.port else { throw ExchangeServerError.bindFailed(endpoint, "no port") }
                if endpoint.port == 0, shared == nil { shared = port }
                channels.append(channel)
                bound.append(BoundEndpoint(host: endpoint.host, port: port, family: endpoint.host.contains(":") ? .ipv6 : .ipv4))
            }
        } catch {
            for c in channels { try? await c.close() }
            if givenGroup == nil { try? await group.shutdownGracefully() }
            throw error
        }
        running.withLockedValue { $0 = (channels, bound, group, givenGroup == nil) }
        return bound
    }

    private func bind(host: String, port: Int, _ group: any EventLoopGroup, _ context: NIOSSLContext?) async throws -> Channel {
        guard let address = try? SocketAddress(ipAddress: host, port: port) else { throw ExchangeServerError.notNumeric(host) }
        let idle = configuration.idleTimeout.nanoseconds
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let hook = self.connectionHook.withLockedValue({ $0 }) {
                        let fault = hook(ConnectionFaultContext(role: .tunnel, local: TunnelConnectionHandler.format(channel.localAddress),
                                                                peer: TunnelConnectionHandler.format(channel.remoteAddress)))
                        if fault != .none {
                            try ConnectionFaultHandler.install(fault, on: channel, role: .tunnel, readTimeout: self.configuration.headTimeout,
                                                               journal: self.journal, registry: self.faulted)
                            return
                        }
                    }
                    if let context { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context)) }
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: .nanoseconds(idle)))
                    try channel.pipeline.syncOperations.addHandler(TunnelConnectionHandler(server: self))
                }
            }
            .bind(to: address).get()
    }

    /// Closes the listeners and every tunnel.
    public func stop() async {
        guard let r = running.withLockedValue({ v -> (channels: [Channel], bound: [BoundEndpoint], group: any EventLoopGroup, owns: Bool)? in
            defer { v = nil }
            return v
        }) else { return }
        for c in r.channels { try? await c.close() }
        await faulted.closeAll()
        let open = state.withLockedValue { s in Array(s.channels.values) }
        for c in open { try? await c.close() }
        if r.owns { try? await r.group.shutdownGracefully() }
    }

    public var boundEndpoints: [BoundEndpoint] { running.withLockedValue { $0?.bound ?? [] } }

    /// `https://<listener>/<path>` for every listener, in endpoint order.
    public func urls() throws(ARMSURL.ParseError) -> [ARMSURL] {
        try boundEndpoints.map { e throws(ARMSURL.ParseError) in try e.url(path: configuration.path) }
    }

    // MARK: - Push API

    /// Sends an operation to a push-ready SA; returns its id at once (see `result(_:)`).
    public func submit(_ request: PushOperationRequest, to sa: DistributionID) throws(PushRequestError) -> Int {
        guard let profile = fleet[sa] else { throw .unknownSA(sa.description) }
        let modules = profile.modules.map { ModuleInfo(id: $0.id, version: $0.version, info: $0.info) }
        let arms = try request.armsRequest(distributionID: sa.description, moduleList: modules)
        // A ready tunnel first; else the confirmed https-simple listener.
        let simple = state.withLockedValue { $0.engine.simpleEndpoint(for: sa.description) }
        guard let endpoint = simple else {
            return try perform { (engine: inout PushEngine) throws(PushRequestError) in try engine.submit(arms, for: sa.description) }
        }
        let id = try perform { (e: inout PushEngine) throws(PushRequestError) -> (Int, [PushAction]) in
            (try e.submitSimple(arms, for: sa.description), [])
        }
        let credentials = BasicCredentials(user: sa.description, password: profile.rsKey)
        let group = running.withLockedValue { r -> any EventLoopGroup in r?.group ?? MultiThreadedEventLoopGroup.singleton }
        Task {
            let answer = await SimpleClient.exchange(endpoint: endpoint, request: arms, credentials: credentials,
                                                     timeout: simpleTimeout, group: group)
            state.withLockedValue { s in
                s.engine.simpleReply(id, answer)
                s.wakeFinished()
            }
            journalSimple(sa: sa.description, type: arms.type.attribute, answer, detail: "operation \(id) to \(endpoint)")
        }
        return id
    }

    /// Per https-simple connection to an SA's listener.
    public var simpleTimeout: Duration { .seconds(30) }

    /// The RS listener's https-simple requests (`RemoteServer.setPushHandler`):
    /// push-confirmation-start (answered, then the confirm-done is POSTed to the SA's
    /// `push-endpoint`) and X-done requests (recorded, answered 100).
    public func handleSimpleRequest(_ admitted: ARMSRequestGate.Admitted) async -> ExchangeReply {
        let sa = admitted.profile.distributionID.description
        let request = admitted.request
        if request.type == .pushConfirmationStart {
            guard case .pushConfirmationStart(let method, let endpoint?) = request.body, method == PushMethod.httpsSimple else {
                return ARMSAnswer.reply(.standard(.pushConfirmationStart, .invalidParameter, body: nil), facts: admitted.facts(
                    outcome: ExchangeOutcome.decodeError, detail: "push-confirmation-start over HTTPS needs https-simple and a push-endpoint"))
            }
            let (start, done) = state.withLockedValue { $0.engine.simpleConfirmationStart(sa: sa, endpoint: endpoint) }
            let credentials = BasicCredentials(user: sa, password: admitted.profile.rsKey)
            let group = running.withLockedValue { r -> any EventLoopGroup in r?.group ?? MultiThreadedEventLoopGroup.singleton }
            Task {
                // After the start answer is on its way (push.md §4.2 step 4).
                try? await Task.sleep(for: .milliseconds(50))
                let answer = await SimpleClient.exchange(endpoint: endpoint, request: done, credentials: credentials,
                                                         timeout: simpleTimeout, group: group)
                state.withLockedValue { s in
                    if case .success = answer { s.engine.simpleConfirmed(sa: sa, endpoint: endpoint) } else { s.engine.simpleUnreachable(sa: sa) }
                }
                journalSimple(sa: sa, type: done.type.attribute, answer, detail: "confirmation \(done.transactionID ?? 0) to \(endpoint)")
            }
            return ARMSAnswer.reply(start, facts: admitted.facts(detail: "https-simple confirmation \(start.transactionID ?? 0), endpoint \(endpoint)"))
        }
        let (answer, detail) = state.withLockedValue { s in
            defer { s.wakeFinished() }
            return s.engine.simpleDone(request, sa: sa)
        }
        var facts = admitted.facts(detail: detail)
        facts.outcome = detail.contains("unknown") ? PushOutcome.unknownTransaction : ExchangeOutcome.ok
        var reply = ARMSAnswer.reply(answer, facts: facts)
        reply.facts.resultCode = request.transactionResult?.rawValue
        return reply
    }

    private func journalSimple(sa: String, type: String, _ answer: Result<ARMSResponse, SimpleFailure>, detail: String) {
        switch answer {
        case .success(let r):
            journal.append(JournalEntry(time: wallClock(), role: .simple, sa: sa, messageType: type, resultCode: r.resultCode.rawValue,
                                        httpStatus: 200, outcome: ExchangeOutcome.ok, detail: detail))
        case .failure(let f):
            journal.append(JournalEntry(time: wallClock(), role: .simple, sa: sa, messageType: type, outcome: ExchangeOutcome.closed,
                                        detail: detail + ": " + f.description))
        }
    }

    /// Sends an operation and waits until it finished or `timeout` passed (then it is
    /// marked `timed-out`). Throws only when it could not be sent at all.
    public func push(_ request: PushOperationRequest, to sa: DistributionID, timeout: Duration) async throws(PushRequestError)
        -> PushOperationResult {
        let id = try submit(request, to: sa)
        return await wait(for: id, timeout: timeout) ?? PushOperationResult(id: id, sa: sa.description, operation: request.operation)
    }

    /// Waits until the operation finished or `timeout` passed (woken by the state change
    /// that finishes it, no polling); marks it `timed-out` when `timeout` passes and
    /// `expire` is true. `nil` for an unknown id.
    public func wait(for id: Int, timeout: Duration, expire: Bool = true) async -> PushOperationResult? {
        guard let first = result(id) else { return nil }
        if first.isFinished { return first }
        var timer: Task<Void, Never>?
        await withCheckedContinuation { (wake: CheckedContinuation<Void, Never>) in
            let token = state.withLockedValue { s -> Int? in
                if s.engine.result(id)?.isFinished ?? true { return nil }
                s.nextWaiter += 1
                s.waiters[id, default: [:]][s.nextWaiter] = wake
                return s.nextWaiter
            }
            guard let token else { return wake.resume() }
            timer = Task {
                try? await Task.sleep(for: timeout)
                guard !Task.isCancelled else { return }
                state.withLockedValue { $0.removeWaiter(token, of: id) }?.resume()
            }
        }
        // Woken by the finish: the timer is not needed any more (its waiter is gone, so a
        // late firing would find nothing to wake either).
        timer?.cancel()
        if expire, result(id)?.isFinished == false {
            perform { (e: inout PushEngine) -> (Void, [PushAction]) in ((), e.expire(id)) }
        }
        return result(id)
    }

    public func result(_ id: Int) -> PushOperationResult? { state.withLockedValue { $0.engine.result(id) } }

    public func status(of sa: DistributionID) -> PushStatus { state.withLockedValue { $0.engine.status(of: sa.description) } }

    /// Closes the SA's tunnels from the server side (last chunk, then close).
    public func dropTunnels(of sa: DistributionID) {
        perform { (e: inout PushEngine) -> (Void, [PushAction]) in ((), e.dropTunnels(of: sa.description)) }
    }

    /// Answer (default) or withhold echo replies on every tunnel.
    public func setEchoReplies(enabled: Bool) { state.withLockedValue { $0.engine.echoReplies = enabled } }

    /// Result code of the answers to X-done requests (tunnel and https-simple); `nil` answers 100.
    public func setDoneAnswer(_ hook: (@Sendable (String, ARMSRequest) -> ResultCode?)?) {
        state.withLockedValue { $0.engine.doneAnswer = hook }
    }

    public var openTunnelCount: Int { state.withLockedValue { $0.engine.openTunnelCount } }

    // MARK: - Fault hooks (see docs/fault-hooks.md)

    /// Result code of the push-confirmation-start answer in a tunnel, by SA; `nil` answers
    /// 100 (see `PushEngine.confirmAnswer`). `nil` removes the hook.
    public func setConfirmAnswer(_ hook: (@Sendable (String) -> ResultCode?)?) {
        state.withLockedValue { $0.engine.confirmAnswer = hook }
    }

    /// How to answer a tunnel open request, by the SA it claims (Basic user, not yet
    /// verified; `nil` when unreadable): `nil` opens the tunnel normally. Asked once the
    /// request head is complete and well-formed. `nil` removes the hook.
    public func setTunnelOpenFault(_ hook: (@Sendable (String?) -> TunnelOpenFault?)?) {
        openFaultHook.withLockedValue { $0 = hook }
    }

    /// Consulted for every RS→SA ARMS message on a tunnel, by SA and message type
    /// (`push-confirmation-start`, `configure-start`, `configure-done`, …). `nil` removes the hook.
    public func setChunkFault(_ hook: (@Sendable (String, String) -> ChunkFault?)?) {
        state.withLockedValue { $0.engine.chunkFault = hook }
    }

    /// Asked once per accepted tunnel connection, before TLS (see `ExchangeConnectionFault`;
    /// `.stallHandshake` ends after `headTimeout`). `nil` removes the hook.
    public func setConnectionFaultHook(_ hook: ConnectionFaultHook?) {
        connectionHook.withLockedValue { $0 = hook }
    }

    func openFault(claimedSA: String?) -> TunnelOpenFault? {
        openFaultHook.withLockedValue { $0 }?(claimedSA)
    }

    // MARK: - Engine plumbing

    /// Runs an engine step and carries out its actions under the lock, so that the writes
    /// of concurrent steps keep their order.
    @discardableResult
    func perform<T, E: Error>(_ step: (inout PushEngine) throws(E) -> (T, [PushAction])) throws(E) -> T {
        let outcome: Result<T, E> = state.withLockedValue { (s: inout State) -> Result<T, E> in
            do throws(E) {
                let (value, actions) = try step(&s.engine)
                for action in actions { carryOut(action, &s) }
                s.wakeFinished()
                return .success(value)
            } catch {
                return .failure(error)
            }
        }
        return try outcome.get()
    }

    private func carryOut(_ action: PushAction, _ s: inout State) {
        switch action {
        // Writes and closes are queued on the channel's event loop (in order), never run
        // inline: an inline close could call back into this lock from channelInactive.
        case .write(let id, let bytes):
            guard let channel = s.channels[id] else { return }
            channel.eventLoop.execute { channel.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil) }
        case .close(let id, let lastChunk):
            guard let channel = s.channels.removeValue(forKey: id) else { return }
            channel.eventLoop.execute {
                if lastChunk {
                    channel.writeAndFlush(ByteBuffer(bytes: TunnelChunkEncoder.lastChunk)).whenComplete { _ in channel.close(promise: nil) }
                } else {
                    channel.close(promise: nil)
                }
            }
        case .journal(var entry):
            entry.time = wallClock()
            journal.append(entry)
        }
    }

    func opened(_ channel: Channel, sa: String, peer: String?, family: AddressFamily?) -> Int {
        // The channel is registered before the actions run.
        state.withLockedValue { s in
            let (id, actions) = s.engine.openTunnel(sa: sa, peer: peer, family: family)
            s.channels[id] = channel
            for action in actions { carryOut(action, &s) }
            return id
        }
    }

    func received(_ bytes: ByteBuffer, on id: Int) {
        perform { (e: inout PushEngine) -> (Void, [PushAction]) in ((), e.receive(bytes.readableBytesView, on: id)) }
    }

    func closed(_ id: Int, reason: String, outcome: String) {
        perform { (e: inout PushEngine) -> (Void, [PushAction]) in ((), e.tunnelClosed(id, reason: reason, outcome: outcome)) }
        _ = state.withLockedValue { $0.channels.removeValue(forKey: id) }
    }

    func journalConnection(sa: String?, outcome: String, httpStatus: Int = 0, detail: String, peer: String?) {
        journal.append(JournalEntry(time: wallClock(), role: .tunnel, sa: sa, messageType: "tunnel-open", httpStatus: httpStatus,
                                    outcome: outcome, detail: detail, peer: peer))
    }

    func wallClock() -> Double { TunnelServer.epochNow() }

    static func epochNow() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (s, a) = components
        return s * 1_000_000_000 + a / 1_000_000_000
    }
}

/// One tunnel connection: head, handshake, then bytes into the engine.
final class TunnelConnectionHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let server: TunnelServer
    private var parser: HTTPRequestParser
    private var tunnelID: Int?
    private var headTimer: Scheduled<Void>?
    private var peer: String?
    private var closeReason: (String, String)?
    private var finished = false

    init(server: TunnelServer) {
        self.server = server
        self.parser = HTTPRequestParser(limits: server.configuration.headLimits, readsBody: false)
    }

    func channelActive(context: ChannelHandlerContext) {
        peer = Self.format(context.channel.remoteAddress)
        let channel = context.channel
        let limit = server.configuration.headTimeout
        headTimer = context.eventLoop.scheduleTask(in: .nanoseconds(limit.nanoseconds)) { [weak self] in
            guard let self, self.tunnelID == nil, !self.finished else { return }
            self.finished = true
            self.server.journalConnection(sa: nil, outcome: ExchangeOutcome.timeout,
                                          detail: "no complete tunnel request head within \(limit)", peer: self.peer)
            channel.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if let id = tunnelID {
            server.received(buffer, on: id)
            return
        }
        guard !finished else { return }
        let head: HTTPRequestHead
        do {
            _ = try parser.feed(buffer.readableBytesView)
            guard let h = parser.head else { return }
            head = h
        } catch {
            refuse(context, status: .badRequest, outcome: ExchangeOutcome.badRequest, sa: nil, detail: "tunnel request head: \(error)")
            return
        }
        headTimer?.cancel()
        do {
            _ = try TunnelHandshake.checkOpenRequest(head)
        } catch {
            refuse(context, status: .badRequest, outcome: ExchangeOutcome.badRequest, sa: nil, detail: error.description)
            return
        }
        let claimed = head.headers["Authorization"].flatMap { try? BasicCredentials(parsingHeaderValue: $0) }
            .flatMap { DistributionID($0.user)?.description }
        switch server.openFault(claimedSA: claimed) {
        case .status(let status)?:
            refuse(context, status: status, outcome: TunnelOpenFault.status(status).outcome, sa: claimed,
                   detail: "fault: tunnel open answered \(status)")
            return
        case .close?:
            finished = true
            server.journalConnection(sa: claimed, outcome: TunnelOpenFault.close.outcome,
                                     detail: "fault: tunnel open request closed without an answer", peer: peer)
            context.close(promise: nil)
            return
        case nil:
            break
        }
        let profile: SAProfile
        switch server.fleet.authenticate(head, key: \.rsKey) {
        case .success(let p): profile = p
        case .failure(let f):
            refuse(context, status: .unauthorized, outcome: f.outcome, sa: f.claimedSA, detail: "tunnel open refused: \(f)")
            return
        }
        // The whole head in one write (tunnel.md §3.3).
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: TunnelHandshake.openResponse)), promise: nil)
        let family: AddressFamily? = context.channel.localAddress.map { $0.protocol == .inet6 ? .ipv6 : .ipv4 }
        let id = server.opened(context.channel, sa: profile.distributionID.description, peer: peer, family: family)
        tunnelID = id
        let rest = parser.unconsumed
        if !rest.isEmpty { server.received(ByteBuffer(bytes: rest), on: id) }
    }

    private func refuse(_ context: ChannelHandlerContext, status: HTTPStatus, outcome: String, sa: String?, detail: String) {
        finished = true
        headTimer?.cancel()
        let bytes = HTTPResponseHead(version: .http11, status: status, headers: ["Content-Length": "0", "Connection": "close"]).encoded()
        server.journalConnection(sa: sa, outcome: outcome, httpStatus: status.code, detail: detail, peer: peer)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: bytes))).whenComplete { _ in channel.close(promise: nil) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? IdleStateHandler.IdleStateEvent, e == .read {
            closeReason = ("nothing received for \(server.configuration.idleTimeout)", PushOutcome.idle)
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if closeReason == nil {
            if let e = error as? NIOSSLError, case .uncleanShutdown = e {
                closeReason = ("the SA closed without close_notify", ExchangeOutcome.closed)
            } else {
                closeReason = ("\(error)", error is NIOSSLError || error is BoringSSLError ? ExchangeOutcome.tlsError : ExchangeOutcome.closed)
            }
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        headTimer?.cancel()
        if let id = tunnelID {
            let (reason, outcome) = closeReason ?? ("the connection was closed", ExchangeOutcome.closed)
            server.closed(id, reason: reason, outcome: outcome)
        } else if !finished {
            finished = true
            server.journalConnection(sa: nil, outcome: closeReason?.1 ?? ExchangeOutcome.closed,
                                     detail: "closed before a complete tunnel request head" + (closeReason.map { ": \($0.0)" } ?? ""),
                                     peer: peer)
        }
        context.fireChannelInactive()
    }

    static func format(_ address: SocketAddress?) -> String? {
        guard let address, let ip = address.ipAddress, let port = address.port else { return nil }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}
