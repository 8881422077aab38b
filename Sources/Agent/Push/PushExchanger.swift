/// One SA-originated HTTPS exchange of the push phase (push.md §2.6): TLS to
/// the RS (RS CA, SA certificate as client identity), one request, the answer
/// read until `</arms-message>` within 30 s, close.
public struct PushExchanger {
    public var tlsConfiguration: TLSClientConfiguration
    public var credentials: BasicCredentials
    public var timeouts: TransportTimeouts
    public var maxResponseBytes = 1 << 20

    public init(tlsConfiguration: TLSClientConfiguration, credentials: BasicCredentials, timeouts: TransportTimeouts = .libarms) {
        self.tlsConfiguration = tlsConfiguration
        self.credentials = credentials
        self.timeouts = timeouts
    }

    public enum Outcome: Equatable, Sendable {
        /// The decoded answer and the local address of the connection (`sa_address`).
        case answered(ARMSResponse, local: SocketAddress)
        case failed(String)
    }

    /// push-method-query: HTTP/1.0 with Content-Length.
    public func methodQuery(url text: String, request: ARMSRequest) -> Outcome {
        exchange(url: text, expecting: .pushMethodQuery) { url in
            HTTPClientRequest.post(path: url.path, credentials: credentials, body: request.encode(style: .libarms).bytes)
        }
    }

    /// https-simple requests (confirmation start, X-done): HTTP/1.1 chunked, one chunk per piece.
    public func chunkedPost(url text: String, message: ARMSRequest, expecting: MessageType) -> Outcome {
        exchange(url: text, expecting: expecting) { url in
            HTTPClientRequest.chunkedPost(path: url.path, host: url.host, port: url.port, credentials: credentials,
                                          pieces: message.encode(style: .libarms).pieces)
        }
    }

    private func exchange(url text: String, expecting: MessageType, request: (ARMSURL) -> [UInt8]) -> Outcome {
        guard let url = try? ARMSURL(parsing: text), url.isUsable, let port = UInt16(exactly: url.port) else {
            return .failed("invalid url: \(text)")
        }
        let connection: TLSClientConnection
        do {
            let address = try SocketAddress.numeric(host: url.host, port: port)
            connection = try TLSClientConnection.connect(to: address, configuration: tlsConfiguration, timeouts: timeouts)
        } catch {
            return .failed("\(error)")
        }
        defer { connection.close() }
        var limits = HTTPLimits.libarmsClient
        limits.maxBodyLength = maxResponseBytes
        var parser = HTTPResponseParser(bodyEnd: .armsMessageEndTag, limits: limits)
        let deadline = ContinuousClock.now + timeouts.connectAndHandshake
        var response: HTTPResponse?
        do {
            try connection.write(request(url))
            while response == nil {
                let bytes = try connection.read(upTo: 8192, deadline: deadline)
                response = bytes.isEmpty ? try parser.finish() : try parser.feed(bytes)
                if let status = parser.head?.status.code, status >= 400 { return .failed("http response (\(status))") }
            }
        } catch {
            return .failed("\(error)")
        }
        guard let response else { return .failed("no response") }
        do {
            return .answered(try ARMSResponse.decode(response.body, expecting: expecting, options: .libarms),
                             local: connection.localAddress)
        } catch {
            return .failed("\(error)")
        }
    }
}
