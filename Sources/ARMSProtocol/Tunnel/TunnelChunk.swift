/// One chunk extension of a tunnel chunk header (tunnel.md §4.1).
///
/// Tokens are matched exactly (case-sensitive); anything unrecognised is kept
/// verbatim as `.other` so a parsed header re-encodes to the same bytes.
public enum TunnelChunkExtension: Hashable, Sendable {
    /// `id=<decimal>`: the message this chunk belongs to. libarms treats id 0 as "no id".
    case id(UInt32)
    /// `trail`: the last chunk of a message.
    case trail
    /// `echo-request`: the SA's keep-alive probe.
    case echoRequest
    /// `echo-response`: a keep-alive reply.
    case echoResponse
    /// `echo`: also a keep-alive reply (libarms accepts it like `echo-response`).
    case echo
    /// Any other token, kept but without meaning.
    case other(String)

    /// The token as written on the wire (without the leading `;`).
    public var token: String {
        switch self {
        case .id(let n): return "id=\(n)"
        case .trail: return "trail"
        case .echoRequest: return "echo-request"
        case .echoResponse: return "echo-response"
        case .echo: return "echo"
        case .other(let s): return s
        }
    }

    /// Reads one token; `id=` with anything but 1 or more decimal digits fitting
    /// `UInt32` is an error.
    init(token bytes: ArraySlice<UInt8>) throws(TunnelFramingError) {
        let idPrefix = Array("id=".utf8)
        if bytes.starts(with: idPrefix) {
            let digits = bytes.dropFirst(idPrefix.count)
            guard let v = ByteText.decimal(digits, limit: UInt64(UInt32.max)) else {
                throw .badID(ByteText.string(digits))
            }
            self = .id(UInt32(v))
            return
        }
        switch ByteText.string(bytes) {
        case "trail": self = .trail
        case "echo-request": self = .echoRequest
        case "echo-response": self = .echoResponse
        case "echo": self = .echo
        case let other: self = .other(other)
        }
    }
}

/// A chunk header line: `<hex-size>[;ext]...` (tunnel.md §4.1).
public struct TunnelChunkHeader: Hashable, Sendable {
    /// Number of data bytes that follow the header line.
    public var size: Int
    /// Extensions in wire order.
    public var extensions: [TunnelChunkExtension]

    public init(size: Int, extensions: [TunnelChunkExtension] = []) {
        precondition(size >= 0, "chunk size must not be negative")
        self.size = size
        self.extensions = extensions
    }

    /// Parses a header line without its CRLF.
    ///
    /// The size is one or more hex digits of either case (leading zeros
    /// allowed) and is followed by the end of the line or by `;`. No whitespace
    /// is allowed anywhere in the size. A size above `maxSize` is refused
    /// before anything else is read.
    public init(parsing line: some Collection<UInt8>, maxSize: Int = Int.max) throws(TunnelFramingError) {
        let bytes = ArraySlice(line)
        let sizeEnd = bytes.firstIndex(of: ByteText.semicolon) ?? bytes.endIndex
        let digits = bytes[..<sizeEnd]
        guard !digits.isEmpty else { throw .badChunkSize(ByteText.string(digits)) }
        var size = 0
        var tooLarge = false
        for d in digits {
            guard let v = ByteText.hexValue(d) else { throw .badChunkSize(ByteText.string(digits)) }
            if !tooLarge {
                let (m, o) = size.multipliedReportingOverflow(by: 16)
                if o || m + v > maxSize { tooLarge = true } else { size = m + v }
            }
        }
        if tooLarge { throw .chunkTooLarge(size: ByteText.string(digits), limit: maxSize) }
        var extensions = [TunnelChunkExtension]()
        if sizeEnd < bytes.endIndex {
            for token in bytes[(sizeEnd + 1)...].split(separator: ByteText.semicolon, omittingEmptySubsequences: false) {
                extensions.append(try TunnelChunkExtension(token: token))
            }
        }
        self.init(size: size, extensions: extensions)
    }

    /// The first `id=` value, if any.
    public var id: UInt32? {
        for case .id(let n) in extensions { return n }
        return nil
    }

    /// Carries `trail`.
    public var isTrail: Bool { extensions.contains(.trail) }

    /// Carries `echo-request` (a keep-alive probe from the SA).
    public var isEchoRequest: Bool { extensions.contains(.echoRequest) }

    /// Carries `echo-response` or `echo` (a keep-alive reply; libarms accepts both).
    public var isEchoReply: Bool { extensions.contains(.echoResponse) || extensions.contains(.echo) }

    /// The header line with its CRLF: size in lower-case hex without leading
    /// zeros, then `;token` per extension in order.
    public func encoded() -> [UInt8] {
        var out = Array(String(size, radix: 16).utf8)
        for e in extensions {
            out.append(ByteText.semicolon)
            out += ByteText.bytes(e.token)
        }
        out += ByteText.crlf
        return out
    }
}

/// A chunk with its data. The header's size always equals `data.count`.
public struct TunnelChunk: Hashable, Sendable {
    public let header: TunnelChunkHeader
    public let data: [UInt8]

    /// A chunk carrying `data` with these extensions.
    public init(data: [UInt8], extensions: [TunnelChunkExtension] = []) {
        self.header = TunnelChunkHeader(size: data.count, extensions: extensions)
        self.data = data
    }

    /// Header line, data and CRLF. A chunk with no data encodes as a last chunk
    /// (`0[;ext]\r\n\r\n`), which ends the stream whatever its extensions.
    public func encoded() -> [UInt8] {
        header.encoded() + data + ByteText.crlf
    }
}
