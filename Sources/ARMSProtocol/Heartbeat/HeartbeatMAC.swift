// HMAC-SHA1 (RFC 2104) over a heartbeat datagram (heartbeat.md §4), computed by the
// caller's ``ARMSDigests``.

enum HeartbeatMAC {
    /// Length of an HMAC-SHA1 digest.
    static let digestLength = 20

    /// HMAC-SHA1 keyed with the UTF-8 bytes of `passphrase`, over `datagram`
    /// with bytes 4..<24 taken as zero whatever they hold.
    /// `datagram` must be at least 24 bytes long.
    static func digest(of datagram: [UInt8], passphrase: String, digests: any ARMSDigests) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: digestLength) { buffer, count in
            HeartbeatKey(passphrase: passphrase, digests: digests).code(of: datagram, into: UnsafeMutableRawBufferPointer(buffer))
            count = digestLength
        }
    }
}

/// One heartbeat passphrase made ready for HMAC-SHA1: the digests' prepared key is made
/// once, so checking a datagram costs only its own hashing. A receiver keeps one per SA
/// and passphrase.
///
/// ```swift
/// let key = HeartbeatKey(passphrase: "demo-hb-passphrase", digests: digests)
/// key.verifies(datagram)   // same answer as HeartbeatDatagram(decoding:).verify(passphrase:digests:)
/// ```
public struct HeartbeatKey: Sendable {
    /// The passphrase the key was made from.
    public let passphrase: String
    private let key: any HMACSHA1Key

    public init(passphrase: String, digests: any ARMSDigests) {
        self.passphrase = passphrase
        self.key = digests.hmacSHA1Key(Array(passphrase.utf8))
    }

    /// Writes the HMAC-SHA1 of `datagram`, bytes 4..<24 taken as zero, to `out` (20 bytes).
    /// Needs at least 24 bytes.
    func code(of datagram: [UInt8], into out: UnsafeMutableRawBufferPointer) {
        let zero: (UInt64, UInt64, UInt32) = (0, 0, 0)   // the 20 digest bytes as zero
        datagram.withUnsafeBytes { all in
            withUnsafeBytes(of: zero) { zeros in
                key.authenticationCode(of: [UnsafeRawBufferPointer(rebasing: all[..<HeartbeatWire.digestRange.lowerBound]),
                                            zeros,
                                            UnsafeRawBufferPointer(rebasing: all[HeartbeatWire.digestRange.upperBound...])],
                                       into: out)
            }
        }
    }

    /// Whether bytes 4..<24 of `datagram` hold its HMAC-SHA1 under this key. False for a
    /// datagram shorter than the 44-byte prefix. The comparison takes the same time
    /// wherever the digests differ.
    public func verifies(_ datagram: [UInt8]) -> Bool {
        guard datagram.count >= HeartbeatDatagram.prefixLength else { return false }
        var expected: (UInt64, UInt64, UInt32) = (0, 0, 0)
        withUnsafeMutableBytes(of: &expected) { code(of: datagram, into: $0) }
        return withUnsafeBytes(of: expected) { e in
            datagram.withUnsafeBytes { d in
                var difference: UInt8 = 0
                for i in 0..<HeartbeatMAC.digestLength {
                    difference |= e[i] ^ d[HeartbeatWire.digestRange.lowerBound + i]
                }
                return difference == 0
            }
        }
    }
}
