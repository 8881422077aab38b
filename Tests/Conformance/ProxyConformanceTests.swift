import ARMSProtocol
import Foundation
import MockCore
import MockService
import Testing

/// The built `armsd` with `https-proxy-url` pointing at the mock's CONNECT proxy
/// (agent.md §3, pull.md §2.2): the pull exchanges go through the proxy.
@Suite struct ProxyConformanceTests {
    static let sa = SAProfile.demo.distributionID

    /// A started proxy journaling into the rig's journal; the rig's armsd.conf gets `https-proxy-url`.
    static func withProxy(_ rig: PullRig, refuse status: HTTPStatus? = nil,
                          _ body: (ConnectProxy) async throws -> Void) async throws {
        let proxy = ConnectProxy(journal: rig.runtime.journal)
        try await proxy.start()
        do {
            proxy.refuseAll(with: status)
            let conf = try String(contentsOfFile: rig.confPath, encoding: .utf8)
            try (conf + "https-proxy-url: \(try #require(proxy.url))\n").write(toFile: rig.confPath, atomically: true, encoding: .utf8)
            try await body(proxy)
        } catch {
            await proxy.stop()
            throw error
        }
        await proxy.stop()
    }

    @Test func pullsGoThroughTheProxyAndTheAgentReachesPushWait() async throws {
        try await PullRig.with({ $0.pushOffer.echoInterval = 60 }) { rig in
            try await Self.withProxy(rig) { proxy in
                let agent = try rig.startAgent()
                do {
                    try await rig.waitForPushReady(agent: agent)
                    try await rig.waitForLog("Connected to web proxy URL.")
                    let lsPort = try #require(rig.runtime.lsURLs.first).port
                    let rsPort = try #require(rig.runtime.rsURLs.first).port
                    let connects = rig.journal(.proxy)
                    #expect(connects.allSatisfy { $0.outcome == "ok" && $0.httpStatus == 200 && $0.messageType == "CONNECT" })
                    // detail: "target <host:port> via <the proxy's source address toward the target>"
                    let words = connects.map { ($0.detail ?? "").split(separator: " ").map(String.init) }
                    let targets = words.compactMap { $0.count == 4 ? $0[1] : nil }
                    let relaySources = Set(words.compactMap { $0.count == 4 ? $0[3] : nil })
                    #expect(targets.contains("127.0.0.1:\(lsPort)") && targets.contains("127.0.0.1:\(rsPort)"), "\(targets)")
                    // The LS pull and the RS pull (config-solicitation) reached the mocks from the proxy's relay.
                    let pulls = rig.journal(.ls) + rig.journal(.rs).filter { $0.messageType == "config-solicitation" }
                    #expect(pulls.count == 2 && pulls.allSatisfy { relaySources.contains($0.peer ?? "") },
                            "\(pulls.map { $0.peer ?? "" }) vs \(relaySources)")
                    // The push phase (push-method-query, the tunnel) does not go through the proxy in this
                    // agent yet (libarms would use it there too: push.md §2.6, tunnel.md §3); not asserted.
                    #expect(proxy.statistics.relayed == connects.count)
                } catch {
                    _ = try? await agent.stop()
                    throw error
                }
                if agent.process.isRunning { _ = try await agent.stop() }
            }
        }
    }

    @Test func aRefusingProxyKeepsTheAgentFromTheLS() async throws {
        try await PullRig.with { rig in
            try await Self.withProxy(rig, refuse: HTTPStatus(code: 403, reasonPhrase: "Forbidden")) { _ in
                let agent = try rig.startAgent()
                do {
                    try await waitUntil("a refused CONNECT", timeout: 30) {
                        rig.journal(.proxy).contains { $0.outcome == "fault:http-403" }
                    }
                    #expect(rig.journal(.ls).isEmpty)
                } catch {
                    _ = try? await agent.stop()
                    throw error
                }
                if agent.process.isRunning { _ = try await agent.stop() }
            }
        }
    }
}
