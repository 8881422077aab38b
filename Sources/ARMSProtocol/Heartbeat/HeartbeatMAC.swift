import Crypto

// HMAC-SHA1 over a heartbeat datagram (heartbeat.md §4). Internal to the module.

enum HeartbeatMAC {
    /// Length of an HMAC-SHA1 digest.
    static let digestLength = 20

    private static let zeroDigest = [UInt8](repeating: 0, count: digestLength)

    /// HMAC-SHA1 keyed with the UTF-8 bytes of `passphrase`, over `datagram`
    /// with bytes 4..<24 taken as zero whatever they hold.
    /// `datagram` must be at least 24 bytes long.
    static func digest(of datagram: [UInt8], passphrase: String) -> [UInt8] {
        let key = SymmetricKey(data: Array(passphrase.utf8))
        var message = datagram
        message.replaceSubrange(HeartbeatWire.digestRange, with: zeroDigest)
        let mac = HMAC<Insecure.SHA1>.authenticationCode(for: message, using: key)
        return Array(mac)
    }

    /// Compares two byte sequences in time that depends only on their lengths.
    static func constantTimeEqual(_ a: ArraySlice<UInt8>, _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
