/// What the push phase needs from the pull (push.md §0): who the SA is, the
/// RS-SA key and the LS's retry policy.
public struct PushSettings: Equatable, Sendable {
    public var distributionID: DistributionID
    /// The SA description sent in SA requests (armsd: `armsd` or `sa-model-name`).
    public var description: String
    /// `rs-preshared-key`: Basic auth password for every push-phase request.
    public var presharedKey: String
    /// `rs-retry-max`: bounded reconnects per tunnel.
    public var retryMax: Int
    /// `rs-retry-interval` seconds: fixed wait before a tunnel reconnect.
    public var retryInterval: Int

    public init(distributionID: DistributionID, description: String, presharedKey: String,
                retryMax: Int, retryInterval: Int) {
        self.distributionID = distributionID
        self.description = description
        self.presharedKey = presharedKey
        self.retryMax = retryMax
        self.retryInterval = retryInterval
    }

    public var credentials: BasicCredentials { BasicCredentials(distributionID: distributionID, key: presharedKey) }
    var distid: String { distributionID.description }
}

/// How a push loop ended (push.md §1.2), for the daemon's dispatch (agent.md §4 step 11).
public enum PushLoopEnd: Equatable, Sendable {
    /// `ARMS_EREBOOT`.
    case reboot(trigger: String)
    /// `ARMS_EPULL`; `forgetEndpoint` after `pull-config` type LS.
    case pull(trigger: String, forgetEndpoint: Bool)
    /// `ARMS_EDONTRETRY` (RS answered 501).
    case dontRetry
    /// This method could not be confirmed (no tunnel left, watchdog): try the next offered method.
    case methodFailed

    /// The libarms code the daemon dispatches on.
    public var code: ARMSErrorCode {
        switch self {
        case .reboot: return .reboot
        case .pull, .methodFailed: return .pull
        case .dontRetry: return .dontRetry
        }
    }

    /// push.md §2.4: what a stopping result code from the RS means.
    static func forResult(_ code: ResultCode) -> PushLoopEnd? {
        switch code.rawValue {
        case 100..<200: return nil
        case 200..<300: return .pull(trigger: "got result of failure from server", forgetEndpoint: false)
        case 501: return .dontRetry
        case 502: return .pull(trigger: "received 502 Push failed", forgetEndpoint: false)
        case 503: return .reboot(trigger: "received 503 Need reboot")
        case 508: return .pull(trigger: "rollback failure", forgetEndpoint: false)
        case 500...: return .reboot(trigger: "got result of failure from server")
        default: return nil
        }
    }
}

/// Work the push machine hands to the daemon: callback scripts and system tools
/// (agent.md §5.2, §7). The daemon answers each with `PushWorkResult`.
public enum PushWork: Equatable, Sendable {
    /// `script-command <id> <request-file> <result-file>`.
    case mdCommand(ModuleCommand)
    /// The built-in report (agent.md §5.5); `facts` are the push-side lines.
    case dumpDebug(facts: [String])
    /// `script-status` per entry.
    case readStatus([StatusRequest])
    /// `script-clear` per entry.
    case clearStatus([StatusRequest])
    /// Every module's file of `storage` (`running`, `candidate`, `backup`).
    case readStorage(String)
    case ping(PingRequest)
    case traceroute(TracerouteRequest)
    /// Module-list diff (`stop` removed modules) and candidate store.
    case configureStore(ConfigureRequest)
    /// `reconfig` for every module with a candidate; rolls back itself on failure.
    case configureCommit
    /// Rollback of the last commit (RS refused configure-done).
    case configureRevert
}

/// What the daemon reports back for a `PushWork`.
public enum PushWorkResult: Equatable, Sendable {
    /// md-command / dump-debug: result code and output (nil: empty body element).
    case moduleOutput(ResultCode, Payload?)
    case statusReports([StatusReport])
    case storedConfigs([ModuleConfig])
    case ping(ResultCode, success: Int, failure: Int)
    case traceroute(ResultCode, [TracerouteHop])
    /// 100 stored; 410 a store failed; 411 a removal failed; 415 unknown module id. `modules` = module DB now.
    case configureStored(ResultCode, modules: [ModuleInfo])
    /// 100 committed, 303 module syncing, 414 rolled back, 508 the rollback failed too.
    case configureCommitted(ResultCode)
    /// Whether the rollback succeeded.
    case configureReverted(Bool)
}

/// The machine's requests to its driver.
public enum PushAction: Equatable, Sendable {
    case log(LibarmsLog)
    case state(from: AgentState, to: AgentState)
    /// Open TCP + TLS to the tunnel's URL; answer `.connected` or `.connectFailed`.
    case connect(tunnel: Int, url: ARMSURL)
    /// Write these byte strings in order, each as its own TLS write.
    case send(tunnel: Int, writes: [[UInt8]])
    /// Close a tunnel's connection: orderly = zero chunk already sent, close_notify; else drop.
    case close(tunnel: Int, orderly: Bool)
    /// Run the work now (blocking) and feed `.executed(token:_:)`.
    case execute(token: Int, PushWork)
    /// The push loop is over.
    case finish(PushLoopEnd)
}

/// What happens to the machine.
public enum PushEvent: Equatable, Sendable {
    case connected(tunnel: Int)
    case connectFailed(tunnel: Int, reason: String)
    case received(tunnel: Int, bytes: [UInt8])
    /// EOF or a read/write error.
    case connectionLost(tunnel: Int, reason: String)
    /// A deadline (`nextDeadline`) may have passed.
    case timer
    case executed(token: Int, PushWorkResult)
}
