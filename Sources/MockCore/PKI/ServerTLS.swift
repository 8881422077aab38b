import NIOSSL

/// The TLS side of a mock server (pull.md §2.3, §9.2 item 1).
///
/// * A fixed certificate chain and key: no SNI is needed (libarms sends none).
/// * No client certificate is requested (a fresh SA has none to give).
/// * TLS 1.0 through 1.3: libarms 5.33 speaks TLS 1.0 only, with OpenSSL's
///   default list of RSA-keyed CBC suites (`ECDHE-RSA-AES256-SHA`,
///   `AES128-SHA`, …); newer clients get TLS 1.2/1.3. BoringSSL (inside
///   swift-nio-ssl) has no security level: it negotiates TLS 1.0 with these
///   suites as soon as the minimum version allows it (proved in MockTests).
public struct ServerTLS: Equatable, Sendable {
    public var identity: TLSIdentity
    public var minimumVersion: TLSVersion
    public var maximumVersion: TLSVersion
    /// OpenSSL-style cipher string for TLS 1.2 and below (TLS 1.3 suites are fixed).
    public var cipherSuites: String
    /// How long closing waits for the peer's close_notify before dropping the connection.
    public var shutdownTimeout: Duration

    /// ECDHE and plain-RSA key exchange, AES-GCM and ChaCha20 first, then the
    /// AES-CBC suites with SHA-1 MACs that TLS 1.0 clients offer
    /// (`ECDHE-RSA-AES256-SHA`, `ECDHE-RSA-AES128-SHA`, `AES256-SHA`,
    /// `AES128-SHA`, …). This is swift-nio-ssl's default list, spelled out so
    /// that a change of that default cannot silently drop the suites libarms needs.
    public static let libarmsCompatibleCipherSuites = [
        "ECDH+AESGCM", "ECDH+CHACHA20", "DH+AESGCM", "DH+CHACHA20",
        "ECDH+AES256", "DH+AES256", "ECDH+AES128", "DH+AES",
        "RSA+AESGCM", "RSA+AES",
        "!aNULL", "!eNULL", "!MD5",
    ].joined(separator: ":")

    public init(identity: TLSIdentity, minimumVersion: TLSVersion = .tlsv1, maximumVersion: TLSVersion = .tlsv13,
                cipherSuites: String = ServerTLS.libarmsCompatibleCipherSuites, shutdownTimeout: Duration = .seconds(3)) {
        self.identity = identity
        self.minimumVersion = minimumVersion
        self.maximumVersion = maximumVersion
        self.cipherSuites = cipherSuites
        self.shutdownTimeout = shutdownTimeout
    }

    /// MockLS with the `Location Server 127.0.0.1` certificate.
    public static let locationServer = ServerTLS(identity: .locationServer)
    /// MockRS with the `Remote Server 127.0.0.1` certificate.
    public static let remoteServer = ServerTLS(identity: .remoteServer)

    /// The swift-nio-ssl configuration; throws when the PEM texts cannot be read.
    public func makeConfiguration() throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(identity.certificateChainPEM.utf8))
        guard !chain.isEmpty else { throw ServerTLSError.noCertificate }
        let key = try NIOSSLPrivateKey(bytes: Array(identity.privateKeyPEM.utf8), format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = minimumVersion
        configuration.maximumTLSVersion = maximumVersion
        configuration.cipherSuites = cipherSuites
        configuration.certificateVerification = .none
        configuration.shutdownTimeout = shutdownTimeout.timeAmount
        return configuration
    }

    /// A ready server context (certificates parsed once, shared by every connection).
    public func makeContext() throws -> NIOSSLContext {
        try NIOSSLContext(configuration: makeConfiguration())
    }
}

public enum ServerTLSError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The certificate PEM text holds no certificate.
    case noCertificate

    public var description: String {
        switch self {
        case .noCertificate: return "TLS: the certificate PEM holds no certificate"
        }
    }
}
