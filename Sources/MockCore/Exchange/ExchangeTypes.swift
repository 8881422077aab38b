import ARMSProtocol
import NIOCore

/// A numeric address and port a server listens on.
public struct ExchangeEndpoint: Hashable, Sendable, CustomStringConvertible {
    /// A numeric IPv4 or IPv6 literal, without brackets (`127.0.0.1`, `::1`). Names are refused.
    public var host: String
    /// 0 picks a free port (see `ExchangeServer.start()` for how several endpoints share it).
    public var port: Int

    public init(host: String, port: Int = 0) {
        self.host = host
        self.port = port
    }

    public static func loopbackIPv4(port: Int = 0) -> ExchangeEndpoint { ExchangeEndpoint(host: "127.0.0.1", port: port) }
    public static func loopbackIPv6(port: Int = 0) -> ExchangeEndpoint { ExchangeEndpoint(host: "::1", port: port) }

    /// `127.0.0.1:443`, `[::1]:443`.
    public var description: String { ExchangeEndpoint.format(host: host, port: port) }

    static func format(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// A listener after binding: the actual port when 0 was asked for.
public struct BoundEndpoint: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var family: AddressFamily

    public init(host: String, port: Int, family: AddressFamily) {
        self.host = host
        self.port = port
        self.family = family
    }

    /// An https URL to this listener with the given path (no leading `/`), e.g. `https://[::1]:4443/rs.cgi`.
    public func url(path: String) throws(ARMSURL.ParseError) -> ARMSURL {
        try ARMSURL(scheme: .https, host: host, port: port, path: path)
    }

    public var description: String { ExchangeEndpoint.format(host: host, port: port) }
}

/// One complete HTTP request, as a handler gets it.
public struct ExchangeRequest: Sendable {
    public var request: HTTPRequest
    /// The client's address, `127.0.0.1:53422` or `[::1]:53422`.
    public var peer: String?
    /// The listener that accepted the connection.
    public var local: String?
    /// Bytes read before the request was complete (head and body, after TLS).
    public var bytesIn: Int
    /// Every listener of the server that accepted the connection (e.g. to build its own URLs).
    public var serverEndpoints: [BoundEndpoint]

    public init(request: HTTPRequest, peer: String? = nil, local: String? = nil, bytesIn: Int = 0,
                serverEndpoints: [BoundEndpoint] = []) {
        self.request = request
        self.peer = peer
        self.local = local
        self.bytesIn = bytesIn
        self.serverEndpoints = serverEndpoints
    }
}

/// What the journal should say about an exchange, as far as the role's logic can tell.
public struct ExchangeFacts: Equatable, Sendable {
    /// The SA's distribution id in canonical form, when known.
    public var sa: String?
    /// The ARMS message type of the request, when it could be read.
    public var messageType: String?
    /// The ARMS result code of the answer, when an ARMS answer is sent.
    public var resultCode: Int?
    /// One of `ExchangeOutcome`'s values (or a role's own).
    public var outcome: String
    public var detail: String?

    public init(sa: String? = nil, messageType: String? = nil, resultCode: Int? = nil, outcome: String, detail: String? = nil) {
        self.sa = sa
        self.messageType = messageType
        self.resultCode = resultCode
        self.outcome = outcome
        self.detail = detail
    }
}

/// A handler's answer: the complete HTTP response, written in one write, then the connection is closed.
public struct ExchangeReply: Equatable, Sendable {
    /// The whole response: status line, header fields, body.
    public var bytes: [UInt8]
    /// The status code in `bytes` (for the journal).
    public var httpStatus: Int
    public var facts: ExchangeFacts

    public init(bytes: [UInt8], httpStatus: Int, facts: ExchangeFacts) {
        self.bytes = bytes
        self.httpStatus = httpStatus
        self.facts = facts
    }

    /// An `HTTP/1.0` answer with `Content-Length` and `Connection: close` (never chunked).
    public static func http(status: HTTPStatus = .ok, contentType: String = "text/xml", body: [UInt8],
                            facts: ExchangeFacts) -> ExchangeReply {
        ExchangeReply(bytes: HTTPServerResponse.response(status: status, contentType: contentType, body: body),
                      httpStatus: status.code, facts: facts)
    }

    /// A short plain-text error answer (`400 Bad Request` etc.).
    public static func httpError(_ status: HTTPStatus, facts: ExchangeFacts) -> ExchangeReply {
        http(status: status, contentType: "text/plain", body: Array("\(status)\n".utf8), facts: facts)
    }
}

/// Answers one request. Called once per connection, after the whole request was read.
public typealias ExchangeHandler = @Sendable (ExchangeRequest) async -> ExchangeReply

/// The `JournalEntry.outcome` values the exchange server and the pull roles write.
public enum ExchangeOutcome {
    /// Answered as asked.
    public static let ok = "ok"
    /// Basic-auth user is not a provisioned (or not a valid) distribution id.
    public static let unknownSA = "unknown-sa"
    /// Missing or unreadable `Authorization`, or the wrong key.
    public static let badCredentials = "bad-credentials"
    /// Malformed HTTP, or not a POST.
    public static let badRequest = "bad-request"
    /// Head or body over the limits (answered 413).
    public static let tooLarge = "too-large"
    /// The body is not an ARMS request this role answers (answered with an ARMS error code).
    public static let decodeError = "decode-error"
    /// The body's distribution id differs from the authenticated one (result 423).
    public static let idMismatch = "id-mismatch"
    /// The request was not complete within the read timeout.
    public static let timeout = "timeout"
    /// The client closed (or the server stopped) before a complete request, or the answer could not be written.
    public static let closed = "closed"
    /// The TLS handshake or record layer failed.
    public static let tlsError = "tls-error"
    /// A fault was injected: `fault:close`, `fault:http-503`, `fault:raw`.
    public static func fault(_ name: String) -> String { "fault:" + name }
}
