import ARMSProtocol
import Foundation
@testable import MockCore
import NIOCore
import Testing

/// The CONNECT proxy on loopback: relaying to a real exchange server, its refusals, its journal.
@Suite struct ConnectProxyTests {
    static func connect(_ target: String) -> [UInt8] {
        Array("CONNECT \(target) HTTP/1.1\r\nHost: \(target)\r\n\r\n".utf8)
    }

    static let established = Array("HTTP/1.1 200 Connection established\r\n\r\n".utf8)

    /// A plain-TCP exchange server answering `pong`, and a proxy, both started.
    func withRig(_ body: (ConnectProxy, ExchangeServer, Journal) async throws -> Void) async throws {
        let journal = Journal()
        let target = ExchangeServer(configuration: ExchangeServerConfiguration(role: .rs, tls: nil), journal: journal) { _ in
            .http(contentType: "text/plain", body: Array("pong".utf8), facts: ExchangeFacts(outcome: ExchangeOutcome.ok))
        }
        try await target.start()
        let proxy = ConnectProxy(configuration: ConnectProxyConfiguration(readTimeout: .seconds(2)), journal: journal)
        do {
            try await proxy.start()
            try await body(proxy, target, journal)
        } catch {
            await proxy.stop()
            await target.stop()
            throw error
        }
        await proxy.stop()
        await target.stop()
    }

    @Test func relaysToALoopbackTargetAndJournalsTheConnect() async throws {
        try await withRig { proxy, target, journal in
            let port = try #require(proxy.boundEndpoint).port
            #expect(proxy.url == "http://127.0.0.1:\(port)/")
            let targetAddress = "127.0.0.1:\(target.boundEndpoints[0].port)"
            let request = ExchangeServerTests.request("ping")
            // The request right behind the CONNECT head: the proxy keeps it for the target.
            let outcome = try await TestClient.exchange(port: port, tls: nil, send: Self.connect(targetAddress) + request)
            #expect(outcome.error == nil)
            #expect(Array(outcome.received.prefix(Self.established.count)) == Self.established)
            let answer = try ReadResponse(Array(outcome.received.dropFirst(Self.established.count)))
            #expect(answer.status == 200 && answer.body == Array("pong".utf8))
            let entries = try await journal.waitForEntries(2)
            let connect = try #require(entries.first { $0.role == .proxy })
            #expect(connect.outcome == "ok" && connect.httpStatus == 200 && connect.messageType == "CONNECT")
            #expect(connect.detail?.hasPrefix("target \(targetAddress)") == true)
            #expect(connect.bytesIn == Self.connect(targetAddress).count)
            #expect(entries.contains { $0.role == .rs && $0.outcome == "ok" })
            try await waitUntil("the relay closed") { proxy.statistics.open == 0 }
            let stats = proxy.statistics
            #expect(stats.connections == 1 && stats.relayed == 1 && stats.refused == 0)
            #expect(stats.bytesUp == request.count && stats.bytesDown == answer.raw.count)
        }
    }

    @Test func refusesNonLoopbackTargetsNamesAndOtherMethods() async throws {
        try await withRig { proxy, _, journal in
            let port = try #require(proxy.boundEndpoint).port
            for (request, status) in [(Self.connect("192.0.2.1:443"), 403), (Self.connect("localhost:443"), 403),
                                      (Self.connect("[::2]:443"), 403), (Self.connect("127.0.0.1"), 403),
                                      (Array("GET http://127.0.0.1/ HTTP/1.1\r\n\r\n".utf8), 400)] {
                let outcome = try await TestClient.exchange(port: port, tls: nil, send: request)
                #expect(WebProxyStatus.code(outcome.received) == status, "\(String(decoding: request, as: UTF8.self))")
            }
            let entries = try await journal.waitForEntries(5) { $0.role == .proxy }
            #expect(entries.map(\.outcome) == ["refused", "refused", "refused", "refused", "bad-request"])
            #expect(proxy.statistics.refused == 5 && proxy.statistics.relayed == 0)
        }
    }

    @Test func refusalHookAnswersTheChosenStatusAndAClosedTargetIs502() async throws {
        try await withRig { proxy, target, journal in
            let port = try #require(proxy.boundEndpoint).port
            let targetAddress = "127.0.0.1:\(target.boundEndpoints[0].port)"
            proxy.refuseAll(with: HTTPStatus(code: 502, reasonPhrase: "Bad Gateway"))
            let refused = try await TestClient.exchange(port: port, tls: nil, send: Self.connect(targetAddress))
            #expect(String(decoding: refused.received, as: UTF8.self).hasPrefix("HTTP/1.1 502 Bad Gateway\r\n"))
            proxy.refuseAll(with: nil)
            // A port nobody listens on (the proxy's own listener was bound and closed by a throwaway server).
            let closed = ExchangeServer(configuration: ExchangeServerConfiguration(role: .rs, tls: nil), journal: Journal()) { _ in
                .httpError(.badRequest, facts: ExchangeFacts(outcome: "x"))
            }
            let deadPort = try await closed.start()[0].port
            await closed.stop()
            let unreachable = try await TestClient.exchange(port: port, tls: nil, send: Self.connect("127.0.0.1:\(deadPort)"))
            #expect(WebProxyStatus.code(unreachable.received) == 502)
            let entries = try await journal.waitForEntries(2) { $0.role == .proxy }
            #expect(entries.map(\.outcome) == ["fault:http-502", "refused"])
            #expect(entries[1].detail?.contains("connect failed") == true)
        }
    }

    @Test func anIncompleteHeadTimesOutAndAnOversizedOneIsRefused() async throws {
        try await withRig { proxy, _, journal in
            let port = try #require(proxy.boundEndpoint).port
            let slow = try await TestClient.exchange(port: port, tls: nil, send: Array("CONNECT 127.0.0.1:1 HTTP/1.1\r\n".utf8))
            #expect(slow.received.isEmpty && !(slow.error is TestFailure))
            let big = try await TestClient.exchange(port: port, tls: nil, send: Array(repeating: UInt8(ascii: "a"), count: 5000))
            #expect(WebProxyStatus.code(big.received) == 400)
            let entries = try await journal.waitForEntries(2) { $0.role == .proxy }
            #expect(entries.map(\.outcome) == ["timeout", "too-large"])
        }
    }
}

/// The status code of a proxy answer (`HTTP/1.1 NNN …`).
enum WebProxyStatus {
    static func code(_ bytes: [UInt8]) -> Int? {
        let line = String(decoding: bytes.prefix { $0 != 13 }, as: UTF8.self).split(separator: " ")
        return line.count >= 2 ? Int(line[1]) : nil
    }
}
