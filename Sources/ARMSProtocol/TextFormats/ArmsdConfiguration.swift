/// The contents of armsd's configuration file, `armsd.conf` (agent.md §3.1, §3.2): every
/// key armsd 0.9.0 reads, with its default, plus `sa-model-name` and `sa-version`.
///
/// Syntax, as armsd reads it: one `name: value` per line, split at the first `:`, name and
/// value trimmed of white space (space, tab, CR, VT, FF); empty lines and lines whose first
/// non-blank character is `#` are ignored; no trailing comments, quotes or escapes; when a
/// name repeats, the last one wins. An unknown name is a `Warning`
/// (`warning: unknown configuration parameter: NAME=VALUE`), as is a line without a colon
/// (armsd skips that one silently), never an error.
///
/// Unlike armsd, which reads numbers with `atoi` and the distribution id with `sscanf`,
/// values are checked and a bad one is a `ParseError` naming the line and key
/// (`armsd.conf:12: timeout: not an integer: "abc"`); lines longer than 999 bytes (which
/// armsd's reader would cut in pieces) are refused too. Paths and script names are kept as
/// written, an empty value included.
///
/// `distribution-id` is not required here: armsd's `-i` option may supply it.
public struct ArmsdConfiguration: Sendable, Hashable {
    /// The callback scripts (agent.md §5), keyed by their configuration names.
    public enum Script: String, Sendable, Hashable, CaseIterable {
        case start = "script-start"
        case reconfig = "script-reconfig"
        case stop = "script-stop"
        case status = "script-status"
        case clear = "script-clear"
        case command = "script-command"
        case lineCtrl = "script-line-ctrl"
        case stateChanged = "script-state-changed"
        case appEvent = "script-app-event"
        case postPull = "script-post-pull"
        case reboot = "script-reboot"
        /// Declared by armsd 0.9.0 but never run.
        case debug = "script-debug"
    }

    /// A value of `https-proxy-url-ls` or `https-proxy-url-rs`.
    public enum ProxySetting: Sendable, Hashable {
        /// Empty value: talk directly (armsd logs `use no https proxy`).
        case noProxy
        case proxy(ARMSURL)
    }

    /// `distribution-id`; nil when absent (then armsd needs `-i`).
    public var distributionID: DistributionID?
    /// `ls-sa-key`, at most 64 bytes; default empty.
    public var lsSAKey: String = ""
    /// `sa-model-name`, at most 32 bytes: the description sent to the servers; default `armsd`.
    public var saModelName: String = "armsd"
    /// `sa-version`, at most 32 bytes: the version sent to the servers; nil = the agent's own.
    public var saVersion: String?
    /// `path-iconfig`: Initial-Config file; nil = libarms' built-in LS list.
    public var pathIConfig: String?
    /// `path-root-ca`: LS trust anchor PEM; nil = armsd's built-in "ARMS Root CA".
    public var pathRootCA: String?
    /// `path-state-cache`.
    public var pathStateCache: String = "/var/cache/armsd/state"
    /// `path-pid` (written only when daemonized).
    public var pathPID: String = "/var/run/armsd.pid"
    /// `https-proxy-url`: proxy for LS/RS HTTPS from the start; nil = direct.
    public var httpsProxyURL: ARMSURL?
    /// `https-proxy-url-ls`; nil = unset (falls back to `https-proxy-url`).
    public var httpsProxyURLLS: ProxySetting?
    /// `https-proxy-url-rs`; nil = unset (falls back to `https-proxy-url`).
    public var httpsProxyURLRS: ProxySetting?
    /// `app-event-interval` in seconds (libarms accepts 0.1–600 s; armsd skips -1).
    public var appEventInterval: Int = 300
    /// `timeout`: seconds for every script and for ping/traceroute; not negative.
    public var timeout: Int = 30
    /// `binary`: > 0 returns script results as raw bytes.
    public var binary: Int = 0
    /// `hb-disk-usage0`..`2`: paths for the disk statistics.
    public var hbDiskUsage0: String = "/"
    public var hbDiskUsage1: String?
    public var hbDiskUsage2: String?
    /// `hb-traffic-if0`..`3`: interfaces for the traffic statistics.
    public var hbTrafficIf0: String = "eth0"
    public var hbTrafficIf1: String = "eth1"
    public var hbTrafficIf2: String = "eth2"
    public var hbTrafficIf3: String?
    /// `hb-dummy`: non-zero sends synthetic heartbeat statistics.
    public var hbDummy: Int = 0
    /// `script-*`: absent keys run no script.
    public var scripts: [Script: String] = [:]

