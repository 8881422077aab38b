import Foundation
import Testing
@testable import ARMSProtocol

/// What each `.chunk` fixture must decode to.
private enum Expected: Equatable, CustomStringConvertible {
    /// A message: its id, how many chunks, the `type` attribute of its arms-request/arms-response.
    case message(id: UInt32, chunks: Int, type: String)
    case echoRequest
    case echoReply
    case end

    var description: String {
        switch self {
        case .message(let id, let n, let t): return "message id=\(id) chunks=\(n) type=\(t)"
        case .echoRequest: return "echo request"
        case .echoReply: return "echo reply"
        case .end: return "end"
        }
    }
}

private let expectations: [String: [Expected]] = [
    "libarms-5.33-check-transaction-response.chunk": [.message(id: 115098231, chunks: 1, type: "check-transaction")],
    "libarms-5.33-configure-done-request.chunk": [.message(id: 1918947774, chunks: 1, type: "configure-done")],
    "libarms-5.33-configure-start-response.chunk": [.message(id: 155554706, chunks: 1, type: "configure-start")],
    "libarms-5.33-confirm-done-response.chunk": [.message(id: 573043060, chunks: 1, type: "push-confirmation-done")],
    "libarms-5.33-confirm-start-request.chunk": [.message(id: 2122564810, chunks: 1, type: "push-confirmation-start")],
    "libarms-5.33-echo-request.chunk": [.echoRequest],
    "libarms-5.33-md-command-response.chunk": [.message(id: 426006085, chunks: 3, type: "md-command")],
    "libarms-5.33-ping-done-request.chunk": [.message(id: 178291508, chunks: 1, type: "ping-done")],
    "libarms-5.33-ping-start-response.chunk": [.message(id: 1496148329, chunks: 1, type: "ping-start")],
    "libarms-5.33-read-module-list-response.chunk": [.message(id: 1148725024, chunks: 1, type: "read-module-list")],
    "libarms-5.33-read-status-done-request.chunk": [.message(id: 1155023129, chunks: 6, type: "read-status-done")],
    "libarms-5.33-read-status-start-response.chunk": [.message(id: 1691362468, chunks: 1, type: "read-status-start")],
    "libarms-5.33-reboot-response.chunk": [.message(id: 194584995, chunks: 1, type: "reboot")],
    "libarms-5.33-tunnel-close.chunk": [.end],
    "mock-accepted-configure-done-response.chunk": [.message(id: 9, chunks: 1, type: "configure-done")],
    "mock-accepted-configure-start-request.chunk": [.message(id: 8, chunks: 1, type: "configure-start")],
    "mock-accepted-confirm.chunk": [
        .message(id: 1, chunks: 1, type: "push-confirmation-start"),
        .message(id: 2, chunks: 1, type: "push-confirmation-done"),
    ],
    "mock-accepted-echo-response.chunk": [.echoReply],
    "mock-accepted-md-command-request.chunk": [.message(id: 7, chunks: 1, type: "md-command")],
    "mock-accepted-read-status-done-response.chunk": [.message(id: 13, chunks: 1, type: "read-status-done")],
    "mock-accepted-read-status-start-request.chunk": [.message(id: 12, chunks: 1, type: "read-status-start")],
    "mock-accepted-reboot-request.chunk": [.message(id: 14, chunks: 1, type: "reboot")],
]

private func b(_ s: String) -> [UInt8] { Array(s.utf8) }

private func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
    ByteText.firstRange(of: b(needle), in: haystack) != nil
}

private func assemble(_ bytes: [UInt8]) -> TransportTestKit.AssemblerOutcome {
    TransportTestKit.assemble([bytes[...]])
}

/// Re-encodes events with the ids they carried.
private func reencode(_ events: [TunnelEvent]) -> [UInt8] {
    var out = [UInt8]()
    for event in events {
        switch event {
        case .message(let m): out += TunnelChunkEncoder.message(m.pieces, id: m.id!)
        case .echoRequest: out += TunnelChunkEncoder.echoRequest
        case .echoReply: out += TunnelChunkEncoder.echoReply
        case .endOfStream: out += TunnelChunkEncoder.lastChunk
        }
    }
    return out
}

@Suite struct TunnelFixtureTests {
    static let names = (try? TransportTestKit.fixtureNames(withExtension: "chunk")) ?? []

