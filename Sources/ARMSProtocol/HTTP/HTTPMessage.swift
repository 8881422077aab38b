/// `HTTP/<major>.<minor>`.
public struct HTTPVersion: Hashable, Sendable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// HTTP/1.0: pulls, push-method-query, server responses, the https-simple listener.
    public static let http10 = HTTPVersion(major: 1, minor: 0)
    /// HTTP/1.1: chunked SA requests and tunnels.
    public static let http11 = HTTPVersion(major: 1, minor: 1)

    /// `HTTP/1.0` etc.
    public var description: String { "HTTP/\(major).\(minor)" }
}

/// A status code and its reason phrase.
public struct HTTPStatus: Hashable, Sendable, CustomStringConvertible {
    public var code: Int
    public var reasonPhrase: String

    public init(code: Int, reasonPhrase: String) {
        self.code = code
        self.reasonPhrase = reasonPhrase
    }

    public static let ok = HTTPStatus(code: 200, reasonPhrase: "OK")
    public static let badRequest = HTTPStatus(code: 400, reasonPhrase: "Bad Request")
    public static let unauthorized = HTTPStatus(code: 401, reasonPhrase: "Unauthorized")
    public static let notFound = HTTPStatus(code: 404, reasonPhrase: "Not Found")
    public static let methodNotAllowed = HTTPStatus(code: 405, reasonPhrase: "Method Not Allowed")
    public static let contentTooLarge = HTTPStatus(code: 413, reasonPhrase: "Content Too Large")
    public static let internalServerError = HTTPStatus(code: 500, reasonPhrase: "Internal Server Error")
    public static let serviceUnavailable = HTTPStatus(code: 503, reasonPhrase: "Service Unavailable")

    /// A status with its standard reason phrase (`Status N` for codes without one here).
    public init(code: Int) {
        let phrases = [200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
                       405: "Method Not Allowed", 413: "Content Too Large", 500: "Internal Server Error",
                       502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"]
        self.init(code: code, reasonPhrase: phrases[code] ?? "Status \(code)")
    }

    /// `200 OK` etc.
    public var description: String { "\(code) \(reasonPhrase)" }
}

/// Request line and header fields of an HTTP request.
public struct HTTPRequestHead: Equatable, Sendable {
    /// The method token as sent (`POST`).
    public var method: String
    /// The request target as sent (`/arms.cgi`).
    public var target: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders

    public init(method: String, target: String, version: HTTPVersion, headers: HTTPHeaders = HTTPHeaders()) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
    }

    /// The head on the wire: request line, `name: value` lines and the empty
    /// line, all ending in CRLF.
    public func encoded() -> [UInt8] {
        var out = ByteText.bytes("\(method) \(target) \(version)\r\n")
        appendFields(headers, to: &out)
        return out
    }
}

/// Status line and header fields of an HTTP response.
public struct HTTPResponseHead: Equatable, Sendable {
    public var version: HTTPVersion
    public var status: HTTPStatus
    public var headers: HTTPHeaders

    public init(version: HTTPVersion, status: HTTPStatus, headers: HTTPHeaders = HTTPHeaders()) {
        self.version = version
        self.status = status
        self.headers = headers
    }

    /// The head on the wire: status line, `name: value` lines and the empty
    /// line, all ending in CRLF. An empty reason phrase gives `HTTP/1.1 200 `.
    public func encoded() -> [UInt8] {
        var out = ByteText.bytes("\(version) \(status.code) \(status.reasonPhrase)\r\n")
        appendFields(headers, to: &out)
        return out
    }
}

/// A complete request: head and de-chunked body.
public struct HTTPRequest: Equatable, Sendable {
    public var head: HTTPRequestHead
    public var body: [UInt8]

    public init(head: HTTPRequestHead, body: [UInt8]) {
        self.head = head
        self.body = body
    }
}

/// A complete response: head and de-chunked body.
public struct HTTPResponse: Equatable, Sendable {
    public var head: HTTPResponseHead
    public var body: [UInt8]

    public init(head: HTTPResponseHead, body: [UInt8]) {
        self.head = head
        self.body = body
    }
}

private func appendFields(_ headers: HTTPHeaders, to out: inout [UInt8]) {
    for f in headers.fields {
        out += ByteText.bytes(f.name)
        out += [ByteText.colon, ByteText.space]
        out += ByteText.bytes(f.value)
        out += ByteText.crlf
    }
    out += ByteText.crlf
}
