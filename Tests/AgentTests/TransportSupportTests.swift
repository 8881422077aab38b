import Glibc
import Testing
@testable import Agent

// Socket plumbing for the Transport* suites (no Foundation here, see
// TransportProcessTests.swift): a never-answering TCP listener, a bound but not
// listening socket (refused port), a tiny CONNECT proxy on a thread, helpers.
// Every wait is bounded.

/// Short timers so failures show quickly but loaded CI machines still pass.
let testTimeouts = TransportTimeouts(connectAndHandshake: .seconds(15), proxyStep: .seconds(15),
                                     writeProgress: .seconds(15))

func deadline(in seconds: Int) -> ContinuousClock.Instant { .now + .seconds(seconds) }

/// Runs `body` and returns the transport error it threw (nil when it did not
/// throw; any other error is recorded as an issue).
func transportError<T>(_ body: () throws -> T, sourceLocation: SourceLocation = #_sourceLocation) -> TransportError? {
    do {
        _ = try body()
        return nil
    } catch let error as TransportError {
        return error
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

// MARK: - plain sockets

/// A TCP socket bound to a loopback port, listening or not.
final class LoopbackSocket: Sendable {
    let fd: Int32
    let port: UInt16
    let host: String

    /// `listening == false` keeps the port bound without accepting: connecting
    /// to it is refused, with no race against other processes.
    init(host: String = "127.0.0.1", listening: Bool) throws {
        self.host = host
        let v6 = host.contains(":")
        let fd = socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HarnessError(description: "socket: \(errno)") }
        self.fd = fd
        let bound = try SocketAddress.numeric(host: host, port: 0).withSockAddr { bind(fd, $0, $1) }
        guard bound == 0 else { Glibc.close(fd); throw HarnessError(description: "bind: \(errno)") }
        if listening {
            guard listen(fd, 8) == 0 else { Glibc.close(fd); throw HarnessError(description: "listen: \(errno)") }
        }
        guard let local = socketAddress(of: fd, peer: false) else {
            Glibc.close(fd)
            throw HarnessError(description: "getsockname: \(errno)")
        }
        port = local.port
    }

    deinit { Glibc.close(fd) }

    var address: SocketAddress {
        get throws { try SocketAddress.numeric(host: host, port: port) }
    }

    /// Accepts one connection, waiting at most `seconds`.
    func accept(seconds: Int) -> Int32? {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, Int32(seconds * 1000)) == 1 else { return nil }
        let client = Glibc.accept(fd, nil, nil)
        return client >= 0 ? client : nil
    }
}

/// Reads from `fd` until `terminator` was seen, EOF, or `seconds` passed.
func readPlain(_ fd: Int32, until terminator: [UInt8], seconds: Int) -> [UInt8] {
    var received: [UInt8] = []
    let limit = ContinuousClock.now + .seconds(seconds)
    var buffer = [UInt8](repeating: 0, count: 4096)
    while ContinuousClock.now < limit {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, 100) >= 0 else { break }
        if entry.revents == 0 { continue }
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count <= 0 { break }
        received += buffer[0..<count]
        if received.count >= terminator.count,
           received.indices.contains(where: { received[$0...].starts(with: terminator) }) {
            break
        }
    }
    return received
}

func sendAll(_ fd: Int32, _ bytes: [UInt8]) {
    var offset = 0
    while offset < bytes.count {
        let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
        if sent <= 0 { return }
        offset += sent
    }
}

// MARK: - a tiny CONNECT proxy

/// Accepts one client on a thread, records its request head, then either answers
/// with a fixed reply and closes, or opens the tunnel to the requested target and
/// relays bytes both ways until either side closes (bounded).
final class TinyConnectProxy: Sendable {
    enum Mode: Sendable {
        case tunnel
        case reply(String)
        case closeWithoutReply
    }

    let listener: LoopbackSocket
    private let recordedRequest = LockedBox<[UInt8]>([])
    private let job: LockedBox<BackgroundJob?> = LockedBox(nil)

    init(host: String = "127.0.0.1", mode: Mode) throws {
        listener = try LoopbackSocket(host: host, listening: true)
        job.value = BackgroundJob { [self] in serve(mode) }
    }

    var address: SocketAddress {
        get throws { try listener.address }
    }

    /// The request head the client sent (after the proxy has read it).
    var request: String {
        String(decoding: recordedRequest.value, as: UTF8.self)
    }

    /// Waits (bounded) for the proxy thread to finish.
    @discardableResult
    func waitUntilDone(seconds: Int = 20) -> Bool {
        job.value?.wait(seconds: seconds) ?? true
    }

    private func serve(_ mode: Mode) {
        guard let client = listener.accept(seconds: 20) else { return }
        defer { Glibc.close(client) }
        let head = readPlain(client, until: Array("\r\n\r\n".utf8), seconds: 10)
        recordedRequest.value = head
        switch mode {
        case .closeWithoutReply:
            return
        case .reply(let text):
            sendAll(client, Array(text.utf8))
        case .tunnel:
            guard let target = connectTarget(of: head) else { return }
            defer { Glibc.close(target) }
            sendAll(client, Array("HTTP/1.1 200 Connection established\r\n\r\n".utf8))
            relay(client, target)
        }
    }

    /// Connects to the `CONNECT host:port` target (IPv6 in brackets).
    private func connectTarget(of head: [UInt8]) -> Int32? {
        let line = String(decoding: head, as: UTF8.self).split(separator: "\r\n").first ?? ""
        let parts = line.split(separator: " ")
        guard parts.count == 3, parts[0] == "CONNECT", let colon = parts[1].lastIndex(of: ":"),
              let port = UInt16(parts[1][parts[1].index(after: colon)...]) else { return nil }
        var host = String(parts[1][..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let address = try? SocketAddress.numeric(host: host, port: port) else { return nil }
        let fd = socket(address.family.rawValue, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        guard address.withSockAddr({ Glibc.connect(fd, $0, $1) }) == 0 else {
            Glibc.close(fd)
            return nil
        }
        return fd
    }

    private func relay(_ a: Int32, _ b: Int32) {
        var buffer = [UInt8](repeating: 0, count: 16384)
        let limit = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < limit {
            var entries = [pollfd(fd: a, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: b, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&entries, 2, 200)
            if ready < 0 { return }
            for (index, entry) in entries.enumerated() where entry.revents != 0 {
                let from = index == 0 ? a : b
                let to = index == 0 ? b : a
                let count = buffer.withUnsafeMutableBytes { recv(from, $0.baseAddress, $0.count, 0) }
                if count <= 0 { return }
                sendAll(to, Array(buffer[0..<count]))
            }
        }
    }
}

// MARK: - TLS helpers

/// Reads from a TLS connection until a newline arrived (bounded).
func readLine(from connection: TLSClientConnection, seconds: Int = 10) throws(TransportError) -> String {
    var received: [UInt8] = []
    let limit = deadline(in: seconds)
    while !received.contains(UInt8(ascii: "\n")) {
        let chunk = try connection.read(upTo: 4096, deadline: limit)
        if chunk.isEmpty { break }
        received += chunk
    }
    return String(decoding: received, as: UTF8.self)
}

extension OpenSSLServer {
    var address: SocketAddress {
        get throws { try SocketAddress.numeric(host: host, port: port) }
    }
}
