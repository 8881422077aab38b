import ARMSProtocol
import Foundation
@testable import MockCore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import Testing

/// The exchange server's fault primitives over real TLS: ARMS result codes, broken XML,
/// write modes (dribble, truncate, reset) and connection faults decided at accept.
@Suite struct ExchangeFaultTests {
    static let sa = MockFixture.rsRequestSA
    static let handlerAnswer = Array("0123456789abcdefghij".utf8)

    /// A server whose handler answers `handlerAnswer` and counts its calls.
    func makeServer(readTimeout: Duration = .seconds(30), journal: Journal, calls: LockedCounter = LockedCounter(),
                    fault: ExchangeFaultHook? = nil) -> ExchangeServer {
        ExchangeServer(configuration: ExchangeServerConfiguration(role: .rs, tls: .remoteServer, readTimeout: readTimeout),
                       journal: journal, faultHook: fault) { _ in
            calls.increment()
            return .http(contentType: "text/plain", body: Self.handlerAnswer,
                         facts: ExchangeFacts(sa: "SA", messageType: "echo", resultCode: 100, outcome: ExchangeOutcome.ok, detail: "echoed"))
        }
    }

    static var configSolicitation: [UInt8] { PullRequests.configSolicitation(sa, key: "rs-secret") }

    /// A TLS exchange with a server that will not complete it: what arrived, and whether it
    /// failed (a write on the already closed channel counts, it is a race with the close).
    static func failedAttempt(port: Int, send: [UInt8] = configSolicitation) async throws -> (received: [UInt8], error: (any Error)?) {
        do {
            let outcome = try await TestClient.exchange(port: port, tls: try TestClient.tls(), send: send)
            return (outcome.received, outcome.error)
        } catch {
            return ([], error)
        }
    }

    /// ECONNRESET, on a read or (when the RST beats the connect's completion) on the connect.
    static func isReset(_ error: (any Error)?) -> Bool {
        if let io = error as? IOError { return io.errnoCode == ECONNRESET }
        if let connect = error as? NIOConnectionError { return connect.connectionErrors.contains { isReset($0.error) } }
        return false
    }

    // MARK: - Answers

    @Test func armsResultAnswersTheRequestsOwnTypeWithTheCode() async throws {
        let journal = Journal()
        let calls = LockedCounter()
        try await withExchangeServer(makeServer(journal: journal, calls: calls, fault: { _ in .armsResult(302) })) { _, bound in
            let response = try await TestClient.response(port: bound[0].port, tls: try TestClient.tls(), send: Self.configSolicitation)
            #expect(response.status == 200)
            expectLibarmsFraming(response)
            let arms = try response.arms(expecting: .configSolicitation)
            #expect(arms.resultCode == 302)
            #expect(arms.body == nil)
            #expect(arms.transactionID == nil)
            let entry = try await journal.waitForEntries(1)[0]
            #expect(entry.outcome == "fault:result-302")
            #expect(entry.resultCode == 302 && entry.httpStatus == 200)
            #expect(entry.messageType == "config-solicitation" && entry.sa == Self.sa.description)
            #expect(entry.bytesOut == response.raw.count)
            #expect(calls.value == 0)
        }
    }

    @Test func armsResultForAnUnreadableRequestIsA400() async throws {
        let journal = Journal()
        try await withExchangeServer(makeServer(journal: journal, fault: { _ in .armsResult(401) })) { _, bound in
            let request = PullRequests.http(body: Array("<not-arms/>".utf8), user: Self.sa.description, key: "rs-secret")
            let response = try await TestClient.response(port: bound[0].port, tls: try TestClient.tls(), send: request)
            #expect(response.status == 400)
            let entry = try await journal.waitForEntries(1)[0]
            #expect(entry.outcome == "fault:result-401" && entry.httpStatus == 400 && entry.resultCode == nil)
            #expect(entry.detail?.contains("unknown") == true)
        }
    }

    @Test func malformedXMLIsA200WithAnUnterminatedDocument() async throws {
        let journal = Journal()
        try await withExchangeServer(makeServer(journal: journal, fault: { _ in .malformedXML })) { _, bound in
            let response = try await TestClient.response(port: bound[0].port, tls: try TestClient.tls(), send: Self.configSolicitation)
            #expect(response.status == 200)
            #expect(response.head.headers["Content-Type"] == "text/xml")
            #expect(response.body.starts(with: ARMSAnswer.xmlDeclaration))
            #expect(throws: (any Error).self) { _ = try response.arms(expecting: .configSolicitation) }
            let entry = try await journal.waitForEntries(1)[0]
            #expect(entry.outcome == "fault:malformed-xml" && entry.httpStatus == 200 && entry.messageType == "config-solicitation")
        }
    }

