import Testing
@testable import ARMSProtocol

private func b(_ s: String) -> [UInt8] { Array(s.utf8) }

private func decodeAll(_ s: String, _ options: TunnelChunkDecoder.Options = .init()) -> TransportTestKit.DecoderOutcome {
    TransportTestKit.decode([b(s)[...]], options: options)
}

private func assembleAll(_ s: String, options: TunnelChunkDecoder.Options = .init(),
                         limits: TunnelMessageAssembler.Limits = .init()) -> TransportTestKit.AssemblerOutcome {
    TransportTestKit.assemble([b(s)[...]], options: options, limits: limits)
}

@Suite struct TunnelChunkHeaderTests {
    @Test func parsesSizeAndExtensions() throws {
        let h = try TunnelChunkHeader(parsing: b("13b;id=2122564810;trail"))
        #expect(h.size == 0x13b)
        #expect(h.extensions == [.id(2122564810), .trail])
        #expect(h.id == 2122564810)
        #expect(h.isTrail && !h.isEchoRequest && !h.isEchoReply)
    }

    @Test func recognisesEchoTokens() throws {
        #expect(try TunnelChunkHeader(parsing: b("4;echo-request;trail")).isEchoRequest)
        #expect(try TunnelChunkHeader(parsing: b("4;echo-response;trail")).isEchoReply)
        #expect(try TunnelChunkHeader(parsing: b("4;echo;trail")).isEchoReply)
        #expect(try TunnelChunkHeader(parsing: b("4;echo")).extensions == [.echo])
        #expect(try !TunnelChunkHeader(parsing: b("4;echo-request")).isEchoReply)
        // Case-sensitive, as libarms compares tokens exactly.
        #expect(try TunnelChunkHeader(parsing: b("4;Trail;ECHO")).extensions == [.other("Trail"), .other("ECHO")])
    }

    @Test func keepsUnknownTokensAndReencodesThem() throws {
        let h = try TunnelChunkHeader(parsing: b("01A;foo=bar;id=3;;trail;"))
        #expect(h.size == 26)
        #expect(h.extensions == [.other("foo=bar"), .id(3), .other(""), .trail, .other("")])
        #expect(h.encoded() == b("1a;foo=bar;id=3;;trail;\r\n"))
    }

    @Test func idZeroAndLeadingZerosAndMaximum() throws {
        #expect(try TunnelChunkHeader(parsing: b("1;id=0")).id == 0)
        #expect(try TunnelChunkHeader(parsing: b("1;id=007")).id == 7)
        #expect(try TunnelChunkHeader(parsing: b("1;id=4294967295")).id == UInt32.max)
        #expect(try TunnelChunkHeader(parsing: b("1;trail")).id == nil)
    }

    @Test(arguments: ["", "x", " 4", "4 ", "+4", "-1", "4\t", "0x4", "g"])
    func badSize(text: String) {
        #expect(throws: TunnelFramingError.badChunkSize(text)) { try TunnelChunkHeader(parsing: b(text)) }
        #expect(throws: TunnelFramingError.badChunkSize(text)) { try TunnelChunkHeader(parsing: b(text + ";trail")) }
    }

    @Test(arguments: ["", "abc", "12a", "-1", " 1", "4294967296", "99999999999999999999", "1.0"])
    func badID(value: String) {
        #expect(throws: TunnelFramingError.badID(value)) { try TunnelChunkHeader(parsing: b("4;id=" + value + ";trail")) }
    }

    @Test func sizeLimit() throws {
        #expect(try TunnelChunkHeader(parsing: b("10"), maxSize: 16).size == 16)
        #expect(throws: TunnelFramingError.chunkTooLarge(size: "11", limit: 16)) { try TunnelChunkHeader(parsing: b("11"), maxSize: 16) }
        #expect(throws: TunnelFramingError.chunkTooLarge(size: "00000000000000000000011", limit: 16)) {
            try TunnelChunkHeader(parsing: b("00000000000000000000011"), maxSize: 16)
        }
        #expect(throws: TunnelFramingError.chunkTooLarge(size: "10000000000000000", limit: Int.max)) {
            try TunnelChunkHeader(parsing: b("10000000000000000"))
        }
        // A bad digit is reported as such even past the limit.
        #expect(throws: TunnelFramingError.badChunkSize("111z")) { try TunnelChunkHeader(parsing: b("111z"), maxSize: 16) }
    }

    @Test func encodesLowerCaseHexWithoutLeadingZeros() {
        #expect(TunnelChunkHeader(size: 0).encoded() == b("0\r\n"))
        #expect(TunnelChunkHeader(size: 10).encoded() == b("a\r\n"))
        #expect(TunnelChunkHeader(size: 255, extensions: [.id(1)]).encoded() == b("ff;id=1\r\n"))
        #expect(TunnelChunkHeader(size: 4096).encoded() == b("1000\r\n"))
        #expect(TunnelChunkHeader(size: 0xABCDEF, extensions: [.echoResponse, .echo, .echoRequest, .trail]).encoded()
            == b("abcdef;echo-response;echo;echo-request;trail\r\n"))
    }
}

