import ARMSProtocol
import Foundation
@testable import MockCore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import Testing

/// The exchange server with a trivial handler: framing, limits, timeouts, journal, faults, lifecycle.
@Suite struct ExchangeServerTests {
    /// Answers every request with `echo:<body>` and counts its calls.
    final class EchoHandler: Sendable {
        let calls = NIOLockedValueBox(0)
        let seen = NIOLockedValueBox<[ExchangeRequest]>([])

        var handler: ExchangeHandler {
            { [self] exchange in
                calls.withLockedValue { $0 += 1 }
                seen.withLockedValue { $0.append(exchange) }
                return .http(contentType: "text/plain", body: Array("echo:".utf8) + exchange.request.body,
                             facts: ExchangeFacts(sa: "SA", messageType: "echo", resultCode: 100, outcome: ExchangeOutcome.ok,
                                                  detail: "echoed"))
            }
        }
        var callCount: Int { calls.withLockedValue { $0 } }
    }

    static func request(_ body: String, target: String = "/x") -> [UInt8] {
        Array("POST \(target) HTTP/1.0\r\nContent-Type: text/xml\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
    }

    func makeServer(endpoints: [ExchangeEndpoint] = [.loopbackIPv4()], tls: ServerTLS? = .locationServer,
                    limits: HTTPLimits = .server, readTimeout: Duration = .seconds(30), lingerTime: Duration = .seconds(2),
                    journal: Journal = Journal(), echo: EchoHandler = EchoHandler()) -> ExchangeServer {
        let configuration = ExchangeServerConfiguration(role: .ls, endpoints: endpoints, tls: tls, limits: limits,
                                                        readTimeout: readTimeout, lingerTime: lingerTime)
        return ExchangeServer(configuration: configuration, journal: journal, handler: echo.handler)
    }

    // MARK: - Binding

    @Test func bindsIPv4AndIPv6OnOnePortAndAnswersBoth() async throws {
        let journal = Journal()
        let echo = EchoHandler()
        let server = makeServer(endpoints: [.loopbackIPv4(), .loopbackIPv6()], journal: journal, echo: echo)
        try await withExchangeServer(server) { server, bound in
            #expect(bound.count == 2)
            #expect(bound.map(\.family) == [.ipv4, .ipv6])
            #expect(bound[0].port > 0 && bound[0].port == bound[1].port)
            #expect(server.boundEndpoints == bound)
            #expect(try bound[1].url(path: "rs.cgi").description == "https://[::1]:\(bound[1].port)/rs.cgi")
            let tls = try TestClient.tls()
            for endpoint in bound {
                let response = try await TestClient.response(host: endpoint.host, port: endpoint.port, tls: tls,
                                                             send: Self.request("hello"))
                #expect(response.status == 200)
                #expect(response.body == Array("echo:hello".utf8))
            }
            let entries = try await journal.waitForEntries(2)
            #expect(entries.map(\.peer?.first) == ["1", "["])
            #expect(entries.allSatisfy { $0.outcome == "ok" && $0.role == .ls && $0.httpStatus == 200 && $0.resultCode == 100 })
            #expect(entries.allSatisfy { $0.bytesIn == Self.request("hello").count })
            #expect(entries.allSatisfy { $0.sa == "SA" && $0.messageType == "echo" && $0.detail == "echoed" })
            #expect(echo.seen.withLockedValue { $0.map(\.serverEndpoints) } == [bound, bound])
        }
    }

    @Test func answersHTTP10WithContentLengthInOneWriteAndCloses() async throws {
        let journal = Journal()
        try await withExchangeServer(makeServer(journal: journal)) { _, bound in
            let outcome = try await TestClient.exchange(port: bound[0].port, tls: try TestClient.tls(), send: Self.request("abc"))
            #expect(outcome.error == nil)
            let text = String(decoding: outcome.received, as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.0 200 OK\r\n"))
            #expect(text.contains("\r\nContent-Length: 8\r\n"))
            #expect(!text.lowercased().contains("transfer-encoding"))
            #expect(text.hasSuffix("\r\n\r\necho:abc"))
            let entry = try await journal.waitForEntries(1)[0]
            #expect(entry.bytesOut == outcome.received.count)
        }
    }

    @Test func readsExactlyContentLengthAndIgnoresWhatFollows() async throws {
        let echo = EchoHandler()
        try await withExchangeServer(makeServer(echo: echo)) { _, bound in
            let response = try await TestClient.response(port: bound[0].port, tls: try TestClient.tls(),
                                                         send: Self.request("abc") + Array("JUNK".utf8))
            #expect(response.body == Array("echo:abc".utf8))
        }
    }

    @Test func refusesHostNames() async throws {
        let server = makeServer(endpoints: [ExchangeEndpoint(host: "localhost")])
        await #expect(throws: ExchangeServerError.notNumeric("localhost")) { try await server.start() }
        await server.stop()
    }

    @Test func startTwiceThrowsStopTwiceIsHarmlessAndAStoppedServerRefusesConnections() async throws {
        let echo = EchoHandler()
        let journal = Journal()
        let server = makeServer(tls: nil, journal: journal, echo: echo)
        let bound = try await server.start()
        await #expect(throws: ExchangeServerError.alreadyStarted) { try await server.start() }
        await server.stop()
        await server.stop()
        #expect(server.boundEndpoints.isEmpty)
        // Tests run in parallel and the freed port may already belong to another test's
        // server, so the check is that this stopped server took no part in the attempt.
        _ = try? await TestClient.exchange(port: bound[0].port, tls: nil, send: Self.request("x"), timeout: .seconds(5))
        #expect(echo.callCount == 0)
        #expect(journal.count() == 0)
    }

    /// Connections arriving while the server stops: some are accepted after the accept loop
    /// ended. Each must still be finished and closed (NIO stops the whole process when an
    /// accepted async channel is released unfinished), and stop must return.
    @Test func stoppingUnderAStormOfConnectsNeitherCrashesNorHangs() async throws {
        // Several loops, as the service runs them: children are registered on other loops
        // than the listener's, which opens the window between accept and hand-over.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 4)
        for _ in 0..<12 {
            let configuration = ExchangeServerConfiguration(role: .ls, tls: .locationServer)
            let server = ExchangeServer(configuration: configuration, journal: Journal(), eventLoopGroup: group,
                                        handler: EchoHandler().handler)
            let port = try await server.start()[0].port
            let connects = NIOLockedValueBox(0)
            let done = NIOLockedValueBox(false)
            // Plain blocking connects from a thread of its own, as fast as they go.
            let thread = Thread {
                for _ in 0..<400 {
                    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                    var address = sockaddr_in()
                    address.sin_family = sa_family_t(AF_INET)
                    address.sin_port = in_port_t(UInt16(port).bigEndian)
                    address.sin_addr.s_addr = inet_addr("127.0.0.1")
                    _ = withUnsafePointer(to: &address) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                    }
                    close(fd)
                    connects.withLockedValue { $0 += 1 }
                }
                done.withLockedValue { $0 = true }
            }
            thread.start()
            try await waitUntil("connections to arrive") { connects.withLockedValue { $0 } >= 30 }
            await server.stop()
            #expect(server.boundEndpoints.isEmpty)
            try await waitUntil("the connecting thread to finish", timeout: .seconds(30)) { done.withLockedValue { $0 } }
        }
        try await group.shutdownGracefully()
    }

    @Test func plainTCPWhenNoTLS() async throws {
        try await withExchangeServer(makeServer(tls: nil)) { _, bound in
            let response = try await TestClient.response(port: bound[0].port, tls: nil, send: Self.request("plain"))
            #expect(response.body == Array("echo:plain".utf8))
        }
    }

    @Test func sharesAGivenEventLoopGroupWithoutShuttingItDown() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let configuration = ExchangeServerConfiguration(role: .rs, tls: .remoteServer)
        let server = ExchangeServer(configuration: configuration, journal: Journal(), eventLoopGroup: group,
                                    handler: EchoHandler().handler)
        let bound = try await server.start()
        _ = try await TestClient.response(port: bound[0].port, tls: try TestClient.tls(), send: Self.request("g"))
        await server.stop()
        // Still usable: the server did not shut it down.
        #expect(try await group.next().submit { 42 }.get() == 42)
        try await group.shutdownGracefully()
    }