    /// Longest `ls-sa-key` libarms accepts.
    public static let maxLSSAKeyLength = 64
    /// Longest description or version libarms accepts.
    public static let maxDescriptionLength = 32
    /// Longest line armsd reads in one piece.
    public static let maxLineLength = 999
    /// Input bound.
    public static let maxSize = 65536

    /// All defaults, no distribution id.
    public init() {}

    /// The proxy armsd installs when the state becomes LSPULL: `https-proxy-url-ls`, else
    /// `https-proxy-url`; nil means the current setting is left alone.
    public var proxyForLSPull: ProxySetting? { httpsProxyURLLS ?? httpsProxyURL.map(ProxySetting.proxy) }
    /// The same on entering RSPULL, from `https-proxy-url-rs`.
    public var proxyForRSPull: ProxySetting? { httpsProxyURLRS ?? httpsProxyURL.map(ProxySetting.proxy) }

    // MARK: - Parsing

    /// A line armsd reads but does not use.
    public enum Warning: Equatable, Sendable, CustomStringConvertible {
        /// A name armsd does not know; printed by armsd exactly as `description`.
        case unknownParameter(line: Int, name: String, value: String)
        /// A non-comment line without `:` (armsd ignores it without a message).
        case missingColon(line: Int, text: String)

        public var description: String {
            switch self {
            case .unknownParameter(_, let n, let v): return "warning: unknown configuration parameter: \(n)=\(v)"
            case .missingColon(let l, let t): return "warning: line \(l) has no ':' and is ignored: \(t)"
            }
        }
    }

    /// A value armsd.conf must not hold; `description` is `FILE:LINE: KEY: reason`.
    public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        public enum Reason: Equatable, Sendable {
            /// The file exceeds `maxSize` bytes.
            case tooLarge(bytes: Int)
            /// The line exceeds `maxLineLength` bytes.
            case lineTooLong(length: Int)
            case notAnInteger(String)
            case negative(String)
            case invalidDistributionID(String, DistributionID.ParseError)
            case tooLong(String, max: Int)
            case invalidProxyURL(String, ARMSURL.ParseError)
        }

        public var fileName: String
        /// 1-based; nil for `tooLarge`.
        public var line: Int?
        /// The key, when the error is about a value.
        public var key: String?
        public var reason: Reason

        public init(fileName: String = "armsd.conf", line: Int?, key: String?, reason: Reason) {
            self.fileName = fileName
            self.line = line
            self.key = key
            self.reason = reason
        }

