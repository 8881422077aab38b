/// What an RS push request asks for, after the checks every push transport
/// shares (push.md §2.2, §5.1, §5.7, §6): the tunnel machine and the
/// https-simple machine both turn a decoded request into a plan and then only
/// differ in how they answer and where done requests go.
enum PushRequestPlan: Equatable {
    /// Not a method the SA accepts from the RS: generic-error 202.
    case invalidType
    /// Answer at once with this code and body (sync answers, start refusals).
    case reply(ResultCode, ResponseBody?)
    /// push-confirmation-done (sync, no callback).
    case confirmationDone
    /// Answer 100, then end the loop with reboot.
    case reboot
    /// Answer 100, then end the loop with pull.
    case pullConfig(forgetEndpoint: Bool)
    /// Sync: run the work, answer with its output as `md-result id=moduleID`.
    case sync(PushWork, moduleID: UInt32)
    /// Async: answer the start with 100, run the work, send the done request.
    case async(PushWork)
    /// configure-start: store first (the start answer carries the store result).
    case configure(ConfigureRequest)

    /// The checks of push.md §5.7 and §6 for one request.
    /// - Parameters:
    ///   - transactionIDs: check-transaction's list (without the leading 0).
    ///   - configureBusy: a configure is in progress SA-wide (302).
    static func plan(_ request: ARMSRequest, distid: String, modules: [ModuleInfo],
                     transactionIDs: () -> [Int], configureBusy: Bool, dumpDebugFacts: () -> [String]) -> PushRequestPlan {
        let name = request.type.name
        guard MessageName.pushOperations.contains(name) || request.type == .pushConfirmationDone else { return .invalidType }
        if let d = request.distributionID, d != distid { return .reply(.distributionIDMismatch, .empty) }
        switch (name, request.body) {
        case (.pushConfirmation, _):
            return .confirmationDone
        case (.reboot, _):
            return .reboot
        case (.pullConfig, let body):
            var forget = false
            if case .pullConfig(let type) = body { forget = type == "LS" }
            return .pullConfig(forgetEndpoint: forget)
        case (.readModuleList, _):
            return .reply(.success, .moduleList(modules))
        case (.checkTransaction, _):
            return .reply(.success, .transactionIDs([0] + transactionIDs()))
        case (.mdCommand, .mdCommand(let commands)):
            guard let command = commands.first else { return .reply(.invalidParameter, .empty) }
            guard commands.count == 1 else { return .reply(.multipleRequest, .empty) }
            guard command.command.bytes.count <= 8192 else { return .reply(.saFailure, .empty) }
            return .sync(.mdCommand(command), moduleID: command.moduleID)
        case (.dumpDebug, _):
            return .sync(.dumpDebug(facts: dumpDebugFacts()), moduleID: 0)
        case (.configure, .configure(let configure)):
            return configureBusy ? .reply(.saBusy, .empty) : .configure(configure)
        case (.readStatus, .statusRequests(let requests)):
            return .async(.readStatus(requests.filter { $0.moduleID != nil }))
        case (.clearStatus, .statusRequests(let requests)):
            guard !requests.isEmpty, requests.allSatisfy({ $0.moduleID != nil }) else { return .reply(.invalidParameter, .empty) }
            return .async(.clearStatus(requests))
        case (.readStorage, .readStorage(let storage)):
            guard let storage, StorageName.accepted.contains(storage) else { return .reply(.invalidParameter, .empty) }
            return .async(.readStorage(storage))
        case (.ping, .ping(let ping)):
            guard ping.address != nil else { return .reply(.invalidParameter, .empty) }
            return .async(.ping(ping))
        case (.traceroute, .traceroute(let trace)):
            guard trace.address != nil, (trace.count ?? 0) != 0, (trace.maxHop ?? 0) <= 256 else {
                return .reply(.invalidParameter, .empty)
            }
            return .async(.traceroute(trace))
        default:
            return .reply(.invalidParameter, .empty)
        }
    }
}
