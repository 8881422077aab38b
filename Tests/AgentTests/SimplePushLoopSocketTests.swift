import Glibc
import Testing
@testable import Agent

// The https-simple loop over real TLS on loopback against a scripted RS:
// confirm-start POST → RS connects to the agent's listener with
// confirm-done → PUSH_WAIT; md-command answered by the real command script;
// ping whose done request reaches the RS's result endpoint; bad auth → 401;
// reboot ends the loop.

extension ScriptedRS {
    /// Accepts the agent's HTTP/1.1 chunked POST and returns it (head and chunked body, raw).
    func receivePost(seconds: Int = 15) throws -> (TLSClientConnection, String) {
        let t = try accept(seconds: seconds)
        var bytes: [UInt8] = []
        let deadline = ContinuousClock.now + .seconds(seconds)
        let last = Array("\r\n0\r\n\r\n".utf8)
        while !bytes.reversed().starts(with: last.reversed()) {
            let got = try t.connection.read(upTo: 8192, deadline: deadline)
            guard !got.isEmpty else { throw ScriptedRSError(description: "closed before the end of the POST") }
            bytes += got
        }
        return (t.connection, String(decoding: bytes, as: UTF8.self))
    }

    /// Answers a POST in one write and closes (push.md §7.6).
    func answer(_ connection: TLSClientConnection, _ xml: String) throws {
        try connection.write(HTTPServerResponse.simpleRequestAnswer(body: Array(xml.utf8)))
        connection.close()
    }
}

