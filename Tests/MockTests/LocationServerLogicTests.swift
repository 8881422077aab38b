import ARMSProtocol
import MockCore
import MockLS
import Testing

/// MockLS's logic without sockets (pull.md §4).
@Suite struct LocationServerLogicTests {
    static let sa = MockFixture.lsRequestSA
    static let fleet = FleetStore([SAProfile(distributionID: sa, lsKey: "testkey123", rsKey: "rs-secret")])
    static let v4 = try! ARMSURL(parsing: "https://127.0.0.1:18444/rs.cgi")
    static let v4b = try! ARMSURL(parsing: "https://127.0.0.2:18444/rs.cgi")
    static let v6 = try! ARMSURL(parsing: "https://[::1]:18444/rs.cgi")

    func logic(_ urls: [ARMSURL] = [v4], authFailure: AuthFailureAnswer = .armsResult403) throws -> LocationServerLogic {
        try LocationServerLogic(configuration: LocationServerConfiguration(rsURLs: urls, rsRetryMax: 2, rsRetryInterval: 7,
                                                                          llTimeout: 30, authFailure: authFailure),
                                fleet: Self.fleet)
    }

    @Test func fixtureRequestGetsEveryFieldOfASuccessfulAnswer() throws {
        let request = try PullRequests.parse(MockFixture.bytes("libarms-5.33-ls-request.http"))
        let reply = try logic().respond(to: request)
        #expect(reply.httpStatus == 200)
        #expect(reply.facts == ExchangeFacts(sa: "0001-0000-0000-0000-0000-0000-0000-0001", messageType: "rs-solicitation",
                                             resultCode: 100, outcome: "ok", detail: "trigger \"power on boot\""))
        let response = try reply.parsed()
        expectLibarmsFraming(response)
        let arms = try response.arms(expecting: .rsSolicitation)
        #expect(arms.type == .rsSolicitation)
        #expect(arms.resultCode == .success)
        #expect(arms.description == "Success")
        guard case .rsSolicitation(let result)? = arms.body else {
            Issue.record("no rs-solicitation-response: \(String(describing: arms.body))")
            return
        }
        #expect(result.rsPresharedKey == "rs-secret")
        #expect(result.rsRetryMax == 2)
        #expect(result.rsRetryInterval == 7)
        #expect(result.llTimeout == 30)
        #expect(result.lifetime == nil)
        #expect(result.urls == ["https://127.0.0.1:18444/rs.cgi"])
        #expect(result.locationConfigs.count == 1)
        let config = try LocationConfig(parsing: result.locationConfigs[0])
        #expect(config.lines == [.dhcp(ifindex: 0)])
        #expect(config.rsCertificatePEM == TestPKI.rootCACertificatePEM)
        #expect(LocationConfig.validate(result.locationConfigs[0], isFirst: true, rsURLs: [Self.v4]).isEmpty)
        #expect(result.locationConfigs[0].utf8.count < 2048)
        // Integers bare, no padding around keys and URLs (pull.md §9.2 item 7).
        let body = String(decoding: response.body, as: UTF8.self)
        #expect(body.contains("<rs-retry-max>2</rs-retry-max>"))
        #expect(body.contains("<rs-preshared-key>rs-secret</rs-preshared-key>"))
        #expect(body.contains("<url>https://127.0.0.1:18444/rs.cgi</url>"))
    }

    @Test(arguments: [
        ([v4], LineDefinition.dhcp(ifindex: 0)),
        ([v6], .ra(ifindex: 0)),
        ([v4, v6], .staticAddress(ifindex: 0, ipAddress: "")),
        ([v6, v4, v4b], .staticAddress(ifindex: 0, ipAddress: "")),
    ])
    func lineBlockFollowsTheFamiliesOfTheRSURLs(urls: [ARMSURL], line: LineDefinition) throws {
        let answer = try logic(urls).response(for: try #require(Self.fleet[Self.sa]))
        guard case .rsSolicitation(let result)? = answer.body else { throw TestFailure("no body") }
        #expect(result.urls == urls.map(\.description))
        #expect(result.locationConfigs.count == urls.count)
        for (index, text) in result.locationConfigs.enumerated() {
            let config = try LocationConfig(parsing: text)
            #expect(config.lines == [line])
            #expect(config.rsCertificatePEM == TestPKI.rootCACertificatePEM)
            #expect(LocationConfig.validate(text, isFirst: index == 0, rsURLs: urls).isEmpty)
        }
        // Decodes back with the libarms options.
        let decoded = try ARMSResponse.decode(ARMSAnswer.body(answer), expecting: .rsSolicitation, options: .libarms)
        #expect(decoded == answer)
    }

    @Test func fourRSURLsAreTheLimit() throws {
        let four = [Self.v4, Self.v4b, Self.v6, try ARMSURL(parsing: "https://[::2]/rs.cgi")]
        #expect(try logic(four).locationConfigs.count == 4)
        #expect(throws: LocationServerConfigurationError.rsURLCount(5)) { try logic(four + [Self.v4]) }
        #expect(throws: LocationServerConfigurationError.rsURLCount(0)) { try logic([]) }
        #expect(throws: LocationServerConfigurationError.notHTTPS(try ARMSURL(parsing: "http://127.0.0.1/rs"))) {
            try logic([try ARMSURL(parsing: "http://127.0.0.1/rs")])
        }
    }

    @Test func unusableLocationConfigsAreRefusedUpFront() throws {
        // An IPv6 RS behind a DHCP (IPv4) line can never be reached.
        let mismatched = LocationServerConfiguration(rsURLs: [Self.v6], lines: [.dhcp(ifindex: 0)])
        #expect(throws: LocationServerConfigurationError.self) { try mismatched.locationConfigs() }
        // A certificate too large for libarms' 2048-byte slot.
        let huge = LocationServerConfiguration(rsURLs: [Self.v4], rsCertificatePEM: TestPKI.rootCACertificatePEM + TestPKI.otherCACertificatePEM)
        #expect(throws: LocationServerConfigurationError.self) { try huge.locationConfigs() }
        #expect(throws: LocationServerConfigurationError.outOfRange("rs-retry-max", -1)) {
            try LocationServerConfiguration(rsURLs: [Self.v4], rsRetryMax: -1).locationConfigs()
        }
    }

    @Test func distributionIDMatchesInAnyCase() throws {
        let body = MockFixture.httpBody(PullRequests.rsSolicitation(Self.sa, key: "testkey123"))
        let request = PullRequests.http(body: body, user: Self.sa.description.lowercased(), key: "testkey123")
        let reply = try logic().respond(to: try PullRequests.parse(request))
        #expect(reply.facts.outcome == "ok")
        #expect(reply.facts.sa == Self.sa.description)
    }

    @Test func unknownSAGetsResult403ByDefault() throws {
        let stranger = DistributionID("0001-0000-0000-0000-0000-0000-0000-0099")!
        let reply = try logic().respond(to: try PullRequests.parse(PullRequests.rsSolicitation(stranger, key: "testkey123")))
        #expect(reply.httpStatus == 200)
        #expect(reply.facts.outcome == "unknown-sa")
        #expect(reply.facts.sa == stranger.description)
        #expect(reply.facts.resultCode == 403)
        #expect(reply.facts.messageType == "rs-solicitation")
        let arms = try reply.parsed().arms(expecting: .rsSolicitation)
        #expect(arms.resultCode == .authenticationFailure)
        #expect(arms.type == .rsSolicitation)
        #expect(arms.body == nil)
    }

    @Test func wrongKeyGetsHTTP401WhenConfigured() throws {
        let reply = try logic(authFailure: .http401).respond(
            to: try PullRequests.parse(PullRequests.rsSolicitation(Self.sa, key: "rs-secret")))
        #expect(reply.httpStatus == 401)
        #expect(reply.facts.outcome == "bad-credentials")
        #expect(reply.facts.resultCode == nil)
        #expect(reply.facts.sa == Self.sa.description)
        let response = try reply.parsed()
        #expect(response.head.headers["WWW-Authenticate"] == "Basic realm=\"\"")
    }

    @Test func missingOrUnreadableCredentialsAreBadCredentials() throws {
        let body = MockFixture.httpBody(PullRequests.rsSolicitation(Self.sa, key: "x"))
        for authorization in ["", "Bearer abc", "Basic !!!", "Basic " + Base64.encodeToString(Array("no-colon".utf8))] {
            let reply = try logic().respond(to: try PullRequests.parse(PullRequests.http(body: body, user: "", key: "",
                                                                                         authorization: authorization)))
            #expect(reply.facts.outcome == "bad-credentials", "\(authorization)")
            #expect(reply.facts.resultCode == 403)
        }
        let notAnID = PullRequests.http(body: body, user: "router-1", key: "testkey123")
        #expect(try logic().respond(to: try PullRequests.parse(notAnID)).facts.outcome == "unknown-sa")
    }

    @Test func malformedXMLIsADecodeErrorWithResult201() throws {
        let request = PullRequests.http(body: Array("<arms-message><arms-request".utf8), user: Self.sa.description, key: "testkey123")
        let reply = try logic().respond(to: try PullRequests.parse(request))
        #expect(reply.httpStatus == 200)
        #expect(reply.facts.outcome == "decode-error")
        #expect(reply.facts.resultCode == 201)
        #expect(reply.facts.sa == Self.sa.description)
        #expect(reply.facts.messageType == nil)
        #expect(try reply.parsed().arms(expecting: .rsSolicitation).resultCode == .invalidXML)
    }

    @Test func wrongMessageTypeIsADecodeErrorWithResult202() throws {
        let request = PullRequests.configSolicitation(Self.sa, key: "testkey123")
        let reply = try logic().respond(to: try PullRequests.parse(request))
        #expect(reply.facts.outcome == "decode-error")
        #expect(reply.facts.resultCode == 202)
        #expect(reply.facts.messageType == "config-solicitation")
        let arms = try reply.parsed().arms(expecting: .rsSolicitation)
        #expect(arms.resultCode == .invalidMessageType)
        #expect(arms.type == .rsSolicitation)
    }

    @Test func bodyNamingAnotherSAIsAMismatch() throws {
        let request = PullRequests.rsSolicitation(Self.sa, key: "testkey123", bodyID: "0001-0000-0000-0000-0000-0000-0000-0002")
        let reply = try logic().respond(to: try PullRequests.parse(request))
        #expect(reply.facts.outcome == "id-mismatch")
        #expect(reply.facts.resultCode == 423)
    }

    @Test func onlyPOSTIsAnswered() throws {
        let body = MockFixture.httpBody(PullRequests.rsSolicitation(Self.sa, key: "testkey123"))
        let request = PullRequests.http(body: body, user: Self.sa.description, key: "testkey123", method: "GET")
        let reply = try logic().respond(to: try PullRequests.parse(request))
        #expect(reply.httpStatus == 405)
        #expect(reply.facts.outcome == "bad-request")
    }

    @Test func answerHasTheShapeOfTheAcceptedFixture() throws {
        // The answer a libarms 5.33 client accepted carries the same elements (values differ).
        let accepted = try ARMSResponse.decode(MockFixture.httpBody(MockFixture.bytes("mock-accepted-ls-response.http")),
                                               expecting: .rsSolicitation, options: .libarms)
        let ours = try logic().response(for: try #require(Self.fleet[Self.sa]))
        guard case .rsSolicitation(let a)? = accepted.body, case .rsSolicitation(let o)? = ours.body else {
            throw TestFailure("bodies missing")
        }
        #expect(ours.resultCode == accepted.resultCode && ours.description == accepted.description)
        #expect((a.rsPresharedKey != nil, a.llTimeout != nil, a.rsRetryMax != nil, a.rsRetryInterval != nil)
            == (o.rsPresharedKey != nil, o.llTimeout != nil, o.rsRetryMax != nil, o.rsRetryInterval != nil))
        #expect(try LocationConfig(parsing: a.locationConfigs[0]).lines == LocationConfig(parsing: o.locationConfigs[0]).lines)
    }
}
