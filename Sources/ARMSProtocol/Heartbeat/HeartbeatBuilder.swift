/// Why ``HeartbeatBuilder/append(_:)`` refused a statistic. Nothing is
/// appended when an error is thrown.
public enum HeartbeatBuildError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The TLV does not fit in the datagram size limit (libarms `ARMS_ESIZE`).
    case noSpace(needed: Int, available: Int)
    /// This (type, index) pair is already in the datagram (libarms `ARMS_EEXIST`).
    case duplicate(type: UInt16, index: UInt16)
    /// A raw statistic may not use a prefix type (0x0000, 0x0001, 0x0011) or the
    /// code of a known type (use the typed case instead).
    case reservedType(UInt16)

    public var description: String {
        switch self {
        case .noSpace(let needed, let available):
            return "heartbeat: statistic needs \(needed) bytes, only \(available) left"
        case .duplicate(let type, let index):
            return "heartbeat: type 0x\(HeartbeatWire.hex4(type)) index \(index) already set"
        case .reservedType(let type):
            return "heartbeat: type 0x\(HeartbeatWire.hex4(type)) cannot be added as a raw statistic"
        }
    }
}

/// Builds heartbeat datagrams the way libarms' sender does (heartbeat.md §3, §4, §10).
///
/// The buffer starts with the 44-byte prefix (HMAC TLV with a zeroed digest,
/// then the distribution-id TLV). Statistics are appended in call order. One
/// builder can be signed for several servers: each ``sign(passphrase:digests:)`` call
/// returns the same bytes with the digest computed for that passphrase.
///
/// ```swift
/// var builder = HeartbeatBuilder(distributionID: id)
/// try builder.append(.cpuUsage(.init(index: 0, utilization: 50)))
/// let datagram = builder.sign(passphrase: "s3cret-passphrase", digests: digests)
/// ```
public struct HeartbeatBuilder: Sendable {
    /// The distribution id written into the prefix.
    public let distributionID: DistributionID
    /// The size limit in bytes, prefix included.
    public let maximumLength: Int

    /// The datagram so far, digest bytes zeroed.
    public private(set) var unsignedDatagram: [UInt8]
    private var usedKeys: Set<UInt32> = []

    /// Starts a datagram holding only the prefix.
    ///
    /// - Parameter maximumLength: size limit in bytes; libarms uses
    ///   ``HeartbeatDatagram/maximumLength`` (1024). Values below the prefix
    ///   length are raised to it.
    public init(distributionID: DistributionID, maximumLength: Int = HeartbeatDatagram.maximumLength) {
        self.distributionID = distributionID
        self.maximumLength = max(maximumLength, HeartbeatDatagram.prefixLength)
        var prefix = [UInt8]()
        prefix.reserveCapacity(self.maximumLength)
        prefix.append(contentsOf: HeartbeatWire.hmacHeader)
        prefix.append(contentsOf: repeatElement(0, count: HeartbeatMAC.digestLength))
        prefix.append(contentsOf: HeartbeatWire.distributionIDHeader)
        prefix.append(contentsOf: distributionID.bytes)
        unsignedDatagram = prefix
    }

    /// Bytes still free for statistics.
    public var remainingCapacity: Int { maximumLength - unsignedDatagram.count }

    /// Appends one statistic TLV after those already added.
    ///
    /// - Throws: ``HeartbeatBuildError/duplicate(type:index:)`` if the (type,
    ///   index) pair is already present, ``HeartbeatBuildError/noSpace(needed:available:)``
    ///   if it does not fit, ``HeartbeatBuildError/reservedType(_:)`` for a raw
    ///   statistic with a reserved or known type code.
    public mutating func append(_ statistic: HeartbeatStatistic) throws(HeartbeatBuildError) {
        if case .unknown(let raw) = statistic,
           HeartbeatWire.isPrefixOrInvalid(raw.type) || HeartbeatStatistic.Kind(rawValue: raw.type) != nil {
            throw .reservedType(raw.type)
        }
        let key = statistic.uniquenessKey
        if let key, usedKeys.contains(key) {
            throw .duplicate(type: statistic.type, index: statistic.index ?? 0)
        }
        let needed = HeartbeatWire.tlvHeaderLength + statistic.valueLength
        guard needed <= remainingCapacity else {
            throw .noSpace(needed: needed, available: remainingCapacity)
        }
        if let key { usedKeys.insert(key) }
        statistic.appendTLV(to: &unsignedDatagram)
    }

    /// Drops all statistics, keeping the prefix (what libarms does at every tick).
    public mutating func removeAllStatistics() {
        unsignedDatagram.removeSubrange(HeartbeatDatagram.prefixLength...)
        usedKeys.removeAll(keepingCapacity: true)
    }

    /// The datagram to send to the server that uses `passphrase`: the current
    /// bytes with HMAC-SHA1 (key = the passphrase's UTF-8 bytes, message = the
    /// whole datagram with bytes 4..<24 zero) written into bytes 4..<24.
    public func sign(passphrase: String, digests: any ARMSDigests) -> [UInt8] {
        var datagram = unsignedDatagram
        datagram.replaceSubrange(HeartbeatWire.digestRange,
                                 with: HeartbeatMAC.digest(of: unsignedDatagram, passphrase: passphrase, digests: digests))
        return datagram
    }
}
