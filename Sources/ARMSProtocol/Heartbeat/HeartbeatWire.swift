// Wire-level constants and big-endian helpers shared by the heartbeat
// encoder and decoder (heartbeat.md §3.1–§3.4). Internal to the module.

enum HeartbeatWire {
    /// Type code of the HMAC TLV that opens every datagram.
    static let hmacType: UInt16 = 0x0001
    /// Type code of the distribution-id TLV that follows the HMAC TLV.
    static let distributionIDType: UInt16 = 0x0011
    /// Type code libarms reserves as "invalid".
    static let invalidType: UInt16 = 0x0000

    /// Size of the type and length fields in front of every value.
    static let tlvHeaderLength = 4
    /// Offset and size of the HMAC-SHA1 digest inside the datagram.
    static let digestRange = 4..<24
    /// Offset and size of the 16-byte distribution id inside the datagram.
    static let distributionIDRange = 28..<44

    /// The four bytes at offset 0 (type 0x0001, length 20).
    static let hmacHeader: [UInt8] = [0x00, 0x01, 0x00, 0x14]
    /// The four bytes at offset 24 (type 0x0011, length 16).
    static let distributionIDHeader: [UInt8] = [0x00, 0x11, 0x00, 0x10]

    /// Where the fixed prefix differs from what libarms writes: 0 (the HMAC TLV's type and
    /// length) or 24 (the distribution-id TLV's); nil when both are right. `b` holds at
    /// least 28 bytes.
    static func badPrefixOffset(_ b: [UInt8]) -> Int? {
        // No allocation: the receiver's hot path runs this for every datagram.
        if !(0..<4).allSatisfy({ b[$0] == hmacHeader[$0] }) { return 0 }
        if !(0..<4).allSatisfy({ b[24 + $0] == distributionIDHeader[$0] }) { return 24 }
        return nil
    }

    /// The distribution id at bytes 28..<44. `b` holds at least 44 bytes.
    static func distributionID(in b: [UInt8]) -> DistributionID {
        let start = distributionIDRange.lowerBound
        return DistributionID(version: readBigEndian(UInt16.self, from: b, at: start),
                              vendorCode: readBigEndian(UInt32.self, from: b, at: start + 2),
                              saType: readBigEndian(UInt16.self, from: b, at: start + 6),
                              saCode: readBigEndian(UInt64.self, from: b, at: start + 8))
    }

    /// Type codes that may only appear in the fixed prefix (or never).
    static func isPrefixOrInvalid(_ type: UInt16) -> Bool {
        type == invalidType || type == hmacType || type == distributionIDType
    }

    /// Appends `value` to `bytes` in network byte order.
    @inline(__always)
    static func appendBigEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        var v = value.bigEndian
        Swift.withUnsafeBytes(of: &v) { bytes.append(contentsOf: $0) }
    }

    /// Reads an unsigned big-endian integer of type `T` at `offset` of `bytes`.
    /// The caller guarantees that `offset + T.bitWidth / 8 <= bytes.count`.
    @inline(__always)
    static func readBigEndian<T: FixedWidthInteger & UnsignedInteger>(
        _: T.Type, from bytes: [UInt8], at offset: Int
    ) -> T {
        var v: T = 0
        for i in 0..<(T.bitWidth / 8) { v = v << 8 | T(bytes[offset + i]) }
        return v
    }

    /// Four upper-case hex digits, for messages.
    static func hex4(_ v: UInt16) -> String {
        let digits = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }
}
