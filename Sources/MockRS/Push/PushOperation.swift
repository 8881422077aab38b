import ARMSProtocol

/// One module config of a `configure` push.
public struct PushConfigArgument: Codable, Equatable, Sendable {
    public var module: UInt32
    /// The config text (sent as is, or base64 when `base64` is true).
    public var text: String
    public var base64: Bool?

    public init(module: UInt32, text: String, base64: Bool? = nil) {
        self.module = module
        self.text = text
        self.base64 = base64
    }
}

/// A push operation as the operator asks for it: the operation name (push.md §5.1, one of
/// `PushOperationRequest.operations`) and its arguments. Arguments an operation does not
/// use are ignored.
///
/// | operation | arguments |
/// |---|---|
/// | `configure` | `configs` (one or more modules; the module list sent is the SA's provisioned modules plus any configured id) |
/// | `md-command` | `module` (default 0), `command` (required) |
/// | `read-status`, `clear-status` | `modules` (ids, default `[module ?? 0]`), `parameter` |
/// | `read-storage` | `storage` (`running` by default; `candidate`, `backup`) |
/// | `ping` | `address` (required), `count`, `size` |
/// | `traceroute` | `address` (required), `count` (default 3), `maxHop` (default 30) |
/// | `pull-config` | `pullType` (`RS` by default, or `LS`) |
/// | `reboot`, `dump-debug`, `read-module-list`, `check-transaction` | none |
public struct PushOperationRequest: Codable, Equatable, Sendable {
    public var operation: String
    public var module: UInt32?
    public var modules: [UInt32]?
    public var command: String?
    public var parameter: String?
    public var configs: [PushConfigArgument]?
    public var storage: String?
    public var address: String?
    public var count: Int?
    public var size: Int?
    public var maxHop: Int?
    public var pullType: String?

    public init(operation: String, module: UInt32? = nil, modules: [UInt32]? = nil, command: String? = nil,
                parameter: String? = nil, configs: [PushConfigArgument]? = nil, storage: String? = nil,
                address: String? = nil, count: Int? = nil, size: Int? = nil, maxHop: Int? = nil, pullType: String? = nil) {
        self.operation = operation
        self.module = module
        self.modules = modules
        self.command = command
        self.parameter = parameter
        self.configs = configs
        self.storage = storage
        self.address = address
        self.count = count
        self.size = size
        self.maxHop = maxHop
        self.pullType = pullType
    }

    /// The twelve operation names.
    public static var operations: [String] { MessageName.pushOperations.map(\.rawValue) }

    public static func configure(_ configs: [PushConfigArgument]) -> Self { Self(operation: "configure", configs: configs) }
    public static func mdCommand(_ command: String, module: UInt32 = 0) -> Self {
        Self(operation: "md-command", module: module, command: command)
    }
    public static func readStatus(modules: [UInt32] = [0], parameter: String? = nil) -> Self {
        Self(operation: "read-status", modules: modules, parameter: parameter)
    }
    public static func clearStatus(modules: [UInt32] = [0], parameter: String? = nil) -> Self {
        Self(operation: "clear-status", modules: modules, parameter: parameter)
    }
    public static func readStorage(_ storage: String = StorageName.running) -> Self { Self(operation: "read-storage", storage: storage) }
    public static func ping(_ address: String, count: Int? = nil, size: Int? = nil) -> Self {
        Self(operation: "ping", address: address, count: count, size: size)
    }
    public static func traceroute(_ address: String, count: Int? = nil, maxHop: Int? = nil) -> Self {
        Self(operation: "traceroute", address: address, count: count, maxHop: maxHop)
    }
    public static func pullConfig(_ type: String = "RS") -> Self { Self(operation: "pull-config", pullType: type) }
    public static let reboot = Self(operation: "reboot")
    public static let dumpDebug = Self(operation: "dump-debug")
    public static let readModuleList = Self(operation: "read-module-list")
    public static let checkTransaction = Self(operation: "check-transaction")

    /// The operation as a method name; throws for anything but the twelve.
    public func methodName() throws(PushRequestError) -> MessageName {
        guard let name = MessageName(rawValue: operation), MessageName.pushOperations.contains(name) else {
            throw .unknownOperation(operation)
        }
        return name
    }

