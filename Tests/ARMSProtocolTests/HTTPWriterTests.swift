import Testing
@testable import ARMSProtocol

private func b(_ s: String) -> [UInt8] { Array(s.utf8) }

/// Splits an HTTP message at the first empty line.
private func headAndBody(_ bytes: [UInt8]) -> (head: [UInt8], body: [UInt8]) {
    let at = ByteText.firstRange(of: b("\r\n\r\n"), in: bytes)!
    return (Array(bytes[..<(at + 4)]), Array(bytes[(at + 4)...]))
}

private let lsDistID = DistributionID("0001-0000-0000-0000-0000-0000-0000-0001")!
private let distID = DistributionID("0001-0000-1234-0056-0000-0000-0000-0001")!
private let rsCredentials = BasicCredentials(distributionID: distID, key: "rs-secret")
private let authLine = "Authorization: Basic MDAwMS0wMDAwLTEyMzQtMDA1Ni0wMDAwLTAwMDAtMDAwMC0wMDAxOnJzLXNlY3JldA==\r\n"

@Suite struct HTTPClientRequestTests {
    @Test(arguments: [
        ("libarms-5.33-ls-request.http", "arms.cgi", BasicCredentials(distributionID: lsDistID, key: "testkey123")),
        ("libarms-5.33-rs-request.http", "rs.cgi", rsCredentials),
        ("libarms-5.33-method-query-request.http", "rs.cgi", rsCredentials),
    ])
    func reproducesTheCapturedRequest(name: String, path: String, credentials: BasicCredentials) throws {
        let fixture = try TransportTestKit.fixture(name)
        let body = headAndBody(fixture).body
        #expect(!body.isEmpty)
        #expect(HTTPClientRequest.post(path: path, credentials: credentials, body: body) == fixture)
    }

    @Test func pushMethodQueryExample() {
        // push.md §3.2
        let body = b(#"<arms-message><arms-request type="push-method-query"><distribution-id>0001-0000-1234-0056-0000-0000-0000-0001</distribution-id><description>armsd</description><push-method-query-request><push-method>https-simple</push-method><push-method>https-tunnel</push-method></push-method-query-request></arms-request></arms-message>"#)
        #expect(body.count == 322)
        let expected = "POST /arms HTTP/1.0\r\nContent-Type: text/xml\r\nContent-Length: 322\r\n" + authLine + "\r\n"
        #expect(HTTPClientRequest.post(path: "arms", credentials: rsCredentials, body: body) == b(expected) + body)
    }

    @Test func emptyPathAndEmptyBody() {
        #expect(HTTPClientRequest.post(path: "", credentials: rsCredentials, body: [])
            == b("POST / HTTP/1.0\r\nContent-Type: text/xml\r\nContent-Length: 0\r\n" + authLine + "\r\n"))
    }

    @Test func httpsSimplePingDoneExample() {
        // push.md §7.6, SA -> RS
        let body = #"<arms-message><arms-request type="ping-done"><transaction-result>100</transaction-result><distribution-id>0001-0000-1234-0056-0000-0000-0000-0001</distribution-id><transaction-id>1804289383</transaction-id><description>armsd</description><ping-done-request><success>3</success><failure>0</failure></ping-done-request></arms-request></arms-message>"#
        let expected = "POST /arms/result HTTP/1.1\r\nHost: 192.0.2.10:443\r\nConnection: close\r\nContent-Type: text/xml\r\n"
            + "Transfer-Encoding: chunked\r\n" + authLine + "\r\n"
            + "15b\r\n" + body + "\r\n0\r\n\r\n"
        #expect(HTTPClientRequest.chunkedPost(path: "arms/result", host: "192.0.2.10", port: 443,
                                              credentials: rsCredentials, pieces: [b(body)]) == b(expected))
    }

    @Test func chunkedPostOneChunkPerNonEmptyPiece() {
        let out = HTTPClientRequest.chunkedPost(path: "x", host: "2001:db8::1", port: 443, credentials: rsCredentials,
                                                pieces: [b("<a>"), [], b("0123456789abcdef"), b("</a>")])
        let (head, body) = headAndBody(out)
        #expect(ByteText.firstRange(of: b("\r\nHost: 2001:db8::1:443\r\n"), in: head) != nil)
        #expect(body == b("3\r\n<a>\r\n10\r\n0123456789abcdef\r\n4\r\n</a>\r\n0\r\n\r\n"))
    }

    @Test func chunkedPostHeadIsTheTunnelOpenHead() throws {
        let fixture = try TransportTestKit.fixture("libarms-5.33-tunnel-open-request.http")
        #expect(HTTPClientRequest.chunkedPostHead(path: "tunnel", host: "127.0.0.1", port: 18445, credentials: rsCredentials) == fixture)
        let full = HTTPClientRequest.chunkedPost(path: "tunnel", host: "127.0.0.1", port: 18445, credentials: rsCredentials, pieces: [])
        #expect(full == fixture + b("0\r\n\r\n"))
    }
}

