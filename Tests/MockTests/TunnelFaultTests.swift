import ARMSProtocol
import Foundation
import MockCore
import MockRS
import MockService
import NIOCore
import Testing

private let sa = PushFixtures.sa

/// The tunnel endpoint's fault hooks over real TLS, driven by a fake SA, and the
/// service configuration's `rsHosts` and connection fault hook.
@Suite("Push: tunnel fault hooks")
struct TunnelFaultTests {
    @Test("confirmation answered 401: no transaction id, no confirm-done, not push-ready; 100 again once removed")
    func confirmAnswer() async throws {
        try await withPushRuntime { rt in
            rt.setConfirmAnswer { id in id == sa.description ? 401 : nil }
            let t = try await FakeTunnel.open(port: rt.tunnelPortIPv4)
            try await t.sendFixture("libarms-5.33-confirm-start-request.chunk")
            let answer = try await t.nextResponse()
            #expect(answer.type == .pushConfirmationStart && answer.resultCode == 401 && answer.transactionID == nil)
            let entry = try #require(try await rt.journal.waitForEntries { $0.outcome == "fault:confirm-401" }.first)
            #expect(entry.resultCode == 401 && entry.sa == sa.description && entry.messageType == "push-confirmation-start")
            #expect(entry.detail?.contains("reconnects") == true)
            #expect(rt.pushStatus(of: sa).pushReady == false)
            // Nothing else was sent: an echo probe is answered next.
            try await t.sendFixture("libarms-5.33-echo-request.chunk")
            #expect(try await t.nextEvent() == .echoReply)
            rt.setConfirmAnswer(nil)
            try await t.confirm()
            try await waitUntil("push-ready") { rt.pushStatus(of: sa).pushReady }
            await t.close()
        }
    }

    @Test("tunnel open answered 503 or closed, by the claimed SA")
    func openFault() async throws {
        try await withPushRuntime { rt in
            let seen = LockedBox<[String?]>([])
            rt.setTunnelOpenFault { claimed in
                seen.mutate { $0.append(claimed) }
                return seen.value.count == 1 ? .status(.serviceUnavailable) : .close
            }
            let first = try await FakeTunnel.open(port: rt.tunnelPortIPv4, expectOK: false)
            #expect(String(decoding: first.head, as: UTF8.self).hasPrefix("HTTP/1.1 503"))
            try await first.waitClosed()
            await #expect(throws: (any Error).self) { _ = try await FakeTunnel.open(port: rt.tunnelPortIPv4) }
            let entries = try await rt.journal.waitForEntries(2) { $0.role == .tunnel && $0.outcome.hasPrefix("fault:") }
            #expect(entries.map(\.outcome) == ["fault:http-503", "fault:close"])
            #expect(entries.map(\.httpStatus) == [503, 0])
            #expect(entries.allSatisfy { $0.sa == sa.description })
            #expect(seen.value == [sa.description, sa.description])
            rt.setTunnelOpenFault(nil)
            let t = try await FakeTunnel.open(port: rt.tunnelPortIPv4)
            await t.close()
        }
    }

    @Test("chunk faults: broken XML and a broken chunk header, per message type")
    func malformedChunks() async throws {
        try await withPushRuntime { rt in
            rt.setChunkFault { _, type in type == "push-confirmation-start" ? .malformedXML : type == "push-confirmation-done" ? .malformedChunk : nil }
            let t = try await FakeTunnel.open(port: rt.tunnelPortIPv4)
            try await t.sendFixture("libarms-5.33-confirm-start-request.chunk")
            let first = try await t.nextRawChunk()
            let text = String(decoding: first, as: UTF8.self)
            #expect(text.contains("<arms-response type=\"push-confirmation-start\">") && text.hasSuffix("</arms-massage>\r\n"))
            #expect(throws: (any Error).self) { _ = try ARMSMessage.decode(Array(first.drop { $0 != UInt8(ascii: "<") }.dropLast(2))) }
            // The confirm-done request follows with a size field that is not hex.
            try await waitUntil("the broken chunk") {
                String(decoding: t.inbox.bytes.withLockedValue { $0 }, as: UTF8.self).contains("\r\nzz;id=")
            }
            let entries = try await rt.journal.waitForEntries(2) { $0.outcome.hasPrefix("fault:malformed") }
            #expect(entries.map(\.outcome) == ["fault:malformed-xml", "fault:malformed-chunk"])
            #expect(entries.map(\.messageType) == ["push-confirmation-start", "push-confirmation-done"])
            await t.close()
        }
    }

