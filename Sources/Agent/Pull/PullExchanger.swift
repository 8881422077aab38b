/// Carries out one `PullExchange` over real TLS, the way libarms does a pull
/// transaction: one connection, one HTTP/1.0 request, one answer read until
/// `</arms-message>` within 30 s, then close.
public struct PullExchanger {
    /// The agent's LS trust anchor (`path-root-ca`).
    public var rootCAPEM: String
    /// The SA certificate and key from the last RS answer, once held.
    public var identity: TLSClientIdentity?
    /// Web proxies for each phase (`https-proxy-url`, `-ls`, `-rs`), numeric.
    public var lsProxy: SocketAddress?
    public var rsProxy: SocketAddress?
    public var timeouts: TransportTimeouts
    /// The longest answer accepted.
    public var maxResponseBytes: Int
    public var distributionID: DistributionID

    public init(distributionID: DistributionID, rootCAPEM: String, identity: TLSClientIdentity? = nil,
                timeouts: TransportTimeouts = .libarms, maxResponseBytes: Int = 4 << 20) {
        self.distributionID = distributionID
        self.rootCAPEM = rootCAPEM
        self.identity = identity
        self.timeouts = timeouts
        self.maxResponseBytes = maxResponseBytes
    }

    /// Performs the exchange; every step's libarms log line goes to `log`.
    public func perform(_ exchange: PullExchange, log: (LibarmsLog) -> Void) -> PullExchangeOutcome {
        let tag = "RS[\(exchange.index)]"
        guard let url = try? ARMSURL(parsing: exchange.url), let port = UInt16(exactly: url.port) else {
            log(LibarmsLog(100, "invalid url: \(exchange.url)"))
            return .transportFailed
        }
        let configuration: TLSClientConfiguration
        do {
            switch exchange.server {
            case .locationServer:
                configuration = try .locationServer(rootCA: rootCAPEM, identity: identity)
            case .remoteServer:
                guard let anchor = exchange.trustAnchor else {
                    log(LibarmsLog(106, "Failed to register RS CA certificate."))
                    return .transportFailed
                }
                configuration = try .remoteServer(rsCertificate: anchor, identity: identity)
            }
        } catch {
            log(LibarmsLog(error.logCode, "\(tag): \(error)"))
            return .transportFailed
        }

        let connection: TLSClientConnection
        do {
            let address = try SocketAddress.numeric(host: url.host, port: port)
            log(.debug("\(tag): socket prepared. connecting..."))
            connection = try TLSClientConnection.connect(
                to: address, configuration: configuration,
                proxy: exchange.server == .locationServer ? lsProxy : rsProxy, timeouts: timeouts)
        } catch {
            log(LibarmsLog(error.logCode, "\(tag): \(error)"))
            return .transportFailed
        }
        defer { connection.close() }
        if connection.proxyAddress != nil { log(LibarmsLog(36, "Connected to web proxy URL.")) }
        log(.debug("\(tag): SSL connection established."))
        log(exchange.connectedLog)

        let request = exchange.httpRequest(path: url.path, distributionID: distributionID)
        do {
            try connection.write(request)
        } catch {
            log(LibarmsLog(error.logCode, "\(tag): \(error)"))
            return .transportFailed
        }

        // The whole answer must arrive within one response timer (not extended by partial reads).
        let deadline = ContinuousClock.now + timeouts.connectAndHandshake
        var limits = HTTPLimits.libarmsClient
        limits.maxBodyLength = maxResponseBytes
        var parser = HTTPResponseParser(bodyEnd: .armsMessageEndTag, limits: limits)
        var response: HTTPResponse?
        do {
            while response == nil {
                let bytes = try connection.read(upTo: 8192, deadline: deadline)
                if bytes.isEmpty {
                    response = try parser.finish()
                } else {
                    response = try parser.feed(bytes)
                }
                // libarms judges the status line as soon as it has it (pull.md §2.6).
                if let status = parser.head?.status.code, status >= 400 { return .httpStatus(status) }
            }
        } catch let error as TransportError {
            log(LibarmsLog(error.logCode, "\(tag): \(error)"))
            return .transportFailed
        } catch {
            log(LibarmsLog(109, "\(tag): \(error)"))
            return .transportFailed
        }
        guard let response else { return .transportFailed }
        let outcome = exchange.outcome(of: response)
        if case .undecodable(let error) = outcome { log(.debug("\(tag): \(error)")) }
        return outcome
    }
}
