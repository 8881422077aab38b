import Foundation
import MockCore
import NIOSSL
import Testing

@Suite struct EmbeddedPKITests {
    private func pemFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: MockFixture.certs.path)
            .filter { $0.hasSuffix(".pem") || $0.hasSuffix(".key") }.sorted()
    }

    @Test func everyFileOfCertsIsEmbeddedByteForByte() throws {
        let names = try pemFiles()
        #expect(names.count == 20)
        #expect(EmbeddedPKI.files.keys.sorted() == names)
        for name in names {
            let file = [UInt8](try Data(contentsOf: MockFixture.certs.appendingPathComponent(name)))
            #expect(Array((EmbeddedPKI.files[name] ?? "").utf8) == file, "\(name) differs from certs/\(name)")
        }
    }

    @Test func namedConstantsAreTheirFiles() {
        #expect(EmbeddedPKI.files["root-ca.pem"] == EmbeddedPKI.rootCACertificatePEM)
        #expect(EmbeddedPKI.files["ls-wrong-cn.key"] == EmbeddedPKI.lsWrongCNKeyPEM)
        #expect(EmbeddedPKI.files["sa.pem"] == TLSIdentity.serviceAdapter.certificateChainPEM)
        #expect(EmbeddedPKI.files["ls.key"] == TLSIdentity.locationServer.privateKeyPEM)
        #expect(TestPKI.rootCACertificatePEM.utf8.count == 1074)
    }

    @Test func generatedFileIsUpToDate() async throws {
        let result = try await runProcess("/bin/bash", [MockFixture.certs.appendingPathComponent("embed-pki.sh").path, "--check"],
                                          stdin: [])
        #expect(result.status == 0, "certs/embed-pki.sh --check: \(result.stderr)")
    }

    @Test(arguments: [
        ("ls", TLSIdentity.locationServer), ("rs", .remoteServer), ("sa", .serviceAdapter),
        ("ls-wrong-ca", .locationServerWrongCA), ("rs-wrong-ca", .remoteServerWrongCA), ("ls-wrong-cn", .locationServerWrongCN),
        ("ls-expired", .locationServerExpired), ("ls-not-yet-valid", .locationServerNotYetValid),
    ])
    func identityLoadsAsServerContext(name: String, identity: TLSIdentity) throws {
        _ = try ServerTLS(identity: identity).makeContext()
        #expect(identity.certificateChainPEM == EmbeddedPKI.files[name + ".pem"])
        #expect(identity.privateKeyPEM == EmbeddedPKI.files[name + ".key"])
    }

    @Test func aKeyOfAnotherCertificateIsRefused() {
        let mismatched = TLSIdentity(certificateChainPEM: EmbeddedPKI.lsCertificatePEM, privateKeyPEM: EmbeddedPKI.rsKeyPEM)
        #expect(throws: (any Error).self) { try ServerTLS(identity: mismatched).makeContext() }
    }
}