    // MARK: - Write modes

    @Test func dribbleWritesOneByteAtATimeAndKeepsTheOutcome() async throws {
        let journal = Journal()
        let pause = Duration.milliseconds(4)
        try await withExchangeServer(makeServer(journal: journal, fault: { _ in .dribble(pause) })) { _, bound in
            let started = ContinuousClock.now
            let response = try await TestClient.response(port: bound[0].port, tls: try TestClient.tls(), send: Self.configSolicitation)
            let elapsed = ContinuousClock.now - started
            #expect(response.status == 200 && response.body == Self.handlerAnswer)
            #expect(elapsed >= pause * (response.raw.count - 1), "\(response.raw.count) bytes in \(elapsed)")
            let entry = try await journal.waitForEntries(1)[0]
            #expect(entry.outcome == "ok" && entry.bytesOut == response.raw.count && entry.resultCode == 100)
            #expect(entry.detail == "echoed; fault: dribbled one byte per \(pause)")
        }
    }

    @Test func truncateWritesThatManyBytesThenClosesCleanly() async throws {
        let journal = Journal()
        try await withExchangeServer(makeServer(journal: journal, fault: { _ in .truncate(afterBytes: 30) })) { _, bound in
            let outcome = try await TestClient.exchange(port: bound[0].port, tls: try TestClient.tls(), send: Self.configSolicitation)
            #expect(outcome.received.count == 30)
            #expect(outcome.error == nil, "a clean close (close_notify) expected, got \(String(describing: outcome.error))")
            #expect(String(decoding: outcome.received, as: UTF8.self).hasPrefix("HTTP/1.0 200 OK\r\n"))
            let entry = try await journal.waitForEntries(1)[0]
            #expect(entry.outcome == "fault:truncate" && entry.bytesOut == 30 && entry.httpStatus == 200)
            #expect(entry.detail?.contains("cut after 30 of") == true && entry.detail?.contains("clean close") == true)
        }
    }

    @Test func resetWritesThatManyBytesThenAbortsWithARST() async throws {
        let journal = Journal()
        try await withExchangeServer(makeServer(journal: journal, fault: { _ in .reset(afterBytes: 25) })) { _, bound in
            let outcome = try await TestClient.exchange(port: bound[0].port, tls: try TestClient.tls(), send: Self.configSolicitation)
            #expect(outcome.received.count == 25)
            #expect(Self.isReset(outcome.error), "ECONNRESET expected, got \(String(describing: outcome.error))")
            let entry = try await journal.waitForEntries(1)[0]
            #expect(entry.outcome == "fault:reset" && entry.bytesOut == 25)
            #expect(entry.detail?.contains("TCP reset") == true)
        }
    }

    @Test func resetMidBodyCutsAfterTheHeadAndHalfTheBody() async throws {
        let journal = Journal()
        try await withExchangeServer(makeServer(journal: journal, fault: { _ in .resetMidBody })) { _, bound in
            let outcome = try await TestClient.exchange(port: bound[0].port, tls: try TestClient.tls(), send: Self.configSolicitation)
            let whole = ExchangeReply.http(contentType: "text/plain", body: Self.handlerAnswer, facts: ExchangeFacts(outcome: "ok")).bytes
            let head = whole.count - Self.handlerAnswer.count
            #expect(outcome.received == Array(whole.prefix(head + Self.handlerAnswer.count / 2)))
            #expect(Self.isReset(outcome.error), "ECONNRESET expected, got \(String(describing: outcome.error))")
            let entry = try await journal.waitForEntries(1)[0]
            #expect(entry.outcome == "fault:reset" && entry.bytesOut == head + 10)
        }
    }