@Suite struct HTTPServerResponseTests {
    @Test(arguments: ["mock-accepted-ls-response.http", "mock-accepted-rs-response.http",
                      "mock-accepted-method-query-response.http"])
    func reproducesTheAcceptedResponse(name: String) throws {
        let fixture = try TransportTestKit.fixture(name)
        #expect(HTTPServerResponse.response(body: headAndBody(fixture).body) == fixture)
    }

    @Test func errorStatuses() {
        #expect(HTTPServerResponse.response(status: .unauthorized, body: [])
            == b("HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"\"\r\nContent-Type: text/xml\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
        #expect(HTTPServerResponse.response(status: .badRequest, contentType: "text/plain", body: b("bad\n"))
            == b("HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbad\n"))
        #expect(HTTPServerResponse.response(status: .notFound, body: []).starts(with: b("HTTP/1.0 404 Not Found\r\nContent-Type: text/xml\r\n")))
        #expect(HTTPServerResponse.response(status: .internalServerError, body: [])
            .starts(with: b("HTTP/1.0 500 Internal Server Error\r\nContent-Type: text/xml\r\n")))
        #expect(HTTPServerResponse.response(status: HTTPStatus(code: 503, reasonPhrase: "Busy"), body: [])
            .starts(with: b("HTTP/1.0 503 Busy\r\n")))
    }

    static let simpleHead = "HTTP/1.0 200 OK\r\nServer: armsd\r\nConnection: close\r\nContent-Type: text/xml\r\n\r\n"
    static let declaration = "<?xml version=\"1.0\" encoding=\"US-ASCII\" ?>\r"

    @Test func simpleListenerExamples() {
        // push.md §7.6, SA -> RS
        let pingStart = #"<arms-message><arms-response type="ping-start"><transaction-id>1804289383</transaction-id><result-code>100</result-code><description>Success</description><ping-start-response></ping-start-response></arms-response></arms-message>"#
        #expect(HTTPServerResponse.simpleListener(body: b(pingStart)) == b(Self.simpleHead + Self.declaration + pingStart))
        // push.md §7.7
        let confirm = #"<arms-message><arms-response type="push-confirmation-done"><result-code>100</result-code><description>Success</description><push-confirmation-done-response></push-confirmation-done-response></arms-response></arms-message>"#
        #expect(HTTPServerResponse.simpleListener(body: b(confirm))
            == b("HTTP/1.0 200 OK\r\nServer: armsd\r\nConnection: close\r\nContent-Type: text/xml\r\n\r\n<?xml version=\"1.0\" encoding=\"US-ASCII\" ?>\r" + confirm))
    }

    @Test func simpleListenerDeclarationEndsInASingleCR() {
        let out = HTTPServerResponse.simpleListener(body: [])
        #expect(Array(out.suffix(4)) == b(" ?>\r"))
    }

    @Test func simpleListenerRejections() {
        #expect(HTTPServerResponse.simpleListenerRejection(.unauthorized)
            == b("HTTP/1.0 401 Authorization Required\r\nWWW-Authenticate: Basic realm=\"\"\r\nServer: armsd\r\nConnection: close\r\nContent-Type: text/xml\r\n\r\n" + Self.declaration))
        #expect(HTTPServerResponse.simpleListenerRejection(.badRequest)
            == b("HTTP/1.0 400 Bad Request\r\nWWW-Authenticate: Basic realm=\"\"\r\nServer: armsd\r\nConnection: close\r\nContent-Type: text/xml\r\n\r\n" + Self.declaration))
    }

    @Test func answerToHttpsSimpleRequest() {
        // push.md §7.6, RS -> SA
        let body = #"<arms-message><arms-response type="ping-done"><result-code>100</result-code><description>Success</description></arms-response></arms-message>"#
        #expect(HTTPServerResponse.simpleRequestAnswer(body: b(body))
            == b("HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nConnection: close\r\n\r\n" + body))
    }
}

@Suite struct HTTPHeadEncodingTests {
    @Test func requestAndResponseHeads() {
        let req = HTTPRequestHead(method: "GET", target: "/a?b=c", version: .http11, headers: ["X": "1", "x": "2"])
        #expect(req.encoded() == b("GET /a?b=c HTTP/1.1\r\nX: 1\r\nx: 2\r\n\r\n"))
        #expect(req.headers["X"] == "1" && req.headers.values(for: "x") == ["1", "2"])
        #expect(req.headers["Y"] == nil)
        let resp = HTTPResponseHead(version: .http10, status: HTTPStatus(code: 204, reasonPhrase: ""))
        #expect(resp.encoded() == b("HTTP/1.0 204 \r\n\r\n"))
    }

    @Test func headerLookupIgnoresASCIICaseOnly() {
        var h = HTTPHeaders()
        h.append(name: "Content-LENGTH", value: "5")
        #expect(h["content-length"] == "5")
        #expect(h["Content-Lengt"] == nil)
        #expect(h["Content-Length "] == nil)
    }
}
