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
/// | `.armsResult(c)` | HTTP 200, an ARMS response of the request's own type with result `c`, no body element (HTTP 400 when the type is unknown) | `fault:result-<c>` |
/// | `.malformedXML` | HTTP 200, `text/xml`, an unterminated `arms-message` | `fault:malformed-xml` |
///
/// `write` then shapes how whatever answer there is (the handler's or the fault's) goes out:
///
/// | write mode | effect | journal `outcome` |
/// |---|---|---|
/// | `.whole` | one write, then a clean close | unchanged |
/// | `.dribble(p)` | one byte per write, `p` between writes | unchanged, `detail` notes it |
/// | `.truncate(afterBytes: n)` | the first `n` bytes, then a clean close (TLS close_notify, FIN) | `fault:truncate` |
/// | `.reset(afterBytes: n)` | the first `n` bytes, then a TCP RST (`SO_LINGER {1,0}`, no close_notify) | `fault:reset` |
/// | `.truncateMidBody`, `.resetMidBody` | as above with `n` = head length + half the body | `fault:truncate`, `fault:reset` |
///
/// Byte counts are of the HTTP answer (inside TLS). `delay` combines with the others
/// (`ExchangeFault(delay: .seconds(31), action: .close)`).
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
        /// Answer HTTP 200 with an ARMS response of the request's own message type carrying
        /// this result code and no body element (HTTP 400 when the type is not known).
        case armsResult(Int)
        /// Answer HTTP 200 with a `text/xml` body that is broken XML.
        case malformedXML
    }

    /// How the answer's bytes are written.
    public enum WriteMode: Equatable, Sendable {
        /// In one write, then a clean close.
        case whole
        /// One byte per write, pausing this long after each.
        case dribble(Duration)
        /// The first `afterBytes` bytes, then a clean close.
        case truncate(afterBytes: Int)
        /// The first `afterBytes` bytes, then an abortive close (TCP RST, no TLS close_notify).
        case reset(afterBytes: Int)
        /// `.truncate` after the head and half the body.
        case truncateMidBody
        /// `.reset` after the head and half the body.
        case resetMidBody

        /// The journal outcome the mode imposes; nil when the answer's own stays.
        var outcome: String? {
            switch self {
            case .whole, .dribble: return nil
            case .truncate, .truncateMidBody: return ExchangeOutcome.fault("truncate")
            case .reset, .resetMidBody: return ExchangeOutcome.fault("reset")
            }
        }

        /// Whether the cut is a TCP reset rather than a clean close.
        var isAbortive: Bool {
            switch self {
            case .reset, .resetMidBody: return true
            case .whole, .dribble, .truncate, .truncateMidBody: return false
            }
        }

        /// How many bytes of `answer` go out before the cut; nil for no cut.
        func cut(of answer: [UInt8]) -> Int? {
            switch self {
            case .whole, .dribble: return nil
            case .truncate(let n), .reset(let n): return max(0, min(n, answer.count))
            case .truncateMidBody, .resetMidBody:
                let head = Self.headLength(answer)
                return head + (answer.count - head) / 2
            }
        }

        /// The length of the HTTP head (through CRLFCRLF), or the whole when there is none.
        static func headLength(_ bytes: [UInt8]) -> Int {
            guard bytes.count >= 4 else { return bytes.count }
            for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
                return i + 4
            }
            return bytes.count
        }
    }

    /// Waited before the action; zero for none.
    public var delay: Duration
    public var action: Action
    /// How the answer (the handler's or the action's) is written.
    public var write: WriteMode

    public init(delay: Duration = .zero, action: Action = .answer, write: WriteMode = .whole) {
        self.delay = delay
        self.action = action
        self.write = write
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
    /// Answer an ARMS result code instead of the handler's answer.
    public static func armsResult(_ code: Int) -> ExchangeFault { ExchangeFault(action: .armsResult(code)) }
    /// Answer broken XML.
    public static let malformedXML = ExchangeFault(action: .malformedXML)
    /// The handler's answer, cut after `afterBytes` bytes by a TCP RST.
    public static func reset(afterBytes: Int) -> ExchangeFault { ExchangeFault(write: .reset(afterBytes: afterBytes)) }
    /// The handler's answer, cut by a TCP RST in the middle of its body.
    public static let resetMidBody = ExchangeFault(write: .resetMidBody)
    /// The handler's answer, cut after `afterBytes` bytes by a clean close.
    public static func truncate(afterBytes: Int) -> ExchangeFault { ExchangeFault(write: .truncate(afterBytes: afterBytes)) }
    /// The handler's answer, one byte every `pause`.
    public static func dribble(_ pause: Duration) -> ExchangeFault { ExchangeFault(write: .dribble(pause)) }

    /// The journal outcome of a fault that replaces the answer; nil for `.answer`.
    var outcome: String? {
        switch action {
        case .answer: return nil
        case .close: return ExchangeOutcome.fault("close")
        case .status(let s): return ExchangeOutcome.fault("http-\(s.code)")
        case .raw: return ExchangeOutcome.fault("raw")
        case .armsResult(let code): return ExchangeOutcome.fault("result-\(code)")
        case .malformedXML: return ExchangeOutcome.fault("malformed-xml")
        }
    }

    /// An unterminated `arms-message`: the declaration and the opening of a response, cut off.
    public static func malformedXMLBody(type: String?) -> [UInt8] {
        let type = type.map { $0.filter { $0.isLetter || $0.isNumber || $0 == "-" } } ?? "unknown"
        return ARMSAnswer.xmlDeclaration + Array("<arms-message><arms-response type=\"\(type)\"><result-code>100</result-co".utf8)
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
