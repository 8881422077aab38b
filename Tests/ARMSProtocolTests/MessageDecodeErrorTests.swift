import Testing
@testable import ARMSProtocol

/// Bad input of the kinds pull.md §9.1 and push.md §2.5 list gives a typed error.
@Suite struct MessageDecodeErrorTests {
    func response(_ inner: String, type: String = "rs-solicitation") -> [UInt8] {
        Array("<arms-message><arms-response type=\"\(type)\">\(inner)</arms-response></arms-message>".utf8)
    }

    func expectError(_ bytes: [UInt8], expecting: MessageType? = nil, options: ARMSDecodeOptions = .strict,
                     _ expected: ARMSDecodeError, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(throws: expected, sourceLocation: sourceLocation) {
            try ARMSMessage.decode(bytes, expecting: expecting, options: options)
        }
    }

    @Test func nonASCIIIsRejected() {
        expectError(response("<result-code>100</result-code><description>caf\u{e9}</description>"),
                    .xml(.nonASCII(offset: 98)))
    }

    @Test func junkAfterRootIsMalformed() {
        let bytes = response("<result-code>100</result-code>") + Array("x".utf8)
        #expect { try ARMSMessage.decode(bytes) } throws: { e in
            if case .xml(.malformed) = e as? ARMSDecodeError { return true }
            return false
        }
        // Whitespace after the root is fine (P7).
        #expect(throws: Never.self) { try ARMSMessage.decode(self.response("<result-code>100</result-code>") + [13, 10, 32]) }
    }

    @Test func truncatedDocumentIsMalformed() {
        let bytes = Array(response("<result-code>100</result-code>").dropLast(5))
        #expect(throws: ARMSDecodeError.self) { try ARMSMessage.decode(bytes) }
    }

    @Test func extraAttributesOnDeclaredElementsAreRejected() {
        expectError(Array(#"<arms-message><arms-response type="rs-solicitation" xmlns="x"><result-code>100</result-code></arms-response></arms-message>"#.utf8),
                    .unexpectedAttribute(element: "arms-response", attribute: "xmlns"))
        expectError(response(#"<result-code>100</result-code><config-solicitation-response><module id="1" module-id="1">m</module></config-solicitation-response>"#, type: "config-solicitation"),
                    .unexpectedAttribute(element: "module", attribute: "module-id"))
        expectError(response(#"<result-code>100</result-code><config-solicitation-response><module id="1">m</module><md-config id="1" foo="bar">x</md-config></config-solicitation-response>"#, type: "config-solicitation"),
                    .unexpectedAttribute(element: "md-config", attribute: "foo"))
        // content-type is declared for the pull response but not for configure pushes.
        let push = #"<arms-message><arms-request type="configure-start"><configure-start-request><module id="1">m</module><md-config id="1" content-type="text/plain">x</md-config></configure-start-request></arms-request></arms-message>"#
        expectError(Array(push.utf8), .unexpectedAttribute(element: "md-config", attribute: "content-type"))
        // Attributes on undeclared elements are ignored.
        #expect(throws: Never.self) {
            try ARMSMessage.decode(self.response(#"<result-code x="1">100</result-code>"#))
        }
    }

    @Test func integersMustBeBare() throws {
        for text in ["100 ", "100\n", " 100", "", "1e2", "0x64", "+100"] {
            expectError(response("<result-code>\(text)</result-code>"), .badInteger(element: "result-code", text: text))
        }
        // libarms' reading: leading blanks are skipped, an empty one is 0, junk after an optional one drops it.
        #expect(try ARMSResponse.decode(response("<result-code> 100</result-code>"), options: .libarms).resultCode == 100)
        let lenient = try? ARMSResponse.decode(response("<result-code>100</result-code><rs-solicitation-response><rs-retry-max>3 </rs-retry-max></rs-solicitation-response>"), options: .libarms)
        guard case .rsSolicitation(let r)? = lenient?.body else { Issue.record("no body"); return }
        #expect(r.rsRetryMax == nil)
        // A required integer with junk stays an error, so the caller sees "missing or garbled".
        expectError(response("<result-code>100 </result-code>"), options: .libarms, .badInteger(element: "result-code", text: "100 "))
    }

    @Test func missingResultCode() {
        expectError(response("<description>x</description>"), .missingElement("result-code"))
    }

    @Test func childElementInsideTextElement() {
        expectError(response("<result-code>100</result-code><rs-solicitation-response><rs-preshared-key>a<b/>c</rs-preshared-key></rs-solicitation-response>"),
                    .elementInText(element: "rs-preshared-key", child: "b"))
    }

    @Test func tooManyRepeatedElements() {
        let infos = String(repeating: "<rs-info><url>https://192.0.2.1/</url><md-config>x</md-config></rs-info>", count: 6)
        expectError(response("<result-code>100</result-code><rs-solicitation-response>\(infos)</rs-solicitation-response>"),
                    .tooMany(element: "rs-info/url", limit: 5))
        let hb = String(repeating: "<heartbeat-info><host>127.0.0.1</host><passphrase>p</passphrase></heartbeat-info>", count: 6)
        expectError(response("<result-code>100</result-code><config-solicitation-response>\(hb)</config-solicitation-response>", type: "config-solicitation"),
                    .tooMany(element: "heartbeat-info", limit: 5))
        let urls = String(repeating: "<https-tunnel-url>https://127.0.0.1/t</https-tunnel-url>", count: 6)
        expectError(response("<result-code>100</result-code><push-method-query-response>\(urls)</push-method-query-response>", type: "push-method-query"),
                    .tooMany(element: "https-tunnel-url", limit: 5))
    }

    @Test func heartbeatInfoNeedsHostAndPassphrase() {
        expectError(response("<result-code>100</result-code><config-solicitation-response><heartbeat-info><passphrase>p</passphrase></heartbeat-info></config-solicitation-response>", type: "config-solicitation"),
                    .missingElement("heartbeat-info/host"))
        expectError(response("<result-code>100</result-code><config-solicitation-response><heartbeat-info><host>::1</host></heartbeat-info></config-solicitation-response>", type: "config-solicitation"),
                    .missingElement("heartbeat-info/passphrase"))
    }

    @Test func moduleAfterConfigIsOutOfOrder() {
        expectError(response(#"<result-code>100</result-code><config-solicitation-response><module id="1">a</module><md-config id="1">x</md-config><module id="2">b</module></config-solicitation-response>"#, type: "config-solicitation"),
                    .outOfOrder(#"<module id="2"> after an <md-config>"#))
    }

    @Test func base64WithSpacesIsRejected() {
        expectError(response(#"<result-code>100</result-code><config-solicitation-response><module id="1">a</module><md-config id="1" encoding="base64">aGVs bG8=</md-config></config-solicitation-response>"#, type: "config-solicitation"),
                    .badBase64(element: "md-config", .invalidCharacter(0x20, offset: 4)))
    }

    @Test func hexModuleIDIsRejected() {
        expectError(response(#"<result-code>100</result-code><read-module-list-response><module id="0x1">a</module></read-module-list-response>"#, type: "read-module-list"),
                    .badAttribute(element: "module", attribute: "id", value: "0x1"))
    }

    @Test func unknownOrMissingTypeIsReported() {
        expectError(Array(#"<arms-message><arms-request type="format-disk"></arms-request></arms-message>"#.utf8), .unknownType("format-disk"))
        expectError(Array(#"<arms-message><arms-request></arms-request></arms-message>"#.utf8), .missingType(element: "arms-request"))
        // The SA answers those with 202 Invalid Message type.
        #expect(ARMSDecodeError.unknownType("x").resultCode == .invalidMessageType)
        // An unchecked type attribute on a pull answer is read as the expected type.
        let r = try? ARMSResponse.decode(response("<result-code>100</result-code>", type: "whatever"), expecting: .rsSolicitation)
        #expect(r?.type == .rsSolicitation)
    }

    @Test func wrongRootAndEnvelope() {
        expectError(Array("<html></html>".utf8), .notARMSMessage(root: "html"))
        expectError(Array("<arms-message></arms-message>".utf8), .missingEnvelope)
        #expect(throws: ARMSDecodeError.unexpectedKind(expected: "arms-request", found: "arms-response")) {
            try ARMSRequest.decode(self.response("<result-code>100</result-code>"))
        }
    }

    @Test func oversizedAndDeepDocumentsAreBounded() {
        let big = response("<result-code>100</result-code><description>" + String(repeating: "x", count: 5000) + "</description>")
        expectError(big, options: ARMSDecodeOptions(limits: XMLLimits(maxDocumentBytes: 4096)), .xml(.tooLarge(bytes: big.count, limit: 4096)))
        let deep = response("<result-code>100</result-code>" + String(repeating: "<a>", count: 30) + String(repeating: "</a>", count: 30))
        #expect { try ARMSMessage.decode(deep) } throws: { e in
            if case .xml(.tooDeep) = e as? ARMSDecodeError { return true }
            return false
        }
    }

    @Test func mdCommandCountsMapToResultCodes() throws {
        let two = #"<arms-message><arms-request type="md-command"><md-command-request><md-command id="0">a</md-command><md-command id="1">b</md-command></md-command-request></arms-request></arms-message>"#
        let r = try ARMSRequest.decode(Array(two.utf8))
        guard case .mdCommand(let commands) = r.body else { Issue.record("body"); return }
        #expect(commands.count == 2)
        #expect(ARMSDecodeError.tooMany(element: "md-command", limit: 1).resultCode == .multipleRequest)
    }
}
