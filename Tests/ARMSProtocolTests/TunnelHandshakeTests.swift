import Testing
@testable import ARMSProtocol

private func b(_ s: String) -> [UInt8] { Array(s.utf8) }

@Suite struct TunnelHandshakeTests {
    static let credentials = BasicCredentials(distributionID: DistributionID("0001-0000-1234-0056-0000-0000-0000-0001")!,
                                              key: "rs-secret")

    @Test func openRequestReproducesTheCapture() throws {
        let fixture = try TransportTestKit.fixture("libarms-5.33-tunnel-open-request.http")
        #expect(TunnelHandshake.openRequest(path: "tunnel", host: "127.0.0.1", port: 18445, credentials: Self.credentials) == fixture)
    }

    @Test func openResponseIsTheAcceptedOne() throws {
        #expect(TunnelHandshake.openResponse == (try TransportTestKit.fixture("mock-accepted-tunnel-open-response.http")))
    }

    @Test func ipv6HostIsWrittenWithoutBrackets() {
        let withBrackets = TunnelHandshake.openRequest(path: "tunnel", host: "[::1]", port: 18446, credentials: Self.credentials)
        let without = TunnelHandshake.openRequest(path: "tunnel", host: "::1", port: 18446, credentials: Self.credentials)
        #expect(withBrackets == without)
        #expect(ByteText.firstRange(of: b("\r\nHost: ::1:18446\r\n"), in: without) != nil)
    }

    @Test func emptyPathGivesSlash() {
        let head = TunnelHandshake.openRequest(path: "", host: "192.0.2.10", port: 443, credentials: Self.credentials)
        #expect(head.starts(with: b("POST / HTTP/1.1\r\n")))
    }

    /// RS side: read the head only, check it, and keep the chunks that follow.
    @Test func serverReadsTheCapturedOpenRequest() throws {
        let first = try TransportTestKit.fixture("libarms-5.33-confirm-start-request.chunk")
        var parser = HTTPRequestParser(readsBody: false)
        let request = try #require(try parser.feed(try TransportTestKit.fixture("libarms-5.33-tunnel-open-request.http") + first))
        #expect(request.head.target == "/tunnel")
        #expect(request.head.headers["Host"] == "127.0.0.1:18445")
        let creds = try TunnelHandshake.checkOpenRequest(request.head)
        #expect(creds == Self.credentials)
        var assembler = TunnelMessageAssembler()
        assembler.feed(parser.unconsumed)
        guard case .message(let m) = try assembler.next() else { Issue.record("no message"); return }
        #expect(m.id == 2122564810)
    }

    private func head(_ headers: HTTPHeaders, method: String = "POST") -> HTTPRequestHead {
        HTTPRequestHead(method: method, target: "/tunnel", version: .http11, headers: headers)
    }

    @Test func openRequestChecks() throws {
        let auth = Self.credentials.headerValue
        #expect(try TunnelHandshake.checkOpenRequest(head(["Transfer-Encoding": "Chunked", "Authorization": auth])) == Self.credentials)
        #expect(throws: TunnelHandshakeError.notPOST("GET")) {
            try TunnelHandshake.checkOpenRequest(head(["Transfer-Encoding": "chunked", "Authorization": auth], method: "GET"))
        }
        #expect(throws: TunnelHandshakeError.notPOST("post")) {
            try TunnelHandshake.checkOpenRequest(head(["Transfer-Encoding": "chunked", "Authorization": auth], method: "post"))
        }
        #expect(throws: TunnelHandshakeError.notChunked) {
            try TunnelHandshake.checkOpenRequest(head(["Content-Length": "0", "Authorization": auth]))
        }
        #expect(throws: TunnelHandshakeError.missingAuthorization) {
            try TunnelHandshake.checkOpenRequest(head(["Transfer-Encoding": "chunked"]))
        }
        #expect(throws: TunnelHandshakeError.badAuthorization(.notBasic)) {
            try TunnelHandshake.checkOpenRequest(head(["Transfer-Encoding": "chunked", "Authorization": "Digest x"]))
        }
    }

    /// SA side: parse the head with libarms' rules, check it, keep what follows.
    @Test func clientReadsTheAcceptedOpenResponse() throws {
        let chunks = try TransportTestKit.fixture("mock-accepted-confirm.chunk")
        var parser = HTTPResponseParser(bodyEnd: .none)
        let response = try #require(try parser.feed(TunnelHandshake.openResponse + chunks))
        try TunnelHandshake.checkOpenResponse(response.head)
        #expect(parser.unconsumed == chunks)
    }

    @Test(arguments: [
        ("HTTP/1.0 200 OK\r\n\r\n", TunnelHandshakeError.notHTTP11(.http10)),
        ("HTTP/1.1 401 Unauthorized\r\n\r\n", .status(401)),
        ("HTTP/1.1 204 No Content\r\n\r\n", .status(204)),
        ("HTTP/2.0 200 OK\r\n\r\n", .notHTTP11(HTTPVersion(major: 2, minor: 0))),
    ])
    func openResponseChecks(text: String, error: TunnelHandshakeError) throws {
        var parser = HTTPResponseParser(bodyEnd: .none)
        let response = try #require(try parser.feed(b(text)))
        #expect(throws: error) { try TunnelHandshake.checkOpenResponse(response.head) }
    }
}
