import ARMSProtocol
import Agent

/// What a simulated SA answers to the push operations, in place of armsd's
/// callback scripts (docs/fleet-simulator.md lists them):
///
/// - md-command: 100 and its own command back (an echo).
/// - dump-debug: the distribution id and the push machine's facts.
/// - read-status / clear-status: 100 with `module N: ok` / `module N: cleared` per module asked.
/// - read-storage: every module's config held in memory (running, candidate or backup).
/// - configure: stores the candidates and the module list, the commit makes them running (100);
///   a revert puts the previous running configs back.
/// - ping: every packet answered; traceroute: one hop, the target itself.
struct SimulatedOperations {
    let distributionID: DistributionID
    private(set) var modules: [ModuleInfo]
    private var running: [UInt32: Payload] = [:]
    private var candidate: [UInt32: Payload] = [:]
    private var backup: [UInt32: Payload] = [:]

    init(distributionID: DistributionID, modules: [ModuleInfo], configs: [ModuleConfig]) {
        self.distributionID = distributionID
        self.modules = modules
        for config in configs { running[config.id] = config.content }
    }

    mutating func perform(_ work: PushWork) -> PushWorkResult {
        switch work {
        case .mdCommand(let command):
            return .moduleOutput(.success, Payload(bytes: command.command.bytes))
        case .dumpDebug(let facts):
            let lines = ["Distribution-ID: \(distributionID)", "Simulated SA (warplink-mock fleet)", ""] + facts
            return .moduleOutput(.success, Payload(text: lines.joined(separator: "\n") + "\n"))
        case .readStatus(let requests):
            return .statusReports(requests.map { StatusReport(moduleID: $0.moduleID ?? 0, report: Payload(text: "module \($0.moduleID ?? 0): ok\n")) })
        case .clearStatus(let requests):
            return .statusReports(requests.map { StatusReport(moduleID: $0.moduleID ?? 0, report: Payload(text: "module \($0.moduleID ?? 0): cleared\n")) })
        case .readStorage(let storage):
            let store: [UInt32: Payload]
            switch storage {
            case StorageName.candidate: store = candidate
            case StorageName.backup: store = backup
            default: store = running
            }
            return .storedConfigs(modules.map { ModuleConfig(id: $0.id, content: store[$0.id] ?? "") })
        case .ping(let request):
            return .ping(.success, success: max(1, request.count ?? 0), failure: 0)
        case .traceroute(let request):
            return .traceroute(.success, [TracerouteHop(hop: 1, address: request.address ?? "*")])
        case .configureStore(let request):
            if !request.modules.isEmpty { modules = request.modules }
            for config in request.configs {
                guard modules.contains(where: { $0.id == config.id }) else { return .configureStored(.systemError, modules: modules) }
                candidate[config.id] = config.content
            }
            return .configureStored(.success, modules: modules)
        case .configureCommit:
            backup = running
            for (id, content) in candidate { running[id] = content }
            candidate = [:]
            return .configureCommitted(.success)
        case .configureRevert:
            running = backup
            return .configureReverted(true)
        }
    }
}
