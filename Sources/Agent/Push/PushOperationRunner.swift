import Glibc

/// Carries out `PushWork` the way armsd's callbacks do (agent.md §5.2, §5.3,
/// §6, §7): callback scripts with request/result files in the working
/// directory, the config stores, and the system `ping`/`traceroute`.
public final class PushOperationRunner {
    public let configuration: ArmsdConfiguration
    public let workingDirectory: WorkingDirectory
    public let scripts: ScriptRunner
    public let logger: Logger
    public let distributionID: DistributionID
    /// The module DB; configure changes it, the daemon reads it back.
    public private(set) var modules: ModuleTable
    /// Extra dump-debug lines from the daemon (pull URLs, heartbeat facts).
    public var dumpDebugExtra: () -> [String] = { [] }

    /// Modules committed by the last configure, in commit order, with their previous record.
    private var lastCommitted: [ModuleRecord] = []
    /// Module records before the last configure-start.
    private var previous: [UInt32: ModuleRecord] = [:]

    /// Text results are cut to this many bytes per non-zero md-command (agent.md §5.2).
    static let failedOutputLimit = 1023
    /// Bound on any result file read.
    static let maxResultBytes = 1 << 20

    public init(configuration: ArmsdConfiguration, workingDirectory: WorkingDirectory, scripts: ScriptRunner,
                logger: Logger, distributionID: DistributionID, modules: ModuleTable) {
        self.configuration = configuration
        self.workingDirectory = workingDirectory
        self.scripts = scripts
        self.logger = logger
        self.distributionID = distributionID
        self.modules = modules
    }

    public func perform(_ work: PushWork) -> PushWorkResult {
        switch work {
        case .mdCommand(let command): return mdCommand(command)
        case .dumpDebug(let facts): return dumpDebug(facts)
        case .readStatus(let requests): return .statusReports(requests.map { status($0, script: .status) })
        case .clearStatus(let requests): return .statusReports(requests.map { status($0, script: .clear) })
        case .readStorage(let storage): return .storedConfigs(readStorage(storage))
        case .ping(let request): return ping(request)
        case .traceroute(let request): return traceroute(request)
        case .configureStore(let request): return configureStore(request)
        case .configureCommit: return configureCommit()
        case .configureRevert: return .configureReverted(revertLastCommit())
        }
    }

    // MARK: scripts with request and result files

    /// Runs `script <id> <request-file> <result-file>`; returns the result and the file's bytes.
    private func runWithFiles(_ script: ArmsdConfiguration.Script, id: UInt32, request: [UInt8]) -> (ScriptResult, [UInt8]) {
        guard configuration.scripts[script] != nil else { return (ScriptResult(outcome: .notConfigured), []) }
        var requestFile: String?
        var resultFile: String?
        defer {
            if let requestFile { workingDirectory.removeTemporaryFile(requestFile) }
            if let resultFile { workingDirectory.removeTemporaryFile(resultFile) }
        }
        do {
            requestFile = try workingDirectory.makeTemporaryFile(contents: request)
            resultFile = try workingDirectory.makeTemporaryFile()
        } catch {
            logger.warn("cannot create request/result files: \(error)")
            return (ScriptResult(outcome: .failedToStart(error)), [])
        }
        let result = scripts.run(script, arguments: [String(id), requestFile!, resultFile!], configuration: configuration)
        if result.timedOut { logger.warn("script timed out (\(configuration.timeout) sec)") }
        let output = (try? AtomicFile.read(resultFile!, maxBytes: Self.maxResultBytes)) ?? []
        return (result, output)
    }

    /// Text mode replaces every byte but TAB, LF, CR and printable ASCII by `@`; binary mode sends base64.
    func payload(_ bytes: [UInt8]) -> Payload {
        if configuration.binary > 0 { return Payload(bytes: bytes, encoding: .base64) }
        return Payload(bytes: bytes.map { ($0 == 9 || $0 == 10 || $0 == 13 || (0x20...0x7E).contains($0)) ? $0 : UInt8(ascii: "@") })
    }

    private func mdCommand(_ command: ModuleCommand) -> PushWorkResult {
        logger.verboseInfo("md-command callback: \(command.moduleID)")
        let (result, output) = runWithFiles(.command, id: command.moduleID, request: command.command.bytes)
        switch result.outcome {
        case .exited(0):
            return .moduleOutput(.success, payload(output))
        case .exited:
            return .moduleOutput(.commandExecuteError, payload(Array(output.prefix(Self.failedOutputLimit))))
        default:
            return .moduleOutput(.saFailure, nil)
        }
    }

