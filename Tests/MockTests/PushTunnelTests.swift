import ARMSProtocol
import Foundation
import MockCore
import MockRS
import MockService
import Testing

/// A message as libarms writes it into the tunnel: one chunk per piece, same id, last with trail.
private func saChunks(_ message: ARMSMessage, id: UInt32 = 4242) -> [UInt8] {
    TunnelChunkEncoder.message(message.encode().pieces, id: id)
}

private let sa = PushFixtures.sa

/// Sends `op`, lets the fake SA answer with `answer(request)`, waits for the result.
private func run(_ rt: ServiceRuntime, _ t: FakeTunnel, _ op: PushOperationRequest,
                 _ answer: (ARMSRequest) throws -> [UInt8]) async throws -> (ARMSRequest, PushOperationResult) {
    let id = try rt.startPush(op, to: sa)
    let request = try await t.nextRequest()
    try await t.send(try answer(request))
    let result = try #require(await rt.tunnelServer.wait(for: id, timeout: .seconds(20)))
    return (request, result)
}

/// Async: start response then done request (both built), returns the done response read back.
private func runAsync(_ rt: ServiceRuntime, _ t: FakeTunnel, _ op: PushOperationRequest, txid: Int, result: ResultCode = .success,
                      done body: RequestBody) async throws -> (ARMSRequest, PushOperationResult, ARMSResponse) {
    let (request, r) = try await run(rt, t, op) { req in
        let start = ARMSResponse.standard(req.type, .success, transactionID: txid)
        let done = ARMSRequest(type: MessageType(req.type.name, .done), transactionResult: result, distributionID: sa.description,
                               transactionID: txid, description: "armsd", body: body)
        return saChunks(.response(start), id: 11) + saChunks(.request(done), id: 12)
    }
    let doneResponse = try await t.nextResponse()
    return (request, r, doneResponse)
}

@Suite("Push: tunnel endpoint and operations")
struct PushTunnelTests {
    @Test("push-method-query: priority, mixed tunnel URLs, echo interval")
    func methodQuery() async throws {
        try await withPushRuntime(echo: 3, configure: { c in
            c.pushOffer.methods = [PushMethod.httpsTunnel, PushMethod.httpsSimple]
        }) { rt in
            let request = try MockFixture.bytes("libarms-5.33-method-query-request.http")
            let port = try #require(rt.rsURLs.first?.port)
            let response = try await TestClient.response(port: port, tls: try TestClient.tls(), send: request)
            #expect(response.status == 200)
            let arms = try response.arms(expecting: .pushMethodQuery)
            #expect(arms.resultCode == .success)
            guard case .pushMethodQuery(let offer)? = arms.body else { Issue.record("no offer"); return }
            #expect(offer.methods == ["https-tunnel", "https-simple"])
            #expect(offer.echoInterval == 3)
            #expect(offer.tunnelURLs.count == 2)
            #expect(offer.tunnelURLs.first?.hasPrefix("https://127.0.0.1:") == true)
            #expect(offer.tunnelURLs.last?.hasPrefix("https://[::1]:") == true)
            let entries = try await rt.journal.waitForEntries { $0.messageType == "push-method-query" }
            #expect(entries.first?.role == .rs && entries.first?.resultCode == 100)
        }
    }

    @Test("configured offer: four mixed URLs, simple first")
    func methodQueryConfigured() throws {
        let urls = try ["https://127.0.0.1:1/t", "https://[::1]:2/t", "https://127.0.0.1:3/t", "https://[::1]:4/t"].map { try ARMSURL(parsing: $0) }
        let offer = PushOffer(methods: [PushMethod.httpsSimple, PushMethod.httpsTunnel], tunnelURLs: urls, echoInterval: 7)
        try offer.validate()
        let xml = String(decoding: offer.response().encode().bytes, as: UTF8.self)
        #expect(xml.contains("<push-method>https-simple</push-method><push-method>https-tunnel</push-method><https-tunnel-url>https://127.0.0.1:1/t</https-tunnel-url><https-tunnel-url>https://[::1]:2/t</https-tunnel-url>"))
        #expect(xml.contains("<https-tunnel-echo-interval>7</https-tunnel-echo-interval>"))
        #expect(throws: RemoteServerConfigurationError.self) { try PushOffer(tunnelURLs: urls + urls).validate() }
    }