    @Test func writeModesApplyToAFaultsAnswerToo() async throws {
        let journal = Journal()
        let fault = ExchangeFault(action: .armsResult(404), write: .truncateMidBody)
        try await withExchangeServer(makeServer(journal: journal, fault: { _ in fault })) { _, bound in
            let outcome = try await TestClient.exchange(port: bound[0].port, tls: try TestClient.tls(), send: Self.configSolicitation)
            let text = String(decoding: outcome.received, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.0 200 OK\r\n") && text.contains("<?xml") && !text.contains("</arms-message>"))
            #expect(outcome.error == nil)
            let entry = try await journal.waitForEntries(1)[0]
            #expect(entry.outcome == "fault:truncate" && entry.resultCode == 404 && entry.bytesOut == outcome.received.count)
            #expect(entry.detail?.contains("fault:result-404") == true)
        }
    }

    // MARK: - Connection faults

    @Test func refuseResetsAtAcceptWithoutTLSAndJournalsOnce() async throws {
        let journal = Journal()
        let calls = LockedCounter()
        let seen = LockedBox<[ConnectionFaultContext]>([])
        let server = makeServer(journal: journal, calls: calls)
        server.setConnectionFaultHook { context in
            seen.mutate { $0.append(context) }
            return .refuse
        }
        try await withExchangeServer(server) { server, bound in
            let outcome = try await Self.failedAttempt(port: bound[0].port)
            #expect(outcome.received.isEmpty)
            #expect(outcome.error != nil)
            let entries = try await journal.waitForEntries(1)
            #expect(entries.count == 1)
            #expect(entries[0].outcome == "fault:refuse" && entries[0].role == .rs && entries[0].httpStatus == 0)
            #expect(calls.value == 0)
            let context = try #require(seen.value.first)
            #expect(context.role == .rs && context.local == "127.0.0.1:\(bound[0].port)")
            #expect(context.peer == entries[0].peer && context.peer?.hasPrefix("127.0.0.1:") == true)
            // A raw TCP client sees the reset itself.
            var raw: (received: [UInt8], error: (any Error)?)
            do {
                let outcome = try await TestClient.exchange(port: bound[0].port, tls: nil, send: [])
                raw = (outcome.received, outcome.error)
            } catch {
                raw = ([], error)
            }
            #expect(Self.isReset(raw.error) && raw.received.isEmpty, "\(String(describing: raw.error))")
            // Removing the hook serves normally again.
            server.setConnectionFaultHook(nil)
            let response = try await TestClient.response(port: bound[0].port, tls: try TestClient.tls(), send: Self.configSolicitation)
            #expect(response.status == 200)
            let all = try await journal.waitForEntries(3)
            #expect(all.map(\.outcome) == ["fault:refuse", "fault:refuse", "ok"])
        }
    }

    @Test func cutHandshakeReadsTheClientHelloThenCloses() async throws {
        let journal = Journal()
        let server = makeServer(journal: journal)
        server.setConnectionFaultHook { _ in .cutHandshake }
        try await withExchangeServer(server) { _, bound in
            let outcome = try await Self.failedAttempt(port: bound[0].port)
            #expect(outcome.received.isEmpty && outcome.error != nil)
            let entry = try await journal.waitForEntries(1)[0]
            #expect(entry.outcome == "fault:handshake-cut")
            // A TLS record header (5 bytes) and at least the start of a ClientHello.
            #expect(entry.bytesIn > 40, "\(entry.bytesIn) bytes")
            #expect(entry.detail?.contains("first \(entry.bytesIn) bytes") == true)
        }
    }

    @Test func stallHandshakeHoldsUntilTheReadTimeout() async throws {
        let journal = Journal()
        let server = makeServer(readTimeout: .milliseconds(600), journal: journal)
        server.setConnectionFaultHook { _ in .stallHandshake }
        try await withExchangeServer(server) { _, bound in
            let started = ContinuousClock.now
            let outcome = try await Self.failedAttempt(port: bound[0].port)
            #expect(ContinuousClock.now - started >= .milliseconds(500))
            #expect(outcome.received.isEmpty && outcome.error != nil)
            #expect(!(outcome.error is TestFailure), "the server, not the client's timer, should end it")
            let entry = try await journal.waitForEntries(1)[0]
            #expect(entry.outcome == "fault:handshake-stall" && entry.bytesIn > 40)
            #expect(entry.detail?.contains("read timeout") == true)
        }
    }

    @Test func stopEndsAStalledHandshakeAndJournalsIt() async throws {
        let journal = Journal()
        let server = makeServer(readTimeout: .seconds(60), journal: journal)
        server.setConnectionFaultHook { _ in .stallHandshake }
        let bound = try await server.start()
        let client = Task { try await Self.failedAttempt(port: bound[0].port, send: []) }
        try await waitUntil("the stalled connection") { server.faultedConnectionCount == 1 }
        await server.stop()
        let entry = try await journal.waitForEntries(1)[0]
        #expect(entry.outcome == "fault:handshake-stall")
        let outcome = try await client.value
        #expect(outcome.error != nil && !(outcome.error is TestFailure))
    }
}

/// A thread-safe counter.
final class LockedCounter: Sendable {
    private let box = NIOLockedValueBox(0)
    func increment() { box.withLockedValue { $0 += 1 } }
    var value: Int { box.withLockedValue { $0 } }
}

/// A thread-safe value.
final class LockedBox<T: Sendable>: Sendable {
    private let box: NIOLockedValueBox<T>
    init(_ value: T) { box = NIOLockedValueBox(value) }
    func mutate(_ body: (inout T) -> Void) { box.withLockedValue { body(&$0) } }
    var value: T { box.withLockedValue { $0 } }
}
