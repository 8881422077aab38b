// HMAC-SHA1 (RFC 2104) over a heartbeat datagram (heartbeat.md §4).

enum HeartbeatMAC {
    /// Length of an HMAC-SHA1 digest.
    static let digestLength = 20

    /// HMAC-SHA1 keyed with the UTF-8 bytes of `passphrase`, over `datagram`
    /// with bytes 4..<24 taken as zero whatever they hold.
    /// `datagram` must be at least 24 bytes long.
    static func digest(of datagram: [UInt8], passphrase: String) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: digestLength) { buffer, count in
            HeartbeatKey(passphrase: passphrase).code(of: datagram, into: buffer.baseAddress!)
            count = digestLength
        }
    }
}

/// One heartbeat passphrase made ready for HMAC-SHA1: the key schedule (inner and outer
/// pad) is hashed once, so checking a datagram costs only its own hashing, with no
/// allocation. A receiver keeps one per SA and passphrase.
///
/// ```swift
/// let key = HeartbeatKey(passphrase: "demo-hb-passphrase")
/// key.verifies(datagram)   // same answer as HeartbeatDatagram(decoding:).verify(passphrase:)
/// ```
public struct HeartbeatKey: Sendable {
    /// The passphrase the key was made from.
    public let passphrase: String
    /// SHA-1 after the key XOR ipad block, and after the key XOR opad block.
    private let inner: SHA1
    private let outer: SHA1

    public init(passphrase: String) {
        self.passphrase = passphrase
        // RFC 2104: a key longer than the block is replaced by its digest, then zero-padded.
        var key = Array(passphrase.utf8)
        if key.count > 64 { key = SHA1.hash(key) }
        key += repeatElement(0, count: 64 - key.count)
        var inner = SHA1(), outer = SHA1()
        inner.update(key.map { $0 ^ 0x36 })
        outer.update(key.map { $0 ^ 0x5C })
        self.inner = inner
        self.outer = outer
    }

    /// Writes the HMAC-SHA1 of `datagram`, bytes 4..<24 taken as zero, to `out` (20 bytes).
    /// Needs at least 24 bytes.
    func code(of datagram: [UInt8], into out: UnsafeMutableRawPointer) {
        var mac = inner
        datagram.withUnsafeBytes { all in
            mac.update(UnsafeRawBufferPointer(rebasing: all[..<HeartbeatWire.digestRange.lowerBound]))
            let zero: (UInt64, UInt64, UInt32) = (0, 0, 0)   // the 20 digest bytes as zero
            withUnsafeBytes(of: zero) { mac.update($0) }
            mac.update(UnsafeRawBufferPointer(rebasing: all[HeartbeatWire.digestRange.upperBound...]))
        }
        var innerDigest: (UInt64, UInt64, UInt32) = (0, 0, 0)
        withUnsafeMutableBytes(of: &innerDigest) { mac.finish(into: $0.baseAddress!) }
        var finish = outer
        withUnsafeBytes(of: innerDigest) { finish.update($0) }
        finish.finish(into: out)
    }

    /// Whether bytes 4..<24 of `datagram` hold its HMAC-SHA1 under this key. False for a
    /// datagram shorter than the 44-byte prefix. The comparison takes the same time
    /// wherever the digests differ.
    public func verifies(_ datagram: [UInt8]) -> Bool {
        guard datagram.count >= HeartbeatDatagram.prefixLength else { return false }
        var expected: (UInt64, UInt64, UInt32) = (0, 0, 0)
        withUnsafeMutableBytes(of: &expected) { code(of: datagram, into: $0.baseAddress!) }
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