    @Test("tunnel open + confirmation: the accepted bytes, push-ready, echo answered")
    func openConfirmEcho() async throws {
        try await withPushRuntime { rt in
            #expect(rt.pushStatus(of: sa).pushReady == false)
            let t = try await FakeTunnel.open(port: rt.tunnelPortIPv4, head: try MockFixture.bytes("libarms-5.33-tunnel-open-request.http"))
            #expect(t.head == (try MockFixture.bytes("mock-accepted-tunnel-open-response.http")))
            let confirm = try await t.confirm()
            // The first confirmation of a fresh server: chunk ids 1 and 2, transaction 70418033, as accepted by libarms.
            #expect(confirm == (try MockFixture.bytes("mock-accepted-confirm.chunk")))
            try await waitUntil("push-ready") { rt.pushStatus(of: sa).pushReady }
            let status = rt.pushStatus(of: sa)
            #expect(status.mode == "https-tunnel" && status.tunnels.count == 1 && status.tunnels.first?.family == "ipv4")
            try await t.sendFixture("libarms-5.33-echo-request.chunk")
            #expect(try await t.nextRawChunk() == (try MockFixture.bytes("mock-accepted-echo-response.chunk")))
            _ = try await rt.journal.waitForEntries { $0.role == .tunnel && $0.messageType == "push-confirmation-done" && $0.outcome == "ok" }
            await t.close()
            try await waitUntil("tunnel gone") { rt.pushStatus(of: sa).tunnels.isEmpty }
            #expect(rt.pushStatus(of: sa).pushReady == false)
        }
    }

    @Test("echo withheld, then answered again; IPv6 tunnel")
    func echoWithheld() async throws {
        try await withPushRuntime { rt in
            let t = try await rt.readyTunnel(host: "::1")
            #expect(rt.pushStatus(of: sa).tunnels.first?.family == "ipv6")
            rt.setEchoReplies(enabled: false)
            try await t.sendFixture("libarms-5.33-echo-request.chunk")
            _ = try await rt.journal.waitForEntries { $0.outcome == PushOutcome.echoWithheld }
            rt.setEchoReplies(enabled: true)
            try await t.sendFixture("libarms-5.33-echo-request.chunk")
            // Only the second probe is answered.
            #expect(try await t.nextEvent() == .echoReply)
            await t.close()
        }
    }

