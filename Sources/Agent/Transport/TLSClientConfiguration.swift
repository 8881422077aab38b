import CArmsOpenSSL

/// Which certificate rules a TLS client connection applies on top of the
/// common ones (one trust anchor, depth ≤ 10, validity period ignored, no
/// host-name check, no SNI).
public enum TLSTrustPolicy: Hashable, Sendable {
    /// The Location Server: additionally every certificate of the verified chain
    /// must have a one-line subject containing `CN=ARMS Root CA` or
    /// `CN=Location Server ` (trailing space). Anchor: `path-root-ca`.
    case locationServer
    /// A Remote Server (pull, push-method-query, confirmation, tunnel): the chain
    /// must end at the `rs-certificate` the LS delivered; no name rule.
    case remoteServer
}

/// A client certificate and its private key (PEM), presented only when the
/// server asks for one.
public struct TLSClientIdentity: Hashable, Sendable {
    public let certificatePEM: String
    public let privateKeyPEM: String

    /// Checks that both parse and belong together (libarms refuses such a pair
    /// with "Registering certification got error.").
    public init(certificatePEM: String, privateKeyPEM: String) throws(TransportError) {
        let result = withPEM(certificatePEM) { cert, certLength in
            withPEM(privateKeyPEM) { key, keyLength in
                carms_check_identity_pem(cert, certLength, key, keyLength)
            }
        }
        carms_clear_errors()
        if let problem = identityProblem(result) { throw .invalidCertificate(problem) }
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
    }
}

/// Everything a TLS client connection needs besides the address.
public struct TLSClientConfiguration: Hashable, Sendable {
    /// The single trusted CA (the first certificate of this PEM text is used).
    public let trustedCAPEM: String
    public let policy: TLSTrustPolicy
    public let identity: TLSClientIdentity?

    public init(trustedCAPEM: String, policy: TLSTrustPolicy, identity: TLSClientIdentity? = nil) throws(TransportError) {
        let parses = withPEM(trustedCAPEM) { carms_check_certificate_pem($0, $1) } == 1
        carms_clear_errors()
        guard parses else { throw .invalidCertificate("the CA certificate is not a PEM certificate") }
        self.trustedCAPEM = trustedCAPEM
        self.policy = policy
        self.identity = identity
    }

    /// LS connection: trust `rootCA` (armsd `path-root-ca`), LS name rule.
    public static func locationServer(rootCA: String, identity: TLSClientIdentity? = nil) throws(TransportError) -> TLSClientConfiguration {
        try TLSClientConfiguration(trustedCAPEM: rootCA, policy: .locationServer, identity: identity)
    }

    /// RS connection: trust the `rs-certificate` of Location-Config #0.
    public static func remoteServer(rsCertificate: String, identity: TLSClientIdentity? = nil) throws(TransportError) -> TLSClientConfiguration {
        try TLSClientConfiguration(trustedCAPEM: rsCertificate, policy: .remoteServer, identity: identity)
    }

    /// A fresh OpenSSL client context for one connection (libarms builds one per
    /// transaction too, which keeps nothing allocated between connections).
    func makeContext() throws(TransportError) -> OpaquePointer {
        guard let context = carms_client_ctx_new() else {
            throw .tlsSetup("SSL_CTX_new failed: \(drainOpenSSLErrors())")
        }
        let trusted = withPEM(trustedCAPEM) { carms_ctx_trust_ca_pem(context, $0, $1) } == 1
        guard trusted else {
            carms_clear_errors()
            SSL_CTX_free(context)
            throw .invalidCertificate("the CA certificate cannot be put in the trust store")
        }
        if let identity {
            let result = withPEM(identity.certificatePEM) { cert, certLength in
                withPEM(identity.privateKeyPEM) { key, keyLength in
                    carms_ctx_use_identity_pem(context, cert, certLength, key, keyLength)
                }
            }
            if let problem = identityProblem(result) {
                carms_clear_errors()
                SSL_CTX_free(context)
                throw .invalidCertificate(problem)
            }
        }
        return context
    }
}

private func identityProblem(_ result: Int32) -> String? {
    switch result {
    case CARMS_IDENTITY_OK: nil
    case CARMS_IDENTITY_BAD_CERT: "the client certificate is not a PEM certificate"
    case CARMS_IDENTITY_BAD_KEY: "the client private key is not a PEM private key"
    case CARMS_IDENTITY_KEY_MISMATCH: "the client private key does not match the certificate"
    default: "OpenSSL refused the client certificate or key"
    }
}

/// Calls `body` with a PEM text as C characters and its byte length.
func withPEM<R>(_ pem: String, _ body: (UnsafePointer<CChar>, Int32) -> R) -> R {
    pem.withCString { body($0, Int32(clamping: pem.utf8.count)) }
}

/// OpenSSL's error queue as one line (emptied).
func drainOpenSSLErrors() -> String {
    var buffer = [CChar](repeating: 0, count: 1024)
    let count = carms_drain_errors(&buffer, buffer.count)
    return count > 0 ? cStringPrefix(buffer) : ""
}
