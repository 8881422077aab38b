import ARMSProtocol
import Foundation
import MockCore
import MockLS
import MockRS
import NIOSSL
import Testing

/// MockLS and MockRS on real sockets with real TLS, fed the bytes a libarms 5.33 client sent.
@Suite struct PullOverTLSTests {
    static let lsSA = SAProfile(distributionID: MockFixture.lsRequestSA, lsKey: "testkey123", rsKey: "rs-secret")
    static let rsSA = SAProfile(distributionID: MockFixture.rsRequestSA, lsKey: "testkey123", rsKey: "rs-secret",
                                modules: [ModuleProfile(id: 0, version: "1.0", info: "router-main", config: "hostname r1\n"),
                                          ModuleProfile(id: 1, config: "x=1\n", base64: true)])

    static func rsURL(_ port: Int) -> ARMSURL { try! ARMSURL(parsing: "https://127.0.0.1:\(port)/rs.cgi") }

    func withLS<R>(host: String = "127.0.0.1", journal: Journal, rsURLs: [ARMSURL] = [rsURL(18444)],
                   _ body: (LocationServer, BoundEndpoint) async throws -> R) async throws -> R {
        let server = try LocationServer(configuration: LocationServerConfiguration(rsURLs: rsURLs),
                                        fleet: FleetStore([Self.lsSA, Self.rsSA]), journal: journal,
                                        server: .locationServer(endpoints: [ExchangeEndpoint(host: host)]))
        return try await withStarted(server, start: { try await $0.start() }, stop: { await $0.stop() }) { server, bound in
            try await body(server, bound[0])
        }
    }

    @Test(arguments: ["127.0.0.1", "::1"])
    func lsAnswersTheLibarmsRequestOverTLS(host: String) async throws {
        let journal = Journal()
        let request = try MockFixture.bytes("libarms-5.33-ls-request.http")
        try await withLS(host: host, journal: journal) { _, endpoint in
            let response = try await TestClient.response(host: host, port: endpoint.port, tls: try TestClient.tls(), send: request)
            #expect(response.status == 200)
            expectLibarmsFraming(response)
            let arms = try response.arms(expecting: .rsSolicitation)
            #expect(arms.resultCode == .success)
            guard case .rsSolicitation(let result)? = arms.body else { throw TestFailure("no body") }
            #expect(result.rsPresharedKey == "rs-secret")
            let entry = try await journal.waitForEntries(1)[0]
            #expect(entry.role == .ls)
            #expect(entry.sa == "0001-0000-0000-0000-0000-0000-0000-0001")
            #expect(entry.messageType == "rs-solicitation")
            #expect(entry.resultCode == 100)
            #expect(entry.httpStatus == 200)
            #expect(entry.outcome == "ok")
            #expect(entry.detail == "trigger \"power on boot\"")
            #expect(entry.bytesIn == request.count)
            #expect(entry.bytesOut == response.raw.count)
            #expect(entry.peer?.hasPrefix(host.contains(":") ? "[\(host)]:" : "\(host):") == true)
            #expect(entry.sequence == 1 && entry.time > 1_700_000_000)
        }
    }

