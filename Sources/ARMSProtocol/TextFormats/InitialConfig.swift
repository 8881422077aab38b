/// How often and how far apart libarms tries the LS (pull.md §6.2, §7.2).
public struct LSRetryPolicy: Sendable, Hashable {
    /// Number of rounds over the LS URL list: `retryMax × 500 + 1`.
    public var rounds: Int
    /// Pause between rounds in seconds: `retryInterval × 20`.
    public var intervalSeconds: Int

    public init(rounds: Int, intervalSeconds: Int) {
        self.rounds = rounds
        self.intervalSeconds = intervalSeconds
    }
}

/// The plain-text Initial-Config that armsd's `path-iconfig` names and libarms'
/// `arms_load_config()` reads (pull.md §7.2, agent.md §3.3):
///
/// ```
/// https://127.0.0.1:8443/arms.cgi      1 to 4 LS URLs
/// <empty line>
/// 3                                    retry interval (× 20 s)
/// 3                                    retry max (× 500 + 1 rounds)
/// <empty line>                         everything below is optional
/// anonymous PPPoE account
/// anonymous PPPoE password
/// IPv6 anonymous PPPoE account, or an empty line when there is none
/// IPv6 anonymous PPPoE password        } only with an IPv6 account
/// <empty line>                         }
/// mobile telno
/// mobile cid
/// mobile APN
/// mobile pdp-type (ip or ppp)
/// mobile PPP account
/// mobile PPP password
/// ```
/// LF line ends; each line at most 255 bytes before its LF. A fifth URL is refused, as by
/// libarms (its URL loop stops after the fifth line without having seen the empty line).
///
/// URLs are kept as written: libarms judges each one only when it uses it (log 100
/// "invalid url", log 101 for a host name) and moves on; `ARMSURL(parsing:)` does that
/// judgement.
///
/// Stricter than libarms, which reads integers with `atoi` and stops quietly wherever the
/// text ends: the two integers must be decimal digits, the mobile cid too; a CR anywhere
/// is refused (libarms keeps it in the value; a CRLF file fails there anyway); an optional
/// group (PPPoE pair, IPv6 pair, the six mobile lines) must be complete once started; and
/// nothing but empty lines may follow the last group. Trailing empty lines are accepted.
public struct InitialConfig: Sendable, Hashable {
    /// The LS URLs in order, as written (1 to 4).
    public var lsURLs: [String]
    /// `RETRY_SEC`: the pause between LS rounds is this × 20 seconds.
    public var retryInterval: Int
    /// `RETRY_MAX`: libarms makes this × 500 + 1 rounds.
    public var retryMax: Int
    /// The optional part, nil when the text ends after the retry maximum.
    public var anonymous: Anonymous?

    public struct Credentials: Sendable, Hashable {
        public var account: String
        public var password: String

        public init(account: String, password: String) {
            self.account = account
            self.password = password
        }
    }

    /// Settings for an anonymous mobile line.
    public struct Mobile: Sendable, Hashable {
        public var telno: String
        public var cid: Int
        public var apn: String
        /// `ip` or `ppp` (copied unchecked, as libarms does).
        public var pdpType: String
        public var ppp: Credentials

        public init(telno: String, cid: Int, apn: String, pdpType: String, ppp: Credentials) {
            self.telno = telno
            self.cid = cid
            self.apn = apn
            self.pdpType = pdpType
            self.ppp = ppp
        }
    }

    /// The optional part. The PPPoE pair comes first in the file, so it is present
    /// whenever this part is (possibly as two empty lines).
    public struct Anonymous: Sendable, Hashable {
        public var pppoe: Credentials
        /// Its account must not be empty (an empty line there means "no IPv6 account").
        public var pppoeIPv6: Credentials?
        public var mobile: Mobile?

        public init(pppoe: Credentials, pppoeIPv6: Credentials? = nil, mobile: Mobile? = nil) {
            self.pppoe = pppoe
            self.pppoeIPv6 = pppoeIPv6
            self.mobile = mobile
        }
    }

    /// At most this many URLs are usable.
    public static let maxLSURLs = 4
    /// Longest line libarms reads in one piece (bytes before the LF).
    public static let maxLineLength = 255
    /// Input bound (far above the longest meaningful text, about 5 KB).
    public static let maxSize = 8192

    /// What libarms uses without an Initial-Config: its compiled-in LS URLs (the IPv6 ones
    /// only when built with IPv6), retry interval 3 and retry max 3 (1501 rounds, 60 s apart).
    public static let libarmsBuiltIn = InitialConfig(
        lsURLs: ["https://202.221.49.106/arms.cgi", "https://202.221.51.6/arms.cgi",
                 "https://[2001:240:bb88::2]/arms.cgi", "https://[2001:240:bb88::6]/arms.cgi"],
        retryInterval: 3, retryMax: 3)

