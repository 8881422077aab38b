import ARMSProtocol
import MockCore
import MockRS
import Testing

/// MockRS's pull logic without sockets (pull.md §5).
@Suite struct RemoteServerLogicTests {
    static let sa = MockFixture.rsRequestSA
    static let modules = [
        ModuleProfile(id: 0, version: "1.0", info: "router-main", config: "hostname router01\ninterface lan0 address 192.168.0.1/24\n"),
        ModuleProfile(id: 1, version: "20240101", info: "filter-rules", config: "filter allow tcp 22\nfilter deny any\n", base64: true),
        ModuleProfile(id: 2, info: "extra", config: "extra-setting on <&> caf\u{e9}"),
    ]
    static let fleet = FleetStore([SAProfile(distributionID: sa, lsKey: "testkey123", rsKey: "rs-secret", modules: modules)])
    static let urls = [try! ARMSURL(parsing: "https://127.0.0.1:18444/rs.cgi"), try! ARMSURL(parsing: "https://[::1]:18444/rs.cgi")]

    func logic(_ configuration: RemoteServerConfiguration = RemoteServerConfiguration(pullServerURLs: urls)) throws -> RemoteServerLogic {
        try RemoteServerLogic(configuration: configuration, fleet: Self.fleet)
    }

    @Test func fixtureRequestGetsEveryFieldOfASuccessfulAnswer() throws {
        let request = try PullRequests.parse(MockFixture.bytes("libarms-5.33-rs-request.http"))
        let reply = try logic().respond(to: request)
        #expect(reply.httpStatus == 200)
        #expect(reply.facts == ExchangeFacts(sa: Self.sa.description, messageType: "config-solicitation", resultCode: 100,
                                             outcome: "ok",
                                             detail: "3 module(s), trigger \"power on boot\", firmware \"Version 5.33\""))
        let response = try reply.parsed()
        expectLibarmsFraming(response)
        let arms = try response.arms(expecting: .configSolicitation)
        #expect(arms.type == .configSolicitation)
        #expect(arms.resultCode == .success)
        guard case .configSolicitation(let result)? = arms.body else {
            Issue.record("no config-solicitation-response")
            return
        }
        #expect(result.saCertificate == EmbeddedPKI.saCertificatePEM)
        #expect(result.saPrivateKey == EmbeddedPKI.saKeyPEM)
        #expect(result.proposedPushPort == 10443)
        #expect(result.proposedPushTimeout == nil)
        #expect(result.heartbeatServers.isEmpty)
        #expect(result.rsPushServerAddresses.isEmpty)
        #expect(result.rsPullServerURLs == ["https://127.0.0.1:18444/rs.cgi", "https://[::1]:18444/rs.cgi"])
        #expect(result.modules == [ModuleInfo(id: 0, version: "1.0", info: "router-main"),
                                   ModuleInfo(id: 1, version: "20240101", info: "filter-rules"),
                                   ModuleInfo(id: 2, info: "extra")])
        #expect(result.configs.map(\.id) == [0, 1, 2])
        #expect(result.configs.map(\.content.encoding) == [.text, .base64, .text])
        #expect(result.configs.map(\.content.text) == Self.modules.map(\.config))
        #expect(result.healthURL == nil && result.pollURL == nil)
    }

    @Test func wireFormFollowsTheChecklist() throws {
        let body = ARMSAnswer.body(try logic().response(for: try #require(Self.fleet[Self.sa])))
        let text = String(decoding: body, as: UTF8.self)
        #expect(body.allSatisfy { $0 < 0x80 })
        // Every module before the first md-config (pull.md §5.3).
        let lastModule = try #require(text.range(of: "<module ", options: .backwards))
        let firstConfig = try #require(text.range(of: "<md-config "))
        #expect(lastModule.lowerBound < firstConfig.lowerBound)
        // base64 without spaces or line breaks, the exact attribute, text escaped.
        let encoded = Base64.encodeToString(Array(Self.modules[1].config.utf8))
        #expect(text.contains("<md-config id=\"1\" encoding=\"base64\">\(encoded)</md-config>"))
        #expect(text.contains("<md-config id=\"2\">extra-setting on &lt;&amp;&gt; caf&#233;</md-config>"))
        #expect(text.contains("<module id=\"2\">extra</module>"))
        #expect(text.contains("<proposal-for-sa><push-port>10443</push-port></proposal-for-sa>"))
        // Only the attributes libarms declares.
        #expect(!text.contains("content-type") && !text.contains("xmlns"))
    }

    @Test func ownURLsStandInWhenNoneAreConfigured() throws {
        let own = [try ARMSURL(parsing: "https://127.0.0.1:4443/rs.cgi")]
        let answer = try logic(RemoteServerConfiguration()).response(for: try #require(Self.fleet[Self.sa]), ownURLs: own)
        guard case .configSolicitation(let result)? = answer.body else { throw TestFailure("no body") }
        #expect(result.rsPullServerURLs == ["https://127.0.0.1:4443/rs.cgi"])
    }

    @Test func configuredExtrasAreWritten() throws {
        let heartbeat = HeartbeatServerInfo(host: "127.0.0.1", port: 10010, passphrase: "s3cret", interval: 5)
        let configuration = RemoteServerConfiguration(pullServerURLs: Self.urls, proposedPushPort: nil, proposedPushTimeout: 60,
                                                      heartbeatServers: [heartbeat], pushServerAddresses: ["127.0.0.1"])
        let answer = try logic(configuration).response(for: try #require(Self.fleet[Self.sa]))
        let decoded = try ARMSResponse.decode(ARMSAnswer.body(answer), expecting: .configSolicitation, options: .libarms)
        #expect(decoded == answer)
        guard case .configSolicitation(let result)? = decoded.body else { throw TestFailure("no body") }
        #expect(result.heartbeatServers == [heartbeat])
        #expect(result.proposedPushPort == nil && result.proposedPushTimeout == 60)
        #expect(result.rsPushServerAddresses == ["127.0.0.1"])
    }

    @Test func anSAWithoutModulesGetsNoModuleElements() throws {
        let bare = SAProfile(distributionID: MockFixture.lsRequestSA, lsKey: "a", rsKey: "b")
        let answer = try logic().response(for: bare)
        let text = String(decoding: ARMSAnswer.body(answer), as: UTF8.self)
        #expect(!text.contains("<module") && !text.contains("<md-config"))
    }

    @Test func theLSKeyDoesNotOpenTheRS() throws {
        let reply = try logic().respond(to: try PullRequests.parse(PullRequests.configSolicitation(Self.sa, key: "testkey123")))
        #expect(reply.facts.outcome == "bad-credentials")
        #expect(reply.facts.resultCode == 403)
        #expect(try reply.parsed().arms(expecting: .configSolicitation).resultCode == .authenticationFailure)
        let http401 = try logic(RemoteServerConfiguration(authFailure: .http401))
            .respond(to: try PullRequests.parse(PullRequests.configSolicitation(Self.sa, key: "wrong")))
        #expect(http401.httpStatus == 401)
        let stranger = DistributionID("0001-0000-1234-0056-0000-0000-0000-0099")!
        let unknown = try logic().respond(to: try PullRequests.parse(PullRequests.configSolicitation(stranger, key: "rs-secret")))
        #expect(unknown.facts.outcome == "unknown-sa")
    }

    @Test func rsSolicitationIsNotAnsweredHere() throws {
        let reply = try logic().respond(to: try PullRequests.parse(PullRequests.rsSolicitation(Self.sa, key: "rs-secret")))
        #expect(reply.facts.outcome == "decode-error")
        #expect(reply.facts.resultCode == 202)
        #expect(try reply.parsed().arms(expecting: .configSolicitation).type == .configSolicitation)
    }

    @Test func configurationLimits() {
        let heartbeat = HeartbeatServerInfo(host: "127.0.0.1", passphrase: "p", interval: 5)
        #expect(throws: RemoteServerConfigurationError.tooMany("heartbeat-info", 6)) {
            try RemoteServerConfiguration(heartbeatServers: Array(repeating: heartbeat, count: 6)).validate()
        }
        #expect(throws: RemoteServerConfigurationError.mixedHeartbeatIntervals) {
            try RemoteServerConfiguration(heartbeatServers: [heartbeat, HeartbeatServerInfo(host: "::1", passphrase: "p", interval: 6)]).validate()
        }
        #expect(throws: RemoteServerConfigurationError.tooMany("rs-pull-server-url", 6)) {
            try RemoteServerConfiguration(pullServerURLs: Array(repeating: Self.urls[0], count: 6)).validate()
        }
        #expect(throws: RemoteServerConfigurationError.notPEM) {
            try RemoteServerConfiguration(saIdentity: TLSIdentity(certificateChainPEM: "x", privateKeyPEM: "y")).validate()
        }
    }
}
