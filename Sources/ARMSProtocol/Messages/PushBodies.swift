/// Push method names offered and chosen in push-method-query (push.md §3).
public enum PushMethod {
    public static let httpsSimple = "https-simple"
    public static let httpsTunnel = "https-tunnel"
}

/// The body of a `push-method-query` answer (push.md §3.3).
public struct PushMethodQueryResult: Equatable, Sendable {
    /// In RS priority order; unknown values are kept (libarms counts and ignores them).
    public var methods: [String]
    /// One URL per tunnel; the index is the tunnel number.
    public var tunnelURLs: [String]
    /// Seconds; libarms uses 60 when absent.
    public var echoInterval: Int?

    public init(methods: [String] = [], tunnelURLs: [String] = [], echoInterval: Int? = nil) {
        self.methods = methods
        self.tunnelURLs = tunnelURLs
        self.echoInterval = echoInterval
    }
}

/// A `configure-start` request body (push.md §6.1).
public struct ConfigureRequest: Equatable, Sendable {
    /// The complete module list after this configure.
    public var modules: [ModuleInfo]
    public var configs: [ModuleConfig]

    public init(modules: [ModuleInfo] = [], configs: [ModuleConfig] = []) {
        self.modules = modules
        self.configs = configs
    }
}

/// One `<md-command>` of an md-command request (push.md §6.4).
public struct ModuleCommand: Equatable, Sendable {
    public var moduleID: UInt32
    public var command: Payload

    public init(moduleID: UInt32, command: Payload) {
        self.moduleID = moduleID
        self.command = command
    }
}

/// The `<md-result>` of an md-command or dump-debug response.
public struct ModuleResult: Equatable, Sendable {
    public var moduleID: UInt32
    public var output: Payload

    public init(moduleID: UInt32, output: Payload) {
        self.moduleID = moduleID
        self.output = output
    }
}

/// One `<status-request>` of read-status and clear-status (push.md §6.6–6.7).
public struct StatusRequest: Equatable, Sendable {
    /// libarms ignores (read-status) or refuses (clear-status) an entry without id.
    public var moduleID: UInt32?
    public var parameter: Payload

    public init(moduleID: UInt32?, parameter: Payload = "") {
        self.moduleID = moduleID
        self.parameter = parameter
    }
}

/// One `<status-report>` of read-status-done and clear-status-done.
public struct StatusReport: Equatable, Sendable {
    public var moduleID: UInt32
    public var result: ResultCode
    public var report: Payload

    public init(moduleID: UInt32, result: ResultCode = .success, report: Payload) {
        self.moduleID = moduleID
        self.result = result
        self.report = report
    }
}

/// Storage names of read-storage (push.md §6.8).
public enum StorageName {
    public static let candidate = "candidate"
    public static let running = "running"
    public static let backup = "backup"
    /// Accepted names; anything else (including `startup`) is answered 203.
    public static let accepted: Set<String> = [candidate, running, backup]
}

/// A ping-start request body (push.md §6.10).
public struct PingRequest: Equatable, Sendable {
    public var address: String?
    public var count: Int?
    public var size: Int?

    public init(address: String?, count: Int? = nil, size: Int? = nil) {
        self.address = address
        self.count = count
        self.size = size
    }
}

/// A traceroute-start request body (push.md §6.11).
public struct TracerouteRequest: Equatable, Sendable {
    public var address: String?
    public var count: Int?
    public var maxHop: Int?

    public init(address: String?, count: Int? = nil, maxHop: Int? = nil) {
        self.address = address
        self.count = count
        self.maxHop = maxHop
    }
}

/// One `<nodeinfo hop="N">ADDR</nodeinfo>` of traceroute-done.
public struct TracerouteHop: Equatable, Sendable {
    public var hop: Int
    public var address: String

    public init(hop: Int, address: String) {
        self.hop = hop
        self.address = address
    }
}
