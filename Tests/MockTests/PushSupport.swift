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

// A fake SA speaking the tunnel side over real TLS, replaying libarms 5.33 fixtures.

/// Collects what the server sends.
final class TunnelInbox: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let bytes = NIOLockedValueBox<[UInt8]>([])
    let closed = LockedFlag()

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let b = unwrapInboundIn(data)
        bytes.withLockedValue { $0 += b.readableBytesView }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed.set()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

enum PushFixtures {
    static let sa = DistributionID("0001-0000-1234-0056-0000-0000-0000-0001")!
    /// The SA of the captured run: RS key `rs-secret`, modules 0–2 as in the captures.
    static let profile = SAProfile(distributionID: sa, lsKey: "testkey123", rsKey: "rs-secret", label: "libarms capture", modules: [
        ModuleProfile(id: 0, version: "1.1", info: "router-main", config: "hostname router01\n"),
        ModuleProfile(id: 1, version: "20240101", info: "filter-rules", config: "pass all\n"),
        ModuleProfile(id: 2, version: "2.0", info: "extra", config: ""),
    ])

    static func chunk(_ name: String) throws -> [UInt8] { try MockFixture.bytes(name) }

    /// The chunk ids in a chunk stream replaced by `N` (ids are random or a counter).
    static func withoutIDs(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self).replacing(/;id=\d+/, with: ";id=N")
    }

    /// Replaces `<transaction-id>OLD</transaction-id>` by NEW and fixes the single chunk's size.
    static func retarget(_ chunk: [UInt8], transactionID old: Int, to new: Int) -> [UInt8] {
        // header line, data, CRLF (bytes, not Characters: "\r\n" is one Character)
        guard let cr = chunk.firstIndex(of: 13) else { return chunk }
        let header = String(decoding: chunk[..<cr], as: UTF8.self)
        let data = String(decoding: chunk[(cr + 2)..<(chunk.count - 2)], as: UTF8.self)
            .replacingOccurrences(of: "<transaction-id>\(old)</transaction-id>", with: "<transaction-id>\(new)</transaction-id>")
        let ext = header.firstIndex(of: ";").map { String(header[$0...]) } ?? ""
        return Array((String(data.utf8.count, radix: 16) + ext + "\r\n").utf8) + Array(data.utf8) + [13, 10]
    }
}

/// One SA-side tunnel connection.
final class FakeTunnel: @unchecked Sendable {
    let channel: Channel
    let inbox: TunnelInbox
    /// Bytes of `inbox` already handed out.
    private var cursor = 0
    private var assembler = TunnelMessageAssembler()
    /// The response head the server wrote.
    private(set) var head: [UInt8] = []

    private init(channel: Channel, inbox: TunnelInbox) {
        self.channel = channel
        self.inbox = inbox
    }

