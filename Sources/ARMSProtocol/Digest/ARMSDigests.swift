/// The two digests the protocol needs, supplied by the caller so that this module carries
/// no cryptography of its own: HMAC-SHA1 for heartbeat datagrams (heartbeat.md §4) and MD5
/// for the state cache trailer (agent.md §9). The service side passes swift-crypto
/// (`SwiftCryptoDigests` in MockCore), the agent the system OpenSSL (`OpenSSLDigests`).
///
/// ```swift
/// let key = HeartbeatKey(passphrase: "demo-hb-passphrase", digests: digests)
/// let image = cache.encoded(digests: digests)
/// ```
public protocol ARMSDigests: Sendable {
    /// `key` (any length; RFC 2104 hashes a key longer than 64 bytes) made ready for
    /// HMAC-SHA1, so that each code costs only the hashing of its message.
    func hmacSHA1Key(_ key: [UInt8]) -> any HMACSHA1Key
    /// The 16-byte MD5 digest of `bytes`.
    func md5(_ bytes: UnsafeRawBufferPointer) -> [UInt8]
}

/// An HMAC-SHA1 key prepared by ``ARMSDigests/hmacSHA1Key(_:)``. Safe to use from several
/// threads at once.
public protocol HMACSHA1Key: Sendable {
    /// Writes the 20-byte HMAC-SHA1 of the concatenation of `parts` to the start of `out`
    /// (which holds at least 20 bytes).
    func authenticationCode(of parts: [UnsafeRawBufferPointer], into out: UnsafeMutableRawBufferPointer)
}

extension ARMSDigests {
    /// The 16-byte MD5 digest of `bytes`.
    func md5(of bytes: ArraySlice<UInt8>) -> [UInt8] {
        bytes.withUnsafeBytes { md5($0) }
    }
}
