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
    public struct LoadError: Error, Equatable, Sendable, CustomStringConvertible {
        public var fileName: String
        /// 1-based; nil when the error is about the whole file (size, unreadable).
        public var line: Int?
        /// The key path, e.g. `sas[1].modules[0].id`; empty for syntax errors.
        public var key: String
        public var message: String

        public init(fileName: String, line: Int?, key: String, message: String) {
            self.fileName = fileName
            self.line = line
            self.key = key
            self.message = message
        }

        public var description: String {
            var s = fileName
            if let line { s += ":\(line)" }
            s += ": "
            if !key.isEmpty { s += key + ": " }
            return s + message
        }
    }

    // MARK: - Loading

    /// Reads and checks the fleet file at `path`; errors are labelled with `path` as given.
    public static func load(contentsOf path: String) throws(LoadError) -> [SAProfile] {
        let data: Data
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            if let size = (attributes[.size] as? NSNumber)?.intValue, size > maxSize {
                throw LoadError(fileName: path, line: nil, key: "", message: "file is \(size) bytes, at most \(maxSize) allowed")
            }
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch let error as LoadError {
            throw error
        } catch {
            throw LoadError(fileName: path, line: nil, key: "", message: "cannot read: \(readReason(error))")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw LoadError(fileName: path, line: nil, key: "", message: "not UTF-8 text")
        }
        return try parse(text, fileName: path)
    }

    /// Checks a fleet file's text; `fileName` only labels errors.
    public static func parse(_ text: String, fileName: String = "fleet.yaml") throws(LoadError) -> [SAProfile] {
        func fail(_ line: Int?, _ key: String, _ message: String) -> LoadError {
            LoadError(fileName: fileName, line: line, key: key, message: message)
        }
        let size = text.utf8.count
        guard size <= maxSize else { throw fail(nil, "", "file is \(size) bytes, at most \(maxSize) allowed") }
        if let (line, message) = DepthScanner.check(text, maxDepth: maxDepth) { throw fail(line, "", message) }

        // The parser owns the anchors; it must outlive the walk, which refuses them.
        let parser: Parser
        let root: Node?
        do {
            parser = try Parser(yaml: text)
            root = try parser.singleRoot()
        } catch let error as YamlError {
            var (line, message) = describe(error)
            if let line, let text = text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst(line - 1).first,
               text.prefix(while: { $0 == " " || $0 == "\t" }).contains("\t") {
                message += " (indent with spaces: YAML does not allow tabs there)"
            }
            throw fail(line, "", message)
        } catch {
            throw fail(nil, "", "YAML: \(error)")
        }
        return try withExtendedLifetime(parser) { () throws(LoadError) -> [SAProfile] in
            guard let root else { throw fail(1, "", "empty file; expected `version: \(formatVersion)` and `sas:`") }
            var walker = Walker(fileName: fileName)
            return try walker.fleet(root)
        }
    }

    /// Turns libYAML's error into a line and a message.
    private static func describe(_ error: YamlError) -> (Int?, String) {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let c = context.map { $0.text + " " } ?? ""
            return (mark.line, "YAML syntax: \(c)\(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return (context.mark.line > 0 ? context.mark.line : nil,
                    "duplicate key \(duplicates.map { "\"\($0)\"" }.joined(separator: ", "))")
        case .reader(let problem, _, _, _):
            return (nil, "YAML: \(problem)")
        default:
            return (nil, "YAML: \(error)")
        }
    }

    private static func readReason(_ error: any Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
           let code = POSIXErrorCode(rawValue: Int32(underlying.code)) {
            return String(cString: strerror(code.rawValue))
        }
        if ns.domain == NSCocoaErrorDomain && ns.code == NSFileReadNoSuchFileError { return "no such file" }
        if ns.domain == NSCocoaErrorDomain && ns.code == NSFileNoSuchFileError { return "no such file" }
        return ns.localizedDescription
    }

    /// Walks the composed document and builds the profiles.
    private struct Walker {
        let fileName: String

        func fail(_ node: Node?, _ key: String, _ message: String) -> LoadError {
            LoadError(fileName: fileName, line: node?.mark?.line, key: key, message: message)
        }

        /// The entries of a mapping with only `allowed` keys, as (key node, value node) by name.
        func mapping(_ node: Node, _ path: String, allowed: [String]) throws(LoadError) -> [String: (key: Node, value: Node)] {
            try plain(node, path)
            guard case .mapping(let m) = node else { throw fail(node, path, "expected a mapping (key: value lines), found \(kind(node))") }
            var out: [String: (key: Node, value: Node)] = [:]
            for (k, v) in m {
                try plain(k, path)
                guard case .scalar(let s) = k else { throw fail(k, path, "keys must be plain words") }
                let name = s.string
                let at = path.isEmpty ? name : path + "." + name
                guard allowed.contains(name) else {
                    throw fail(k, at, "unknown key (expected one of: \(allowed.joined(separator: ", ")))")
                }
                out[name] = (k, v)
            }
            return out
        }

        /// Refuses anchored (and therefore aliased) nodes.
        func plain(_ node: Node, _ path: String) throws(LoadError) {
            if node.anchor != nil { throw fail(node, path, "anchors and aliases (&, *) are not supported") }
        }

        func kind(_ node: Node) -> String {
            switch node {
            case .scalar(let s): return isNull(node) ? "an empty value" : "\"\(s.string.prefix(40))\""
            case .mapping: return "a mapping"
            case .sequence: return "a list"
            case .alias: return "an alias"
            }
        }

        func isNull(_ node: Node) -> Bool {
            if case .scalar(let s) = node, s.style == .plain || s.style == .any, node.tag.rawValue == Tag.Name.null.rawValue { return true }
            return false
        }

        /// A scalar's text as written; nil for an empty / null value.
        func optionalString(_ node: Node, _ path: String) throws(LoadError) -> String? {
            try plain(node, path)
            if isNull(node) { return nil }
            guard case .scalar(let s) = node else { throw fail(node, path, "expected a text value, found \(kind(node))") }
            return s.string
        }

        func string(_ entries: [String: (key: Node, value: Node)], _ name: String, in path: String, at node: Node) throws(LoadError) -> String {
            let at = path.isEmpty ? name : path + "." + name
            guard let (_, v) = entries[name] else { throw fail(node, at, "missing (required)") }
            guard let s = try optionalString(v, at) else { throw fail(v, at, "missing value (quote it if it really is \"\(scalarText(v))\")") }
            return s
        }

        func scalarText(_ node: Node) -> String {
            if case .scalar(let s) = node { return s.string }
            return ""
        }

        func sequence(_ node: Node, _ path: String) throws(LoadError) -> [Node] {
            try plain(node, path)
            if isNull(node) { return [] }
            guard case .sequence(let s) = node else { throw fail(node, path, "expected a list (lines starting with \"- \"), found \(kind(node))") }
            return Array(s)
        }

        mutating func fleet(_ root: Node) throws(LoadError) -> [SAProfile] {
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
                let profile = try sa(item, path)
                if let first = seen[profile.distributionID] {
                    throw fail(item, path + ".distribution-id",
                               "\(profile.distributionID) is listed twice (also sas[\(first)], line \(items[first].mark?.line ?? 0))")
                }
                seen[profile.distributionID] = k
                out.append(profile)
            }
            return out
        }

        func sa(_ node: Node, _ path: String) throws(LoadError) -> SAProfile {
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
        func heartbeat(_ node: Node, _ path: String) throws(LoadError) -> HeartbeatProfile {
            let e = try mapping(node, path, allowed: ["passphrase", "interval", "servers"])
            let passphrase = try string(e, "passphrase", in: path, at: node)
            if let p = ProfileRules.heartbeatPassphraseProblem(passphrase) { throw fail(e["passphrase"]?.value, path + ".passphrase", p) }
            let intervalText = try string(e, "interval", in: path, at: node)
            guard let interval = Self.decimal(intervalText) else {
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
                    guard let port = Self.decimal(portText), ProfileRules.heartbeatPortProblem(port) == nil else {
                        throw fail(s["port"]?.value, sp + ".port", "\"\(portText)\" is not a port number from 0 to 65535")
                    }
                    servers.append(HeartbeatTarget(host: host, port: port))
                }
            }
            return HeartbeatProfile(passphrase: passphrase, interval: interval, servers: servers)
        }

        /// Plain decimal digits (at most 9), else nil.
        static func decimal(_ text: String) -> Int? {
            let b = Array(text.utf8)
            guard !b.isEmpty, b.count <= 9, b.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
            return Int(text)
        }

        func module(_ node: Node, _ path: String) throws(LoadError) -> ModuleProfile {
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

/// An upper bound on YAML nesting, found without building the tree (whose construction
/// recurses once per level): flow brackets outside quotes, comments and block scalars, and
/// block indentation. Deliberately simple; only its bound matters.
enum DepthScanner {
    /// The line and message of the first place nested deeper than `maxDepth`, else nil.
    static func check(_ text: String, maxDepth: Int) -> (Int, String)? {
        var flow = 0
        var quote: UInt8? = nil          // ' or " while inside a quoted scalar
        var blockScalarIndent: Int? = nil // parent indentation while inside a block scalar
        var lineNumber = 0
        for rawLine in text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = Array(rawLine)
            let indent = line.prefix(while: { $0 == 0x20 }).count
            let blank = line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
            if let parent = blockScalarIndent {
                if blank || indent > parent { continue }
                blockScalarIndent = nil
            }
            if quote == nil && flow == 0 && !blank {
                // Block nesting needs indentation; "- - -" nests without new lines.
                var column = indent
                while column + 1 < line.count, line[column] == 0x2D, line[column + 1] == 0x20 { column += 2 }
                if column > maxDepth * 8 { return (lineNumber, "indented too deeply (\(column) columns)") }
            }
            var previous: UInt8? = nil   // last non-blank byte on this line outside quotes
            var lastBlank = true         // the byte before is a blank (or line start)
            var i = 0
            var lastToken: ArraySlice<UInt8> = []
            var tokenStart = 0
            while i < line.count {
                let c = line[i]
                if let q = quote {
                    if q == 0x22 && c == 0x5C { i += 2; continue }   // \x in "…"
                    if c == q {
                        if q == 0x27 && i + 1 < line.count && line[i + 1] == 0x27 { i += 2; continue } // '' in '…'
                        quote = nil
                        previous = c
                        lastBlank = false
                    }
                    i += 1
                    continue
                }
                let atTokenStart = previous == nil || previous == 0x2C || previous == 0x5B || previous == 0x7B
                    || ((previous == 0x3A || previous == 0x2D || previous == 0x3F) && lastBlank)
                if c == 0x20 || c == 0x09 || c == 0x0D {
                    lastBlank = true
                    i += 1
                    continue
                }
                if c == 0x23 && lastBlank { break }   // a comment ends the line
                if (c == 0x27 || c == 0x22) && atTokenStart {
                    quote = c
                } else if (c == 0x5B || c == 0x7B) && (atTokenStart || flow > 0) {
                    flow += 1
                    if flow > maxDepth { return (lineNumber, "nested deeper than \(maxDepth) levels") }
                } else if (c == 0x5D || c == 0x7D) && flow > 0 {
                    flow -= 1
                }
                if lastBlank { tokenStart = i }
                lastToken = line[tokenStart...i]
                previous = c
                lastBlank = false
                i += 1
            }
            // A block scalar header (`|`, `>-`, `|2+`, …) ends the line: its content follows.
            if quote == nil, flow == 0, let first = lastToken.first, first == 0x7C || first == 0x3E, lastToken.count <= 3,
               lastToken.dropFirst().allSatisfy({ $0 == 0x2B || $0 == 0x2D || ($0 >= 0x31 && $0 <= 0x39) }) {
                blockScalarIndent = indent
            }
        }
        return nil
    }
}
