/// The body of an LS `rs-solicitation` answer (pull.md §4.2).
public struct RSSolicitationResult: Equatable, Sendable {
    /// Basic-auth password for the RS and for the push phase (≤ 64 bytes).
    public var rsPresharedKey: String?
    /// Line poll limit for RS-phase lines, seconds.
    public var llTimeout: Int?
    /// RS rounds = value + 1.
    public var rsRetryMax: Int?
    /// Pause between RS rounds, seconds.
    public var rsRetryInterval: Int?
    /// Parsed and ignored by libarms.
    public var lifetime: Int?
    /// RS pull URLs in document order (`rs-info/url`, counted over the whole response).
    public var urls: [String]
    /// Location-Configs in document order (`rs-info/md-config`), paired with `urls` by index.
    public var locationConfigs: [String]

    public init(rsPresharedKey: String? = nil, llTimeout: Int? = nil, rsRetryMax: Int? = nil,
                rsRetryInterval: Int? = nil, lifetime: Int? = nil, urls: [String] = [], locationConfigs: [String] = []) {
        self.rsPresharedKey = rsPresharedKey
        self.llTimeout = llTimeout
        self.rsRetryMax = rsRetryMax
        self.rsRetryInterval = rsRetryInterval
        self.lifetime = lifetime
        self.urls = urls
        self.locationConfigs = locationConfigs
    }
}

/// The body of a `config-solicitation` request (pull.md §5.1).
public struct ConfigSolicitationRequest: Equatable, Sendable {
    /// Always `4.0` for libarms 5.33.
    public var protocolVersion: String
    public var trigger: String
    /// The registered version string; the element is omitted when `nil`.
    public var firmwareInfo: String?

    public init(protocolVersion: String = "4.0", trigger: String, firmwareInfo: String? = nil) {
        self.protocolVersion = protocolVersion
        self.trigger = trigger
        self.firmwareInfo = firmwareInfo
    }
}

/// One `<heartbeat-info>` entry (pull.md §5.2, heartbeat.md §2).
public struct HeartbeatServerInfo: Equatable, Sendable {
    /// Numeric IPv4 or IPv6 literal (required).
    public var host: String
    public var port: Int?
    /// HMAC key (required).
    public var passphrase: String
    public var interval: Int?
    /// Stored but never used by libarms (always HMAC-SHA1); up to 3.
    public var algorithms: [String]

    public init(host: String, port: Int? = nil, passphrase: String, interval: Int? = nil, algorithms: [String] = []) {
        self.host = host
        self.port = port
        self.passphrase = passphrase
        self.interval = interval
        self.algorithms = algorithms
    }
}

/// The body of an RS `config-solicitation` answer (pull.md §5.2).
public struct ConfigSolicitationResult: Equatable, Sendable {
    public var saCertificate: String?
    public var saPrivateKey: String?
    /// `proposal-for-sa/push-port`.
    public var proposedPushPort: Int?
    /// `proposal-for-sa/push-timeout`.
    public var proposedPushTimeout: Int?
    public var heartbeatServers: [HeartbeatServerInfo]
    public var healthURL: String?
    public var healthInterval: String?
    public var pollURL: String?
    public var pollInterval: String?
    public var rsPushServerAddresses: [String]
    public var rsPullServerURLs: [String]
    /// All `<module>` entries; on the wire they come before the first `<md-config>`.
    public var modules: [ModuleInfo]
    public var configs: [ModuleConfig]

    public init(saCertificate: String? = nil, saPrivateKey: String? = nil, proposedPushPort: Int? = nil,
                proposedPushTimeout: Int? = nil, heartbeatServers: [HeartbeatServerInfo] = [],
                healthURL: String? = nil, healthInterval: String? = nil, pollURL: String? = nil, pollInterval: String? = nil,
                rsPushServerAddresses: [String] = [], rsPullServerURLs: [String] = [],
                modules: [ModuleInfo] = [], configs: [ModuleConfig] = []) {
        self.saCertificate = saCertificate
        self.saPrivateKey = saPrivateKey
        self.proposedPushPort = proposedPushPort
        self.proposedPushTimeout = proposedPushTimeout
        self.heartbeatServers = heartbeatServers
        self.healthURL = healthURL
        self.healthInterval = healthInterval
        self.pollURL = pollURL
        self.pollInterval = pollInterval
        self.rsPushServerAddresses = rsPushServerAddresses
        self.rsPullServerURLs = rsPullServerURLs
        self.modules = modules
        self.configs = configs
    }
}