    public init(lsURLs: [String], retryInterval: Int, retryMax: Int, anonymous: Anonymous? = nil) {
        self.lsURLs = lsURLs
        self.retryInterval = retryInterval
        self.retryMax = retryMax
        self.anonymous = anonymous
    }

    /// The LS retry policy libarms derives from the two integers.
    public var lsRetryPolicy: LSRetryPolicy {
        LSRetryPolicy(rounds: retryMax * 500 + 1, intervalSeconds: retryInterval * 20)
    }

    /// Why an Initial-Config text was refused. Lines are numbered from 1.
    public enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        case tooLarge(bytes: Int)
        case nulByte(line: Int)
        case carriageReturn(line: Int)
        case lineTooLong(line: Int, length: Int)
        /// The text is empty or starts with an empty line.
        case missingLSURL(line: Int)
        /// A fifth URL line.
        case tooManyLSURLs(line: Int)
        /// The URL lines are not followed by an empty line.
        case missingEmptyLine(line: Int)
        /// The text ends where this field is required.
        case missingField(line: Int, field: String)
        case notAnInteger(line: Int, field: String, text: String)
        /// This line must be empty (it separates the groups).
        case expectedEmptyLine(line: Int, text: String)
        /// Text after the last group.
        case unexpectedLine(line: Int, text: String)

