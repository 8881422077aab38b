/// Bounds for the HTTP parsers. Every limit, when exceeded, is a typed error.
public struct HTTPLimits: Equatable, Sendable {
    /// Longest line of the head (start line or header line), in bytes
    /// **including** its LF or CRLF ending; also the longest chunk-size line
    /// of a chunked body (there without its CRLF).
    public var maxLineLength: Int
    /// Longest head (start line, header lines and the empty line).
    public var maxHeadLength: Int
    /// Longest body (after de-chunking).
    public var maxBodyLength: Int

    public init(maxLineLength: Int = 8192, maxHeadLength: Int = 65536, maxBodyLength: Int = 1 << 20) {
        precondition(maxLineLength > 0 && maxHeadLength > 0 && maxBodyLength >= 0, "limits must be positive")
        self.maxLineLength = maxLineLength
        self.maxHeadLength = maxHeadLength
        self.maxBodyLength = maxBodyLength
    }

    /// Lenient server defaults: 8 KiB lines, 64 KiB heads, 1 MiB bodies.
    public static let server = HTTPLimits()

    /// What a libarms client accepts in a response: header lines of at most
    /// 1023 bytes including the line ending (pull.md §2.6, push.md §2.6).
    public static let libarmsClient = HTTPLimits(maxLineLength: 1023)
}

/// Why bytes could not be read as an HTTP request or response.
public enum HTTPParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The request line is not `METHOD SP target SP HTTP/d.d`.
    case malformedRequestLine(String)
    /// The status line is not `HTTP/d.d SP code [SP reason]` (or the head does not start with it).
    case malformedStatusLine(String)
    /// A request header line is not `name: value` with a token name.
    case malformedHeaderLine(String)
    /// A head line is longer than the limit.
    case lineTooLong(limit: Int)
    /// The head is longer than the limit.
    case headTooLong(limit: Int)
    /// The body is (or announces to be) longer than the limit.
    case bodyTooLong(limit: Int)
    /// `Content-Length` is not a decimal number, or two of them differ.
    case badContentLength(String)
    /// The body end policy is "by Content-Length" but the response has none and is not chunked.
    case missingContentLength
    /// The request has both `Transfer-Encoding` and `Content-Length`.
    case conflictingFraming
    /// A `Transfer-Encoding` other than exactly `chunked`.
    case unsupportedTransferEncoding(String)
    /// The chunked body is malformed.
    case badChunk(TunnelFramingError)
    /// The connection closed before the message was complete.
    case truncated

    /// A limit was exceeded (line, head or body): "too large" rather than "malformed".
    public var exceedsLimit: Bool {
        switch self {
        case .lineTooLong, .headTooLong, .bodyTooLong: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .malformedRequestLine(let l): return "HTTP: malformed request line \"\(l)\""
        case .malformedStatusLine(let l): return "HTTP: malformed status line \"\(l)\""
        case .malformedHeaderLine(let l): return "HTTP: malformed header line \"\(l)\""
        case .lineTooLong(let n): return "HTTP: head line longer than \(n) bytes"
        case .headTooLong(let n): return "HTTP: head longer than \(n) bytes"
        case .bodyTooLong(let n): return "HTTP: body longer than \(n) bytes"
        case .badContentLength(let v): return "HTTP: bad Content-Length \"\(v)\""
        case .missingContentLength: return "HTTP: response without Content-Length"
        case .conflictingFraming: return "HTTP: both Transfer-Encoding and Content-Length"
        case .unsupportedTransferEncoding(let v): return "HTTP: unsupported Transfer-Encoding \"\(v)\""
        case .badChunk(let e): return "HTTP: chunked body: \(e)"
        case .truncated: return "HTTP: connection closed before the end of the message"
        }
    }
}

/// Shared machinery of the two parsers: bounded head lines.
struct HeadLineReader: Sendable {
    let limits: HTTPLimits
    private var line: [UInt8] = []
    private(set) var headLength = 0