    /// The RS request (`NAME` for sync, `NAME-start` for async methods, push.md §2.2).
    /// - Parameter moduleList: the SA's current modules (for `configure`'s module list).
    public func armsRequest(distributionID: String, moduleList: [ModuleInfo]) throws(PushRequestError) -> ARMSRequest {
        let name = try methodName()
        let type = MessageType(name, name.isAsync ? .start : .single)
        var r = ARMSRequest(type: type, distributionID: distributionID)
        switch name {
        case .configure:
            guard let configs, !configs.isEmpty else { throw .missingArgument("configure needs at least one config") }
            var modules = moduleList
            for c in configs where !modules.contains(where: { $0.id == c.module }) {
                modules.append(ModuleInfo(id: c.module, version: "1.0"))
            }
            r.body = .configure(ConfigureRequest(modules: modules, configs: configs.map {
                ModuleConfig(id: $0.module, content: Payload(bytes: Array($0.text.utf8), encoding: $0.base64 == true ? .base64 : .text))
            }))
        case .mdCommand:
            guard let command, !command.isEmpty else { throw .missingArgument("md-command needs a command") }
            r.body = .mdCommand([ModuleCommand(moduleID: module ?? 0, command: Payload(text: command))])
        case .readStatus, .clearStatus:
            let ids = modules ?? [module ?? 0]
            guard !ids.isEmpty else { throw .missingArgument("\(operation) needs at least one module id") }
            r.body = .statusRequests(ids.map { StatusRequest(moduleID: $0, parameter: Payload(text: parameter ?? "")) })
        case .readStorage:
            let s = storage ?? StorageName.running
            r.body = .readStorage(storage: s)
        case .ping:
            guard let address, !address.isEmpty else { throw .missingArgument("ping needs an address") }
            r.body = .ping(PingRequest(address: address, count: count, size: size))
        case .traceroute:
            guard let address, !address.isEmpty else { throw .missingArgument("traceroute needs an address") }
            r.body = .traceroute(TracerouteRequest(address: address, count: count ?? 3, maxHop: maxHop ?? 30))
        case .pullConfig:
            r.body = .pullConfig(type: pullType ?? "RS")
        default:
            r.body = .empty
        }
        return r
    }
}

/// Why a push request cannot be sent.
public enum PushRequestError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownOperation(String)
    case missingArgument(String)
    /// No confirmed tunnel (or https-simple endpoint) for the SA.
    case notPushReady(String)
    case unknownSA(String)

    public var description: String {
        switch self {
        case .unknownOperation(let o):
            return "unknown push operation \"\(o)\" (expected one of \(PushOperationRequest.operations.joined(separator: ", ")))"
        case .missingArgument(let why): return why
        case .notPushReady(let sa): return "SA \(sa) is not push-ready (no confirmed tunnel or https-simple endpoint)"
        case .unknownSA(let sa): return "SA \(sa) is not provisioned"
        }
    }
}

/// Where a push operation is.
public enum PushOperationState: String, Codable, Equatable, Sendable {
    /// Waiting for its turn on the tunnel.
    case queued
    /// Request written; waiting for the response / start-response.
    case sent
    /// Async: accepted by the SA (start 100), waiting for the done request.
    case started
    /// Finished with success (sync 100; async start 100 and done 100).
    case succeeded
    /// Finished otherwise (error code, closed tunnel, unreadable answer).
    case failed
    /// The caller's wait ran out before it finished.
    case timedOut = "timed-out"

    public var isFinished: Bool { self == .succeeded || self == .failed || self == .timedOut }
}

/// One piece of output: an md-result, status-report or md-config.
public struct PushOutput: Codable, Equatable, Sendable {
    public var module: UInt32
    /// The text (base64 payloads decoded, shown as UTF-8).
    public var text: String
    /// It came base64-encoded.
    public var base64: Bool
    /// `result` of a status-report.
    public var result: Int?

    public init(module: UInt32, text: String, base64: Bool = false, result: Int? = nil) {
        self.module = module
        self.text = text
        self.base64 = base64
        self.result = result
    }
}

/// A module of a read-module-list answer.
public struct PushModule: Codable, Equatable, Sendable {
    public var id: UInt32
    public var version: String?
    public var info: String

    public init(id: UInt32, version: String?, info: String) {
        self.id = id
        self.version = version
        self.info = info
    }
}

/// One traceroute hop.
public struct PushHop: Codable, Equatable, Sendable {
    public var hop: Int
    public var address: String

    public init(hop: Int, address: String) {
        self.hop = hop
        self.address = address
    }
}

/// Everything known about one push operation.
public struct PushOperationResult: Codable, Equatable, Sendable {
    public var id: Int
    public var sa: String
    public var operation: String
    public var state: PushOperationState
    /// `https-tunnel` (or `https-simple`).
    public var mode: String?
    /// The tunnel it went through.
    public var tunnel: Int?
    /// Result code of the sync response or of the start-response.
    public var resultCode: Int?
    /// The SA-assigned transaction id (async).
    public var transactionID: Int?
    /// `transaction-result` of the done request (async).
    public var transactionResult: Int?
    /// md-results, status-reports, md-configs.
    public var output: [PushOutput]
    /// read-module-list.
    public var modules: [PushModule]?
    /// check-transaction.
    public var transactionIDs: [Int]?
    /// ping-done.
    public var pingSuccess: Int?
    public var pingFailure: Int?
    /// traceroute-done.
    public var hops: [PushHop]?
    /// Why it failed, in words.
    public var error: String?

    public init(id: Int, sa: String, operation: String, state: PushOperationState = .queued) {
        self.id = id
        self.sa = sa
        self.operation = operation
        self.state = state
        self.output = []
    }

    public var isFinished: Bool { state.isFinished }
}