@Suite struct TunnelChunkEncoderTests {
    @Test func singlePieceMessage() {
        #expect(TunnelChunkEncoder.message([b("hello")], id: 42) == b("5;id=42;trail\r\nhello\r\n"))
    }

    @Test func multiPieceMessageSkipsEmptyPieces() {
        #expect(TunnelChunkEncoder.message([b("a"), [], b("bc"), []], id: 9)
            == b("1;id=9\r\na\r\n2;id=9;trail\r\nbc\r\n"))
        #expect(TunnelChunkEncoder.message([[], []], id: 9) == [])
        #expect(TunnelChunkEncoder.message([], id: 9) == [])
    }

    @Test func singleChunkWithAndWithoutID() {
        #expect(TunnelChunkEncoder.singleChunk(b("xyz"), id: 1) == b("3;id=1;trail\r\nxyz\r\n"))
        #expect(TunnelChunkEncoder.singleChunk(b("xyz"), id: nil) == b("3;trail\r\nxyz\r\n"))
        let big = [UInt8](repeating: 0x41, count: 0x1fff)
        #expect(TunnelChunkEncoder.singleChunk(big, id: 5).prefix(11) == b("1fff;id=5;t")[...])
    }

    @Test func fixedChunks() {
        #expect(TunnelChunkEncoder.echoRequest == b("4;echo-request;trail\r\necho\r\n"))
        #expect(TunnelChunkEncoder.echoRequest.count == 28)
        #expect(TunnelChunkEncoder.echoReply == b("4;echo-response;trail\r\necho\r\n"))
        #expect(TunnelChunkEncoder.lastChunk == b("0\r\n\r\n"))
    }

    @Test func chunkEncodingRoundTrips() {
        let chunk = TunnelChunk(data: b("<x/>"), extensions: [.id(3), .other("z"), .trail])
        #expect(chunk.header.size == 4)
        #expect(chunk.encoded() == b("4;id=3;z;trail\r\n<x/>\r\n"))
        #expect(decodeAll("4;id=3;z;trail\r\n<x/>\r\n").events == [.chunk(chunk)])
        #expect(TunnelChunk(data: []).encoded() == TunnelChunkEncoder.lastChunk)
    }
}

