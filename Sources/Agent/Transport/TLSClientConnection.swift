import CArmsOpenSSL
import Glibc

/// A TLS client connection to an LS or RS, the way libarms 5.33 makes it
/// (pull.md §2.2–2.3, push.md §2.6, tunnel.md §3.1) but offering TLS 1.2 and 1.3:
/// numeric address, non-blocking connect, optional web proxy, no SNI, no
/// host-name check, one trust anchor, validity period ignored, LS name rule.
///
/// Blocking API over a non-blocking socket: every wait is a `poll(2)` bounded by
/// a deadline. Single-threaded use; not `Sendable`. No call raises SIGPIPE (it is
/// blocked and consumed per call, the process' signal actions stay untouched).
/// One OpenSSL context per connection, freed with it, as libarms does.
///
/// The same type carries the accepted side of the https-simple listener
/// (`TLSListener.accept`): after the handshake both sides read and write alike.
public final class TLSClientConnection {
    /// The TLS server (also when reached through a proxy).
    public let serverAddress: SocketAddress
    /// The web proxy the connection goes through, if any.
    public let proxyAddress: SocketAddress?
    /// The local end of the TCP socket (`getsockname`, as libarms records it
    /// for `sa_address`/`sa_af`); through a proxy, the end facing the proxy.
    public let localAddress: SocketAddress
    /// The timers this connection applies.
    public let timeouts: TransportTimeouts
    /// Negotiated protocol, e.g. `TLSv1.3`.
    public private(set) var protocolVersion = ""
    /// Negotiated cipher suite, e.g. `TLS_AES_256_GCM_SHA384`.
    public private(set) var cipherSuite = ""
    /// One-line subject of the server certificate (`/CN=...`).
    public private(set) var peerSubject = ""
    /// How many "not yet valid"/"expired" verification errors were overridden.
    public private(set) var ignoredValidityErrors = 0

    private let tcp: TCPConnection
    private var context: OpaquePointer?
    private var ssl: OpaquePointer?
    private let verifyState: UnsafeMutablePointer<carms_verify_state>
    /// After a fatal TLS error OpenSSL forbids SSL_shutdown.
    private var broken = false
    /// The accepted side of a listener (handshake with `SSL_accept`).
    private var isServer = false

    /// Connects and completes the handshake, or throws.
    ///
    /// Direct: TCP connect and TLS handshake share one `connectAndHandshake` timer.
    /// With `proxy`: TCP connect to the proxy, `CONNECT` write and its answer get
    /// `proxyStep` each, then the handshake gets `connectAndHandshake`. The proxy
    /// must be of the server's address family, as in libarms.
    public static func connect(to server: SocketAddress,
                               configuration: TLSClientConfiguration,
                               proxy: SocketAddress? = nil,
                               timeouts: TransportTimeouts = .libarms) throws(TransportError) -> TLSClientConnection {
        let context = try configuration.makeContext()
        var contextOwned = true
        defer { if contextOwned { SSL_CTX_free(context) } }

        let tcp: TCPConnection
        let handshakeDeadline: Deadline
        if let proxy {
            guard proxy.family == server.family else {
                throw .proxyUnavailable(proxy: proxy, server: server)
            }
            tcp = try TCPConnection.open(to: proxy, deadline: .now + timeouts.proxyStep, phase: .proxyConnect)
            try WebProxyTunnel.establish(over: tcp, to: server, stepTimeout: timeouts.proxyStep)
            handshakeDeadline = .now + timeouts.connectAndHandshake
        } else {
            handshakeDeadline = .now + timeouts.connectAndHandshake
            tcp = try TCPConnection.open(to: server, deadline: handshakeDeadline, phase: .connect)
        }

        contextOwned = false
        let connection = try TLSClientConnection(tcp: tcp, server: server, proxy: proxy, context: context,
                                                 policy: configuration.policy, timeouts: timeouts)
        try connection.handshake(until: handshakeDeadline)
        return connection
    }

