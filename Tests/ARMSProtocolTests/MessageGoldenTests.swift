import Testing
@testable import ARMSProtocol

/// Golden vectors: what a real libarms 5.33 client sent, and answers it accepted.
@Suite struct MessageGoldenTests {
    static let distID = "0001-0000-1234-0056-0000-0000-0000-0001"
    static let clientDescription = "libarms Test Client"

    @Test func lsRequestDecodesAndReencodesByteForByte() throws {
        let body = try Fixture.httpBody("libarms-5.33-ls-request.http")
        let request = try ARMSRequest.decode(body)
        #expect(request == ARMSRequest(type: .rsSolicitation, distributionID: "0001-0000-0000-0000-0000-0000-0000-0001",
                                       description: Self.clientDescription, body: .rsSolicitation(trigger: "power on boot")))
        #expect(request.encode().bytes == body)
    }

    @Test func rsRequestDecodesAndReencodesByteForByte() throws {
        let body = try Fixture.httpBody("libarms-5.33-rs-request.http")
        let request = try ARMSRequest.decode(body)
        #expect(request == ARMSRequest(
            type: .configSolicitation, distributionID: Self.distID, description: Self.clientDescription,
            body: .configSolicitation(ConfigSolicitationRequest(trigger: "power on boot", firmwareInfo: "Version 5.33"))))
        #expect(body.count == 379)
        #expect(request.encode().bytes == body)
    }

    @Test func methodQueryRequestDecodesAndReencodesByteForByte() throws {
        let body = try Fixture.httpBody("libarms-5.33-method-query-request.http")
        let request = try ARMSRequest.decode(body)
        #expect(request == ARMSRequest(type: .pushMethodQuery, distributionID: Self.distID, description: Self.clientDescription,
                                       body: .pushMethodQuery(methods: ["https-simple", "https-tunnel"])))
        #expect(request.encode().bytes == body)
    }

    @Test func acceptedLSResponseDecodesAndOurEncodingIsEquivalent() throws {
        let body = try Fixture.httpBody("mock-accepted-ls-response.http")
        let response = try ARMSResponse.decode(body, expecting: .rsSolicitation)
        #expect(response.resultCode == .success)
        #expect(response.description == "Success")
        guard case .rsSolicitation(let r)? = response.body else { Issue.record("no body"); return }
        #expect(r.rsPresharedKey == "rs-secret")
        #expect(r.llTimeout == 30 && r.rsRetryMax == 3 && r.rsRetryInterval == 3 && r.lifetime == 86400)
        #expect(r.urls == ["https://127.0.0.1:18444/rs.cgi"])
        #expect(r.locationConfigs.count == 1)
        #expect(r.locationConfigs[0].hasPrefix("line-dhcp {\n ifindex 0;\n};\nrs-certificate {\n-----BEGIN CERTIFICATE-----\n"))
        #expect(r.locationConfigs[0].hasSuffix("-----END CERTIFICATE-----\n};\n"))

        let ours = response.encode(style: .asciiSafe).bytes
        #expect(!ours.contains(0x0A) || r.locationConfigs[0].contains("\n"))
        #expect(try ARMSResponse.decode(ours, expecting: .rsSolicitation, options: .libarms) == response)
    }

    @Test func acceptedRSResponseDecodesAndOurEncodingIsEquivalent() throws {
        let body = try Fixture.httpBody("mock-accepted-rs-response.http")
        let response = try ARMSResponse.decode(body, expecting: .configSolicitation)
        guard case .configSolicitation(let r)? = response.body else { Issue.record("no body"); return }
        #expect(r.saCertificate?.hasPrefix("-----BEGIN CERTIFICATE-----\n") == true)
        #expect(r.saPrivateKey?.hasPrefix("-----BEGIN PRIVATE KEY-----\n") == true)
        #expect(r.heartbeatServers.count == 2)
        #expect(r.heartbeatServers.first?.host == "127.0.0.1")
        #expect(r.heartbeatServers.first?.port == 10010)
        #expect(r.heartbeatServers.first?.passphrase == "s3cret-passphrase")
        #expect(r.heartbeatServers.map(\.interval) == [5, 5])
        #expect(r.rsPullServerURLs == ["https://127.0.0.1:18444/rs.cgi"])
        #expect(r.modules.map(\.id) == [0, 1, 2])
        #expect(r.modules.map(\.info) == ["router-main", "filter-rules", "extra"])
        #expect(r.configs.map(\.id) == [0, 1, 2])
        #expect(r.configs.map(\.content.encoding).contains(.base64))
        let ours = response.encode(style: .asciiSafe).bytes
        #expect(try ARMSResponse.decode(ours, expecting: .configSolicitation, options: .libarms) == response)
    }

    @Test func acceptedMethodQueryResponseDecodes() throws {
        let body = try Fixture.httpBody("mock-accepted-method-query-response.http")
        let response = try ARMSResponse.decode(body, expecting: .pushMethodQuery)
        #expect(response.body == .pushMethodQuery(PushMethodQueryResult(
            methods: ["https-tunnel"],
            tunnelURLs: ["https://127.0.0.1:18445/tunnel", "https://[::1]:18446/tunnel"], echoInterval: 5)))
        let ours = response.encode(style: .asciiSafe).bytes
        #expect(try ARMSResponse.decode(ours, expecting: .pushMethodQuery) == response)
    }

    /// Every complete document quoted in the spec decodes, and encoding it again gives the same bytes.
    @Test func everySpecExampleRoundTripsByteForByte() throws {
        let examples = try Fixture.specExamples()
        #expect(examples.count >= 35)
        for (origin, document) in examples {
            let bytes = Array(document.utf8)
            let message: ARMSMessage
            do {
                message = try ARMSMessage.decode(bytes)
            } catch {
                Issue.record("\(origin): \(error)")
                continue
            }
            if document.contains("\n ") {
                // Pretty-printed examples: our compact encoding must mean the same thing.
                #expect(try ARMSMessage.decode(message.encode().bytes) == message, "\(origin)")
            } else {
                #expect(message.encode().bytes.string == document, "\(origin)")
            }
        }
    }
}
