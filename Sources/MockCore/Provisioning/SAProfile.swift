import ARMSProtocol

/// One module as the mock provisions it for an SA.
public struct ModuleProfile: Codable, Equatable, Sendable {
    public var id: UInt32
    /// The `version` attribute; `nil` omits it.
    public var version: String?
    /// The module's info string (`<module>` text); SACM sends it empty.
    public var info: String
    /// The module's configuration (the md-config content).
    public var config: String
    /// Send the config base64-encoded (`encoding="base64"`).
    public var base64: Bool

    public init(id: UInt32, version: String? = nil, info: String = "", config: String = "", base64: Bool = false) {
        self.id = id
        self.version = version
        self.info = info
        self.config = config
        self.base64 = base64
    }
}

/// Everything the mock knows about one service adapter.
public struct SAProfile: Codable, Equatable, Sendable {
    public var distributionID: DistributionID
    /// The LS-SA key: Basic-auth password of `rs-solicitation`.
    public var lsKey: String
    /// The `rs-preshared-key` the LS hands out: Basic-auth password of the RS and the push phase.
    public var rsKey: String
    /// Free text for operators.
    public var label: String?
    /// Modules in the order the RS lists them.
    public var modules: [ModuleProfile]
    /// The SA's heartbeat settings (`heartbeat-info` of the RS pull answer); `nil` sends none.
    public var heartbeat: HeartbeatProfile?

    public init(distributionID: DistributionID, lsKey: String, rsKey: String, label: String? = nil, modules: [ModuleProfile] = [],
                heartbeat: HeartbeatProfile? = nil) {
        self.distributionID = distributionID
        self.lsKey = lsKey
        self.rsKey = rsKey
        self.label = label
        self.modules = modules
        self.heartbeat = heartbeat
    }

    /// The SA the mock serves when nothing else is provisioned: `warplink-mock serve` with no flags.
    public static let demo = SAProfile(
        distributionID: DistributionID(version: 1, vendorCode: 0, saType: 0, saCode: 1),
        lsKey: "demo-ls-key",
        rsKey: "demo-rs-key",
        label: "demo SA",
        modules: [
            ModuleProfile(id: 0, version: "1.0", info: "", config: "VERSION=1.0\n"),
            ModuleProfile(id: 1, version: "1.0", info: "router-main", config: "hostname demo-router\ninterface lan0 address 192.168.0.1/24\n"),
        ],
        heartbeat: HeartbeatProfile(passphrase: "demo-hb-passphrase", interval: 60))
}

extension DistributionID: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            self = try DistributionID(parsing: text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
