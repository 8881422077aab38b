/// The kind of a line (the SA's uplink) as named in a Location-Config `line-*` block.
public enum LineType: String, Sendable, Hashable, CaseIterable {
    case pppoe = "line-pppoe"
    case pppoeIPv6 = "line-pppoe-ipv6"
    case dhcp = "line-dhcp"
    case mobile = "line-mobile"
    case staticAddress = "line-static"
    case ra = "line-ra"

    /// The block keyword (`line-dhcp`, ...).
    public var keyword: String { rawValue }

    /// The address family libarms records when this line comes up; RS (and LS) URLs of the
    /// other family are skipped. `nil` for `line-static`, which accepts both.
    public var addressFamily: AddressFamily? {
        switch self {
        case .pppoe, .dhcp, .mobile: return .ipv4
        case .pppoeIPv6, .ra: return .ipv6
        case .staticAddress: return nil
        }
    }

    /// Whether a URL of `family` is tried while this line is up.
    public func accepts(_ family: AddressFamily) -> Bool {
        addressFamily.map { $0 == family } ?? true
    }
}

/// Parameters of a `line-pppoe` or `line-pppoe-ipv6` block.
public struct PPPoELine: Sendable, Hashable {
    public var ifindex: Int
    /// At most 35 characters.
    public var account: String
    /// At most 35 characters.
    public var password: String

    public init(ifindex: Int, account: String = "", password: String = "") {
        self.ifindex = ifindex
        self.account = account
        self.password = password
    }
}

/// Parameters of a `line-mobile` block.
public struct MobileLine: Sendable, Hashable {
    public var ifindex: Int
    /// At most 127 characters.
    public var account: String
    /// At most 127 characters.
    public var password: String
    /// At most 39 characters.
    public var telno: String
    public var cid: Int
    /// At most 99 characters.
    public var apn: String
    /// `ip` or `ppp` (libarms copies the text unchecked, at most 7 characters).
    public var pdpType: String
    /// At most 47 characters.
    public var ipAddress: String

    public init(ifindex: Int, account: String = "", password: String = "", telno: String = "",
                cid: Int = 0, apn: String = "", pdpType: String = "", ipAddress: String = "") {
        self.ifindex = ifindex
        self.account = account
        self.password = password
        self.telno = telno
        self.cid = cid
        self.apn = apn
        self.pdpType = pdpType
        self.ipAddress = ipAddress
    }
}

/// One `line-*` block. A parameter that the block does not set is empty (or 0), as in
/// libarms, whose line table starts zeroed.
public enum LineDefinition: Sendable, Hashable {
    case pppoe(PPPoELine)
    case pppoeIPv6(PPPoELine)
    case dhcp(ifindex: Int)
    case mobile(MobileLine)
    /// `line-static`; `ipaddress` at most 47 characters.
    case staticAddress(ifindex: Int, ipAddress: String)
    case ra(ifindex: Int)

    public var type: LineType {
        switch self {
        case .pppoe: return .pppoe
        case .pppoeIPv6: return .pppoeIPv6
        case .dhcp: return .dhcp
        case .mobile: return .mobile
        case .staticAddress: return .staticAddress
        case .ra: return .ra
        }
    }

    public var ifindex: Int {
        switch self {
        case .pppoe(let p), .pppoeIPv6(let p): return p.ifindex
        case .mobile(let m): return m.ifindex
        case .dhcp(let i), .staticAddress(let i, _), .ra(let i): return i
        }
    }
}

