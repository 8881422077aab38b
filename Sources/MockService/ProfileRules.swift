import ARMSProtocol
import MockCore

/// What an SA profile must satisfy before the mock serves it, shared by the fleet file and
/// the control API so both refuse the same things. Each check returns `nil` when the value
/// is fine, else a short reason ("longer than 64 bytes").
///
/// The limits come from libarms (keys ≤ 64 bytes, pull responses in plain ASCII, decimal
/// module ids) and from the mock's own bounds (sizes, counts).
public enum ProfileRules {
    /// Longest `ls-sa-key` / `rs-preshared-key` libarms accepts.
    public static let maxKeyLength = 64
    /// Longest operator label (bytes of UTF-8).
    public static let maxLabelLength = 256
    /// Most modules per SA.
    public static let maxModules = 256
    /// Longest module `version` attribute.
    public static let maxVersionLength = 64
    /// Longest module info string (`<module>` text).
    public static let maxInfoLength = 256
    /// Largest module configuration (bytes of UTF-8, before any base64 encoding).
    public static let maxConfigSize = 256 * 1024

    /// `ls-key` / `rs-key`: 1 to 64 printable ASCII characters (space allowed inside),
    /// no space at either end (armsd.conf trims it).
    public static func keyProblem(_ key: String) -> String? {
        let b = Array(key.utf8)
        if b.isEmpty { return "must not be empty" }
        if b.count > maxKeyLength { return "longer than \(maxKeyLength) bytes" }
        if let bad = b.first(where: { $0 < 0x20 || $0 > 0x7E }) { return "contains \(describe(bad)); printable ASCII only" }
        if b.first == 0x20 || b.last == 0x20 { return "must not start or end with a space" }
        return nil
    }

    /// `label`: at most 256 bytes of UTF-8 text on one line.
    public static func labelProblem(_ label: String) -> String? {
        if label.utf8.count > maxLabelLength { return "longer than \(maxLabelLength) bytes" }
        if label.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "contains a control character; one line of text only"
        }
        return nil
    }

    /// A module `version`: 1 to 64 printable ASCII characters, no space at either end.
    public static func versionProblem(_ version: String) -> String? {
        let b = Array(version.utf8)
        if b.isEmpty { return "must not be empty (leave the key out instead)" }
        if b.count > maxVersionLength { return "longer than \(maxVersionLength) bytes" }
        if let bad = b.first(where: { $0 < 0x20 || $0 > 0x7E }) { return "contains \(describe(bad)); printable ASCII only" }
        if b.first == 0x20 || b.last == 0x20 { return "must not start or end with a space" }
        return nil
    }

    /// A module `info`: at most 256 printable ASCII characters (pull responses are ASCII).
    public static func infoProblem(_ info: String) -> String? {
        let b = Array(info.utf8)
        if b.count > maxInfoLength { return "longer than \(maxInfoLength) bytes" }
        if let bad = b.first(where: { $0 < 0x20 || $0 > 0x7E }) { return "contains \(describe(bad)); printable ASCII only" }
        return nil
    }

    /// A module configuration. Sent as text it must be printable ASCII, TAB and LF (pull
    /// responses are plain ASCII and XML would turn a CR into LF); anything else must be
    /// sent base64-encoded (`base64`).
    public static func configProblem(_ config: String, base64: Bool) -> String? {
        let b = config.utf8
        if b.count > maxConfigSize { return "\(b.count) bytes, at most \(maxConfigSize) allowed" }
        if !base64, let bad = b.first(where: { ($0 < 0x20 && $0 != 0x09 && $0 != 0x0A) || $0 > 0x7E }) {
            return "contains \(describe(bad)); a text config is printable ASCII, TAB and LF only (send it base64-encoded instead)"
        }
        return nil
    }

    /// Longest heartbeat passphrase libarms accepts (it must be shorter than 1025 bytes).
    public static let maxHeartbeatPassphraseLength = 1024
    /// Longest heartbeat interval the mock hands out, in seconds (one day).
    public static let maxHeartbeatInterval = 86_400
    /// Longest heartbeat host text (libarms: shorter than 256 characters).
    public static let maxHeartbeatHostLength = 255

    /// A heartbeat passphrase: 1 to 1024 printable ASCII characters, no space at either end
    /// (the pull answer is ASCII XML, and libarms keys the HMAC with the exact bytes).
    public static func heartbeatPassphraseProblem(_ passphrase: String) -> String? {
        let b = Array(passphrase.utf8)
        if b.isEmpty { return "must not be empty" }
        if b.count > maxHeartbeatPassphraseLength { return "longer than \(maxHeartbeatPassphraseLength) bytes" }
        if let bad = b.first(where: { $0 < 0x20 || $0 > 0x7E }) { return "contains \(describe(bad)); printable ASCII only" }
        if b.first == 0x20 || b.last == 0x20 { return "must not start or end with a space" }
        return nil
    }

    /// A heartbeat interval: 1 to 86400 seconds (0 would make libarms spin).
    public static func heartbeatIntervalProblem(_ interval: Int) -> String? {
        (1...maxHeartbeatInterval).contains(interval) ? nil : "\(interval) is not a number of seconds from 1 to \(maxHeartbeatInterval)"
    }

    /// A heartbeat host: 1 to 255 printable ASCII characters without spaces. libarms sends
    /// only to numeric IPv4/IPv6 literals; a name is handed out but never used by it.
    public static func heartbeatHostProblem(_ host: String) -> String? {
        let b = Array(host.utf8)
        if b.isEmpty { return "must not be empty" }
        if b.count > maxHeartbeatHostLength { return "longer than \(maxHeartbeatHostLength) bytes" }
        if let bad = b.first(where: { $0 <= 0x20 || $0 > 0x7E }) { return "contains \(describe(bad)); an IPv4 or IPv6 address" }
        return nil
    }

    /// A heartbeat UDP port: 0 to 65535.
    public static func heartbeatPortProblem(_ port: Int) -> String? {
        (0...65535).contains(port) ? nil : "\(port) is not a port number from 0 to 65535"
    }

    /// Reads a module id the way the fleet file and the CLI write it: decimal, 0 to 4294967295.
    public static func moduleID(_ text: String) -> UInt32? {
        let b = Array(text.utf8)
        guard !b.isEmpty, b.count <= 10, b.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              b.count == 1 || b.first != 0x30 else { return nil }
        return UInt32(text)
    }

    static func describe(_ byte: UInt8) -> String {
        byte >= 0x20 && byte < 0x7F ? "'\(Character(UnicodeScalar(byte)))'"
            : "byte 0x" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
    }
}

