import ARMSProtocol
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// How a `ConnectProxy` listens and reads.
public struct ConnectProxyConfiguration: Sendable {
    /// A numeric loopback address; port 0 picks a free one.
    public var endpoint: ExchangeEndpoint
    /// Largest request head accepted (request line and header fields); more is answered 400.
    public var headLimit: Int
    /// From accept until the request head is complete.
    public var readTimeout: Duration
    /// Connecting to the target.
    public var connectTimeout: Duration
    /// A relay with nothing read on one of its two sides for this long is closed.
    public var relayIdleTimeout: Duration

    public init(endpoint: ExchangeEndpoint = .loopbackIPv4(), headLimit: Int = 4096, readTimeout: Duration = .seconds(30),
                connectTimeout: Duration = .seconds(10), relayIdleTimeout: Duration = .seconds(600)) {
        self.endpoint = endpoint
        self.headLimit = headLimit
        self.readTimeout = readTimeout
        self.connectTimeout = connectTimeout
        self.relayIdleTimeout = relayIdleTimeout
    }
}

/// The proxy's counters.
public struct ConnectProxyStatistics: Equatable, Sendable {
    /// Client connections accepted.
    public var connections = 0
    /// CONNECT requests relayed (answered 200).
    public var relayed = 0
    /// CONNECT requests refused (by the rules or by the refusal hook) or not understood.
    public var refused = 0
    /// Relays open right now.
    public var open = 0
    /// Bytes relayed client → target and target → client, over all relays so far.
    public var bytesUp = 0
    public var bytesDown = 0

    public init() {}
}

/// A plain-TCP HTTP `CONNECT` proxy on loopback, for an agent's `https-proxy-url`
/// (libarms writes `CONNECT host:port HTTP/1.1` and a `Host` field, reads one answer,
/// needs 2xx, then runs TLS through the tunnel).
///
/// Per connection: read the request head (at most `headLimit` bytes, within
/// `readTimeout`); require `CONNECT` to a numeric loopback `host:port` (else `400` or
/// `403`); ask the refusal hook (a status answers it instead, for fault scenarios);
/// connect to the target (`502` when that fails); answer
/// `HTTP/1.1 200 Connection established`; then relay bytes both ways until either side
/// closes. Each CONNECT is one journal entry (role `proxy`, `messageType` `CONNECT`,
/// the target in `detail`), written when it is decided: outcome `ok`, `refused`
/// (`403`/`502`), `bad-request`, `too-large`, `timeout`, `closed`, or
/// `fault:http-<code>` from the refusal hook.
public final class ConnectProxy: Sendable {
    public let configuration: ConnectProxyConfiguration
    public let journal: Journal
    private let givenGroup: (any EventLoopGroup)?
    private let refusalHook = NIOLockedValueBox<(@Sendable (String) -> HTTPStatus?)?>(nil)
    private let stats = NIOLockedValueBox(ConnectProxyStatistics())
    private let open = OpenChannels()
    private let running = NIOLockedValueBox<(listener: Channel, bound: BoundEndpoint, group: any EventLoopGroup, owns: Bool)?>(nil)

    public init(configuration: ConnectProxyConfiguration = .init(), journal: Journal, eventLoopGroup: (any EventLoopGroup)? = nil) {
        self.configuration = configuration
        self.journal = journal
        self.givenGroup = eventLoopGroup
    }

    /// Decides, per CONNECT (by its target `host:port`), a status to refuse it with
    /// (`403`, `502`, …) instead of relaying; `nil` relays. `nil` removes the hook.
    public func setRefusalHook(_ hook: (@Sendable (String) -> HTTPStatus?)?) {
        refusalHook.withLockedValue { $0 = hook }
    }

    /// Refuses every CONNECT with `status` from now on (`nil`: relay again).
    public func refuseAll(with status: HTTPStatus?) {
        if let status { setRefusalHook { _ in status } } else { setRefusalHook(nil) }
    }

