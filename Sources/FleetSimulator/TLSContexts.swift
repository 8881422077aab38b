import NIOConcurrencyHelpers
import NIOSSL

/// NIOSSL client contexts shared by every simulated SA: one per trust anchor and
/// client identity (every SA of a mock trusts the same LS root and RS certificate).
/// The rules: the one trusted CA, no host-name check, no SNI, the SA certificate
/// presented when the server asks. (The agent's LS subject-name rule is not applied.)
final class TLSContexts: Sendable {
    private struct Key: Hashable {
        var trust: String
        var certificate: String?
        var privateKey: String?
    }

    private let cache = NIOLockedValueBox<[Key: NIOSSLContext]>([:])

    func context(trust: String, certificate: String? = nil, privateKey: String? = nil) throws -> NIOSSLContext {
        let key = Key(trust: trust, certificate: certificate, privateKey: privateKey)
        return try cache.withLockedValue { map in
            if let existing = map[key] { return existing }
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(trust.utf8)))
            configuration.certificateVerification = .noHostnameVerification
            if let certificate, let privateKey {
                configuration.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(certificate.utf8)).map { .certificate($0) }
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(privateKey.utf8), format: .pem))
            }
            let context = try NIOSSLContext(configuration: configuration)
            map[key] = context
            return context
        }
    }
}