/// A field of an SA profile that breaks `ProfileRules`: where (`modules[1].version`, in the
/// control API's camelCase names) and why.
public struct ProfileIssue: Error, Equatable, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

extension SAProfile {
    /// Checks every field against `ProfileRules`; throws the first problem, named with the
    /// control API's JSON field names.
    public func validate() throws(ProfileIssue) {
        if let p = ProfileRules.keyProblem(lsKey) { throw ProfileIssue(path: "lsKey", message: p) }
        if let p = ProfileRules.keyProblem(rsKey) { throw ProfileIssue(path: "rsKey", message: p) }
        if let label, let p = ProfileRules.labelProblem(label) { throw ProfileIssue(path: "label", message: p) }
        if modules.count > ProfileRules.maxModules {
            throw ProfileIssue(path: "modules", message: "\(modules.count) modules, at most \(ProfileRules.maxModules) allowed")
        }
        var seen: [UInt32: Int] = [:]
        for (k, m) in modules.enumerated() {
            let at = "modules[\(k)]"
            if let first = seen[m.id] {
                throw ProfileIssue(path: at + ".id", message: "module \(m.id) is listed twice (also modules[\(first)])")
            }
            seen[m.id] = k
            if let v = m.version, let p = ProfileRules.versionProblem(v) { throw ProfileIssue(path: at + ".version", message: p) }
            if let p = ProfileRules.infoProblem(m.info) { throw ProfileIssue(path: at + ".info", message: p) }
            if let p = ProfileRules.configProblem(m.config, base64: m.base64) { throw ProfileIssue(path: at + ".config", message: p) }
        }
        if let heartbeat { try heartbeat.validate(path: "heartbeat") }
    }
}

extension HeartbeatProfile {
    /// Checks the heartbeat settings against `ProfileRules`; `path` prefixes the field names.
    public func validate(path: String = "heartbeat") throws(ProfileIssue) {
        if let p = ProfileRules.heartbeatPassphraseProblem(passphrase) { throw ProfileIssue(path: path + ".passphrase", message: p) }
        if let p = ProfileRules.heartbeatIntervalProblem(interval) { throw ProfileIssue(path: path + ".interval", message: p) }
        if servers.count > HeartbeatProfile.maxServers {
            throw ProfileIssue(path: path + ".servers",
                               message: "\(servers.count) servers, at most \(HeartbeatProfile.maxServers) allowed (a sixth heartbeat-info makes libarms reboot)")
        }
        for (k, server) in servers.enumerated() {
            if let p = ProfileRules.heartbeatHostProblem(server.host) { throw ProfileIssue(path: path + ".servers[\(k)].host", message: p) }
            if let p = ProfileRules.heartbeatPortProblem(server.port) { throw ProfileIssue(path: path + ".servers[\(k)].port", message: p) }
        }
    }
}
