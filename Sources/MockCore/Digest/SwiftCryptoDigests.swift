import ARMSProtocol
import Crypto
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The service side's ``ARMSDigests``: HMAC-SHA1 and MD5 from swift-crypto.
///
/// ```swift
/// let digests = SwiftCryptoDigests()
/// let ledger = HeartbeatLedger(digests: digests)
/// ```
public struct SwiftCryptoDigests: ARMSDigests {
    public init() {}

    public func hmacSHA1Key(_ key: [UInt8]) -> any HMACSHA1Key {
        PreparedKey(start: HMAC<Insecure.SHA1>(key: SymmetricKey(data: key)))
    }

    public func md5(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        Array(Insecure.MD5.hash(data: bytes))
    }

    /// The HMAC state after the key schedule; every code starts from a copy of it.
    struct PreparedKey: HMACSHA1Key {
        let start: HMAC<Insecure.SHA1>

        func authenticationCode(of parts: [UnsafeRawBufferPointer], into out: UnsafeMutableRawBufferPointer) {
            var mac = start
            for part in parts { mac.update(data: part) }
            mac.finalize().withUnsafeBytes { out.copyMemory(from: $0) }
        }
    }
}
