/// The address family of a numeric host literal (and of a line, see `LineType`).
public enum AddressFamily: String, Sendable, Hashable, CaseIterable {
    case ipv4
    case ipv6
}

/// An LS, RS, tunnel or proxy URL as libarms understands it (pull.md §2.1, tunnel.md §2).
///
/// The grammar is the one of libarms' URL splitter:
/// `http[s]://HOST[:PORT][/PATH]`, scheme case-insensitive, `HOST` a dotted-quad IPv4
/// literal or a bracketed IPv6 literal whose `]` must be followed by `:` or `/`
/// (so `https://[2001:db8::1]` alone is refused), `PORT` at most 7 characters
/// (default 443 for https, 80 for http), `PATH` everything after the first `/`, at most
/// 79 characters. Host names are refused: libarms resolves numerically only.
///
/// An `http` URL parses (libarms splits it too) but `isUsable` is false: libarms refuses
/// to talk to an LS or RS over plain HTTP ("scheme is not https"). Proxy URLs
/// (armsd's `https-proxy-url*`) are normally `http` and are used as they are.
///
/// Deliberately stricter than libarms, with the same practical outcome (libarms would
/// fail later, at name resolution or on the wire): only dotted-quad IPv4 (no `127.1`,
/// no leading zeros), no IPv6 zone, a port of 1–65535 written without leading zeros,
/// no bytes outside printable ASCII, and no `:` in the path of a URL without a port
/// (libarms then takes that `:` as the port separator and misreads the URL).
public struct ARMSURL: Sendable, Hashable, CustomStringConvertible {
    public enum Scheme: String, Sendable, Hashable {
        case http
        case https
    }

    /// Longest URL libarms stores (it cuts longer ones).
    public static let maxLength = 255
    /// Longest host (without brackets) libarms' 80-byte host buffer holds.
    public static let maxHostLength = 79
    /// Longest port text libarms' 8-byte port buffer holds.
    public static let maxPortLength = 7
    /// Longest path (without the leading `/`) libarms' 80-byte path buffer holds.
    public static let maxPathLength = 79

    public let scheme: Scheme
    /// The host as written, without brackets for IPv6 (`2001:db8::1`, `192.0.2.1`).
    public let host: String
    /// The port written in the URL, if any.
    public let explicitPort: Int?
    /// Everything after the first `/` that follows the host, without that `/`; may be empty.
    /// Query strings are part of it.
    public let path: String
    /// Family of the host literal.
    public let addressFamily: AddressFamily

    /// Why a URL was refused.
    public enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        /// Longer than `ARMSURL.maxLength`.
        case tooLong(length: Int)
        /// A space, control character or non-ASCII byte at this offset.
        case invalidCharacter(UInt8, offset: Int)
        /// Does not start with `http://` or `https://` (any case); carries the first 32 bytes.
        case unsupportedScheme(String)
        /// Path (without the leading `/`) longer than `ARMSURL.maxPathLength`.
        case pathTooLong(length: Int)
        /// `[` without a later `]`.
        case unclosedBracket
        /// The `]` of an IPv6 literal is followed by neither `:` nor `/`; carries what follows.
        case bracketNotFollowedByPortOrPath(String)
        /// Host longer than `ARMSURL.maxHostLength`.
        case hostTooLong(String)
        /// Port text longer than `ARMSURL.maxPortLength`.
        case portTooLong(String)
        /// Port empty, not decimal, with a leading zero, or outside 1–65535.
        case invalidPort(String)
        /// No explicit port but a `:` in the path (libarms would take it as the port separator).
        case colonInPathWithoutPort(String)
        /// Host is not a numeric IPv4 literal (e.g. a DNS name).
        case hostNotNumeric(String)
        /// The text between brackets is not an IPv6 literal.
        case bracketedHostNotIPv6(String)

