import ARMSProtocol
import MockCore

/// What MockRS hands out in a `config-solicitation` answer (pull.md §5.2), apart from the
/// per-SA modules.
public struct RemoteServerConfiguration: Equatable, Sendable {
    /// `rs-pull-server-url`s: where the SA sends push-method-query (and https-simple
    /// confirmations). Give the same list, in the same order, as the LS's RS URLs so that
    /// libarms keeps using the RS index that answered (pull.md §5.4 step 6). `nil`: the
    /// server's own listeners, `https://<listener>/<pullPath>` in listener order.
    public var pullServerURLs: [ARMSURL]?
    /// The path of the server's own URLs when `pullServerURLs` is `nil`.
    public var pullPath: String
    /// `sa-certificate` and `sa-private-key`: the SA's client certificate and the server
    /// certificate of its https-simple listener (certs/sa.* by default).
    public var saIdentity: TLSIdentity
    /// `proposal-for-sa/push-port`; `nil` leaves it out. libarms' own default is 10443.
    public var proposedPushPort: Int?
    /// `proposal-for-sa/push-timeout`; `nil` leaves it out.
    public var proposedPushTimeout: Int?
    /// `heartbeat-info` entries (at most 5; all with the same interval) for SAs whose
    /// profile has no heartbeat settings. Empty by default.
    public var heartbeatServers: [HeartbeatServerInfo]
    /// The running heartbeat receiver's addresses: where an SA's heartbeat goes when its
    /// profile names no servers of its own (at most 5 are handed out).
    public var heartbeatReceivers: [HeartbeatTarget] = []
    /// `rs-push-server-address` entries (informational for libarms), at most 5.
    public var pushServerAddresses: [String]
    /// How refused credentials are answered.
    public var authFailure: AuthFailureAnswer
    /// The `push-method-query` answer (methods, tunnel URLs, echo interval).
    public var push = PushOffer()

    public init(pullServerURLs: [ARMSURL]? = nil, pullPath: String = "rs.cgi", saIdentity: TLSIdentity = .serviceAdapter,
                proposedPushPort: Int? = 10443, proposedPushTimeout: Int? = nil, heartbeatServers: [HeartbeatServerInfo] = [],
                pushServerAddresses: [String] = [], authFailure: AuthFailureAnswer = .armsResult403) {
        self.pullServerURLs = pullServerURLs
        self.pullPath = pullPath
        self.saIdentity = saIdentity
        self.proposedPushPort = proposedPushPort
        self.proposedPushTimeout = proposedPushTimeout
        self.heartbeatServers = heartbeatServers
        self.pushServerAddresses = pushServerAddresses
        self.authFailure = authFailure
    }

    /// libarms keeps at most five of `rs-pull-server-url`, `rs-push-server-address`;
    /// a sixth `heartbeat-info` makes it reboot.
    public static let maxListEntries = 5

    /// Checks what would make a libarms client reject or mis-read the answer (pull.md §9.1).
    public func validate() throws(RemoteServerConfigurationError) {
        if let urls = pullServerURLs {
            guard urls.count <= Self.maxListEntries else { throw .tooMany("rs-pull-server-url", urls.count) }
            for url in urls where !url.isUsable { throw .notHTTPS(url) }
        }
        guard heartbeatServers.count <= Self.maxListEntries else { throw .tooMany("heartbeat-info", heartbeatServers.count) }
        guard pushServerAddresses.count <= Self.maxListEntries else {
            throw .tooMany("rs-push-server-address", pushServerAddresses.count)
        }
        if Set(heartbeatServers.map(\.interval)).count > 1 { throw .mixedHeartbeatIntervals }
        for value in [proposedPushPort, proposedPushTimeout].compactMap({ $0 }) where value < 0 || value > Int(Int32.max) {
            throw .outOfRange(value)
        }
        try push.validate()
        guard saIdentity.certificateChainPEM.contains("-----BEGIN CERTIFICATE-----"),
              saIdentity.privateKeyPEM.contains("PRIVATE KEY-----") else { throw .notPEM }
    }
}

/// Why a `RemoteServerConfiguration` cannot be served.
public enum RemoteServerConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    case tooMany(String, Int)
    case notHTTPS(ARMSURL)
    /// libarms drops the heartbeat list when intervals differ.
    case mixedHeartbeatIntervals
    case outOfRange(Int)
    /// `saIdentity` is not a PEM certificate and key.
    case notPEM

    public var description: String {
        switch self {
        case .tooMany(let element, let n):
            return "RS: \(n) <\(element)>, at most \(RemoteServerConfiguration.maxListEntries)"
        case .notHTTPS(let u): return "RS: rs-pull-server-url \(u) is not https"
        case .mixedHeartbeatIntervals: return "RS: heartbeat-info entries with different intervals"
        case .outOfRange(let v): return "RS: proposal value \(v) is out of range"
        case .notPEM: return "RS: sa-certificate / sa-private-key are not PEM"
        }
    }
}
