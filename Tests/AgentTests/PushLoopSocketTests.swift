import Glibc
import Testing
@testable import Agent

// The agent's push loop over real TLS on loopback against a scripted RS
// written with the agent's own TLS listener: method query, tunnel open,
// confirmation, PUSH_WAIT, md-command through the command script, configure
// with a failing reconfig (rollback), echo and reconnect, family mismatch.

struct ScriptedRSError: Error, CustomStringConvertible {
    var description: String
}

/// One accepted tunnel seen from the RS side.
final class ScriptedTunnel {
    let connection: TLSClientConnection
    var assembler = TunnelMessageAssembler()
    /// Echo probes received (answered when `answerEcho`).
    var echoes = 0
    var answerEcho = true
    var head = ""

    init(_ connection: TLSClientConnection) { self.connection = connection }

    /// Reads the request head and answers 200 in one write.
    func open(seconds: Int = 10) throws {
        var bytes: [UInt8] = []
        let deadline = ContinuousClock.now + .seconds(seconds)
        while PushMachine.headEnd(bytes) == nil {
            let got = try connection.read(upTo: 4096, deadline: deadline)
            guard !got.isEmpty else { throw ScriptedRSError(description: "closed before the request head") }
            bytes += got
        }
        let end = PushMachine.headEnd(bytes)!
        head = String(decoding: bytes[..<end], as: UTF8.self)
        assembler.feed(bytes[end...])
        try connection.write(TunnelHandshake.openResponse)
    }

    /// The next ARMS message from the SA; echo probes are answered on the way.
    func nextMessage(seconds: Int = 10) throws -> [UInt8] {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while true {
            while let event = try assembler.next() {
                switch event {
                case .message(let m): return m.data
                case .echoRequest:
                    echoes += 1
                    if answerEcho { try connection.write(TunnelChunkEncoder.echoReply) }
                case .echoReply: break
                case .endOfStream: throw ScriptedRSError(description: "end of stream")
                }
            }
            let got = try connection.read(upTo: 8192, deadline: deadline)
            guard !got.isEmpty else { throw ScriptedRSError(description: "connection closed") }
            assembler.feed(got)
        }
    }

    /// Reads until the SA closes; true if it did within `seconds`.
    func waitForClose(seconds: Int) -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while true {
            do {
                let got = try connection.read(upTo: 8192, deadline: deadline)
                if got.isEmpty { return true }
                assembler.feed(got)
                while let event = try assembler.next() {
                    if event == .endOfStream { return true }
                    if event == .echoRequest { echoes += 1 }
                }
            } catch TransportError.timeout {
                return false
            } catch {
                return true
            }
        }
    }

    /// Writes each chunk of `chunks` as its own TLS write.
    func send(_ chunks: [UInt8]) throws {
        var decoder = TunnelChunkDecoder()
        decoder.feed(chunks)
        while let event = try decoder.next() {
            if case .chunk(let c) = event { try connection.write(c.encoded()) }
        }
    }

    /// Answers the SA's push-confirmation-start with the fixture pair (start response, done request).
    func confirm() throws -> String {
        let start = String(decoding: try nextMessage(), as: UTF8.self)
        try send(try pushFixture("mock-accepted-confirm.chunk"))
        let done = String(decoding: try nextMessage(), as: UTF8.self)
        return start + done
    }
}

/// A TLS listener with the RS certificate, trusting the test root CA for client certificates.
final class ScriptedRS: @unchecked Sendable {
    let listener: TLSListener
    let port: UInt16

    init(host: String = "127.0.0.1") throws {
        let identity = try TLSClientIdentity(certificatePEM: certText("rs.pem"), privateKeyPEM: certText("rs.key"))
        listener = try TLSListener(address: SocketAddress.numeric(host: host, port: 0),
                                   configuration: TLSServerConfiguration(identity: identity, trustedCAPEM: try certText("root-ca.pem")))
        port = listener.localAddress.port
    }