    private func status(_ request: StatusRequest, script: ArmsdConfiguration.Script) -> StatusReport {
        let id = request.moduleID ?? 0
        if script == .status { logger.verboseInfo("get-status callback called: \(id)") }
        if script == .clear && modules[id] == nil {
            logger.warn("no such module: id=\(id)")
            return StatusReport(moduleID: id, result: .saFailure, report: "")
        }
        let (result, output) = runWithFiles(script, id: id, request: request.parameter.bytes)
        return StatusReport(moduleID: id, result: result.succeeded ? .success : .saFailure, report: payload(output))
    }

    // MARK: read-storage

    private func readStorage(_ storage: String) -> [ModuleConfig] {
        let store: WorkingDirectory.Store
        let logName: String
        switch storage {
        case StorageName.candidate: (store, logName) = (.candidate, "candidate-config")
        case StorageName.backup: (store, logName) = (.backup, "backup-backup")
        default: (store, logName) = (.running, "running-config")
        }
        return modules.modules.map { module in
            logger.verboseInfo("read-config callback: id=\(module.id), type=\(logName)")
            guard let bytes = try? workingDirectory.contents(of: store, module: module.id) else {
                logger.error("read-config (module #\(module.id), \(logName)) requested but we don't have that.")
                return ModuleConfig(id: module.id, content: "")
            }
            return ModuleConfig(id: module.id, content: payload(bytes))
        }
    }

    // MARK: configure

