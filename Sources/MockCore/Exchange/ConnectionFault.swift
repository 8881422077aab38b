import NIOConcurrencyHelpers
import NIOCore

/// What a listener does with a freshly accepted connection, decided before TLS starts.
///
/// | decision | effect | journal `outcome` |
/// |---|---|---|
/// | `.none` | TLS and the normal exchange (or tunnel) | the exchange's |
/// | `.refuse` | abort at once with a TCP RST (`SO_LINGER {1,0}`), nothing read or written | `fault:refuse` |
/// | `.cutHandshake` | read the client's first bytes (its ClientHello), then close (FIN) without answering | `fault:handshake-cut` |
/// | `.stallHandshake` | read and discard, never answer; the listener's read timeout (or the client) ends it | `fault:handshake-stall` |
///
/// Each such connection is exactly one journal entry.
public enum ExchangeConnectionFault: Equatable, Sendable {
    case none
    case refuse
    case cutHandshake
    case stallHandshake

    /// The journal outcome; nil for `.none`.
    public var outcome: String? {
        switch self {
        case .none: return nil
        case .refuse: return ExchangeOutcome.fault("refuse")
        case .cutHandshake: return ExchangeOutcome.fault("handshake-cut")
        case .stallHandshake: return ExchangeOutcome.fault("handshake-stall")
        }
    }
}

/// What a connection fault hook knows when it decides: nothing has been read yet.
public struct ConnectionFaultContext: Sendable {
    /// The listener's role (`LS`, `RS`, `tunnel`).
    public var role: ServerRole
    /// The listener's address that accepted, `127.0.0.1:18444`.
    public var local: String?
    /// The client's address, `127.0.0.1:53422`.
    public var peer: String?

    public init(role: ServerRole, local: String?, peer: String?) {
        self.role = role
        self.local = local
        self.peer = peer
    }
}

/// Decides the fault (usually `.none`) for one accepted connection. Called synchronously
/// on the event loop while the connection is set up: keep it quick, never block.
public typealias ConnectionFaultHook = @Sendable (ConnectionFaultContext) -> ExchangeConnectionFault

/// Carries out an `ExchangeConnectionFault` on an accepted connection in place of the
/// TLS handler, and journals it once when the connection ends.
public final class ConnectionFaultHandler: ChannelInboundHandler, @unchecked Sendable {
    public typealias InboundIn = ByteBuffer

    private let fault: ExchangeConnectionFault
    private let role: ServerRole
    private let readTimeout: Duration
    private let journal: Journal
    private let registry: OpenChannels
    private var peer: String?
    private var bytesIn = 0
    private var timer: Scheduled<Void>?
    private var timedOut = false
    private var journaled = false
    private var started: NIODeadline = .now()

    /// Installs the handler for `fault` (not `.none`) as the only handler of `channel`;
    /// call from the child channel initializer, on the channel's event loop.
    public static func install(_ fault: ExchangeConnectionFault, on channel: Channel, role: ServerRole, readTimeout: Duration,
                               journal: Journal, registry: OpenChannels) throws {
        let handler = ConnectionFaultHandler(fault: fault, role: role, readTimeout: readTimeout, journal: journal, registry: registry)
        try channel.pipeline.syncOperations.addHandler(handler)
    }

    init(fault: ExchangeConnectionFault, role: ServerRole, readTimeout: Duration, journal: Journal, registry: OpenChannels) {
        self.fault = fault
        self.role = role
        self.readTimeout = readTimeout
        self.journal = journal
        self.registry = registry
    }

    public func handlerAdded(context: ChannelHandlerContext) {
        peer = ExchangeServer.format(context.channel.remoteAddress)
        started = .now()
        registry.add(context.channel)
        if context.channel.isActive { begin(context) }
    }

    public func channelActive(context: ChannelHandlerContext) {
        begin(context)
        context.fireChannelActive()
    }

    private var begun = false

    private func begin(_ context: ChannelHandlerContext) {
        guard !begun else { return }
        begun = true
        let channel = context.channel
        switch fault {
        case .none:
            return
        case .refuse:
            Self.abort(channel)
        case .cutHandshake, .stallHandshake:
            let limit = readTimeout
            timer = context.eventLoop.scheduleTask(in: limit.timeAmount) { [weak self] in
                self?.timedOut = true
                channel.close(promise: nil)
            }
        }
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        bytesIn += buffer.readableBytes
        if fault == .cutHandshake, bytesIn > 0 {
            timer?.cancel()
            context.close(promise: nil)
        }
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        registry.remove(context.channel)
        journalOnce()
        context.fireChannelInactive()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        registry.remove(context.channel)
        journalOnce()
    }

    private func journalOnce() {
        guard !journaled else { return }
        journaled = true
        let held = Double((NIODeadline.now() - started).nanoseconds) / 1e9
        let detail: String
        switch fault {
        case .none: return
        case .refuse:
            detail = "fault: connection reset at accept (no TLS)"
        case .cutHandshake:
            detail = bytesIn > 0 ? "fault: closed after the client's first \(bytesIn) bytes (no ServerHello)"
                : timedOut ? "fault: nothing received within \(readTimeout), closed" : "fault: the client closed before sending anything"
        case .stallHandshake:
            let how = timedOut ? "closed by the read timeout (\(readTimeout))" : "the client closed"
            detail = "fault: handshake never answered, \(bytesIn) bytes read; \(how) after \((held * 10).rounded() / 10) s"
        }
        journal.append(JournalEntry(time: wallClockSeconds(), role: role, bytesIn: bytesIn, outcome: fault.outcome ?? "",
                                    detail: detail, peer: peer))
    }

    /// Aborts the connection with a TCP RST: `SO_LINGER {1, 0}`, then close (this
    /// handler is the only one, so nothing writes a TLS close_notify first).
    static func abort(_ channel: Channel) {
        RawCloseHandler.setAbortiveLinger(channel).whenComplete { _ in channel.close(promise: nil) }
    }
}

/// Sits at the head of a connection's pipeline, before the TLS handler, so that the
/// exchange server can close the socket underneath TLS: no close_notify, and with
/// `abort(_:)` a TCP RST instead of a FIN.
final class RawCloseHandler: ChannelOutboundHandler, RemovableChannelHandler, Sendable {
    typealias OutboundIn = Any

    /// Sets `SO_LINGER {1, 0}`: the next close of the socket sends a RST.
    static func setAbortiveLinger(_ channel: Channel) -> EventLoopFuture<Void> {
        guard let provider = channel as? SocketOptionProvider else { return channel.eventLoop.makeSucceededVoidFuture() }
        return provider.setSoLinger(NIOLinger(l_onoff: 1, l_linger: 0))
    }

    /// Resets the connection from below the TLS layer (nothing more is written).
    static func abort(_ channel: Channel) async {
        try? await setAbortiveLinger(channel).get()
        let done = channel.eventLoop.makePromise(of: Void.self)
        channel.eventLoop.execute {
            if let context = try? channel.pipeline.syncOperations.context(handlerType: RawCloseHandler.self) {
                context.close(promise: done)
            } else {
                channel.close(promise: done)
            }
        }
        try? await done.futureResult.get()
    }
}