    /// The server side of an accepted TCP connection: takes ownership of `tcp`
    /// and `context` (a `carms_server_ctx_new` context) and completes the
    /// handshake by `deadline`, or throws (closing both).
    static func serve(_ tcp: TCPConnection, context: OpaquePointer, deadline: ContinuousClock.Instant,
                      timeouts: TransportTimeouts) throws(TransportError) -> TLSClientConnection {
        let connection = try TLSClientConnection(tcp: tcp, server: tcp.remoteAddress, proxy: nil, context: context,
                                                 policy: .remoteServer, timeouts: timeouts)
        connection.isServer = true
        try connection.handshake(until: deadline)
        return connection
    }

    /// Takes ownership of `context` (freed on failure too).
    private init(tcp: TCPConnection, server: SocketAddress, proxy: SocketAddress?, context: OpaquePointer,
                 policy: TLSTrustPolicy, timeouts: TransportTimeouts) throws(TransportError) {
        self.tcp = tcp
        self.serverAddress = server
        self.proxyAddress = proxy
        self.localAddress = tcp.localAddress
        self.timeouts = timeouts
        self.context = context
        verifyState = .allocate(capacity: 1)
        verifyState.initialize(to: carms_verify_state())
        verifyState.pointee.location_server_rule = policy == .locationServer ? 1 : 0

        guard let ssl = SSL_new(context) else {
            throw .tlsSetup("SSL_new failed: \(drainOpenSSLErrors())")
        }
        self.ssl = ssl
        guard SSL_set_fd(ssl, tcp.fileDescriptor) == 1,
              carms_ssl_attach_verify_state(ssl, verifyState) == 1 else {
            throw .tlsSetup("SSL_set_fd failed: \(drainOpenSSLErrors())")
        }
    }

    deinit {
        releaseTLS()
        tcp.close()
        verifyState.deinitialize(count: 1)
        verifyState.deallocate()
    }

    // MARK: handshake

    private func handshake(until deadline: Deadline) throws(TransportError) {
        guard let ssl else { throw .closed }
        let fd = tcp.fileDescriptor
        while true {
            var error: Int32 = 0
            var savedErrno: Int32 = 0
            let done = isServer ? carms_ssl_accept(ssl, &error, &savedErrno) : carms_ssl_connect(ssl, &error, &savedErrno)
            if done == 1 { break }
            switch error {
            case SSL_ERROR_WANT_READ:
                guard try waitFor(pollIn, on: fd, until: deadline) else { throw .timeout(.handshake) }
            case SSL_ERROR_WANT_WRITE:
                guard try waitFor(pollOut, on: fd, until: deadline) else { throw .timeout(.handshake) }
            default:
                broken = true
                if let refusal = verificationFailure() {
                    carms_clear_errors()
                    throw .verification(refusal)
                }
                let queue = drainOpenSSLErrors()
                if error == SSL_ERROR_SYSCALL, queue.isEmpty {
                    throw .handshake(reason: savedErrno == 0
                        ? "connection closed by peer during the handshake"
                        : "SSL_connect: syscall errno \(savedErrno) (\(errnoText(savedErrno)))")
                }
                throw .handshake(reason: queue.isEmpty ? "SSL_connect failed (SSL error \(error))" : queue)
            }
        }
        protocolVersion = SSL_get_version(ssl).map { String(cString: $0) } ?? ""
        cipherSuite = String(cString: carms_ssl_cipher_name(ssl))
        var subject = [CChar](repeating: 0, count: Int(CARMS_SUBJECT_MAX))
        if carms_ssl_peer_subject(ssl, &subject, Int32(subject.count)) == 1 {
            peerSubject = cStringPrefix(subject)
        }
        ignoredValidityErrors = Int(verifyState.pointee.ignored_validity)
    }

