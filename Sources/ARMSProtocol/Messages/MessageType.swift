/// The method names of the ARMS protocol (the `type` attribute without its `-start`/`-done` suffix).
public enum MessageName: String, CaseIterable, Sendable {
    // Pull (SA → LS / RS).
    case rsSolicitation = "rs-solicitation"
    case configSolicitation = "config-solicitation"
    // Push set-up (SA → RS).
    case pushMethodQuery = "push-method-query"
    case pushConfirmation = "push-confirmation"
    /// Legacy; defined by libarms but never sent by 5.33.
    case pushReady = "push-ready"
    // Push operations (RS → SA).
    case configure
    case reboot
    case mdCommand = "md-command"
    case readStatus = "read-status"
    case clearStatus = "clear-status"
    case readStorage = "read-storage"
    case ping
    case traceroute
    case dumpDebug = "dump-debug"
    case checkTransaction = "check-transaction"
    case pullConfig = "pull-config"
    case readModuleList = "read-module-list"
    /// The reply type for requests the SA cannot use.
    case genericError = "generic-error"

    /// Two-step operations: `-start` request, `-start` response, then a `-done` exchange.
    public var isAsync: Bool {
        switch self {
        case .configure, .readStatus, .clearStatus, .readStorage, .ping, .traceroute: return true
        default: return false
        }
    }

    /// The twelve push operations an RS can send to an SA.
    public static let pushOperations: [MessageName] = [
        .configure, .reboot, .mdCommand, .readStatus, .clearStatus, .readStorage,
        .ping, .traceroute, .dumpDebug, .checkTransaction, .pullConfig, .readModuleList,
    ]
}

/// Which step of a method a message belongs to.
public enum MessagePhase: String, Sendable {
    /// A one-step method: the type is the bare name.
    case single
    /// `NAME-start`.
    case start
    /// `NAME-done`.
    case done
}

/// A message type: the value of the `type` attribute, e.g. `ping-start`.
public struct MessageType: Hashable, Sendable, CustomStringConvertible {
    public var name: MessageName
    public var phase: MessagePhase

    public init(_ name: MessageName, _ phase: MessagePhase = .single) {
        self.name = name
        self.phase = phase
    }

    /// Parses a `type` attribute value: a known name exactly, or a name followed by `-start` or `-done`.
    public init?(attribute: String) {
        if let name = MessageName(rawValue: attribute) {
            self.init(name)
            return
        }
        for phase in [MessagePhase.start, .done] {
            let suffix = "-" + phase.rawValue
            if attribute.hasSuffix(suffix), let name = MessageName(rawValue: String(attribute.dropLast(suffix.count))) {
                self.init(name, phase)
                return
            }
        }
        return nil
    }

    /// The `type` attribute value.
    public var attribute: String {
        switch phase {
        case .single: return name.rawValue
        case .start: return name.rawValue + "-start"
        case .done: return name.rawValue + "-done"
        }
    }

    /// The body element of a request of this type (`ping-start-request`).
    public var requestElement: String { attribute + "-request" }
    /// The body element of a response of this type (`ping-start-response`).
    public var responseElement: String { attribute + "-response" }

    public var description: String { attribute }

    public static let rsSolicitation = MessageType(.rsSolicitation)
    public static let configSolicitation = MessageType(.configSolicitation)
    public static let pushMethodQuery = MessageType(.pushMethodQuery)
    public static let pushConfirmationStart = MessageType(.pushConfirmation, .start)
    public static let pushConfirmationDone = MessageType(.pushConfirmation, .done)
    public static let genericError = MessageType(.genericError)
}
