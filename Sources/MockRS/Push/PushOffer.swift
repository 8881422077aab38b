import ARMSProtocol

/// What MockRS offers in its `push-method-query` answer (push.md §3.3).
public struct PushOffer: Equatable, Sendable {
    /// `push-method` values in RS priority order (`https-tunnel`, `https-simple`), at most 5.
    public var methods: [String]
    /// `https-tunnel-url`s, at most 5 (libarms reboots on a sixth). May mix IPv4 and IPv6:
    /// the SA drops those of the other family. The service fills in its tunnel listeners.
    public var tunnelURLs: [ARMSURL]
    /// `https-tunnel-echo-interval` in seconds; `nil` leaves it out (libarms then uses 60).
    public var echoInterval: Int?
    /// The result code of the answer (100; fault tests use 3xx/4xx/5xx).
    public var resultCode: ResultCode

    public init(methods: [String] = [PushMethod.httpsTunnel], tunnelURLs: [ARMSURL] = [], echoInterval: Int? = 60,
                resultCode: ResultCode = .success) {
        self.methods = methods
        self.tunnelURLs = tunnelURLs
        self.echoInterval = echoInterval
        self.resultCode = resultCode
    }

    /// libarms keeps at most five methods and five tunnel URLs.
    public static let maxEntries = 5

    /// The `push-method-query` answer. A non-100 result carries no body element.
    public func response() -> ARMSResponse {
        guard resultCode == .success else { return .standard(.pushMethodQuery, resultCode, body: nil) }
        let result = PushMethodQueryResult(methods: Array(methods.prefix(Self.maxEntries)),
                                           tunnelURLs: tunnelURLs.prefix(Self.maxEntries).map(\.description),
                                           echoInterval: echoInterval)
        return .standard(.pushMethodQuery, .success, body: .pushMethodQuery(result))
    }

    /// Problems that would make libarms reject or mis-read the offer.
    public func validate() throws(RemoteServerConfigurationError) {
        guard methods.count <= Self.maxEntries else { throw .tooMany("push-method", methods.count) }
        guard tunnelURLs.count <= Self.maxEntries else { throw .tooMany("https-tunnel-url", tunnelURLs.count) }
        for url in tunnelURLs where !url.isUsable { throw .notHTTPS(url) }
        if let e = echoInterval, e <= 0 || e > Int(Int32.max) { throw .outOfRange(e) }
    }
}
