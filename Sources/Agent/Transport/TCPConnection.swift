import Glibc

/// A connected TCP socket (non-blocking underneath; every call waits with
/// `poll(2)` up to a deadline). Used for the web proxy leg and carried by
/// `TLSClientConnection`.
public final class TCPConnection {
    /// The endpoint this socket is connected to.
    public let remoteAddress: SocketAddress
    /// The socket's own address (`getsockname`): with a direct connection,
    /// the address the agent reports as its push address.
    public let localAddress: SocketAddress
    /// The socket descriptor, -1 once closed.
    public private(set) var fileDescriptor: Int32

    init(fileDescriptor: Int32, remote: SocketAddress, local: SocketAddress) {
        self.fileDescriptor = fileDescriptor
        self.remoteAddress = remote
        self.localAddress = local
    }

    deinit { close() }

    /// Non-blocking connect to `address`, given up after `timeout`.
    public static func connect(to address: SocketAddress, timeout: Duration = .seconds(30)) throws(TransportError) -> TCPConnection {
        try open(to: address, deadline: .now + timeout, phase: .connect)
    }

    /// Connects; failures are reported as `phase` (`.connect` or `.proxyConnect`).
    static func open(to address: SocketAddress, deadline: Deadline, phase: TransportPhase) throws(TransportError) -> TCPConnection {
        let fd = socket(address.family.rawValue,
                        socketStreamType | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw .socket(errno: errno) }
        func fail(_ code: Int32) -> TransportError {
            phase == .proxyConnect ? .proxyConnect(errno: code) : .connect(errno: code)
        }
        var ok = false
        defer { if !ok { Glibc.close(fd) } }
        disableNagle(fd)

        let started = address.withSockAddr { sa, length in Glibc.connect(fd, sa, length) }
        if started != 0 {
            let code = errno
            guard code == EINPROGRESS || code == EINTR else { throw fail(code) }
            guard try waitFor(pollOut, on: fd, until: deadline) else { throw .timeout(phase) }
            var soError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length) == 0 else { throw fail(errno) }
            guard soError == 0 else { throw fail(soError) }
        }
        guard let local = socketAddress(of: fd, peer: false) else {
            throw .io(operation: "getsockname", errno: errno)
        }
        ok = true
        return TCPConnection(fileDescriptor: fd, remote: address, local: local)
    }

    /// Sends small writes at once. The agent writes a tunnel chunk as header, data and
    /// CRLF, each its own TLS record (as libarms does); with Nagle's algorithm the second
    /// record waits for the peer's delayed ACK, up to 40 ms per message on Linux. The
    /// records and their bytes stay the same.
    static func disableNagle(_ fd: Int32) {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Reads at most `maxBytes` once data is there; `[]` means the peer closed.
    public func read(upTo maxBytes: Int, deadline: ContinuousClock.Instant) throws(TransportError) -> [UInt8] {
        try read(upTo: maxBytes, deadline: deadline, phase: .read)
    }

    func read(upTo maxBytes: Int, deadline: Deadline, phase: TransportPhase) throws(TransportError) -> [UInt8] {
        guard fileDescriptor >= 0 else { throw .closed }
        precondition(maxBytes > 0, "read needs room for at least one byte")
        var buffer = [UInt8](repeating: 0, count: maxBytes)
        while true {
            let fd = fileDescriptor
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count >= 0 {
                buffer.removeSubrange(count...)
                return buffer
            }
            let code = errno
            switch code {
            case EINTR:
                continue
            case EAGAIN, EWOULDBLOCK:
                guard try waitFor(pollIn, on: fd, until: deadline) else { throw .timeout(phase) }
            default:
                throw .io(operation: "read", errno: code)
            }
        }
    }

    /// Writes everything; each piece of progress must come within
    /// `progressTimeout`, and all of it before `deadline` when given.
    public func write(_ bytes: [UInt8], progressTimeout: Duration = .seconds(30),
                      deadline: ContinuousClock.Instant? = nil) throws(TransportError) {
        try write(bytes, progressTimeout: progressTimeout, deadline: deadline, phase: .write)
    }

    func write(_ bytes: [UInt8], progressTimeout: Duration, deadline: Deadline?, phase: TransportPhase) throws(TransportError) {
        guard fileDescriptor >= 0 else { throw .closed }
        var offset = 0
        var progressDeadline = ContinuousClock.now + progressTimeout
        while offset < bytes.count {
            let fd = fileDescriptor
            let start = offset
            let sent = bytes.withUnsafeBytes { raw in
                send(fd, raw.baseAddress! + start, raw.count - start, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                offset += sent
                progressDeadline = ContinuousClock.now + progressTimeout
                continue
            }
            let code = sent < 0 ? errno : EAGAIN
            switch code {
            case EINTR:
                continue
            case EAGAIN, EWOULDBLOCK:
                guard try waitFor(pollOut, on: fd, until: earliest(progressDeadline, deadline)) else {
                    throw .timeout(phase)
                }
            default:
                throw .io(operation: "write", errno: code)
            }
        }
    }

    /// Closes the socket (idempotent).
    public func close() {
        guard fileDescriptor >= 0 else { return }
        Glibc.close(fileDescriptor)
        fileDescriptor = -1
    }
}

/// The local (`getsockname`) or peer (`getpeername`) address of a socket.
func socketAddress(of fd: Int32, peer: Bool) -> SocketAddress? {
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let status = withUnsafeMutablePointer(to: &storage) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
            peer ? getpeername(fd, sa, &length) : getsockname(fd, sa, &length)
        }
    }
    guard status == 0 else { return nil }
    return withUnsafeBytes(of: &storage) { raw in
        SocketAddress(storage: UnsafeRawBufferPointer(rebasing: raw.prefix(Int(length))))
    }
}
