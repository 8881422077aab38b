/// The libarms client states (pull.md §6.7, agent.md §11), with armsd's names.
public enum AgentState: Int, Sendable, CustomStringConvertible {
    case initial = 0
    case lsPull = 1
    case rsPull = 2
    case pullDone = 3
    case bootFail = 4
    case pushInitial = 10
    case pushSendReady = 11
    case pushWait = 12
    case pushAddTransaction = 13
    case pushExecuteTransaction = 14
    case pushTerminate = 15
    case pushReboot = 16

    /// The name armsd logs and passes to the state-changed script.
    public var name: String {
        switch self {
        case .initial: return "INITIAL"
        case .lsPull: return "LSPULL"
        case .rsPull: return "RSPULL"
        case .pullDone: return "PULLDONE"
        case .bootFail: return "BOOT_FAIL"
        case .pushInitial: return "PUSH_INITIAL"
        case .pushSendReady: return "PUSH_SENDREADY"
        case .pushWait: return "PUSH_WAIT"
        case .pushReboot: return "PUSH_REBOOT"
        case .pushAddTransaction, .pushExecuteTransaction, .pushTerminate: return "(unknown)"
        }
    }

    public var description: String { name }
}

/// libarms' API result codes (pull.md §6.8): `(level << 8) | type`.
public struct ARMSErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let fatal = ARMSErrorCode(rawValue: 0x400)
    public static let timeout = ARMSErrorCode(rawValue: 0x167)
    public static let maxRetry = ARMSErrorCode(rawValue: 0x265)
    public static let dontRetry = ARMSErrorCode(rawValue: 0x466)
    public static let callback = ARMSErrorCode(rawValue: 0x4FB)
    public static let invalid = ARMSErrorCode(rawValue: 0x4FC)
    public static let system = ARMSErrorCode(rawValue: 0x4FD)
    public static let reboot = ARMSErrorCode(rawValue: 104)
    public static let pull = ARMSErrorCode(rawValue: 105)
    public static let push = ARMSErrorCode(rawValue: 108)

    public var level: Int { (rawValue & 0xFF00) >> 8 }
    public var type: Int { rawValue & 0xFF }
    public var description: String { String(rawValue) }
}

/// A line from libarms' log callback: a numeric code (pull.md §8) and its text.
public struct LibarmsLog: Equatable, Sendable, CustomStringConvertible {
    public var code: Int
    public var text: String

    public init(_ code: Int, _ text: String) {
        self.code = code
        self.text = text
    }

    public static func debug(_ text: String) -> LibarmsLog { LibarmsLog(200, text) }

    public var isDebug: Bool { code == 200 }
    /// armsd's rendering: `log callback: <code> - <text>`.
    public var description: String { "log callback: \(code) - \(text)" }
}