        public var description: String {
            switch self {
            case .tooLarge(let n): return "initial config: \(n) bytes, at most \(InitialConfig.maxSize) allowed"
            case .nulByte(let l): return "initial config:\(l): NUL byte"
            case .carriageReturn(let l): return "initial config:\(l): carriage return (use LF line ends)"
            case .lineTooLong(let l, let n):
                return "initial config:\(l): line is \(n) bytes, at most \(InitialConfig.maxLineLength) allowed"
            case .missingLSURL(let l): return "initial config:\(l): no LS URL"
            case .tooManyLSURLs(let l): return "initial config:\(l): more than \(InitialConfig.maxLSURLs) LS URLs"
            case .missingEmptyLine(let l): return "initial config:\(l): LS URLs must be followed by an empty line"
            case .missingField(let l, let f): return "initial config:\(l): \(f): missing"
            case .notAnInteger(let l, let f, let t): return "initial config:\(l): \(f): not an integer: \"\(t)\""
            case .expectedEmptyLine(let l, let t): return "initial config:\(l): expected an empty line, found \"\(t)\""
            case .unexpectedLine(let l, let t): return "initial config:\(l): unexpected text after the last field: \"\(t)\""
            }
        }
    }

    /// Parses the plain Initial-Config text.
    public init(parsing text: some StringProtocol) throws(ParseError) {
        let bytes = Array(text.utf8)
        guard bytes.count <= Self.maxSize else { throw .tooLarge(bytes: bytes.count) }
        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if !lines.isEmpty && (bytes.last == UInt8(ascii: "\n") || bytes.isEmpty) { lines.removeLast() }
        for (k, l) in lines.enumerated() {
            if l.contains(0) { throw .nulByte(line: k + 1) }
            if l.contains(UInt8(ascii: "\r")) { throw .carriageReturn(line: k + 1) }
            if l.count > Self.maxLineLength { throw .lineTooLong(line: k + 1, length: l.count) }
        }
        var reader = LineReader(lines: lines.map { String(decoding: $0, as: UTF8.self) })

        var urls: [String] = []
        while true {
            guard let line = reader.next() else {
                throw urls.isEmpty ? .missingLSURL(line: reader.number) : .missingEmptyLine(line: reader.number)
            }
            if line.isEmpty {
                if urls.isEmpty { throw .missingLSURL(line: reader.number) }
                break
            }
            urls.append(line)
            if urls.count > Self.maxLSURLs { throw .tooManyLSURLs(line: reader.number) }
        }
        let interval = try reader.integer("retry interval")
        let maximum = try reader.integer("retry max")
        self.init(lsURLs: urls, retryInterval: interval, retryMax: maximum,
                  anonymous: try Self.parseAnonymous(&reader))
        if let (number, text) = reader.firstNonEmptyRemaining() { throw .unexpectedLine(line: number, text: text) }
    }

    /// The optional part after the retry maximum; nil when only empty lines follow.
    private static func parseAnonymous(_ reader: inout LineReader) throws(ParseError) -> Anonymous? {
        guard !reader.atEnd else { return nil }
        try reader.emptyLine()
        var anonymous = Anonymous(pppoe: Credentials(account: try reader.required("anonymous PPPoE account"),
                                                     password: try reader.required("anonymous PPPoE password")))
        guard !reader.atEnd else { return anonymous }
        let v6Account = try reader.required("IPv6 anonymous PPPoE account")
        if !v6Account.isEmpty {
            anonymous.pppoeIPv6 = Credentials(account: v6Account,
                                              password: try reader.required("IPv6 anonymous PPPoE password"))
            guard !reader.atEnd else { return anonymous }
            try reader.emptyLine()
        }
        guard !reader.atEnd else { return anonymous }
        let telno = try reader.required("mobile telno")
        let cid = try reader.integer("mobile cid")
        let apn = try reader.required("mobile APN")
        let pdp = try reader.required("mobile pdp-type")
        let ppp = Credentials(account: try reader.required("mobile PPP account"),
                              password: try reader.required("mobile PPP password"))
        anonymous.mobile = Mobile(telno: telno, cid: cid, apn: apn, pdpType: pdp, ppp: ppp)
        return anonymous
    }

    /// Sequential access to the lines with 1-based numbering.
    private struct LineReader {
        let lines: [String]
        /// Number of the line last returned (or that would be returned next, at the end).
        private(set) var number = 0
        private var index = 0

        init(lines: [String]) { self.lines = lines }

        /// True when only empty lines (or none) are left.
        var atEnd: Bool { lines[index...].allSatisfy(\.isEmpty) }

        mutating func next() -> String? {
            number += 1
            guard index < lines.count else { return nil }
            defer { index += 1 }
            return lines[index]
        }

        mutating func required(_ field: String) throws(ParseError) -> String {
            guard let line = next() else { throw .missingField(line: number, field: field) }
            return line
        }

        mutating func integer(_ field: String) throws(ParseError) -> Int {
            let text = try required(field)
            guard !text.isEmpty, text.utf8.count <= 9,
                  text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                  let value = Int(text) else {
                throw .notAnInteger(line: number, field: field, text: text)
            }
            return value
        }

        mutating func emptyLine() throws(ParseError) {
            guard let line = next() else { return }
            guard line.isEmpty else { throw .expectedEmptyLine(line: number, text: line) }
        }

        func firstNonEmptyRemaining() -> (Int, String)? {
            guard let k = lines[index...].firstIndex(where: { !$0.isEmpty }) else { return nil }
            return (k + 1, lines[k])
        }
    }

    /// Why an `InitialConfig` cannot be written as text that parses back to it.
    public enum EncodeError: Error, Equatable, Sendable, CustomStringConvertible {
        /// No URL, or more than `maxLSURLs`.
        case lsURLCount(Int)
        /// A value that cannot stand on its line: an empty URL or IPv6 account (an empty line
        /// means something else there), an LF, CR or NUL, more than 255 bytes, a negative or
        /// over-long integer, or an optional part that is nothing but an empty PPPoE pair
        /// (it would read back as no optional part).
        case invalidValue(field: String, value: String)

        public var description: String {
            switch self {
            case .lsURLCount(let n): return "initial config: \(n) LS URLs, 1 to \(InitialConfig.maxLSURLs) allowed"
            case .invalidValue(let f, let v): return "initial config: \(f): value cannot be written: \"\(v)\""
            }
        }
    }

    /// Writes the text `init(parsing:)` and libarms read back (LF line ends, a final LF).
    public func encoded() throws(EncodeError) -> String {
        guard (1...Self.maxLSURLs).contains(lsURLs.count) else { throw .lsURLCount(lsURLs.count) }
        var out: [String] = []
        func add(_ field: String, _ value: String, allowEmpty: Bool = true) throws(EncodeError) {
            let b = value.utf8
            guard allowEmpty || !b.isEmpty, b.count <= Self.maxLineLength,
                  !b.contains(where: { $0 == 0 || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }) else {
                throw .invalidValue(field: field, value: value)
            }
            out.append(value)
        }
        func add(_ field: String, _ value: Int) throws(EncodeError) {
            guard (0...999_999_999).contains(value) else { throw .invalidValue(field: field, value: String(value)) }
            out.append(String(value))
        }
        for url in lsURLs { try add("LS URL", url, allowEmpty: false) }
        out.append("")
        try add("retry interval", retryInterval)
        try add("retry max", retryMax)
        if let anonymous {
            if anonymous.pppoe.account.isEmpty && anonymous.pppoe.password.isEmpty
                && anonymous.pppoeIPv6 == nil && anonymous.mobile == nil {
                // Only empty lines would follow the integers, which reads back as no optional part.
                throw .invalidValue(field: "anonymous PPPoE account", value: "")
            }
            out.append("")
            try add("anonymous PPPoE account", anonymous.pppoe.account)
            try add("anonymous PPPoE password", anonymous.pppoe.password)
            if let v6 = anonymous.pppoeIPv6 {
                try add("IPv6 anonymous PPPoE account", v6.account, allowEmpty: false)
                try add("IPv6 anonymous PPPoE password", v6.password)
            }
            if let m = anonymous.mobile {
                out.append("")
                try add("mobile telno", m.telno)
                try add("mobile cid", m.cid)
                try add("mobile APN", m.apn)
                try add("mobile pdp-type", m.pdpType)
                try add("mobile PPP account", m.ppp.account)
                try add("mobile PPP password", m.ppp.password)
            }
        }
        return out.joined(separator: "\n") + "\n"
    }
}
