import ARMSProtocol

/// What the exchange server does with one request instead of (or before) answering it
/// normally: the hook for fault injection.
///
/// The server asks its `ExchangeFaultHook` once per exchange, after the whole request
/// was read and before the handler runs. The decision is applied, then journaled:
///
/// | decision | effect | journal `outcome` |
/// |---|---|---|
/// | `.none` | the handler answers | the handler's |
/// | `.delay(d)` | wait `d`, then the handler answers | the handler's, `detail` notes the delay |
/// | `.close` | close without answering (the handler does not run) | `fault:close` |
/// | `.status(s)` | answer `s` with a short text body (the handler does not run) | `fault:http-<code>` |
/// | `.raw(bytes)` | write `bytes` as they are, then close (the handler does not run) | `fault:raw` |
///
/// `delay` combines with the others (`ExchangeFault(delay: .seconds(31), action: .close)`).
/// A delay is not bounded by the read timeout: it may deliberately exceed the client's
/// 30 s response timer. Stopping the server cuts it short.
public struct ExchangeFault: Equatable, Sendable {
    public enum Action: Equatable, Sendable {
        /// Let the handler answer.
        case answer
        /// Close the connection without writing anything.
        case close
        /// Answer with this HTTP status (HTTP/1.0, Content-Length, `text/plain` body).
        case status(HTTPStatus)
        /// Write these bytes verbatim (anything: a truncated or chunked answer, junk…).
        case raw([UInt8])
    }

    /// Waited before the action; zero for none.
    public var delay: Duration
    public var action: Action

    public init(delay: Duration = .zero, action: Action = .answer) {
        self.delay = delay
        self.action = action
    }

    /// Answer normally.
    public static let none = ExchangeFault()
    /// Close without answering.
    public static let close = ExchangeFault(action: .close)
    /// Answer normally after `duration`.
    public static func delay(_ duration: Duration) -> ExchangeFault { ExchangeFault(delay: duration) }
    /// Answer with an HTTP status instead of the handler's answer.
    public static func status(_ status: HTTPStatus) -> ExchangeFault { ExchangeFault(action: .status(status)) }
    /// Write raw bytes instead of the handler's answer.
    public static func raw(_ bytes: [UInt8]) -> ExchangeFault { ExchangeFault(action: .raw(bytes)) }

    /// The journal outcome of a fault that replaces the answer; nil for `.answer`.
    var outcome: String? {
        switch action {
        case .answer: return nil
        case .close: return ExchangeOutcome.fault("close")
        case .status(let s): return ExchangeOutcome.fault("http-\(s.code)")
        case .raw: return ExchangeOutcome.fault("raw")
        }
    }
}

/// What the fault hook knows about an exchange when it decides.
public struct ExchangeFaultContext: Sendable {
    public var role: ServerRole
    public var request: ExchangeRequest
    /// The Basic-auth user read as a distribution id (canonical form), when it is one.
    /// Not verified: the handler has not run yet.
    public var claimedSA: String?
    /// The `type` attribute of the ARMS request, when the body reads as one.
    public var messageType: String?

    public init(role: ServerRole, request: ExchangeRequest, claimedSA: String?, messageType: String?) {
        self.role = role
        self.request = request
        self.claimedSA = claimedSA
        self.messageType = messageType
    }
}

/// Decides the fault (usually `.none`) for one exchange. Called on a server task; keep it quick.
public typealias ExchangeFaultHook = @Sendable (ExchangeFaultContext) -> ExchangeFault
