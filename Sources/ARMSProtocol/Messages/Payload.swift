/// How a payload travels inside an element.
public enum PayloadEncoding: String, Sendable {
    /// Escaped text.
    case text
    /// Base64 with `encoding="base64"` on the element.
    case base64
}

/// Bytes carried as element content: configs, command text, status reports.
public struct Payload: Equatable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public var bytes: [UInt8]
    public var encoding: PayloadEncoding

    public init(bytes: [UInt8], encoding: PayloadEncoding = .text) {
        self.bytes = bytes
        self.encoding = encoding
    }

    public init(text: String) { self.init(bytes: Array(text.utf8)) }
    public init(stringLiteral value: String) { self.init(text: value) }

    /// The bytes as UTF-8 text (invalid sequences replaced).
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// The `encoding` attribute to write, if any.
    var encodingAttribute: [(String, String)] { encoding == .base64 ? [("encoding", "base64")] : [] }

    public var description: String { encoding == .base64 ? "base64(\(bytes.count) bytes)" : text }
}
