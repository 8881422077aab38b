import ARMSProtocol
import Foundation
@testable import MockCore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import Testing

// Shared plumbing of the MockTests suites: fixture files, a NIO TLS/TCP client,
// an `openssl` runner, bounded waits on the journal. Every wait has a deadline.

enum MockFixture {
    /// The repository root (three levels above this file).
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repository.appendingPathComponent("Tests/Fixtures")
    static let certs = repository.appendingPathComponent("certs")

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: fixtures.appendingPathComponent(name)))
    }

    /// The body of an `.http` fixture: everything after the first CRLFCRLF.
    static func httpBody(_ bytes: [UInt8]) -> [UInt8] {
        let marker: [UInt8] = [13, 10, 13, 10]
        guard bytes.count >= 4 else { return [] }
        for i in 0...(bytes.count - 4) where Array(bytes[i..<i + 4]) == marker {
            return Array(bytes[(i + 4)...])
        }
        return []
    }

    /// The LS request a libarms 5.33 client sent (SA ...0001, LS key `testkey123`).
    static let lsRequestSA = DistributionID("0001-0000-0000-0000-0000-0000-0000-0001")!
    /// The RS request of the captured life cycle (SA ...0056-...0001, RS key `rs-secret`).
    static let rsRequestSA = DistributionID("0001-0000-1234-0056-0000-0000-0000-0001")!
}

/// A response read back from a mock server.
struct ReadResponse {
    var raw: [UInt8]
    var head: HTTPResponseHead
    var body: [UInt8]

    /// Parses `raw` as one `Content-Length` response.
    init(_ raw: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws {
        self.raw = raw
        var parser = HTTPResponseParser(bodyEnd: .contentLength, limits: .libarmsClient)
        guard let response = try parser.feed(raw) else {
            throw TestFailure("incomplete HTTP response (\(raw.count) bytes): \(String(decoding: raw.prefix(200), as: UTF8.self))")
        }
        head = response.head
        body = response.body
    }

    var status: Int { head.status.code }

    func arms(expecting type: MessageType) throws -> ARMSResponse {
        try ARMSResponse.decode(body, expecting: type, options: .libarms)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A one-shot client: connect, optionally TLS, write bytes, read until the server closes.
enum TestClient {
    struct Outcome {
        var received: [UInt8]
        /// The error that ended reading, if any (a clean close gives nil).
        var error: (any Error)?
        /// The TLS version negotiated (TLS clients, once the handshake completed).
        var tlsVersion: TLSVersion?
    }

    /// Trusts the test root only, no host-name check, no SNI: like libarms.
    static func tls(minimum: TLSVersion = .tlsv1, maximum: TLSVersion = .tlsv13, cipherSuites: String? = nil,
                    trust: String = TestPKI.rootCACertificatePEM) throws -> TLSConfiguration {
        var c = TLSConfiguration.makeClientConfiguration()
        c.minimumTLSVersion = minimum
        c.maximumTLSVersion = maximum
        if let cipherSuites { c.cipherSuites = cipherSuites }
        c.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(trust.utf8)))
        c.certificateVerification = .noHostnameVerification
        return c
    }

    /// Sends `bytes` (nothing when empty) and collects everything until the server closes
    /// or `timeout` passes (then the connection is closed and `error` says so).
    static func exchange(host: String = "127.0.0.1", port: Int, tls: TLSConfiguration?, send bytes: [UInt8],
                         timeout: Duration = .seconds(15)) async throws -> Outcome {
        let context = try tls.map { try NIOSSLContext(configuration: $0) }
        let version = NIOLockedValueBox<TLSVersion?>(nil)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let context {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: nil))
                        try channel.pipeline.syncOperations.addHandler(HandshakeRecorder(version: version))
                    }
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let raw = channel.channel
        let expired = LockedFlag()
        let timer = raw.eventLoop.scheduleTask(in: timeout.timeAmount) {
            expired.set()
            raw.close(promise: nil)
        }
        defer { timer.cancel() }
        return try await channel.executeThenClose { inbound, outbound in
            var outcome = Outcome(received: [])
            if !bytes.isEmpty { try await outbound.write(ByteBuffer(bytes: bytes)) }
            do {
                for try await buffer in inbound {
                    outcome.received += buffer.readableBytesView
                }
            } catch {
                outcome.error = error
            }
            if expired.value { outcome.error = TestFailure("client timeout after \(timeout)") }
            outcome.tlsVersion = version.withLockedValue { $0 }
            return outcome
        }
    }

    /// Connects, sends `bytes`, returns the parsed response (throws unless the server answered and closed).
    static func response(host: String = "127.0.0.1", port: Int, tls: TLSConfiguration?, send bytes: [UInt8],
                         timeout: Duration = .seconds(15)) async throws -> ReadResponse {
        let outcome = try await exchange(host: host, port: port, tls: tls, send: bytes, timeout: timeout)
        if let failure = outcome.error as? TestFailure { throw failure }
        return try ReadResponse(outcome.received)
    }
}

