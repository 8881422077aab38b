/// A structurally valid heartbeat datagram, as a receiver sees it
/// (heartbeat.md §3, §9 steps 1, 2 and 5).
///
/// Decoding checks length, prefix and the TLV walk but not the digest: the
/// receiver first looks the ``distributionID`` up, then calls
/// ``verify(anyOf:digests:)`` with the passphrases it issued to that SA.
///
/// ```swift
/// let datagram = try HeartbeatDatagram(decoding: payload)   // else count error.reason
/// guard let sa = lookUp(datagram.distributionID) else { /* .unknownSA */ }
/// guard datagram.verify(anyOf: sa.passphrases, digests: digests) else { /* .badMAC */ }
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
        var statistics = [HeartbeatStatistic]()
        distributionID = try Self.walk(b, maximumLength: maximumLength) { known, type, value in
            statistics.append(known ?? .unknown(.init(type: type, value: Array(b[value]))))
        }
        self.bytes = b
        self.statistics = statistics
    }

    /// What ``check(_:maximumLength:)`` learns about a structurally valid datagram.
    public struct Summary: Hashable, Sendable {
        /// The sender's identity, from bytes 28..<44.
        public var distributionID: DistributionID
        /// How many ``HeartbeatWarning``s the statistics carry (`warnings.count` of the decoded datagram).
        public var warningCount: Int
    }

    /// The same checks as ``init(decoding:maximumLength:)``, with the same errors, without
    /// building the statistics: no heap allocation for datagrams up to a few KB. For a
    /// receiver that keeps the bytes and decodes them only when asked.
    public static func check(_ bytes: [UInt8], maximumLength: Int = Self.maximumLength)
        throws(HeartbeatDecodeError) -> Summary
    {
        var warnings = 0
        let id = try walk(bytes, maximumLength: maximumLength) { known, _, _ in
            if let known { warnings += known.warningCount }
        }
        return Summary(distributionID: id, warningCount: warnings)
    }

    /// The distribution id a datagram's prefix names, when the prefix is what libarms
    /// writes (nothing else is checked, the digest least of all): whom a receiver charges a
    /// datagram to before it decodes it.
    public static func claimedDistributionID(_ bytes: [UInt8]) -> DistributionID? {
        guard bytes.count >= prefixLength, HeartbeatWire.badPrefixOffset(bytes) == nil else { return nil }
        return HeartbeatWire.distributionID(in: bytes)
    }

    /// The decoder's walk: length, prefix, then every TLV in wire order, handed to `visit`
    /// as the decoded statistic (nil for an unknown type), its type and its value range.
    /// Throws at the first structural fault, before visiting the faulty TLV.
    static func walk(_ b: [UInt8], maximumLength: Int,
                     _ visit: (HeartbeatStatistic?, UInt16, Range<Int>) -> Void) throws(HeartbeatDecodeError) -> DistributionID
    {
        let n = b.count
        guard n >= Self.prefixLength else { throw .tooShort(length: n) }
        guard n <= maximumLength else { throw .tooLong(length: n, limit: maximumLength) }
        if let offset = HeartbeatWire.badPrefixOffset(b) { throw .badPrefix(offset: offset) }
        let id = HeartbeatWire.distributionID(in: b)

        // The (type, index) keys seen so far, for the one-per-pair rule: at most one per
        // smallest known TLV (7 bytes), on the stack for ordinary sizes.
        let keyCapacity = (n - Self.prefixLength) / HeartbeatStatistic.Kind.cpuUsage.tlvLength + 1
        let fault: HeartbeatDecodeError? = withUnsafeTemporaryAllocation(of: UInt32.self, capacity: keyCapacity) { seen in
            var seenCount = 0
            var offset = Self.prefixLength
            while offset < n {
                let remaining = n - offset
                guard remaining >= HeartbeatWire.tlvHeaderLength else {
                    return .truncatedTLV(offset: offset, remaining: remaining)
                }
                let type = HeartbeatWire.readBigEndian(UInt16.self, from: b, at: offset)
                let length = Int(HeartbeatWire.readBigEndian(UInt16.self, from: b, at: offset + 2))
                let valueStart = offset + HeartbeatWire.tlvHeaderLength
                guard length <= n - valueStart else { return .overrun(offset: offset, type: type, length: length) }
                guard !HeartbeatWire.isPrefixOrInvalid(type) else { return .reservedType(offset: offset, type: type) }

                if let kind = HeartbeatStatistic.Kind(rawValue: type) {
                    guard length == kind.valueLength else {
                        return .badLength(offset: offset, type: type, length: length)
                    }
                    let statistic = HeartbeatStatistic(kind: kind, bytes: b, at: valueStart)
                    let index = HeartbeatWire.readBigEndian(UInt16.self, from: b, at: valueStart)
                    let key = UInt32(type) << 16 | UInt32(index)
                    if seen[0..<seenCount].contains(key) {
                        return .duplicate(offset: offset, type: type, index: index)
                    }
                    seen[seenCount] = key
                    seenCount += 1
                    visit(statistic, type, valueStart..<valueStart + length)
                } else {
                    visit(nil, type, valueStart..<valueStart + length)
                }
                offset = valueStart + length
            }
            return nil
        }
        if let fault { throw fault }
        return id
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
    public func verify(passphrase: String, digests: any ARMSDigests) -> Bool {
        HeartbeatKey(passphrase: passphrase, digests: digests).verifies(bytes)
    }

    /// Whether any of `passphrases` verifies the digest (an SA that was given
    /// several heartbeat servers). Every passphrase is tried, so the time taken
    /// does not reveal which one matched.
    public func verify(anyOf passphrases: some Sequence<String>, digests: any ARMSDigests) -> Bool {
        var matched = false
        for passphrase in passphrases where verify(passphrase: passphrase, digests: digests) { matched = true }
        return matched
    }
}