    init(limits: HTTPLimits) {
        self.limits = limits
    }

    /// Reads up to and including the next LF. Returns the whole line with its
    /// ending, or nil when the input ran out first. Limits are checked byte by
    /// byte so the outcome does not depend on how the input was split.
    mutating func nextLine(_ input: [UInt8], _ position: inout Int) throws(HTTPParseError) -> [UInt8]? {
        while position < input.count {
            let b = input[position]
            position += 1
            line.append(b)
            headLength += 1
            if headLength > limits.maxHeadLength { throw .headTooLong(limit: limits.maxHeadLength) }
            if line.count > limits.maxLineLength { throw .lineTooLong(limit: limits.maxLineLength) }
            if b == ByteText.lf {
                defer { line.removeAll(keepingCapacity: true) }
                return line
            }
        }
        return nil
    }

    /// The line without its LF or CRLF ending.
    static func content(_ line: [UInt8]) -> ArraySlice<UInt8> {
        var s = line[...]
        if s.last == ByteText.lf { s.removeLast() }
        if s.last == ByteText.cr { s.removeLast() }
        return s
    }

    /// `HTTP/<digits>.<digits>` exactly.
    static func version(_ bytes: ArraySlice<UInt8>) -> HTTPVersion? {
        let prefix = Array("HTTP/".utf8)
        guard bytes.starts(with: prefix) else { return nil }
        let rest = bytes.dropFirst(prefix.count)
        guard let dot = rest.firstIndex(of: UInt8(ascii: ".")),
              let major = ByteText.decimal(rest[..<dot], limit: 99),
              let minor = ByteText.decimal(rest[(dot + 1)...], limit: 99)
        else { return nil }
        return HTTPVersion(major: Int(major), minor: Int(minor))
    }

    /// Reads `Content-Length` fields: all must be the same decimal number.
    static func contentLength(_ headers: HTTPHeaders) throws(HTTPParseError) -> Int? {
        let values = headers.values(for: "Content-Length")
        guard let first = values.first else { return nil }
        guard let n = ByteText.decimal(Array(first.utf8), limit: UInt64(Int.max)),
              values.allSatisfy({ $0 == first })
        else { throw .badContentLength(values.joined(separator: ", ")) }
        return Int(n)
    }
}

/// De-chunks an HTTP body with the tunnel chunk decoder (extensions are read and ignored).
struct ChunkedBody: Sendable {
    private var decoder: TunnelChunkDecoder
    private let maxBodyLength: Int

    init(limits: HTTPLimits) {
        // The size line limit excludes CRLF here; the head limit includes it.
        decoder = TunnelChunkDecoder(options: .init(maxHeaderLength: limits.maxLineLength,
                                                    maxChunkSize: max(1, limits.maxBodyLength)))
        maxBodyLength = limits.maxBodyLength
    }

    mutating func feed(_ bytes: ArraySlice<UInt8>) {
        decoder.feed(bytes)
    }

    /// Appends the next decoded chunk to `body`; true at the last chunk, false
    /// when it appended a chunk, nil when more bytes are needed.
    mutating func next(into body: inout [UInt8]) throws(HTTPParseError) -> Bool? {
        let event: TunnelChunkDecoder.Event?
        do throws(TunnelFramingError) {
            event = try decoder.next()
        } catch {
            if case .chunkTooLarge = error { throw .bodyTooLong(limit: maxBodyLength) }
            throw .badChunk(error)
        }
        switch event {
        case nil:
            return nil
        case .endOfStream:
            return true
        case .chunk(let chunk):
            guard body.count + chunk.data.count <= maxBodyLength else { throw .bodyTooLong(limit: maxBodyLength) }
            body += chunk.data
            return false
        }
    }

    /// Bytes fed after the last chunk.
    mutating func takeRest() -> [UInt8] {
        decoder.takeUndecodedBytes()
    }
}