/// Notes the negotiated TLS version when the first application bytes arrive (the
/// handshake is complete then, and the TLS handler is still in the pipeline).
final class HandshakeRecorder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    let version: NIOLockedValueBox<TLSVersion?>

    init(version: NIOLockedValueBox<TLSVersion?>) { self.version = version }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if version.withLockedValue({ $0 }) == nil {
            let negotiated = try? context.pipeline.syncOperations.nioSSL_tlsVersion()
            version.withLockedValue { $0 = negotiated }
        }
        context.fireChannelRead(data)
    }
}

/// A thread-safe flag.
final class LockedFlag: Sendable {
    private let box = NIOLockedValueBox(false)
    func set() { box.withLockedValue { $0 = true } }
    var value: Bool { box.withLockedValue { $0 } }
}

/// Bounded wait for a condition, checked every 10 ms (suspends, never blocks a thread).
func waitUntil(_ what: String, timeout: Duration = .seconds(20), _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while !condition() {
        guard ContinuousClock.now < deadline else { throw TestFailure("timed out after \(timeout) waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(10))
    }
}

extension Journal {
    /// Waits (bounded) until at least `count` entries match, then returns them.
    /// Throws when they do not come, so callers can index the result safely.
    func waitForEntries(_ count: Int = 1, timeout: Duration = .seconds(30),
                        where include: @escaping (JournalEntry) -> Bool = { _ in true },
                        sourceLocation: SourceLocation = #_sourceLocation) async throws -> [JournalEntry] {
        let deadline = ContinuousClock.now + timeout
        while self.count(where: include) < count {
            guard ContinuousClock.now < deadline else {
                throw JournalWaitTimeout(description:
                    "journal: \(self.count(where: include)) of \(count) entries after \(timeout): \(entries())")
            }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return entries(where: include)
    }
}

struct JournalWaitTimeout: Error, CustomStringConvertible {
    let description: String
}

/// Runs `body` with a started server and always stops it.
func withStarted<S, R>(_ server: S, start: (S) async throws -> [BoundEndpoint], stop: (S) async -> Void,
                       _ body: (S, [BoundEndpoint]) async throws -> R) async throws -> R {
    let bound = try await start(server)
    do {
        let result = try await body(server, bound)
        await stop(server)
        return result
    } catch {
        await stop(server)
        throw error
    }
}

func withExchangeServer<R>(_ server: ExchangeServer, _ body: (ExchangeServer, [BoundEndpoint]) async throws -> R) async throws -> R {
    try await withStarted(server, start: { try await $0.start() }, stop: { await $0.stop() }, body)
}

/// A finished child process.
struct ProcessResult {
    var status: Int32
    var stdout: [UInt8]
    var stderr: String
    var timedOut: Bool
}

/// Runs a program with `stdin` bytes, bounded by `timeout` (then it is terminated).
func runProcess(_ executable: String, _ arguments: [String], stdin: [UInt8], timeout: Duration = .seconds(20)) async throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mocktests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let outURL = directory.appendingPathComponent("stdout"), errURL = directory.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
    let input = Pipe()
    process.standardInput = input
    process.standardOutput = out
    process.standardError = err
    try process.run()
    try input.fileHandleForWriting.write(contentsOf: Data(stdin))
    try input.fileHandleForWriting.close()
    let deadline = ContinuousClock.now + timeout
    var timedOut = false
    while process.isRunning {
        if ContinuousClock.now >= deadline {
            timedOut = true
            process.terminate()
            let hardDeadline = ContinuousClock.now + .seconds(5)
            while process.isRunning && ContinuousClock.now < hardDeadline { try await Task.sleep(for: .milliseconds(20)) }
            break
        }
        try await Task.sleep(for: .milliseconds(20))
    }
    process.waitUntilExit()
    try out.close()
    try err.close()
    return ProcessResult(status: process.terminationStatus, stdout: [UInt8](try Data(contentsOf: outURL)),
                         stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self), timedOut: timedOut)
}

/// Pull requests as a libarms client writes them (pull.md §2.4, §4.1, §5.1).
enum PullRequests {
    static func http(body: [UInt8], user: String, key: String, method: String = "POST", target: String = "/arms.cgi",
                     authorization: String? = nil) -> [UInt8] {
        var head = "\(method) \(target) HTTP/1.0\r\nContent-Type: text/xml\r\nContent-Length: \(body.count)\r\n"
        let auth = authorization ?? BasicCredentials(user: user, password: key).headerValue
        if !auth.isEmpty { head += "Authorization: \(auth)\r\n" }
        return Array((head + "\r\n").utf8) + body
    }

    static func rsSolicitation(_ id: DistributionID, key: String, bodyID: String? = nil) -> [UInt8] {
        let request = ARMSRequest(type: .rsSolicitation, distributionID: bodyID ?? id.description, description: "armsd",
                                  body: .rsSolicitation(trigger: "power on boot"))
        return http(body: request.encode().bytes, user: id.description, key: key)
    }

    static func configSolicitation(_ id: DistributionID, key: String, target: String = "/rs.cgi") -> [UInt8] {
        let request = ARMSRequest(type: .configSolicitation, distributionID: id.description, description: "armsd",
                                  body: .configSolicitation(ConfigSolicitationRequest(trigger: "power on boot", firmwareInfo: "0.9.0")))
        return http(body: request.encode().bytes, user: id.description, key: key, target: target)
    }

    /// Parses request bytes as the server would.
    static func parse(_ bytes: [UInt8]) throws -> HTTPRequest {
        var parser = HTTPRequestParser()
        guard let request = try parser.feed(bytes) else { throw TestFailure("incomplete request") }
        return request
    }
}

extension ExchangeReply {
    /// The reply bytes parsed back as a response.
    func parsed(sourceLocation: SourceLocation = #_sourceLocation) throws -> ReadResponse {
        try ReadResponse(bytes, sourceLocation: sourceLocation)
    }
}

/// Checks the framing every pull answer needs (pull.md §2.6, §9.2 item 6).
func expectLibarmsFraming(_ response: ReadResponse, sourceLocation: SourceLocation = #_sourceLocation) {
    let text = String(decoding: response.raw, as: UTF8.self)
    #expect(text.hasPrefix("HTTP/1.0 200 OK\r\n"), sourceLocation: sourceLocation)
    #expect(response.head.headers["Content-Length"] == String(response.body.count), sourceLocation: sourceLocation)
    #expect(response.head.headers["Transfer-Encoding"] == nil, sourceLocation: sourceLocation)
    #expect(response.raw.allSatisfy { $0 < 0x80 }, "non-ASCII byte in the answer", sourceLocation: sourceLocation)
    #expect(response.body.starts(with: Array("<?xml version=\"1.0\" encoding=\"US-ASCII\" ?>\r\n<arms-message>".utf8)),
            sourceLocation: sourceLocation)
    #expect(response.body.suffix(15) == Array("</arms-message>".utf8)[...], sourceLocation: sourceLocation)
}
