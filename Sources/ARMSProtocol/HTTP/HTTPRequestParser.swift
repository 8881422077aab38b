/// Incremental, bounded parser for one HTTP request (server side: mock LS/RS,
/// the RS tunnel endpoint, the SA's https-simple listener).
///
/// * Request line `METHOD SP target SP HTTP/d.d`; lines end in CRLF or a bare
///   LF; the head ends at the first empty line.
/// * Header lines are `name: value` with a token name; anything else is an error.
/// * Body: de-chunked when `Transfer-Encoding` is `chunked` (any case), else
///   `Content-Length` bytes, else empty. Both together, or another transfer
///   coding, are errors.
///
/// `feed(_:)` returns the request once complete (and on every later call);
/// bytes after it are kept in `unconsumed`. The result, including any error,
/// is the same however the input was split. Errors are final.
public struct HTTPRequestParser: Sendable {
    private enum State: Sendable {
        case requestLine
        case headers
        case body(remaining: Int)
        case chunked
        case complete
        case failed(HTTPParseError)
    }

    public let limits: HTTPLimits
    /// When false the request is complete at the end of its head and every
    /// later byte goes to `unconsumed` (for the tunnel, whose chunked body
    /// never ends and is read with `TunnelMessageAssembler`).
    public let readsBody: Bool

    private var state: State = .requestLine
    private var lines: HeadLineReader
    private var requestLine: (method: String, target: String, version: HTTPVersion)?
    private var headers = HTTPHeaders()
    private var body: [UInt8] = []
    private var chunkedBody: ChunkedBody?

    /// The head, available as soon as it has been read (e.g. to check
    /// credentials before the body arrives).
    public private(set) var head: HTTPRequestHead?
    /// Bytes received after the end of the request.
    public private(set) var unconsumed: [UInt8] = []

    public init(limits: HTTPLimits = .server, readsBody: Bool = true) {
        self.limits = limits
        self.readsBody = readsBody
        self.lines = HeadLineReader(limits: limits)
    }

    /// The complete request, or nil while more bytes are needed.
    public var request: HTTPRequest? {
        guard case .complete = state, let head else { return nil }
        return HTTPRequest(head: head, body: body)
    }

    /// Consumes received bytes; returns the request once it is complete.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(HTTPParseError) -> HTTPRequest? {
        if case .failed(let e) = state { throw e }
        do throws(HTTPParseError) {
            try consume(Array(bytes))
        } catch {
            state = .failed(error)
            throw error
        }
        return request
    }

    private mutating func consume(_ input: [UInt8]) throws(HTTPParseError) {
        var position = 0
        while true {
            switch state {
            case .failed(let e):
                throw e
            case .complete:
                unconsumed += input[position...]
                return
            case .requestLine, .headers:
                guard let line = try lines.nextLine(input, &position) else { return }
                try headLine(line)
            case .body(let remaining):
                let k = min(remaining, input.count - position)
                body += input[position ..< position + k]
                position += k
                if remaining == k { state = .complete } else { state = .body(remaining: remaining - k); return }
            case .chunked:
                chunkedBody!.feed(input[position...])
                position = input.count
                while let last = try chunkedBody!.next(into: &body) {
                    if last {
                        unconsumed = chunkedBody!.takeRest()
                        chunkedBody = nil
                        state = .complete
                        return
                    }
                }
                return
            }
        }
    }

    private mutating func headLine(_ line: [UInt8]) throws(HTTPParseError) {
        let content = HeadLineReader.content(line)
        if case .requestLine = state {
            let parts = content.split(separator: ByteText.space, omittingEmptySubsequences: false)
            guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy(Self.isTokenByte),
                  !parts[1].isEmpty, let version = HeadLineReader.version(parts[2])
            else { throw .malformedRequestLine(ByteText.string(content)) }
            requestLine = (ByteText.string(parts[0]), ByteText.string(parts[1]), version)
            state = .headers
            return
        }
        guard !content.isEmpty else { return try endOfHead() }
        guard let colon = content.firstIndex(of: ByteText.colon),
              colon > content.startIndex, content[..<colon].allSatisfy(Self.isTokenByte)
        else { throw .malformedHeaderLine(ByteText.string(content)) }
        headers.append(name: ByteText.string(content[..<colon]),
                       value: ByteText.string(ByteText.trimmed(content[(colon + 1)...])))
    }

    private mutating func endOfHead() throws(HTTPParseError) {
        guard let requestLine else { return }
        head = HTTPRequestHead(method: requestLine.method, target: requestLine.target,
                               version: requestLine.version, headers: headers)
        guard readsBody else { state = .complete; return }
        let codings = headers.values(for: "Transfer-Encoding")
        let length = try HeadLineReader.contentLength(headers)
        if !codings.isEmpty {
            guard length == nil else { throw .conflictingFraming }
            guard codings.count == 1, ByteText.equalsIgnoringCase(codings[0], "chunked")
            else { throw .unsupportedTransferEncoding(codings.joined(separator: ", ")) }
            chunkedBody = ChunkedBody(limits: limits)
            state = .chunked
        } else if let length, length > 0 {
            guard length <= limits.maxBodyLength else { throw .bodyTooLong(limit: limits.maxBodyLength) }
            body.reserveCapacity(length)
            state = .body(remaining: length)
        } else {
            state = .complete
        }
    }

    /// RFC 9110 token characters.
    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(b)
        }
    }
}
