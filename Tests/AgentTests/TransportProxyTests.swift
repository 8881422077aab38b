import Glibc
import Testing
@testable import Agent

// The optional web proxy (pull.md §2.2, push.md §2.6): plain TCP to the proxy,
// `CONNECT host:port HTTP/1.1` + `Host:`, one read of the answer, 2xx required,
// then TLS through the tunnel. The proxy is a tiny thread in this process.

private func lsConfiguration() throws -> TLSClientConfiguration {
    try .locationServer(rootCA: certText("root-ca.pem"))
}

private func proxiedError(to server: SocketAddress, via proxy: SocketAddress,
                          timeouts: TransportTimeouts = testTimeouts) throws -> TransportError? {
    let configuration = try lsConfiguration()
    return transportError {
        try TLSClientConnection.connect(to: server, configuration: configuration, proxy: proxy,
                                        timeouts: timeouts).close()
    }
}

@Suite(.blocksPoolThread) struct TransportProxyTests {
    @Test(arguments: ["127.0.0.1", "::1"])
    func tlsThroughConnectProxy(host: String) throws {
        let server = try OpenSSLServer(certificate: "ls", host: host)
        defer { server.stop() }
        let proxy = try TinyConnectProxy(host: host, mode: .tunnel)
        defer { proxy.waitUntilDone() }

        let connection = try TLSClientConnection.connect(to: server.address, configuration: lsConfiguration(),
                                                         proxy: proxy.address, timeouts: testTimeouts)
        try connection.write(Array("through the proxy\n".utf8), deadline: deadline(in: 10))
        #expect(try readLine(from: connection) == "yxorp eht hguorht\n")
        #expect(connection.peerSubject == "/CN=Location Server 127.0.0.1")
        #expect(connection.proxyAddress == (try proxy.address))
        #expect(connection.serverAddress == (try server.address))
        #expect(connection.localAddress.family == (host == "::1" ? .ipv6 : .ipv4))
        connection.close()

        let target = host == "::1" ? "[::1]:\(server.port)" : "127.0.0.1:\(server.port)"
        #expect(proxy.request == "CONNECT \(target) HTTP/1.1\r\nHost: \(target)\r\n\r\n")
    }

    @Test func proxyAnswering403IsRefused() throws {
        let proxy = try TinyConnectProxy(mode: .reply("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"))
        defer { proxy.waitUntilDone() }
        let server = try SocketAddress.numeric(host: "127.0.0.1", port: 443)
        let error = try proxiedError(to: server, via: proxy.address)
        #expect(error == .proxyRefused(status: 403, statusLine: "HTTP/1.1 403 Forbidden"))
        #expect(error?.description.hasPrefix("web proxy server response 403") == true)
        #expect(error?.logCode == 103)
        #expect(error?.phase == .proxyResponse)
    }

    @Test func proxyAnsweringNonHTTPIsRefused() throws {
        let proxy = try TinyConnectProxy(mode: .reply("SSH-2.0-OpenSSH_9.2\r\n"))
        defer { proxy.waitUntilDone() }
        let server = try SocketAddress.numeric(host: "127.0.0.1", port: 443)
        #expect(try proxiedError(to: server, via: proxy.address)
                    == .proxyRefused(status: nil, statusLine: "SSH-2.0-OpenSSH_9.2"))
    }

    @Test func proxyClosingWithoutAnswerFails() throws {
        let proxy = try TinyConnectProxy(mode: .closeWithoutReply)
        defer { proxy.waitUntilDone() }
        let server = try SocketAddress.numeric(host: "127.0.0.1", port: 443)
        #expect(try proxiedError(to: server, via: proxy.address) == .proxyClosed)
    }

    @Test func silentProxyTimesOutWaitingForItsAnswer() throws {
        let listener = try LoopbackSocket(listening: true)  // accepts in the kernel, never answers
        let server = try SocketAddress.numeric(host: "127.0.0.1", port: 443)
        let started = ContinuousClock.now
        let error = try proxiedError(to: server, via: listener.address,
                                     timeouts: TransportTimeouts(proxyStep: .milliseconds(500)))
        #expect(error == .timeout(.proxyResponse))
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(error?.logCode == 103)
    }

    @Test func refusedProxyPortGivesProxyConnectError() throws {
        let closed = try LoopbackSocket(listening: false)
        let server = try SocketAddress.numeric(host: "127.0.0.1", port: 443)
        let error = try proxiedError(to: server, via: closed.address)
        #expect(error == .proxyConnect(errno: ECONNREFUSED))
        #expect(error?.description.hasPrefix("web proxy connect error (\(ECONNREFUSED)).") == true)
    }

    @Test func proxyOfOtherFamilyIsNotUsed() throws {
        let server = try SocketAddress.numeric(host: "::1", port: 443)
        let proxy = try SocketAddress.numeric(host: "127.0.0.1", port: 8080)
        #expect(try proxiedError(to: server, via: proxy) == .proxyUnavailable(proxy: proxy, server: server))
    }

    @Test func certificateRulesStillApplyThroughTheProxy() throws {
        let server = try OpenSSLServer(certificate: "ls-wrong-cn")
        defer { server.stop() }
        let proxy = try TinyConnectProxy(mode: .tunnel)
        defer { proxy.waitUntilDone() }
        #expect(try proxiedError(to: server.address, via: proxy.address)
                    == .verification(.locationServerName(subject: "/CN=Location Server", depth: 0)))
    }
}