    public var statistics: ConnectProxyStatistics { stats.withLockedValue { $0 } }

    /// The listener once started.
    public var boundEndpoint: BoundEndpoint? { running.withLockedValue { $0?.bound } }

    /// `http://127.0.0.1:<port>/`, the value for armsd's `https-proxy-url`.
    public var url: String? { boundEndpoint.map(Self.url(of:)) }

    /// The `https-proxy-url` value of a proxy listening on `endpoint`.
    public static func url(of endpoint: BoundEndpoint) -> String { "http://\(endpoint)/" }

    /// Binds the listener and starts accepting.
    @discardableResult
    public func start() async throws -> BoundEndpoint {
        guard running.withLockedValue({ $0 == nil }) else { throw ExchangeServerError.alreadyStarted }
        let endpoint = configuration.endpoint
        guard let address = try? SocketAddress(ipAddress: endpoint.host, port: endpoint.port) else {
            throw ExchangeServerError.notNumeric(endpoint.host)
        }
        let group = givenGroup ?? MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let listener: Channel
        do {
            listener = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 128)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ProxyClientHandler(proxy: self))
                    }
                }
                .bind(to: address).get()
        } catch {
            if givenGroup == nil { try? await group.shutdownGracefully() }
            throw ExchangeServerError.bindFailed(endpoint, "\(error)")
        }
        let bound = BoundEndpoint(host: endpoint.host, port: listener.localAddress?.port ?? 0,
                                  family: address.protocol == .inet6 ? .ipv6 : .ipv4)
        running.withLockedValue { $0 = (listener, bound, group, givenGroup == nil) }
        return bound
    }

    /// Closes the listener and every connection (relays included).
    public func stop() async {
        guard let r = running.withLockedValue({ v -> (listener: Channel, bound: BoundEndpoint, group: any EventLoopGroup, owns: Bool)? in
            defer { v = nil }
            return v
        }) else { return }
        try? await r.listener.close()
        await open.closeAll()
        if r.owns { try? await r.group.shutdownGracefully() }
    }

    // MARK: - Plumbing for the handlers

    func track(_ channel: Channel) { open.add(channel) }
    func untrack(_ channel: Channel) { open.remove(channel) }
    func count(_ update: (inout ConnectProxyStatistics) -> Void) { stats.withLockedValue { update(&$0) } }
    func refusal(for target: String) -> HTTPStatus? { refusalHook.withLockedValue { $0 }?(target) }

    func record(outcome: String, httpStatus: Int, bytesIn: Int, detail: String, peer: String?) {
        journal.append(JournalEntry(time: wallClockSeconds(), role: .proxy, messageType: "CONNECT", httpStatus: httpStatus,
                                    bytesIn: bytesIn, outcome: outcome, detail: detail, peer: peer))
    }

    /// The target of a CONNECT request line when it is a numeric loopback `host:port`
    /// (`127.x.y.z` or `::1`, IPv6 in brackets); else why not.
    static func loopbackTarget(_ authority: String) -> Result<SocketAddress, TargetRefusal> {
        let host: Substring, port: Substring
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]"), authority[authority.index(after: close)...].hasPrefix(":") else {
                return .failure(.malformed)
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            port = authority[authority.index(close, offsetBy: 2)...]
        } else {
            guard let colon = authority.lastIndex(of: ":"), !authority[..<colon].contains(":") else { return .failure(.malformed) }
            host = authority[..<colon]
            port = authority[authority.index(after: colon)...]
        }
        guard let number = Int(port), (1...65535).contains(number) else { return .failure(.malformed) }
        guard let address = try? SocketAddress(ipAddress: String(host), port: number) else { return .failure(.notNumeric) }
        switch address.protocol {
        case .inet: guard host.hasPrefix("127.") else { return .failure(.notLoopback) }
        case .inet6: guard address.ipAddress == "::1" else { return .failure(.notLoopback) }
        default: return .failure(.notLoopback)
        }
        return .success(address)
    }

    enum TargetRefusal: Error, CustomStringConvertible {
        case malformed, notNumeric, notLoopback
        var description: String {
            switch self {
            case .malformed: return "not host:port"
            case .notNumeric: return "not a numeric address"
            case .notLoopback: return "not a loopback address"
            }
        }
    }
}

