import ARMSProtocol
import MockCore

/// How the tunnel endpoint answers a tunnel open request instead of `200` (fault injection).
public enum TunnelOpenFault: Equatable, Sendable {
    /// Answer this HTTP status (empty body, `Connection: close`), then close. libarms
    /// logs `tunnel#N: http response (<code>)` and reconnects after rs-retry-interval.
    case status(HTTPStatus)
    /// Close without answering.
    case close

    /// `fault:http-<code>`, `fault:close`.
    public var outcome: String {
        switch self {
        case .status(let s): return ExchangeOutcome.fault("http-\(s.code)")
        case .close: return ExchangeOutcome.fault("close")
        }
    }
}

/// What happens to one RS→SA ARMS message on a tunnel instead of being written whole
/// (fault injection; echo replies are not messages and are never touched).
public enum ChunkFault: Equatable, Sendable {
    /// Write the first half of the message's chunk bytes, then close the tunnel
    /// (no last chunk; TLS close_notify, FIN).
    case truncate
    /// One chunk whose size field is not hex (`zz;id=N;trail`), then the data.
    case malformedChunk
    /// Well-framed chunks whose data is broken XML (the root's end tag misspelt).
    case malformedXML

    /// `fault:chunk-truncate`, `fault:malformed-chunk`, `fault:malformed-xml`.
    public var outcome: String {
        switch self {
        case .truncate: return ExchangeOutcome.fault("chunk-truncate")
        case .malformedChunk: return ExchangeOutcome.fault("malformed-chunk")
        case .malformedXML: return ExchangeOutcome.fault("malformed-xml")
        }
    }
}
