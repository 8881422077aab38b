import ARMSProtocol
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// How an `ExchangeServer` listens and reads.
public struct ExchangeServerConfiguration: Sendable {
    /// Written into every journal entry.
    public var role: ServerRole
    /// Numeric addresses to listen on; several endpoints with port 0 share one port when they can.
    public var endpoints: [ExchangeEndpoint]
    /// `nil` serves plain TCP (tests and debugging only: libarms refuses `http` URLs).
    public var tls: ServerTLS?
    /// Bounds of the request head and body.
    public var limits: HTTPLimits
    /// From accept until the request is complete, TLS handshake included.
    public var readTimeout: Duration
    /// After an early error answer (400, 413) the client may still be sending; the server
    /// keeps reading (and discarding) for at most this long, so that the client sees the
    /// answer instead of a reset, then closes.
    public var lingerTime: Duration
    /// Listen backlog.
    public var backlog: Int32

    public init(role: ServerRole, endpoints: [ExchangeEndpoint] = [.loopbackIPv4()], tls: ServerTLS?,
                limits: HTTPLimits = .server, readTimeout: Duration = .seconds(30), lingerTime: Duration = .seconds(2),
                backlog: Int32 = 128) {
        self.role = role
        self.endpoints = endpoints
        self.tls = tls
        self.limits = limits
        self.readTimeout = readTimeout
        self.lingerTime = lingerTime
        self.backlog = backlog
    }
}

public enum ExchangeServerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `start()` was called twice, or after `stop()`.
    case alreadyStarted
    /// No endpoint to listen on.
    case noEndpoints
    /// The host is not a numeric IPv4/IPv6 literal.
    case notNumeric(String)
    /// Binding failed (address in use, not available…).
    case bindFailed(ExchangeEndpoint, String)
    /// The TLS identity could not be loaded.
    case tls(String)

    public var description: String {
        switch self {
        case .alreadyStarted: return "exchange server: already started"
        case .noEndpoints: return "exchange server: no endpoint to listen on"
        case .notNumeric(let h): return "exchange server: \"\(h)\" is not a numeric IP address"
        case .bindFailed(let e, let why): return "exchange server: cannot listen on \(e): \(why)"
        case .tls(let why): return "exchange server: TLS: \(why)"
        }
    }
}

/// A TLS server for ARMS' one-request-per-connection exchanges (LS and RS pull,
/// push-method-query, https-simple confirmations).
///
/// Per connection: TLS handshake; read exactly one HTTP request with
/// `HTTPRequestParser` (bounded by `limits`, the whole read bounded by
/// `readTimeout`; `Content-Length` ends the body, EOF is not awaited); ask the
/// fault hook; run the handler; write its whole answer in one write; close.
/// A malformed request is answered `400`, an oversized one `413`, without
/// calling the handler. Every connection, whatever happens to it (TLS failure,
/// timeout, client gone, bad request, fault), ends as exactly one
/// `JournalEntry` in `journal`.
///
/// Call `start()` once and `stop()` once; `stop()` closes the listeners, cuts
/// running exchanges short and shuts down the event loop group the server
/// created (a group passed in is left running).
public final class ExchangeServer: Sendable {
    public let configuration: ExchangeServerConfiguration
    public let journal: Journal
    private let handler: ExchangeHandler
    private let givenGroup: (any EventLoopGroup)?
    private let faultHookBox: NIOLockedValueBox<ExchangeFaultHook?>
    private let connectionHookBox = NIOLockedValueBox<ConnectionFaultHook?>(nil)
    private let faulted = OpenChannels()
    private let accepted = AcceptedConnections()
    private let state = NIOLockedValueBox<Phase>(.idle)

    private typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>
    /// An accepted connection: an exchange to serve, or one a connection fault took over.
    private enum Accepted: Sendable {
        case exchange(Connection)
        case faulted
    }
    private typealias Listener = NIOAsyncChannel<Accepted, Never>

    private struct Running: Sendable {
        var group: any EventLoopGroup
        var ownsGroup: Bool
        var listeners: [Channel]
        var bound: [BoundEndpoint]
        var task: Task<Void, Never>
    }

    private enum Phase: Sendable {
        case idle
        case starting
        case running(Running)
        case stopped
    }

