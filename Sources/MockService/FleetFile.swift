import ARMSProtocol
import Foundation
import MockCore
import Yams

/// The fleet file: the SAs a mock serves, as YAML (docs/fleet-file.md).
///
/// ```yaml
/// version: 1
/// sas:
///   - distribution-id: 0001-0000-0000-0000-0000-0000-0000-0001
///     ls-key: demo-ls-key
///     rs-key: demo-rs-key
///     label: demo SA
///     modules:
///       - id: 1
///         version: "1.0"
///         info: router-main
///         config: |
///           hostname demo-router
/// ```
///
/// Loading checks everything (`ProfileRules`, unknown keys, duplicates) and names file,
/// line and key in its error: `fleet.yaml:12: sas[1].distribution-id: …`. Scalars are read
/// as written (`version: 1.10` is the string `1.10`); an optional key with an empty value
/// counts as absent. Anchors and aliases are refused, and so is input larger than
/// `maxSize` or nested deeper than `maxDepth`.
public enum FleetFile {
    /// The format version this build reads and writes.
    public static let formatVersion = 1
    /// Input bound in bytes.
    public static let maxSize = 4 * 1024 * 1024
    /// Most SAs in one file.
    public static let maxSAs = 10_000
    /// Deepest nesting of YAML collections accepted (the format needs 6).
    public static let maxDepth = 32

    /// Why a fleet file was refused; `description` is `FILE:LINE: KEY: reason`.
    public typealias LoadError = YAMLLoadError

    // MARK: - Loading

    /// Reads and checks the fleet file at `path`; errors are labelled with `path` as given.
    public static func load(contentsOf path: String) throws(LoadError) -> [SAProfile] {
        try parse(try YAMLDocument.read(contentsOf: path, maxSize: maxSize), fileName: path)
    }

    /// Checks a fleet file's text; `fileName` only labels errors.
    public static func parse(_ text: String, fileName: String = "fleet.yaml") throws(LoadError) -> [SAProfile] {
        try YAMLDocument.withRoot(text, fileName: fileName, maxSize: maxSize, maxDepth: maxDepth) { (root, walker) throws(LoadError) in
            guard let root else {
                throw LoadError(fileName: fileName, line: 1, key: "", message: "empty file; expected `version: \(formatVersion)` and `sas:`")
            }
            return try walker.fleet(root)
        }
    }

    // MARK: - Writing

    /// Writes profiles as a fleet file that `parse` reads back to the same profiles (keys
    /// in the documented order, configs as literal blocks, base64 ones in 76-column lines).
    /// Throws the first profile that breaks `ProfileRules`.
    public static func encode(_ profiles: [SAProfile]) throws(EncodeError) -> String {
        var seen: Set<DistributionID> = []
        var sas: [Node] = []
        for (k, p) in profiles.enumerated() {
            do { try p.validate() } catch { throw .invalidProfile(index: k, error) }
            guard seen.insert(p.distributionID).inserted else { throw .duplicate(p.distributionID) }
            var pairs: [(Node, Node)] = [
                (Node("distribution-id"), Node(p.distributionID.description)),
                (Node("ls-key"), text(p.lsKey)),
                (Node("rs-key"), text(p.rsKey)),
            ]
            if let label = p.label { pairs.append((Node("label"), text(label))) }
            if !p.modules.isEmpty {
                pairs.append((Node("modules"), Node(p.modules.map(moduleNode))))
            }
            if let hb = p.heartbeat {
                var hbPairs: [(Node, Node)] = [
                    (Node("passphrase"), text(hb.passphrase)),
                    (Node("interval"), Node(String(hb.interval), Tag(.int))),
                ]
                if !hb.servers.isEmpty {
                    hbPairs.append((Node("servers"), Node(hb.servers.map { server in
                        Node([(Node("host"), text(server.host)), (Node("port"), Node(String(server.port), Tag(.int)))])
                    })))
                }
                pairs.append((Node("heartbeat"), Node(hbPairs)))
            }
            sas.append(Node(pairs))
        }
        let root = Node([
            (Node("version"), Node(String(formatVersion), Tag(.int))),
            (Node("sas"), Node(sas, Tag(.seq), sas.isEmpty ? .flow : .block)),
        ])
        do {
            let body = try Yams.serialize(node: root, indent: 2, width: -1, allowUnicode: true)
            return "# WarpLinkMock fleet file (docs/fleet-file.md)\n" + body
        } catch {
            throw .yaml(String(describing: error))
        }
    }

    /// Why profiles could not be written.
    public enum EncodeError: Error, Equatable, Sendable, CustomStringConvertible {
        case invalidProfile(index: Int, ProfileIssue)
        case duplicate(DistributionID)
        case yaml(String)

