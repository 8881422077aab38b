import ARMSProtocol
import MockCore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// The RS as TLS client of an SA's https-simple listener (push.md §7.2–§7.4): one
/// HTTP/1.0 POST with Content-Length and Basic credentials per connection, the answer read
/// until the SA closes (bounded in size and time).
enum SimpleClient {
    static let maxAnswer = 1 << 20

    static func exchange(endpoint: String, request: ARMSRequest, credentials: BasicCredentials, timeout: Duration,
                         group: any EventLoopGroup) async -> Result<ARMSResponse, SimpleFailure> {
        let url: ARMSURL
        do { url = try ARMSURL(parsing: endpoint) } catch { return .failure(SimpleFailure("push-endpoint \(endpoint): \(error)")) }
        var xml = Array("<?xml version=\"1.0\" encoding=\"US-ASCII\"?>\n".utf8)
        xml += request.encode(style: .asciiSafe).bytes
        let bytes = HTTPClientRequest.post(path: url.path, credentials: credentials, body: xml)
        let received: [UInt8]
        do {
            received = try await roundTrip(host: url.host, port: url.port, bytes: bytes, timeout: timeout, group: group)
        } catch {
            return .failure(SimpleFailure("\(endpoint): \(error)"))
        }
        var parser = HTTPResponseParser(bodyEnd: .armsMessageEndTag, limits: .server)
        let response: HTTPResponse
        do {
            guard let r = try parser.feed(received) else {
                return .failure(SimpleFailure("\(endpoint): incomplete answer (\(received.count) bytes)"))
            }
            response = r
        } catch {
            return .failure(SimpleFailure("\(endpoint): unreadable answer: \(error)"))
        }
        guard response.head.status.code == 200 else {
            return .failure(SimpleFailure("\(endpoint): HTTP \(response.head.status.code)"))
        }
        do {
            return .success(try ARMSResponse.decode(response.body, options: .libarms))
        } catch {
            return .failure(SimpleFailure("\(endpoint): \(error)"))
        }
    }

    /// Connects (TLS, trusting the test root CA, no host-name check: the SA certificate is
    /// the one handed out at pull), writes, reads until close.
    static func roundTrip(host: String, port: Int, bytes: [UInt8], timeout: Duration, group: any EventLoopGroup) async throws -> [UInt8] {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv1
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(TestPKI.rootCACertificatePEM.utf8)))
        tls.certificateVerification = .noHostnameVerification
        let context = try NIOSSLContext(configuration: tls)
        let collector = Collector(limit: maxAnswer)
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(.nanoseconds(timeout.nanoseconds))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                    try channel.pipeline.syncOperations.addHandler(collector)
                }
            }
            .connect(host: host.trimmingBrackets, port: port).get()
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(timeout.nanoseconds)) { channel.close(promise: nil) }
        defer { timer.cancel() }
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
        try await channel.closeFuture.get()
        return collector.bytes.withLockedValue { $0 }
    }

    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let bytes = NIOLockedValueBox<[UInt8]>([])
        let limit: Int

        init(limit: Int) { self.limit = limit }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let b = unwrapInboundIn(data)
            let over = bytes.withLockedValue { all -> Bool in
                all += b.readableBytesView
                return all.count > limit
            }
            if over { context.close(promise: nil) }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}

extension String {
    var trimmingBrackets: String {
        hasPrefix("[") && hasSuffix("]") ? String(dropFirst().dropLast()) : self
    }
}
