import Testing
@testable import Agent

// The https-tunnel push machine without sockets (tunnel.md, push.md): the
// agent's bytes must equal the libarms 5.33 client's captures (Tests/Fixtures)
// once the random chunk ids are blanked.

enum PushFixtureRun {
    static let distid = DistributionID("0001-0000-1234-0056-0000-0000-0000-0001")!
    static let settings = PushSettings(distributionID: distid, description: "libarms Test Client",
                                       presharedKey: "rs-secret", retryMax: 3, retryInterval: 3)
    static let urls = ["https://127.0.0.1:18445/tunnel", "https://[::1]:18446/tunnel"]
    static let modules = [ModuleInfo(id: 0, version: "1.0", info: "router-main"),
                          ModuleInfo(id: 1, version: "1.0", info: "filter-rules"),
                          ModuleInfo(id: 2, version: "1.0", info: "extra")]

    /// Every id the machine draws is this one (the fixture's configure transaction).
    static func machine(urls: [String] = urls, echo: Int? = 5, settings: PushSettings = settings,
                        id: UInt32 = 766980607) -> PushMachine {
        PushMachine(settings: settings, tunnelURLs: urls, echoInterval: echo, family: .ipv4, state: .pullDone,
                    modules: modules, randomID: { id })
    }
}

/// All bytes the actions write to `tunnel`, concatenated.
func sentBytes(_ actions: [PushAction], tunnel: Int = 0) -> [UInt8] {
    actions.flatMap { action -> [UInt8] in
        if case .send(let t, let writes) = action, t == tunnel { return writes.flatMap { $0 } }
        return []
    }
}

/// The separate TLS writes the actions make on `tunnel`.
func sentWrites(_ actions: [PushAction], tunnel: Int = 0) -> [[UInt8]] {
    actions.flatMap { action -> [[UInt8]] in
        if case .send(let t, let writes) = action, t == tunnel { return writes }
        return []
    }
}

func logTexts(_ actions: [PushAction]) -> [String] {
    actions.compactMap { if case .log(let l) = $0 { return l.text } else { return nil } }
}

func states(_ actions: [PushAction]) -> [AgentState] {
    actions.compactMap { if case .state(_, let to) = $0 { return to } else { return nil } }
}

func executions(_ actions: [PushAction]) -> [(Int, PushWork)] {
    actions.compactMap { if case .execute(let token, let work) = $0 { return (token, work) } else { return nil } }
}

/// Chunk bytes with every `id=<digits>` in chunk headers replaced by `id=#`.
func blankChunkIDs(_ bytes: [UInt8]) -> String {
    var out = ""
    var lineStart = true
    var i = 0
    let text = Array(bytes)
    while i < text.count {
        if lineStart {
            // A chunk header line: hex size then extensions up to CRLF.
            var j = i
            while j < text.count, text[j] != 13 { j += 1 }
            let line = String(decoding: text[i..<min(j, text.count)], as: UTF8.self)
            let parts = line.split(separator: ";", omittingEmptySubsequences: false).map { $0.hasPrefix("id=") ? "id=#" : String($0) }
            out += parts.joined(separator: ";")
            guard let size = Int(parts.first ?? "", radix: 16) else { return out + String(decoding: text[j...], as: UTF8.self) }
            let dataStart = min(j + 2, text.count)
            let dataEnd = min(dataStart + size, text.count)
            out += "\r\n" + String(decoding: text[dataStart..<dataEnd], as: UTF8.self)
            i = dataEnd
            lineStart = false
        } else {
            out += String(decoding: text[i..<min(i + 2, text.count)], as: UTF8.self)
            i += 2
            lineStart = true
        }
    }
    return out
}

/// Drives a machine through open + confirmation on tunnel#0 and returns it.
func confirmedMachine(_ now: ContinuousClock.Instant, id: UInt32 = 766980607) throws -> PushMachine {
    var m = PushFixtureRun.machine(id: id)
    _ = m.start(now: now)
    _ = m.handle(.connected(tunnel: 0), now: now)
    _ = m.handle(.received(tunnel: 0, bytes: try pushFixture("mock-accepted-tunnel-open-response.http")), now: now)
    _ = m.handle(.received(tunnel: 0, bytes: try pushFixture("mock-accepted-confirm.chunk")), now: now)
    #expect(m.state == .pushWait)
    return m
}