    private func configureStore(_ request: ConfigureRequest) -> PushWorkResult {
        previous = Dictionary(modules.modules.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let removed = request.modules.isEmpty ? modules.removeAll() : modules.sync(with: request.modules)
        for module in removed {
            _ = scripts.run(.stop, arguments: [String(module.id)], configuration: configuration)
            try? workingDirectory.removeModule(module.id)
        }
        let list = modules.modules.map { ModuleInfo(id: $0.id, version: $0.version, info: $0.info) }
        for config in request.configs {
            guard modules[config.id] != nil else { return .configureStored(.systemError, modules: list) }
            logger.verboseInfo("config callback called: id=\(config.id)")
            do {
                try workingDirectory.storeCandidate(module: config.id, contents: config.content.bytes)
            } catch {
                logger.warn("cannot store candidate config of module \(config.id): \(error)")
                return .configureStored(.validationFailure, modules: list)
            }
        }
        return .configureStored(.success, modules: list)
    }

    /// `reconfig` for every module with a candidate, in module-list order
    /// (agent.md §6, §7.1); 128 stops with "module syncing"; any other failure
    /// rolls back every module committed so far (agent.md §7.2, the Swift fix).
    private func configureCommit() -> PushWorkResult {
        lastCommitted = []
        for module in modules.modules where workingDirectory.exists(.candidate, module: module.id) {
            let candidate = workingDirectory.path(of: .candidate, module: module.id)
            let result = scripts.run(.reconfig, arguments: [String(module.id), module.versionArgument, module.info, candidate],
                                     configuration: configuration)
            do {
                try workingDirectory.commit(module: module.id)
            } catch {
                logger.warn("cannot commit config of module \(module.id): \(error)")
            }
            lastCommitted.append(previous[module.id] ?? ModuleRecord(id: module.id, version: nil, info: ""))
            if result.exitStatus == 128 {
                logger.info("module syncing with reboot")
                return .configureCommitted(.moduleSyncing)
            }
            if !result.succeeded && result.isConfigured {
                return .configureCommitted(revertLastCommit() ? .rollbacked : .rollbackFailure)
            }
        }
        return .configureCommitted(.success)
    }

    /// Restores running from backup and runs `reconfig <id> <old-version> <old-info> <backup>`
    /// for every module of the last commit, in reverse order.
    private func revertLastCommit() -> Bool {
        var ok = true
        for record in lastCommitted.reversed() {
            do {
                try workingDirectory.revert(module: record.id)
            } catch {
                logger.warn("cannot revert config of module \(record.id): \(error)")
                ok = false
            }
            let backup = workingDirectory.path(of: .backup, module: record.id)
            _ = scripts.run(.reconfig, arguments: [String(record.id), record.versionArgument, record.info, backup],
                            configuration: configuration)
        }
        lastCommitted = []
        return ok
    }

    // MARK: dump-debug

    private func dumpDebug(_ facts: [String]) -> PushWorkResult {
        var lines = ["Distribution-ID: \(distributionID)", "Library Version: \(AgentVersion.libarmsCompatible) (Release)", ""]
        lines += facts
        lines += dumpDebugExtra()
        return .moduleOutput(.success, Payload(text: lines.joined(separator: "\n") + "\n"))
    }

    // MARK: ping and traceroute

    /// Runs `command` through `/bin/sh -c` with output in a temporary file; nil if it could not run.
    private func runTool(_ command: String) -> (Int32?, String) {
        guard let file = try? workingDirectory.makeTemporaryFile() else { return (nil, "") }
        defer { workingDirectory.removeTemporaryFile(file) }
        let result = scripts.run(path: "/bin/sh", arguments: ["-c", "\(command) >'\(file)' 2>&1"],
                                 timeout: .seconds(configuration.timeout))
        let text = String(decoding: (try? AtomicFile.read(file, maxBytes: 1 << 20)) ?? [], as: UTF8.self)
        return (result.exitStatus, text)
    }

    /// A numeric address, safe to put on a command line.
    static func numericAddress(_ text: String?) -> (String, Bool)? {
        guard let text, let address = try? SocketAddress.numeric(host: text, port: 0) else { return nil }
        return (address.host, address.family == .ipv6)
    }

    private func ping(_ request: PingRequest) -> PushWorkResult {
        guard let (address, v6) = Self.numericAddress(request.address) else { return .ping(.pushFailed, success: 0, failure: 0) }
        let count = max(1, request.count ?? 0)
        let size = max(0, request.size ?? 0)
        let tool = v6 ? "if command -v ping6 >/dev/null 2>&1; then ping6 -nq -c \(count) -s \(size) \(address); else ping -6 -nq -c \(count) -s \(size) \(address); fi"
                      : "ping -nq -c \(count) -s \(size) \(address)"
        let (status, output) = runTool("command -v ping >/dev/null 2>&1 || exit 127; \(tool)")
        guard let status, status != 127, let counts = Self.pingCounts(output) else {
            logger.warn("ping failed: \(status.map { "exit \($0)" } ?? "not run")")
            return .ping(.pushFailed, success: 0, failure: 0)
        }
        return .ping(.success, success: counts.received, failure: counts.transmitted - counts.received)
    }

    /// `N packets transmitted, M received` (iputils and busybox wording).
    static func pingCounts(_ output: String) -> (transmitted: Int, received: Int)? {
        for line in output.split(separator: "\n") where line.contains("packets transmitted") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "," })
            guard let t = words.firstIndex(of: "packets"), t > 0, let sent = Int(words[t - 1]),
                  let r = words.firstIndex(where: { $0.hasPrefix("received") }) else { continue }
            // "2 received" (iputils) or "0 packets received" (busybox).
            let before = words[..<r].reversed().drop { $0 == "packets" }
            guard let count = before.first, let got = Int(count) else { continue }
            return (sent, got)
        }
        return nil
    }

    private func traceroute(_ request: TracerouteRequest) -> PushWorkResult {
        guard let (address, v6) = Self.numericAddress(request.address) else { return .traceroute(.pushFailed, []) }
        let maxHop = request.maxHop ?? 0
        let count = max(1, request.count ?? 1)
        let command = "command -v traceroute >/dev/null 2>&1 || exit 127; traceroute \(v6 ? "-6" : "-4") -n -m \(max(1, maxHop == 0 ? 30 : maxHop)) -q \(count) \(address)"
        let (status, output) = runTool(command)
        guard let status, status != 127 else {
            logger.warn("traceroute failed: \(status.map { "exit \($0)" } ?? "not run")")
            return .traceroute(.pushFailed, [])
        }
        return .traceroute(.success, Array(Self.tracerouteHops(output).prefix(maxHop)))
    }

    /// Lines `HOP ADDR ...` of `traceroute -n`; `*` hops keep their number with address `*`.
    static func tracerouteHops(_ output: String) -> [TracerouteHop] {
        var hops: [TracerouteHop] = []
        for line in output.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count >= 2, let hop = Int(words[0]) else { continue }
            hops.append(TracerouteHop(hop: hop, address: String(words[1])))
        }
        return hops
    }
}