/// The Location-Config: the text an LS puts in each `rs-info/md-config` (pull.md §4.3).
///
/// ```
/// line-dhcp {
///  ifindex 0;
/// };
/// rs-certificate {
/// -----BEGIN CERTIFICATE-----
/// MIIB...
/// -----END CERTIFICATE-----
/// };
/// ```
///
/// `init(parsing:)` reads it the way libarms' tokenizer does: the text is split at LF; at
/// the start of each line and after each token, spaces, tabs, CRs and `;` are skipped;
/// a token ends only at a space or a `;` (so a tab between two words does not separate
/// them and a CR stays glued to the token before it: `}\r` does not close a block).
/// Keywords: `line-pppoe`, `line-pppoe-ipv6`, `line-dhcp`, `line-mobile`, `line-static`,
/// `line-ra`, `rs-certificate`, `{`, `}`, the parameters `ifindex account password telno
/// cid apn pdp-type ipaddress` (each takes the next token, whatever it is, as its value)
/// and the PEM markers `-----BEGIN`, `-----END`, `CERTIFICATE-----`. Anything else is
/// ignored, as is a parameter that the block's line type does not have.
/// `rs-certificate { ... }` is rebuilt into a PEM: the BEGIN/END lines are regenerated,
/// every other token becomes one LF-terminated line.
///
/// libarms honours line blocks only in the first `md-config` (index 0) of an LS
/// response and uses only that one's certificate as the trust anchor for every RS; this
/// type parses any one text and leaves that choice to the caller.
///
/// Where libarms would overrun a buffer or silently cut a value, parsing throws instead:
/// text of 2048 bytes or more, a line over 255 bytes, a sixth line block, a value longer
/// than its field, a certificate over 5119 bytes. It also throws for an `ifindex` or
/// `cid` that is not a decimal integer (libarms' `atoi` would read 0 or a prefix), for
/// a block left open at the end (libarms drops such a line) and for a second
/// `rs-certificate` block (libarms overwrites the first in place).
public struct LocationConfig: Sendable, Hashable {
    /// The `line-*` blocks in order.
    public var lines: [LineDefinition]
    /// The rebuilt `rs-certificate` PEM (LF-terminated lines), or nil without such a block.
    public var rsCertificatePEM: String?

    /// `md-config` must be shorter than this many bytes (libarms' fixed 2048-byte slot).
    public static let maxSize = 2047
    /// libarms keeps at most five line definitions.
    public static let maxLineBlocks = 5
    /// libarms' line buffer holds 255 bytes (after the skipped leading blanks).
    public static let maxLineLength = 255
    /// libarms' certificate buffer holds 5119 bytes.
    public static let maxCertificateLength = 5119

    public init(lines: [LineDefinition] = [], rsCertificatePEM: String? = nil) {
        self.lines = lines
        self.rsCertificatePEM = rsCertificatePEM
    }

    /// Whether some line of this config lets libarms try a URL of `family`.
    public func hasLine(for family: AddressFamily) -> Bool {
        lines.contains { $0.type.accepts(family) }
    }

    /// Why a Location-Config text was refused. Lines are numbered from 1.
    public enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        /// The whole text is `maxSize + 1` bytes or more.
        case tooLarge(bytes: Int)
        /// A line is longer than `maxLineLength` bytes after its leading blanks.
        case lineTooLong(line: Int, length: Int)
        /// A NUL byte (libarms would stop reading there).
        case nulByte(line: Int)
        /// A sixth `line-*` keyword.
        case tooManyLineBlocks(line: Int, keyword: String)
        /// `ifindex` or `cid` followed by something that is not a decimal integer.
        case notAnInteger(line: Int, key: String, token: String)
        /// A value longer than its field for this line type.
        case valueTooLong(line: Int, key: String, token: String, max: Int)
        /// The rebuilt certificate exceeds `maxCertificateLength` bytes.
        case certificateTooLong(line: Int)
        /// A second `rs-certificate` block.
        case duplicateCertificate(line: Int)
        /// A block (opened on `line` by `keyword`) that has no closing `}` token.
        case unterminatedBlock(line: Int, keyword: String)

