/// Incremental, bounded parser for one HTTP response, reading the head the way
/// a libarms client does (pull.md §2.6, push.md §2.6):
///
/// * the status line `HTTP/d.d SP code [SP reason]` must be the very first line;
/// * head lines end in LF or CRLF and are at most `limits.maxLineLength` bytes
///   (libarms: 1023) including the ending;
/// * the head ends only at a line that is exactly CRLF; a bare-LF empty line is
///   just another (ignored) header line, as in libarms;
/// * header lines without a colon are ignored; the body is chunked only when a
///   line starts with `Transfer-Encoding` (exact case) and contains `chunked`.
///
/// Where the body ends is the caller's choice (`BodyEnd`). A chunked body is
/// de-chunked properly (libarms' own decoder only copes with one chunk; being
/// more tolerant here is deliberate).
///
/// `feed(_:)` returns the response once complete (and on every later call);
/// bytes after it are kept in `unconsumed`. Call `finish()` when the
/// connection closes. Results and errors do not depend on how the input was
/// split. Errors are final.
public struct HTTPResponseParser: Sendable {
    /// Where the body ends.
    public enum BodyEnd: Equatable, Sendable {
        /// After `Content-Length` bytes (a response with neither `Content-Length`
        /// nor chunking is an error); a chunked body ends at its last chunk.
        case contentLength
        /// Right after the first `</arms-message>`, as libarms does;
        /// Content-Length is ignored. Bytes after the tag go to `unconsumed`;
        /// in a chunked body the rest of the chunk holding the tag is dropped
        /// and the raw bytes after that chunk go to `unconsumed`. A last chunk
        /// or a close before the tag is `.truncated`.
        case armsMessageEndTag
        /// At connection close (`finish()`); a chunked body ends at its last chunk.
        case connectionClose
        /// There is no body: the response is complete at the end of its head and
        /// every later byte goes to `unconsumed` (tunnel open response).
        case none
    }

    private enum State: Sendable {
        case statusLine
        case headers
        case raw(remaining: Int?)
        case chunked
        case complete
        case failed(HTTPParseError)
    }

    private static let endTag = Array("</arms-message>".utf8)
    private static let chunkedHeaderName = Array("Transfer-Encoding".utf8)
    private static let chunkedToken = Array("chunked".utf8)

    public let bodyEnd: BodyEnd
    public let limits: HTTPLimits

    private var state: State = .statusLine
    private var lines: HeadLineReader
    private var statusLine: (version: HTTPVersion, status: HTTPStatus)?
    private var headers = HTTPHeaders()
    private var isChunked = false
    private var chunkedBody: ChunkedBody?
    private var body: [UInt8] = []

    /// The head, available as soon as it has been read (e.g. to give up on a
    /// status >= 400 without waiting for the body).
    public private(set) var head: HTTPResponseHead?
    /// Bytes received after the end of the response.
    public private(set) var unconsumed: [UInt8] = []

    public init(bodyEnd: BodyEnd, limits: HTTPLimits = .libarmsClient) {
        self.bodyEnd = bodyEnd
        self.limits = limits
        self.lines = HeadLineReader(limits: limits)
    }

    /// The complete response, or nil while more bytes are needed.
    public var response: HTTPResponse? {
        guard case .complete = state, let head else { return nil }
        return HTTPResponse(head: head, body: body)
    }