@Suite struct TunnelChunkDecoderTests {
    @Test func decodesChunksAndEnd() {
        let out = decodeAll("3;id=1\r\nabc\r\n2;id=1;trail\r\nde\r\n0\r\n\r\n")
        #expect(out.error == nil)
        #expect(out.events == [
            .chunk(TunnelChunk(data: b("abc"), extensions: [.id(1)])),
            .chunk(TunnelChunk(data: b("de"), extensions: [.id(1), .trail])),
            .endOfStream,
        ])
    }

    @Test func dataMayContainCRLFAndAnyByte() throws {
        let data: [UInt8] = [0x0D, 0x0A, 0x00, 0xFF, 0x0D, 0x0A]
        var decoder = TunnelChunkDecoder()
        decoder.feed(b("6\r\n") + data + b("\r\n"))
        #expect(try decoder.next() == .chunk(TunnelChunk(data: data)))
        #expect(try decoder.next() == nil)
        #expect(!decoder.isFinished)
    }

    @Test func reportsNothingUntilTheChunkIsComplete() throws {
        var decoder = TunnelChunkDecoder()
        decoder.feed(b("4;trail\r\necho"))
        #expect(try decoder.next() == nil)
        decoder.feed(b("\r"))
        #expect(try decoder.next() == nil)
        decoder.feed(b("\n"))
        #expect(try decoder.next() == .chunk(TunnelChunk(data: b("echo"), extensions: [.trail])))
    }

    @Test func sizeZeroWithExtensionsEndsTheStream() {
        #expect(decodeAll("0;id=5;trail\r\n\r\n").events == [.endOfStream])
    }

    @Test func headerLengthLimitCountsBytesBeforeCRLF() {
        let exact = "1;" + String(repeating: "x", count: 253)   // 255 bytes
        #expect(decodeAll(exact + "\r\nA\r\n").error == nil)
        #expect(decodeAll(exact + "x\r\nA\r\n").error == .headerTooLong(limit: 255))
        // Reported as soon as the limit is passed, without waiting for the line end.
        #expect(decodeAll(String(repeating: "1", count: 256)).error == .headerTooLong(limit: 255))
        #expect(decodeAll(String(repeating: "1", count: 255)).error == nil)
        #expect(decodeAll("1;xxxxxx\r\nA\r\n", .init(maxHeaderLength: 8)).error == nil)
        #expect(decodeAll("1;xxxxxxx\r\nA\r\n", .init(maxHeaderLength: 8)).error == .headerTooLong(limit: 8))
    }

    @Test func chunkSizeLimit() {
        let options = TunnelChunkDecoder.Options(maxChunkSize: 8191)
        #expect(decodeAll("1fff\r\n" + String(repeating: "a", count: 8191) + "\r\n", options).error == nil)
        #expect(decodeAll("2000\r\n", options).error == .chunkTooLarge(size: "2000", limit: 8191))
        #expect(decodeAll("100001\r\n").error == .chunkTooLarge(size: "100001", limit: 1 << 20))
    }

    @Test func missingCRLFAfterData() {
        #expect(decodeAll("4\r\nechoXY").error == .missingCRLFAfterData)
        #expect(decodeAll("4\r\necho\rX").error == .missingCRLFAfterData)
        #expect(decodeAll("4\r\necho\n\r").error == .missingCRLFAfterData)
    }

    @Test func crInsideTheHeaderIsContent() {
        #expect(decodeAll("4\r;trail\r\necho\r\n").error == .badChunkSize("4\r"))
        #expect(decodeAll("4;a\rb\r\necho\r\n").events == [.chunk(TunnelChunk(data: b("echo"), extensions: [.other("a\rb")]))])
    }

    @Test func errorsAreFinal() {
        var decoder = TunnelChunkDecoder()
        decoder.feed(b("zz\r\n"))
        #expect(throws: TunnelFramingError.badChunkSize("zz")) { try decoder.next() }
        decoder.feed(TunnelChunkEncoder.echoRequest)
        #expect(throws: TunnelFramingError.badChunkSize("zz")) { try decoder.next() }
    }

    @Test func strictDecoderSeesTheLibarmsDefectAsABrokenEnd() {
        // tunnel.md §4.2: the SA wrote only `0;id=N;trail\r\n`, then went on.
        let stream = "0;id=77;trail\r\n" + "4;id=78;trail\r\nabcd\r\n"
        #expect(decodeAll(stream).error == .missingCRLFAfterLastChunk)
        #expect(decodeAll(stream).events == [])
    }

    @Test func tolerantDecoderReadsTheDefectAsAnEmptyPiece() {
        let tolerant = TunnelChunkDecoder.Options(toleratesEmptyFinalPieceDefect: true)
        let out = decodeAll("0;id=77;trail\r\n4;id=78;trail\r\nabcd\r\n0\r\n\r\n", tolerant)
        #expect(out.error == nil)
        #expect(out.events == [
            .chunk(TunnelChunk(data: [], extensions: [.id(77), .trail])),
            .chunk(TunnelChunk(data: b("abcd"), extensions: [.id(78), .trail])),
            .endOfStream,
        ])
        // Without id= a size-0 chunk still ends the stream.
        #expect(decodeAll("0;trail\r\n\r\n", tolerant).events == [.endOfStream])
    }
}

