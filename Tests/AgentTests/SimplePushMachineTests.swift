import Testing
@testable import Agent

// The https-simple machine without sockets (push.md §4.2, §5, §7).

enum SimpleRun {
    static let auth = PushFixtureRun.settings.credentials.headerValue
    static let distid = PushFixtureRun.distid.description

    static func machine(urls: [String] = ["https://127.0.0.1:18443/rs", "https://[::1]:18443/rs"]) -> SimplePushMachine {
        SimplePushMachine(settings: PushFixtureRun.settings, family: .ipv4, localHost: "127.0.0.1", port: 0,
                          pullServerURLs: urls, resultURL: "https://127.0.0.1:18443/rs", state: .pullDone,
                          modules: PushFixtureRun.modules, randomID: { 1804289383 })
    }

    static func request(_ type: String, _ body: String = "") -> [UInt8] {
        Array("<arms-message><arms-request type=\"\(type)\"><distribution-id>\(distid)</distribution-id>\(body)</arms-request></arms-message>".utf8)
    }

    static func text(_ actions: [PushAction.Simple]) -> [String] {
        actions.compactMap { if case .log(let l) = $0 { return l.text } else { return nil } }
    }

    static func answers(_ actions: [PushAction.Simple]) -> [String] {
        actions.compactMap { if case .answer(_, let b) = $0 { return String(decoding: b, as: UTF8.self) } else { return nil } }
    }

    static func posts(_ actions: [PushAction.Simple]) -> [(Int, String, ARMSRequest)] {
        actions.compactMap { if case .post(let t, let u, let r, _) = $0 { return (t, u, r) } else { return nil } }
    }

    static func confirmed(_ m: inout SimplePushMachine, now: ContinuousClock.Instant) -> [PushAction.Simple] {
        var out = m.start(now: now)
        let up = m.handle(.listening, now: now)
        out += up
        for (token, _, _) in posts(up) {
            let response = ARMSResponse.standard(.pushConfirmationStart, .success, transactionID: 70418033)
            out += m.handle(.posted(token: token, .answered(response, local: try! SocketAddress.numeric(host: "127.0.0.1", port: 1))), now: now)
        }
        out += m.handle(.request(connection: 1, authorization: auth, body: request("push-confirmation-done", "<transaction-id>70418033</transaction-id><push-confirmation-done-request></push-confirmation-done-request>")), now: now)
        return out
    }
}

@Suite struct SimplePushMachineTests {
    let now = ContinuousClock.now

    @Test func confirmationPostsToMatchingFamilyAndEntersPushWait() throws {
        var m = SimpleRun.machine()
        let actions = SimpleRun.confirmed(&m, now: now)
        let posts = SimpleRun.posts(actions)
        try #require(posts.count == 1)
        #expect(posts[0].1 == "https://127.0.0.1:18443/rs")
        let body = String(decoding: posts[0].2.encode(style: .libarms).bytes, as: UTF8.self)
        #expect(body.contains("<push-confirmation-start-request><push-method>https-simple</push-method><push-endpoint>https://127.0.0.1:10443/</push-endpoint></push-confirmation-start-request>"))
        #expect(actions.contains(.listen(port: 10443)))
        let logs = SimpleRun.text(actions)
        #expect(logs.starts(with: ["Push method: simple", "Start push confirmation"]))
        #expect(logs.contains("address family mismatched: ::1"))
        #expect(logs.contains("[70418033] End push-confirmation-start"))
        #expect(logs.contains("[-] End push-confirmation-done"))
        #expect(actions.contains(.state(from: .pullDone, to: .pushSendReady)))
        #expect(actions.contains(.state(from: .pushSendReady, to: .pushWait)))
        let answer = try #require(SimpleRun.answers(actions).first)
        #expect(answer == "HTTP/1.0 200 OK\r\nServer: armsd\r\nConnection: close\r\nContent-Type: text/xml\r\n\r\n<?xml version=\"1.0\" encoding=\"US-ASCII\" ?>\r<arms-message><arms-response type=\"push-confirmation-done\"><result-code>100</result-code><description>Success</description><push-confirmation-done-response></push-confirmation-done-response></arms-response></arms-message>")
        #expect(m.state == .pushWait)
        #expect(m.nextDeadline == nil)
    }