    /// The refusal the verify callback recorded, else OpenSSL's verify result.
    private func verificationFailure() -> CertificateVerificationFailure? {
        let state = verifyState.pointee
        let subject = withUnsafeBytes(of: state.subject) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        switch state.failure {
        case CARMS_VERIFY_X509_ERROR:
            return .x509(code: state.x509_error, reason: x509ErrorText(Int(state.x509_error)),
                         depth: state.depth, subject: subject)
        case CARMS_VERIFY_NAME_RULE:
            return .locationServerName(subject: subject, depth: state.depth)
        default:
            guard let ssl else { return nil }
            let result = SSL_get_verify_result(ssl)
            guard result != X509_V_OK else { return nil }
            return .x509(code: Int32(truncatingIfNeeded: result), reason: x509ErrorText(result),
                         depth: -1, subject: "")
        }
    }

    private func x509ErrorText(_ code: Int) -> String {
        X509_verify_cert_error_string(code).map { String(cString: $0) } ?? "X509 error \(code)"
    }

    // MARK: I/O

    /// The socket, for callers that wait on several connections with `poll(2)`;
    /// check `bufferedByteCount` first: decrypted bytes may already be waiting.
    public var fileDescriptor: Int32 { tcp.fileDescriptor }

    /// Decrypted bytes OpenSSL holds that `read` returns without touching the socket.
    public var bufferedByteCount: Int {
        guard let ssl else { return 0 }
        return Int(SSL_pending(ssl))
    }

    /// Whether the connection is still open (neither closed nor aborted).
    public var isOpen: Bool { ssl != nil }

    /// Reads at most `maxBytes` (≥ 1) once any are available. Returns `[]` when the
    /// peer ended the stream (close_notify, or a TCP close without it). Throws
    /// `.timeout(.read)` when nothing arrived before `deadline`.
    public func read(upTo maxBytes: Int, deadline: ContinuousClock.Instant) throws(TransportError) -> [UInt8] {
        let fd = tcp.fileDescriptor
        while true {
            let attempt = try readOnce(upTo: maxBytes)
            if let bytes = attempt.bytes { return bytes }
            switch attempt.error {
            case SSL_ERROR_WANT_READ:
                guard try waitFor(pollIn, on: fd, until: deadline) else { throw .timeout(.read) }
            case SSL_ERROR_WANT_WRITE:
                guard try waitFor(pollOut, on: fd, until: deadline) else { throw .timeout(.read) }
            case SSL_ERROR_ZERO_RETURN:
                return []
            default:
                broken = true
                throw ioFailure("SSL_read", error: attempt.error, savedErrno: attempt.savedErrno)
            }
        }
    }

    /// One `SSL_read` of at most `maxBytes` (≥ 1): the bytes read, or nil and OpenSSL's
    /// error code with the errno it saw.
    private func readOnce(upTo maxBytes: Int) throws(TransportError) -> (bytes: [UInt8]?, error: Int32, savedErrno: Int32) {
        guard let ssl else { throw .closed }
        precondition(maxBytes > 0, "read needs room for at least one byte")
        var buffer = [UInt8](repeating: 0, count: min(maxBytes, Int(Int32.max)))
        var error: Int32 = 0
        var savedErrno: Int32 = 0
        let count = buffer.withUnsafeMutableBytes {
            carms_ssl_read(ssl, $0.baseAddress, Int32($0.count), &error, &savedErrno)
        }
        guard count > 0 else { return (nil, error, savedErrno) }
        buffer.removeSubrange(Int(count)...)
        return (buffer, 0, 0)
    }

    /// What a non-blocking read found.
    public enum ReadResult: Equatable, Sendable {
        /// Decrypted bytes (never empty).
        case bytes([UInt8])
        /// Nothing yet: wait for the socket to become readable (`poll` on `fileDescriptor`).
        case wouldBlock
        /// The peer ended the stream (close_notify, or a TCP close without it).
        case closed
    }