    // MARK: - Bad requests, limits, timeouts

    @Test func oversizedBodyGets413WithoutTheHandler() async throws {
        let journal = Journal()
        let echo = EchoHandler()
        let limits = HTTPLimits(maxLineLength: 1024, maxHeadLength: 4096, maxBodyLength: 1024)
        try await withExchangeServer(makeServer(limits: limits, journal: journal, echo: echo)) { _, bound in
            let big = String(repeating: "x", count: 100_000)
            let started = ContinuousClock.now
            let response = try await TestClient.response(port: bound[0].port, tls: try TestClient.tls(), send: Self.request(big))
            #expect(response.status == 413)
            #expect(ContinuousClock.now - started < .seconds(25), "answered before the client gave up")
            let entry = try await journal.waitForEntries(1)[0]
            #expect(entry.outcome == "too-large")
            #expect(entry.httpStatus == 413)
            #expect(entry.bytesOut == response.raw.count)
            #expect(entry.detail?.contains("body longer than 1024") == true)
            #expect(entry.resultCode == nil)
            #expect(echo.callCount == 0)
        }
    }

    @Test func overlongHeadLineGets400AsTooLarge() async throws {
        let journal = Journal()
        let limits = HTTPLimits(maxLineLength: 256, maxHeadLength: 4096, maxBodyLength: 1024)
        try await withExchangeServer(makeServer(limits: limits, journal: journal)) { _, bound in
            let request = Array("POST /\(String(repeating: "a", count: 600)) HTTP/1.0\r\n\r\n".utf8)
            let response = try await TestClient.response(port: bound[0].port, tls: try TestClient.tls(), send: request)
            #expect(response.status == 400)
            let entry = try await journal.waitForEntries(1)[0]
            #expect(entry.outcome == "too-large")
            #expect(entry.httpStatus == 400)
        }
    }

