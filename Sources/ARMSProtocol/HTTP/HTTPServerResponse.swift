/// Response bytes written by ARMS servers (mock LS/RS) and by the SA's
/// https-simple listener. None of them is ever chunked.
public enum HTTPServerResponse: Sendable {
    /// The https-simple listener's refusals (push.md §7.4).
    public enum SimpleListenerRejection: Sendable {
        /// `401 Authorization Required`: missing or wrong credentials.
        case unauthorized
        /// `400 Bad Request`: line too long or bad chunk framing.
        case badRequest
    }

    /// The XML declaration the https-simple listener writes, followed by a single CR.
    static let simpleDeclaration = Array("<?xml version=\"1.0\" encoding=\"US-ASCII\" ?>\r".utf8)

    /// A mock LS/RS answer to a pull or push-method-query (pull.md §2.6):
    ///
    ///     HTTP/1.0 <code> <reason>
    ///     [WWW-Authenticate: Basic realm=""]      (only for 401)
    ///     Content-Type: <contentType>
    ///     Content-Length: <body.count>
    ///     Connection: close
    ///
    ///     <body>
    public static func response(status: HTTPStatus = .ok, contentType: String = "text/xml", body: [UInt8]) -> [UInt8] {
        var headers = HTTPHeaders()
        if status.code == 401 { headers.append(name: "WWW-Authenticate", value: "Basic realm=\"\"") }
        headers.append(name: "Content-Type", value: contentType)
        headers.append(name: "Content-Length", value: String(body.count))
        headers.append(name: "Connection", value: "close")
        return HTTPResponseHead(version: .http10, status: status, headers: headers).encoded() + body
    }

    /// The https-simple listener's answer to a (non-chunked) request
    /// (push.md §7.4): `HTTP/1.0 200 OK`, `Server: armsd`, `Connection: close`,
    /// `Content-Type: text/xml`, the empty line, then
    /// `<?xml version="1.0" encoding="US-ASCII" ?>` and a single CR, then
    /// `body`. Close-delimited: no Content-Length.
    public static func simpleListener(body: [UInt8]) -> [UInt8] {
        let head = HTTPResponseHead(version: .http10, status: .ok, headers: [
            "Server": "armsd",
            "Connection": "close",
            "Content-Type": "text/xml",
        ])
        return head.encoded() + simpleDeclaration + body
    }

    /// The https-simple listener's 401 or 400 (push.md §7.4): the same shape as
    /// `simpleListener` with `WWW-Authenticate: Basic realm=""` after the status
    /// line and only the declaration and CR as body.
    public static func simpleListenerRejection(_ rejection: SimpleListenerRejection) -> [UInt8] {
        let status = switch rejection {
        case .unauthorized: HTTPStatus(code: 401, reasonPhrase: "Authorization Required")
        case .badRequest: HTTPStatus.badRequest
        }
        let head = HTTPResponseHead(version: .http10, status: status, headers: [
            "WWW-Authenticate": "Basic realm=\"\"",
            "Server": "armsd",
            "Connection": "close",
            "Content-Type": "text/xml",
        ])
        return head.encoded() + simpleDeclaration
    }

    /// The RS's answer to an https-simple push-confirmation-start or X-done
    /// request (push.md §7.6), to be sent in one write and then closed:
    ///
    ///     HTTP/1.1 200 OK
    ///     Content-Type: text/xml
    ///     Connection: close
    ///
    ///     <body>
    ///
    /// The SA re-parses each received piece on its own, so the body should
    /// reach `</result-code>` within the same write.
    public static func simpleRequestAnswer(body: [UInt8]) -> [UInt8] {
        let head = HTTPResponseHead(version: .http11, status: .ok, headers: [
            "Content-Type": "text/xml",
            "Connection": "close",
        ])
        return head.encoded() + body
    }
}