        public var description: String {
            switch self {
            case .invalidProfile(let k, let issue): return "sas[\(k)].\(issue)"
            case .duplicate(let id): return "\(id) is listed twice"
            case .yaml(let s): return "cannot write YAML: \(s)"
            }
        }
    }

    private static func moduleNode(_ m: ModuleProfile) -> Node {
        var pairs: [(Node, Node)] = [(Node("id"), Node(String(m.id), Tag(.int)))]
        if let v = m.version { pairs.append((Node("version"), text(v))) }
        if !m.info.isEmpty { pairs.append((Node("info"), text(m.info))) }
        if m.base64 {
            let encoded = Base64.encodeToString(Array(m.config.utf8))
            var lines: [Substring] = []
            var rest = Substring(encoded)
            while !rest.isEmpty {
                lines.append(rest.prefix(76))
                rest = rest.dropFirst(76)
            }
            let value = lines.count > 1 ? Node(lines.joined(separator: "\n") + "\n", Tag(.str), .literal) : text(encoded)
            pairs.append((Node("config-base64"), value))
        } else if !m.config.isEmpty {
            pairs.append((Node("config"), m.config.contains("\n") ? Node(m.config, Tag(.str), .literal) : text(m.config)))
        }
        return Node(pairs)
    }

    /// A string scalar, quoted when YAML would otherwise read it as a number, boolean, null, …
    private static func text(_ s: String) -> Node {
        let plainTag = Resolver.default.resolveTag(of: Node(s))
        return Node(s, Tag(.str), plainTag == .str && !s.isEmpty ? .any : .singleQuoted)
    }
}

/// The fleet file's format: also read by scenarios, which embed SAs in the same form.
extension YAMLWalker {
    func fleet(_ root: Node) throws(YAMLLoadError) -> [SAProfile] {
        let top = try mapping(root, "", allowed: ["version", "sas"])
        guard let (_, v) = top["version"] else { throw fail(root, "version", "missing (required; write `version: \(FleetFile.formatVersion)`)") }
        let versionText = try optionalString(v, "version") ?? ""
        guard versionText == String(FleetFile.formatVersion) else {
            throw fail(v, "version", "unsupported version \"\(versionText)\" (this warplink-mock reads version \(FleetFile.formatVersion))")
        }
        guard let (_, sasNode) = top["sas"] else { throw fail(root, "sas", "missing (required; `sas: []` for none)") }
        let items = try sequence(sasNode, "sas")
        if items.count > FleetFile.maxSAs {
            throw fail(sasNode, "sas", "\(items.count) SAs, at most \(FleetFile.maxSAs) allowed")
        }
        var seen: [DistributionID: Int] = [:]
        var out: [SAProfile] = []
        out.reserveCapacity(items.count)
        for (k, item) in items.enumerated() {
            let path = "sas[\(k)]"
            let profile = try saProfile(item, path)
            if let first = seen[profile.distributionID] {
                throw fail(item, path + ".distribution-id",
                           "\(profile.distributionID) is listed twice (also sas[\(first)], line \(items[first].mark?.line ?? 0))")
            }
            seen[profile.distributionID] = k
            out.append(profile)
        }
        return out
    }

    public func saProfile(_ node: Node, _ path: String) throws(YAMLLoadError) -> SAProfile {
        let e = try mapping(node, path, allowed: ["distribution-id", "ls-key", "rs-key", "label", "modules", "heartbeat"])
        let idText = try string(e, "distribution-id", in: path, at: node)
        let id: DistributionID
        do { id = try DistributionID(parsing: idText) } catch {
            throw fail(e["distribution-id"]?.value, path + ".distribution-id", "\"\(idText)\": \(error)")
        }
        let lsKey = try string(e, "ls-key", in: path, at: node)
        if let p = ProfileRules.keyProblem(lsKey) { throw fail(e["ls-key"]?.value, path + ".ls-key", p) }
        let rsKey = try string(e, "rs-key", in: path, at: node)
        if let p = ProfileRules.keyProblem(rsKey) { throw fail(e["rs-key"]?.value, path + ".rs-key", p) }
        var label: String?
        if let (_, v) = e["label"] {
            label = try optionalString(v, path + ".label")
            if let label, let p = ProfileRules.labelProblem(label) { throw fail(v, path + ".label", p) }
        }
        var modules: [ModuleProfile] = []
        if let (_, v) = e["modules"] {
            let items = try sequence(v, path + ".modules")
            if items.count > ProfileRules.maxModules {
                throw fail(v, path + ".modules", "\(items.count) modules, at most \(ProfileRules.maxModules) allowed")
            }
            var seen: [UInt32: Int] = [:]
            for (k, item) in items.enumerated() {
                let mp = path + ".modules[\(k)]"
                let m = try module(item, mp)
                if let first = seen[m.id] {
                    throw fail(item, mp + ".id", "module \(m.id) is listed twice (also modules[\(first)])")
                }
                seen[m.id] = k
                modules.append(m)
            }
        }
        var heartbeat: HeartbeatProfile?
        if let (_, v) = e["heartbeat"], !isNull(v) {
            heartbeat = try self.heartbeat(v, path + ".heartbeat")
        }
        return SAProfile(distributionID: id, lsKey: lsKey, rsKey: rsKey, label: label, modules: modules, heartbeat: heartbeat)
    }

