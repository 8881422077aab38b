/// The exact request bytes a libarms 5.33 client (SA) writes.
///
/// `path` is always the URL path **without** its leading `/` (`arms.cgi` for
/// `https://192.0.2.1/arms.cgi`); the request line is `POST /<path>`, so an
/// empty path gives `POST /`. Query strings are passed through as they are.
public enum HTTPClientRequest: Sendable {
    /// LS and RS pulls and push-method-query (pull.md §2.4, push.md §2.6):
    ///
    ///     POST /<path> HTTP/1.0
    ///     Content-Type: text/xml
    ///     Content-Length: <body.count>
    ///     Authorization: Basic <base64(user:password)>
    ///
    ///     <body>
    ///
    /// CRLF line ends, no `Host`, nothing else.
    public static func post(path: String, credentials: BasicCredentials, body: [UInt8]) -> [UInt8] {
        let head = HTTPRequestHead(method: "POST", target: "/" + path, version: .http10, headers: [
            "Content-Type": "text/xml",
            "Content-Length": String(body.count),
            "Authorization": credentials.headerValue,
        ])
        return head.encoded() + body
    }

    /// The HTTP/1.1 chunked POST head, used by https-simple
    /// push-confirmation-start and X-done requests (push.md §2.6) and, byte for
    /// byte the same, to open a tunnel (tunnel.md §3.2):
    ///
    ///     POST /<path> HTTP/1.1
    ///     Host: <host>:<port>
    ///     Connection: close
    ///     Content-Type: text/xml
    ///     Transfer-Encoding: chunked
    ///     Authorization: Basic <base64(user:password)>
    ///
    /// `host` is the URL host; an IPv6 literal is written without brackets
    /// (brackets given here are removed). `port` is always written, 443 when
    /// the URL had none.
    public static func chunkedPostHead(path: String, host: String, port: Int, credentials: BasicCredentials) -> [UInt8] {
        var bareHost = Substring(host)
        if bareHost.hasPrefix("[") && bareHost.hasSuffix("]") {
            bareHost = bareHost.dropFirst().dropLast()
        }
        let head = HTTPRequestHead(method: "POST", target: "/" + path, version: .http11, headers: [
            "Host": "\(bareHost):\(port)",
            "Connection": "close",
            "Content-Type": "text/xml",
            "Transfer-Encoding": "chunked",
            "Authorization": credentials.headerValue,
        ])
        return head.encoded()
    }

    /// A complete https-simple request: `chunkedPostHead` followed by one chunk
    /// per non-empty body piece (`<hex>\r\n<piece>\r\n`, no extensions) and the
    /// last chunk `0\r\n\r\n`.
    public static func chunkedPost(path: String, host: String, port: Int, credentials: BasicCredentials,
                                   pieces: [[UInt8]]) -> [UInt8] {
        var out = chunkedPostHead(path: path, host: host, port: port, credentials: credentials)
        for piece in pieces where !piece.isEmpty {
            out += TunnelChunk(data: piece).encoded()
        }
        out += TunnelChunkEncoder.lastChunk
        return out
    }
}
