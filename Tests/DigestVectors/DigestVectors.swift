import ARMSProtocol
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Published vectors every ``ARMSDigests`` must reproduce, shared by the test targets of
/// each implementation (no Foundation, so the agent's tests can use it): RFC 2202
/// HMAC-SHA1, RFC 1321 MD5, and the captured libarms 5.33 heartbeat datagram.
public enum DigestVectors {
    /// RFC 2202 §3: (key, data, HMAC-SHA1).
    public static let hmacSHA1: [(key: [UInt8], data: [UInt8], code: String)] = [
        (Array(repeating: 0x0B, count: 20), Array("Hi There".utf8), "b617318655057264e28bc0b6fb378c8ef146be00"),
        (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
        (Array(repeating: 0xAA, count: 20), Array(repeating: 0xDD, count: 50), "125d7342b9ac11cd91a39af48aa17b4f63f175d3"),
        (Array(1...25), Array(repeating: 0xCD, count: 50), "4c9007f4026250c6bc8414f9bf50c86c2d7235da"),
        (Array(repeating: 0x0C, count: 20), Array("Test With Truncation".utf8), "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"),
        (Array(repeating: 0xAA, count: 80), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
         "aa4ae5e15272d00e95705637ce8a3b55ed402112"),
        (Array(repeating: 0xAA, count: 80),
         Array("Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data".utf8),
         "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"),
    ]

    /// RFC 1321 appendix A.5: (message, MD5).
    public static let md5: [(message: String, digest: String)] = [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("a", "0cc175b9c0f1b6a831c399e269772661"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
        ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
        (String(repeating: "1234567890", count: 8), "57edf4a22be3c955ac49da2e2107b67a"),
    ]

    /// The passphrase the captured datagram (Tests/Fixtures/libarms-5.33-heartbeat.bin) was signed with.
    public static let fixturePassphrase = "s3cret-passphrase"

    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for b in bytes { out += [digits[Int(b >> 4)], digits[Int(b & 15)]] }
        return String(decoding: out, as: UTF8.self)
    }

    /// The HMAC-SHA1 of the concatenation of `parts` under `key`, as hex.
    public static func code(_ digests: any ARMSDigests, key: [UInt8], parts: [[UInt8]]) -> String {
        var out = [UInt8](repeating: 0, count: 20)
        func withParts(_ i: Int, _ done: [UnsafeRawBufferPointer], _ body: ([UnsafeRawBufferPointer]) -> Void) {
            guard i < parts.count else { return body(done) }
            parts[i].withUnsafeBytes { withParts(i + 1, done + [$0], body) }
        }
        let prepared = digests.hmacSHA1Key(key)
        withParts(0, []) { all in out.withUnsafeMutableBytes { prepared.authenticationCode(of: all, into: $0) } }
        return hex(out)
    }

    /// Every way `digests` departs from the vectors, as readable lines (empty: none).
    /// `heartbeatFixture` is the captured datagram, see ``fixture()``.
    public static func mismatches(of digests: any ARMSDigests, heartbeatFixture: [UInt8]) -> [String] {
        var found: [String] = []
        for (n, v) in hmacSHA1.enumerated() {
            let whole = code(digests, key: v.key, parts: [v.data])
            if whole != v.code { found.append("RFC 2202 case \(n + 1): \(whole), expected \(v.code)") }
            // The same message cut into parts, empty ones included, gives the same code.
            for cut in [0, 1, v.data.count / 2, v.data.count] {
                let split = code(digests, key: v.key, parts: [Array(v.data[..<cut]), [], Array(v.data[cut...])])
                if split != v.code { found.append("RFC 2202 case \(n + 1) cut at \(cut): \(split)") }
            }
        }
        for v in md5 {
            let digest = hex(Array(v.message.utf8).withUnsafeBytes { digests.md5($0) })
            if digest != v.digest { found.append("RFC 1321 \"\(v.message)\": \(digest), expected \(v.digest)") }
        }
        let key = HeartbeatKey(passphrase: fixturePassphrase, digests: digests)
        if heartbeatFixture.count < HeartbeatDatagram.prefixLength || !key.verifies(heartbeatFixture) {
            found.append("libarms heartbeat fixture (\(heartbeatFixture.count) bytes) does not verify")
        }
        var altered = heartbeatFixture
        if !altered.isEmpty { altered[altered.count - 1] ^= 1 }
        if key.verifies(altered) { found.append("libarms heartbeat fixture verifies with its last byte changed") }
        if HeartbeatKey(passphrase: "v6-passphrase", digests: digests).verifies(heartbeatFixture) {
            found.append("libarms heartbeat fixture verifies under another passphrase")
        }
        return found
    }

    /// Tests/Fixtures/libarms-5.33-heartbeat.bin (empty if it cannot be read).
    public static func fixture() -> [UInt8] {
        // <package>/Tests/DigestVectors/DigestVectors.swift -> <package>/Tests/Fixtures/…
        var path = #filePath
        for _ in 0..<2 { path = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)]) }
        guard let file = fopen(path + "/Fixtures/libarms-5.33-heartbeat.bin", "rb") else { return [] }
        defer { fclose(file) }
        var bytes = [UInt8](repeating: 0, count: 2048)
        let count = bytes.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        return Array(bytes[..<count])
    }
}
