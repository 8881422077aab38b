import CArmsOpenSSL
import Glibc

/// The TLS identity and trust of the https-simple listener (push.md §7.2): the
/// SA certificate and key from the pull as server certificate; a client
/// certificate, if the RS presents one, must verify against the RS CA.
public struct TLSServerConfiguration: Hashable, Sendable {
    public let identity: TLSClientIdentity
    /// The RS CA; nil accepts no client certificate chain at all (a presented one fails).
    public let trustedCAPEM: String?

    public init(identity: TLSClientIdentity, trustedCAPEM: String?) {
        self.identity = identity
        self.trustedCAPEM = trustedCAPEM
    }

    func makeContext() throws(TransportError) -> OpaquePointer {
        guard let context = carms_server_ctx_new() else {
            throw .tlsSetup("SSL_CTX_new failed: \(drainOpenSSLErrors())")
        }
        if let trustedCAPEM {
            guard withPEM(trustedCAPEM, { carms_ctx_trust_ca_pem(context, $0, $1) }) == 1 else {
                carms_clear_errors()
                SSL_CTX_free(context)
                throw .invalidCertificate("the CA certificate cannot be put in the trust store")
            }
        }
        let result = withPEM(identity.certificatePEM) { cert, certLength in
            withPEM(identity.privateKeyPEM) { key, keyLength in
                carms_ctx_use_identity_pem(context, cert, certLength, key, keyLength)
            }
        }
        guard result == CARMS_IDENTITY_OK else {
            carms_clear_errors()
            SSL_CTX_free(context)
            throw .invalidCertificate("the SA certificate or key cannot be used as server identity")
        }
        return context
    }
}

/// A listening TCP socket (non-blocking, `SO_REUSEADDR`, IPv6 sockets
/// `IPV6_V6ONLY`, backlog 5 as libarms) whose connections become TLS servers.
public final class TLSListener {
    /// The bound address (port filled in when 0 was asked for).
    public let localAddress: SocketAddress
    public let configuration: TLSServerConfiguration
    public let timeouts: TransportTimeouts
    /// The socket, -1 once closed; `poll` it for `POLLIN`.
    public private(set) var fileDescriptor: Int32

    /// Binds `address` (use `::`/`0.0.0.0` for the wildcard) and listens.
    public init(address: SocketAddress, configuration: TLSServerConfiguration,
                timeouts: TransportTimeouts = .libarms) throws(TransportError) {
        // Check the identity before any socket exists.
        SSL_CTX_free(try configuration.makeContext())
        let fd = socket(address.family.rawValue,
                        socketStreamType | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw .socket(errno: errno) }
        var ok = false
        defer { if !ok { Glibc.close(fd) } }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if address.family == .ipv6 {
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        let bound = address.withSockAddr { sa, length in bind(fd, sa, length) }
        guard bound == 0 else { throw .io(operation: "bind", errno: errno) }
        guard listen(fd, 5) == 0 else { throw .io(operation: "listen", errno: errno) }
        guard let local = socketAddress(of: fd, peer: false) else {
            throw .io(operation: "getsockname", errno: errno)
        }
        ok = true
        fileDescriptor = fd
        localAddress = local
        self.configuration = configuration
        self.timeouts = timeouts
    }

    deinit { close() }

    /// Accepts one pending connection and completes the TLS handshake within
    /// `timeouts.connectAndHandshake` (libarms: 30 s). Returns nil when no
    /// connection is pending.
    public func accept() throws(TransportError) -> TLSClientConnection? {
        guard fileDescriptor >= 0 else { throw .closed }
        let fd = Glibc.accept(fileDescriptor, nil, nil)
        guard fd >= 0 else {
            let code = errno
            if code == EAGAIN || code == EWOULDBLOCK || code == EINTR || code == ECONNABORTED { return nil }
            throw .io(operation: "accept", errno: code)
        }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        TCPConnection.disableNagle(fd)
        guard let remote = socketAddress(of: fd, peer: true), let local = socketAddress(of: fd, peer: false) else {
            Glibc.close(fd)
            return nil
        }
        let tcp = TCPConnection(fileDescriptor: fd, remote: remote, local: local)
        let context = try configuration.makeContext()
        return try TLSClientConnection.serve(tcp, context: context, deadline: .now + timeouts.connectAndHandshake,
                                             timeouts: timeouts)
    }

    public func close() {
        guard fileDescriptor >= 0 else { return }
        Glibc.close(fileDescriptor)
        fileDescriptor = -1
    }
}