    func accept(seconds: Int = 15) throws -> ScriptedTunnel {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            var entry = pollfd(fd: listener.fileDescriptor, events: Int16(POLLIN), revents: 0)
            if poll(&entry, 1, 200) > 0, let connection = try listener.accept() {
                return ScriptedTunnel(connection)
            }
        }
        throw ScriptedRSError(description: "no connection within \(seconds) s")
    }
}

/// The first `<transaction-id>` value in a document (0 if none).
func transactionID(in text: String) -> Int {
    guard let open = text.firstRange(of: "<transaction-id>") else { return 0 }
    let rest = text[open.upperBound...]
    return Int(rest.prefix { $0.isNumber }) ?? 0
}

func chunk(_ xml: String, id: UInt32) -> [UInt8] { TunnelChunkEncoder.singleChunk(Array(xml.utf8), id: id) }

/// An agent side: scratch dir, scripts, runner and loop.
final class PushRig {
    let scratch: ScratchDirectory
    let logs = MemoryLogSink()
    let logger: Logger
    let runner: PushOperationRunner
    var stateLog: [String] = []
    var waitEntered = 0

    init(reconfigExit: Int32 = 0) throws {
        scratch = try ScratchDirectory("push")
        var configuration = ArmsdConfiguration()
        configuration.timeout = 10
        let record = scratch.file("calls")
        configuration.scripts[.command] = try scratch.script("command", "echo \"command $1 $(cat \"$2\")\" >>\(record); printf 'ran %s' \"$(cat \"$2\")\" >\"$3\"")
        configuration.scripts[.reconfig] = try scratch.script("reconfig", "echo \"reconfig $1 $2 $3 $4 $(cat \"$4\" | head -1)\" >>\(record); exit \(reconfigExit)")
        configuration.scripts[.stop] = try scratch.script("stop", "echo \"stop $1\" >>\(record)")
        logger = Logger(sinks: [logs], verbose: true)
        let directory = try WorkingDirectory(explicitPath: scratch.file("base"))
        var modules = ModuleTable()
        _ = modules.sync(with: PushFixtureRun.modules)
        for m in PushFixtureRun.modules {
            try directory.installPulledConfig(module: m.id, contents: Array("old config \(m.id)\n".utf8))
        }
        runner = PushOperationRunner(configuration: configuration, workingDirectory: directory,
                                     scripts: ScriptRunner(distributionID: PushFixtureRun.distid, logger: logger),
                                     logger: logger, distributionID: PushFixtureRun.distid, modules: modules)
    }

    var calls: [String] { (readText(scratch.file("calls")) ?? "").split(separator: "\n").map(String.init) }

    func run(urls: [String], echo: Int, retryMax: Int = 2, retryInterval: Int = 1) throws -> PushLoopEnd {
        let settings = PushSettings(distributionID: PushFixtureRun.distid, description: "libarms Test Client",
                                    presharedKey: "rs-secret", retryMax: retryMax, retryInterval: retryInterval)
        var counter: UInt32 = 1000
        let machine = PushMachine(settings: settings, tunnelURLs: urls, echoInterval: echo, family: .ipv4, state: .pullDone,
                                  modules: PushFixtureRun.modules, randomID: { counter += 1; return counter })
        let tls = try TLSClientConfiguration.remoteServer(
            rsCertificate: certText("root-ca.pem"),
            identity: TLSClientIdentity(certificatePEM: certText("sa.pem"), privateKeyPEM: certText("sa.key")))
        var hooks = PushLoopHooks()
        hooks.log = { [logger] in logger.libarms(code: $0.code, $0.text) }
        hooks.stateChanged = { [unowned self] in stateLog.append("\($0.name) -> \($1.name)") }
        hooks.enteredPushWait = { [unowned self] in waitEntered += 1 }
        let timeouts = TransportTimeouts(connectAndHandshake: .seconds(10))
        let loop = PushLoop(machine: machine, tlsConfiguration: tls, timeouts: timeouts, hooks: hooks) { [runner] in runner.perform($0) }
        return loop.run()
    }

    var messages: [String] { logs.messages }
}

