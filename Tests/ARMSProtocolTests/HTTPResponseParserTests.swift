import Testing
@testable import ARMSProtocol

private func b(_ s: String) -> [UInt8] { Array(s.utf8) }

private func parse(_ s: String, _ bodyEnd: HTTPResponseParser.BodyEnd, limits: HTTPLimits = .libarmsClient,
                   close: Bool = true) -> TransportTestKit.ResponseOutcome {
    TransportTestKit.sameForEverySplit(b(s), randomCount: 10) {
        TransportTestKit.parseResponse($0, bodyEnd: bodyEnd, limits: limits, close: close)
    }
}

@Suite struct HTTPResponseParserTests {
    static let accepted = ["mock-accepted-ls-response.http", "mock-accepted-rs-response.http",
                           "mock-accepted-method-query-response.http"]

    @Test(arguments: accepted)
    func contentLengthPolicyOnAcceptedResponses(name: String) throws {
        let bytes = try TransportTestKit.fixture(name)
        var parser = HTTPResponseParser(bodyEnd: .contentLength)
        let response = try #require(try parser.feed(bytes))
        #expect(response.head.version == .http10)
        #expect(response.head.status == .ok)
        #expect(response.head.headers.fields.map(\.name) == ["Content-Type", "Content-Length", "Connection"])
        #expect(response.body.starts(with: b("<?xml version=\"1.0\" encoding=\"US-ASCII\" ?>\r\n<arms-message>")))
        #expect(response.body.last == 0x0A)
        #expect(response.head.encoded() + response.body == bytes)
        #expect(parser.unconsumed == [])
        #expect(try parser.finish() == response)
    }

    @Test(arguments: accepted)
    func endTagPolicyStopsAtTheTag(name: String) throws {
        let bytes = try TransportTestKit.fixture(name)
        var parser = HTTPResponseParser(bodyEnd: .armsMessageEndTag)
        let response = try #require(try parser.feed(bytes))
        #expect(response.body.reversed().starts(with: b("</arms-message>").reversed()))
        #expect(parser.unconsumed == b("\n"))
    }

    @Test(arguments: accepted)
    func closePolicyWaitsForClose(name: String) throws {
        let bytes = try TransportTestKit.fixture(name)
        var parser = HTTPResponseParser(bodyEnd: .connectionClose)
        #expect(try parser.feed(bytes) == nil)
        #expect(parser.head?.status.code == 200)
        let response = try parser.finish()
        #expect(response.head.encoded() + response.body == bytes)
    }

    @Test func simpleListenerResponseIsCloseDelimited() {
        let body = #"<arms-message><arms-response type="ping-start"><result-code>100</result-code></arms-response></arms-message>"#
        let bytes = HTTPServerResponse.simpleListener(body: b(body))
        let out = TransportTestKit.sameForEverySplit(bytes) { TransportTestKit.parseResponse($0, bodyEnd: .connectionClose) }
        #expect(out.response?.head.headers["Server"] == "armsd")
        #expect(out.response?.body == b("<?xml version=\"1.0\" encoding=\"US-ASCII\" ?>\r" + body))
        let tagged = TransportTestKit.sameForEverySplit(bytes) {
            TransportTestKit.parseResponse($0, bodyEnd: .armsMessageEndTag, close: false)
        }
        #expect(tagged.response?.body == b("<?xml version=\"1.0\" encoding=\"US-ASCII\" ?>\r" + body))
    }

    @Test func headLinesMayEndInBareLF() {
        let out = parse("HTTP/1.1 200 OK\nContent-Length: 5\nX:y\r\n\r\nhello", .contentLength)
        #expect(out.error == nil)
        #expect(out.response?.head.headers.fields == [.init(name: "Content-Length", value: "5"), .init(name: "X", value: "y")])
        #expect(out.response?.body == b("hello"))
    }

    @Test func bareLFEmptyLineDoesNotEndTheHead() throws {
        // libarms only ends the head at an exact CRLF line; everything after a
        // bare-LF blank line is read as (ignored) header lines.
        let text = "HTTP/1.0 200 OK\r\nContent-Type: text/xml\r\n\n<arms-message></arms-message>"
        let out = parse(text, .armsMessageEndTag)
        #expect(out.error == .truncated)
        var parser = HTTPResponseParser(bodyEnd: .armsMessageEndTag)
        #expect(try parser.feed(b(text + "\n\r\n<arms-message/></arms-message>")) != nil)
        #expect(parser.response?.body == b("<arms-message/></arms-message>"))
    }

    @Test func linesWithoutColonAreIgnored() {
        let out = parse("HTTP/1.0 200 OK\r\nnonsense\r\nA: 1\r\n\r\n<arms-message/></arms-message>", .armsMessageEndTag)
        #expect(out.response?.head.headers.fields == [.init(name: "A", value: "1")])
    }

    @Test func statusLineForms() {
        #expect(parse("HTTP/1.0 200 OK\r\n\r\n", .none).response?.head.status == .ok)
        #expect(parse("HTTP/1.1 401\r\n\r\n", .none).response?.head.status == HTTPStatus(code: 401, reasonPhrase: ""))
        #expect(parse("HTTP/1.1   302 Found it\r\n\r\n", .none).response?.head.status == HTTPStatus(code: 302, reasonPhrase: "Found it"))
    }

    @Test(arguments: ["", "HTTP/1.0 200OK", "HTTPS/1.0 200 OK", "HTTP/1.0", "HTTP/1.0 ", "HTTP/1.0 abc",
                      "HTTP/1.0 1000 x", " HTTP/1.0 200 OK", "HTTP/x.0 200 OK"])
    func malformedStatusLine(line: String) {
        #expect(parse(line + "\r\n\r\n", .none).error == .malformedStatusLine(line))
    }

