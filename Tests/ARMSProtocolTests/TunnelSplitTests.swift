import Foundation
import Testing
@testable import ARMSProtocol

/// Helpers shared by the HTTP and tunnel tests: fixtures, seeded splitting, and
/// runners that record what a decoder produced for one way of splitting its input.
enum TransportTestKit {
    static let fixturesDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: fixturesDirectory.appendingPathComponent(name)))
    }

    static func fixtureNames(withExtension ext: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: fixturesDirectory.path)
            .filter { $0.hasSuffix("." + ext) }.sorted()
    }

    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    /// SplitMix64: a small deterministic generator for reproducible random splits.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E4B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Every split plan the tests use, as lists of cut positions: all at once,
    /// one byte at a time, every two-way split, and `randomCount` seeded random splits.
    static func splitPlans(count n: Int, randomCount: Int = 40, seed: UInt64 = 0xA125) -> [[Int]] {
        var plans: [[Int]] = [[], Array(0...n)]
        if n > 1 { plans += (1..<n).map { [$0] } }
        var rng = SeededGenerator(state: seed &+ UInt64(n))
        for _ in 0..<randomCount where n > 1 {
            let cuts = Int.random(in: 1...min(n - 1, 24), using: &rng)
            plans.append(Set((0..<cuts).map { _ in Int.random(in: 1..<n, using: &rng) }).sorted())
        }
        return plans
    }

    static func pieces(_ input: [UInt8], cuts: [Int]) -> [ArraySlice<UInt8>] {
        var out = [ArraySlice<UInt8>]()
        var start = 0
        for c in cuts where c >= start && c <= input.count {
            out.append(input[start..<c])
            start = c
        }
        out.append(input[start...])
        return out
    }

    /// Runs `run` on every split plan and checks that all give the result of the
    /// unsplit input, which is returned.
    static func sameForEverySplit<R: Equatable>(_ input: [UInt8], randomCount: Int = 40,
                                                sourceLocation: SourceLocation = #_sourceLocation,
                                                _ run: ([ArraySlice<UInt8>]) -> R) -> R {
        let reference = run([input[...]])
        var mismatches = 0
        for plan in splitPlans(count: input.count, randomCount: randomCount) {
            let result = run(pieces(input, cuts: plan))
            if result != reference {
                mismatches += 1
                if mismatches <= 3 {
                    Issue.record("split \(plan.prefix(12)) gave \(result), unsplit gave \(reference)",
                                 sourceLocation: sourceLocation)
                }
            }
        }
        #expect(mismatches == 0, sourceLocation: sourceLocation)
        return reference
    }

    struct DecoderOutcome: Equatable, CustomStringConvertible {
        var events: [TunnelChunkDecoder.Event] = []
        var error: TunnelFramingError?
        var description: String { "\(events.count) events, error \(String(describing: error))" }
    }

    static func decode(_ pieces: [ArraySlice<UInt8>], options: TunnelChunkDecoder.Options = .init()) -> DecoderOutcome {
        var decoder = TunnelChunkDecoder(options: options)
        var out = DecoderOutcome()
        do {
            for piece in pieces {
                decoder.feed(piece)
                while let e = try decoder.next() { out.events.append(e) }
            }
        } catch {
            out.error = error
        }
        return out
    }

    struct AssemblerOutcome: Equatable, CustomStringConvertible {
        var events: [TunnelEvent] = []
        var error: TunnelFramingError?
        var inFlight: [UInt32] = []
        var description: String { "\(events.count) events, error \(String(describing: error)), in flight \(inFlight)" }
    }

    static func assemble(_ pieces: [ArraySlice<UInt8>], options: TunnelChunkDecoder.Options = .init(),
                         limits: TunnelMessageAssembler.Limits = .init()) -> AssemblerOutcome {
        var assembler = TunnelMessageAssembler(decoderOptions: options, limits: limits)
        var out = AssemblerOutcome()
        do {
            for piece in pieces {
                assembler.feed(piece)
                while let e = try assembler.next() { out.events.append(e) }
            }
        } catch {
            out.error = error
        }
        out.inFlight = assembler.messageIDsInFlight
        return out
    }

    struct RequestOutcome: Equatable, CustomStringConvertible {
        var request: HTTPRequest?
        var unconsumed: [UInt8] = []
        var error: HTTPParseError?
        var description: String { "request \(request != nil), \(unconsumed.count) unconsumed, error \(String(describing: error))" }
    }

    static func parseRequest(_ pieces: [ArraySlice<UInt8>], limits: HTTPLimits = .server, readsBody: Bool = true) -> RequestOutcome {
        var parser = HTTPRequestParser(limits: limits, readsBody: readsBody)
        var out = RequestOutcome()
        do {
            for piece in pieces { out.request = try parser.feed(piece) }
        } catch {
            out.error = error
        }
        out.unconsumed = parser.unconsumed
        return out
    }

    struct ResponseOutcome: Equatable, CustomStringConvertible {
        var response: HTTPResponse?
        var unconsumed: [UInt8] = []
        var error: HTTPParseError?
        var description: String { "response \(response != nil), \(unconsumed.count) unconsumed, error \(String(describing: error))" }
    }

    /// Feeds every piece, then (if `close`) reports the connection closed.
    static func parseResponse(_ pieces: [ArraySlice<UInt8>], bodyEnd: HTTPResponseParser.BodyEnd,
                              limits: HTTPLimits = .libarmsClient, close: Bool = true) -> ResponseOutcome {
        var parser = HTTPResponseParser(bodyEnd: bodyEnd, limits: limits)
        var out = ResponseOutcome()
        do {
            for piece in pieces { out.response = try parser.feed(piece) }
            if close { out.response = try parser.finish() }
        } catch {
            out.error = error
        }
        out.unconsumed = parser.unconsumed
        return out
    }
}