    /// - Parameters:
    ///   - eventLoopGroup: a group to run on; `nil` makes the server create (and later shut down) a one-thread group.
    ///   - faultHook: the initial fault hook (see `ExchangeFault`); change it with `setFaultHook(_:)`.
    public init(configuration: ExchangeServerConfiguration, journal: Journal, eventLoopGroup: (any EventLoopGroup)? = nil,
                faultHook: ExchangeFaultHook? = nil, handler: @escaping ExchangeHandler) {
        self.configuration = configuration
        self.journal = journal
        self.handler = handler
        self.givenGroup = eventLoopGroup
        self.faultHookBox = NIOLockedValueBox(faultHook)
    }

    /// Installs (or with `nil` removes) the fault hook; applies to exchanges whose request completes afterwards.
    public func setFaultHook(_ hook: ExchangeFaultHook?) {
        faultHookBox.withLockedValue { $0 = hook }
    }

    /// Installs (or with `nil` removes) the connection fault hook, asked once per accepted
    /// connection before TLS (see `ExchangeConnectionFault`); applies to connections accepted afterwards.
    public func setConnectionFaultHook(_ hook: ConnectionFaultHook?) {
        connectionHookBox.withLockedValue { $0 = hook }
    }

    /// Connections a connection fault is holding open right now (stalled handshakes).
    public var faultedConnectionCount: Int { faulted.count }

    /// The listeners, in the order of `configuration.endpoints`, with their actual ports (empty unless running).
    public var boundEndpoints: [BoundEndpoint] {
        state.withLockedValue { phase in
            if case .running(let r) = phase { return r.bound }
            return []
        }
    }

    /// Binds every endpoint and starts accepting. Returns the bound endpoints.
    ///
    /// Endpoints with port 0 share the port the first of them got, when that port is
    /// free in the other family too; otherwise each gets its own.
    @discardableResult
    public func start() async throws -> [BoundEndpoint] {
        try state.withLockedValue { phase in
            guard case .idle = phase else { throw ExchangeServerError.alreadyStarted }
            phase = .starting
        }
        do {
            let running = try await bindAll()
            state.withLockedValue { $0 = .running(running) }
            return running.bound
        } catch {
            state.withLockedValue { $0 = .idle }
            throw error
        }
    }

    /// Closes the listeners, cancels exchanges in progress (each still gets its journal
    /// entry), waits for them and shuts down the server's own event loop group.
    public func stop() async {
        let running: Running? = state.withLockedValue { phase in
            switch phase {
            case .running(let r):
                phase = .stopped
                return r
            case .idle:
                phase = .stopped
                return nil
            case .starting, .stopped:
                return nil
            }
        }
        guard let running else { return }
        for listener in running.listeners {
            try? await listener.close()
        }
        await faulted.closeAll()
        running.task.cancel()
        await running.task.value
        // Connections accepted while the listeners closed, that the accept loop never took.
        for connection in accepted.closeAndTakeAll() {
            try? await connection.executeThenClose { _, _ in }
        }
        if running.ownsGroup {
            try? await running.group.shutdownGracefully()
        }
    }

    // MARK: - Binding

    private func bindAll() async throws -> Running {
        guard !configuration.endpoints.isEmpty else { throw ExchangeServerError.noEndpoints }
        var addresses: [(ExchangeEndpoint, SocketAddress)] = []
        for endpoint in configuration.endpoints {
            guard let address = try? SocketAddress(ipAddress: endpoint.host, port: endpoint.port) else {
                throw ExchangeServerError.notNumeric(endpoint.host)
            }
            addresses.append((endpoint, address))
        }
        let sslContext: NIOSSLContext?
        do {
            sslContext = try configuration.tls?.makeContext()
        } catch {
            throw ExchangeServerError.tls(String(describing: error))
        }

        let group = givenGroup ?? MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let ownsGroup = givenGroup == nil
        var listeners: [Listener] = []
        var bound: [BoundEndpoint] = []
        do {
            var sharedPort: Int?
            for (endpoint, address) in addresses {
                var listener: Listener?
                if endpoint.port == 0, let sharedPort {
                    listener = try? await bind(try SocketAddress(ipAddress: endpoint.host, port: sharedPort), group, sslContext)
                }
                if listener == nil {
                    do {
                        listener = try await bind(address, group, sslContext)
                    } catch {
                        throw ExchangeServerError.bindFailed(endpoint, String(describing: error))
                    }
                }
                guard let listener, let port = listener.channel.localAddress?.port else {
                    throw ExchangeServerError.bindFailed(endpoint, "no local address")
                }
                if endpoint.port == 0, sharedPort == nil { sharedPort = port }
                listeners.append(listener)
                bound.append(BoundEndpoint(host: endpoint.host, port: port,
                                           family: address.protocol == .inet6 ? .ipv6 : .ipv4))
            }
        } catch {
            for l in listeners { try? await l.channel.close() }
            if ownsGroup { try? await group.shutdownGracefully() }
            throw error
        }

        let channels = listeners.map(\.channel)
        let task = Task { [listeners, bound] in
            await withDiscardingTaskGroup { group in
                for listener in listeners {
                    group.addTask { await self.acceptLoop(listener, bound: bound) }
                }
            }
        }
        return Running(group: group, ownsGroup: ownsGroup, listeners: channels, bound: bound, task: task)
    }

