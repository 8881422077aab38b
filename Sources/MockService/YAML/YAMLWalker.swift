import Yams

/// Reads a composed YAML tree strictly: known keys only, no anchors, scalars as written,
/// every error with file, line and key path.
public struct YAMLWalker: Sendable {
    public let fileName: String

    public init(fileName: String) {
        self.fileName = fileName
    }

    /// A mapping's entries, by name.
    public typealias Entries = [String: (key: Node, value: Node)]

    public func fail(_ node: Node?, _ key: String, _ message: String) -> YAMLLoadError {
        YAMLLoadError(fileName: fileName, line: node?.mark?.line, key: key, message: message)
    }

    /// `path.name`, or `name` at the top.
    public func join(_ path: String, _ name: String) -> String { path.isEmpty ? name : path + "." + name }

    /// The entries of a mapping with only `allowed` keys, as (key node, value node) by name.
    public func mapping(_ node: Node, _ path: String, allowed: [String]) throws(YAMLLoadError) -> Entries {
        try plain(node, path)
        guard case .mapping(let m) = node else { throw fail(node, path, "expected a mapping (key: value lines), found \(kind(node))") }
        var out: Entries = [:]
        for (k, v) in m {
            try plain(k, path)
            guard case .scalar(let s) = k else { throw fail(k, path, "keys must be plain words") }
            let name = s.string
            guard allowed.contains(name) else {
                throw fail(k, join(path, name), "unknown key (expected one of: \(allowed.joined(separator: ", ")))")
            }
            out[name] = (k, v)
        }
        return out
    }

    /// Refuses anchored (and therefore aliased) nodes.
    public func plain(_ node: Node, _ path: String) throws(YAMLLoadError) {
        if node.anchor != nil { throw fail(node, path, "anchors and aliases (&, *) are not supported") }
    }

    public func kind(_ node: Node) -> String {
        switch node {
        case .scalar(let s): return isNull(node) ? "an empty value" : "\"\(s.string.prefix(40))\""
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }

    public func isNull(_ node: Node) -> Bool {
        if case .scalar(let s) = node, s.style == .plain || s.style == .any, node.tag.rawValue == Tag.Name.null.rawValue { return true }
        return false
    }

    /// A scalar's text as written; nil for an empty / null value.
    public func optionalString(_ node: Node, _ path: String) throws(YAMLLoadError) -> String? {
        try plain(node, path)
        if isNull(node) { return nil }
        guard case .scalar(let s) = node else { throw fail(node, path, "expected a text value, found \(kind(node))") }
        return s.string
    }

    /// A required text value.
    public func string(_ entries: Entries, _ name: String, in path: String, at node: Node) throws(YAMLLoadError) -> String {
        let at = join(path, name)
        guard let (_, v) = entries[name] else { throw fail(node, at, "missing (required)") }
        guard let s = try optionalString(v, at) else { throw fail(v, at, "missing value (quote it if it really is \"\(scalarText(v))\")") }
        return s
    }

    public func scalarText(_ node: Node) -> String {
        if case .scalar(let s) = node { return s.string }
        return ""
    }

    public func sequence(_ node: Node, _ path: String) throws(YAMLLoadError) -> [Node] {
        try plain(node, path)
        if isNull(node) { return [] }
        guard case .sequence(let s) = node else { throw fail(node, path, "expected a list (lines starting with \"- \"), found \(kind(node))") }
        return Array(s)
    }

    /// A list, or a single value standing for a list of one.
    public func oneOrMany(_ node: Node, _ path: String) throws(YAMLLoadError) -> [Node] {
        if case .sequence = node { return try sequence(node, path) }
        return [node]
    }

    /// Plain decimal digits (at most 9), else nil.
    public static func decimal(_ text: String) -> Int? {
        let b = Array(text.utf8)
        guard !b.isEmpty, b.count <= 9, b.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(text)
    }

    /// A whole number in `range`.
    public func integer(_ node: Node, _ path: String, in range: ClosedRange<Int>) throws(YAMLLoadError) -> Int {
        guard let text = try optionalString(node, path) else { throw fail(node, path, "missing value") }
        let negative = text.hasPrefix("-")
        guard let magnitude = Self.decimal(negative ? String(text.dropFirst()) : text) else {
            throw fail(node, path, "\"\(text)\" is not a whole number")
        }
        let value = negative ? -magnitude : magnitude
        guard range.contains(value) else { throw fail(node, path, "\(value) is out of range \(range.lowerBound)…\(range.upperBound)") }
        return value
    }

    /// A decimal number of seconds (`1`, `0.25`) in `range`.
    public func seconds(_ node: Node, _ path: String, in range: ClosedRange<Double>) throws(YAMLLoadError) -> Double {
        guard let text = try optionalString(node, path) else { throw fail(node, path, "missing value") }
        let allowed = text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E }
        guard allowed, text.utf8.count <= 12, let value = Double(text) else {
            throw fail(node, path, "\"\(text)\" is not a number of seconds")
        }
        guard range.contains(value) else { throw fail(node, path, "\(text) s is out of range \(range.lowerBound)…\(range.upperBound) s") }
        return value
    }

    /// `true` / `false` (also yes/no, on/off).
    public func bool(_ node: Node, _ path: String) throws(YAMLLoadError) -> Bool {
        switch try optionalString(node, path)?.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw fail(node, path, "expected true or false, found \(kind(node))")
        }
    }

    /// One of `choices`.
    public func choice(_ node: Node, _ path: String, _ choices: [String]) throws(YAMLLoadError) -> String {
        let text = try optionalString(node, path) ?? ""
        guard choices.contains(text) else { throw fail(node, path, "\"\(text)\" is not one of: \(choices.joined(separator: ", "))") }
        return text
    }
}