/// Every decoder gives the same result however its input is split.
@Suite struct TunnelSplitTests {
    static let chunkFixtures = (try? TransportTestKit.fixtureNames(withExtension: "chunk")) ?? []
    static let httpFixtures = (try? TransportTestKit.fixtureNames(withExtension: "http")) ?? []

    @Test func splitPlansCoverWhatTheyClaim() {
        let plans = TransportTestKit.splitPlans(count: 5, randomCount: 3)
        #expect(plans.contains([]))
        #expect(plans.contains([0, 1, 2, 3, 4, 5]))
        for k in 1..<5 { #expect(plans.contains([k])) }
        #expect(plans.count == 2 + 4 + 3)
        let input: [UInt8] = [1, 2, 3, 4, 5]
        for plan in plans {
            #expect(Array(TransportTestKit.pieces(input, cuts: plan).joined()) == input)
        }
        #expect(TransportTestKit.pieces(input, cuts: [0, 1, 2, 3, 4, 5]).count == 7)
    }

    @Test func fixturesArePresent() {
        #expect(Self.chunkFixtures.count == 22)
        #expect(Self.httpFixtures.count == 8)
    }

    @Test(arguments: chunkFixtures)
    func chunkDecoderOnFixture(name: String) throws {
        let input = try TransportTestKit.fixture(name)
        let outcome = TransportTestKit.sameForEverySplit(input) { TransportTestKit.decode($0) }
        #expect(outcome.error == nil)
        #expect(!outcome.events.isEmpty)
    }

    @Test(arguments: chunkFixtures)
    func assemblerOnFixture(name: String) throws {
        let input = try TransportTestKit.fixture(name)
        let outcome = TransportTestKit.sameForEverySplit(input) { TransportTestKit.assemble($0) }
        #expect(outcome.error == nil)
        #expect(outcome.inFlight.isEmpty)
        #expect(!outcome.events.isEmpty)
    }

    /// All chunk fixtures back to back form one valid stream (the close last).
    @Test func assemblerOnAllFixturesConcatenated() throws {
        var input = [UInt8]()
        for name in Self.chunkFixtures where name != "libarms-5.33-tunnel-close.chunk" {
            input += try TransportTestKit.fixture(name)
        }
        input += try TransportTestKit.fixture("libarms-5.33-tunnel-close.chunk")
        let outcome = TransportTestKit.sameForEverySplit(input, randomCount: 60) { TransportTestKit.assemble($0) }
        #expect(outcome.error == nil)
        #expect(outcome.events.count == 23) // 20 messages, the echo probe and its reply, the end
        #expect(outcome.events.last == .endOfStream)
    }

    @Test(arguments: [
        "libarms-5.33-ls-request.http", "libarms-5.33-rs-request.http",
        "libarms-5.33-method-query-request.http",
    ])
    func requestParserOnFixture(name: String) throws {
        let input = try TransportTestKit.fixture(name)
        let outcome = TransportTestKit.sameForEverySplit(input, randomCount: 20) { TransportTestKit.parseRequest($0) }
        #expect(outcome.error == nil)
        #expect(outcome.request != nil)
    }

    @Test func requestParserHeadOnlyOnTunnelOpen() throws {
        let input = try TransportTestKit.fixture("libarms-5.33-tunnel-open-request.http")
            + TransportTestKit.fixture("libarms-5.33-confirm-start-request.chunk")
        let outcome = TransportTestKit.sameForEverySplit(input) { TransportTestKit.parseRequest($0, readsBody: false) }
        #expect(outcome.request?.body == [])
        #expect(outcome.unconsumed == (try TransportTestKit.fixture("libarms-5.33-confirm-start-request.chunk")))
    }

    @Test(arguments: [
        ("mock-accepted-ls-response.http", HTTPResponseParser.BodyEnd.contentLength),
        ("mock-accepted-ls-response.http", .armsMessageEndTag),
        ("mock-accepted-ls-response.http", .connectionClose),
        ("mock-accepted-rs-response.http", .contentLength),
        ("mock-accepted-rs-response.http", .armsMessageEndTag),
        ("mock-accepted-method-query-response.http", .armsMessageEndTag),
        ("mock-accepted-method-query-response.http", .connectionClose),
        ("mock-accepted-tunnel-open-response.http", .none),
    ])
    func responseParserOnFixture(name: String, bodyEnd: HTTPResponseParser.BodyEnd) throws {
        let input = try TransportTestKit.fixture(name)
        let outcome = TransportTestKit.sameForEverySplit(input, randomCount: 20) {
            TransportTestKit.parseResponse($0, bodyEnd: bodyEnd)
        }
        #expect(outcome.error == nil)
        #expect(outcome.response?.head.status.code == 200)
    }

    /// Bad inputs fail the same way however they are split, and what came
    /// before the fault is still delivered.
    @Test(arguments: [
        ("4x;trail\r\n", TunnelFramingError.badChunkSize("4x")),
        ("5;id=2\r\nabcdefg", .missingCRLFAfterData),
        ("4;id=12z\r\n", .badID("12z")),
        ("4;trail\nabcd\r\n", .headerNotTerminatedByCRLF),
        ("0\r\nX", .missingCRLFAfterLastChunk),
        ("0\r\n\r\nextra", .dataAfterEndOfStream),
        (String(repeating: "a", count: 300) + "\r\n", .headerTooLong(limit: 255)),
        ("fffffffffffffffffffffff\r\n", .chunkTooLarge(size: "fffffffffffffffffffffff", limit: 1 << 20)),
    ])
    func decoderErrorsAreSplitInvariant(bad: String, error: TunnelFramingError) {
        let good = "4;id=1;trail\r\nabcd\r\n"
        let outcome = TransportTestKit.sameForEverySplit(TransportTestKit.bytes(good + bad)) { TransportTestKit.decode($0) }
        #expect(outcome.error == error)
        var expected: [TunnelChunkDecoder.Event] = [.chunk(TunnelChunk(data: TransportTestKit.bytes("abcd"), extensions: [.id(1), .trail]))]
        if error == .dataAfterEndOfStream { expected.append(.endOfStream) }
        #expect(outcome.events == expected)
    }

    @Test func tolerantDecoderIsSplitInvariant() {
        let input = TransportTestKit.bytes("0;id=77;trail\r\n4;id=78;trail\r\nabcd\r\n0\r\n\r\n")
        let outcome = TransportTestKit.sameForEverySplit(input) {
            TransportTestKit.assemble($0, options: .init(toleratesEmptyFinalPieceDefect: true))
        }
        #expect(outcome.events == [
            .message(TunnelMessage(id: 77, pieces: [[]])),
            .message(TunnelMessage(id: 78, pieces: [TransportTestKit.bytes("abcd")])),
            .endOfStream,
        ])
    }

    @Test func assemblerLimitErrorsAreSplitInvariant() {
        let input = TransportTestKit.bytes("3;id=1\r\nabc\r\n3;id=2\r\ndef\r\n4;echo-request;trail\r\necho\r\n3;id=3\r\nghi\r\n")
        let outcome = TransportTestKit.sameForEverySplit(input) {
            TransportTestKit.assemble($0, limits: .init(maxMessagesInFlight: 2))
        }
        #expect(outcome.events == [.echoRequest])
        #expect(outcome.error == .tooManyMessagesInFlight(limit: 2))
    }
}