        public var description: String {
            var s = fileName
            if let line { s += ":\(line)" }
            s += ": "
            if let key { s += key + ": " }
            switch reason {
            case .tooLarge(let n): s += "file is \(n) bytes, at most \(ArmsdConfiguration.maxSize) allowed"
            case .lineTooLong(let n): s += "line is \(n) bytes, at most \(ArmsdConfiguration.maxLineLength) allowed"
            case .notAnInteger(let v): s += "not an integer: \"\(v)\""
            case .negative(let v): s += "must not be negative: \"\(v)\""
            case .invalidDistributionID(let v, let e): s += "\"\(v)\": \(e)"
            case .tooLong(let v, let m): s += "longer than \(m) bytes: \"\(v)\""
            case .invalidProxyURL(let v, let e): s += "\"\(v)\": \(e)"
            }
            return s
        }
    }

    /// Reads an armsd.conf text. `fileName` only labels errors.
    public static func parse(_ text: some StringProtocol, fileName: String = "armsd.conf")
        throws(ParseError) -> (configuration: ArmsdConfiguration, warnings: [Warning]) {
        let bytes = Array(text.utf8)
        guard bytes.count <= maxSize else {
            throw ParseError(fileName: fileName, line: nil, key: nil, reason: .tooLarge(bytes: bytes.count))
        }
        var config = ArmsdConfiguration()
        var warnings: [Warning] = []
        var number = 0
        for raw in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            number += 1
            guard raw.count <= maxLineLength else {
                throw ParseError(fileName: fileName, line: number, key: nil, reason: .lineTooLong(length: raw.count))
            }
            let line = trimmed(raw)
            if line.isEmpty || line.first == UInt8(ascii: "#") { continue }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                warnings.append(.missingColon(line: number, text: String(decoding: line, as: UTF8.self)))
                continue
            }
            let name = String(decoding: trimmed(line[..<colon]), as: UTF8.self)
            let value = String(decoding: trimmed(line[(colon + 1)...]), as: UTF8.self)
            let known = try config.set(name, value) { reason in
                ParseError(fileName: fileName, line: number, key: name, reason: reason)
            }
            if !known { warnings.append(.unknownParameter(line: number, name: name, value: value)) }
        }
        return (config, warnings)
    }

    /// C `isspace` in the "C" locale.
    private static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (0x09...0x0D).contains(c) }

    private static func trimmed(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        guard let first = s.firstIndex(where: { !isSpace($0) }),
              let last = s.lastIndex(where: { !isSpace($0) }) else { return [] }
        return s[first...last]
    }

    /// Stores one value; false for an unknown name. `fail` turns a reason into the error.
    private mutating func set(_ name: String, _ value: String,
                              fail: (ParseError.Reason) -> ParseError) throws(ParseError) -> Bool {
        func integer() throws(ParseError) -> Int {
            guard let v = LocationConfig.decimalInt(ArraySlice(value.utf8)) else { throw fail(.notAnInteger(value)) }
            return v
        }
        func limited(_ max: Int) throws(ParseError) -> String {
            guard value.utf8.count <= max else { throw fail(.tooLong(value, max: max)) }
            return value
        }
        func proxyURL() throws(ParseError) -> ARMSURL {
            do { return try ARMSURL(parsing: value) } catch { throw fail(.invalidProxyURL(value, error)) }
        }

        if let script = Script(rawValue: name) {
            scripts[script] = value
            return true
        }
        switch name {
        case "distribution-id":
            do { distributionID = try DistributionID(parsing: value) } catch { throw fail(.invalidDistributionID(value, error)) }
        case "ls-sa-key": lsSAKey = try limited(Self.maxLSSAKeyLength)
        case "sa-model-name": saModelName = try limited(Self.maxDescriptionLength)
        case "sa-version": saVersion = try limited(Self.maxDescriptionLength)
        case "path-iconfig": pathIConfig = value
        case "path-root-ca": pathRootCA = value
        case "path-state-cache": pathStateCache = value
        case "path-pid": pathPID = value
        case "https-proxy-url": httpsProxyURL = try proxyURL()
        case "https-proxy-url-ls": httpsProxyURLLS = value.isEmpty ? .noProxy : .proxy(try proxyURL())
        case "https-proxy-url-rs": httpsProxyURLRS = value.isEmpty ? .noProxy : .proxy(try proxyURL())
        case "app-event-interval": appEventInterval = try integer()
        case "timeout":
            let v = try integer()
            guard v >= 0 else { throw fail(.negative(value)) }
            timeout = v
        case "binary": binary = try integer()
        case "hb-disk-usage0": hbDiskUsage0 = value
        case "hb-disk-usage1": hbDiskUsage1 = value
        case "hb-disk-usage2": hbDiskUsage2 = value
        case "hb-traffic-if0": hbTrafficIf0 = value
        case "hb-traffic-if1": hbTrafficIf1 = value
        case "hb-traffic-if2": hbTrafficIf2 = value
        case "hb-traffic-if3": hbTrafficIf3 = value
        case "hb-dummy": hbDummy = try integer()
        default: return false
        }
        return true
    }

    // MARK: - Encoding

    /// Why a configuration cannot be written as an armsd.conf that reads back to it.
    public enum EncodeError: Error, Equatable, Sendable, CustomStringConvertible {
        /// The value has white space at either end, a control byte (LF, CR, NUL, ...) or
        /// makes its line longer than `maxLineLength`.
        case unrepresentable(key: String, value: String)
        /// The value breaks a rule the parser enforces (as reported for the written text).
        case invalid(ParseError)

        public var description: String {
            switch self {
            case .unrepresentable(let k, let v): return "armsd.conf: \(k): value cannot be written: \"\(v)\""
            case .invalid(let e): return e.description
            }
        }
    }

    /// Writes an armsd.conf: one `name: value` line per key that is set and differs from
    /// its default (`ls-sa-key` always), in the order of agent.md §3.2, LF line ends.
    public func encoded() throws(EncodeError) -> String {
        let defaults = ArmsdConfiguration()
        var entries: [(String, String)] = []
        func add(_ key: String, _ value: String?, default fallback: String? = nil) {
            guard let value, value != fallback else { return }
            entries.append((key, value))
        }
        func proxy(_ setting: ProxySetting?) -> String? {
            switch setting {
            case nil: return nil
            case .noProxy: return ""
            case .proxy(let url): return url.description
            }
        }
        add("distribution-id", distributionID?.description)
        entries.append(("ls-sa-key", lsSAKey))
        add("sa-model-name", saModelName, default: defaults.saModelName)
        add("sa-version", saVersion)
        add("path-iconfig", pathIConfig)
        add("path-root-ca", pathRootCA)
        add("path-state-cache", pathStateCache, default: defaults.pathStateCache)
        add("path-pid", pathPID, default: defaults.pathPID)
        add("https-proxy-url", httpsProxyURL?.description)
        add("https-proxy-url-ls", proxy(httpsProxyURLLS))
        add("https-proxy-url-rs", proxy(httpsProxyURLRS))
        add("app-event-interval", String(appEventInterval), default: String(defaults.appEventInterval))
        add("timeout", String(timeout), default: String(defaults.timeout))
        add("binary", String(binary), default: String(defaults.binary))
        add("hb-disk-usage0", hbDiskUsage0, default: defaults.hbDiskUsage0)
        add("hb-disk-usage1", hbDiskUsage1)
        add("hb-disk-usage2", hbDiskUsage2)
        add("hb-traffic-if0", hbTrafficIf0, default: defaults.hbTrafficIf0)
        add("hb-traffic-if1", hbTrafficIf1, default: defaults.hbTrafficIf1)
        add("hb-traffic-if2", hbTrafficIf2, default: defaults.hbTrafficIf2)
        add("hb-traffic-if3", hbTrafficIf3)
        add("hb-dummy", String(hbDummy), default: String(defaults.hbDummy))
        for script in Script.allCases { add(script.rawValue, scripts[script]) }

        var text = ""
        for (key, value) in entries {
            let b = Array(value.utf8)
            guard b.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }),
                  b.first.map({ !Self.isSpace($0) }) ?? true, b.last.map({ !Self.isSpace($0) }) ?? true,
                  key.utf8.count + 2 + b.count <= Self.maxLineLength else {
                throw .unrepresentable(key: key, value: value)
            }
            text += value.isEmpty ? key + ":\n" : key + ": " + value + "\n"
        }
        do {
            _ = try Self.parse(text)
        } catch {
            throw .invalid(error)
        }
        return text
    }
}
