import ARMSProtocol
import CArmsOpenSSL

/// The agent's ``ARMSDigests``: HMAC-SHA1 and MD5 from the system OpenSSL it already links
/// for TLS (through CArmsOpenSSL), so that `armsd` carries no second crypto library.
///
/// OpenSSL failing to compute either digest (no memory, a provider configuration without
/// HMAC, SHA-1 or MD5) stops the process with the reason, as swift-crypto does for
/// BoringSSL: no result would be right and a made-up one would be silently wrong.
///
/// ```swift
/// let datagram = builder.sign(passphrase: passphrase, digests: OpenSSLDigests())
/// ```
public struct OpenSSLDigests: ARMSDigests {
    public init() {}

    public func hmacSHA1Key(_ key: [UInt8]) -> any HMACSHA1Key {
        PreparedKey(key)
    }

    public func md5(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Int(CARMS_MD5_LENGTH)) { out, count in
            let ok = carms_md5(bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, out.baseAddress)
            guard ok == 1 else { Self.fail("MD5") }
            count = Int(CARMS_MD5_LENGTH)
        }
    }

    static func fail(_ what: String) -> Never {
        let text = drainOpenSSLErrors()
        fatalError("OpenSSL cannot compute \(what): \(text.isEmpty ? "no reason given" : text)")
    }

    /// An OpenSSL HMAC context holding the key; each code works on a copy of it, so the
    /// context itself is only ever read after `init` (hence safe to share).
    final class PreparedKey: HMACSHA1Key, @unchecked Sendable {
        private let context: OpaquePointer

        init(_ key: [UInt8]) {
            guard let context = key.withUnsafeBufferPointer({ carms_hmac_sha1_new($0.baseAddress, $0.count) }) else {
                OpenSSLDigests.fail("an HMAC-SHA1 key")
            }
            self.context = context
        }

        deinit { carms_hmac_sha1_free(context) }

        func authenticationCode(of parts: [UnsafeRawBufferPointer], into out: UnsafeMutableRawBufferPointer) {
            precondition(out.count >= Int(CARMS_SHA1_LENGTH))
            let ok = withUnsafeTemporaryAllocation(of: UnsafePointer<UInt8>?.self, capacity: parts.count) { pointers in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: parts.count) { lengths in
                    for (i, part) in parts.enumerated() {
                        pointers[i] = part.baseAddress?.assumingMemoryBound(to: UInt8.self)
                        lengths[i] = part.count
                    }
                    return carms_hmac_sha1(context, pointers.baseAddress, lengths.baseAddress, parts.count,
                                           out.baseAddress?.assumingMemoryBound(to: UInt8.self))
                }
            }
            guard ok == 1 else { OpenSSLDigests.fail("HMAC-SHA1") }
        }
    }
}
