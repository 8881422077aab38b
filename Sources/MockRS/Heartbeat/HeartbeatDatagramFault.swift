import ARMSProtocol

/// What the heartbeat receiver does with one received datagram before its ledger sees it:
/// the scenario runner's hook for network faults on the heartbeat path.
///
/// The receiver asks its hook (``HeartbeatReceiver/setDatagramFault(_:)``) once per
/// datagram read from a socket. The decision is applied, counted (overview and, when the
/// datagram's prefix names a provisioned SA, that SA's snapshot) and journaled with the
/// ledger's thinning (the first ``HeartbeatLedger/journalFirstRejections`` per SA or
/// globally and fault, then the 2ⁿ-th):
///
/// | fault | effect | journal `outcome` |
/// |---|---|---|
/// | `.none` | the ledger checks the datagram | the ledger's |
/// | `.drop` | the ledger never sees it, as if lost on the way | `fault:drop` |
/// | `.duplicate` | the ledger checks it twice, as if the network doubled it | `fault:duplicate`, then the ledger's for each copy |
/// | `.corrupt` | one byte of the digest is flipped, so verification fails (`bad-mac`) | `fault:corrupt`, then the ledger's |
public enum HeartbeatDatagramFault: String, CaseIterable, Sendable {
    case none
    case drop
    case duplicate
    case corrupt

    /// The journal outcome of an applied fault (`fault:drop`, …); nil for `.none`.
    var outcome: String? { self == .none ? nil : "fault:" + rawValue }

    /// `bytes` with one byte flipped: the first digest byte (offset 4) when the datagram is
    /// long enough, so the prefix still names the SA and the datagram fails as `bad-mac`;
    /// else the last byte. An empty datagram stays empty.
    public static func corrupted(_ bytes: [UInt8]) -> [UInt8] {
        var out = bytes
        guard !out.isEmpty else { return out }
        let at = out.count > 4 ? 4 : out.count - 1
        out[at] ^= 0xFF
        return out
    }
}

/// What the fault hook knows about a datagram when it decides.
public struct HeartbeatDatagramFaultContext: Sendable {
    /// The sender's `host:port`.
    public var source: String?
    /// The datagram's size in bytes.
    public var byteCount: Int
    /// The distribution id in the datagram's 44-byte prefix, when that prefix is intact
    /// (not verified: the ledger has not run; the SA may not even be provisioned).
    public var claimedSA: DistributionID?

    public init(source: String?, byteCount: Int, claimedSA: DistributionID?) {
        self.source = source
        self.byteCount = byteCount
        self.claimedSA = claimedSA
    }
}

/// The fault hook: asked once per received datagram.
public typealias HeartbeatDatagramFaultHook = @Sendable (HeartbeatDatagramFaultContext) -> HeartbeatDatagramFault
