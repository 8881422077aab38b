import ARMSProtocol
import Foundation
import MockCore
import MockLS
import NIOSSL
import Testing

/// The mocks' TLS against what libarms 5.33 speaks (pull.md §2.3, §9.2 item 1): TLS 1.0
/// with RSA-keyed CBC suites, no SNI, no client certificate, a fixed certificate.
@Suite struct ServerTLSTests {
    static let sa = SAProfile(distributionID: MockFixture.lsRequestSA, lsKey: "testkey123", rsKey: "rs-secret")

    func withLS<R>(journal: Journal = Journal(), _ body: (Int) async throws -> R) async throws -> R {
        let server = try LocationServer(
            configuration: LocationServerConfiguration(rsURLs: [try ARMSURL(parsing: "https://127.0.0.1:18444/rs.cgi")]),
            fleet: FleetStore([Self.sa]), journal: journal)
        return try await withStarted(server, start: { try await $0.start() }, stop: { await $0.stop() }) { _, bound in
            try await body(bound[0].port)
        }
    }

    /// One exchange of the captured LS request with a client limited to `version` and `cipher`.
    @Test(arguments: [
        (TLSVersion.tlsv1, "ECDHE-RSA-AES256-SHA"),
        (.tlsv1, "ECDHE-RSA-AES128-SHA"),
        (.tlsv1, "AES128-SHA"),
        (.tlsv1, "AES256-SHA"),
        (.tlsv11, "ECDHE-RSA-AES256-SHA"),
        (.tlsv12, "ECDHE-RSA-AES128-GCM-SHA256"),
    ])
    func answersAClientLimitedTo(version: TLSVersion, cipher: String) async throws {
        let journal = Journal()
        try await withLS(journal: journal) { port in
            let tls = try TestClient.tls(minimum: version, maximum: version, cipherSuites: cipher)
            let outcome = try await TestClient.exchange(port: port, tls: tls,
                                                        send: try MockFixture.bytes("libarms-5.33-ls-request.http"))
            #expect(outcome.tlsVersion == version)
            let response = try ReadResponse(outcome.received)
            #expect(response.status == 200)
            #expect(try response.arms(expecting: .rsSolicitation).resultCode == .success)
            #expect(try await journal.waitForEntries(1)[0].outcome == "ok")
        }
    }

    @Test func modernClientsGetTLS13() async throws {
        try await withLS { port in
            let outcome = try await TestClient.exchange(port: port, tls: try TestClient.tls(),
                                                        send: try MockFixture.bytes("libarms-5.33-ls-request.http"))
            #expect(outcome.tlsVersion == .tlsv13)
            #expect(try ReadResponse(outcome.received).status == 200)
        }
    }

    @Test func theDefaultSuitesIncludeWhatLibarmsOffers() throws {
        let configuration = try ServerTLS.locationServer.makeConfiguration()
        #expect(configuration.minimumTLSVersion == .tlsv1)
        #expect(configuration.maximumTLSVersion == .tlsv13)
        #expect(configuration.certificateVerification == .none)
        let suites = Set(configuration.cipherSuiteValues)
        for suite: NIOTLSCipher in [.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, .TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
                                    .TLS_RSA_WITH_AES_128_CBC_SHA, .TLS_RSA_WITH_AES_256_CBC_SHA] {
            #expect(suites.contains(suite), "\(suite)")
        }
    }

    /// OpenSSL 3 as a TLS 1.0 client, the way the captures were checked against libarms:
    /// `ECDHE-RSA-AES256-SHA` at security level 0, no SNI, the root as the only CA. The
    /// session summary shows the version, the suite and that no client certificate was asked for.
    @Test func opensslTLS10ClientWithECDHERSAAES256SHA() async throws {
        let journal = Journal()
        let request = try MockFixture.bytes("libarms-5.33-ls-request.http")
        try await withLS(journal: journal) { port in
            let result = try await runProcess("/usr/bin/openssl", [
                "s_client", "-connect", "127.0.0.1:\(port)", "-tls1", "-cipher", "ECDHE-RSA-AES256-SHA@SECLEVEL=0",
                "-noservername", "-CAfile", MockFixture.certs.appendingPathComponent("root-ca.pem").path,
                "-verify_return_error", "-ign_eof", "-nocommands",
            ], stdin: request)
            #expect(!result.timedOut)
            let output = String(decoding: result.stdout, as: UTF8.self)
            #expect(result.status == 0, "openssl: \(result.stderr)")
            #expect(output.contains("Protocol  : TLSv1\n"), "\(output)")
            #expect(output.contains("Cipher    : ECDHE-RSA-AES256-SHA\n"))
            #expect(output.contains("No client certificate CA names sent"))
            #expect(output.contains("Verify return code: 0 (ok)"))
            #expect(output.contains("subject=CN = Location Server 127.0.0.1"))
            let start = try #require(output.range(of: "HTTP/1.0 200 OK\r\n"))
            let raw = Array(output[start.lowerBound...].utf8)
            let response = try ReadResponse(raw)
            #expect(try response.arms(expecting: .rsSolicitation).resultCode == .success)
            let entry = try await journal.waitForEntries(1)[0]
            #expect(entry.outcome == "ok")
            #expect(entry.bytesIn == request.count)
        }
    }
}
