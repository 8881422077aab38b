import Testing
@testable import ARMSProtocol

private func b(_ s: String) -> [UInt8] { Array(s.utf8) }

private func parse(_ s: String, limits: HTTPLimits = .server, readsBody: Bool = true) -> TransportTestKit.RequestOutcome {
    TransportTestKit.sameForEverySplit(b(s), randomCount: 10) {
        TransportTestKit.parseRequest($0, limits: limits, readsBody: readsBody)
    }
}

private let credentials = BasicCredentials(distributionID: DistributionID("0001-0000-1234-0056-0000-0000-0000-0001")!,
                                           key: "rs-secret")

@Suite struct HTTPRequestParserTests {
    @Test(arguments: [
        ("libarms-5.33-ls-request.http", "/arms.cgi", 284),
        ("libarms-5.33-rs-request.http", "/rs.cgi", 379),
        ("libarms-5.33-method-query-request.http", "/rs.cgi", 336),
    ])
    func parsesTheCapturedRequests(name: String, target: String, length: Int) throws {
        let bytes = try TransportTestKit.fixture(name)
        var parser = HTTPRequestParser()
        let request = try #require(try parser.feed(bytes))
        #expect(request.head.method == "POST")
        #expect(request.head.target == target)
        #expect(request.head.version == .http10)
        #expect(request.head.headers.fields.map(\.name) == ["Content-Type", "Content-Length", "Authorization"])
        #expect(request.head.headers["content-type"] == "text/xml")
        #expect(request.body.count == length)
        #expect(request.body.starts(with: b("<arms-message>")))
        #expect(parser.unconsumed == [])
        // Writing the parsed head back gives the same bytes.
        #expect(request.head.encoded() + request.body == bytes)
        let creds = try BasicCredentials(parsingHeaderValue: request.head.headers["Authorization"]!)
        #expect(creds.user.hasPrefix("0001-0000-"))
    }

    @Test func headIsAvailableBeforeTheBody() throws {
        var parser = HTTPRequestParser()
        #expect(try parser.feed(b("POST /x HTTP/1.0\r\nContent-Length: 4\r\n\r\nab")) == nil)
        #expect(parser.head?.target == "/x")
        #expect(parser.request == nil)
        #expect(try parser.feed(b("cdEXTRA"))?.body == b("abcd"))
        #expect(parser.unconsumed == b("EXTRA"))
        // Later bytes also go to unconsumed; the request stays.
        #expect(try parser.feed(b("!"))?.body == b("abcd"))
        #expect(parser.unconsumed == b("EXTRA!"))
    }

    @Test func chunkedRequestFromTheSA() throws {
        let pieces = [b("<arms-message>"), b("<x/>"), b("</arms-message>")]
        let bytes = HTTPClientRequest.chunkedPost(path: "arms/result", host: "192.0.2.10", port: 443,
                                                  credentials: credentials, pieces: pieces)
        let outcome = TransportTestKit.sameForEverySplit(bytes) { TransportTestKit.parseRequest($0) }
        #expect(outcome.error == nil)
        #expect(outcome.request?.body == Array(pieces.joined()))
        #expect(outcome.request?.head.headers["Host"] == "192.0.2.10:443")
        #expect(outcome.unconsumed == [])
    }

    @Test func chunkedRequestKeepsBytesAfterTheLastChunk() {
        let out = parse("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n3;ext\r\nabc\r\n0\r\n\r\nNEXT")
        #expect(out.request?.body == b("abc"))
        #expect(out.unconsumed == b("NEXT"))
    }

    @Test func noBodyWithoutFraming() {
        let out = parse("GET /status HTTP/1.1\nHost: x\n\nrest")
        #expect(out.error == nil)
        #expect(out.request?.head.method == "GET")
        #expect(out.request?.body == [])
        #expect(out.unconsumed == b("rest"))
    }

    @Test func headOnly() {
        let out = parse("POST /tunnel HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4;echo-request;trail\r\necho\r\n", readsBody: false)
        #expect(out.request?.body == [])
        #expect(out.unconsumed == TunnelChunkEncoder.echoRequest)
    }

