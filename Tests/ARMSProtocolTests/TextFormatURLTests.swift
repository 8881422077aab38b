import Testing
@testable import ARMSProtocol

@Suite struct TextFormatURLTests {
    struct Accepted: Sendable, CustomStringConvertible {
        let text: String
        let scheme: ARMSURL.Scheme
        let host: String
        let explicitPort: Int?
        let port: Int
        let path: String
        let family: AddressFamily
        let requestTarget: String
        let hostHeader: String
        let formatted: String
        var description: String { text }
    }

    static let accepted: [Accepted] = [
        .init(text: "https://202.221.49.106/arms.cgi", scheme: .https, host: "202.221.49.106", explicitPort: nil,
              port: 443, path: "arms.cgi", family: .ipv4, requestTarget: "/arms.cgi",
              hostHeader: "202.221.49.106:443", formatted: "https://202.221.49.106/arms.cgi"),
        .init(text: "https://127.0.0.1:8443/arms.cgi", scheme: .https, host: "127.0.0.1", explicitPort: 8443,
              port: 8443, path: "arms.cgi", family: .ipv4, requestTarget: "/arms.cgi",
              hostHeader: "127.0.0.1:8443", formatted: "https://127.0.0.1:8443/arms.cgi"),
        .init(text: "HTTPS://192.0.2.21", scheme: .https, host: "192.0.2.21", explicitPort: nil,
              port: 443, path: "", family: .ipv4, requestTarget: "/",
              hostHeader: "192.0.2.21:443", formatted: "https://192.0.2.21/"),
        .init(text: "https://192.0.2.21:10443", scheme: .https, host: "192.0.2.21", explicitPort: 10443,
              port: 10443, path: "", family: .ipv4, requestTarget: "/",
              hostHeader: "192.0.2.21:10443", formatted: "https://192.0.2.21:10443/"),
        .init(text: "https://192.0.2.21/", scheme: .https, host: "192.0.2.21", explicitPort: nil,
              port: 443, path: "", family: .ipv4, requestTarget: "/",
              hostHeader: "192.0.2.21:443", formatted: "https://192.0.2.21/"),
        .init(text: "https://192.0.2.21:443/a/b.cgi?x=1&y=2", scheme: .https, host: "192.0.2.21", explicitPort: 443,
              port: 443, path: "a/b.cgi?x=1&y=2", family: .ipv4, requestTarget: "/a/b.cgi?x=1&y=2",
              hostHeader: "192.0.2.21:443", formatted: "https://192.0.2.21:443/a/b.cgi?x=1&y=2"),
        .init(text: "https://[2001:240:bb88::2]/arms.cgi", scheme: .https, host: "2001:240:bb88::2", explicitPort: nil,
              port: 443, path: "arms.cgi", family: .ipv6, requestTarget: "/arms.cgi",
              hostHeader: "2001:240:bb88::2:443", formatted: "https://[2001:240:bb88::2]/arms.cgi"),
        .init(text: "https://[2001:db8::10]:8443/tunnel", scheme: .https, host: "2001:db8::10", explicitPort: 8443,
              port: 8443, path: "tunnel", family: .ipv6, requestTarget: "/tunnel",
              hostHeader: "2001:db8::10:8443", formatted: "https://[2001:db8::10]:8443/tunnel"),
        .init(text: "https://[::1]:18444", scheme: .https, host: "::1", explicitPort: 18444,
              port: 18444, path: "", family: .ipv6, requestTarget: "/",
              hostHeader: "::1:18444", formatted: "https://[::1]:18444/"),
        .init(text: "https://[2001:DB8:0:0:0:0:0:1]/", scheme: .https, host: "2001:DB8:0:0:0:0:0:1", explicitPort: nil,
              port: 443, path: "", family: .ipv6, requestTarget: "/",
              hostHeader: "2001:DB8:0:0:0:0:0:1:443", formatted: "https://[2001:DB8:0:0:0:0:0:1]/"),
        .init(text: "https://[::ffff:192.0.2.1]/x", scheme: .https, host: "::ffff:192.0.2.1", explicitPort: nil,
              port: 443, path: "x", family: .ipv6, requestTarget: "/x",
              hostHeader: "::ffff:192.0.2.1:443", formatted: "https://[::ffff:192.0.2.1]/x"),
        .init(text: "http://192.168.0.1:8080/", scheme: .http, host: "192.168.0.1", explicitPort: 8080,
              port: 8080, path: "", family: .ipv4, requestTarget: "/",
              hostHeader: "192.168.0.1:8080", formatted: "http://192.168.0.1:8080/"),
        .init(text: "Http://10.0.0.1/rs", scheme: .http, host: "10.0.0.1", explicitPort: nil,
              port: 80, path: "rs", family: .ipv4, requestTarget: "/rs",
              hostHeader: "10.0.0.1:80", formatted: "http://10.0.0.1/rs"),
        .init(text: "https://192.0.2.1/" + String(repeating: "p", count: 79), scheme: .https, host: "192.0.2.1",
              explicitPort: nil, port: 443, path: String(repeating: "p", count: 79), family: .ipv4,
              requestTarget: "/" + String(repeating: "p", count: 79), hostHeader: "192.0.2.1:443",
              formatted: "https://192.0.2.1/" + String(repeating: "p", count: 79)),
        .init(text: "https://192.0.2.1:443/a:b", scheme: .https, host: "192.0.2.1", explicitPort: 443,
              port: 443, path: "a:b", family: .ipv4, requestTarget: "/a:b",
              hostHeader: "192.0.2.1:443", formatted: "https://192.0.2.1:443/a:b"),
    ]

