import ARMSProtocol
import NIOCore
import NIOPosix
import NIOSSL

/// How one HTTPS exchange of a simulated SA ended.
enum ExchangeReply: Sendable {
    case response(HTTPResponse)
    case status(Int)
    case failed(String)
}

/// The NIO side of a simulated SA: one-shot HTTPS exchanges (pull, push-method-query)
/// and held tunnel connections, all on the SA's own event loop.
enum FleetTransport {
    static let connectTimeout = TimeAmount.seconds(10)

    /// Numeric host and port of an URL.
    static func address(_ url: ARMSURL) throws -> NIOCore.SocketAddress {
        try NIOCore.SocketAddress(ipAddress: url.host, port: url.port)
    }

    /// Connects TCP + TLS and adds `handler` behind the TLS handler.
    static func connect(on loop: any EventLoop, to url: ARMSURL, context: NIOSSLContext,
                        handler: @escaping @Sendable () -> any ChannelHandler) -> EventLoopFuture<any Channel> {
        let address: NIOCore.SocketAddress
        do { address = try Self.address(url) } catch { return loop.makeFailedFuture(error) }
        return ClientBootstrap(group: loop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let tls = try NIOSSLClientHandler(context: context, serverHostname: nil)
                    try channel.pipeline.syncOperations.addHandler(tls)
                    try channel.pipeline.syncOperations.addHandler(handler())
                }
            }
            .connect(to: address)
    }

    /// One request, the answer read until `</arms-message>` within `timeout`, close.
    static func exchange(on loop: any EventLoop, url: ARMSURL, context: NIOSSLContext, request: [UInt8],
                         timeout: TimeAmount) -> EventLoopFuture<ExchangeReply> {
        let outcome = ExchangeOutcome(promise: loop.makePromise(of: ExchangeReply.self))
        let connected = connect(on: loop, to: url, context: context) { ExchangeHandler(outcome: outcome) }
        connected.whenComplete { result in
            switch result {
            case .failure(let error):
                outcome.complete(.failed("connect: \(error)"))
            case .success(let channel):
                let timer = loop.scheduleTask(in: timeout) {
                    outcome.complete(.failed("no answer within \(timeout.nanoseconds / 1_000_000_000) s"))
                    channel.close(promise: nil)
                }
                outcome.promise.futureResult.whenComplete { _ in timer.cancel() }
                channel.writeAndFlush(ByteBuffer(bytes: request), promise: nil)
            }
        }
        return outcome.promise.futureResult
    }
}

/// The one completion of an exchange, whoever comes first (answer, error, timer).
/// Used only on the exchange's event loop.
final class ExchangeOutcome: @unchecked Sendable {
    let promise: EventLoopPromise<ExchangeReply>
    private(set) var done = false

    init(promise: EventLoopPromise<ExchangeReply>) { self.promise = promise }

    func complete(_ reply: ExchangeReply) {
        promise.futureResult.eventLoop.assertInEventLoop()
        guard !done else { return }
        done = true
        promise.succeed(reply)
    }
}

/// Collects an HTTP answer into the exchange's outcome.
final class ExchangeHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let outcome: ExchangeOutcome
    private var parser = HTTPResponseParser(bodyEnd: .armsMessageEndTag)
    private var done: Bool { outcome.done }

    init(outcome: ExchangeOutcome) { self.outcome = outcome }

    private func complete(_ reply: ExchangeReply, _ context: ChannelHandlerContext) {
        guard !done else { return }
        outcome.complete(reply)
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        let buffer = unwrapInboundIn(data)
        do {
            let response = try parser.feed(buffer.readableBytesView)
            if let status = parser.head?.status.code, status >= 400 { return complete(.status(status), context) }
            if let response { complete(.response(response), context) }
        } catch {
            complete(.failed("answer: \(error)"), context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            do {
                let response = try parser.finish()
                let status = response.head.status.code
                complete(status >= 400 ? .status(status) : .response(response), context)
            } catch {
                complete(.failed("closed before the answer: \(error)"), context)
            }
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        complete(.failed("\(error)"), context)
    }
}

/// Hands a tunnel's bytes and its end to the SA (on the SA's loop).
final class TunnelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let onBytes: ([UInt8]) -> Void
    private let onEnd: (String) -> Void
    private var ended = false

    init(onBytes: @escaping ([UInt8]) -> Void, onEnd: @escaping (String) -> Void) {
        self.onBytes = onBytes
        self.onEnd = onEnd
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        onBytes(Array(buffer.readableBytesView))
    }

    func channelInactive(context: ChannelHandlerContext) {
        end("connection closed by peer")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        end("\(error)")
        context.close(promise: nil)
    }

    private func end(_ reason: String) {
        guard !ended else { return }
        ended = true
        onEnd(reason)
    }
}
