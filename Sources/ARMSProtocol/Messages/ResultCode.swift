/// An ARMS result code (`<result-code>`, `<transaction-result>`, `result="..."`).
///
/// The description strings are the fixed texts libarms writes in its responses;
/// their typos ("Falure", "Transction", "Addresss") are part of the wire format.
public struct ResultCode: RawRepresentable, Hashable, Sendable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    public var rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public init(_ value: Int) { self.rawValue = value }
    public init(integerLiteral value: Int) { self.rawValue = value }

    public static let success: ResultCode = 100
    public static let commandExecuteError: ResultCode = 102
    public static let invalidXML: ResultCode = 201
    public static let invalidMessageType: ResultCode = 202
    public static let invalidParameter: ResultCode = 203
    public static let serverBusy: ResultCode = 301
    public static let saBusy: ResultCode = 302
    public static let moduleSyncing: ResultCode = 303
    public static let badRequest: ResultCode = 400
    public static let serverFailure: ResultCode = 401
    public static let saFailure: ResultCode = 402
    public static let authenticationFailure: ResultCode = 403
    public static let standBy: ResultCode = 404
    public static let notFound: ResultCode = 405
    public static let tooManyTransactions: ResultCode = 406
    public static let tooManyStatus: ResultCode = 407
    public static let invalidStorage: ResultCode = 408
    public static let invalidModuleID: ResultCode = 409
    public static let validationFailure: ResultCode = 410
    public static let commitFailure: ResultCode = 411
    public static let transactionFailure: ResultCode = 412
    public static let resourceExhausted: ResultCode = 413
    public static let rollbacked: ResultCode = 414
    public static let systemError: ResultCode = 415
    public static let systemMismatch: ResultCode = 416
    public static let invalidHardware: ResultCode = 417
    public static let invalidFirmware: ResultCode = 418
    public static let moduleSyncNeeded: ResultCode = 419
    public static let distributionIDNotFound: ResultCode = 420
    public static let configurationNotFound: ResultCode = 421
    public static let multipleRequest: ResultCode = 422
    public static let distributionIDMismatch: ResultCode = 423
    public static let outOfService: ResultCode = 501
    public static let pushFailed: ResultCode = 502
    public static let needReboot: ResultCode = 503
    public static let addressMismatch: ResultCode = 504
    public static let notSupported: ResultCode = 505
    public static let serverMoved: ResultCode = 506
    public static let invalidType: ResultCode = 507
    public static let rollbackFailure: ResultCode = 508

    /// The text libarms puts in `<description>` when it answers with this code.
    public var text: String {
        switch rawValue {
        case 100: return "Success"
        case 102: return "Command Execute Error"
        case 201: return "Invalid XML"
        case 202: return "Invalid Message type"
        case 203: return "Invalid Parameter"
        case 301: return "Server Busy"
        case 302: return "SA Busy"
        case 303: return "Module syncing"
        case 400: return "Bad Request"
        case 401: return "Server Failure"
        case 402: return "SA Failure"
        case 403: return "Authentication Falure"
        case 404: return "SA Marked as stand-by"
        case 405: return "Not found"
        case 406: return "Too many Transaction"
        case 407: return "Too many Status"
        case 408: return "Invalid Storage"
        case 409: return "Invalid Module ID"
        case 410: return "Validation Failure"
        case 411: return "Commit Failure"
        case 412: return "Transction Failure"
        case 413: return "Resource Exhausted"
        case 414: return "SA Rollbacked"
        case 415: return "System Error"
        case 416: return "System Mismatch"
        case 417: return "Invalid Hardware"
        case 418: return "Invalid Firmware"
        case 419: return "Module Sync needed"
        case 420: return "Distribution ID not found"
        case 421: return "Configuration not found"
        case 422: return "Multiple Request"
        case 423: return "Distribution ID Mismatch"
        case 501: return "Out of Service"
        case 502: return "Push Failed"
        case 503: return "Need Reboot"
        case 504: return "Addresss Mismatch"
        case 505: return "Not Support"
        case 506: return "Server Moved"
        case 507: return "Invalid type"
        case 508: return "Rollback Failure"
        default: return "Unknown result"
        }
    }

    /// The class a code falls in, as libarms groups them.
    public enum Class: String, Sendable {
        /// < 100: never sent by a conforming peer; libarms treats it as a retryable failure.
        case belowRange
        /// 100–199.
        case success
        /// 200–299: message or format errors.
        case messageError
        /// 300–399: temporary.
        case temporary
        /// 400–499: failure.
        case failure
        /// ≥ 500: fatal or directive.
        case fatal
    }

    public var resultClass: Class {
        switch rawValue {
        case ..<100: return .belowRange
        case 100..<200: return .success
        case 200..<300: return .messageError
        case 300..<400: return .temporary
        case 400..<500: return .failure
        default: return .fatal
        }
    }

    public var isSuccess: Bool { resultClass == .success }

    public var description: String { "\(rawValue) \(text)" }
}

/// What a libarms client does after a pull response carried a given result code (pull.md §3.4).
public enum PullOutcome: Equatable, Sendable {
    /// The response is accepted (then its content is checked).
    case accept
    /// This URL failed: the client tries the next URL, then the next round.
    case tryNextServer
    /// `arms_pull()` stops with `ARMS_EREBOOT`.
    case reboot
    /// `arms_pull()` stops with `ARMS_EDONTRETRY`: never retry.
    case dontRetry
    /// LS: `arms_pull()` returns `ARMS_EPULL`. RS: fall back to the LS.
    case pullAgain

    /// The outcome of an LS `rs-solicitation` answer. `nil` means the element was
    /// missing or not a clean integer, which libarms treats as code 200.
    public static func forLocationServer(_ code: ResultCode?) -> PullOutcome {
        guard let code else { return .reboot }
        return common(code)
    }

    /// The outcome of an RS `config-solicitation` answer. A missing code is a retryable failure.
    public static func forRemoteServer(_ code: ResultCode?) -> PullOutcome {
        guard let code else { return .tryNextServer }
        return common(code)
    }

    private static func common(_ code: ResultCode) -> PullOutcome {
        switch code.rawValue {
        case 100..<200: return .accept
        case ..<100, 300..<500: return .tryNextServer
        case 200..<300: return .reboot
        case 501: return .dontRetry
        case 502: return .pullAgain
        default: return .reboot
        }
    }
}

/// What the SA does with a result code the RS sent in answer to one of its own
/// push-phase requests (push.md §2.4).
public enum PushOutcome: Equatable, Sendable {
    case success
    /// push-method-query / confirmation-start: try again per the mode's retry rules.
    /// X-done: the transaction ends (accepted as final).
    case retryOrAccept
    /// Stop the push loop and pull again (`ARMS_EPULL`).
    case pullAgain
    /// Stop, `ARMS_EDONTRETRY`.
    case dontRetry
    /// Stop, `ARMS_EREBOOT`.
    case reboot
    /// method-query / confirm-start answered 507 ("old RS"): no push method, ends with `ARMS_EPULL`.
    case noPushMethod

    /// - Parameter isDoneResponse: `true` for an X-done response, where 507 is an ordinary 5xx.
    public static func classify(_ code: ResultCode, isDoneResponse: Bool) -> PushOutcome {
        switch code.rawValue {
        case 100..<200: return .success
        case 200..<300: return .pullAgain
        case 501: return .dontRetry
        case 502, 508: return .pullAgain
        case 507: return isDoneResponse ? .reboot : .noPushMethod
        case 500...: return .reboot
        default: return .retryOrAccept
        }
    }
}