/// The client side: reads the CONNECT head, decides, connects, then relays.
final class ProxyClientHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let proxy: ConnectProxy
    /// The request head, read with the project's bounded HTTP parser (no body).
    private var parser: HTTPRequestParser
    /// Bytes of the request head (all bytes read, while it is incomplete).
    private var headLength = 0
    private var timer: Scheduled<Void>?
    private var peer: String?
    /// Head read and a decision taken; later bytes go to the relay.
    private var decided = false
    /// The one journal entry of this CONNECT is written.
    private var journaled = false
    private var relay: ProxyRelayHandler?
    /// Bytes read after the head while connecting to the target.
    private var early: [UInt8] = []

    init(proxy: ConnectProxy) {
        self.proxy = proxy
        let limit = proxy.configuration.headLimit
        parser = HTTPRequestParser(limits: HTTPLimits(maxLineLength: limit, maxHeadLength: limit), readsBody: false)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        peer = ExchangeServer.format(context.channel.remoteAddress)
        proxy.track(context.channel)
        proxy.count { $0.connections += 1 }
        let channel = context.channel
        let limit = proxy.configuration.readTimeout
        timer = context.eventLoop.scheduleTask(in: limit.timeAmount) { [weak self] in
            guard let self, !self.decided else { return }
            self.decide(outcome: ExchangeOutcome.timeout, status: 0, detail: "no complete CONNECT head within \(limit)")
            channel.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        if decided {
            if relay == nil { early += buffer.readableBytesView } else { context.fireChannelRead(data) }
            return
        }
        headLength += buffer.readableBytes
        let request: HTTPRequest
        do {
            guard let complete = try parser.feed(buffer.readableBytesView) else { return }
            request = complete
        } catch {
            answer(context, status: .badRequest, outcome: error.exceedsLimit ? ExchangeOutcome.tooLarge : ExchangeOutcome.badRequest,
                   detail: error.exceedsLimit ? "request head over \(proxy.configuration.headLimit) bytes" : "\(error)")
            return
        }
        early = parser.unconsumed
        headLength -= early.count
        let head = request.head
        guard head.method == "CONNECT", head.version.major == 1 else {
            answer(context, status: .badRequest, outcome: ExchangeOutcome.badRequest,
                   detail: "not a CONNECT request: \("\(head.method) \(head.target) \(head.version)".prefix(120))")
            return
        }
        let target = head.target
        let address: SocketAddress
        switch ConnectProxy.loopbackTarget(target) {
        case .failure(let why):
            answer(context, status: HTTPStatus(code: 403), outcome: "refused",
                   detail: "target \(target.prefix(120)) refused: \(why)")
            return
        case .success(let a): address = a
        }
        if let status = proxy.refusal(for: target) {
            answer(context, status: status, outcome: ExchangeOutcome.fault("http-\(status.code)"),
                   detail: "target \(target): fault: answered \(status)")
            return
        }
        connect(context, to: address, target: target)
    }

    private func connect(_ context: ChannelHandlerContext, to address: SocketAddress, target: String) {
        decided = true
        timer?.cancel()
        let client = context.channel
        client.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        let proxy = self.proxy
        let idle = proxy.configuration.relayIdleTimeout
        ClientBootstrap(group: client.eventLoop)
            .connectTimeout(proxy.configuration.connectTimeout.timeAmount)
            .connect(to: address)
            .whenComplete { [self] result in
                switch result {
                case .failure(let error):
                    self.finish(client, status: HTTPStatus(code: 502), outcome: "refused",
                                detail: "target \(target): connect failed: \(error)")
                case .success(let server):
                    guard client.isActive else {
                        server.close(promise: nil)
                        self.decide(outcome: ExchangeOutcome.closed, status: 0, detail: "target \(target): the client left while connecting")
                        return
                    }
                    proxy.track(server)
                    let up = ProxyRelayHandler(proxy: proxy, direction: .up)
                    let down = ProxyRelayHandler(proxy: proxy, direction: .down)
                    up.partner = server
                    down.partner = client
                    do {
                        try server.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idle.timeAmount))
                        try server.pipeline.syncOperations.addHandler(down)
                        try client.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idle.timeAmount))
                        try client.pipeline.syncOperations.addHandler(up)
                    } catch {
                        server.close(promise: nil)
                        client.close(promise: nil)
                        return
                    }
                    self.relay = up
                    self.journaled = true
                    proxy.count {
                        $0.relayed += 1
                        $0.open += 1
                    }
                    proxy.record(outcome: ExchangeOutcome.ok, httpStatus: 200, bytesIn: self.headLength,
                                 detail: "target \(target) via \(ExchangeServer.format(server.localAddress) ?? "?")", peer: self.peer)
                    server.closeFuture.whenComplete { _ in
                        proxy.untrack(server)
                        proxy.count { $0.open -= 1 }
                    }
                    client.writeAndFlush(ByteBuffer(bytes: Array("HTTP/1.1 200 Connection established\r\n\r\n".utf8)), promise: nil)
                    if !self.early.isEmpty {
                        proxy.count { $0.bytesUp += self.early.count }
                        server.writeAndFlush(ByteBuffer(bytes: self.early), promise: nil)
                        self.early = []
                    }
                    client.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
                }
            }
    }

    /// Answers `status` with an empty body, journals, closes.
    private func answer(_ context: ChannelHandlerContext, status: HTTPStatus, outcome: String, detail: String) {
        timer?.cancel()
        finish(context.channel, status: status, outcome: outcome, detail: detail)
    }

    private func finish(_ channel: Channel, status: HTTPStatus, outcome: String, detail: String) {
        decide(outcome: outcome, status: status.code, detail: detail)
        let bytes = HTTPResponseHead(version: .http11, status: status, headers: ["Content-Length": "0", "Connection": "close"]).encoded()
        channel.writeAndFlush(ByteBuffer(bytes: bytes)).whenComplete { _ in channel.close(promise: nil) }
    }

    private func decide(outcome: String, status: Int, detail: String) {
        guard !journaled else { return }
        journaled = true
        decided = true
        if outcome != ExchangeOutcome.ok { proxy.count { $0.refused += 1 } }
        proxy.record(outcome: outcome, httpStatus: status, bytesIn: headLength, detail: detail, peer: peer)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        proxy.untrack(context.channel)
        if !decided {
            decide(outcome: ExchangeOutcome.closed, status: 0, detail: "client closed after \(headLength) bytes, before a complete CONNECT head")
        }
        // While connecting, the connect completion journals (it sees the client gone).
        context.fireChannelInactive()
    }
}

/// One direction of a relay: what this channel reads goes to `partner`; reading pauses
/// while the partner cannot take more, and a close on either side closes both.
final class ProxyRelayHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    enum Direction { case up, down }

    private let proxy: ConnectProxy
    private let direction: Direction
    var partner: Channel?

    init(proxy: ConnectProxy, direction: Direction) {
        self.proxy = proxy
        self.direction = direction
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        let count = buffer.readableBytes
        proxy.count { if direction == .up { $0.bytesUp += count } else { $0.bytesDown += count } }
        guard let partner else { return }
        partner.writeAndFlush(buffer, promise: nil)
        if !partner.isWritable {
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        // This side can take more: let the partner read again.
        if context.channel.isWritable { partner?.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in } }
        context.fireChannelWritabilityChanged()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? IdleStateHandler.IdleStateEvent, e == .read {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner?.close(promise: nil)
        partner = nil
        context.fireChannelInactive()
    }
}
