/// Why a heartbeat server drops a datagram, as a stable short code a server can
/// count by (heartbeat.md §9). The raw values never change.
///
/// The decoder produces every reason except ``unknownSA`` and ``badMAC``: those
/// come from the server's own SA lookup and from
/// ``HeartbeatDatagram/verify(passphrase:digests:)``.
public enum HeartbeatRejectReason: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    /// Shorter than the 44-byte prefix.
    case tooShort = "too-short"
    /// Longer than the configured limit (1024 by default).
    case tooLong = "too-long"
    /// Bytes 0..<4 are not `00 01 00 14` or bytes 24..<28 are not `00 11 00 10`.
    case badPrefix = "bad-prefix"
    /// Fewer than 4 bytes left where a TLV header should start.
    case truncatedTLV = "truncated-tlv"
    /// A TLV's declared length runs past the end of the datagram.
    case overrun = "overrun"
    /// A known statistic type with a length other than its fixed one.
    case badLength = "bad-length"
    /// Type 0x0000, 0x0001 or 0x0011 after the prefix.
    case reservedType = "reserved-type"
    /// The same (type, index) pair twice.
    case duplicate = "duplicate"
    /// The distribution id belongs to no known SA (decided by the server).
    case unknownSA = "unknown-sa"
    /// No passphrase issued to the SA reproduces the digest.
    case badMAC = "bad-mac"

    public var description: String { rawValue }
}

/// A structural fault found by ``HeartbeatDatagram/init(decoding:maximumLength:)``.
/// Offsets are byte offsets in the datagram; for TLV faults, of the TLV's type field.
public enum HeartbeatDecodeError: Error, Hashable, Sendable, CustomStringConvertible {
    case tooShort(length: Int)
    case tooLong(length: Int, limit: Int)
    case badPrefix(offset: Int)
    case truncatedTLV(offset: Int, remaining: Int)
    case overrun(offset: Int, type: UInt16, length: Int)
    case badLength(offset: Int, type: UInt16, length: Int)
    case reservedType(offset: Int, type: UInt16)
    case duplicate(offset: Int, type: UInt16, index: UInt16)

    /// The short code to count this rejection under.
    public var reason: HeartbeatRejectReason {
        switch self {
        case .tooShort: return .tooShort
        case .tooLong: return .tooLong
        case .badPrefix: return .badPrefix
        case .truncatedTLV: return .truncatedTLV
        case .overrun: return .overrun
        case .badLength: return .badLength
        case .reservedType: return .reservedType
        case .duplicate: return .duplicate
        }
    }

    public var description: String {
        let detail: String
        switch self {
        case .tooShort(let n):
            detail = "\(n) bytes, fewer than the \(HeartbeatDatagram.prefixLength)-byte prefix"
        case .tooLong(let n, let limit):
            detail = "\(n) bytes, limit \(limit)"
        case .badPrefix(let o):
            detail = "unexpected TLV header at offset \(o)"
        case .truncatedTLV(let o, let r):
            detail = "only \(r) bytes left for a TLV header at offset \(o)"
        case .overrun(let o, let t, let l):
            detail = "type 0x\(HeartbeatWire.hex4(t)) at offset \(o) declares \(l) bytes past the end"
        case .badLength(let o, let t, let l):
            detail = "type 0x\(HeartbeatWire.hex4(t)) at offset \(o) has length \(l)"
        case .reservedType(let o, let t):
            detail = "type 0x\(HeartbeatWire.hex4(t)) repeated at offset \(o)"
        case .duplicate(let o, let t, let i):
            detail = "type 0x\(HeartbeatWire.hex4(t)) index \(i) repeated at offset \(o)"
        }
        return "heartbeat \(reason.rawValue): \(detail)"
    }
}