    @Test func transferEncodingIsMatchedLikeLibarms() {
        let chunkedBody = "\r\n5\r\n<arms\r\nf\r\n-message></arms\r\n9\r\n-message>\r\n0\r\n\r\n"
        // Exact case name, `chunked` anywhere in the line.
        for header in ["Transfer-Encoding: chunked", "Transfer-Encoding: gzip, chunked", "Transfer-Encoding:chunked"] {
            let out = parse("HTTP/1.1 200 OK\r\n" + header + "\r\n" + chunkedBody, .connectionClose)
            #expect(out.response?.body == b("<arms-message></arms-message>"), "\(header)")
        }
        // Lower-case name: not recognised, the chunk framing stays in the body.
        let lower = parse("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n" + chunkedBody, .connectionClose)
        #expect(lower.response?.body == Array(b(chunkedBody).dropFirst(2)))
        #expect(lower.response?.head.headers["Transfer-Encoding"] == "chunked")
    }

    @Test func chunkedBodyWithEachPolicy() {
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        let chunks = "5\r\n<arms\r\n11\r\n-message></arms-m\r\n8\r\nessage> \r\n0\r\n\r\n"
        for policy in [HTTPResponseParser.BodyEnd.contentLength, .connectionClose] {
            let out = parse(head + chunks + "junk", policy)
            #expect(out.response?.body == b("<arms-message></arms-message> "))
            #expect(out.unconsumed == b("junk"))
        }
        // At the tag: the rest of that chunk is dropped, later bytes kept.
        let tagged = parse(head + chunks + "junk", .armsMessageEndTag)
        #expect(tagged.response?.body == b("<arms-message></arms-message>"))
        #expect(tagged.unconsumed == b("0\r\n\r\njunk"))
        // Last chunk before the tag.
        #expect(parse(head + "3\r\nabc\r\n0\r\n\r\n", .armsMessageEndTag).error == .truncated)
        #expect(parse(head + "3\r\nabcX", .connectionClose).error == .badChunk(.missingCRLFAfterData))
    }

    @Test func headOnlyPolicy() {
        let out = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;echo;trail\r\necho\r\n", .none)
        #expect(out.response?.body == [])
        #expect(out.unconsumed == b("4;echo;trail\r\necho\r\n"))
    }

    @Test func headIsAvailableForAnErrorStatus() throws {
        var parser = HTTPResponseParser(bodyEnd: .armsMessageEndTag)
        #expect(try parser.feed(b("HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"\"\r\n\r\n<html>")) == nil)
        #expect(parser.head?.status.code == 401)
    }

    @Test func lineLimitIsLibarms1023IncludingTheEnding() {
        let name = "X: "
        let ok = name + String(repeating: "a", count: 1023 - name.count - 2)
        #expect(parse("HTTP/1.0 200 OK\r\n" + ok + "\r\n\r\n", .none).error == nil)
        #expect(parse("HTTP/1.0 200 OK\r\n" + ok + "a\r\n\r\n", .none).error == .lineTooLong(limit: 1023))
        #expect(parse("HTTP/1.0 200 OK\r\n" + ok + "\n\r\n", .none).error == nil)
        #expect(parse("HTTP/1.0 200 OK\r\n" + String(repeating: "a", count: 2000), .none, close: false).error == .lineTooLong(limit: 1023))
    }

    @Test func headLimit() {
        let limits = HTTPLimits(maxLineLength: 100, maxHeadLength: 40)
        #expect(parse("HTTP/1.0 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", .none, limits: limits).error == nil)
        #expect(parse("HTTP/1.0 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", .none, limits: limits).error == .headTooLong(limit: 40))
    }

    @Test func bodyLimits() {
        let limits = HTTPLimits(maxLineLength: 1023, maxBodyLength: 20)
        #expect(parse("HTTP/1.0 200 OK\r\nContent-Length: 21\r\n\r\n", .contentLength, limits: limits).error == .bodyTooLong(limit: 20))
        #expect(parse("HTTP/1.0 200 OK\r\n\r\n" + String(repeating: "x", count: 21), .connectionClose, limits: limits).error == .bodyTooLong(limit: 20))
        #expect(parse("HTTP/1.0 200 OK\r\n\r\n" + String(repeating: "x", count: 21), .armsMessageEndTag, limits: limits).error == .bodyTooLong(limit: 20))
        // A tag that ends past the limit is too late, however the bytes arrive.
        #expect(parse("HTTP/1.0 200 OK\r\n\r\n123456</arms-message>", .armsMessageEndTag, limits: limits).error == .bodyTooLong(limit: 20))
        #expect(parse("HTTP/1.0 200 OK\r\n\r\n12345</arms-message>tail", .armsMessageEndTag, limits: limits).response?.body.count == 20)
    }

    @Test func truncationAndMissingLength() {
        #expect(parse("HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabc", .contentLength).error == .truncated)
        #expect(parse("HTTP/1.0 200 OK\r\n\r\n<arms-message>", .armsMessageEndTag).error == .truncated)
        #expect(parse("HTTP/1.0 200 OK\r\nContent-Len", .connectionClose).error == .truncated)
        #expect(parse("", .connectionClose).error == .truncated)
        #expect(parse("HTTP/1.0 200 OK\r\n\r\nabc", .contentLength).error == .missingContentLength)
        #expect(parse("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", .contentLength).response?.body == [])
    }

    @Test func errorsAreFinal() {
        var parser = HTTPResponseParser(bodyEnd: .contentLength)
        #expect(throws: HTTPParseError.malformedStatusLine("")) { try parser.feed(b("\r\nHTTP/1.0 200 OK\r\n")) }
        #expect(throws: HTTPParseError.malformedStatusLine("")) { try parser.finish() }
    }
}
