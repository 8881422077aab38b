/// One heartbeat server an SA is told about (`heartbeat-info` host and port).
public struct HeartbeatTarget: Codable, Equatable, Hashable, Sendable, CustomStringConvertible {
    /// A numeric IPv4 or IPv6 literal (libarms never resolves names).
    public var host: String
    /// UDP port, 0...65535.
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, IPv6 as `[host]:port`.
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// An SA's heartbeat settings (heartbeat.md §2): what the RS pull answer carries in its
/// `heartbeat-info` entries and what the mock's heartbeat receiver checks datagrams with.
///
/// Every entry of one SA carries the same passphrase and interval (libarms drops the whole
/// list when intervals differ). With no explicit `servers` the entries point at the
/// running mock's own heartbeat receiver (one per address it listens on).
public struct HeartbeatProfile: Codable, Equatable, Sendable {
    /// HMAC-SHA1 key of the datagrams.
    public var passphrase: String
    /// Seconds between heartbeats, > 0.
    public var interval: Int
    /// Explicit servers (at most 5); empty = the mock's own receiver addresses.
    public var servers: [HeartbeatTarget]

    /// Most `heartbeat-info` entries libarms accepts (a sixth makes it reboot).
    public static let maxServers = 5
    /// The `algorithm` string the mock sends (libarms ignores it and always uses HMAC-SHA1).
    public static let algorithm = "hmac-sha1"

    public init(passphrase: String, interval: Int, servers: [HeartbeatTarget] = []) {
        self.passphrase = passphrase
        self.interval = interval
        self.servers = servers
    }

    private enum CodingKeys: String, CodingKey { case passphrase, interval, servers }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        passphrase = try c.decode(String.self, forKey: .passphrase)
        interval = try c.decode(Int.self, forKey: .interval)
        servers = try c.decodeIfPresent([HeartbeatTarget].self, forKey: .servers) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(passphrase, forKey: .passphrase)
        try c.encode(interval, forKey: .interval)
        if !servers.isEmpty { try c.encode(servers, forKey: .servers) }
    }
}