    @Test func malformedRequestGets400() async throws {
        let journal = Journal()
        let echo = EchoHandler()
        try await withExchangeServer(makeServer(journal: journal, echo: echo)) { _, bound in
            let response = try await TestClient.response(port: bound[0].port, tls: try TestClient.tls(),
                                                         send: Array("HELLO THERE\r\n\r\n".utf8))
            #expect(response.status == 400)
            #expect(String(decoding: response.body, as: UTF8.self) == "400 Bad Request\n")
            let entry = try await journal.waitForEntries(1)[0]
            #expect(entry.outcome == "bad-request")
            #expect(entry.httpStatus == 400)
            #expect(entry.bytesIn == 15)
            #expect(entry.detail?.contains("malformed request line") == true)
            #expect(echo.callCount == 0)
        }
    }

    @Test func silentTCPClientTimesOut() async throws {
        let journal = Journal()
        try await withExchangeServer(makeServer(readTimeout: .milliseconds(300), journal: journal)) { _, bound in
            let started = ContinuousClock.now
            let outcome = try await TestClient.exchange(port: bound[0].port, tls: nil, send: [], timeout: .seconds(30))
            #expect(!(outcome.error is TestFailure), "the server did not close the connection")
            #expect(outcome.received.isEmpty)
            // Well before the client's own 30 s limit, even on a loaded machine.
            #expect(ContinuousClock.now - started < .seconds(15))
            let entry = try await journal.waitForEntries(1)[0]
            #expect(entry.outcome == "timeout")
            #expect(entry.httpStatus == 0)
            #expect(entry.bytesIn == 0)
            #expect(entry.peer?.hasPrefix("127.0.0.1:") == true)
        }
    }