    @Test("not push-ready: clear error")
    func notReady() async throws {
        try await withPushRuntime { rt in
            await #expect(throws: PushRequestError.notPushReady(sa.description)) {
                _ = try await rt.push(.reboot, to: sa, timeout: .seconds(1))
            }
            // A tunnel that is open but unconfirmed is not enough.
            let t = try await FakeTunnel.open(port: rt.tunnelPortIPv4)
            try await waitUntil("tunnel registered") { rt.pushStatus(of: sa).tunnels.count == 1 }
            #expect(throws: PushRequestError.self) { _ = try rt.startPush(.readModuleList, to: sa) }
            #expect(throws: PushRequestError.unknownOperation("frobnicate")) {
                _ = try rt.startPush(PushOperationRequest(operation: "frobnicate"), to: sa)
            }
            await t.close()
        }
    }

    @Test("bad credentials: 401 and a journal entry")
    func badCredentials() async throws {
        try await withPushRuntime { rt in
            let t = try await FakeTunnel.open(port: rt.tunnelPortIPv4, key: "wrong", expectOK: false)
            #expect(String(decoding: t.head, as: UTF8.self).hasPrefix("HTTP/1.1 401"))
            try await t.waitClosed()
            _ = try await rt.journal.waitForEntries { $0.role == .tunnel && $0.outcome == "bad-credentials" && $0.httpStatus == 401 }
        }
    }

    @Test("sync operations with the captured answers: read-module-list, check-transaction, md-command, reboot")
    func syncOperations() async throws {
        try await withPushRuntime { rt in
            let t = try await rt.readyTunnel()
            var (req, r) = try await run(rt, t, .readModuleList) { _ in try MockFixture.bytes("libarms-5.33-read-module-list-response.chunk") }
            #expect(req.type.attribute == "read-module-list")
            #expect(r.state == .succeeded && r.resultCode == 100)
            #expect(r.modules?.map(\.info) == ["router-main", "filter-rules", "extra"])

            (req, r) = try await run(rt, t, .checkTransaction) { _ in try MockFixture.bytes("libarms-5.33-check-transaction-response.chunk") }
            #expect(r.state == .succeeded && r.transactionIDs == [0])

            let id = try rt.startPush(.mdCommand("show version"), to: sa)
            let raw = try await t.nextRawChunk()
            #expect(PushFixtures.withoutIDs(raw) == PushFixtures.withoutIDs(try MockFixture.bytes("mock-accepted-md-command-request.chunk")))
            try await t.sendFixture("libarms-5.33-md-command-response.chunk")
            r = try #require(await rt.tunnelServer.wait(for: id, timeout: .seconds(20)))
            #expect(r.state == .succeeded && r.output.first?.text == "md_command(id=0): done")

            let rid = try rt.startPush(.reboot, to: sa)
            #expect(PushFixtures.withoutIDs(try await t.nextRawChunk()) == PushFixtures.withoutIDs(try MockFixture.bytes("mock-accepted-reboot-request.chunk")))
            try await t.sendFixture("libarms-5.33-reboot-response.chunk")
            try await t.sendFixture("libarms-5.33-tunnel-close.chunk")
            r = try #require(await rt.tunnelServer.wait(for: rid, timeout: .seconds(20)))
            #expect(r.state == .succeeded)
            try await t.waitClosed()
            try await waitUntil("tunnel gone") { rt.pushStatus(of: sa).tunnels.isEmpty }
            let journaled = rt.journal.entries { $0.role == .tunnel && $0.sa == sa.description }
            #expect(journaled.contains { $0.messageType == "reboot" && $0.resultCode == 100 })
            #expect(journaled.contains { $0.detail?.contains("last chunk") == true })
        }
    }

    @Test("async operations with the captured answers: ping, read-status, configure (drop + done on the new tunnel)")
    func asyncCaptured() async throws {
        try await withPushRuntime { rt in
            var t = try await rt.readyTunnel()
            // ping
            var id = try rt.startPush(.ping("192.0.2.1", count: 3, size: 56), to: sa)
            var req = try await t.nextRequest()
            #expect(req.type.attribute == "ping-start")
            try await t.sendFixture("libarms-5.33-ping-start-response.chunk")
            try await waitUntil("started") { rt.pushResult(id)?.state == .started }
            try await t.sendFixture("libarms-5.33-ping-done-request.chunk")
            var r = try #require(await rt.tunnelServer.wait(for: id, timeout: .seconds(20)))
            #expect(r.state == .succeeded && r.transactionID == 1237451044 && r.pingSuccess == 3 && r.pingFailure == 0)
            let pingDone = try await t.nextRawChunk()
            let pingDoneText = String(decoding: pingDone, as: UTF8.self)
            #expect(pingDoneText.contains("<arms-response type=\"ping-done\"><transaction-id>1237451044</transaction-id><result-code>100</result-code>"))

            // read-status: the request and the done answer as accepted by libarms
            id = try rt.startPush(PushOperationRequest(operation: "read-status", modules: [0, 1]), to: sa)
            req = try await t.nextRequest()
            #expect(req.type.attribute == "read-status-start")
            try await t.sendFixture("libarms-5.33-read-status-start-response.chunk")
            try await t.sendFixture("libarms-5.33-read-status-done-request.chunk")
            r = try #require(await rt.tunnelServer.wait(for: id, timeout: .seconds(20)))
            #expect(r.state == .succeeded && r.output.map(\.module) == [0, 1] && r.output.first?.text == "id=0: get_status_cb() result")
            #expect(PushFixtures.withoutIDs(try await t.nextRawChunk())
                    == PushFixtures.withoutIDs(try MockFixture.bytes("mock-accepted-read-status-done-response.chunk")))

            // configure: several modules in one push; the SA drops the tunnel after the start
            // response and sends configure-done first on the reconnected tunnel.
            id = try rt.startPush(.configure([PushConfigArgument(module: 0, text: "hostname router02\ninterface lan0 address 192.168.0.2/24\n")]), to: sa)
            #expect(PushFixtures.withoutIDs(try await t.nextRawChunk())
                    == PushFixtures.withoutIDs(try MockFixture.bytes("mock-accepted-configure-start-request.chunk")))
            try await t.sendFixture("libarms-5.33-configure-start-response.chunk")
            try await waitUntil("started") { rt.pushResult(id)?.state == .started }
            await t.close()
            t = try await FakeTunnel.open(port: rt.tunnelPortIPv4)
            try await t.sendFixture("libarms-5.33-configure-done-request.chunk")
            r = try #require(await rt.tunnelServer.wait(for: id, timeout: .seconds(20)))
            #expect(r.state == .succeeded && r.transactionID == 766980607 && r.transactionResult == 100)
            #expect(PushFixtures.withoutIDs(try await t.nextRawChunk())
                    == PushFixtures.withoutIDs(try MockFixture.bytes("mock-accepted-configure-done-response.chunk")))
            // then the re-confirmation on the new connection
            try await t.confirm()
            try await waitUntil("push-ready again") { rt.pushStatus(of: sa).pushReady }
            await t.close()
        }
    }

    @Test("the other operations: dump-debug, pull-config, read-storage, clear-status, traceroute, configure rollback")
    func otherOperations() async throws {
        try await withPushRuntime { rt in
            let t = try await rt.readyTunnel()
            var (req, r) = try await run(rt, t, .dumpDebug) { req in
                saChunks(.response(.standard(req.type, body: .moduleResult(ModuleResult(moduleID: 0, output: "debug dump")))))
            }
            #expect(req.type.attribute == "dump-debug" && r.state == .succeeded && r.output.first?.text == "debug dump")

            (req, r) = try await run(rt, t, .pullConfig("LS")) { req in saChunks(.response(.standard(req.type))) }
            #expect(req.body == .pullConfig(type: "LS") && r.state == .succeeded)

            var done: ARMSResponse
            (req, r, done) = try await runAsync(rt, t, .readStorage("candidate"), txid: 5001,
                                                done: .storedConfigs([ModuleConfig(id: 0, content: "hostname x\n"), ModuleConfig(id: 1, content: "")]))
            #expect(req.body == .readStorage(storage: "candidate"))
            #expect(r.state == .succeeded && r.output.map(\.module) == [0, 1] && r.output.first?.text == "hostname x\n")
            #expect(done.type.attribute == "read-storage-done" && done.transactionID == 5001 && done.resultCode == .success)

            (req, r, done) = try await runAsync(rt, t, .clearStatus(modules: [3], parameter: "all"), txid: 5002,
                                                done: .statusReports([StatusReport(moduleID: 3, report: "cleared")]))
            #expect(req.type.attribute == "clear-status-start" && r.state == .succeeded && r.output.first?.text == "cleared")

            (req, r, done) = try await runAsync(rt, t, .traceroute("192.0.2.1", count: 3, maxHop: 30), txid: 5003,
                                                done: .tracerouteResult([TracerouteHop(hop: 1, address: "192.0.2.254"), TracerouteHop(hop: 2, address: "192.0.2.1")]))
            #expect(req.body == .traceroute(TracerouteRequest(address: "192.0.2.1", count: 3, maxHop: 30)))
            #expect(r.state == .succeeded && r.hops?.count == 2)

            // configure with two modules, rolled back by the SA (414)
            (req, r, done) = try await runAsync(rt, t, .configure([PushConfigArgument(module: 0, text: "a\n"),
                                                                   PushConfigArgument(module: 1, text: "YmluYXJ5", base64: true)]),
                                                txid: 5004, result: .rollbacked, done: .empty)
            guard case .configure(let c) = req.body else { Issue.record("not a configure"); return }
            #expect(c.configs.map(\.id) == [0, 1] && c.modules.count == 3)
            #expect(r.state == .failed && r.transactionResult == 414 && r.error?.contains("414") == true)

            // a start refused by the SA
            (req, r) = try await run(rt, t, .ping("192.0.2.9")) { req in saChunks(.response(.standard(req.type, .notSupported))) }
            #expect(r.state == .failed && r.resultCode == 505)
            await t.close()
        }
    }

    @Test("malformed chunk closes that tunnel only, with the reason in the journal")
    func malformedChunk() async throws {
        try await withPushRuntime { rt in
            let good = try await rt.readyTunnel()
            let bad = try await rt.readyTunnel(host: "::1")
            #expect(rt.pushStatus(of: sa).tunnels.count == 2)
            try await bad.send(Array("zz;id=1\r\nxx\r\n".utf8))
            try await bad.waitClosed()
            let entries = try await rt.journal.waitForEntries { $0.outcome == PushOutcome.framingError }
            #expect(entries.first?.detail?.contains("bad chunk size") == true)
            try await waitUntil("one tunnel left") { rt.pushStatus(of: sa).tunnels.count == 1 }
            // The other tunnel still works.
            let (_, r) = try await run(rt, good, .readModuleList) { _ in try MockFixture.bytes("libarms-5.33-read-module-list-response.chunk") }
            #expect(r.state == .succeeded)
            await good.close()
        }
    }

    @Test("server-side drop: last chunk then close, status updated")
    func drop() async throws {
        try await withPushRuntime { rt in
            let a = try await rt.readyTunnel()
            let b = try await rt.readyTunnel()
            #expect(rt.pushStatus(of: sa).tunnels.filter(\.ready).count == 2)
            rt.dropTunnels(of: sa)
            try await a.waitClosed()
            try await b.waitClosed()
            #expect(try await a.nextEvent() == .endOfStream)
            #expect(rt.pushStatus(of: sa).pushReady == false && rt.pushStatus(of: sa).tunnels.isEmpty)
            _ = try await rt.journal.waitForEntries(2) { $0.outcome == PushOutcome.dropped }
        }
    }

    @Test("an SA that never answers: the operation times out, that tunnel is closed, a new one carries the next push")
    func timeout() async throws {
        try await withPushRuntime { rt in
            let t = try await rt.readyTunnel()
            let r = try await rt.push(.dumpDebug, to: sa, timeout: .milliseconds(300))
            #expect(r.state == .timedOut)
            _ = try await t.nextRequest()
            // Answers are paired with requests by order; a late one must not be taken for the next
            // request's, so the tunnel that lost its answer is closed.
            try await t.waitClosed()
            #expect(rt.pushStatus(of: sa).pushReady == false)
            let fresh = try await rt.readyTunnel()
            let (_, next) = try await run(rt, fresh, .readModuleList) { _ in try MockFixture.bytes("libarms-5.33-read-module-list-response.chunk") }
            #expect(next.state == .succeeded)
            await fresh.close()
        }
    }

    @Test("50 SAs at once, each confirmed and pushed to")
    func fiftySAs() async throws {
        let fleet = (1...50).map { n in
            SAProfile(distributionID: DistributionID(version: 1, vendorCode: 0x1234, saType: 0x56, saCode: UInt64(n)),
                      lsKey: "ls", rsKey: "key-\(n)")
        }
        try await withPushRuntime(fleet: fleet) { rt in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for p in fleet {
                    group.addTask {
                        let id = p.distributionID
                        let t = try await FakeTunnel.open(port: rt.tunnelPortIPv4, sa: id, key: p.rsKey)
                        let start = ARMSRequest(type: .pushConfirmationStart, distributionID: id.description, description: "armsd",
                                                body: .pushConfirmationStart(method: "https-tunnel", endpoint: nil))
                        try await t.send(saChunks(.request(start)))
                        let startAnswer = try await t.nextResponse()
                        let doneRequest = try await t.nextRequest()
                        #expect(doneRequest.type == .pushConfirmationDone && doneRequest.distributionID == id.description)
                        try await t.send(saChunks(.response(.standard(.pushConfirmationDone, transactionID: startAnswer.transactionID))))
                        try await waitUntil("ready \(id)", timeout: .seconds(60)) { rt.pushStatus(of: id).pushReady }
                        let opID = try rt.startPush(.mdCommand("show \(id)"), to: id)
                        let req = try await t.nextRequest()
                        guard case .mdCommand(let cmds) = req.body else { throw TestFailure("not md-command") }
                        try await t.send(saChunks(.response(.standard(req.type, body: .moduleResult(ModuleResult(moduleID: 0, output: cmds[0].command))))))
                        let r = try #require(await rt.tunnelServer.wait(for: opID, timeout: .seconds(60)))
                        #expect(r.state == .succeeded && r.output.first?.text == "show \(id)")
                        await t.close()
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test("control API: start, long-poll, status; 409 when not push-ready")
    func controlAPI() async throws {
        try await withPushRuntime { rt in
            let client = try ControlClient(url: rt.controlURL, timeout: .seconds(30))
            do {
                _ = try await client.startPush(.reboot, to: sa)
                Issue.record("expected 409")
            } catch let error as ControlClientError {
                guard case .server(let status, let message) = error else { throw error }
                #expect(status == 409 && message.contains("not push-ready"))
            }
            let t = try await rt.readyTunnel()
            let status = try #require(try await client.pushStatus(sa))
            #expect(status.pushReady && status.tunnels.count == 1)
            let started = try await client.startPush(.mdCommand("show version"), to: sa)
            #expect(started.state == .sent || started.state == .queued)
            let req = try await t.nextRequest()
            #expect(req.type.attribute == "md-command")
            try await t.sendFixture("libarms-5.33-md-command-response.chunk")
            let done = try #require(try await client.operation(started.id, wait: 20))
            #expect(done.state == .succeeded && done.output.first?.text == "md_command(id=0): done")
            #expect(try await client.operation(99999) == nil)
            let ready = try await client.status()
            #expect(ready.endpoints.contains { $0.role == .tunnel })
            await t.close()
        }
    }
}

@Suite("Push: engine without sockets")
struct PushEngineTests {
    private func writes(_ actions: [PushAction]) -> [[UInt8]] {
        actions.compactMap { if case .write(_, let b) = $0 { return b } else { return nil } }
    }

    @Test("confirmation, a sync push, a done request, expiry")
    func lifecycle() throws {
        var e = PushEngine()
        let (t, _) = e.openTunnel(sa: sa.description, peer: "127.0.0.1:1", family: .ipv4)
        #expect(throws: PushRequestError.self) { _ = try e.submit(ARMSRequest(type: MessageType(.reboot)), for: sa.description) }
        let confirm = e.receive(try MockFixture.bytes("libarms-5.33-confirm-start-request.chunk"), on: t)
        #expect(writes(confirm).reduce([], +) == (try MockFixture.bytes("mock-accepted-confirm.chunk")))
        #expect(!e.isPushReady(sa.description))
        _ = e.receive(try MockFixture.bytes("libarms-5.33-confirm-done-response.chunk"), on: t)
        #expect(e.isPushReady(sa.description))

        let ping = try PushOperationRequest.ping("192.0.2.1").armsRequest(distributionID: sa.description, moduleList: [])
        let (op, sent) = try e.submit(ping, for: sa.description)
        #expect(writes(sent).count == 1 && e.result(op)?.state == .sent)
        // a second one queues behind it
        let (op2, none) = try e.submit(ARMSRequest(type: MessageType(.readModuleList)), for: sa.description)
        #expect(writes(none).isEmpty && e.result(op2)?.state == .queued)
        let afterStart = e.receive(try MockFixture.bytes("libarms-5.33-ping-start-response.chunk"), on: t)
        #expect(e.result(op)?.state == .started && writes(afterStart).count == 1)   // the queued one goes out
        let done = e.receive(try MockFixture.bytes("libarms-5.33-ping-done-request.chunk"), on: t)
        #expect(e.result(op)?.state == .succeeded && writes(done).count == 1)
        // A third one waits behind the second; when the second expires, its tunnel is closed (a late
        // answer cannot be paired with the third) and the third fails with it: there is no other tunnel.
        let (op3, _) = try e.submit(ARMSRequest(type: MessageType(.checkTransaction)), for: sa.description)
        let expired = e.expire(op2)
        #expect(e.result(op2)?.state == .timedOut)
        #expect(expired.contains { if case .close(tunnel: t, lastChunk: true) = $0 { return true } else { return false } })
        #expect(e.result(op3)?.state == .failed)
        #expect(!e.isPushReady(sa.description))
        // The late answer on the closed tunnel changes nothing.
        _ = e.receive(try MockFixture.bytes("libarms-5.33-read-module-list-response.chunk"), on: t)
        #expect(e.result(op3)?.state == .failed && e.result(op2)?.state == .timedOut)
    }

    @Test("done answer hook: configure-done refused, the re-sent 414 is recorded")
    func doneAnswerHook() throws {
        var e = PushEngine()
        e.doneAnswer = { _, r in r.transactionResult == .success ? ResultCode(400) : nil }
        let (t, _) = e.openTunnel(sa: sa.description, peer: nil, family: .ipv4)
        _ = e.receive(try MockFixture.bytes("libarms-5.33-confirm-start-request.chunk"), on: t)
        _ = e.receive(try MockFixture.bytes("libarms-5.33-confirm-done-response.chunk"), on: t)
        let configure = try PushOperationRequest.configure([PushConfigArgument(module: 0, text: "x\n")])
            .armsRequest(distributionID: sa.description, moduleList: [])
        let (op, _) = try e.submit(configure, for: sa.description)
        _ = e.receive(try MockFixture.bytes("libarms-5.33-configure-start-response.chunk"), on: t)
        let first = writes(e.receive(try MockFixture.bytes("libarms-5.33-configure-done-request.chunk"), on: t))
        #expect(String(decoding: try #require(first.first), as: UTF8.self).contains("<result-code>400</result-code>"))
        #expect(e.result(op)?.state == .started && e.result(op)?.transactionResult == 100)
        let rolledBack = String(decoding: try MockFixture.bytes("libarms-5.33-configure-done-request.chunk"), as: UTF8.self)
            .replacingOccurrences(of: "<transaction-result>100<", with: "<transaction-result>414<")
        let second = writes(e.receive(Array(rolledBack.utf8), on: t))
        #expect(String(decoding: try #require(second.first), as: UTF8.self).contains("<result-code>100</result-code>"))
        #expect(e.result(op)?.state == .failed && e.result(op)?.transactionResult == 414)
    }

    @Test("https-simple: a done request that overtakes the recorded start answer is kept and applied")
    func simpleDoneBeforeStartAnswer() throws {
        var e = PushEngine()
        let id = sa.description
        _ = e.simpleConfirmationStart(sa: id, endpoint: "https://127.0.0.1:10443/")
        e.simpleConfirmed(sa: id, endpoint: "https://127.0.0.1:10443/")
        let ping = try PushOperationRequest.ping("127.0.0.1", count: 1).armsRequest(distributionID: id, moduleList: [])
        let op = try e.submitSimple(ping, for: id)
        // The SA closed the start connection, pinged and POSTed its done before the RS's
        // client task recorded the start answer.
        let done = ARMSRequest(type: MessageType(.ping, .done), transactionResult: .success, distributionID: id, transactionID: 77,
                               description: "armsd", body: .pingResult(success: 1, failure: 0))
        let (answer, _) = e.simpleDone(done, sa: id)
        #expect(answer.resultCode == .success)
        #expect(e.result(op)?.state == .sent)
        e.simpleReply(op, .success(.standard(MessageType(.ping, .start), transactionID: 77)))
        #expect(e.result(op)?.state == .succeeded)
        #expect(e.result(op)?.pingSuccess == 1 && e.result(op)?.transactionResult == 100)
        // A done for a transaction nobody started stays unknown.
        var stray = done
        stray.transactionID = 78
        #expect(e.simpleDone(stray, sa: id).1.contains("unknown transaction"))
    }

    @Test("tunnels are kept per SA: status, least-busy choice, moves on close; finished operations are reported once")
    func perSAIndexAndFinishedList() throws {
        var e = PushEngine()
        func confirm(_ t: Int) throws {
            _ = e.receive(try MockFixture.bytes("libarms-5.33-confirm-start-request.chunk"), on: t)
            _ = e.receive(try MockFixture.bytes("libarms-5.33-confirm-done-response.chunk"), on: t)
        }
        // Tunnels of three SAs opened interleaved.
        let (a1, _) = e.openTunnel(sa: "A", peer: nil, family: .ipv4)
        let (b1, _) = e.openTunnel(sa: "B", peer: nil, family: .ipv4)
        let (a2, _) = e.openTunnel(sa: "A", peer: nil, family: .ipv6)
        let (c1, _) = e.openTunnel(sa: "C", peer: nil, family: .ipv4)
        for t in [a1, b1, a2, c1] { try confirm(t) }
        #expect(e.tunnelIDs(of: "A") == [a1, a2] && e.tunnelIDs(of: "B") == [b1] && e.tunnelIDs(of: "Z").isEmpty)
        #expect(e.status(of: "A").tunnels.map(\.id) == [a1, a2] && e.status(of: "A").tunnels.map(\.family) == ["ipv4", "ipv6"])
        #expect(e.status(of: "C").pushReady && !e.status(of: "Z").pushReady)

        // Two operations to A: the first goes to a1, the second to the idle a2.
        let (op1, _) = try e.submit(ARMSRequest(type: MessageType(.readModuleList)), for: "A")
        let (op2, _) = try e.submit(ARMSRequest(type: MessageType(.readModuleList)), for: "A")
        #expect(e.result(op1)?.tunnel == a1 && e.result(op2)?.tunnel == a2)
        // A third queues behind one of them; closing a1 fails op1 and moves a queued op to a2.
        let (op3, _) = try e.submit(ARMSRequest(type: MessageType(.checkTransaction)), for: "A")
        #expect(e.result(op3)?.tunnel == a1 && e.result(op3)?.state == .queued)
        _ = e.takeFinished()
        _ = e.tunnelClosed(a1, reason: "test")
        #expect(e.result(op1)?.state == .failed && e.result(op3)?.tunnel == a2)
        #expect(e.tunnelIDs(of: "A") == [a2] && e.status(of: "B").tunnels.map(\.id) == [b1])
        #expect(e.takeFinished() == [op1])
        // a2 answers op2, then op3 goes out and is answered: each reported once, in order.
        _ = e.receive(try MockFixture.bytes("libarms-5.33-read-module-list-response.chunk"), on: a2)
        #expect(e.result(op2)?.state == .succeeded && e.result(op3)?.state == .sent)
        #expect(e.takeFinished() == [op2])
        _ = e.expire(op3)
        #expect(e.takeFinished() == [op3] && e.takeFinished().isEmpty)
        // Expiring op3 closed a2: A has no tunnel left, the others keep theirs.
        #expect(e.tunnelIDs(of: "A").isEmpty && !e.isPushReady("A") && e.isPushReady("B") && e.isPushReady("C"))
        #expect(throws: PushRequestError.self) { _ = try e.submit(ARMSRequest(type: MessageType(.reboot)), for: "A") }
    }

    @Test("only finished operations are forgotten, oldest finish first, beyond maxOperations")
    func eviction() throws {
        var e = PushEngine(limits: .init(maxOperations: 3))
        func confirmedTunnel() throws -> Int {
            let (t, _) = e.openTunnel(sa: "A", peer: nil, family: .ipv4)
            _ = e.receive(try MockFixture.bytes("libarms-5.33-confirm-start-request.chunk"), on: t)
            _ = e.receive(try MockFixture.bytes("libarms-5.33-confirm-done-response.chunk"), on: t)
            return t
        }
        let t1 = try confirmedTunnel()
        let first = try (0..<5).map { _ in try e.submit(ARMSRequest(type: MessageType(.readModuleList)), for: "A").0 }
        // Five unfinished: none is forgotten, whatever the limit.
        #expect(first.allSatisfy { e.result($0) != nil })
        _ = e.tunnelClosed(t1, reason: "test")   // all five fail, in order
        _ = try confirmedTunnel()
        let next = try e.submit(ARMSRequest(type: MessageType(.readModuleList)), for: "A").0
        // Six kept before the submit's eviction, three after it: the three oldest finished went.
        #expect(first.map { e.result($0) == nil } == [true, true, true, false, false])
        #expect(e.result(next)?.state == .sent)
    }

    @Test("bad framing: close action and journal, pending operation failed")
    func badFraming() throws {
        var e = PushEngine()
        let (t, _) = e.openTunnel(sa: "X", peer: nil, family: nil)
        _ = e.receive(try MockFixture.bytes("libarms-5.33-confirm-start-request.chunk"), on: t)
        _ = e.receive(try MockFixture.bytes("libarms-5.33-confirm-done-response.chunk"), on: t)
        let (op, _) = try e.submit(ARMSRequest(type: MessageType(.reboot)), for: "X")
        let actions = e.receive(Array("4;id=1\r\nabcdXX".utf8), on: t)
        #expect(actions.contains(.close(tunnel: t, lastChunk: false)))
        #expect(actions.contains { if case .journal(let j) = $0 { return j.outcome == PushOutcome.framingError } else { return false } })
        #expect(e.result(op)?.state == .failed && e.openTunnelCount == 0)
    }

    @Test("large requests are split into chunks of one id")
    func largeRequest() throws {
        var e = PushEngine(limits: .init(maxChunkData: 100))
        let (t, _) = e.openTunnel(sa: "X", peer: nil, family: nil)
        _ = e.receive(try MockFixture.bytes("libarms-5.33-confirm-start-request.chunk"), on: t)
        _ = e.receive(try MockFixture.bytes("libarms-5.33-confirm-done-response.chunk"), on: t)
        let big = try PushOperationRequest.configure([PushConfigArgument(module: 0, text: String(repeating: "x", count: 1000))])
            .armsRequest(distributionID: "X", moduleList: [])
        let (_, actions) = try e.submit(big, for: "X")
        let chunks = writes(actions)
        #expect(chunks.count > 10)
        var assembler = TunnelMessageAssembler()
        for c in chunks { assembler.feed(c) }
        guard case .message(let m)? = try assembler.next() else { Issue.record("no message"); return }
        #expect(try ARMSRequest.decode(m.data) == big)
    }
}