    private func bind(_ address: SocketAddress, _ group: any EventLoopGroup, _ sslContext: NIOSSLContext?) async throws -> Listener {
        try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: configuration.backlog)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(to: address) { channel in
                channel.eventLoop.makeCompletedFuture { () throws -> Accepted in
                    if let hook = self.connectionHookBox.withLockedValue({ $0 }) {
                        let context = ConnectionFaultContext(role: self.configuration.role, local: Self.format(channel.localAddress),
                                                             peer: Self.format(channel.remoteAddress))
                        let fault = hook(context)
                        if fault != .none {
                            try ConnectionFaultHandler.install(fault, on: channel, role: self.configuration.role,
                                                               readTimeout: self.configuration.readTimeout,
                                                               journal: self.journal, registry: self.faulted)
                            return .faulted
                        }
                    }
                    // First, so that a write fault can reset the socket underneath TLS.
                    try channel.pipeline.syncOperations.addHandler(RawCloseHandler())
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                    }
                    // Held until the accept loop takes it: see `AcceptedConnections`.
                    guard let connection = try self.accepted.admit({ try Connection(wrappingChannelSynchronously: channel) }) else {
                        channel.close(promise: nil)
                        return .faulted
                    }
                    return .exchange(connection)
                }
            }
    }

    private func acceptLoop(_ listener: Listener, bound: [BoundEndpoint]) async {
        await withDiscardingTaskGroup { connections in
            do {
                try await listener.executeThenClose { inbound in
                    for try await accepted in inbound {
                        // A faulted connection journals itself when it ends.
                        guard case .exchange(let connection) = accepted else { continue }
                        self.accepted.take(connection.channel)
                        connections.addTask { await self.serve(connection, bound: bound) }
                    }
                }
            } catch {
                // The listener was closed (stop) or failed; running exchanges finish on their own.
            }
        }
    }

    // MARK: - One exchange

    /// What is known about the exchange so far; becomes the journal entry.
    private struct Record {
        var peer: String?
        var sa: String?
        var messageType: String?
        var resultCode: Int?
        var httpStatus = 0
        var bytesIn = 0
        var bytesOut = 0
        var outcome = ExchangeOutcome.closed
        var detail: String?

        mutating func apply(_ facts: ExchangeFacts) {
            sa = facts.sa ?? sa
            messageType = facts.messageType ?? messageType
            resultCode = facts.resultCode
            outcome = facts.outcome
            detail = facts.detail
        }
    }

    private func serve(_ connection: Connection, bound: [BoundEndpoint]) async {
        let channel = connection.channel
        var record = Record(peer: Self.format(channel.remoteAddress))
        let local = Self.format(channel.localAddress)
        let timedOut = NIOLockedValueBox(false)
        let timer = channel.eventLoop.scheduleTask(in: configuration.readTimeout.timeAmount) {
            timedOut.withLockedValue { $0 = true }
            channel.close(promise: nil)
        }
        defer { timer.cancel() }

        // The entry is written as soon as the exchange is decided, before the TLS
        // shutdown (which may wait for the client's close_notify).
        var journaled = false
        func journalOnce() {
            guard !journaled else { return }
            journaled = true
            journal.append(JournalEntry(time: wallClockSeconds(), role: configuration.role, sa: record.sa,
                                        messageType: record.messageType, resultCode: record.resultCode,
                                        httpStatus: record.httpStatus, bytesIn: record.bytesIn, bytesOut: record.bytesOut,
                                        outcome: record.outcome, detail: record.detail, peer: record.peer))
        }

        do {
            try await connection.executeThenClose { inbound, outbound in
                defer { journalOnce() }
                var iterator = inbound.makeAsyncIterator()
                var parser = HTTPRequestParser(limits: configuration.limits)
                var request: HTTPRequest?

                // Read one request.
                while request == nil {
                    let next: ByteBuffer?
                    do {
                        next = try await iterator.next()
                    } catch {
                        classifyReadFailure(error, timedOut: timedOut.withLockedValue { $0 }, &record)
                        return
                    }
                    guard let buffer = next else {
                        classifyReadFailure(nil, timedOut: timedOut.withLockedValue { $0 }, &record)
                        return
                    }
                    record.bytesIn += buffer.readableBytes
                    do throws(HTTPParseError) {
                        request = try parser.feed(buffer.readableBytesView)
                    } catch {
                        timer.cancel()
                        try await answerBadRequest(error, &iterator, outbound, channel, &record)
                        return
                    }
                }
                timer.cancel()
                guard let request, !timedOut.withLockedValue({ $0 }) else {
                    record.outcome = ExchangeOutcome.timeout
                    record.detail = "no complete request within \(configuration.readTimeout)"
                    return
                }

                // Fault hook, then the handler.
                let exchange = ExchangeRequest(request: request, peer: record.peer, local: local, bytesIn: record.bytesIn,
                                               serverEndpoints: bound)
                var fault = ExchangeFault.none
                if let hook = faultHookBox.withLockedValue({ $0 }) {
                    let context = Self.faultContext(role: configuration.role, exchange)
                    record.sa = context.claimedSA
                    record.messageType = context.messageType
                    fault = hook(context)
                }
                if fault.delay > .zero {
                    do {
                        try await Task.sleep(for: fault.delay)
                    } catch {
                        record.outcome = ExchangeOutcome.closed
                        record.detail = "server stopped during an injected delay of \(fault.delay)"
                        return
                    }
                }
                let reply: ExchangeReply
                switch fault.action {
                case .answer:
                    reply = await handler(exchange)
                    if fault.delay > .zero {
                        var facts = reply.facts
                        facts.detail = ["fault: answer delayed by \(fault.delay)", facts.detail].compactMap { $0 }.joined(separator: "; ")
                        record.apply(facts)
                    } else {
                        record.apply(reply.facts)
                    }
                case .close:
                    record.outcome = fault.outcome ?? ExchangeOutcome.closed
                    record.detail = "fault: closed without an answer" + (fault.delay > .zero ? " after \(fault.delay)" : "")
                    return
                case .status(let status):
                    reply = .httpError(status, facts: ExchangeFacts(outcome: fault.outcome ?? "", detail: "fault: answered \(status)"))
                    record.resultCode = nil
                    record.outcome = reply.facts.outcome
                    record.detail = reply.facts.detail
                case .raw(let bytes):
                    reply = ExchangeReply(bytes: bytes, httpStatus: Self.statusCode(of: bytes),
                                          facts: ExchangeFacts(outcome: fault.outcome ?? "", detail: "fault: \(bytes.count) raw bytes"))
                    record.resultCode = nil
                    record.outcome = reply.facts.outcome
                    record.detail = reply.facts.detail
                case .armsResult(let code):
                    if let attribute = record.messageType, let type = MessageType(attribute: attribute) {
                        reply = ARMSAnswer.reply(.standard(type, ResultCode(code), body: nil), facts: ExchangeFacts(
                            outcome: fault.outcome ?? "", detail: "fault: answered \(attribute) with result \(code)"))
                        record.resultCode = code
                    } else {
                        reply = .httpError(.badRequest, facts: ExchangeFacts(
                            outcome: fault.outcome ?? "", detail: "fault: result \(code) asked, but the request type is unknown: answered 400"))
                        record.resultCode = nil
                    }
                    record.outcome = reply.facts.outcome
                    record.detail = reply.facts.detail
                case .malformedXML:
                    reply = .http(body: ExchangeFault.malformedXMLBody(type: record.messageType), facts: ExchangeFacts(
                        outcome: fault.outcome ?? "", detail: "fault: answered an unterminated arms-message"))
                    record.resultCode = nil
                    record.outcome = reply.facts.outcome
                    record.detail = reply.facts.detail
                }
                try await write(reply, mode: fault.write, outbound, channel, &record)
            }
        } catch {
            // executeThenClose rethrows what the body threw (a failed write is already recorded).
        }
        journalOnce()
    }

    /// Writes the answer as `mode` says (see `ExchangeFault.WriteMode`).
    private func write(_ reply: ExchangeReply, mode: ExchangeFault.WriteMode, _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>,
                       _ channel: Channel, _ record: inout Record) async throws {
        func note(_ text: String) {
            record.detail = [record.detail, text].compactMap { $0 }.joined(separator: "; ")
        }
        switch mode {
        case .whole:
            try await write(reply, outbound, &record)
        case .dribble(let pause):
            var sent = 0
            do {
                for byte in reply.bytes {
                    try await outbound.write(ByteBuffer(bytes: [byte]))
                    sent += 1
                    if sent < reply.bytes.count { try await Task.sleep(for: pause) }
                }
            } catch {
                record.bytesOut = sent
                note("fault: dribble of the answer (\(reply.httpStatus), \(record.outcome)) stopped after \(sent) of \(reply.bytes.count) bytes: \(error)")
                record.outcome = ExchangeOutcome.closed
                throw error
            }
            record.httpStatus = reply.httpStatus
            record.bytesOut = sent
            note("fault: dribbled one byte per \(pause)")
        case .truncate, .truncateMidBody, .reset, .resetMidBody:
            let cut = mode.cut(of: reply.bytes) ?? reply.bytes.count
            let was = record.outcome
            if cut > 0 {
                do {
                    try await outbound.write(ByteBuffer(bytes: reply.bytes[..<cut]))
                } catch {
                    note("fault: cut answer (\(reply.httpStatus), \(was)) not written: \(error)")
                    record.outcome = ExchangeOutcome.closed
                    throw error
                }
            }
            record.httpStatus = cut > 0 ? reply.httpStatus : 0
            record.bytesOut = cut
            record.outcome = mode.outcome ?? was
            let abortive = mode.isAbortive
            note("fault: answer (\(reply.httpStatus), \(was)) cut after \(cut) of \(reply.bytes.count) bytes, then "
                 + (abortive ? "TCP reset" : "clean close"))
            // The writes above are queued on the event loop before the reset, so they reach the socket first.
            if abortive { await RawCloseHandler.abort(channel) }
        }
    }

    /// Writes the whole answer in one write.
    private func write(_ reply: ExchangeReply, _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>,
                       _ record: inout Record) async throws {
        do {
            try await outbound.write(ByteBuffer(bytes: reply.bytes))
            record.httpStatus = reply.httpStatus
            record.bytesOut = reply.bytes.count
        } catch {
            record.detail = "answer (\(reply.httpStatus), \(record.outcome)) not written: \(error)"
            record.outcome = ExchangeOutcome.closed
            throw error
        }
    }

    /// 400 or 413 without calling the handler; then drain what the client still sends
    /// (for at most `lingerTime`), so that closing does not reset the connection under
    /// the answer.
    private func answerBadRequest(_ error: HTTPParseError, _ iterator: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator,
                                  _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, _ channel: Channel,
                                  _ record: inout Record) async throws {
        let status: HTTPStatus = if case .bodyTooLong = error { .contentTooLarge } else { .badRequest }
        let reply = ExchangeReply.httpError(status, facts: ExchangeFacts(
            outcome: error.exceedsLimit ? ExchangeOutcome.tooLarge : ExchangeOutcome.badRequest, detail: error.description))
        record.apply(reply.facts)
        try await write(reply, outbound, &record)
        // Half-close (TLS close_notify, then FIN): the client sees the whole answer and
        // its end, and usually closes at once, which ends the drain below.
        try? await channel.close(mode: .output)
        let linger = channel.eventLoop.scheduleTask(in: configuration.lingerTime.timeAmount) { channel.close(promise: nil) }
        defer { linger.cancel() }
        while let buffer = try? await iterator.next() {
            record.bytesIn += buffer.readableBytes
        }
    }

    private func classifyReadFailure(_ error: (any Error)?, timedOut: Bool, _ record: inout Record) {
        if timedOut {
            record.outcome = ExchangeOutcome.timeout
            record.detail = "no complete request within \(configuration.readTimeout) (\(record.bytesIn) bytes received)"
            return
        }
        if Task.isCancelled {
            record.outcome = ExchangeOutcome.closed
            record.detail = "server stopped before the request was complete"
            return
        }
        switch error {
        case nil:
            record.outcome = ExchangeOutcome.closed
            record.detail = "client closed after \(record.bytesIn) bytes, before a complete request"
        case let e as NIOSSLError:
            if case .uncleanShutdown = e {
                record.outcome = ExchangeOutcome.closed
                record.detail = "client closed without close_notify after \(record.bytesIn) bytes, before a complete request"
            } else {
                record.outcome = ExchangeOutcome.tlsError
                record.detail = String(describing: e)
            }
        case let e as BoringSSLError:
            record.outcome = ExchangeOutcome.tlsError
            record.detail = String(describing: e)
        case let e?:
            record.outcome = ExchangeOutcome.closed
            record.detail = "read failed after \(record.bytesIn) bytes: \(e)"
        }
    }

    private static func faultContext(role: ServerRole, _ exchange: ExchangeRequest) -> ExchangeFaultContext {
        var claimed: String?
        if let value = exchange.request.head.headers["Authorization"],
           let credentials = try? BasicCredentials(parsingHeaderValue: value),
           let id = DistributionID(credentials.user) {
            claimed = id.description
        }
        let type = (try? ARMSRequest.decode(exchange.request.body))?.type.attribute
        return ExchangeFaultContext(role: role, request: exchange, claimedSA: claimed, messageType: type)
    }

    /// The status code of raw answer bytes starting `HTTP/x.y NNN`, else 0.
    static func statusCode(of bytes: [UInt8]) -> Int {
        var parser = HTTPResponseParser(bodyEnd: .none, limits: .server)
        _ = try? parser.feed(bytes)
        return parser.head?.status.code ?? 0
    }

    /// `127.0.0.1:53422`, `[::1]:53422`.
    static func format(_ address: SocketAddress?) -> String? {
        guard let address, let ip = address.ipAddress, let port = address.port else { return nil }
        return ExchangeEndpoint.format(host: ip, port: port)
    }
}