    /// Reads at most `maxBytes` (≥ 1) without waiting: for callers that multiplex
    /// several connections in one `poll(2)` loop. A renegotiation that needs to
    /// write is treated as `wouldBlock` too (the next readable event retries).
    public func readAvailable(upTo maxBytes: Int) throws(TransportError) -> ReadResult {
        let attempt = try readOnce(upTo: maxBytes)
        if let bytes = attempt.bytes { return .bytes(bytes) }
        switch attempt.error {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .wouldBlock
        case SSL_ERROR_ZERO_RETURN:
            return .closed
        default:
            broken = true
            if attempt.error == SSL_ERROR_SYSCALL, attempt.savedErrno == 0 {
                carms_clear_errors()
                return .closed
            }
            throw ioFailure("SSL_read", error: attempt.error, savedErrno: attempt.savedErrno)
        }
    }

    /// Writes all of `bytes`. Each piece of progress must come within
    /// `timeouts.writeProgress` (libarms restarts its 30 s timer after every
    /// successful write); with `deadline`, the whole write must end by then too.
    public func write(_ bytes: [UInt8], deadline: ContinuousClock.Instant? = nil) throws(TransportError) {
        guard let ssl else { throw .closed }
        let fd = tcp.fileDescriptor
        var offset = 0
        var progressDeadline = ContinuousClock.now + timeouts.writeProgress
        while offset < bytes.count {
            let start = offset
            let length = Int32(clamping: bytes.count - start)
            var error: Int32 = 0
            var savedErrno: Int32 = 0
            let written = bytes.withUnsafeBytes {
                carms_ssl_write(ssl, $0.baseAddress! + start, length, &error, &savedErrno)
            }
            if written > 0 {
                offset += Int(written)
                progressDeadline = ContinuousClock.now + timeouts.writeProgress
                continue
            }
            let limit = earliest(progressDeadline, deadline)
            switch error {
            case SSL_ERROR_WANT_WRITE:
                guard try waitFor(pollOut, on: fd, until: limit) else { throw .timeout(.write) }
            case SSL_ERROR_WANT_READ:
                guard try waitFor(pollIn, on: fd, until: limit) else { throw .timeout(.write) }
            default:
                broken = true
                throw ioFailure("SSL_write", error: error, savedErrno: savedErrno)
            }
        }
    }

    private func ioFailure(_ operation: String, error: Int32, savedErrno: Int32) -> TransportError {
        let queue = drainOpenSSLErrors()
        if error == SSL_ERROR_ZERO_RETURN {
            return .tls(operation: operation, reason: "connection closed by peer")
        }
        if error == SSL_ERROR_SYSCALL, queue.isEmpty {
            return .tls(operation: operation, reason: savedErrno == 0
                ? "connection closed by peer"
                : "syscall errno \(savedErrno) (\(errnoText(savedErrno)))")
        }
        return .tls(operation: operation,
                    reason: queue.isEmpty ? "OpenSSL Connection reset by peer (\(error))" : queue)
    }

    // MARK: closing

    /// Orderly close: sends close_notify without waiting for the peer's
    /// (`SSL_shutdown` on the non-blocking socket, at most
    /// `timeouts.shutdownAttempts` times), then closes the socket. Idempotent.
    public func close() {
        if let ssl, !broken {
            for _ in 0..<max(1, timeouts.shutdownAttempts) {
                if carms_ssl_shutdown(ssl) != 0 { break }
            }
        }
        releaseTLS()
        tcp.close()
    }

    /// Abrupt close: drops the TLS state and closes the socket without
    /// close_notify (how the agent drops a tunnel). Idempotent.
    public func abort() {
        releaseTLS()
        tcp.close()
    }

    private func releaseTLS() {
        if let ssl { SSL_free(ssl) }
        ssl = nil
        if let context { SSL_CTX_free(context) }
        context = nil
    }
}
