/// Opening a tunnel: the SA's request head and the RS's response head
/// (tunnel.md §3.2, §3.3, §12), and the checks each side makes.
public enum TunnelHandshake: Sendable {
    /// The SA's request head: `HTTPClientRequest.chunkedPostHead`, nothing after it.
    public static func openRequest(path: String, host: String, port: Int, credentials: BasicCredentials) -> [UInt8] {
        HTTPClientRequest.chunkedPostHead(path: path, host: host, port: port, credentials: credentials)
    }

    /// The recommended RS response head (71 bytes), to be sent in **one** write:
    /// `HTTP/1.1 200 OK`, `Content-Type: text/xml`, `Transfer-Encoding: chunked`, empty line.
    public static let openResponse: [UInt8] = HTTPResponseHead(version: .http11, status: .ok, headers: [
        "Content-Type": "text/xml",
        "Transfer-Encoding": "chunked",
    ]).encoded()

    /// RS side: checks a request head read with `HTTPRequestParser(readsBody: false)`
    /// and returns its credentials for the caller to verify. Requires the method
    /// `POST`, a `Transfer-Encoding` containing `chunked` (any case) and Basic
    /// credentials. `Host` and `Connection` are not looked at.
    public static func checkOpenRequest(_ head: HTTPRequestHead) throws(TunnelHandshakeError) -> BasicCredentials {
        guard head.method == "POST" else { throw .notPOST(head.method) }
        guard head.headers.values(for: "Transfer-Encoding").contains(where: {
            ByteText.firstRange(of: Array("chunked".utf8), in: ByteText.bytes($0).map(ByteText.lowercased)) != nil
        }) else { throw .notChunked }
        guard let authorization = head.headers["Authorization"] else { throw .missingAuthorization }
        do throws(BasicAuthError) {
            return try BasicCredentials(parsingHeaderValue: authorization)
        } catch {
            throw .badAuthorization(error)
        }
    }

    /// SA side: checks a response head read with
    /// `HTTPResponseParser(bodyEnd: .none)` as libarms does: the status line must
    /// be `HTTP/1.1` with status 200; nothing else is examined. The parser's
    /// `unconsumed` bytes are the start of the chunk stream.
    public static func checkOpenResponse(_ head: HTTPResponseHead) throws(TunnelHandshakeError) {
        guard head.version == .http11 else { throw .notHTTP11(head.version) }
        guard head.status.code == 200 else { throw .status(head.status.code) }
    }
}

/// Why a tunnel could not be opened.
public enum TunnelHandshakeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The request method is not `POST`.
    case notPOST(String)
    /// The request is not `Transfer-Encoding: chunked`.
    case notChunked
    /// The request has no `Authorization` header.
    case missingAuthorization
    /// The `Authorization` header is not usable Basic credentials.
    case badAuthorization(BasicAuthError)
    /// The response is not HTTP/1.1 (libarms logs `http response (-1)`).
    case notHTTP11(HTTPVersion)
    /// The response status is not 200 (libarms logs `http response (<code>)`).
    case status(Int)

    public var description: String {
        switch self {
        case .notPOST(let m): return "tunnel open: method \(m), not POST"
        case .notChunked: return "tunnel open: request body not chunked"
        case .missingAuthorization: return "tunnel open: no Authorization"
        case .badAuthorization(let e): return "tunnel open: \(e)"
        case .notHTTP11(let v): return "tunnel open: response is \(v), not HTTP/1.1"
        case .status(let c): return "tunnel open: http response (\(c))"
        }
    }
}