    /// Connects with TLS and sends the tunnel open head (the libarms capture by default).
    static func open(host: String = "127.0.0.1", port: Int, head: [UInt8]? = nil, sa: DistributionID = PushFixtures.sa,
                     key: String = "rs-secret", expectOK: Bool = true) async throws -> FakeTunnel {
        let context = try NIOSSLContext(configuration: try TestClient.tls())
        let inbox = TunnelInbox()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                    try channel.pipeline.syncOperations.addHandler(inbox)
                }
            }
            .connect(host: host, port: port).get()
        let tunnel = FakeTunnel(channel: channel, inbox: inbox)
        let bytes = head ?? TunnelHandshake.openRequest(path: "tunnel", host: host, port: port,
                                                        credentials: BasicCredentials(user: sa.description, password: key))
        try await tunnel.send(bytes)
        try await waitUntil("the tunnel response head") {
            inbox.bytes.withLockedValue { Self.headEnd($0) != nil } || inbox.closed.value
        }
        let all = inbox.bytes.withLockedValue { $0 }
        guard let end = Self.headEnd(all) else { throw TestFailure("no response head: \(String(decoding: all, as: UTF8.self))") }
        tunnel.head = Array(all[..<end])
        tunnel.cursor = end
        if expectOK && tunnel.head != TunnelHandshake.openResponse {
            throw TestFailure("unexpected head \(String(decoding: tunnel.head, as: UTF8.self))")
        }
        return tunnel
    }

    static func headEnd(_ b: [UInt8]) -> Int? {
        guard b.count >= 4 else { return nil }
        for i in 0...(b.count - 4) where b[i] == 13 && b[i + 1] == 10 && b[i + 2] == 13 && b[i + 3] == 10 { return i + 4 }
        return nil
    }

    func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    func sendFixture(_ name: String) async throws { try await send(try PushFixtures.chunk(name)) }

    /// The next whole chunk (header, data, CRLF) as raw bytes.
    func nextRawChunk(timeout: Duration = .seconds(20)) async throws -> [UInt8] {
        var found: [UInt8]?
        try await waitUntil("a chunk from the server", timeout: timeout) {
            let all = inbox.bytes.withLockedValue { $0 }
            found = Self.chunk(in: all, from: cursor)
            return found != nil || (inbox.closed.value && found == nil)
        }
        guard let found else { throw TestFailure("tunnel closed by the server") }
        cursor += found.count
        return found
    }

    static func chunk(in b: [UInt8], from start: Int) -> [UInt8]? {
        var i = start
        while i + 1 < b.count, !(b[i] == 13 && b[i + 1] == 10) { i += 1 }
        guard i + 1 < b.count else { return nil }
        let header = String(decoding: b[start..<i], as: UTF8.self)
        guard let size = Int(header.split(separator: ";").first ?? "", radix: 16) else { return nil }
        let end = i + 2 + size + 2
        if size == 0 { return end <= b.count ? Array(b[start..<end]) : nil }
        return end <= b.count ? Array(b[start..<end]) : nil
    }

    /// The next event (message, echo reply, end of stream).
    func nextEvent(timeout: Duration = .seconds(20)) async throws -> TunnelEvent {
        while true {
            if let e = try assembler.next() { return e }
            assembler.feed(try await nextRawChunk(timeout: timeout))
        }
    }

    /// The next message decoded as an RS request.
    func nextRequest(timeout: Duration = .seconds(20)) async throws -> ARMSRequest {
        guard case .message(let m) = try await nextEvent(timeout: timeout) else { throw TestFailure("expected a message") }
        return try ARMSRequest.decode(m.data, options: .libarms)
    }

    /// The next message decoded as an RS response.
    func nextResponse(timeout: Duration = .seconds(20)) async throws -> ARMSResponse {
        guard case .message(let m) = try await nextEvent(timeout: timeout) else { throw TestFailure("expected a message") }
        return try ARMSResponse.decode(m.data, options: .libarms)
    }

    /// Runs the confirmation with the captured chunks; returns the two raw chunks the server sent.
    @discardableResult
    func confirm() async throws -> [UInt8] {
        try await sendFixture("libarms-5.33-confirm-start-request.chunk")
        let first = try await nextRawChunk()
        let second = try await nextRawChunk()
        let start = try ARMSResponse.decode(Array(first.drop { $0 != UInt8(ascii: "<") }.dropLast(2)), options: .libarms)
        let txid = try #require(start.transactionID)
        try await send(PushFixtures.retarget(try PushFixtures.chunk("libarms-5.33-confirm-done-response.chunk"),
                                             transactionID: 70418033, to: txid))
        return first + second
    }

    func waitClosed(timeout: Duration = .seconds(20)) async throws {
        try await waitUntil("the server to close the tunnel", timeout: timeout) { inbox.closed.value }
    }

    func close() async {
        try? await channel.close()
    }
}

/// A runtime with the capture's SA, IPv4 and IPv6 listeners, free ports, no data directory.
func startPushRuntime(fleet: [SAProfile] = [PushFixtures.profile, .demo], echo: Int = 5,
                      configure: (inout ServiceConfiguration) -> Void = { _ in }) async throws -> ServiceRuntime {
    var c = ServiceConfiguration.inProcess()
    c.hosts = ["127.0.0.1", "::1"]
    c.fleet = fleet
    c.pushOffer.echoInterval = echo
    configure(&c)
    return try await ServiceRuntime.start(c)
}

func withPushRuntime<R>(fleet: [SAProfile] = [PushFixtures.profile, .demo], echo: Int = 5,
                        configure: (inout ServiceConfiguration) -> Void = { _ in },
                        _ body: (ServiceRuntime) async throws -> R) async throws -> R {
    let runtime = try await startPushRuntime(fleet: fleet, echo: echo, configure: configure)
    do {
        let r = try await body(runtime)
        await runtime.stop()
        return r
    } catch {
        await runtime.stop()
        throw error
    }
}

extension ServiceRuntime {
    var tunnelPortIPv4: Int { tunnelServer.boundEndpoints.first { $0.family == .ipv4 }?.port ?? 0 }
    var tunnelPortIPv6: Int { tunnelServer.boundEndpoints.first { $0.family == .ipv6 }?.port ?? 0 }

    /// Opens and confirms a tunnel for the capture's SA; waits until push-ready.
    func readyTunnel(host: String = "127.0.0.1") async throws -> FakeTunnel {
        let before = pushStatus(of: PushFixtures.sa).tunnels.filter(\.ready).count
        let t = try await FakeTunnel.open(host: host, port: host.contains(":") ? tunnelPortIPv6 : tunnelPortIPv4)
        try await t.confirm()
        try await waitUntil("push-ready") { self.pushStatus(of: PushFixtures.sa).tunnels.filter(\.ready).count > before }
        return t
    }
}