    @Test func watchdogFailsTheMethod() {
        var m = SimpleRun.machine()
        _ = m.start(now: now)
        #expect(m.nextDeadline == nil)
        _ = m.handle(.listening, now: now)
        #expect(m.handle(.timer, now: now + .seconds(59)).isEmpty)
        let actions = m.handle(.timer, now: now + .seconds(60))
        #expect(SimpleRun.text(actions) == ["confirmation timeout", "Failed push confirmation by simple."])
        #expect(actions.contains(.closeListener))
        #expect(actions.last == .finish(.methodFailed))
    }

    @Test func badAuthorizationGets401() {
        var m = SimpleRun.machine()
        _ = m.start(now: now)
        let actions = m.handle(.request(connection: 3, authorization: "Basic Zm9vOmJhcg==", body: SimpleRun.request("reboot")), now: now)
        #expect(actions.contains(.answer(connection: 3, bytes: Array("HTTP/1.0 401 Authorization Required\r\nWWW-Authenticate: Basic realm=\"\"\r\nServer: armsd\r\nConnection: close\r\nContent-Type: text/xml\r\n\r\n<?xml version=\"1.0\" encoding=\"US-ASCII\" ?>\r".utf8))))
        #expect(m.end == nil)
        let missing = m.handle(.request(connection: 4, authorization: nil, body: SimpleRun.request("reboot")), now: now)
        #expect(SimpleRun.answers(missing).first?.hasPrefix("HTTP/1.0 401 ") == true)
    }

    @Test func syncMdCommandIsAnsweredOnTheConnection() throws {
        var m = SimpleRun.machine()
        _ = SimpleRun.confirmed(&m, now: now)
        let actions = m.handle(.request(connection: 7, authorization: SimpleRun.auth, body: SimpleRun.request("md-command", "<md-command-request><md-command id=\"0\">show version</md-command></md-command-request>")), now: now)
        guard case .execute(let token, let work)? = actions.last else { Issue.record("\(actions)"); return }
        guard case .mdCommand(let command) = work else { Issue.record("\(work)"); return }
        #expect(command.moduleID == 0)
        let done = m.handle(.executed(token: token, .moduleOutput(.success, Payload(text: "ok"))), now: now)
        let answer = try #require(SimpleRun.answers(done).first)
        #expect(answer.hasSuffix("<arms-response type=\"md-command\"><result-code>100</result-code><description>Success</description><md-command-response><md-result id=\"0\">ok</md-result></md-command-response></arms-response></arms-message>"))
    }

    @Test func asyncPingAnswersStartThenPostsDoneToResultURL() throws {
        var m = SimpleRun.machine()
        _ = SimpleRun.confirmed(&m, now: now)
        let body = "<result-url>https://127.0.0.1:9/arms/result</result-url><ping-start-request><address>192.0.2.1</address><count>3</count><size>56</size></ping-start-request>"
        let actions = m.handle(.request(connection: 8, authorization: SimpleRun.auth, body: SimpleRun.request("ping-start", body)), now: now)
        try #require(actions.count == 3)
        #expect(SimpleRun.answers(actions) == ["HTTP/1.0 200 OK\r\nServer: armsd\r\nConnection: close\r\nContent-Type: text/xml\r\n\r\n<?xml version=\"1.0\" encoding=\"US-ASCII\" ?>\r<arms-message><arms-response type=\"ping-start\"><transaction-id>1804289383</transaction-id><result-code>100</result-code><description>Success</description><ping-start-response></ping-start-response></arms-response></arms-message>"])
        guard case .execute(let token, .ping) = actions[2] else { Issue.record("\(actions)"); return }
        let done = m.handle(.executed(token: token, .ping(.success, success: 3, failure: 0)), now: now)
        let posts = SimpleRun.posts(done)
        try #require(posts.count == 1)
        #expect(posts[0].1 == "https://127.0.0.1:9/arms/result")
        #expect(String(decoding: posts[0].2.encode(style: .libarms).bytes, as: UTF8.self) == "<arms-message><arms-request type=\"ping-done\"><transaction-result>100</transaction-result><distribution-id>\(SimpleRun.distid)</distribution-id><transaction-id>1804289383</transaction-id><description>libarms Test Client</description><ping-done-request><success>3</success><failure>0</failure></ping-done-request></arms-request></arms-message>")
        let response = ARMSResponse.standard(MessageType(.ping, .done), .success)
        let end = m.handle(.posted(token: posts[0].0, .answered(response, local: try SocketAddress.numeric(host: "127.0.0.1", port: 1))), now: now)
        #expect(SimpleRun.text(end) == ["libarms got result 100 from server.", "[1804289383] End ping"])
        #expect(m.end == nil)
    }