extension Duration {
    /// The same span as a NIO `TimeAmount` (nanosecond precision, clamped to ±292 years).
    var timeAmount: TimeAmount {
        let (seconds, attoseconds) = components
        let limit = Int64.max / 1_000_000_000 - 1
        if seconds >= limit { return .nanoseconds(Int64.max) }
        if seconds <= -limit { return .nanoseconds(Int64.min) }
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

/// Accepted connections between the child channel initializer and the accept loop.
///
/// A connection accepted while the listener closes may be dropped by the listener's inbound
/// stream unseen. If its `NIOAsyncChannel` is released before its writer is finished, NIO
/// stops the process ("Deinited NIOAsyncWriter without calling finish()") as soon as the
/// channel becomes active. So each one is held here until the accept loop takes it, and
/// `stop()` finishes and closes the ones it never took. Once closed, no new one is admitted.
final class AcceptedConnections: Sendable {
    typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>
    private struct State {
        var held: [ObjectIdentifier: Connection] = [:]
        var closed = false
    }
    private let state = NIOLockedValueBox(State())

    /// Makes the connection and holds it; `nil` (nothing made) once closed.
    func admit(_ make: () throws -> Connection) throws -> Connection? {
        try state.withLockedValue { s in
            guard !s.closed else { return nil }
            let connection = try make()
            s.held[ObjectIdentifier(connection.channel)] = connection
            return connection
        }
    }

    /// The accept loop took the connection of `channel`: no longer held here.
    func take(_ channel: Channel) {
        _ = state.withLockedValue { $0.held.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Admits no more and returns those never taken.
    func closeAndTakeAll() -> [Connection] {
        state.withLockedValue { s in
            s.closed = true
            defer { s.held = [:] }
            return Array(s.held.values)
        }
    }
}