    @Test func silentTLSClientAndHalfARequestTimeOut() async throws {
        let journal = Journal()
        try await withExchangeServer(makeServer(readTimeout: .milliseconds(500), journal: journal)) { _, bound in
            let tls = try TestClient.tls()
            let silent = try await TestClient.exchange(port: bound[0].port, tls: tls, send: [], timeout: .seconds(30))
            #expect(!(silent.error is TestFailure))
            let half = Array(Self.request("abcdef").dropLast(3))
            let partial = try await TestClient.exchange(port: bound[0].port, tls: tls, send: half, timeout: .seconds(30))
            #expect(!(partial.error is TestFailure))
            #expect(partial.received.isEmpty)
            let entries = try await journal.waitForEntries(2)
            #expect(entries.map(\.outcome) == ["timeout", "timeout"])
            #expect(entries.map(\.bytesIn) == [0, half.count])
        }
    }

    @Test func clientThatLeavesEarlyIsJournaledAsClosed() async throws {
        let journal = Journal()
        try await withExchangeServer(makeServer(tls: nil, journal: journal)) { _, bound in
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: bound[0].port).get()
            try await channel.writeAndFlush(ByteBuffer(bytes: Array("POST / HTTP/1.0\r\n".utf8)))
            try await channel.close()
            let entry = try await journal.waitForEntries(1)[0]
            #expect(entry.outcome == "closed")
            #expect(entry.bytesIn == 17)
        }
    }

    @Test func nonTLSBytesOnTheTLSPortAreATLSError() async throws {
        let journal = Journal()
        try await withExchangeServer(makeServer(journal: journal)) { _, bound in
            let outcome = try await TestClient.exchange(port: bound[0].port, tls: nil, send: Self.request("not tls"),
                                                        timeout: .seconds(30))
            #expect(!(outcome.error is TestFailure))
            #expect(!String(decoding: outcome.received, as: UTF8.self).contains("HTTP/"))
            let entry = try await journal.waitForEntries(1)[0]
            #expect(entry.outcome == "tls-error")
            #expect(entry.httpStatus == 0)
            #expect(entry.detail?.isEmpty == false)
        }
    }

    // MARK: - Fault hook

    @Test func faultHookSeesTheRequestAndCanAnswerWithAStatus() async throws {
        let journal = Journal()
        let echo = EchoHandler()
        let server = makeServer(journal: journal, echo: echo)
        let contexts = NIOLockedValueBox<[ExchangeFaultContext]>([])
        server.setFaultHook { context in
            contexts.withLockedValue { $0.append(context) }
            return .status(.serviceUnavailable)
        }
        try await withExchangeServer(server) { _, bound in
            let request = try MockFixture.bytes("libarms-5.33-ls-request.http")
            let response = try await TestClient.response(port: bound[0].port, tls: try TestClient.tls(), send: request)
            #expect(response.status == 503)
            let entry = try await journal.waitForEntries(1)[0]
            #expect(entry.outcome == "fault:http-503")
            #expect(entry.httpStatus == 503)
            #expect(entry.sa == "0001-0000-0000-0000-0000-0000-0000-0001")
            #expect(entry.messageType == "rs-solicitation")
            #expect(echo.callCount == 0)
            let context = try #require(contexts.withLockedValue { $0.first })
            #expect(context.role == .ls)
            #expect(context.claimedSA == "0001-0000-0000-0000-0000-0000-0000-0001")
            #expect(context.messageType == "rs-solicitation")
            #expect(context.request.request.body == MockFixture.httpBody(request))
        }
    }

    @Test func faultHookCanCloseWithoutAnswer() async throws {
        let journal = Journal()
        let echo = EchoHandler()
        let server = makeServer(journal: journal, echo: echo)
        server.setFaultHook { _ in .close }
        try await withExchangeServer(server) { _, bound in
            let outcome = try await TestClient.exchange(port: bound[0].port, tls: try TestClient.tls(), send: Self.request("x"))
            #expect(outcome.received.isEmpty)
            #expect(!(outcome.error is TestFailure))
            let entry = try await journal.waitForEntries(1)[0]
            #expect(entry.outcome == "fault:close")
            #expect(entry.httpStatus == 0 && entry.bytesOut == 0)
            #expect(echo.callCount == 0)
        }
    }

    @Test func faultHookCanDelayTheNormalAnswer() async throws {
        let journal = Journal()
        let server = makeServer(journal: journal)
        server.setFaultHook { _ in .delay(.milliseconds(400)) }
        try await withExchangeServer(server) { _, bound in
            let started = ContinuousClock.now
            let response = try await TestClient.response(port: bound[0].port, tls: try TestClient.tls(), send: Self.request("d"))
            #expect(ContinuousClock.now - started >= .milliseconds(400))
            #expect(response.body == Array("echo:d".utf8))
            let entry = try await journal.waitForEntries(1)[0]
            #expect(entry.outcome == "ok")
            #expect(entry.detail == "fault: answer delayed by 0.4 seconds; echoed")
        }
    }

    @Test func faultHookCanWriteRawBytesAndBeRemoved() async throws {
        let journal = Journal()
        let server = makeServer(journal: journal)
        let raw = Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n".utf8)
        server.setFaultHook { _ in .raw(raw) }
        try await withExchangeServer(server) { server, bound in
            let tls = try TestClient.tls()
            let outcome = try await TestClient.exchange(port: bound[0].port, tls: tls, send: Self.request("r"))
            #expect(outcome.received == raw)
            server.setFaultHook(nil)
            let normal = try await TestClient.response(port: bound[0].port, tls: tls, send: Self.request("n"))
            #expect(normal.body == Array("echo:n".utf8))
            let entries = try await journal.waitForEntries(2)
            #expect(entries.map(\.outcome) == ["fault:raw", "ok"])
            #expect(entries[0].httpStatus == 200)
            #expect(entries[0].bytesOut == raw.count)
        }
    }

    @Test func faultHookCanDelayThenCloseAndDecidePerExchange() async throws {
        let journal = Journal()
        let echo = EchoHandler()
        let server = makeServer(journal: journal, echo: echo)
        // Only the second exchange is faulted: the hook decides per request.
        let count = NIOLockedValueBox(0)
        server.setFaultHook { _ in
            count.withLockedValue { $0 += 1; return $0 } == 2 ? ExchangeFault(delay: .milliseconds(200), action: .close) : .none
        }
        try await withExchangeServer(server) { _, bound in
            let tls = try TestClient.tls()
            _ = try await TestClient.response(port: bound[0].port, tls: tls, send: Self.request("1"))
            let started = ContinuousClock.now
            let closed = try await TestClient.exchange(port: bound[0].port, tls: tls, send: Self.request("2"))
            #expect(ContinuousClock.now - started >= .milliseconds(200))
            #expect(closed.received.isEmpty)
            _ = try await TestClient.response(port: bound[0].port, tls: tls, send: Self.request("3"))
            let entries = try await journal.waitForEntries(3)
            #expect(entries.map(\.outcome) == ["ok", "fault:close", "ok"])
            #expect(entries[1].detail == "fault: closed without an answer after 0.2 seconds")
            #expect(echo.callCount == 2)
        }
    }

    @Test func stopCutsAnInjectedDelayShortAndJournalsIt() async throws {
        let journal = Journal()
        let server = makeServer(journal: journal)
        let hookCalls = NIOLockedValueBox(0)
        server.setFaultHook { _ in
            hookCalls.withLockedValue { $0 += 1 }
            return .delay(.seconds(60))
        }
        let bound = try await server.start()
        let client = Task {
            try await TestClient.exchange(port: bound[0].port, tls: try TestClient.tls(), send: Self.request("s"),
                                          timeout: .seconds(20))
        }
        // Bounded wait until the request sits in the injected delay.
        let deadline = ContinuousClock.now + .seconds(10)
        while hookCalls.withLockedValue({ $0 }) == 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(hookCalls.withLockedValue { $0 } == 1)
        let started = ContinuousClock.now
        await server.stop()
        #expect(ContinuousClock.now - started < .seconds(25))
        let outcome = try await client.value
        #expect(outcome.received.isEmpty)
        #expect(!(outcome.error is TestFailure))
        let entry = try await journal.waitForEntries(1)[0]
        #expect(entry.outcome == "closed")
        #expect(entry.detail?.contains("injected delay") == true)
    }
}
