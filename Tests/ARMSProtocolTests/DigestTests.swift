import Crypto
@testable import ARMSProtocol
import Testing

/// The module's own SHA-1, MD5 and heartbeat HMAC-SHA1, against published vectors and
/// against swift-crypto over every length around the block boundaries.
@Suite struct DigestTests {
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    /// Deterministic filler bytes.
    static func bytes(_ count: Int, seed: UInt8 = 7) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed) &* 17 &+ ($0 >> 3)) }
    }

    @Test func publishedVectors() {
        #expect(Self.hex(SHA1.hash(Array("".utf8))) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(Self.hex(SHA1.hash(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(Self.hex(MD5.hash(Array("".utf8))) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(Self.hex(MD5.hash(Array("abc".utf8))) == "900150983cd24fb0d6963f7d28e17f72")
    }

    @Test func sha1AndMD5MatchSwiftCryptoAtEveryLengthUpTo300() {
        for n in 0...300 {
            let data = Self.bytes(n)
            #expect(SHA1.hash(data) == Array(Insecure.SHA1.hash(data: data)), "SHA-1 of \(n) bytes")
            #expect(MD5.hash(data) == Array(Insecure.MD5.hash(data: data)), "MD5 of \(n) bytes")
        }
    }

    @Test func streamingInPiecesGivesTheSameDigest() {
        let data = Self.bytes(1000)
        for piece in [1, 3, 63, 64, 65, 200] {
            var hasher = SHA1()
            var at = 0
            while at < data.count {
                let end = min(at + piece, data.count)
                hasher.update(Array(data[at..<end]))
                at = end
            }
            #expect(hasher.finish() == SHA1.hash(data), "pieces of \(piece)")
        }
    }

    @Test func heartbeatHMACMatchesSwiftCryptoForShortAndLongPassphrases() {
        for keyLength in [0, 1, 20, 63, 64, 65, 100, 200] {
            let passphrase = String(repeating: "k", count: keyLength)
            for length in [24, 44, 100, 119, 120, 214, 1024] {
                var datagram = Self.bytes(length, seed: UInt8(keyLength & 0xFF))
                var zeroed = datagram
                zeroed.replaceSubrange(4..<24, with: repeatElement(0, count: 20))
                let reference = Array(HMAC<Insecure.SHA1>.authenticationCode(for: zeroed, using: SymmetricKey(data: Array(passphrase.utf8))))
                #expect(HeartbeatMAC.digest(of: datagram, passphrase: passphrase) == reference, "key \(keyLength), \(length) B")
                guard length >= 44 else { continue }
                datagram.replaceSubrange(4..<24, with: reference)
                #expect(HeartbeatKey(passphrase: passphrase).verifies(datagram))
                datagram[23] ^= 1
                #expect(!HeartbeatKey(passphrase: passphrase).verifies(datagram))
            }
        }
    }
}