    /// `heartbeat:` of an SA: passphrase and interval required, servers optional (≤ 5).
    func heartbeat(_ node: Node, _ path: String) throws(YAMLLoadError) -> HeartbeatProfile {
        let e = try mapping(node, path, allowed: ["passphrase", "interval", "servers"])
        let passphrase = try string(e, "passphrase", in: path, at: node)
        if let p = ProfileRules.heartbeatPassphraseProblem(passphrase) { throw fail(e["passphrase"]?.value, path + ".passphrase", p) }
        let intervalText = try string(e, "interval", in: path, at: node)
        guard let interval = YAMLWalker.decimal(intervalText) else {
            throw fail(e["interval"]?.value, path + ".interval", "\"\(intervalText)\" is not a decimal number of seconds")
        }
        if let p = ProfileRules.heartbeatIntervalProblem(interval) { throw fail(e["interval"]?.value, path + ".interval", p) }
        var servers: [HeartbeatTarget] = []
        if let (_, v) = e["servers"] {
            let items = try sequence(v, path + ".servers")
            if items.count > HeartbeatProfile.maxServers {
                throw fail(v, path + ".servers",
                           "\(items.count) servers, at most \(HeartbeatProfile.maxServers) allowed (a sixth heartbeat-info makes libarms reboot)")
            }
            for (k, item) in items.enumerated() {
                let sp = path + ".servers[\(k)]"
                let s = try mapping(item, sp, allowed: ["host", "port"])
                let host = try string(s, "host", in: sp, at: item)
                if let p = ProfileRules.heartbeatHostProblem(host) { throw fail(s["host"]?.value, sp + ".host", p) }
                let portText = try string(s, "port", in: sp, at: item)
                guard let port = YAMLWalker.decimal(portText), ProfileRules.heartbeatPortProblem(port) == nil else {
                    throw fail(s["port"]?.value, sp + ".port", "\"\(portText)\" is not a port number from 0 to 65535")
                }
                servers.append(HeartbeatTarget(host: host, port: port))
            }
        }
        return HeartbeatProfile(passphrase: passphrase, interval: interval, servers: servers)
    }

    func module(_ node: Node, _ path: String) throws(YAMLLoadError) -> ModuleProfile {
        let e = try mapping(node, path, allowed: ["id", "version", "info", "config", "config-base64"])
        let idText = try string(e, "id", in: path, at: node)
        guard let id = ProfileRules.moduleID(idText) else {
            throw fail(e["id"]?.value, path + ".id", "\"\(idText)\" is not a decimal number from 0 to 4294967295")
        }
        var version: String?
        if let (_, v) = e["version"] {
            version = try optionalString(v, path + ".version")
            if let version, let p = ProfileRules.versionProblem(version) { throw fail(v, path + ".version", p) }
        }
        var info = ""
        if let (_, v) = e["info"] {
            info = try optionalString(v, path + ".info") ?? ""
            if let p = ProfileRules.infoProblem(info) { throw fail(v, path + ".info", p) }
        }
        var config = ""
        var base64 = false
        switch (e["config"], e["config-base64"]) {
        case (.some, .some(let b)):
            throw fail(b.key, path + ".config-base64", "give either config or config-base64, not both")
        case (.some(let c), nil):
            config = try optionalString(c.value, path + ".config") ?? ""
            if let p = ProfileRules.configProblem(config, base64: false) {
                throw fail(c.value, path + ".config", p.replacingOccurrences(of: "send it base64-encoded", with: "use config-base64"))
            }
        case (nil, .some(let b)):
            let text = try optionalString(b.value, path + ".config-base64") ?? ""
            let bytes: [UInt8]
            do { bytes = try Base64.decode(text) } catch { throw fail(b.value, path + ".config-base64", "\(error)") }
            guard let decoded = String(validating: bytes, as: UTF8.self) else {
                throw fail(b.value, path + ".config-base64", "decodes to bytes that are not UTF-8 text (binary configs are not supported)")
            }
            if let p = ProfileRules.configProblem(decoded, base64: true) { throw fail(b.value, path + ".config-base64", p) }
            config = decoded
            base64 = true
        case (nil, nil):
            break
        }
        return ModuleProfile(id: id, version: version, info: info, config: config, base64: base64)
    }
}