@Suite struct TunnelMessageAssemblerTests {
    @Test func groupsByIDAndEndsAtTrail() {
        let out = assembleAll("1;id=5\r\na\r\n1;id=6\r\nx\r\n1;id=5;trail\r\nb\r\n1;id=6;trail\r\ny\r\n")
        #expect(out.error == nil)
        #expect(out.events == [
            .message(TunnelMessage(id: 5, pieces: [b("a"), b("b")])),
            .message(TunnelMessage(id: 6, pieces: [b("x"), b("y")])),
        ])
        if case .message(let m) = out.events.first { #expect(m.data == b("ab")) }
    }

    @Test func messageStaysOpenUntilTrail() {
        let out = assembleAll("1;id=5\r\na\r\n1;id=6\r\nx\r\n")
        #expect(out.events == [])
        #expect(out.inFlight == [5, 6])
    }

    @Test func chunkWithoutIDIsAMessageOnItsOwn() {
        let out = assembleAll("3\r\nabc\r\n3;trail\r\ndef\r\n3;id=0\r\nghi\r\n")
        #expect(out.events == [
            .message(TunnelMessage(id: nil, pieces: [b("abc")])),
            .message(TunnelMessage(id: nil, pieces: [b("def")])),
            .message(TunnelMessage(id: 0, pieces: [b("ghi")])),
        ])
        #expect(out.inFlight == [])
    }

    @Test func echoesAreSeparateEventsEvenInsideAMessage() {
        let out = assembleAll("1;id=5\r\na\r\n" + "4;echo-request;trail\r\necho\r\n" + "4;echo-response;trail\r\necho\r\n"
            + "4;echo;trail\r\necho\r\n" + "4;echo;id=5\r\nzzzz\r\n" + "1;id=5;trail\r\nb\r\n" + "0\r\n\r\n")
        #expect(out.events == [
            .echoRequest, .echoReply, .echoReply, .echoReply,
            .message(TunnelMessage(id: 5, pieces: [b("a"), b("b")])),
            .endOfStream,
        ])
    }

    @Test func idCanBeReusedAfterTheMessageEnded() {
        let out = assembleAll("1;id=5;trail\r\na\r\n1;id=5;trail\r\nb\r\n")
        #expect(out.events == [
            .message(TunnelMessage(id: 5, pieces: [b("a")])),
            .message(TunnelMessage(id: 5, pieces: [b("b")])),
        ])
    }

    @Test func messageSizeLimit() {
        let limits = TunnelMessageAssembler.Limits(maxMessageSize: 10)
        #expect(assembleAll("5;id=1\r\n12345\r\n5;id=1;trail\r\n67890\r\n", limits: limits).error == nil)
        let over = assembleAll("5;id=1\r\n12345\r\n6;id=1;trail\r\n678901\r\n", limits: limits)
        #expect(over.error == .messageTooLarge(id: 1, limit: 10))
        #expect(assembleAll("b;trail\r\n12345678901\r\n", limits: limits).error == .messageTooLarge(id: nil, limit: 10))
        #expect(assembleAll("b;id=0\r\n12345678901\r\n", limits: limits).error == .messageTooLarge(id: 0, limit: 10))
    }

    @Test func messagesInFlightLimit() {
        let limits = TunnelMessageAssembler.Limits(maxMessagesInFlight: 2)
        let open2 = "1;id=1\r\na\r\n1;id=2\r\nb\r\n"
        // A single-chunk message never counts as in flight.
        #expect(assembleAll(open2 + "1;id=3;trail\r\nc\r\n", limits: limits).error == nil)
        // Continuing an open message is fine.
        #expect(assembleAll(open2 + "1;id=2\r\nc\r\n", limits: limits).error == nil)
        #expect(assembleAll(open2 + "1;id=3\r\nc\r\n", limits: limits).error == .tooManyMessagesInFlight(limit: 2))
        // Finishing one frees a slot.
        #expect(assembleAll(open2 + "1;id=1;trail\r\nz\r\n1;id=3\r\nc\r\n", limits: limits).error == nil)
    }

    @Test func defectChunkEndsItsMessage() {
        let tolerant = TunnelChunkDecoder.Options(toleratesEmptyFinalPieceDefect: true)
        let out = assembleAll("3;id=9\r\nabc\r\n0;id=9\r\n", options: tolerant)
        #expect(out.events == [.message(TunnelMessage(id: 9, pieces: [b("abc"), []]))])
        #expect(out.inFlight == [])
    }

    @Test func decoderErrorsPassThroughAndAreFinal() throws {
        var assembler = TunnelMessageAssembler()
        assembler.feed(b("3;trail\r\nabc\r\n3;id=x\r\n"))
        #expect(try assembler.next() == .message(TunnelMessage(id: nil, pieces: [b("abc")])))
        #expect(throws: TunnelFramingError.badID("x")) { try assembler.next() }
        assembler.feed(TunnelChunkEncoder.echoRequest)
        #expect(throws: TunnelFramingError.badID("x")) { try assembler.next() }
    }
}