    @Test(arguments: accepted)
    func accepts(_ a: Accepted) throws {
        let url = try ARMSURL(parsing: a.text)
        #expect(url.scheme == a.scheme)
        #expect(url.host == a.host)
        #expect(url.explicitPort == a.explicitPort)
        #expect(url.port == a.port)
        #expect(url.path == a.path)
        #expect(url.addressFamily == a.family)
        #expect(url.requestTarget == a.requestTarget)
        #expect(url.hostHeader == a.hostHeader)
        #expect(url.isUsable == (a.scheme == .https))
        #expect(url.description == a.formatted)
        #expect(try ARMSURL(parsing: url.description) == url)
    }

    static let rejected: [(String, ARMSURL.ParseError)] = [
        ("https://", .hostNotNumeric("")),
        ("https://[2001:db8::1]", .bracketNotFollowedByPortOrPath("")),
        ("https://[2001:db8::1]x/", .bracketNotFollowedByPortOrPath("x/")),
        ("https://[2001:db8::1/x", .unclosedBracket),
        ("https://[::1/x]:80", .bracketedHostNotIPv6("::1/x")),
        ("https://[192.0.2.1]/x", .bracketedHostNotIPv6("192.0.2.1")),
        ("https://[fe80::1%eth0]/x", .bracketedHostNotIPv6("fe80::1%eth0")),
        ("https://[1:2:3:4:5:6:7:8:9]/", .bracketedHostNotIPv6("1:2:3:4:5:6:7:8:9")),
        ("https://[1::2::3]/", .bracketedHostNotIPv6("1::2::3")),
        ("https://[12345::1]/", .bracketedHostNotIPv6("12345::1")),
        ("https://[]/", .bracketedHostNotIPv6("")),
        ("https://ls.example.jp/arms.cgi", .hostNotNumeric("ls.example.jp")),
        ("https://localhost:8443/arms.cgi", .hostNotNumeric("localhost")),
        ("https://127.1/", .hostNotNumeric("127.1")),
        ("https://192.0.2.256/", .hostNotNumeric("192.0.2.256")),
        ("https://192.0.2.01/", .hostNotNumeric("192.0.2.01")),
        ("https://2001:db8::1/x", .invalidPort("db8::1")),
        ("https://192.0.2.1/a:b", .colonInPathWithoutPort("192.0.2.1/a:b")),
        ("https://192.0.2.1:/x", .invalidPort("")),
        ("https://192.0.2.1:0/x", .invalidPort("0")),
        ("https://192.0.2.1:65536/x", .invalidPort("65536")),
        ("https://192.0.2.1:0443/x", .invalidPort("0443")),
        ("https://192.0.2.1:https/x", .invalidPort("https")),
        ("https://192.0.2.1:12345678/x", .portTooLong("12345678")),
        ("https://192.0.2.1/" + String(repeating: "p", count: 80), .pathTooLong(length: 80)),
        ("https://" + String(repeating: "h", count: 80) + "/", .hostTooLong(String(repeating: "h", count: 80))),
        ("ftp://192.0.2.1/", .unsupportedScheme("ftp://192.0.2.1/")),
        ("192.0.2.1/arms.cgi", .unsupportedScheme("192.0.2.1/arms.cgi")),
        ("https://192.0.2.1/a b", .invalidCharacter(0x20, offset: 19)),
        ("https://192.0.2.1/x\r", .invalidCharacter(0x0D, offset: 19)),
        ("https://192.0.2.1/" + String(repeating: "p", count: 240), .tooLong(length: 258)),
    ]

    @Test(arguments: rejected)
    func rejects(_ text: String, _ error: ARMSURL.ParseError) {
        #expect(throws: error) { try ARMSURL(parsing: text) }
    }

    @Test func authorityBracketsIPv6Only() throws {
        #expect(try ARMSURL(parsing: "https://[2001:db8::10]/t").authority == "[2001:db8::10]:443")
        #expect(try ARMSURL(parsing: "http://192.0.2.9:3128/").authority == "192.0.2.9:3128")
    }

    @Test func buildsFromParts() throws {
        let v6 = try ARMSURL(host: "2001:db8::5", port: 8443, path: "rs.cgi")
        #expect(v6.description == "https://[2001:db8::5]:8443/rs.cgi")
        #expect(v6.addressFamily == .ipv6)
        let v4 = try ARMSURL(scheme: .http, host: "192.0.2.7")
        #expect(v4.description == "http://192.0.2.7/")
        #expect(!v4.isUsable)
        #expect(throws: ARMSURL.ParseError.hostNotNumeric("ls.example")) { try ARMSURL(host: "ls.example") }
        #expect(throws: ARMSURL.ParseError.invalidPort("70000")) { try ARMSURL(host: "192.0.2.7", port: 70000) }
    }

    @Test func errorsDescribeTheToken() {
        #expect(ARMSURL.ParseError.hostNotNumeric("ls.example.jp").description.contains("\"ls.example.jp\""))
        #expect(ARMSURL.ParseError.invalidPort("0443").description.contains("\"0443\""))
    }
}