    @Test func configureSuccessReconfirms() throws {
        var m = SimpleRun.machine()
        _ = SimpleRun.confirmed(&m, now: now)
        let body = "<configure-start-request><module id=\"0\" version=\"1.1\">router-main</module><md-config id=\"0\">hostname r2</md-config></configure-start-request>"
        let a1 = m.handle(.request(connection: 9, authorization: SimpleRun.auth, body: SimpleRun.request("configure-start", body)), now: now)
        guard case .execute(let store, .configureStore) = a1.last else { Issue.record("\(a1)"); return }
        let a2 = m.handle(.executed(token: store, .configureStored(.success, modules: PushFixtureRun.modules)), now: now)
        #expect(SimpleRun.answers(a2).first?.contains("<arms-response type=\"configure-start\"><transaction-id>1804289383</transaction-id><result-code>100</result-code>") == true)
        guard case .execute(let commit, .configureCommit) = a2.last else { Issue.record("\(a2)"); return }
        let a3 = m.handle(.executed(token: commit, .configureCommitted(.success)), now: now)
        let posts = SimpleRun.posts(a3)
        try #require(posts.count == 1)
        #expect(posts[0].2.type == MessageType(.configure, .done))
        #expect(posts[0].2.transactionResult == .success)
        let response = ARMSResponse.standard(MessageType(.configure, .done), .success, transactionID: 1804289383)
        let a4 = m.handle(.posted(token: posts[0].0, .answered(response, local: try SocketAddress.numeric(host: "127.0.0.1", port: 1))), now: now)
        #expect(a4.contains(.closeListener))
        #expect(a4.contains(.state(from: .pushWait, to: .pushReboot)))
        #expect(a4.contains(.state(from: .pushReboot, to: .pushSendReady)))
        #expect(a4.contains(.listen(port: 10443)))
        #expect(SimpleRun.posts(a4).isEmpty)
        #expect(SimpleRun.posts(m.handle(.listening, now: now)).count == 1)
        #expect(m.end == nil)
    }

    @Test func configureDoneFailuresRetryThenRollBack() throws {
        let settings = PushSettings(distributionID: PushFixtureRun.distid, description: "d", presharedKey: "rs-secret",
                                    retryMax: 1, retryInterval: 2)
        var m = SimplePushMachine(settings: settings, family: .ipv4, localHost: "127.0.0.1", port: 0,
                                  pullServerURLs: [], resultURL: "https://127.0.0.1:9/r", state: .pushWait,
                                  modules: [], randomID: { 5 })
        let body = "<configure-start-request></configure-start-request>"
        let a1 = m.handle(.request(connection: 1, authorization: settings.credentials.headerValue, body: SimpleRun.request("configure-start", body)), now: now)
        guard case .execute(let store, _) = a1.last else { Issue.record("\(a1)"); return }
        guard case .execute(let commit, _) = m.handle(.executed(token: store, .configureStored(.success, modules: [])), now: now).last else { return }
        var posts = SimpleRun.posts(m.handle(.executed(token: commit, .configureCommitted(.success)), now: now))
        try #require(posts.count == 1)
        _ = m.handle(.posted(token: posts[0].0, .failed("refused")), now: now)
        #expect(m.nextDeadline == now + .seconds(2))
        posts = SimpleRun.posts(m.handle(.timer, now: now + .seconds(2)))
        try #require(posts.count == 1)
        let a = m.handle(.posted(token: posts[0].0, .failed("refused")), now: now + .seconds(2))
        guard case .execute(let revert, .configureRevert) = a.last else { Issue.record("\(a)"); return }
        _ = m.handle(.executed(token: revert, .configureReverted(true)), now: now + .seconds(2))
        posts = SimpleRun.posts(m.handle(.timer, now: now + .seconds(10)))
        try #require(posts.count == 1)
        #expect(posts[0].2.transactionResult == .rollbacked)
        _ = m.handle(.posted(token: posts[0].0, .failed("x")), now: now + .seconds(10))
        posts = SimpleRun.posts(m.handle(.timer, now: now + .seconds(20)))
        try #require(posts.count == 1)
        let last = m.handle(.posted(token: posts[0].0, .failed("x")), now: now + .seconds(20))
        #expect(last.last == .finish(.pull(trigger: "rollback failure", forgetEndpoint: false)))
    }

