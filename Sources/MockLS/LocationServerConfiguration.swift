import ARMSProtocol
import MockCore

/// What MockLS hands out in an `rs-solicitation` answer (pull.md §4.2), apart from the
/// per-SA `rs-preshared-key`.
public struct LocationServerConfiguration: Equatable, Sendable {
    /// The RS pull URLs, 1 to 4, numeric IPv4 and/or IPv6, `https`. Each gets an `rs-info`.
    public var rsURLs: [ARMSURL]
    /// `rs-retry-max`: the client makes value + 1 rounds over the RS URLs.
    public var rsRetryMax: Int
    /// `rs-retry-interval`: seconds between RS rounds.
    public var rsRetryInterval: Int
    /// `ll-timeout`: seconds the client polls an RS-phase line.
    public var llTimeout: Int
    /// `lifetime`: parsed and ignored by libarms; `nil` leaves it out.
    public var lifetime: Int?
    /// The Location-Config line blocks; `nil` derives one from the RS URLs' families:
    /// `line-dhcp` for IPv4 only, `line-ra` for IPv6 only, `line-static` for both
    /// (libarms skips RS URLs of a family the line does not carry, pull.md §2.1, §4.3).
    public var lines: [LineDefinition]?
    /// The `rs-certificate`: the CA every RS certificate must chain to (the test root by default).
    public var rsCertificatePEM: String
    /// How refused credentials are answered.
    public var authFailure: AuthFailureAnswer

    public init(rsURLs: [ARMSURL], rsRetryMax: Int = 3, rsRetryInterval: Int = 3, llTimeout: Int = 30,
                lifetime: Int? = nil, lines: [LineDefinition]? = nil,
                rsCertificatePEM: String = TestPKI.rootCACertificatePEM, authFailure: AuthFailureAnswer = .armsResult403) {
        self.rsURLs = rsURLs
        self.rsRetryMax = rsRetryMax
        self.rsRetryInterval = rsRetryInterval
        self.llTimeout = llTimeout
        self.lifetime = lifetime
        self.lines = lines
        self.rsCertificatePEM = rsCertificatePEM
        self.authFailure = authFailure
    }

    /// At most this many RS URLs (libarms keeps five; like its Initial-Config we stop at four).
    public static let maxRSURLs = 4

    /// The line blocks actually written: `lines`, or the one derived from the URL families.
    public var effectiveLines: [LineDefinition] {
        if let lines { return lines }
        let families = Set(rsURLs.map(\.addressFamily))
        switch (families.contains(.ipv4), families.contains(.ipv6)) {
        case (true, false): return [.dhcp(ifindex: 0)]
        case (false, true): return [.ra(ifindex: 0)]
        default: return [.staticAddress(ifindex: 0, ipAddress: "")]
        }
    }

    /// The `md-config` texts, one per RS URL in order, each checked with
    /// `LocationConfig.validate` (the first one as `isFirst`, against every RS URL).
    ///
    /// Every `md-config` carries the line blocks and the certificate: libarms uses only
    /// those of the first, but an empty `md-config` would make it reboot.
    public func locationConfigs() throws(LocationServerConfigurationError) -> [String] {
        guard (1...Self.maxRSURLs).contains(rsURLs.count) else { throw .rsURLCount(rsURLs.count) }
        for url in rsURLs where !url.isUsable { throw .notHTTPS(url) }
        let values = [("rs-retry-max", rsRetryMax), ("rs-retry-interval", rsRetryInterval),
                      ("ll-timeout", llTimeout), ("lifetime", lifetime ?? 0)]
        for (name, value) in values where value < 0 || value > Int(Int32.max) {
            throw .outOfRange(name, value)
        }
        let text: String
        do {
            text = try LocationConfig(lines: effectiveLines, rsCertificatePEM: rsCertificatePEM).encoded()
        } catch {
            throw .encoding(error)
        }
        var texts: [String] = []
        for index in rsURLs.indices {
            let issues = LocationConfig.validate(text, isFirst: index == 0, rsURLs: rsURLs)
            guard issues.isEmpty else { throw .invalidLocationConfig(index: index, issues) }
            texts.append(text)
        }
        return texts
    }
}

/// Why a `LocationServerConfiguration` cannot be served.
public enum LocationServerConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not 1 to 4 RS URLs.
    case rsURLCount(Int)
    /// An `http` RS URL (libarms only speaks https to an RS).
    case notHTTPS(ARMSURL)
    /// A negative (or beyond C `int`) retry, interval, timeout or lifetime.
    case outOfRange(String, Int)
    /// The line blocks or certificate cannot be written as a Location-Config.
    case encoding(LocationConfig.EncodeError)
    /// The Location-Config for RS URL `index` breaks the mock-server checklist.
    case invalidLocationConfig(index: Int, [LocationConfig.Issue])

    public var description: String {
        switch self {
        case .rsURLCount(let n): return "LS: \(n) RS URLs, 1 to \(LocationServerConfiguration.maxRSURLs) needed"
        case .notHTTPS(let u): return "LS: RS URL \(u) is not https"
        case .outOfRange(let name, let v): return "LS: \(name) \(v) is out of range"
        case .encoding(let e): return "LS: \(e)"
        case .invalidLocationConfig(let i, let issues):
            return "LS: md-config #\(i): " + issues.map(\.description).joined(separator: "; ")
        }
    }
}