@Suite struct PushMachineTests {
    let t0 = ContinuousClock.now

    @Test func startLogsTunnelsAndSkipsTheOtherFamily() {
        var m = PushFixtureRun.machine()
        let actions = m.start(now: t0)
        #expect(logTexts(actions) == [
            "Push method: tunnel", "tunnel#0: https://127.0.0.1:18445/tunnel", "tunnel#1: https://[::1]:18446/tunnel",
            "Start push confirmation", "tunnel#0: try to connect 127.0.0.1:18445", "tunnel#0: socket prepared. connecting...",
            "tunnel#1: address family mismatched: ::1", "tunnel#1: closed.",
        ])
        #expect(states(actions) == [.pushSendReady])
        let connects = actions.compactMap { if case .connect(let t, let url) = $0 { return (t, url.port) } else { return nil } }
        #expect(connects.count == 1)
        #expect(connects.first?.0 == 0 && connects.first?.1 == 18445)
    }

    @Test func openRequestAndConfirmationMatchTheLibarmsClient() throws {
        var m = PushFixtureRun.machine()
        _ = m.start(now: t0)
        let opened = m.handle(.connected(tunnel: 0), now: t0)
        #expect(sentBytes(opened) == (try pushFixture("libarms-5.33-tunnel-open-request.http")))
        #expect(sentWrites(opened).count == 1)
        #expect(logTexts(opened) == ["tunnel#0: socket connected.", "tunnel#0: SSL connection established.", "tunnel#0: sent http header."])

        let head = m.handle(.received(tunnel: 0, bytes: try pushFixture("mock-accepted-tunnel-open-response.http")), now: t0)
        #expect(blankChunkIDs(sentBytes(head)) == blankChunkIDs(try pushFixture("libarms-5.33-confirm-start-request.chunk")))
        // Header line, data and CRLF as three TLS writes, as libarms writes a chunk.
        let writes = sentWrites(head)
        #expect(writes.count == 3)
        #expect(writes.last == [13, 10])
        #expect(logTexts(head) == ["tunnel#0: received http header.", "[-] Start push-confirmation-start"])

        let confirm = m.handle(.received(tunnel: 0, bytes: try pushFixture("mock-accepted-confirm.chunk")), now: t0)
        #expect(blankChunkIDs(sentBytes(confirm)) == blankChunkIDs(try pushFixture("libarms-5.33-confirm-done-response.chunk")))
        #expect(logTexts(confirm) == [
            "[70418033] End push-confirmation-start", "[-] Start push-confirmation-done",
            "[70418033] End push-confirmation-done", "Done push confirmation", "tunnel#0: ready to push.",
        ])
        #expect(states(confirm) == [.pushWait])
        // The state change comes before "Done push confirmation" (tunnel.md §6).
        let stateIndex = try #require(confirm.firstIndex { if case .state = $0 { return true } else { return false } })
        let doneIndex = try #require(confirm.firstIndex { if case .log(let l) = $0 { return l.code == 71 } else { return false } })
        #expect(stateIndex < doneIndex)
        #expect(m.readyTunnels == [0])
    }

    @Test func headSplitAcrossReadsAndWrongStatusRetries() throws {
        var m = PushFixtureRun.machine()
        _ = m.start(now: t0)
        _ = m.handle(.connected(tunnel: 0), now: t0)
        #expect(m.handle(.received(tunnel: 0, bytes: Array("HTTP/1.0 200 OK\r\n".utf8)), now: t0).isEmpty)
        let refused = m.handle(.received(tunnel: 0, bytes: Array("\r\n".utf8)), now: t0)
        #expect(logTexts(refused) == ["tunnel#0: http response (-1)", "tunnel#0: closing ssl tunnel and retry.",
                                      "tunnel#0: retry(1/3), wait 3 sec."])
        #expect(refused.contains(.close(tunnel: 0, orderly: false)))
        // Reconnects after rs-retry-interval.
        #expect(m.nextDeadline == t0 + .seconds(3))
        #expect(m.handle(.timer, now: t0 + .seconds(2)).isEmpty)
        let again = m.handle(.timer, now: t0 + .seconds(3))
        #expect(again.contains { if case .connect(0, _) = $0 { return true } else { return false } })
    }

    @Test func retryBudgetEndsTheMethodWhenNeverConfirmed() {
        var m = PushFixtureRun.machine(urls: [PushFixtureRun.urls[0]])
        _ = m.start(now: t0)
        var now = t0
        var last: [PushAction] = []
        for _ in 0..<4 {
            last = m.handle(.connectFailed(tunnel: 0, reason: "connect: Connection refused"), now: now)
            now = now + .seconds(3)
            _ = m.handle(.timer, now: now)
        }
        #expect(logTexts(last).suffix(2) == ["tunnel#0: retry is over.", "tunnel#0: closed."])
        #expect(last.last == .finish(.methodFailed))
        #expect(m.end == .methodFailed)
    }

    @Test func echoAtTheIntervalAndReconnectWhenUnanswered() throws {
        var m = try confirmedMachine(t0)
        #expect(m.nextDeadline == t0 + .seconds(5))
        let probe = m.handle(.timer, now: t0 + .seconds(5))
        #expect(sentBytes(probe) == (try pushFixture("libarms-5.33-echo-request.chunk")))
        // Answered: the next tick probes again.
        _ = m.handle(.received(tunnel: 0, bytes: try pushFixture("mock-accepted-echo-response.chunk")), now: t0 + .seconds(6))
        let second = m.handle(.timer, now: t0 + .seconds(10))
        #expect(sentBytes(second) == TunnelChunkEncoder.echoRequest)
        // Unanswered: the tick after logs and reconnects, unbounded (confirmed before).
        let lost = m.handle(.timer, now: t0 + .seconds(15))
        #expect(logTexts(lost) == ["tunnel#0: no echo response received.", "tunnel#0: closing ssl tunnel and retry.",
                                   "tunnel#0: retry, wait 3 sec."])
        #expect(lost.contains(.close(tunnel: 0, orderly: false)))
        #expect(m.state == .pushWait)
        let reconnect = m.handle(.timer, now: t0 + .seconds(18))
        #expect(reconnect.contains { if case .connect(0, _) = $0 { return true } else { return false } })
    }

    @Test func mdCommandRunsTheWorkAndAnswersInThreeChunks() throws {
        var m = try confirmedMachine(t0)
        let request = m.handle(.received(tunnel: 0, bytes: try pushFixture("mock-accepted-md-command-request.chunk")), now: t0)
        let work = executions(request)
        let (token, w) = try #require(work.first)
        #expect(w == .mdCommand(ModuleCommand(moduleID: 0, command: "show version")))
        let answer = m.handle(.executed(token: token, .moduleOutput(.success, "md_command(id=0): done")), now: t0)
        #expect(blankChunkIDs(sentBytes(answer)) == blankChunkIDs(try pushFixture("libarms-5.33-md-command-response.chunk")))
        #expect(sentWrites(answer).count == 9)
    }

    @Test func readModuleListCheckTransactionAndReboot() throws {
        var m = try confirmedMachine(t0)
        let list = m.handle(.received(tunnel: 0, bytes: Array(TunnelChunkEncoder.singleChunk(Array(
            "<arms-message><arms-request type=\"read-module-list\"><read-module-list-request></read-module-list-request></arms-request></arms-message>".utf8), id: 9))), now: t0)
        let listText = String(decoding: sentBytes(list), as: UTF8.self)
        #expect(listText.contains("<module id=\"0\" version=\"1.0\">router-main</module><module id=\"1\" version=\"1.0\">filter-rules</module>"))
        let check = m.handle(.received(tunnel: 0, bytes: Array(TunnelChunkEncoder.singleChunk(Array(
            "<arms-message><arms-request type=\"check-transaction\"></arms-request></arms-message>".utf8), id: 10))), now: t0)
        #expect(blankChunkIDs(sentBytes(check)) == blankChunkIDs(try pushFixture("libarms-5.33-check-transaction-response.chunk")))

        let reboot = m.handle(.received(tunnel: 0, bytes: try pushFixture("mock-accepted-reboot-request.chunk")), now: t0)
        let expected = try pushFixture("libarms-5.33-reboot-response.chunk") + pushFixture("libarms-5.33-tunnel-close.chunk")
        #expect(blankChunkIDs(sentBytes(reboot)) == blankChunkIDs(expected))
        #expect(reboot.contains(.close(tunnel: 0, orderly: true)))
        #expect(states(reboot) == [.pushReboot])
        #expect(reboot.last == .finish(.reboot(trigger: "Reboot requested by RS")))
    }

    @Test func unknownRequestGetsGenericError202() throws {
        var m = try confirmedMachine(t0)
        let out = m.handle(.received(tunnel: 0, bytes: Array(TunnelChunkEncoder.singleChunk(Array(
            "<arms-message><arms-request type=\"push-method-query\"><push-method-query-request></push-method-query-request></arms-request></arms-message>".utf8), id: 3))), now: t0)
        let text = String(decoding: sentBytes(out), as: UTF8.self)
        #expect(text.contains("<arms-response type=\"generic-error\"><result-code>202</result-code><description>Invalid Message type</description><generic-error-response></generic-error-response></arms-response>"))
    }

    @Test func configureCommitsReconnectsAndSendsDoneFirst() throws {
        var m = try confirmedMachine(t0)
        let start = m.handle(.received(tunnel: 0, bytes: try pushFixture("mock-accepted-configure-start-request.chunk")), now: t0)
        let (storeToken, store) = try #require(executions(start).first)
        guard case .configureStore(let request) = store else { Issue.record("expected a store, got \(store)"); return }
        #expect(request.modules.count == 3 && request.configs.count == 1)
        let stored = m.handle(.executed(token: storeToken, .configureStored(.success, modules: request.modules)), now: t0)
        #expect(blankChunkIDs(sentBytes(stored)) == blankChunkIDs(try pushFixture("libarms-5.33-configure-start-response.chunk")))
        #expect(stored.contains(.close(tunnel: 0, orderly: false)))
        #expect(logTexts(stored) == ["tunnel#0: closed.", "Execute configure commit"])
        let (commitToken, commit) = try #require(executions(stored).first)
        #expect(commit == .configureCommit)
        #expect(m.handle(.executed(token: commitToken, .configureCommitted(.success)), now: t0).isEmpty)
        // Reconnect 1 s later; the configure-done is the first message, no confirmation.
        let reconnect = m.handle(.timer, now: t0 + .seconds(1))
        #expect(reconnect.contains { if case .connect(0, _) = $0 { return true } else { return false } })
        _ = m.handle(.connected(tunnel: 0), now: t0 + .seconds(1))
        let head = m.handle(.received(tunnel: 0, bytes: try pushFixture("mock-accepted-tunnel-open-response.http")), now: t0 + .seconds(1))
        #expect(blankChunkIDs(sentBytes(head)) == blankChunkIDs(try pushFixture("libarms-5.33-configure-done-request.chunk")))
        // Accepted: the tunnel confirms again on the same connection; the state stays PUSH_WAIT.
        let accepted = m.handle(.received(tunnel: 0, bytes: try pushFixture("mock-accepted-configure-done-response.chunk")), now: t0 + .seconds(1))
        #expect(blankChunkIDs(sentBytes(accepted)) == blankChunkIDs(try pushFixture("libarms-5.33-confirm-start-request.chunk")))
        #expect(states(accepted).isEmpty)
        _ = m.handle(.received(tunnel: 0, bytes: try pushFixture("mock-accepted-confirm.chunk")), now: t0 + .seconds(1))
        #expect(m.readyTunnels == [0])
    }

    @Test func configureWithAFailedCommitReportsTheRollback() throws {
        var m = try confirmedMachine(t0)
        let start = m.handle(.received(tunnel: 0, bytes: try pushFixture("mock-accepted-configure-start-request.chunk")), now: t0)
        let (storeToken, _) = try #require(executions(start).first)
        let stored = m.handle(.executed(token: storeToken, .configureStored(.success, modules: PushFixtureRun.modules)), now: t0)
        let (commitToken, _) = try #require(executions(stored).first)
        let rolled = m.handle(.executed(token: commitToken, .configureCommitted(.rollbacked)), now: t0)
        #expect(logTexts(rolled) == ["Execute configure rollback"])
        _ = m.handle(.timer, now: t0 + .seconds(1))
        _ = m.handle(.connected(tunnel: 0), now: t0 + .seconds(1))
        let head = m.handle(.received(tunnel: 0, bytes: try pushFixture("mock-accepted-tunnel-open-response.http")), now: t0 + .seconds(1))
        let text = String(decoding: sentBytes(head), as: UTF8.self)
        #expect(text.contains("<arms-request type=\"configure-done\"><transaction-result>414</transaction-result>"))
    }

    @Test func asyncPingAnswersStartThenDone() throws {
        var m = try confirmedMachine(t0)
        let ping = "<arms-message><arms-request type=\"ping-start\"><distribution-id>0001-0000-1234-0056-0000-0000-0000-0001</distribution-id><ping-start-request><address>127.0.0.1</address><count>3</count><size>56</size></ping-start-request></arms-request></arms-message>"
        let start = m.handle(.received(tunnel: 0, bytes: TunnelChunkEncoder.singleChunk(Array(ping.utf8), id: 3)), now: t0)
        #expect(String(decoding: sentBytes(start), as: UTF8.self).contains(
            "<arms-response type=\"ping-start\"><transaction-id>766980607</transaction-id><result-code>100</result-code>"))
        let (token, work) = try #require(executions(start).first)
        #expect(work == .ping(PingRequest(address: "127.0.0.1", count: 3, size: 56)))
        let done = m.handle(.executed(token: token, .ping(.success, success: 3, failure: 0)), now: t0)
        #expect(String(decoding: sentBytes(done), as: UTF8.self).contains(
            "<arms-request type=\"ping-done\"><transaction-result>100</transaction-result><distribution-id>0001-0000-1234-0056-0000-0000-0000-0001</distribution-id><transaction-id>766980607</transaction-id><description>libarms Test Client</description><ping-done-request><success>3</success><failure>0</failure></ping-done-request>"))
        let response = "<arms-message><arms-response type=\"ping-done\"><transaction-id>766980607</transaction-id><result-code>100</result-code><description>Success</description></arms-response></arms-message>"
        let end = m.handle(.received(tunnel: 0, bytes: TunnelChunkEncoder.singleChunk(Array(response.utf8), id: 4)), now: t0)
        #expect(logTexts(end) == ["libarms got result 100 from server.", "[766980607] End ping"])
    }

    @Test func readStatusDoneMatchesTheLibarmsSplit() throws {
        // The capture's transaction id, so that chunk sizes agree.
        var m = try confirmedMachine(t0, id: 1469295367)
        let start = m.handle(.received(tunnel: 0, bytes: try pushFixture("mock-accepted-read-status-start-request.chunk")), now: t0)
        #expect(blankChunkIDs(sentBytes(start)) == blankChunkIDs(try pushFixture("libarms-5.33-read-status-start-response.chunk")))
        let (token, work) = try #require(executions(start).first)
        guard case .readStatus(let requests) = work else { Issue.record("\(work)"); return }
        #expect(requests.count == 2)
        #expect(requests[1].parameter.bytes == Array("param".utf8))
        // The reports the sample daemon's callback gave in the capture.
        let done = m.handle(.executed(token: token, .statusReports([
            StatusReport(moduleID: 0, report: "id=0: get_status_cb() result"),
            StatusReport(moduleID: 1, report: "id=1: get_status_cb() result"),
        ])), now: t0)
        #expect(blankChunkIDs(sentBytes(done)) == blankChunkIDs(try pushFixture("libarms-5.33-read-status-done-request.chunk")))
    }
}

extension String {
    /// Blanks every `<transaction-id>N</transaction-id>` value.
    func replacingIDs() -> String {
        var out = ""
        var rest = Substring(self)
        let open = "<transaction-id>", close = "</transaction-id>"
        while let r = rest.firstRange(of: open) {
            out += rest[..<r.upperBound]
            rest = rest[r.upperBound...]
            if let c = rest.firstRange(of: close) {
                out += "#"
                rest = rest[c.lowerBound...]
            }
        }
        return out + rest
    }
}
