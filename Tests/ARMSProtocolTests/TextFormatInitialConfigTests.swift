import Testing
@testable import ARMSProtocol

@Suite struct TextFormatInitialConfigTests {
    typealias C = InitialConfig.Credentials

    // MARK: Examples

    @Test func agentExamplePointsAtAMockLS() throws {
        // agent.md §3.3 / pull.md §7.3: URL, empty line, interval, max.
        let text = "https://127.0.0.1:8443/arms.cgi\n\n3\n3\n"
        let config = try InitialConfig(parsing: text)
        #expect(config.lsURLs == ["https://127.0.0.1:8443/arms.cgi"])
        #expect(config.retryInterval == 3 && config.retryMax == 3)
        #expect(config.anonymous == nil)
        #expect(config.lsRetryPolicy == LSRetryPolicy(rounds: 1501, intervalSeconds: 60))
        #expect(try config.encoded() == text)
        #expect(try ARMSURL(parsing: config.lsURLs[0]).port == 8443)
    }

    @Test func libarmsCommentExample() throws {
        // The example column of libarms' lsconfig.c comment, with the IPv6 line empty.
        let text = """
            https://192.0.2.1/arms.cgi
            https://192.0.2.2/arms.cgi

            10
            5

            foobar@example.jp
            pass1234

            09012345678
            1
            iijmobile.jp
            ip
            foobar@example.jp
            pass1234

            """
        let config = try InitialConfig(parsing: text)
        #expect(config.lsURLs.count == 2)
        #expect(config.lsRetryPolicy == LSRetryPolicy(rounds: 2501, intervalSeconds: 200))
        #expect(config.anonymous == InitialConfig.Anonymous(
            pppoe: C(account: "foobar@example.jp", password: "pass1234"),
            pppoeIPv6: nil,
            mobile: InitialConfig.Mobile(telno: "09012345678", cid: 1, apn: "iijmobile.jp", pdpType: "ip",
                                         ppp: C(account: "foobar@example.jp", password: "pass1234"))))
        #expect(try config.encoded() == text)
    }

    @Test func fullTemplateWithIPv6Account() throws {
        // pull.md §7.2 template with every optional line.
        let text = "https://[2001:db8::1]/arms.cgi\nhttps://192.0.2.1/arms.cgi\nhttps://192.0.2.2/arms.cgi\nhttps://192.0.2.3/arms.cgi\n\n"
            + "0\n0\n\nanon@v4\npw4\nanon@v6\npw6\n\n*99#\n2\napn.example\nppp\nmob\nmobpw\n"
        let config = try InitialConfig(parsing: text)
        #expect(config.lsURLs.count == 4)
        #expect(config.lsRetryPolicy == LSRetryPolicy(rounds: 1, intervalSeconds: 0))
        #expect(config.anonymous?.pppoeIPv6 == C(account: "anon@v6", password: "pw6"))
        #expect(config.anonymous?.mobile?.cid == 2)
        #expect(config.anonymous?.mobile?.pdpType == "ppp")
        #expect(try config.encoded() == text)
    }

    @Test func optionalGroupsMayEndEarly() throws {
        let pppoeOnly = try InitialConfig(parsing: "https://192.0.2.1/\n\n3\n3\n\nid\npw\n")
        #expect(pppoeOnly.anonymous == InitialConfig.Anonymous(pppoe: C(account: "id", password: "pw")))
        let withV6 = try InitialConfig(parsing: "https://192.0.2.1/\n\n3\n3\n\nid\npw\nid6\npw6\n")
        #expect(withV6.anonymous?.pppoeIPv6 == C(account: "id6", password: "pw6"))
        #expect(withV6.anonymous?.mobile == nil)
        // Empty PPPoE credentials are values, not absence, when something follows.
        let emptyPPPoE = try InitialConfig(parsing: "https://192.0.2.1/\n\n3\n3\n\n\n\nid6\npw6\n")
        #expect(emptyPPPoE.anonymous?.pppoe == C(account: "", password: ""))
        for config in [pppoeOnly, withV6, emptyPPPoE] {
            #expect(try InitialConfig(parsing: config.encoded()) == config)
        }
    }

    @Test func trailingNewlineAndEmptyLinesAreOptional() throws {
        let expected = InitialConfig(lsURLs: ["https://192.0.2.1/a"], retryInterval: 4, retryMax: 1)
        #expect(try InitialConfig(parsing: "https://192.0.2.1/a\n\n4\n1") == expected)
        #expect(try InitialConfig(parsing: "https://192.0.2.1/a\n\n4\n1\n\n\n\n") == expected)
        #expect(expected.lsRetryPolicy == LSRetryPolicy(rounds: 501, intervalSeconds: 80))
    }

    @Test func urlsAreKeptAsWritten() throws {
        // libarms judges URLs only when it uses them.
        let config = try InitialConfig(parsing: "https://ls.example.jp/arms.cgi\n  x\n\n3\n3\n")
        #expect(config.lsURLs == ["https://ls.example.jp/arms.cgi", "  x"])
        #expect(throws: ARMSURL.ParseError.hostNotNumeric("ls.example.jp")) { try ARMSURL(parsing: config.lsURLs[0]) }
    }

    @Test func builtInDefaults() {
        let builtIn = InitialConfig.libarmsBuiltIn
        #expect(builtIn.lsURLs.first == "https://202.221.49.106/arms.cgi")
        #expect(builtIn.lsURLs.count == 4)
        #expect(builtIn.lsRetryPolicy == LSRetryPolicy(rounds: 1501, intervalSeconds: 60))
    }

    // MARK: Errors, each with its line

    static let rejected: [(String, InitialConfig.ParseError)] = [
        ("", .missingLSURL(line: 1)),
        ("\n3\n3\n", .missingLSURL(line: 1)),
        ("https://192.0.2.1/\n", .missingEmptyLine(line: 2)),
        ("https://192.0.2.1/\nhttps://192.0.2.2/", .missingEmptyLine(line: 3)),
        ("https://192.0.2.1/\nhttps://192.0.2.2/\nhttps://192.0.2.3/\nhttps://192.0.2.4/\nhttps://192.0.2.5/\n\n3\n3\n",
         .tooManyLSURLs(line: 5)),
        ("https://192.0.2.1/\n\n", .missingField(line: 3, field: "retry interval")),
        ("https://192.0.2.1/\n\n3\n", .missingField(line: 4, field: "retry max")),
        ("https://192.0.2.1/\n\nabc\n3\n", .notAnInteger(line: 3, field: "retry interval", text: "abc")),
        ("https://192.0.2.1/\n\n3\n\n", .notAnInteger(line: 4, field: "retry max", text: "")),
        ("https://192.0.2.1/\n\n3\n-1\n", .notAnInteger(line: 4, field: "retry max", text: "-1")),
        ("https://192.0.2.1/\n\n 3\n3\n", .notAnInteger(line: 3, field: "retry interval", text: " 3")),
        ("https://192.0.2.1/\n\n3\n1234567890\n", .notAnInteger(line: 4, field: "retry max", text: "1234567890")),
        ("https://192.0.2.1/\n\n3\n3\nid\npw\n", .expectedEmptyLine(line: 5, text: "id")),
        ("https://192.0.2.1/\n\n3\n3\n\nid\n", .missingField(line: 7, field: "anonymous PPPoE password")),
        ("https://192.0.2.1/\n\n3\n3\n\nid\npw\nid6\n", .missingField(line: 9, field: "IPv6 anonymous PPPoE password")),
        ("https://192.0.2.1/\n\n3\n3\n\nid\npw\nid6\npw6\n*99#\n", .expectedEmptyLine(line: 10, text: "*99#")),
        ("https://192.0.2.1/\n\n3\n3\n\nid\npw\n\n*99#\none\n", .notAnInteger(line: 10, field: "mobile cid", text: "one")),
        ("https://192.0.2.1/\n\n3\n3\n\nid\npw\n\n*99#\n1\napn\n", .missingField(line: 12, field: "mobile pdp-type")),
        ("https://192.0.2.1/\n\n3\n3\n\nid\npw\n\n*99#\n1\napn\nip\nu\np\n\nmore\n",
         .unexpectedLine(line: 16, text: "more")),
        ("https://192.0.2.1/\r\n\r\n3\r\n3\r\n", .carriageReturn(line: 1)),
        ("https://192.0.2.1/\n\n3\n3\0\n", .nulByte(line: 4)),
        ("https://192.0.2.1/" + String(repeating: "p", count: 238) + "\n\n3\n3\n", .lineTooLong(line: 1, length: 256)),
        (String(repeating: "\n", count: 8193), .tooLarge(bytes: 8193)),
    ]

    @Test(arguments: rejected)
    func rejects(_ text: String, _ error: InitialConfig.ParseError) {
        #expect(throws: error) { try InitialConfig(parsing: text) }
    }

    @Test func longestLineFits() throws {
        let url = "https://192.0.2.1/" + String(repeating: "p", count: 237)
        #expect(url.utf8.count == 255)
        #expect(try InitialConfig(parsing: url + "\n\n3\n3\n").lsURLs == [url])
    }

    @Test func errorDescriptionNamesLineAndField() {
        #expect(InitialConfig.ParseError.notAnInteger(line: 3, field: "retry interval", text: "abc").description
                == "initial config:3: retry interval: not an integer: \"abc\"")
    }

    // MARK: Encoder errors

    @Test func encoderErrors() {
        #expect(throws: InitialConfig.EncodeError.lsURLCount(0)) {
            try InitialConfig(lsURLs: [], retryInterval: 3, retryMax: 3).encoded()
        }
        #expect(throws: InitialConfig.EncodeError.lsURLCount(5)) {
            try InitialConfig(lsURLs: Array(repeating: "https://192.0.2.1/", count: 5), retryInterval: 3, retryMax: 3).encoded()
        }
        #expect(throws: InitialConfig.EncodeError.invalidValue(field: "LS URL", value: "")) {
            try InitialConfig(lsURLs: [""], retryInterval: 3, retryMax: 3).encoded()
        }
        #expect(throws: InitialConfig.EncodeError.invalidValue(field: "retry max", value: "-1")) {
            try InitialConfig(lsURLs: ["https://192.0.2.1/"], retryInterval: 3, retryMax: -1).encoded()
        }
        #expect(throws: InitialConfig.EncodeError.invalidValue(field: "anonymous PPPoE password", value: "a\nb")) {
            try InitialConfig(lsURLs: ["https://192.0.2.1/"], retryInterval: 3, retryMax: 3,
                              anonymous: .init(pppoe: C(account: "id", password: "a\nb"))).encoded()
        }
        #expect(throws: InitialConfig.EncodeError.invalidValue(field: "IPv6 anonymous PPPoE account", value: "")) {
            try InitialConfig(lsURLs: ["https://192.0.2.1/"], retryInterval: 3, retryMax: 3,
                              anonymous: .init(pppoe: C(account: "id", password: "pw"),
                                               pppoeIPv6: C(account: "", password: "x"))).encoded()
        }
        #expect(throws: InitialConfig.EncodeError.invalidValue(field: "anonymous PPPoE account", value: "")) {
            try InitialConfig(lsURLs: ["https://192.0.2.1/"], retryInterval: 3, retryMax: 3,
                              anonymous: .init(pppoe: C(account: "", password: ""))).encoded()
        }
    }
}