    @Test func everyChunkFixtureHasAnExpectation() {
        #expect(Set(Self.names) == Set(expectations.keys))
    }

    @Test(arguments: names)
    func decodesToTheExpectedMessages(name: String) throws {
        let bytes = try TransportTestKit.fixture(name)
        let out = assemble(bytes)
        #expect(out.error == nil)
        #expect(out.inFlight.isEmpty)
        var got = [Expected]()
        for event in out.events {
            switch event {
            case .echoRequest: got.append(.echoRequest)
            case .echoReply: got.append(.echoReply)
            case .endOfStream: got.append(.end)
            case .message(let m):
                let data = m.data
                #expect(data.starts(with: b("<arms-message><arms-re")))
                #expect(data.reversed().starts(with: b("</arms-message>").reversed()))
                let type = ["request", "response"].compactMap { kind -> String? in
                    let open = b("<arms-\(kind) type=\"")
                    guard let at = ByteText.firstRange(of: open, in: data) else { return nil }
                    let rest = data[(at + open.count)...]
                    return String(decoding: rest.prefix { $0 != UInt8(ascii: "\"") }, as: UTF8.self)
                }.first ?? "?"
                got.append(.message(id: m.id ?? 0, chunks: m.pieces.count, type: type))
            }
        }
        #expect(got == expectations[name])
    }

    @Test(arguments: names)
    func chunksReencodeByteForByte(name: String) throws {
        let bytes = try TransportTestKit.fixture(name)
        let out = TransportTestKit.decode([bytes[...]])
        #expect(out.error == nil)
        var again = [UInt8]()
        for event in out.events {
            switch event {
            case .chunk(let c):
                #expect(c.header.size == c.data.count)
                #expect(c.header.isTrail || c.header.id != nil)
                again += c.encoded()
            case .endOfStream:
                again += TunnelChunkEncoder.lastChunk
            }
        }
        #expect(again == bytes)
    }

    @Test(arguments: names)
    func messagesReencodeByteForByteGivenTheirIDs(name: String) throws {
        let bytes = try TransportTestKit.fixture(name)
        #expect(reencode(assemble(bytes).events) == bytes)
    }

    /// RS-style single chunks: the mock answers are exactly `singleChunk(data, id:)`.
    @Test(arguments: names.filter { $0.hasPrefix("mock-accepted-") && !$0.contains("echo") })
    func mockMessagesAreSingleChunks(name: String) throws {
        let bytes = try TransportTestKit.fixture(name)
        var again = [UInt8]()
        for case .message(let m) in assemble(bytes).events {
            again += TunnelChunkEncoder.singleChunk(m.data, id: m.id)
        }
        #expect(again == bytes)
    }

    @Test func mdCommandResponsePieces() throws {
        let out = assemble(try TransportTestKit.fixture("libarms-5.33-md-command-response.chunk"))
        guard case .message(let m) = out.events.first else { Issue.record("no message"); return }
        #expect(m.pieces.map(\.count) == [0x96, 0x16, 0x41])
        #expect(m.pieces[1] == b("md_command(id=0): done"))
        #expect(m.pieces[0].reversed().starts(with: b("<md-result id=\"0\">").reversed()))
    }

    @Test func readStatusDonePieces() throws {
        let out = assemble(try TransportTestKit.fixture("libarms-5.33-read-status-done-request.chunk"))
        guard case .message(let m) = out.events.first else { Issue.record("no message"); return }
        #expect(m.pieces.map(\.count) == [0x11d, 0x3f, 0x10, 0x3f, 0x10, 0x39])
        #expect(m.pieces[2] == b("</status-report>") && m.pieces[4] == b("</status-report>"))
        #expect(contains(m.data, "<transaction-id>1469295367</transaction-id>"))
    }

    @Test func echoFixturesAreTheEncoderConstants() throws {
        #expect(try TransportTestKit.fixture("libarms-5.33-echo-request.chunk") == TunnelChunkEncoder.echoRequest)
        #expect(try TransportTestKit.fixture("mock-accepted-echo-response.chunk") == TunnelChunkEncoder.echoReply)
        #expect(try TransportTestKit.fixture("libarms-5.33-tunnel-close.chunk") == TunnelChunkEncoder.lastChunk)
    }
}