    @Test func requestReaderBoundsAndFraming() {
        var r = SimpleRequestReader()
        #expect(r.feed(Array("POST / HTTP/1.0\r\nAuthorization: Basic eA==\r\n\r\n<arms-message>".utf8)) == .needMore)
        #expect(r.feed(Array("</arms-message>".utf8)) == .request(authorization: "Basic eA==", body: Array("<arms-message></arms-message>".utf8)))
        var long = SimpleRequestReader()
        if case .bad = long.feed(Array("POST /\(String(repeating: "a", count: 81)) HTTP/1.0\r\n\r\n".utf8)) {} else { Issue.record("long URI accepted") }
        var line = SimpleRequestReader()
        if case .bad = line.feed(Array("POST / HTTP/1.0\r\nX: \(String(repeating: "b", count: 1100))\r\n\r\n".utf8)) {} else { Issue.record("long line accepted") }
        // Wrong credentials end the request at the end of the head (401 without waiting for a body).
        var guarded = SimpleRequestReader(credentials: PushFixtureRun.settings.credentials)
        #expect(guarded.feed(Array("POST / HTTP/1.0\r\nAuthorization: Basic eA==\r\n\r\n".utf8)) == .request(authorization: "Basic eA==", body: []))
        var lowercase = SimpleRequestReader(credentials: PushFixtureRun.settings.credentials)
        #expect(lowercase.feed(Array("POST / HTTP/1.0\r\nauthorization: \(SimpleRun.auth)\r\n\r\n".utf8)) == .request(authorization: nil, body: []))
        var good = SimpleRequestReader(credentials: PushFixtureRun.settings.credentials)
        #expect(good.feed(Array("POST / HTTP/1.0\r\nAuthorization: \(SimpleRun.auth)\r\n\r\n".utf8)) == .needMore)
        var chunked = SimpleRequestReader()
        #expect(chunked.feed(Array("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n".utf8)) == .request(authorization: nil, body: Array("abc".utf8)))
    }

    @Test func methodsRunInTheRSOrderUntilOneHolds() {
        #expect(PushMethodQuery.offeredMethods(simpleAvailable: true) == ["https-simple", "https-tunnel"])
        #expect(PushMethodQuery.offeredMethods(simpleAvailable: false) == ["https-tunnel"])
        let offer = PushMethodQueryResult(methods: ["https-tunnel", "https-simple"], tunnelURLs: [], echoInterval: nil)
        #expect(PushMethodQuery.usableMethods(offer, simpleAvailable: false) == ["https-tunnel"])
        var ran: [String] = []
        let end = PushMethodQuery.runMethods(PushMethodQuery.usableMethods(offer, simpleAvailable: true)) { method in
            ran.append(method)
            return method == "https-tunnel" ? .methodFailed : .reboot(trigger: "x")
        }
        #expect(ran == ["https-tunnel", "https-simple"])
        #expect(end == .reboot(trigger: "x"))
        var logs: [String] = []
        let none = PushMethodQuery.runMethods(["https-simple"], log: { logs.append($0.text) }) { _ in .methodFailed }
        #expect(none == .pull(trigger: "no push method", forgetEndpoint: false))
        #expect(logs == ["no push method."])
    }

    @Test func failingBindIsRetriedSevenTimesThenPull() {
        var m = SimpleRun.machine()
        let start = m.start(now: now)
        #expect(start.last == .listen(port: 10443))
        #expect(SimpleRun.posts(start).isEmpty)
        var t = now
        for k in 1...7 {
            let a = m.handle(.listenFailed("in use"), now: t)
            #expect(SimpleRun.text(a) == ["listen failed: in use, retry (\(k)/7) after 60 sec."])
            #expect(m.nextDeadline == t + .seconds(60))
            t = t + .seconds(60)
            #expect(m.handle(.timer, now: t) == [.listen(port: 10443)])
        }
        let last = m.handle(.listenFailed("in use"), now: t)
        #expect(last.last == .finish(.pull(trigger: "cannot listen", forgetEndpoint: false)))
    }

    @Test func confirmationDoneWithAnotherDistidStillConfirms() throws {
        var m = SimpleRun.machine()
        _ = m.start(now: now)
        _ = m.handle(.listening, now: now)
        let body = Array("<arms-message><arms-request type=\"push-confirmation-done\"><distribution-id>0001-0000-0000-0000-0000-0000-0000-0009</distribution-id><push-confirmation-done-request></push-confirmation-done-request></arms-request></arms-message>".utf8)
        let a = m.handle(.request(connection: 2, authorization: SimpleRun.auth, body: body), now: now)
        let answer = try #require(SimpleRun.answers(a).first)
        #expect(answer.contains("<arms-response type=\"push-confirmation-done\"><result-code>423</result-code>"))
        #expect(m.state == .pushWait)
    }
}
