import Foundation
import Testing
@testable import ARMSProtocol

/// The `md-config` of Tests/Fixtures/mock-accepted-ls-response.http, and its CA PEM, read
/// straight from the file.
enum LSResponseFixture {
    static let text: String = {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/mock-accepted-ls-response.http")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }()

    static var mdConfig: String {
        guard let open = text.range(of: "<md-config>"), let close = text.range(of: "</md-config>") else { return "" }
        return String(text[open.upperBound..<close.lowerBound])
    }

    static var caPEM: String {
        guard let begin = text.range(of: "-----BEGIN CERTIFICATE-----"),
              let end = text.range(of: "-----END CERTIFICATE-----\n") else { return "" }
        return String(text[begin.lowerBound..<end.upperBound])
    }
}

@Suite struct TextFormatLocationConfigTests {
    static let pem = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\nExampleExample==\n-----END CERTIFICATE-----\n"

    // MARK: Fixture and examples

    @Test func fixtureParses() throws {
        let md = LSResponseFixture.mdConfig
        #expect(md.hasPrefix("line-dhcp {\n ifindex 0;\n};\nrs-certificate {\n"))
        let config = try LocationConfig(parsing: md)
        #expect(config.lines == [.dhcp(ifindex: 0)])
        let ca = LSResponseFixture.caPEM
        #expect(ca.utf8.count > 1000)
        #expect(config.rsCertificatePEM == ca)
    }

    @Test func encoderReproducesFixtureAndRoundTrips() throws {
        let config = try LocationConfig(parsing: LSResponseFixture.mdConfig)
        let text = try config.encoded()
        #expect(text == LSResponseFixture.mdConfig)
        #expect(try LocationConfig(parsing: text) == config)
        #expect(LocationConfig.validate(text, rsURLs: [try ARMSURL(parsing: "https://127.0.0.1:18444/rs.cgi")]) == [])
    }

    @Test func documentedSyntaxWithIndentation() throws {
        // pull.md §4.3 "Documented syntax", four-space indentation.
        let text = "line-pppoe {\n    ifindex 2;\n    account user@example.jp;\n    password secret;\n};\n"
            + "rs-certificate {\n" + Self.pem + "};\n"
        let config = try LocationConfig(parsing: text)
        #expect(config.lines == [.pppoe(PPPoELine(ifindex: 2, account: "user@example.jp", password: "secret"))])
        #expect(config.rsCertificatePEM == Self.pem)
    }

    @Test func minimalExample() throws {
        // pull.md §4.3 "Minimal valid Location-Config".
        let text = "line-dhcp {\n ifindex 0;\n};\nrs-certificate {\n" + Self.pem + "};\n"
        let config = try LocationConfig(parsing: text)
        #expect(config == LocationConfig(lines: [.dhcp(ifindex: 0)], rsCertificatePEM: Self.pem))
        #expect(try config.encoded() == text)
    }

    @Test func certificateOnlyExample() throws {
        // pull.md §4.5, second rs-info: only the CA (its line blocks would be ignored anyway).
        let config = try LocationConfig(parsing: "rs-certificate {\n" + Self.pem + "};\n")
        #expect(config.lines.isEmpty)
        #expect(config.rsCertificatePEM == Self.pem)
        #expect(LocationConfig.validate("rs-certificate {\n" + Self.pem + "};\n", isFirst: false) == [])
        #expect(LocationConfig.validate("rs-certificate {\n" + Self.pem + "};\n") == [.noLineBlock])
    }

