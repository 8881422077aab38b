import Glibc
import Testing
@testable import Agent

// Pure parts of the transport: numeric address resolution, the CONNECT request
// bytes, the proxy status check, error texts and log codes.

@Suite struct TransportAddressTests {
    @Test func numericIPv4() throws {
        let address = try SocketAddress.numeric(host: "192.0.2.10", port: 443)
        #expect(address.family == .ipv4)
        #expect(address.host == "192.0.2.10")
        #expect(address.port == 443)
        #expect(address.description == "192.0.2.10:443")
    }

    @Test func numericIPv6() throws {
        let address = try SocketAddress.numeric(host: "2001:db8::1", port: 10443)
        #expect(address.family == .ipv6)
        #expect(address.description == "[2001:db8::1]:10443")
        // Equality is by address, not by spelling.
        #expect(try SocketAddress.numeric(host: "::1", port: 1) == SocketAddress.numeric(host: "0:0:0:0:0:0:0:1", port: 1))
        #expect(try SocketAddress.numeric(host: "::1", port: 1) != SocketAddress.numeric(host: "::1", port: 2))
    }

    @Test(arguments: ["localhost", "example.com", "[::1]", "", "2001:db8::zz", "10.0.0.1 "])
    func namesAndMalformedHostsAreRefused(host: String) {
        #expect(transportError { try SocketAddress.numeric(host: host, port: 443) }
                    == .invalidAddress(host: host, port: 443))
    }

    @Test func invalidAddressTextAndCode() {
        let error = TransportError.invalidAddress(host: "ls.example", port: 443)
        #expect(error.description == "failed to get host information: ls.example:443")
        #expect(error.logCode == 101)
    }

    @Test func connectRequestBytes() throws {
        let v4 = try SocketAddress.numeric(host: "203.0.113.5", port: 443)
        #expect(String(decoding: WebProxyTunnel.connectRequest(to: v4), as: UTF8.self)
                    == "CONNECT 203.0.113.5:443 HTTP/1.1\r\nHost: 203.0.113.5:443\r\n\r\n")
        let v6 = try SocketAddress.numeric(host: "2001:db8::10", port: 8443)
        #expect(String(decoding: WebProxyTunnel.connectRequest(to: v6), as: UTF8.self)
                    == "CONNECT [2001:db8::10]:8443 HTTP/1.1\r\nHost: [2001:db8::10]:8443\r\n\r\n")
    }

    @Test(arguments: [
        ("HTTP/1.1 200 Connection established\r\n\r\n", 200, true),
        ("HTTP/1.0 200 OK\r\n\r\n", 200, true),
        ("HTTP/1.1 204\r\n", 204, true),
        ("HTTP/1.1 299 whatever", 299, true),
        ("HTTP/1.1\t 200 tabs are white space for %u", 200, true),
        ("HTTP/1.1 199 Early", 199, false),
        ("HTTP/1.1 300 Multiple", 300, false),
        ("HTTP/1.1 403 Forbidden\r\n\r\n", 403, false),
        ("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n", 407, false),
    ] as [(String, Int, Bool)])
    func proxyStatusLines(reply: String, code: Int, accepted: Bool) {
        #expect(WebProxyTunnel.statusCode(of: Array(reply.utf8)) == code)
        #expect(WebProxyTunnel.accepts(Array(reply.utf8)) == accepted)
    }

    @Test(arguments: ["http/1.1 200 OK", " HTTP/1.1 200 OK", "HTTP/1 200", "HTTP/1.1", "HTTP/1.1200",
                      "HTTP/x.1 200", "", "SSH-2.0-OpenSSH"])
    func unparsableProxyRepliesHaveNoStatus(reply: String) {
        #expect(WebProxyTunnel.statusCode(of: Array(reply.utf8)) == nil)
        #expect(!WebProxyTunnel.accepts(Array(reply.utf8)))
    }

    @Test func errorTextsFollowLibarms() {
        #expect(TransportError.connect(errno: ECONNREFUSED).description
                    == "Connect error (\(ECONNREFUSED)). (Connection refused)")
        #expect(TransportError.timeout(.handshake).description == "SSL Connection timeout. (TLS handshake)")
        #expect(TransportError.timeout(.connect).description == "SSL Connection timeout. (TCP connect)")
        #expect(TransportError.proxyRefused(status: 502, statusLine: "HTTP/1.1 502 Bad Gateway").description
                    == "web proxy server response 502 (HTTP/1.1 502 Bad Gateway)")
        let issuer = TransportError.verification(.x509(code: 20, reason: "unable to get local issuer certificate",
                                                       depth: 0, subject: "/CN=Location Server 1"))
        #expect(issuer.description.hasPrefix(
            "verification failure of server certificate (reason: unable to get local issuer certificate(certificate chain may be too long)"))
        #expect(issuer.logCode == 109)
        let name = CertificateVerificationFailure.locationServerName(subject: "/CN=Location Server", depth: 0)
        #expect(name.reason == "subject contains neither CN=ARMS Root CA nor CN=Location Server ")
        #expect(TransportError.timeout(.proxyConnect).logCode == 103)
        #expect(TransportError.timeout(.read).phase == .read)
    }

    @Test func pollTimeoutsRoundUp() {
        #expect(pollMilliseconds(until: .now - .seconds(1)) == 0)
        let soon = pollMilliseconds(until: .now + .microseconds(1500))
        #expect(soon >= 1 && soon <= 2)
        #expect(pollMilliseconds(until: .now + .seconds(30)) <= 30_000)
        #expect(pollMilliseconds(until: .now + .seconds(30)) > 29_000)
        #expect(pollMilliseconds(until: .now + .seconds(10_000_000)) == Int32.max)
    }
}