/// The RS as a client of the agent's listener: one request, the answer read until EOF.
func sendToListener(port: UInt16, _ request: [UInt8], seconds: Int = 15) throws -> String {
    let tls = try TLSClientConfiguration.remoteServer(
        rsCertificate: certText("root-ca.pem"),
        identity: TLSClientIdentity(certificatePEM: certText("rs.pem"), privateKeyPEM: certText("rs.key")))
    let address = try SocketAddress.numeric(host: "127.0.0.1", port: port)
    let connection = try TLSClientConnection.connect(to: address, configuration: tls,
                                                     timeouts: TransportTimeouts(connectAndHandshake: .seconds(10)))
    defer { connection.close() }
    try connection.write(request)
    var bytes: [UInt8] = []
    let deadline = ContinuousClock.now + .seconds(seconds)
    while true {
        let got = try connection.read(upTo: 8192, deadline: deadline)
        if got.isEmpty { break }
        bytes += got
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// The recommended RS request form (push.md §7.3): HTTP/1.0 with Content-Length.
func listenerRequest(_ xml: String, authorization: String = SimpleRun.auth) -> [UInt8] {
    Array("POST / HTTP/1.0\r\nContent-Type: text/xml\r\nContent-Length: \(xml.utf8.count)\r\nAuthorization: \(authorization)\r\n\r\n\(xml)".utf8)
}

func armsRequest(_ type: String, _ body: String) -> String {
    "<arms-message><arms-request type=\"\(type)\"><distribution-id>\(SimpleRun.distid)</distribution-id>\(body)</arms-request></arms-message>"
}

extension PushRig {
    func runSimple(urls: [String], listenerPort: LockedBox<UInt16>, readTimeout: Duration = .seconds(5)) throws -> PushLoopEnd {
        let settings = PushSettings(distributionID: PushFixtureRun.distid, description: "libarms Test Client",
                                    presharedKey: "rs-secret", retryMax: 1, retryInterval: 1)
        var counter: UInt32 = 2000
        let machine = SimplePushMachine(settings: settings, family: .ipv4, localHost: "127.0.0.1", port: 0,
                                        pullServerURLs: urls, resultURL: urls.first ?? "", state: .pullDone,
                                        modules: PushFixtureRun.modules, randomID: { counter += 1; return counter })
        let identity = try TLSClientIdentity(certificatePEM: certText("sa.pem"), privateKeyPEM: certText("sa.key"))
        let tls = try TLSClientConfiguration.remoteServer(rsCertificate: certText("root-ca.pem"), identity: identity)
        let timeouts = TransportTimeouts(connectAndHandshake: .seconds(10))
        let exchanger = PushExchanger(tlsConfiguration: tls, credentials: settings.credentials, timeouts: timeouts)
        var hooks = PushLoopHooks()
        hooks.log = { [logger] in logger.libarms(code: $0.code, $0.text) }
        hooks.stateChanged = { [unowned self] in stateLog.append("\($0.name) -> \($1.name)") }
        hooks.enteredPushWait = { [unowned self] in waitEntered += 1 }
        let loop = SimplePushLoop(machine: machine,
                                  serverConfiguration: TLSServerConfiguration(identity: identity, trustedCAPEM: try certText("root-ca.pem")),
                                  exchanger: exchanger, timeouts: timeouts, hooks: hooks) { [runner] in runner.perform($0) }
        loop.bindPort = 0
        loop.readTimeout = readTimeout
        loop.listening = { listenerPort.value = $0.port }
        return loop.run()
    }
}

@Suite(.serialized, .blocksPoolThread) struct SimplePushLoopSocketTests {
    @Test func confirmsServesMdCommandAndPingAndReboots() throws {
        let rs = try ScriptedRS()
        let rig = try PushRig()
        let port = LockedBox<UInt16>(0)
        let seen = LockedBox<[String]>([])
        let rsPort = rs.port
        let job = BackgroundJob {
            var notes: [String] = []
            defer { seen.value = notes }
            do {
                let (c1, start) = try rs.receivePost()
                notes.append(start)
                try rs.answer(c1, "<arms-message><arms-response type=\"push-confirmation-start\"><result-code>100</result-code><description>Success</description><transaction-id>70418033</transaction-id><push-confirmation-start-response></push-confirmation-start-response></arms-response></arms-message>")
                let agent = port.value
                notes.append(try sendToListener(port: agent, listenerRequest(armsRequest("push-confirmation-done", "<transaction-id>70418033</transaction-id><push-confirmation-done-request></push-confirmation-done-request>"))))
                notes.append(try sendToListener(port: agent, listenerRequest(armsRequest("reboot", ""), authorization: "Basic d3Jvbmc6a2V5")))
                notes.append(try sendToListener(port: agent, listenerRequest(armsRequest("md-command", "<md-command-request><md-command id=\"0\">show version</md-command></md-command-request>"))))
                notes.append(try sendToListener(port: agent, listenerRequest(armsRequest("ping-start", "<result-url>https://127.0.0.1:\(rsPort)/result</result-url><ping-start-request><address>127.0.0.1</address><count>1</count><size>56</size></ping-start-request>"))))
                let (c2, done) = try rs.receivePost(seconds: 20)
                notes.append(done)
                try rs.answer(c2, "<arms-message><arms-response type=\"ping-done\"><result-code>100</result-code><description>Success</description></arms-response></arms-message>")
                notes.append(try sendToListener(port: agent, listenerRequest(armsRequest("reboot", "<reboot-request></reboot-request>"))))
            } catch {
                notes.append("RS error: \(error)")
            }
        }
        let end = try rig.runSimple(urls: ["https://127.0.0.1:\(rs.port)/rs.cgi", "https://[::1]:\(rs.port)/rs.cgi"], listenerPort: port)
        #expect(job.wait(seconds: 60))
        let notes = seen.value
        #expect(end == .reboot(trigger: "Reboot requested by RS"))
        try #require(notes.count == 7, "RS saw: \(notes)")
        let xmlHead = "HTTP/1.0 200 OK\r\nServer: armsd\r\nConnection: close\r\nContent-Type: text/xml\r\n\r\n<?xml version=\"1.0\" encoding=\"US-ASCII\" ?>\r"
        #expect(notes[0].hasPrefix("POST /rs.cgi HTTP/1.1\r\nHost: 127.0.0.1:\(rs.port)\r\nConnection: close\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\nAuthorization: \(SimpleRun.auth)\r\n\r\n"))
        #expect(notes[0].contains("<push-method>https-simple</push-method><push-endpoint>https://127.0.0.1:10443/</push-endpoint>"))
        #expect(notes[1] == xmlHead + "<arms-message><arms-response type=\"push-confirmation-done\"><result-code>100</result-code><description>Success</description><push-confirmation-done-response></push-confirmation-done-response></arms-response></arms-message>")
        #expect(notes[2].hasPrefix("HTTP/1.0 401 Authorization Required\r\n"))
        #expect(notes[3] == xmlHead + "<arms-message><arms-response type=\"md-command\"><result-code>100</result-code><description>Success</description><md-command-response><md-result id=\"0\">ran show version</md-result></md-command-response></arms-response></arms-message>")
        #expect(notes[4] == xmlHead + "<arms-message><arms-response type=\"ping-start\"><transaction-id>2001</transaction-id><result-code>100</result-code><description>Success</description><ping-start-response></ping-start-response></arms-response></arms-message>")
        #expect(notes[5].hasPrefix("POST /result HTTP/1.1\r\n"))
        #expect(notes[5].contains("<arms-request type=\"ping-done\"><transaction-result>"))
        #expect(notes[5].contains("<transaction-id>2001</transaction-id>"))
        #expect(notes[6].contains("<arms-response type=\"reboot\"><result-code>100</result-code>"))
        #expect(rig.calls == ["command 0 show version"])
        #expect(rig.stateLog == ["PULLDONE -> PUSH_SENDREADY", "PUSH_SENDREADY -> PUSH_WAIT", "PUSH_WAIT -> PUSH_REBOOT"])
        #expect(rig.waitEntered == 1)
        let messages = rig.messages
        #expect(messages.contains("log callback: 90 - Push method: simple"))
        #expect(messages.contains("log callback: 200 - address family mismatched: ::1"))
        #expect(messages.contains("log callback: 200 - [70418033] End push-confirmation-start"))
        #expect(messages.contains("log callback: 200 - [2001] End ping"))
    }

    @Test func stalledPeerIsDroppedWhileOthersAreServedAndBadFramingGets400() throws {
        let rig = try PushRig()
        let port = LockedBox<UInt16>(0)
        let seen = LockedBox<[String]>([])
        let job = BackgroundJob {
            var notes: [String] = []
            defer { seen.value = notes }
            do {
                let deadline = ContinuousClock.now + .seconds(10)
                while port.value == 0 && ContinuousClock.now < deadline { usleep(10_000) }
                let agent = port.value
                let tls = try TLSClientConfiguration.remoteServer(rsCertificate: certText("root-ca.pem"))
                let stalled = try TLSClientConnection.connect(to: SocketAddress.numeric(host: "127.0.0.1", port: agent),
                                                              configuration: tls,
                                                              timeouts: TransportTimeouts(connectAndHandshake: .seconds(10)))
                try stalled.write(Array("POST / HTTP/1.0\r\n".utf8))
                let started = ContinuousClock.now
                notes.append(try sendToListener(port: agent, listenerRequest(armsRequest("push-confirmation-done", "<push-confirmation-done-request></push-confirmation-done-request>"))))
                notes.append(try sendToListener(port: agent, Array("POST /\(String(repeating: "x", count: 90)) HTTP/1.0\r\n\r\n".utf8)))
                // The stalled peer is closed by the agent after its idle limit.
                let got = try stalled.read(upTo: 100, deadline: ContinuousClock.now + .seconds(10))
                let waited = started.duration(to: .now)
                notes.append("stalled closed: \(got.isEmpty) after >= 2 s: \(waited >= .seconds(2))")
                notes.append(try sendToListener(port: agent, listenerRequest(armsRequest("reboot", ""))))
            } catch {
                notes.append("RS error: \(error)")
            }
        }
        let end = try rig.runSimple(urls: [], listenerPort: port, readTimeout: .seconds(2))
        #expect(job.wait(seconds: 40))
        let notes = seen.value
        #expect(end == .reboot(trigger: "Reboot requested by RS"))
        try #require(notes.count == 4, "RS saw: \(notes)")
        #expect(notes[0].contains("<arms-response type=\"push-confirmation-done\"><result-code>100</result-code>"))
        #expect(notes[1] == "HTTP/1.0 400 Bad Request\r\nWWW-Authenticate: Basic realm=\"\"\r\nServer: armsd\r\nConnection: close\r\nContent-Type: text/xml\r\n\r\n<?xml version=\"1.0\" encoding=\"US-ASCII\" ?>\r")
        #expect(notes[2] == "stalled closed: true after >= 2 s: true")
        #expect(notes[3].contains("<arms-response type=\"reboot\"><result-code>100</result-code>"))
        #expect(rig.waitEntered == 1)
        #expect(rig.messages.contains("log callback: 200 - listener: read timeout"))
    }

    @Test func configureOverTheListenerReportsDoneAndConfirmsAgain() throws {
        let rs = try ScriptedRS()
        let rig = try PushRig()
        let port = LockedBox<UInt16>(0)
        let seen = LockedBox<[String]>([])
        let job = BackgroundJob {
            var notes: [String] = []
            defer { seen.value = notes }
            let confirmStart = "<arms-message><arms-response type=\"push-confirmation-start\"><result-code>100</result-code><description>Success</description><transaction-id>70418033</transaction-id><push-confirmation-start-response></push-confirmation-start-response></arms-response></arms-message>"
            let confirmDone = armsRequest("push-confirmation-done", "<transaction-id>70418033</transaction-id><push-confirmation-done-request></push-confirmation-done-request>")
            do {
                let (c1, _) = try rs.receivePost()
                try rs.answer(c1, confirmStart)
                notes.append(try sendToListener(port: port.value, listenerRequest(confirmDone)))
                let configure = armsRequest("configure-start", "<configure-start-request><module id=\"0\" version=\"1.1\">router-main</module><module id=\"1\" version=\"1.0\">filter-rules</module><module id=\"2\" version=\"1.0\">extra</module><md-config id=\"0\">hostname router02\n</md-config></configure-start-request>")
                notes.append(try sendToListener(port: port.value, listenerRequest(configure)))
                let (c2, done) = try rs.receivePost(seconds: 20)
                notes.append(done)
                let id = transactionID(in: done)
                try rs.answer(c2, "<arms-message><arms-response type=\"configure-done\"><transaction-id>\(id)</transaction-id><result-code>100</result-code><description>Success</description></arms-response></arms-message>")
                let (c3, again) = try rs.receivePost(seconds: 20)
                notes.append(again)
                try rs.answer(c3, confirmStart)
                notes.append(try sendToListener(port: port.value, listenerRequest(confirmDone)))
                notes.append(try sendToListener(port: port.value, listenerRequest(armsRequest("reboot", ""))))
            } catch {
                notes.append("RS error: \(error)")
            }
        }
        let end = try rig.runSimple(urls: ["https://127.0.0.1:\(rs.port)/rs.cgi"], listenerPort: port)
        #expect(job.wait(seconds: 60))
        let notes = seen.value
        #expect(end == .reboot(trigger: "Reboot requested by RS"))
        try #require(notes.count == 6, "RS saw: \(notes)")
        #expect(notes[0].contains("<arms-response type=\"push-confirmation-done\"><result-code>100</result-code>"))
        #expect(notes[1].contains("<arms-response type=\"configure-start\"><transaction-id>2001</transaction-id><result-code>100</result-code>"))
        #expect(notes[2].hasPrefix("POST /rs.cgi HTTP/1.1\r\n"))
        #expect(notes[2].contains("<arms-request type=\"configure-done\"><transaction-result>100</transaction-result>"))
        #expect(notes[2].contains("<transaction-id>2001</transaction-id>"))
        #expect(notes[3].contains("<push-method>https-simple</push-method>"))
        #expect(notes[4].contains("<arms-response type=\"push-confirmation-done\"><result-code>100</result-code>"))
        #expect(notes[5].contains("<arms-response type=\"reboot\"><result-code>100</result-code>"))
        #expect(rig.calls == ["reconfig 0 1.1 router-main \(rig.scratch.file("base"))/candidate-config/0 hostname router02"])
        #expect(rig.stateLog == ["PULLDONE -> PUSH_SENDREADY", "PUSH_SENDREADY -> PUSH_WAIT", "PUSH_WAIT -> PUSH_REBOOT",
                                 "PUSH_REBOOT -> PUSH_SENDREADY", "PUSH_SENDREADY -> PUSH_WAIT", "PUSH_WAIT -> PUSH_REBOOT"])
        #expect(rig.waitEntered == 2)
        #expect(rig.messages.contains("log callback: 73 - Execute configure commit"))
    }
}