    @Test func lsRefusalsOverTLSAreJournaled() async throws {
        let journal = Journal()
        try await withLS(journal: journal) { server, endpoint in
            let tls = try TestClient.tls()
            let wrongKey = try await TestClient.response(port: endpoint.port, tls: tls,
                                                         send: PullRequests.rsSolicitation(MockFixture.lsRequestSA, key: "nope"))
            #expect(try wrongKey.arms(expecting: .rsSolicitation).resultCode == .authenticationFailure)
            var configuration = server.configuration
            configuration.authFailure = .http401
            try server.update(configuration)
            let stranger = DistributionID("0001-0000-0000-0000-0000-0000-0000-0077")!
            let unknown = try await TestClient.response(port: endpoint.port, tls: tls,
                                                        send: PullRequests.rsSolicitation(stranger, key: "testkey123"))
            #expect(unknown.status == 401)
            let garbage = PullRequests.http(body: Array("<arms-message>".utf8), user: MockFixture.lsRequestSA.description,
                                            key: "testkey123")
            let decode = try await TestClient.response(port: endpoint.port, tls: tls, send: garbage)
            #expect(try decode.arms(expecting: .rsSolicitation).resultCode == .invalidXML)
            let entries = try await journal.waitForEntries(3)
            #expect(entries.map(\.outcome) == ["bad-credentials", "unknown-sa", "decode-error"])
            #expect(entries.map(\.httpStatus) == [200, 401, 200])
            #expect(entries.map(\.resultCode) == [403, nil, 201])
            #expect(entries.map(\.sa) == [MockFixture.lsRequestSA.description, stranger.description,
                                          MockFixture.lsRequestSA.description])
        }
    }

    @Test func rsAnswersTheLibarmsRequestOverTLSWithItsOwnURLs() async throws {
        let journal = Journal()
        let server = try RemoteServer(configuration: RemoteServerConfiguration(), fleet: FleetStore([Self.rsSA]), journal: journal,
                                      server: .remoteServer(endpoints: [.loopbackIPv4(), .loopbackIPv6()]))
        let request = try MockFixture.bytes("libarms-5.33-rs-request.http")
        try await withStarted(server, start: { try await $0.start() }, stop: { await $0.stop() }) { server, bound in
            let own = try server.urls()
            #expect(own.map(\.description) == ["https://127.0.0.1:\(bound[0].port)/rs.cgi", "https://[::1]:\(bound[1].port)/rs.cgi"])
            // The RS certificate chains to the root the LS hands out as rs-certificate.
            let response = try await TestClient.response(host: "::1", port: bound[1].port, tls: try TestClient.tls(), send: request)
            expectLibarmsFraming(response)
            let arms = try response.arms(expecting: .configSolicitation)
            #expect(arms.resultCode == .success)
            guard case .configSolicitation(let result)? = arms.body else { throw TestFailure("no body") }
            #expect(result.rsPullServerURLs == own.map(\.description))
            #expect(result.saCertificate == EmbeddedPKI.saCertificatePEM)
            #expect(result.modules.map(\.id) == [0, 1])
            #expect(result.configs.map(\.content.text) == ["hostname r1\n", "x=1\n"])
            let entry = try await journal.waitForEntries(1)[0]
            #expect(entry.role == .rs)
            #expect(entry.sa == "0001-0000-1234-0056-0000-0000-0000-0001")
            #expect(entry.messageType == "config-solicitation")
            #expect(entry.resultCode == 100 && entry.httpStatus == 200 && entry.outcome == "ok")
            #expect(entry.bytesIn == request.count && entry.bytesOut == response.raw.count)
            #expect(entry.peer?.hasPrefix("[::1]:") == true)
        }
    }

    /// The whole pull phase as libarms does it: LS with the LS root, then the first RS URL
    /// with the `rs-certificate` of md-config #0 as the only trust anchor and the
    /// `rs-preshared-key` as password.
    @Test func lsThenRSLikeALibarmsClient() async throws {
        let journal = Journal()
        let fleet = FleetStore([Self.rsSA])
        let rs = try RemoteServer(configuration: RemoteServerConfiguration(), fleet: fleet, journal: journal)
        try await withStarted(rs, start: { try await $0.start() }, stop: { await $0.stop() }) { rs, _ in
            let ls = try LocationServer(configuration: LocationServerConfiguration(rsURLs: try rs.urls()), fleet: fleet, journal: journal)
            try await withStarted(ls, start: { try await $0.start() }, stop: { await $0.stop() }) { ls, lsBound in
                let lsAnswer = try await TestClient.response(port: lsBound[0].port, tls: try TestClient.tls(),
                                                             send: PullRequests.rsSolicitation(MockFixture.rsRequestSA, key: "testkey123"))
                guard case .rsSolicitation(let location)? = try lsAnswer.arms(expecting: .rsSolicitation).body else {
                    throw TestFailure("no LS body")
                }
                let first = try ARMSURL(parsing: location.urls[0])
                let rsCA = try #require(try LocationConfig(parsing: location.locationConfigs[0]).rsCertificatePEM)
                let key = try #require(location.rsPresharedKey)
                let rsAnswer = try await TestClient.response(
                    host: first.host, port: first.port, tls: try TestClient.tls(trust: rsCA),
                    send: PullRequests.configSolicitation(MockFixture.rsRequestSA, key: key, target: first.requestTarget))
                #expect(try rsAnswer.arms(expecting: .configSolicitation).resultCode == .success)
                let entries = try await journal.waitForEntries(2)
                #expect(entries.map(\.role) == [.ls, .rs])
                #expect(entries.map(\.outcome) == ["ok", "ok"])
                _ = ls
            }
        }
    }
}