        public var description: String {
            switch self {
            case .tooLong(let n):
                return "URL is \(n) characters, at most \(ARMSURL.maxLength) allowed"
            case .invalidCharacter(let b, let o):
                return "URL has an invalid byte 0x\(String(b, radix: 16)) at offset \(o)"
            case .unsupportedScheme(let s):
                return "URL scheme is not http:// or https://: \"\(s)\""
            case .pathTooLong(let n):
                return "URL path is \(n) characters, at most \(ARMSURL.maxPathLength) allowed"
            case .unclosedBracket:
                return "URL IPv6 host has no closing ']'"
            case .bracketNotFollowedByPortOrPath(let s):
                return "URL IPv6 host ']' must be followed by ':' or '/', found \"\(s)\""
            case .hostTooLong(let h):
                return "URL host is \(h.utf8.count) characters, at most \(ARMSURL.maxHostLength) allowed"
            case .portTooLong(let p):
                return "URL port \"\(p)\" is longer than \(ARMSURL.maxPortLength) characters"
            case .invalidPort(let p):
                return "URL port \"\(p)\" is not a number from 1 to 65535"
            case .colonInPathWithoutPort(let s):
                return "URL without a port has a ':' after the host (libarms reads it as the port): \"\(s)\""
            case .hostNotNumeric(let h):
                return "URL host \"\(h)\" is not a numeric IPv4 address (names are not resolved)"
            case .bracketedHostNotIPv6(let h):
                return "URL host \"[\(h)]\" is not an IPv6 address"
            }
        }
    }

    /// Parses a URL with libarms' rules (see the type's documentation).
    public init(parsing text: some StringProtocol) throws(ParseError) {
        let b = Array(text.utf8)
        guard b.count <= Self.maxLength else { throw .tooLong(length: b.count) }
        for (i, c) in b.enumerated() where c <= 0x20 || c >= 0x7F {
            throw .invalidCharacter(c, offset: i)
        }

        let scheme: Scheme
        let rest: ArraySlice<UInt8>
        if Self.hasPrefixIgnoringCase(b, "https://") {
            scheme = .https
            rest = b[8...]
        } else if Self.hasPrefixIgnoringCase(b, "http://") {
            scheme = .http
            rest = b[7...]
        } else {
            throw .unsupportedScheme(String(decoding: b.prefix(32), as: UTF8.self))
        }

        // The path starts after the first '/' of the remainder (libarms looks for it first).
        let slash = rest.firstIndex(of: UInt8(ascii: "/"))
        let pathBytes: ArraySlice<UInt8> = slash.map { rest[($0 + 1)...] } ?? []
        guard pathBytes.count <= Self.maxPathLength else { throw .pathTooLong(length: pathBytes.count) }
        let authorityEnd = slash ?? rest.endIndex

        let hostBytes: ArraySlice<UInt8>
        let afterHost: Int  // index of the first byte after the host (and its brackets)
        let bracketed = rest.first == UInt8(ascii: "[")
        if bracketed {
            let open = rest.startIndex
            guard let close = rest[(open + 1)...].firstIndex(of: UInt8(ascii: "]")) else {
                throw .unclosedBracket
            }
            let next = close + 1
            guard next < rest.endIndex,
                  rest[next] == UInt8(ascii: ":") || rest[next] == UInt8(ascii: "/") else {
                throw .bracketNotFollowedByPortOrPath(String(decoding: rest[next...].prefix(16), as: UTF8.self))
            }
            hostBytes = rest[(open + 1)..<close]
            if let slash, slash < close {
                // The first '/' is inside the brackets: not an IPv6 literal.
                throw .bracketedHostNotIPv6(String(decoding: hostBytes, as: UTF8.self))
            }
            afterHost = next
        } else {
            // libarms takes the first ':' anywhere in the remainder as the port separator.
            if let colon = rest.firstIndex(of: UInt8(ascii: ":")) {
                if let slash, colon > slash {
                    throw .colonInPathWithoutPort(String(decoding: rest, as: UTF8.self))
                }
                hostBytes = rest[rest.startIndex..<colon]
                afterHost = colon
            } else {
                hostBytes = rest[rest.startIndex..<authorityEnd]
                afterHost = authorityEnd
            }
        }
        let host = String(decoding: hostBytes, as: UTF8.self)
        guard hostBytes.count <= Self.maxHostLength else { throw .hostTooLong(host) }

        var port: Int? = nil
        if afterHost < authorityEnd, rest[afterHost] == UInt8(ascii: ":") {
            let portBytes = rest[(afterHost + 1)..<authorityEnd]
            let portText = String(decoding: portBytes, as: UTF8.self)
            guard portBytes.count <= Self.maxPortLength else { throw .portTooLong(portText) }
            guard let value = Self.decimalPort(portBytes) else { throw .invalidPort(portText) }
            port = value
        }

        let family: AddressFamily
        if bracketed {
            guard Self.isIPv6Literal(hostBytes) else { throw .bracketedHostNotIPv6(host) }
            family = .ipv6
        } else {
            guard Self.isIPv4Literal(hostBytes) else { throw .hostNotNumeric(host) }
            family = .ipv4
        }

        self.scheme = scheme
        self.host = host
        self.explicitPort = port
        self.path = String(decoding: pathBytes, as: UTF8.self)
        self.addressFamily = family
    }

    /// Builds a URL from its parts and checks it with the same rules as `init(parsing:)`.
    /// `host` is written without brackets; `path` without its leading `/`.
    public init(scheme: Scheme = .https, host: String, port: Int? = nil, path: String = "") throws(ParseError) {
        let bracketed = host.utf8.contains(UInt8(ascii: ":"))
        var text = scheme.rawValue + "://" + (bracketed ? "[" + host + "]" : host)
        if let port { text += ":" + String(port) }
        text += "/" + path
        self = try ARMSURL(parsing: text)
    }

    /// The port libarms connects to: the explicit one, else 443 (https) or 80 (http).
    public var port: Int { explicitPort ?? (scheme == .https ? 443 : 80) }

    /// Whether libarms would use this URL for an LS, RS or tunnel request (scheme https).
    public var isUsable: Bool { scheme == .https }

    /// The request target of the request line: `/` followed by the path (`/` when empty).
    public var requestTarget: String { "/" + path }

    /// The value libarms writes in a tunnel request's `Host:` header: the host as written,
    /// without brackets even for IPv6, then `:` and the port, always explicit
    /// (`192.0.2.1:443`, `2001:db8::10:443`).
    public var hostHeader: String { host + ":" + String(port) }

    /// `host:port` with brackets around an IPv6 host (`[2001:db8::10]:443`), as in a proxy
    /// `CONNECT` line.
    public var authority: String {
        (addressFamily == .ipv6 ? "[" + host + "]" : host) + ":" + String(port)
    }

    /// The URL written back: lower-case scheme, host (bracketed for IPv6), the port only if
    /// it was explicit, then `/` and the path. Parsing it gives an equal value.
    public var description: String {
        var s = scheme.rawValue + "://" + (addressFamily == .ipv6 ? "[" + host + "]" : host)
        if let explicitPort { s += ":" + String(explicitPort) }
        return s + "/" + path
    }

    // MARK: - Helpers

    private static func hasPrefixIgnoringCase(_ b: [UInt8], _ prefix: String) -> Bool {
        let p = Array(prefix.utf8)
        guard b.count >= p.count else { return false }
        for i in 0..<p.count where asciiLower(b[i]) != p[i] { return false }
        return true
    }

    private static func asciiLower(_ c: UInt8) -> UInt8 {
        (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")) ? c + 32 : c
    }

    private static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    private static func isHexDigit(_ c: UInt8) -> Bool {
        isDigit(c) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "f")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "F"))
    }

    /// 1–5 decimal digits, no leading zero, 1...65535.
    private static func decimalPort(_ b: ArraySlice<UInt8>) -> Int? {
        guard !b.isEmpty, b.count <= 5, b.first != UInt8(ascii: "0"), b.allSatisfy(isDigit) else { return nil }
        let v = b.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        return (1...65535).contains(v) ? v : nil
    }

    /// Dotted quad: four decimal fields 0–255, no leading zeros.
    static func isIPv4Literal(_ b: ArraySlice<UInt8>) -> Bool {
        let fields = b.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard fields.count == 4 else { return false }
        for f in fields {
            guard !f.isEmpty, f.count <= 3, f.allSatisfy(isDigit) else { return false }
            if f.count > 1 && f.first == UInt8(ascii: "0") { return false }
            let v = f.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
            guard v <= 255 else { return false }
        }
        return true
    }

    /// RFC 4291 text form: hex groups of 1–4 digits, at most one `::`, optionally ending in a
    /// dotted quad; no zone identifier.
    static func isIPv6Literal(_ b: ArraySlice<UInt8>) -> Bool {
        guard b.count >= 2, b.count <= 45 else { return false }
        let bytes = Array(b)
        // Locate a single "::".
        var doubleColon: Int? = nil
        var i = 0
        while i + 1 < bytes.count {
            if bytes[i] == UInt8(ascii: ":") && bytes[i + 1] == UInt8(ascii: ":") {
                if doubleColon != nil { return false }
                doubleColon = i
                i += 2
            } else {
                i += 1
            }
        }
        func groups(_ part: ArraySlice<UInt8>, allowIPv4Tail: Bool) -> Int? {
            if part.isEmpty { return 0 }
            let fields = part.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
            var count = 0
            for (k, f) in fields.enumerated() {
                if allowIPv4Tail && k == fields.count - 1 && f.contains(UInt8(ascii: ".")) {
                    guard isIPv4Literal(f) else { return nil }
                    count += 2
                } else {
                    guard !f.isEmpty, f.count <= 4, f.allSatisfy(isHexDigit) else { return nil }
                    count += 1
                }
            }
            return count
        }
        if let dc = doubleColon {
            guard let head = groups(bytes[..<dc], allowIPv4Tail: false),
                  let tail = groups(bytes[(dc + 2)...], allowIPv4Tail: true) else { return false }
            return head + tail <= 7
        }
        guard let all = groups(bytes[...], allowIPv4Tail: true) else { return false }
        return all == 8
    }
}