        public var description: String {
            switch self {
            case .tooLarge(let n):
                return "location config is \(n) bytes, at most \(LocationConfig.maxSize) allowed"
            case .lineTooLong(let l, let n):
                return "location config:\(l): line is \(n) bytes, at most \(LocationConfig.maxLineLength) allowed"
            case .nulByte(let l):
                return "location config:\(l): NUL byte"
            case .tooManyLineBlocks(let l, let k):
                return "location config:\(l): \(k): more than \(LocationConfig.maxLineBlocks) line blocks"
            case .notAnInteger(let l, let k, let t):
                return "location config:\(l): \(k): not an integer: \"\(t)\""
            case .valueTooLong(let l, let k, let t, let m):
                return "location config:\(l): \(k): \"\(t)\" is longer than \(m) characters"
            case .certificateTooLong(let l):
                return "location config:\(l): rs-certificate: longer than \(LocationConfig.maxCertificateLength) bytes"
            case .duplicateCertificate(let l):
                return "location config:\(l): rs-certificate: second certificate block"
            case .unterminatedBlock(let l, let k):
                return "location config:\(l): \(k): block not closed with '}'"
            }
        }
    }

    /// Parses one `md-config` text (see the type's documentation for the rules).
    public init(parsing text: some StringProtocol) throws(ParseError) {
        var ignored: [(line: Int, token: String)] = []
        self = try Self.parse(Array(text.utf8), ignored: &ignored)
    }

    // MARK: - Tokenizer and parser

    private static let space = UInt8(ascii: " ")
    private static let semicolon = UInt8(ascii: ";")
    private static let tab = UInt8(ascii: "\t")
    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")

    /// Bytes libarms skips before a line's first token and after every token.
    private static func isSkipped(_ c: UInt8) -> Bool { c == space || c == tab || c == cr || c == semicolon }

    /// Splits `bytes` into tokens with their 1-based line numbers, checking line limits.
    static func tokenize(_ bytes: [UInt8]) throws(ParseError) -> [(line: Int, token: ArraySlice<UInt8>)] {
        guard bytes.count <= maxSize else { throw .tooLarge(bytes: bytes.count) }
        var tokens: [(line: Int, token: ArraySlice<UInt8>)] = []
        var lineNumber = 0
        for physical in bytes.split(separator: lf, omittingEmptySubsequences: false) {
            lineNumber += 1
            if physical.contains(0) { throw .nulByte(line: lineNumber) }
            guard let first = physical.firstIndex(where: { !isSkipped($0) }) else { continue }
            let content = physical[first...]
            guard content.count <= maxLineLength else {
                throw .lineTooLong(line: lineNumber, length: content.count)
            }
            var i = content.startIndex
            while i < content.endIndex {
                let start = i
                while i < content.endIndex && content[i] != space && content[i] != semicolon { i += 1 }
                tokens.append((lineNumber, content[start..<i]))
                while i < content.endIndex && isSkipped(content[i]) { i += 1 }
            }
        }
        return tokens
    }

    private enum Key: String {
        case ifindex, account, password, telno, cid, apn
        case pdpType = "pdp-type"
        case ipaddress
    }

    /// A line block being read.
    private struct OpenLine {
        var type: LineType
        var openedAt: Int
        var ifindex = 0
        var account = "", password = "", telno = "", apn = "", pdpType = "", ipAddress = ""
        var cid = 0

        var definition: LineDefinition {
            switch type {
            case .pppoe: return .pppoe(PPPoELine(ifindex: ifindex, account: account, password: password))
            case .pppoeIPv6: return .pppoeIPv6(PPPoELine(ifindex: ifindex, account: account, password: password))
            case .dhcp: return .dhcp(ifindex: ifindex)
            case .mobile:
                return .mobile(MobileLine(ifindex: ifindex, account: account, password: password, telno: telno,
                                          cid: cid, apn: apn, pdpType: pdpType, ipAddress: ipAddress))
            case .staticAddress: return .staticAddress(ifindex: ifindex, ipAddress: ipAddress)
            case .ra: return .ra(ifindex: ifindex)
            }
        }

        /// Field size limit of `key` for this line type, nil when the type has no such field.
        func limit(_ key: Key) -> Int? {
            switch (key, type) {
            case (.account, .pppoe), (.account, .pppoeIPv6), (.password, .pppoe), (.password, .pppoeIPv6): return 35
            case (.account, .mobile), (.password, .mobile): return 127
            case (.telno, .mobile): return 39
            case (.apn, .mobile): return 99
            case (.pdpType, .mobile): return 7
            case (.ipaddress, .mobile), (.ipaddress, .staticAddress): return 47
            default: return nil
            }
        }
    }

    private enum State {
        case outside
        case inLine(OpenLine)
        case awaitingValue(OpenLine, Key)
        case inCertificate(pem: [UInt8], openedAt: Int)
    }

    /// The parser proper. `ignored` collects tokens libarms silently skips (for `validate`).
    static func parse(_ bytes: [UInt8], ignored: inout [(line: Int, token: String)]) throws(ParseError) -> LocationConfig {
        let tokens = try tokenize(bytes)
        var result = LocationConfig()
        var state = State.outside
        var certificateSeen = false

        for (line, tokenBytes) in tokens {
            let token = String(decoding: tokenBytes, as: UTF8.self)
            switch state {
            case .outside:
                if let type = LineType(rawValue: token) {
                    guard result.lines.count < maxLineBlocks else {
                        throw .tooManyLineBlocks(line: line, keyword: token)
                    }
                    state = .inLine(OpenLine(type: type, openedAt: line))
                } else if token == "rs-certificate" {
                    if certificateSeen { throw .duplicateCertificate(line: line) }
                    certificateSeen = true
                    state = .inCertificate(pem: [], openedAt: line)
                } else {
                    ignored.append((line, token))
                }

            case .inLine(let open):
                if let key = Key(rawValue: token) {
                    state = .awaitingValue(open, key)
                } else if token == "}" {
                    result.lines.append(open.definition)
                    state = .outside
                } else if token != "{" {
                    ignored.append((line, token))
                }

            case .awaitingValue(var open, let key):
                switch key {
                case .ifindex, .cid:
                    guard key == .ifindex || open.type == .mobile else {
                        ignored.append((line, token))
                        break
                    }
                    guard let value = decimalInt(tokenBytes) else {
                        throw .notAnInteger(line: line, key: key.rawValue, token: token)
                    }
                    if key == .ifindex { open.ifindex = value } else { open.cid = value }
                default:
                    guard let max = open.limit(key) else {
                        ignored.append((line, token))
                        break
                    }
                    guard tokenBytes.count <= max else {
                        throw .valueTooLong(line: line, key: key.rawValue, token: token, max: max)
                    }
                    switch key {
                    case .account: open.account = token
                    case .password: open.password = token
                    case .telno: open.telno = token
                    case .apn: open.apn = token
                    case .pdpType: open.pdpType = token
                    case .ipaddress: open.ipAddress = token
                    case .ifindex, .cid: break
                    }
                }
                state = .inLine(open)

            case .inCertificate(var pem, let openedAt):
                switch token {
                case "}":
                    result.rsCertificatePEM = String(decoding: pem, as: UTF8.self)
                    state = .outside
                    continue
                case "{", "CERTIFICATE-----":
                    break
                case "-----BEGIN":
                    pem += Array("-----BEGIN CERTIFICATE-----\n".utf8)
                case "-----END":
                    pem += Array("-----END CERTIFICATE-----\n".utf8)
                default:
                    pem += tokenBytes
                    pem.append(lf)
                }
                guard pem.count <= maxCertificateLength else { throw .certificateTooLong(line: line) }
                state = .inCertificate(pem: pem, openedAt: openedAt)
            }
        }

        switch state {
        case .outside:
            return result
        case .inLine(let open), .awaitingValue(let open, _):
            throw .unterminatedBlock(line: open.openedAt, keyword: open.type.keyword)
        case .inCertificate(_, let openedAt):
            throw .unterminatedBlock(line: openedAt, keyword: "rs-certificate")
        }
    }

    /// Optional `-`, then 1–10 decimal digits, within the range of a C `int`.
    static func decimalInt(_ b: ArraySlice<UInt8>) -> Int? {
        var digits = b
        let negative = digits.first == UInt8(ascii: "-")
        if negative { digits = digits.dropFirst() }
        guard !digits.isEmpty, digits.count <= 10,
              digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        let magnitude = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        let value = negative ? -magnitude : magnitude
        return (Int(Int32.min)...Int(Int32.max)).contains(value) ? value : nil
    }
}