/// tunnel.md §14, byte for byte.
@Suite struct TunnelSpecExampleTests {
    static let distid = DistributionID("0001-0000-1234-0056-0000-0000-0000-0001")!
    static let credentials = BasicCredentials(distributionID: distid, key: "rs-secret")

    /// Reads the `0000  34 3b ...  text` hex dumps of the spec.
    static func hexDump(_ text: String) -> [UInt8] {
        var out = [UInt8]()
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst()
            for f in fields {
                guard f.count == 2, let v = UInt8(f, radix: 16) else { break }
                out.append(v)
            }
        }
        return out
    }

    @Test func open() {
        let request = TunnelHandshake.openRequest(path: "tunnel", host: "192.0.2.10", port: 443, credentials: Self.credentials)
        let expected = "POST /tunnel HTTP/1.1\r\nHost: 192.0.2.10:443\r\nConnection: close\r\nContent-Type: text/xml\r\n"
            + "Transfer-Encoding: chunked\r\n"
            + "Authorization: Basic MDAwMS0wMDAwLTEyMzQtMDA1Ni0wMDAwLTAwMDAtMDAwMC0wMDAxOnJzLXNlY3JldA==\r\n\r\n"
        #expect(request == b(expected))
        #expect(request.count == 209)
        #expect(TunnelHandshake.openResponse == b("HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n"))
        #expect(TunnelHandshake.openResponse.count == 71)
    }

    static let confirmStart = #"<arms-message><arms-request type="push-confirmation-start"><distribution-id>0001-0000-1234-0056-0000-0000-0000-0001</distribution-id><description>armsd</description><push-confirmation-start-request><push-method>https-tunnel</push-method></push-confirmation-start-request></arms-request></arms-message>"#
    static let confirmStartResponse = #"<arms-message><arms-response type="push-confirmation-start"><result-code>100</result-code><description>Success</description><transaction-id>70418033</transaction-id><push-confirmation-start-response></push-confirmation-start-response></arms-response></arms-message>"#
    static let confirmDoneRequest = #"<arms-message><arms-request type="push-confirmation-done"><distribution-id>0001-0000-1234-0056-0000-0000-0000-0001</distribution-id><transaction-id>70418033</transaction-id><push-confirmation-done-request></push-confirmation-done-request></arms-request></arms-message>"#
    static let confirmDoneResponse = #"<arms-message><arms-response type="push-confirmation-done"><transaction-id>70418033</transaction-id><result-code>100</result-code><description>Success</description><push-confirmation-done-response></push-confirmation-done-response></arms-response></arms-message>"#

    @Test func confirmation() throws {
        #expect(TunnelChunkEncoder.message([b(Self.confirmStart)], id: 1957747793)
            == b("12d;id=1957747793;trail\r\n" + Self.confirmStart + "\r\n"))
        let rs = TunnelChunkEncoder.singleChunk(b(Self.confirmStartResponse), id: 1)
            + TunnelChunkEncoder.singleChunk(b(Self.confirmDoneRequest), id: 2)
        #expect(rs == b("109;id=1;trail\r\n" + Self.confirmStartResponse + "\r\n10c;id=2;trail\r\n" + Self.confirmDoneRequest + "\r\n"))
        // The RS part is exactly what the client accepted.
        #expect(rs == (try TransportTestKit.fixture("mock-accepted-confirm.chunk")))
        #expect(TunnelChunkEncoder.message([b(Self.confirmDoneResponse)], id: 424238335)
            == b("106;id=424238335;trail\r\n" + Self.confirmDoneResponse + "\r\n"))
    }

    @Test func confirmationDataMatchesTheCaptureAfterSubstitution() throws {
        // §14: with the client's description and ids substituted, the SA data equals the capture.
        let captured = assemble(try TransportTestKit.fixture("libarms-5.33-confirm-start-request.chunk"))
        let expected = Self.confirmStart.replacingOccurrences(of: "armsd", with: "libarms Test Client")
        #expect(captured.events == [.message(TunnelMessage(id: 2122564810, pieces: [b(expected)]))])
        let done = assemble(try TransportTestKit.fixture("libarms-5.33-confirm-done-response.chunk"))
        #expect(done.events == [.message(TunnelMessage(id: 573043060, pieces: [b(Self.confirmDoneResponse)]))])
    }

    @Test func echo() {
        let probe = Self.hexDump("""
        0000  34 3b 65 63 68 6f 2d 72 65 71 75 65 73 74 3b 74  4;echo-request;t
        0010  72 61 69 6c 0d 0a 65 63 68 6f 0d 0a              rail..echo..
        """)
        let reply = Self.hexDump("""
        0000  34 3b 65 63 68 6f 2d 72 65 73 70 6f 6e 73 65 3b  4;echo-response;
        0010  74 72 61 69 6c 0d 0a 65 63 68 6f 0d 0a           trail..echo..
        """)
        #expect(probe.count == 28 && reply.count == 29)
        #expect(TunnelChunkEncoder.echoRequest == probe)
        #expect(TunnelChunkEncoder.echoReply == reply)
        #expect(assemble(probe + reply).events == [.echoRequest, .echoReply])
    }

    static let pingStart = #"<arms-message><arms-request type="ping-start"><distribution-id>0001-0000-1234-0056-0000-0000-0000-0001</distribution-id><ping-start-request><address>192.0.2.1</address><count>3</count><size>56</size></ping-start-request></arms-request></arms-message>"#
    static let pingStartResponse = #"<arms-message><arms-response type="ping-start"><transaction-id>1804289383</transaction-id><result-code>100</result-code><description>Success</description><ping-start-response></ping-start-response></arms-response></arms-message>"#
    static let pingDone = #"<arms-message><arms-request type="ping-done"><transaction-result>100</transaction-result><distribution-id>0001-0000-1234-0056-0000-0000-0000-0001</distribution-id><transaction-id>1804289383</transaction-id><description>armsd</description><ping-done-request><success>3</success><failure>0</failure></ping-done-request></arms-request></arms-message>"#
    static let pingDoneResponse = #"<arms-message><arms-response type="ping-done"><transaction-id>1804289383</transaction-id><result-code>100</result-code><description>Success</description></arms-response></arms-message>"#

    @Test func asyncPing() {
        #expect(TunnelChunkEncoder.singleChunk(b(Self.pingStart), id: 3) == b("fa;id=3;trail\r\n" + Self.pingStart + "\r\n"))
        #expect(TunnelChunkEncoder.message([b(Self.pingStartResponse)], id: 719885386)
            == b("e4;id=719885386;trail\r\n" + Self.pingStartResponse + "\r\n"))
        #expect(TunnelChunkEncoder.message([b(Self.pingDone)], id: 1649760492)
            == b("15b;id=1649760492;trail\r\n" + Self.pingDone + "\r\n"))
        let frame = Self.hexDump("""
        0000  62 38 3b 69 64 3d 35 39 36 35 31 36 36 34 39 3b  b8;id=596516649;
        0010  74 72 61 69 6c 0d 0a 3c 61 72 6d 73 2d 6d 65 73  trail..<arms-mes
        0020  73 61 67 65 3e 3c 61 72 6d 73 2d 72 65 73 70 6f  sage><arms-respo
        0030  6e 73 65 20 74 79 70 65 3d 22 70 69 6e 67 2d 64  nse type="ping-d
        0040  6f 6e 65 22 3e 3c 74 72 61 6e 73 61 63 74 69 6f  one"><transactio
        0050  6e 2d 69 64 3e 31 38 30 34 32 38 39 33 38 33 3c  n-id>1804289383<
        0060  2f 74 72 61 6e 73 61 63 74 69 6f 6e 2d 69 64 3e  /transaction-id>
        0070  3c 72 65 73 75 6c 74 2d 63 6f 64 65 3e 31 30 30  <result-code>100
        0080  3c 2f 72 65 73 75 6c 74 2d 63 6f 64 65 3e 3c 64  </result-code><d
        0090  65 73 63 72 69 70 74 69 6f 6e 3e 53 75 63 63 65  escription>Succe
        00a0  73 73 3c 2f 64 65 73 63 72 69 70 74 69 6f 6e 3e  ss</description>
        00b0  3c 2f 61 72 6d 73 2d 72 65 73 70 6f 6e 73 65 3e  </arms-response>
        00c0  3c 2f 61 72 6d 73 2d 6d 65 73 73 61 67 65 3e 0d  </arms-message>.
        00d0  0a                                               .
        """)
        #expect(frame.count == 209)
        #expect(TunnelChunkEncoder.singleChunk(b(Self.pingDoneResponse), id: 596516649) == frame)
        #expect(assemble(frame).events == [.message(TunnelMessage(id: 596516649, pieces: [b(Self.pingDoneResponse)]))])
    }

    static let mdCommand = #"<arms-message><arms-request type="md-command"><distribution-id>0001-0000-1234-0056-0000-0000-0000-0001</distribution-id><md-command-request><md-command id="0">show version</md-command></md-command-request></arms-request></arms-message>"#
    static let mdPieces = [
        #"<arms-message><arms-response type="md-command"><result-code>100</result-code><description>Success</description><md-command-response><md-result id="0">"#,
        "MA-E350 firmware 1.0\n",
        "</md-result></md-command-response></arms-response></arms-message>",
    ]

    @Test func syncMdCommand() throws {
        #expect(TunnelChunkEncoder.singleChunk(b(Self.mdCommand), id: 4) == b("eb;id=4;trail\r\n" + Self.mdCommand + "\r\n"))
        let reply = "96;id=1189641421\r\n" + Self.mdPieces[0] + "\r\n"
            + "15;id=1189641421\r\n" + Self.mdPieces[1] + "\r\n"
            + "41;id=1189641421;trail\r\n" + Self.mdPieces[2] + "\r\n"
        #expect(TunnelChunkEncoder.message(Self.mdPieces.map(b), id: 1189641421) == b(reply))
        #expect(assemble(b(reply)).events == [.message(TunnelMessage(id: 1189641421, pieces: Self.mdPieces.map(b)))])
        // First and last chunk data equal the capture's.
        let captured = assemble(try TransportTestKit.fixture("libarms-5.33-md-command-response.chunk"))
        guard case .message(let m) = captured.events.first else { Issue.record("no message"); return }
        #expect(m.pieces[0] == b(Self.mdPieces[0]) && m.pieces[2] == b(Self.mdPieces[2]))
    }

    @Test func orderlyClose() {
        #expect(TunnelChunkEncoder.lastChunk == b("0\r\n\r\n"))
        #expect(assemble(b("0\r\n\r\n")).events == [.endOfStream])
    }

    /// The whole §14 conversation, each direction as one stream.
    @Test func wholeConversationBothDirections() {
        let saToRS = TunnelChunkEncoder.message([b(Self.confirmStart)], id: 1957747793)
            + TunnelChunkEncoder.message([b(Self.confirmDoneResponse)], id: 424238335)
            + TunnelChunkEncoder.echoRequest
            + TunnelChunkEncoder.message([b(Self.pingStartResponse)], id: 719885386)
            + TunnelChunkEncoder.message([b(Self.pingDone)], id: 1649760492)
            + TunnelChunkEncoder.message(Self.mdPieces.map(b), id: 1189641421)
            + TunnelChunkEncoder.lastChunk
        let sa = TransportTestKit.sameForEverySplit(saToRS, randomCount: 30) { TransportTestKit.assemble($0) }
        #expect(sa.error == nil)
        #expect(sa.events == [
            .message(TunnelMessage(id: 1957747793, pieces: [b(Self.confirmStart)])),
            .message(TunnelMessage(id: 424238335, pieces: [b(Self.confirmDoneResponse)])),
            .echoRequest,
            .message(TunnelMessage(id: 719885386, pieces: [b(Self.pingStartResponse)])),
            .message(TunnelMessage(id: 1649760492, pieces: [b(Self.pingDone)])),
            .message(TunnelMessage(id: 1189641421, pieces: Self.mdPieces.map(b))),
            .endOfStream,
        ])
        let rsToSA = TunnelChunkEncoder.singleChunk(b(Self.confirmStartResponse), id: 1)
            + TunnelChunkEncoder.singleChunk(b(Self.confirmDoneRequest), id: 2)
            + TunnelChunkEncoder.echoReply
            + TunnelChunkEncoder.singleChunk(b(Self.pingStart), id: 3)
            + TunnelChunkEncoder.singleChunk(b(Self.pingDoneResponse), id: 596516649)
            + TunnelChunkEncoder.singleChunk(b(Self.mdCommand), id: 4)
        let rs = TransportTestKit.sameForEverySplit(rsToSA, randomCount: 30) { TransportTestKit.assemble($0) }
        #expect(rs.error == nil)
        #expect(rs.events.count == 6)
        #expect(rs.events[2] == .echoReply)
    }
}
