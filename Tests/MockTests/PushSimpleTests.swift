import ARMSProtocol
import Foundation
import MockCore
import MockRS
import MockService
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import Testing

/// A fake SA https-simple listener (push.md §7): TLS with the SA certificate handed out at
/// pull, one request per connection, libarms' answer form (XML declaration + CR, then close).
final class FakeSimpleListener: Sendable {
    let requests = NIOLockedValueBox<[ARMSRequest]>([])
    let answer: @Sendable (ARMSRequest) -> ARMSResponse
    private let channel: NIOLockedValueBox<Channel?> = NIOLockedValueBox(nil)

    init(answer: @escaping @Sendable (ARMSRequest) -> ARMSResponse) { self.answer = answer }

    func start() async throws -> Int {
        let context = try ServerTLS(identity: .serviceAdapter).makeContext()
        let c = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.addHandler(Connection(listener: self))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        channel.withLockedValue { $0 = c }
        return c.localAddress?.port ?? 0
    }

    func stop() async { try? await channel.withLockedValue { $0 }?.close() }

    final class Connection: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let listener: FakeSimpleListener
        var parser = HTTPRequestParser()
        init(listener: FakeSimpleListener) { self.listener = listener }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let b = unwrapInboundIn(data)
            guard let request = try? parser.feed(b.readableBytesView) else { return }
            var head = "HTTP/1.0 200 OK\r\nServer: armsd\r\nConnection: close\r\nContent-Type: text/xml\r\n\r\n"
            guard request.head.headers["Authorization"] == BasicCredentials(user: PushFixtures.sa.description, password: "rs-secret").headerValue,
                  let arms = try? ARMSRequest.decode(request.body) else {
                head = "HTTP/1.0 401 Authorization Required\r\nServer: armsd\r\nConnection: close\r\n\r\n"
                let channel = context.channel
                context.writeAndFlush(NIOAny(ByteBuffer(string: head))).whenComplete { _ in channel.close(promise: nil) }
                return
            }
            listener.requests.withLockedValue { $0.append(arms) }
            let body = Array("<?xml version=\"1.0\" encoding=\"US-ASCII\" ?>\r".utf8) + listener.answer(arms).encode().bytes
            let channel = context.channel
            context.writeAndFlush(NIOAny(ByteBuffer(bytes: Array(head.utf8) + body))).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

@Suite("Push: https-simple")
struct PushSimpleTests {
    private let sa = PushFixtures.sa

    private func postToRS(_ rt: ServiceRuntime, _ request: ARMSRequest) async throws -> ARMSResponse {
        let rs = try #require(rt.rsURLs.first)
        let bytes = HTTPClientRequest.chunkedPost(path: rs.path, host: rs.host, port: rs.port,
                                                  credentials: BasicCredentials(user: sa.description, password: "rs-secret"),
                                                  pieces: request.encode().pieces)
        let response = try await TestClient.response(port: rs.port, tls: try TestClient.tls(), send: bytes)
        #expect(response.status == 200)
        return try ARMSResponse.decode(response.body, options: .libarms)
    }

    @Test("confirmation through the SA listener, then a sync and an async operation")
    func simpleConfirmAndPush() async throws {
        let listener = FakeSimpleListener { req in
            switch req.type.name {
            case .pushConfirmation: return .standard(.pushConfirmationDone)
            case .readModuleList: return .standard(req.type, body: .moduleList([ModuleInfo(id: 0, version: "1.0", info: "router-main")]))
            case .ping: return .standard(req.type, transactionID: 777)
            default: return .standard(.genericError, .invalidMessageType)
            }
        }
        let port = try await listener.start()
        do {
            try await body(listener, port)
        } catch {
            await listener.stop()
            throw error
        }
        await listener.stop()
    }

    private func body(_ listener: FakeSimpleListener, _ port: Int) async throws {
        try await withPushRuntime(configure: { $0.pushOffer.methods = [PushMethod.httpsSimple] }) { rt in
            let endpoint = "https://127.0.0.1:\(port)/"
            let start = try await postToRS(rt, ARMSRequest(type: .pushConfirmationStart, distributionID: sa.description, description: "armsd",
                                                          body: .pushConfirmationStart(method: PushMethod.httpsSimple, endpoint: endpoint)))
            #expect(start.resultCode == .success && start.transactionID != nil)
            try await waitUntil("https-simple push-ready") { rt.pushStatus(of: sa).pushReady }
            #expect(rt.pushStatus(of: sa).mode == "https-simple" && rt.pushStatus(of: sa).simpleEndpoint == endpoint)
            let confirm = try #require(listener.requests.withLockedValue { $0.first })
            #expect(confirm.type == .pushConfirmationDone && confirm.transactionID == start.transactionID)

            let list = try await rt.push(.readModuleList, to: sa, timeout: .seconds(20))
            #expect(list.state == .succeeded && list.mode == "https-simple" && list.modules?.first?.info == "router-main")

            let id = try rt.startPush(.ping("192.0.2.1", count: 2), to: sa)
            try await waitUntil("ping started") { rt.pushResult(id)?.state == .started }
            let done = try await postToRS(rt, ARMSRequest(type: MessageType(.ping, .done), transactionResult: .success,
                                                         distributionID: sa.description, transactionID: 777, description: "armsd",
                                                         body: .pingResult(success: 2, failure: 0)))
            #expect(done.type.attribute == "ping-done" && done.transactionID == 777 && done.resultCode == .success)
            let r = try #require(rt.pushResult(id))
            #expect(r.state == .succeeded && r.pingSuccess == 2)
            _ = try await rt.journal.waitForEntries { $0.role == .simple && $0.messageType == "ping-start" && $0.resultCode == 100 }
        }
    }

    @Test("an unreachable listener: not push-ready")
    func unreachable() async throws {
        try await withPushRuntime { rt in
            let start = try await postToRS(rt, ARMSRequest(type: .pushConfirmationStart, distributionID: sa.description, description: "armsd",
                                                          body: .pushConfirmationStart(method: PushMethod.httpsSimple, endpoint: "https://127.0.0.1:1/")))
            #expect(start.resultCode == .success)
            _ = try await rt.journal.waitForEntries { $0.role == .simple && $0.outcome == "closed" }
            #expect(rt.pushStatus(of: sa).pushReady == false)
        }
    }
}