    @Test func oneLineGrammar() throws {
        // agent.md §3.4: every parameter on one line, blocks on one line.
        let text = "line-mobile { ifindex 1; account id@example; password pw; telno *99#; cid 3; "
            + "apn iijmobile.jp; pdp-type ip; ipaddress 10.0.0.1; };\n"
            + "rs-certificate { -----BEGIN CERTIFICATE----- QUJD REVG -----END CERTIFICATE----- };\n"
        let config = try LocationConfig(parsing: text)
        #expect(config.lines == [.mobile(MobileLine(ifindex: 1, account: "id@example", password: "pw", telno: "*99#",
                                                    cid: 3, apn: "iijmobile.jp", pdpType: "ip", ipAddress: "10.0.0.1"))])
        #expect(config.rsCertificatePEM == "-----BEGIN CERTIFICATE-----\nQUJD\nREVG\n-----END CERTIFICATE-----\n")
    }

    @Test func allLineTypes() throws {
        let text = """
            line-pppoe {
             ifindex 0;
             account a@b;
             password p;
            };
            line-pppoe-ipv6 {
             ifindex 1;
             account v6@b;
             password q;
            };
            line-static {
             ifindex 2;
             ipaddress 2001:db8::2;
            };
            line-ra {
             ifindex 3;
            };
            line-dhcp {
             ifindex 4;
            };

            """
        let config = try LocationConfig(parsing: text)
        #expect(config.lines == [
            .pppoe(PPPoELine(ifindex: 0, account: "a@b", password: "p")),
            .pppoeIPv6(PPPoELine(ifindex: 1, account: "v6@b", password: "q")),
            .staticAddress(ifindex: 2, ipAddress: "2001:db8::2"),
            .ra(ifindex: 3),
            .dhcp(ifindex: 4),
        ])
        #expect(config.lines.map(\.ifindex) == [0, 1, 2, 3, 4])
        #expect(config.rsCertificatePEM == nil)
        #expect(try config.encoded() == text)
    }

    @Test func lineTypeFamilies() {
        #expect(LineType.dhcp.addressFamily == .ipv4)
        #expect(LineType.pppoe.addressFamily == .ipv4)
        #expect(LineType.mobile.addressFamily == .ipv4)
        #expect(LineType.pppoeIPv6.addressFamily == .ipv6)
        #expect(LineType.ra.addressFamily == .ipv6)
        #expect(LineType.staticAddress.addressFamily == nil)
        #expect(LineType.staticAddress.accepts(.ipv4) && LineType.staticAddress.accepts(.ipv6))
        #expect(!LineType.dhcp.accepts(.ipv6))
        #expect(!LineType.ra.accepts(.ipv4))
        let config = LocationConfig(lines: [.ra(ifindex: 0)])
        #expect(config.hasLine(for: .ipv6) && !config.hasLine(for: .ipv4))
    }

    // MARK: libarms tokenizer quirks

    @Test func tabDoesNotSeparateTokens() throws {
        // "ifindex\t3" is one unknown token: ifindex stays 0, as in libarms.
        let text = "line-dhcp {\n ifindex\t3;\n};\n"
        #expect(try LocationConfig(parsing: text).lines == [.dhcp(ifindex: 0)])
        #expect(LocationConfig.validate(text, isFirst: false) == [.tab(line: 2), .ignoredToken(line: 2, token: "ifindex\t3")])
        // A tab at the start of a line or after a separator is skipped.
        #expect(try LocationConfig(parsing: "line-dhcp {\n\tifindex \t3;\n};\n").lines == [.dhcp(ifindex: 3)])
    }

    @Test func carriageReturnStaysGluedToTheToken() throws {
        // "}\r" is not "}": the block never closes.
        #expect(throws: LocationConfig.ParseError.unterminatedBlock(line: 1, keyword: "line-dhcp")) {
            try LocationConfig(parsing: "line-dhcp {\r\n ifindex 0;\r\n}\r\n")
        }
        // A ';' before the CR ends the token, so "};\r" still closes.
        #expect(try LocationConfig(parsing: "line-dhcp {\r\n ifindex 0;\r\n};\r\n").lines == [.dhcp(ifindex: 0)])
        // A value without ';' keeps the CR.
        #expect(throws: LocationConfig.ParseError.notAnInteger(line: 2, key: "ifindex", token: "7\r")) {
            try LocationConfig(parsing: "line-dhcp {\n ifindex 7\r\n};\n")
        }
        // PEM lines carry the CR; "{\r" and "CERTIFICATE-----\r" are copied as lines of their own.
        let pem = try LocationConfig(parsing: "rs-certificate {\r\n-----BEGIN CERTIFICATE-----\r\nQUJD\r\n-----END CERTIFICATE-----\r\n};\r\n").rsCertificatePEM
        #expect(pem == "{\r\n-----BEGIN CERTIFICATE-----\nCERTIFICATE-----\r\nQUJD\r\n-----END CERTIFICATE-----\nCERTIFICATE-----\r\n")
        #expect(LocationConfig.validate("line-dhcp {\r\n ifindex 0;\r\n};\r\n", isFirst: false)
                == [.carriageReturn(line: 1), .carriageReturn(line: 2), .carriageReturn(line: 3),
                    .ignoredToken(line: 1, token: "{\r")])
    }

    @Test func unknownTokensAreIgnored() throws {
        // The libarms documentation's "ifindex:" is not the keyword (pull.md §10.6).
        let text = "line-ra {\n ifindex: 2;\n};\n"
        #expect(try LocationConfig(parsing: text).lines == [.ra(ifindex: 0)])
        #expect(LocationConfig.validate(text, isFirst: false)
                == [.ignoredToken(line: 2, token: "ifindex:"), .ignoredToken(line: 2, token: "2")])
        // Anonymous line keywords are not recognised; their blocks vanish.
        #expect(try LocationConfig(parsing: "line-apppoe {\n ifindex 0;\n};\nline-amobile {\n};\n").lines.isEmpty)
        // "line-dhcp{" without a space is one unknown token.
        #expect(try LocationConfig(parsing: "line-dhcp{\n ifindex 0;\n};\n").lines.isEmpty)
        // A parameter the type does not have is skipped with its value, without limit checks.
        let dhcp = "line-dhcp {\n account " + String(repeating: "x", count: 200) + ";\n cid zz;\n ifindex 1;\n};\n"
        #expect(try LocationConfig(parsing: dhcp).lines == [.dhcp(ifindex: 1)])
    }

    @Test func parameterTakesTheNextTokenWhateverItIs() throws {
        // The value may sit on the next line, and may even be "}".
        let text = "line-pppoe {\n ifindex\n 4;\n account };\n password\n};\n};\n"
        #expect(try LocationConfig(parsing: text).lines == [.pppoe(PPPoELine(ifindex: 4, account: "}", password: "}"))])
    }

    @Test func semicolonsAndBlankLinesAreSkipped() throws {
        let text = "\n\n ;; line-dhcp {;;ifindex 5;;;\n\n   };;\n;rs-certificate {\n" + Self.pem + "}"
        let config = try LocationConfig(parsing: text)
        #expect(config.lines == [.dhcp(ifindex: 5)])
        #expect(config.rsCertificatePEM == Self.pem)
    }

    @Test func emptyCertificateBlock() throws {
        #expect(try LocationConfig(parsing: "rs-certificate {\n};\n").rsCertificatePEM == "")
    }

    // MARK: Limits and errors

    @Test func sizeLimit() throws {
        let body = "line-dhcp {\n ifindex 0;\n};\n"
        let filler = String(repeating: String(repeating: "#", count: 99) + "\n", count: 20)
        let fits = body + filler + String(repeating: "#", count: 2047 - body.utf8.count - filler.utf8.count)
        #expect(fits.utf8.count == 2047)
        #expect(try LocationConfig(parsing: fits).lines.count == 1)
        #expect(throws: LocationConfig.ParseError.tooLarge(bytes: 2048)) { try LocationConfig(parsing: fits + "#") }
    }

    @Test func lineLengthLimitCountsAfterLeadingBlanks() throws {
        let ok = "line-pppoe {\n" + String(repeating: " ", count: 20) + "account " + String(repeating: "a", count: 35)
            + ";" + String(repeating: "x", count: 255 - 8 - 35 - 1) + "\n};\n"
        #expect(try LocationConfig(parsing: ok).lines.count == 1)
        let long = "line-dhcp {\n ifindex 0;\n " + String(repeating: "x", count: 256) + "\n};\n"
        #expect(throws: LocationConfig.ParseError.lineTooLong(line: 3, length: 256)) { try LocationConfig(parsing: long) }
    }

    @Test func nulByte() {
        #expect(throws: LocationConfig.ParseError.nulByte(line: 2)) { try LocationConfig(parsing: "line-dhcp {\n\0\n};\n") }
    }

    @Test func atMostFiveLineBlocks() throws {
        let five = String(repeating: "line-dhcp {\n ifindex 0;\n};\n", count: 5)
        #expect(try LocationConfig(parsing: five).lines.count == 5)
        #expect(throws: LocationConfig.ParseError.tooManyLineBlocks(line: 16, keyword: "line-ra")) {
            try LocationConfig(parsing: five + "line-ra {\n};\n")
        }
    }

    @Test func integerParameters() throws {
        #expect(throws: LocationConfig.ParseError.notAnInteger(line: 2, key: "ifindex", token: "abc")) {
            try LocationConfig(parsing: "line-dhcp {\n ifindex abc;\n};\n")
        }
        #expect(throws: LocationConfig.ParseError.notAnInteger(line: 3, key: "cid", token: "1x")) {
            try LocationConfig(parsing: "line-mobile {\n ifindex 0;\n cid 1x;\n};\n")
        }
        #expect(throws: LocationConfig.ParseError.notAnInteger(line: 1, key: "ifindex", token: "2147483648")) {
            try LocationConfig(parsing: "line-dhcp { ifindex 2147483648; };")
        }
        #expect(try LocationConfig(parsing: "line-dhcp { ifindex -1; };").lines == [.dhcp(ifindex: -1)])
    }

    static let valueLimits: [(type: String, key: String, max: Int)] = [
        ("line-pppoe", "account", 35), ("line-pppoe", "password", 35),
        ("line-pppoe-ipv6", "account", 35), ("line-pppoe-ipv6", "password", 35),
        ("line-mobile", "account", 127), ("line-mobile", "password", 127),
        ("line-mobile", "telno", 39), ("line-mobile", "apn", 99), ("line-mobile", "pdp-type", 7),
        ("line-mobile", "ipaddress", 47), ("line-static", "ipaddress", 47),
    ]

    @Test(arguments: valueLimits)
    func valueLimit(type: String, key: String, max: Int) throws {
        let fits = String(repeating: "v", count: max)
        #expect(try LocationConfig(parsing: "\(type) {\n \(key) \(fits);\n};\n").lines.count == 1)
        let over = fits + "v"
        #expect(throws: LocationConfig.ParseError.valueTooLong(line: 2, key: key, token: over, max: max)) {
            try LocationConfig(parsing: "\(type) {\n \(key) \(over);\n};\n")
        }
    }

    @Test func certificateErrors() throws {
        #expect(throws: LocationConfig.ParseError.duplicateCertificate(line: 3)) {
            try LocationConfig(parsing: "rs-certificate {\n};\nrs-certificate {\n};\n")
        }
        #expect(throws: LocationConfig.ParseError.unterminatedBlock(line: 3, keyword: "rs-certificate")) {
            try LocationConfig(parsing: "line-dhcp {\n};\nrs-certificate {\n" + Self.pem)
        }
        // Each "-----END" (9 input bytes) becomes a 26-byte line: 197 of them exceed 5119 bytes.
        let row = String(repeating: "-----END ", count: 28) + "\n"
        let text = "rs-certificate {\n" + String(repeating: row, count: 8) + "};\n"
        #expect(text.utf8.count < 2048)
        #expect(throws: LocationConfig.ParseError.certificateTooLong(line: 9)) { try LocationConfig(parsing: text) }
    }

    @Test func unterminatedLineBlock() {
        #expect(throws: LocationConfig.ParseError.unterminatedBlock(line: 3, keyword: "line-mobile")) {
            try LocationConfig(parsing: "line-dhcp {\n};\nline-mobile {\n ifindex 1;\n")
        }
        #expect(throws: LocationConfig.ParseError.unterminatedBlock(line: 1, keyword: "line-pppoe")) {
            try LocationConfig(parsing: "line-pppoe {\n account")
        }
    }

    @Test func errorDescriptionsNameLineAndKey() {
        let e = LocationConfig.ParseError.notAnInteger(line: 12, key: "ifindex", token: "abc")
        #expect(e.description == "location config:12: ifindex: not an integer: \"abc\"")
    }

    // MARK: Encoder

    @Test func encoderRoundTripsEveryLineType() throws {
        let config = LocationConfig(lines: [
            .pppoe(PPPoELine(ifindex: 0, account: "a@example.jp", password: "pw")),
            .pppoeIPv6(PPPoELine(ifindex: 1)),
            .mobile(MobileLine(ifindex: 2, account: "m@x", password: "mp", telno: "*99***1#", cid: 1,
                               apn: "iijmobile.jp", pdpType: "ppp", ipAddress: "")),
            .staticAddress(ifindex: 3, ipAddress: "192.0.2.3"),
            .ra(ifindex: 4),
        ], rsCertificatePEM: Self.pem)
        let text = try config.encoded()
        #expect(!text.contains("\r") && !text.contains("\t") && !text.contains("  "))
        #expect(text.contains("line-mobile {\n ifindex 2;\n account m@x;\n password mp;\n telno *99***1#;\n cid 1;\n apn iijmobile.jp;\n pdp-type ppp;\n};\n"))
        #expect(text.contains("line-pppoe-ipv6 {\n ifindex 1;\n};\n"))
        #expect(try LocationConfig(parsing: text) == config)
        #expect(LocationConfig.validate(text) == [])
    }

    @Test func encoderCanonicalisesThePEM() throws {
        let sloppy = "\n-----BEGIN CERTIFICATE-----\nQUJD\n\n-----END CERTIFICATE-----"
        let text = try LocationConfig(rsCertificatePEM: sloppy).encoded()
        #expect(text == "rs-certificate {\n-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n};\n")
        #expect(try LocationConfig(parsing: text).rsCertificatePEM == "-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n")
    }

    @Test func encoderErrors() {
        #expect(throws: LocationConfig.EncodeError.tooManyLines(6)) {
            try LocationConfig(lines: Array(repeating: .dhcp(ifindex: 0), count: 6)).encoded()
        }
        #expect(throws: LocationConfig.EncodeError.invalidValue(key: "account", value: "a b")) {
            try LocationConfig(lines: [.pppoe(PPPoELine(ifindex: 0, account: "a b"))]).encoded()
        }
        #expect(throws: LocationConfig.EncodeError.invalidValue(key: "password", value: "p;w")) {
            try LocationConfig(lines: [.pppoe(PPPoELine(ifindex: 0, password: "p;w"))]).encoded()
        }
        #expect(throws: LocationConfig.EncodeError.invalidValue(key: "ifindex", value: "4294967296")) {
            try LocationConfig(lines: [.dhcp(ifindex: 4_294_967_296)]).encoded()
        }
        #expect(throws: LocationConfig.EncodeError.valueTooLong(key: "apn", value: String(repeating: "n", count: 100), max: 99)) {
            try LocationConfig(lines: [.mobile(MobileLine(ifindex: 0, apn: String(repeating: "n", count: 100)))]).encoded()
        }
        #expect(throws: LocationConfig.EncodeError.invalidCertificateLine(2)) {
            try LocationConfig(rsCertificatePEM: "-----BEGIN CERTIFICATE-----\nQU JD\n-----END CERTIFICATE-----\n").encoded()
        }
        #expect(throws: LocationConfig.EncodeError.invalidCertificateLine(1)) {
            try LocationConfig(rsCertificatePEM: "-----BEGIN RSA PRIVATE KEY-----\n").encoded()
        }
        let big = String(repeating: String(repeating: "A", count: 64) + "\n", count: 32)
        #expect(throws: LocationConfig.EncodeError.tooLarge(bytes: 2154)) {
            try LocationConfig(rsCertificatePEM: "-----BEGIN CERTIFICATE-----\n" + big + "-----END CERTIFICATE-----\n").encoded()
        }
    }

    // MARK: Server-side validation

    @Test func validatorChecklist() throws {
        #expect(LocationConfig.validate("") == [.empty])
        #expect(LocationConfig.validate(String(repeating: "#", count: 2048)) == [.tooLarge(bytes: 2048)])
        #expect(LocationConfig.validate("line-dhcp {\n};\n") == [.noCertificate])
        #expect(LocationConfig.validate("line-dhcp {\n};\n", isFirst: false) == [])
        #expect(LocationConfig.validate("line-dhcp {\n ifindex é;\n};\n", isFirst: false)
                == [.nonASCII(line: 2), .unparsable(.notAnInteger(line: 2, key: "ifindex", token: "é"))])
        let v4 = try ARMSURL(parsing: "https://192.0.2.21/rs.cgi")
        let v6 = try ARMSURL(parsing: "https://[2001:db8::21]/rs.cgi")
        let dhcp = "line-dhcp {\n ifindex 0;\n};\nrs-certificate {\n" + Self.pem + "};\n"
        #expect(LocationConfig.validate(dhcp, rsURLs: [v4, v6]) == [.unreachableURL(v6)])
        let ra = "line-ra {\n ifindex 0;\n};\nrs-certificate {\n" + Self.pem + "};\n"
        #expect(LocationConfig.validate(ra, rsURLs: [v4, v6]) == [.unreachableURL(v4)])
        let both = "line-static {\n ifindex 0;\n ipaddress 192.0.2.9;\n};\nrs-certificate {\n" + Self.pem + "};\n"
        #expect(LocationConfig.validate(both, rsURLs: [v4, v6]) == [])
        let six = String(repeating: "line-dhcp {\n};\n", count: 6)
        #expect(LocationConfig.validate(six) == [.unparsable(.tooManyLineBlocks(line: 11, keyword: "line-dhcp"))])
    }
}