    @Test("chunk fault truncate: half the chunk, then the tunnel is closed")
    func truncatedChunk() async throws {
        try await withPushRuntime { rt in
            rt.setChunkFault { _, type in type == "push-confirmation-start" ? .truncate : nil }
            let t = try await FakeTunnel.open(port: rt.tunnelPortIPv4)
            try await t.sendFixture("libarms-5.33-confirm-start-request.chunk")
            try await t.waitClosed()
            let received = t.inbox.bytes.withLockedValue { $0 }.count - t.head.count
            let whole = try MockFixture.bytes("mock-accepted-confirm.chunk")
            // The start response is the first of the two chunks in the capture.
            let firstChunk = try #require(FakeTunnel.chunk(in: whole, from: 0))
            #expect(received == firstChunk.count / 2)
            let entry = try #require(try await rt.journal.waitForEntries { $0.outcome == "fault:chunk-truncate" }.first)
            #expect(entry.detail?.contains("\(firstChunk.count / 2) of \(firstChunk.count)") == true)
            _ = try await rt.journal.waitForEntries { $0.role == .tunnel && $0.outcome == "closed" }
            try await waitUntil("the tunnel forgotten") { rt.pushStatus(of: sa).tunnels.isEmpty }
        }
    }

    @Test("connection faults on the tunnel listener; the runtime hook tells the role")
    func tunnelConnectionFault() async throws {
        let roles = LockedBox<[ServerRole]>([])
        try await withPushRuntime(configure: { c in
            c.connectionFaultHook = { context in
                roles.mutate { $0.append(context.role) }
                return context.role == .tunnel ? .refuse : .none
            }
        }) { rt in
            await #expect(throws: (any Error).self) { _ = try await FakeTunnel.open(port: rt.tunnelPortIPv4) }
            let entry = try #require(try await rt.journal.waitForEntries { $0.outcome == "fault:refuse" }.first)
            #expect(entry.role == .tunnel)
            // The RS listener is asked too, and serves normally.
            let rsPort = try #require(rt.rsURLs.first).port
            let response = try await TestClient.response(port: rsPort, tls: try TestClient.tls(),
                                                         send: PullRequests.configSolicitation(sa, key: "rs-secret"))
            #expect(response.status == 200)
            #expect(roles.value.contains(.tunnel) && roles.value.contains(.rs))
            rt.setConnectionFaultHook(nil)
            let t = try await FakeTunnel.open(port: rt.tunnelPortIPv4)
            await t.close()
        }
    }

    @Test("rsHosts: two RS addresses on one port, both handed out by the LS")
    func twoRSHosts() async throws {
        try await withPushRuntime(configure: { c in
            c.hosts = ["127.0.0.1"]
            c.rsHosts = ["127.0.0.1", "127.0.0.2"]
        }) { rt in
            #expect(rt.rsURLs.map(\.host) == ["127.0.0.1", "127.0.0.2"])
            #expect(rt.rsURLs[0].port == rt.rsURLs[1].port)
            #expect(rt.lsURLs.map(\.host) == ["127.0.0.1"])
            let lsPort = try #require(rt.lsURLs.first).port
            let response = try await TestClient.response(port: lsPort, tls: try TestClient.tls(),
                                                         send: PullRequests.rsSolicitation(sa, key: "testkey123"))
            let arms = try response.arms(expecting: .rsSolicitation)
            guard case .rsSolicitation(let result)? = arms.body else { throw TestFailure("no rs-solicitation body") }
            #expect(result.urls == rt.rsURLs.map(\.description))
            // Both answer.
            for url in rt.rsURLs {
                let r = try await TestClient.response(host: url.host, port: url.port, tls: try TestClient.tls(),
                                                      send: PullRequests.configSolicitation(sa, key: "rs-secret"))
                #expect(r.status == 200)
            }
        }
    }
}
