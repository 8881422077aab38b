/// The step of a connection that a timeout or failure belongs to.
public enum TransportPhase: String, Hashable, Sendable, CustomStringConvertible {
    /// TCP connect to the server (direct connection).
    case connect
    /// TLS handshake, including the server certificate check.
    case handshake
    /// TCP connect to the web proxy.
    case proxyConnect
    /// Writing the `CONNECT` request to the web proxy.
    case proxyRequest
    /// Waiting for the web proxy's answer to `CONNECT`.
    case proxyResponse
    /// Reading from an established connection.
    case read
    /// Writing to an established connection.
    case write

    public var description: String {
        switch self {
        case .connect: "TCP connect"
        case .handshake: "TLS handshake"
        case .proxyConnect: "web proxy connect"
        case .proxyRequest: "web proxy CONNECT request"
        case .proxyResponse: "web proxy response"
        case .read: "read"
        case .write: "write"
        }
    }
}

/// Why the server certificate was refused.
public enum CertificateVerificationFailure: Hashable, Sendable, CustomStringConvertible {
    /// OpenSSL reported a verification error other than the validity period
    /// (`X509_V_ERR_*` code, OpenSSL's text for it, chain depth, one-line subject).
    case x509(code: Int32, reason: String, depth: Int32, subject: String)
    /// LS connection: a chain member's one-line subject contains neither
    /// `CN=ARMS Root CA` nor `CN=Location Server ` (with the trailing space).
    case locationServerName(subject: String, depth: Int32)

    /// `X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY`
    static let unableToGetIssuerLocally: Int32 = 20

    /// The reason in the words libarms logs after
    /// "verification failure of server certificate" (`reason: ...`).
    public var reason: String {
        switch self {
        case let .x509(code, reason, _, _):
            // libarms adds a hint to this one error.
            code == Self.unableToGetIssuerLocally
                ? "unable to get local issuer certificate(certificate chain may be too long)"
                : reason
        case .locationServerName:
            "subject contains neither CN=ARMS Root CA nor CN=Location Server "
        }
    }

    public var description: String {
        switch self {
        case let .x509(code, _, depth, subject):
            "\(reason) (X509 error \(code) at depth \(depth), subject \(subject))"
        case let .locationServerName(subject, depth):
            "LS name rule: \(reason)(depth \(depth), subject \(subject))"
        }
    }
}

/// Failures of the agent's TCP/TLS client transport. Each names the step and the
/// reason; `description` follows the libarms 5.33 log texts where libarms has one.
public enum TransportError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The host is not a numeric IPv4/IPv6 literal (or the port is unusable).
    case invalidAddress(host: String, port: UInt16)
    /// `socket(2)` failed.
    case socket(errno: Int32)
    /// The TCP connect to the server failed (e.g. `ECONNREFUSED`).
    case connect(errno: Int32)
    /// A deadline passed in the given phase.
    case timeout(TransportPhase)
    /// The proxy cannot be used for this server (its family differs from the server's).
    case proxyUnavailable(proxy: SocketAddress, server: SocketAddress)
    /// The TCP connect to the web proxy failed.
    case proxyConnect(errno: Int32)
    /// The web proxy's answer to `CONNECT` was not `HTTP/<maj>.<min> 2xx`.
    /// `status` is the parsed code, `nil` when there was none.
    case proxyRefused(status: Int?, statusLine: String)
    /// The web proxy closed the connection without answering `CONNECT`.
    case proxyClosed
    /// The TLS handshake failed for a reason other than the certificate check;
    /// `reason` carries OpenSSL's error text.
    case handshake(reason: String)
    /// The server certificate was refused (log text "verification failure of server certificate").
    case verification(CertificateVerificationFailure)
    /// `SSL_read`/`SSL_write` failed on an established connection.
    case tls(operation: String, reason: String)
    /// A plain socket call failed (`operation` names it).
    case io(operation: String, errno: Int32)
    /// A PEM certificate or key given to the transport cannot be used.
    case invalidCertificate(String)
    /// OpenSSL could not create a context or connection object.
    case tlsSetup(String)
    /// The connection was already closed.
    case closed

    /// The libarms log code this failure is reported under
    /// (101 EHOST, 102 ESOCKET, 103 ECONNECT, 106 ECERTIFICATE, 109 ESSL, 112 EFATAL).
    public var logCode: Int {
        switch self {
        case .invalidAddress, .proxyUnavailable: 101
        case .socket: 102
        case .connect, .proxyConnect, .proxyRefused, .proxyClosed, .io: 103
        case .timeout(let phase):
            switch phase {
            case .proxyConnect, .proxyRequest, .proxyResponse: 103
            default: 109
            }
        case .handshake, .verification, .tls, .closed: 109
        case .invalidCertificate: 106
        case .tlsSetup: 112
        }
    }

    /// The phase the failure happened in, when it belongs to one.
    public var phase: TransportPhase? {
        switch self {
        case .connect: .connect
        case .timeout(let phase): phase
        case .proxyUnavailable, .proxyConnect: .proxyConnect
        case .proxyRefused, .proxyClosed: .proxyResponse
        case .handshake, .verification: .handshake
        default: nil
        }
    }

    public var description: String {
        switch self {
        case let .invalidAddress(host, port):
            "failed to get host information: \(host):\(port)"
        case let .socket(errno):
            "socket(2) failed. (\(errnoText(errno)))"
        case let .connect(errno):
            "Connect error (\(errno)). (\(errnoText(errno)))"
        case let .timeout(phase):
            switch phase {
            case .connect, .handshake: "SSL Connection timeout. (\(phase))"
            case .proxyConnect, .proxyRequest, .proxyResponse: "web proxy timeout. (\(phase))"
            case .read, .write: "SSL Connection timeout. (\(phase))"
            }
        case let .proxyUnavailable(proxy, server):
            "no web proxy available (proxy \(proxy) cannot reach \(server): address family differs)"
        case let .proxyConnect(errno):
            "web proxy connect error (\(errno)). (\(errnoText(errno)))"
        case let .proxyRefused(status, line):
            "web proxy server response \(status.map(String.init) ?? "?") (\(line))"
        case .proxyClosed:
            "web proxy closed the connection without a response"
        case let .handshake(reason):
            "SSL Connection reset by peer. (\(reason))"
        case let .verification(failure):
            "verification failure of server certificate (reason: \(failure))"
        case let .tls(operation, reason):
            "\(operation): \(reason)"
        case let .io(operation, errno):
            "\(operation) failed (\(errno)). (\(errnoText(errno)))"
        case let .invalidCertificate(why):
            "Registering certification got error. (\(why))"
        case let .tlsSetup(why):
            "SSL setup failed. (\(why))"
        case .closed:
            "connection already closed"
        }
    }
}