    /// Consumes received bytes; returns the response once it is complete.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(HTTPParseError) -> HTTPResponse? {
        if case .failed(let e) = state { throw e }
        do throws(HTTPParseError) {
            try consume(Array(bytes))
        } catch {
            state = .failed(error)
            throw error
        }
        return response
    }

    /// The connection closed: returns the complete response (ending a
    /// close-delimited body here) or throws `.truncated` if it is incomplete.
    public mutating func finish() throws(HTTPParseError) -> HTTPResponse {
        switch state {
        case .failed(let e):
            throw e
        case .raw(remaining: nil) where bodyEnd == .connectionClose:
            state = .complete
        case .complete:
            break
        default:
            state = .failed(.truncated)
            throw .truncated
        }
        return response!
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
            case .statusLine, .headers:
                guard let line = try lines.nextLine(input, &position) else { return }
                try headLine(line)
            case .raw(let remaining):
                let available = input.count - position
                if let remaining {
                    let k = min(remaining, available)
                    body += input[position ..< position + k]
                    position += k
                    if k == remaining { state = .complete } else { state = .raw(remaining: remaining - k); return }
                } else {
                    let searchFrom = body.count - Self.endTag.count + 1
                    body += input[position...]
                    position = input.count
                    if try foundEndTag(searchFrom: searchFrom) { continue }
                    guard body.count <= limits.maxBodyLength else { throw .bodyTooLong(limit: limits.maxBodyLength) }
                    return
                }
            case .chunked:
                chunkedBody!.feed(input[position...])
                position = input.count
                while true {
                    let searchFrom = body.count - Self.endTag.count + 1
                    guard let last = try chunkedBody!.next(into: &body) else { return }
                    if last {
                        if bodyEnd == .armsMessageEndTag { throw .truncated }
                        unconsumed = chunkedBody!.takeRest()
                        chunkedBody = nil
                        state = .complete
                        break
                    }
                    if bodyEnd == .armsMessageEndTag, try foundEndTag(searchFrom: searchFrom) {
                        // Bytes after the tag inside that chunk are dropped; later raw bytes are kept.
                        unconsumed = chunkedBody!.takeRest()
                        chunkedBody = nil
                        break
                    }
                }
            }
        }
    }

    /// With `.armsMessageEndTag`: cuts the body after the tag and completes.
    private mutating func foundEndTag(searchFrom: Int) throws(HTTPParseError) -> Bool {
        guard bodyEnd == .armsMessageEndTag,
              let at = ByteText.firstRange(of: Self.endTag, in: body, from: searchFrom) else { return false }
        let end = at + Self.endTag.count
        guard end <= limits.maxBodyLength else { throw .bodyTooLong(limit: limits.maxBodyLength) }
        unconsumed += body[end...]
        body.removeSubrange(end...)
        state = .complete
        return true
    }

    private mutating func headLine(_ line: [UInt8]) throws(HTTPParseError) {
        let content = HeadLineReader.content(line)
        if case .statusLine = state {
            guard let parsed = Self.statusLine(content) else {
                throw .malformedStatusLine(ByteText.string(content))
            }
            statusLine = parsed
            state = .headers
            return
        }
        if line == ByteText.crlf { return try endOfHead() }
        if line.starts(with: Self.chunkedHeaderName),
           ByteText.firstRange(of: Self.chunkedToken, in: line) != nil {
            isChunked = true
        }
        if let colon = content.firstIndex(of: ByteText.colon), colon > content.startIndex,
           !content[..<colon].contains(where: { $0 == ByteText.space || $0 == ByteText.tab }) {
            headers.append(name: ByteText.string(content[..<colon]),
                           value: ByteText.string(ByteText.trimmed(content[(colon + 1)...])))
        }
    }

    private mutating func endOfHead() throws(HTTPParseError) {
        guard let statusLine else { return }
        head = HTTPResponseHead(version: statusLine.version, status: statusLine.status, headers: headers)
        switch bodyEnd {
        case .none:
            state = .complete
        case _ where isChunked:
            chunkedBody = ChunkedBody(limits: limits)
            state = .chunked
        case .contentLength:
            guard let length = try HeadLineReader.contentLength(headers) else { throw .missingContentLength }
            guard length <= limits.maxBodyLength else { throw .bodyTooLong(limit: limits.maxBodyLength) }
            state = length == 0 ? .complete : .raw(remaining: length)
        case .armsMessageEndTag, .connectionClose:
            state = .raw(remaining: nil)
        }
    }

    /// `HTTP/d.d`, one or more spaces, a decimal code, then the end or a space and the reason.
    private static func statusLine(_ content: ArraySlice<UInt8>) -> (HTTPVersion, HTTPStatus)? {
        guard let sp = content.firstIndex(of: ByteText.space),
              let version = HeadLineReader.version(content[..<sp]) else { return nil }
        var rest = content[sp...]
        while rest.first == ByteText.space { rest.removeFirst() }
        let codeEnd = rest.firstIndex(of: ByteText.space) ?? rest.endIndex
        guard let code = ByteText.decimal(rest[..<codeEnd], limit: 999) else { return nil }
        let reason = codeEnd < rest.endIndex ? rest[(codeEnd + 1)...] : []
        return (version, HTTPStatus(code: Int(code), reasonPhrase: ByteText.string(reason)))
    }
}
