/// A certificate chain and its private key, as PEM text: what a TLS server presents.
public struct TLSIdentity: Equatable, Sendable {
    /// One or more PEM certificates, the server's own first (no root needed: libarms
    /// holds the root as its single trust anchor).
    public var certificateChainPEM: String
    /// The private key of the first certificate, unencrypted PEM (PKCS#8 or traditional).
    public var privateKeyPEM: String

    public init(certificateChainPEM: String, privateKeyPEM: String) {
        self.certificateChainPEM = certificateChainPEM
        self.privateKeyPEM = privateKeyPEM
    }
}

/// The test PKI of `certs/` (see certs/README.md), from the constants compiled into the binary.
extension TLSIdentity {
    /// MockLS: `/CN=Location Server 127.0.0.1`, issued by the ARMS Root CA.
    public static let locationServer = TLSIdentity(certificateChainPEM: EmbeddedPKI.lsCertificatePEM,
                                                   privateKeyPEM: EmbeddedPKI.lsKeyPEM)
    /// MockRS (pull, push-method-query, tunnel): `/CN=Remote Server 127.0.0.1`, issued by the root.
    public static let remoteServer = TLSIdentity(certificateChainPEM: EmbeddedPKI.rsCertificatePEM,
                                                 privateKeyPEM: EmbeddedPKI.rsKeyPEM)
    /// The SA certificate and key the RS hands out (`sa-certificate`, `sa-private-key`).
    public static let serviceAdapter = TLSIdentity(certificateChainPEM: EmbeddedPKI.saCertificatePEM,
                                                   privateKeyPEM: EmbeddedPKI.saKeyPEM)

    // Fault tests.

    /// An LS certificate from the wrong CA (same root name, other key): a libarms client refuses it.
    public static let locationServerWrongCA = TLSIdentity(certificateChainPEM: EmbeddedPKI.lsWrongCACertificatePEM,
                                                          privateKeyPEM: EmbeddedPKI.lsWrongCAKeyPEM)
    /// An RS certificate from the wrong CA: refused against the `rs-certificate`.
    public static let remoteServerWrongCA = TLSIdentity(certificateChainPEM: EmbeddedPKI.rsWrongCACertificatePEM,
                                                        privateKeyPEM: EmbeddedPKI.rsWrongCAKeyPEM)
    /// `/CN=Location Server` without the trailing space: good chain, fails the LS name rule.
    public static let locationServerWrongCN = TLSIdentity(certificateChainPEM: EmbeddedPKI.lsWrongCNCertificatePEM,
                                                          privateKeyPEM: EmbeddedPKI.lsWrongCNKeyPEM)
    /// Expired in 2001; libarms ignores validity dates and accepts it.
    public static let locationServerExpired = TLSIdentity(certificateChainPEM: EmbeddedPKI.lsExpiredCertificatePEM,
                                                          privateKeyPEM: EmbeddedPKI.lsExpiredKeyPEM)
    /// Valid from 2120; libarms accepts it too.
    public static let locationServerNotYetValid = TLSIdentity(certificateChainPEM: EmbeddedPKI.lsNotYetValidCertificatePEM,
                                                              privateKeyPEM: EmbeddedPKI.lsNotYetValidKeyPEM)
}

/// The CA certificates of the test PKI.
public enum TestPKI {
    /// `/CN=ARMS Root CA`: the client's `path-root-ca` and the `rs-certificate` of Location-Config #0.
    public static let rootCACertificatePEM = EmbeddedPKI.rootCACertificatePEM
    /// A second self-signed `/CN=ARMS Root CA` with another key (issuer of the wrong-CA leaves).
    public static let otherCACertificatePEM = EmbeddedPKI.otherCACertificatePEM
}
