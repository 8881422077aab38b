import Crypto
import DigestVectors
@testable import ARMSProtocol
import Testing

/// The tests' ``ARMSDigests``: swift-crypto, like the service side's `SwiftCryptoDigests`
/// (which lives in MockCore, out of this target's reach).
struct CryptoTestDigests: ARMSDigests {
    func hmacSHA1Key(_ key: [UInt8]) -> any HMACSHA1Key {
        Key(start: HMAC<Insecure.SHA1>(key: SymmetricKey(data: key)))
    }

    func md5(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        Array(Insecure.MD5.hash(data: Array(bytes)))
    }

    struct Key: HMACSHA1Key {
        let start: HMAC<Insecure.SHA1>

        func authenticationCode(of parts: [UnsafeRawBufferPointer], into out: UnsafeMutableRawBufferPointer) {
            var mac = start
            for part in parts { mac.update(data: Array(part)) }
            mac.finalize().withUnsafeBytes { out.copyMemory(from: $0) }
        }
    }
}

/// The digests every test of this target passes.
let testDigests = CryptoTestDigests()

/// The tests' digests against the published vectors, and the heartbeat HMAC (bytes
/// 4..<24 taken as zero, key prepared once) against a plain HMAC of the zeroed datagram.
@Suite struct DigestTests {
    /// Deterministic filler bytes.
    static func bytes(_ count: Int, seed: UInt8 = 7) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(seed) &* 17 &+ ($0 >> 3)) }
    }

    @Test func testDigestsReproduceThePublishedVectors() {
        let fixture = DigestVectors.fixture()
        #expect(fixture.count > HeartbeatDatagram.prefixLength)
        #expect(DigestVectors.mismatches(of: testDigests, heartbeatFixture: fixture) == [])
    }

    @Test func heartbeatHMACIsThePlainHMACOfTheZeroedDatagramForShortAndLongPassphrases() {
        for keyLength in [0, 1, 20, 63, 64, 65, 100, 200] {
            let passphrase = String(repeating: "k", count: keyLength)
            for length in [24, 44, 100, 119, 120, 214, 1024] {
                var datagram = Self.bytes(length, seed: UInt8(keyLength & 0xFF))
                var zeroed = datagram
                zeroed.replaceSubrange(4..<24, with: repeatElement(0, count: 20))
                let reference = Array(HMAC<Insecure.SHA1>.authenticationCode(for: zeroed, using: SymmetricKey(data: Array(passphrase.utf8))))
                #expect(HeartbeatMAC.digest(of: datagram, passphrase: passphrase, digests: testDigests) == reference,
                        "key \(keyLength), \(length) B")
                guard length >= 44 else { continue }
                datagram.replaceSubrange(4..<24, with: reference)
                let key = HeartbeatKey(passphrase: passphrase, digests: testDigests)
                #expect(key.verifies(datagram))
                datagram[23] ^= 1
                #expect(!key.verifies(datagram))
            }
        }
    }
}