    @Test func headerValuesAreTrimmedAndOrderKept() {
        let out = parse("POST / HTTP/1.0\r\nB:  two \t\r\nA:one\r\nb: three\r\n\r\n")
        #expect(out.request?.head.headers.fields == [
            .init(name: "B", value: "two"), .init(name: "A", value: "one"), .init(name: "b", value: "three"),
        ])
        #expect(out.request?.head.headers.values(for: "b") == ["two", "three"])
    }

    @Test(arguments: [
        "POST /x\r\n\r\n", "POST  /x HTTP/1.0\r\n\r\n", "POST /x HTTP/1\r\n\r\n", "POST /x HTTP/1.0 \r\n\r\n",
        "\r\nPOST /x HTTP/1.0\r\n\r\n", "PO(ST /x HTTP/1.0\r\n\r\n", "POST /x http/1.0\r\n\r\n",
    ])
    func malformedRequestLine(text: String) {
        let line = String(text.split(separator: "\r\n", omittingEmptySubsequences: false)[0])
        #expect(parse(text).error == .malformedRequestLine(line))
    }

    @Test(arguments: ["Content-Type text/xml", " folded: x", "Bad Name: x", ": empty", "X\t: y"])
    func malformedHeaderLine(line: String) {
        #expect(parse("POST / HTTP/1.0\r\n" + line + "\r\n\r\n").error == .malformedHeaderLine(line))
    }

    @Test func lineAndHeadLimits() {
        let limits = HTTPLimits(maxLineLength: 20, maxHeadLength: 60, maxBodyLength: 10)
        // 20 bytes including CRLF is fine, 21 is not.
        #expect(parse("POST /x HTTP/1.0\r\nA: 123456789012345\r\n\r\n", limits: limits).error == nil)
        #expect(parse("POST /x HTTP/1.0\r\nA: 1234567890123456\r\n\r\n", limits: limits).error == .lineTooLong(limit: 20))
        // Reported without waiting for the end of the line.
        #expect(parse("POST /x HTTP/1.0\r\nA: 12345678901234567890", limits: limits).error == .lineTooLong(limit: 20))
        // 18 + 7 * 6 = 60 bytes of head so far: the empty line is one too many.
        let seven = "POST /x HTTP/1.0\r\n" + String(repeating: "A: 1\r\n", count: 7)
        #expect(parse(seven + "\r\n", limits: limits).error == .headTooLong(limit: 60))
        let six = "POST /x HTTP/1.0\r\n" + String(repeating: "A: 1\r\n", count: 6)
        #expect(parse(six + "\r\n", limits: limits).request?.head.headers.fields.count == 6)
    }

    @Test func bodyLimits() {
        let limits = HTTPLimits(maxBodyLength: 10)
        #expect(parse("POST / HTTP/1.0\r\nContent-Length: 10\r\n\r\n0123456789", limits: limits).request?.body.count == 10)
        #expect(parse("POST / HTTP/1.0\r\nContent-Length: 11\r\n\r\n", limits: limits).error == .bodyTooLong(limit: 10))
        let chunked = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        #expect(parse(chunked + "6\r\n012345\r\n4\r\n6789\r\n0\r\n\r\n", limits: limits).request?.body.count == 10)
        #expect(parse(chunked + "6\r\n012345\r\n5\r\n6789a\r\n0\r\n\r\n", limits: limits).error == .bodyTooLong(limit: 10))
        #expect(parse(chunked + "b\r\n", limits: limits).error == .bodyTooLong(limit: 10))
    }

    @Test func framingErrors() {
        #expect(parse("POST / HTTP/1.0\r\nContent-Length: 1x\r\n\r\n").error == .badContentLength("1x"))
        #expect(parse("POST / HTTP/1.0\r\nContent-Length: -1\r\n\r\n").error == .badContentLength("-1"))
        #expect(parse("POST / HTTP/1.0\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n").error == .badContentLength("3, 4"))
        #expect(parse("POST / HTTP/1.0\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc").request?.body == b("abc"))
        #expect(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n").error == .conflictingFraming)
        #expect(parse("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").error == .unsupportedTransferEncoding("gzip, chunked"))
        #expect(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX").error == .badChunk(.missingCRLFAfterData))
        #expect(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nq\r\n").error == .badChunk(.badChunkSize("q")))
        #expect(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nTrailer: x\r\n\r\n").error == .badChunk(.missingCRLFAfterLastChunk))
    }

    @Test func errorsAreFinal() {
        var parser = HTTPRequestParser()
        #expect(throws: HTTPParseError.malformedRequestLine("BAD")) { try parser.feed(b("BAD\r\n")) }
        #expect(throws: HTTPParseError.malformedRequestLine("BAD")) { try parser.feed(b("POST / HTTP/1.0\r\n\r\n")) }
    }
}