@Suite(.serialized, .blocksPoolThread) struct PushLoopSocketTests {
    @Test func methodQueryRequestMatchesTheLibarmsClient() throws {
        let rs = try ScriptedRS()
        let received = LockedBox<[UInt8]>([])
        let job = BackgroundJob {
            guard let t = try? rs.accept() else { return }
            var bytes: [UInt8] = []
            let deadline = ContinuousClock.now + .seconds(10)
            while !bytes.reversed().starts(with: Array("</arms-message>".utf8).reversed()) {
                guard let got = try? t.connection.read(upTo: 4096, deadline: deadline), !got.isEmpty else { break }
                bytes += got
            }
            received.value = bytes
            let body = "<arms-message><arms-response type=\"push-method-query\"><result-code>100</result-code><description>Success</description><push-method-query-response><push-method>https-tunnel</push-method><https-tunnel-url>https://127.0.0.1:1/tunnel</https-tunnel-url><https-tunnel-echo-interval>5</https-tunnel-echo-interval></push-method-query-response></arms-response></arms-message>"
            try? t.connection.write(Array("HTTP/1.0 200 OK\r\nContent-Type: text/xml\r\n\r\n\(body)".utf8))
            t.connection.close()
        }
        let settings = PushSettings(distributionID: PushFixtureRun.distid, description: "libarms Test Client",
                                    presharedKey: "rs-secret", retryMax: 0, retryInterval: 0)
        let tls = try TLSClientConfiguration.remoteServer(rsCertificate: certText("root-ca.pem"))
        let exchanger = PushExchanger(tlsConfiguration: tls, credentials: settings.credentials)
        let request = PushMethodQuery.request(settings: settings, methods: PushMethodQuery.offeredMethods(simpleAvailable: true))
        let outcome = exchanger.methodQuery(url: "https://127.0.0.1:\(rs.port)/rs.cgi", request: request)
        #expect(job.wait(seconds: 20))
        guard case .answered(let response, let local) = outcome else { Issue.record("\(outcome)"); return }
        #expect(local.family == .ipv4)
        #expect(PushMethodQuery.verdict(response) == .offered(PushMethodQueryResult(
            methods: ["https-tunnel"], tunnelURLs: ["https://127.0.0.1:1/tunnel"], echoInterval: 5)))
        #expect(received.value == (try pushFixture("libarms-5.33-method-query-request.http")))
    }

    @Test func tunnelConfirmsServesMdCommandRollsBackConfigureAndReboots() throws {
        let rs = try ScriptedRS()
        let rig = try PushRig(reconfigExit: 3)
        let seen = LockedBox<[String]>([])
        let job = BackgroundJob {
            var notes: [String] = []
            defer { seen.value = notes }
            do {
                let t = try rs.accept()
                try t.open()
                notes.append(t.head)
                notes.append(try t.confirm())
                try t.send(try pushFixture("mock-accepted-md-command-request.chunk"))
                notes.append(String(decoding: try t.nextMessage(), as: UTF8.self))
                try t.send(try pushFixture("mock-accepted-configure-start-request.chunk"))
                let startResponse = String(decoding: try t.nextMessage(), as: UTF8.self)
                notes.append(startResponse)
                let id = transactionID(in: startResponse)
                notes.append("closed: \(t.waitForClose(seconds: 10))")
                let t2 = try rs.accept()
                try t2.open()
                let done = String(decoding: try t2.nextMessage(), as: UTF8.self)
                notes.append(done)
                try t2.send(chunk("<arms-message><arms-response type=\"configure-done\"><transaction-id>\(id)</transaction-id><result-code>100</result-code><description>Success</description></arms-response></arms-message>", id: 20))
                notes.append(try t2.confirm())
                try t2.send(try pushFixture("mock-accepted-reboot-request.chunk"))
                notes.append(String(decoding: try t2.nextMessage(), as: UTF8.self))
                notes.append("closed: \(t2.waitForClose(seconds: 10))")
            } catch {
                notes.append("RS error: \(error)")
            }
        }
        let end = try rig.run(urls: ["https://127.0.0.1:\(rs.port)/tunnel", "https://[::1]:\(rs.port)/tunnel"], echo: 30)
        #expect(job.wait(seconds: 30))
        let notes = seen.value
        #expect(end == .reboot(trigger: "Reboot requested by RS"))
        try #require(notes.count == 9, "RS saw: \(notes)")
        #expect(notes[0].hasPrefix("POST /tunnel HTTP/1.1\r\nHost: 127.0.0.1:\(rs.port)\r\n"))
        #expect(notes[1].contains("<push-method>https-tunnel</push-method>"))
        #expect(notes[1].contains("<arms-response type=\"push-confirmation-done\"><transaction-id>70418033</transaction-id><result-code>100</result-code>"))
        #expect(notes[2].contains("<md-result id=\"0\">ran show version</md-result>"))
        #expect(notes[3].contains("<arms-response type=\"configure-start\"><transaction-id>\(transactionID(in: notes[3]))</transaction-id><result-code>100</result-code>"))
        #expect(transactionID(in: notes[3]) > 1000)
        #expect(notes[4] == "closed: true")
        // The failing reconfig rolled back: the done reports 414 and is the first message.
        #expect(notes[5].contains("<arms-request type=\"configure-done\"><transaction-result>414</transaction-result>"))
        #expect(notes[7].contains("<arms-response type=\"reboot\"><result-code>100</result-code>"))
        #expect(notes[8] == "closed: true")

        #expect(rig.calls == [
            "command 0 show version",
            "reconfig 0 1.1 router-main \(rig.scratch.file("base"))/candidate-config/0 hostname router02",
            "reconfig 0 1.0 router-main \(rig.scratch.file("base"))/backup-config/0 old config 0",
        ])
        // Running config is back to the old one.
        #expect(readText(rig.scratch.file("base/running-config/0")) == "old config 0\n")
        #expect(rig.stateLog == ["PULLDONE -> PUSH_SENDREADY", "PUSH_SENDREADY -> PUSH_WAIT", "PUSH_WAIT -> PUSH_REBOOT"])
        #expect(rig.waitEntered == 1)
        let messages = rig.messages
        #expect(messages.contains("log callback: 200 - tunnel#1: address family mismatched: ::1"))
        #expect(messages.contains("log callback: 63 - tunnel#0: ready to push."))
        #expect(messages.contains("log callback: 73 - Execute configure commit"))
        #expect(messages.contains("log callback: 74 - Execute configure rollback"))
    }

    @Test func unansweredEchoReconnects() throws {
        let rs = try ScriptedRS()
        let rig = try PushRig()
        let seen = LockedBox<[String]>([])
        let job = BackgroundJob {
            var notes: [String] = []
            defer { seen.value = notes }
            do {
                let t = try rs.accept()
                t.answerEcho = false
                try t.open()
                _ = try t.confirm()
                notes.append("closed: \(t.waitForClose(seconds: 10)) after \(t.echoes) echo")
                let t2 = try rs.accept()
                try t2.open()
                _ = try t2.confirm()
                try t2.send(try pushFixture("mock-accepted-reboot-request.chunk"))
                _ = try t2.nextMessage()
                notes.append("done")
            } catch {
                notes.append("RS error: \(error)")
            }
        }
        let end = try rig.run(urls: ["https://127.0.0.1:\(rs.port)/tunnel"], echo: 1)
        #expect(job.wait(seconds: 30))
        #expect(end == .reboot(trigger: "Reboot requested by RS"))
        #expect(seen.value == ["closed: true after 1 echo", "done"])
        let messages = rig.messages
        #expect(messages.contains("log callback: 200 - tunnel#0: no echo response received."))
        #expect(messages.contains("log callback: 62 - tunnel#0: retry, wait 1 sec."))
        // Reconnecting a confirmed tunnel does not leave PUSH_WAIT.
        #expect(rig.stateLog == ["PULLDONE -> PUSH_SENDREADY", "PUSH_SENDREADY -> PUSH_WAIT", "PUSH_WAIT -> PUSH_REBOOT"])
    }
}
