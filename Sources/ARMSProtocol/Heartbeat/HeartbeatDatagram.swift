/// A structurally valid heartbeat datagram, as a receiver sees it
/// (heartbeat.md §3, §9 steps 1, 2 and 5).
///
/// Decoding checks length, prefix and the TLV walk but not the digest: the
/// receiver first looks the ``distributionID`` up, then calls
/// ``verify(anyOf:)`` with the passphrases it issued to that SA.
///
/// ```swift
/// let datagram = try HeartbeatDatagram(decoding: payload)   // else count error.reason
/// guard let sa = lookUp(datagram.distributionID) else { /* .unknownSA */ }
/// guard datagram.verify(anyOf: sa.passphrases) else { /* .badMAC */ }
/// ```
public struct HeartbeatDatagram: Hashable, Sendable {
    /// libarms' buffer size, the largest datagram it ever sends.
    public static let maximumLength = 1024
    /// Length of the fixed prefix (HMAC TLV + distribution-id TLV), the smallest datagram.
    public static let prefixLength = 44

    /// The datagram exactly as received.
    public let bytes: [UInt8]
    /// The sender's identity, from bytes 28..<44 (the version field is not checked).
    public let distributionID: DistributionID
    /// The statistics in wire order, unknown types included as ``HeartbeatStatistic/unknown(_:)``.
    public let statistics: [HeartbeatStatistic]

    /// Decodes and checks the structure of `bytes`.
    ///
    /// - Parameter maximumLength: longest accepted datagram (default 1024).
    /// - Throws: ``HeartbeatDecodeError``; its ``HeartbeatDecodeError/reason``
    ///   is the code to count the drop under.
    public init(decoding bytes: some Collection<UInt8>, maximumLength: Int = Self.maximumLength)
        throws(HeartbeatDecodeError)
    {
        let b = Array(bytes)
        let n = b.count
        guard n >= Self.prefixLength else { throw .tooShort(length: n) }
        guard n <= maximumLength else { throw .tooLong(length: n, limit: maximumLength) }
        guard b[0..<4].elementsEqual(HeartbeatWire.hmacHeader) else { throw .badPrefix(offset: 0) }
        guard b[24..<28].elementsEqual(HeartbeatWire.distributionIDHeader) else { throw .badPrefix(offset: 24) }

        let idStart = HeartbeatWire.distributionIDRange.lowerBound
        distributionID = DistributionID(
            version: HeartbeatWire.readBigEndian(UInt16.self, from: b, at: idStart),
            vendorCode: HeartbeatWire.readBigEndian(UInt32.self, from: b, at: idStart + 2),
            saType: HeartbeatWire.readBigEndian(UInt16.self, from: b, at: idStart + 6),
            saCode: HeartbeatWire.readBigEndian(UInt64.self, from: b, at: idStart + 8))

        var statistics = [HeartbeatStatistic]()
        var seen = Set<UInt32>()
        var offset = Self.prefixLength
        while offset < n {
            let remaining = n - offset
            guard remaining >= HeartbeatWire.tlvHeaderLength else {
                throw .truncatedTLV(offset: offset, remaining: remaining)
            }
            let type = HeartbeatWire.readBigEndian(UInt16.self, from: b, at: offset)
            let length = Int(HeartbeatWire.readBigEndian(UInt16.self, from: b, at: offset + 2))
            let valueStart = offset + HeartbeatWire.tlvHeaderLength
            guard length <= n - valueStart else { throw .overrun(offset: offset, type: type, length: length) }
            guard !HeartbeatWire.isPrefixOrInvalid(type) else { throw .reservedType(offset: offset, type: type) }

            let statistic: HeartbeatStatistic
            if let kind = HeartbeatStatistic.Kind(rawValue: type) {
                guard length == kind.valueLength else {
                    throw .badLength(offset: offset, type: type, length: length)
                }
                statistic = HeartbeatStatistic(kind: kind, bytes: b, at: valueStart)
                if let key = statistic.uniquenessKey, !seen.insert(key).inserted {
                    throw .duplicate(offset: offset, type: type, index: statistic.index ?? 0)
                }
            } else {
                statistic = .unknown(.init(type: type, value: Array(b[valueStart..<valueStart + length])))
            }
            statistics.append(statistic)
            offset = valueStart + length
        }
        self.bytes = b
        self.statistics = statistics
    }

    /// The 20 digest bytes (offsets 4..<24) as received.
    public var digest: ArraySlice<UInt8> { bytes[HeartbeatWire.digestRange] }

    /// The TLVs of types this library does not know, in wire order (skipped, for reporting).
    public var unknownStatistics: [HeartbeatStatistic.Raw] {
        statistics.compactMap { if case .unknown(let raw) = $0 { return raw } else { return nil } }
    }

    /// Implausible values in the statistics (heartbeat.md §9 step 6). They do
    /// not make the datagram invalid.
    public var warnings: [HeartbeatWarning] { statistics.flatMap(\.warnings) }

    /// Whether the digest is the HMAC-SHA1 of this datagram under `passphrase`.
    /// The comparison takes the same time wherever the digests differ.
    public func verify(passphrase: String) -> Bool {
        HeartbeatMAC.constantTimeEqual(digest, HeartbeatMAC.digest(of: bytes, passphrase: passphrase))
    }

    /// Whether any of `passphrases` verifies the digest (an SA that was given
    /// several heartbeat servers). Every passphrase is tried, so the time taken
    /// does not reveal which one matched.
    public func verify(anyOf passphrases: some Sequence<String>) -> Bool {
        var matched = false
        for passphrase in passphrases where verify(passphrase: passphrase) { matched = true }
        return matched
    }
}
