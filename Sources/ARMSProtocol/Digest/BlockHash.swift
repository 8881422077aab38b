// SHA-1 (FIPS 180-4) and MD5 (RFC 1321), the two digests the ARMS protocol needs: HMAC-SHA1
// over heartbeat datagrams and MD5 over the state cache image. Written here so that the
// agent links no cryptography library besides OpenSSL for TLS (and no Foundation through
// one). Value types on the stack: hashing allocates nothing. Internal to the module.

/// The compression function of a Merkle–Damgård hash with 64-byte blocks.
protocol BlockHashCore {
    init()
    /// Folds one 64-byte block (at `block`, any alignment) into the state.
    mutating func compress(_ block: UnsafeRawPointer)
    /// Whether the message length (in bits) closing the padding is big-endian.
    static var lengthIsBigEndian: Bool { get }
    static var digestLength: Int { get }
    /// Writes the state as the digest (`digestLength` bytes).
    func write(digest: UnsafeMutableRawPointer)
}

/// Streaming front end of a ``BlockHashCore``: buffers partial blocks, pads and finishes.
struct BlockHasher<Core: BlockHashCore> {
    private var core = Core()
    /// A partial block (64 bytes).
    private var pending: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    private var pendingCount = 0
    private var length: UInt64 = 0

    init() {}

    mutating func update(_ data: UnsafeRawBufferPointer) {
        guard var p = data.baseAddress, data.count > 0 else { return }
        var n = data.count
        length &+= UInt64(n)
        if pendingCount > 0 {
            let take = min(64 - pendingCount, n)
            let at = pendingCount
            withUnsafeMutableBytes(of: &pending) { $0.baseAddress!.advanced(by: at).copyMemory(from: p, byteCount: take) }
            pendingCount += take
            p += take
            n -= take
            guard pendingCount == 64 else { return }
            let block = pending
            withUnsafeBytes(of: block) { core.compress($0.baseAddress!) }
            pendingCount = 0
        }
        while n >= 64 {
            core.compress(p)
            p += 64
            n -= 64
        }
        if n > 0 {
            withUnsafeMutableBytes(of: &pending) { $0.baseAddress!.copyMemory(from: p, byteCount: n) }
            pendingCount = n
        }
    }

    mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Pads, folds the last block(s) and writes `Core.digestLength` bytes to `digest`.
    func finish(into digest: UnsafeMutableRawPointer) {
        var copy = self
        let bits = length &* 8
        var lengthField = Core.lengthIsBigEndian ? bits.bigEndian : bits.littleEndian
        let padLength = (pendingCount < 56 ? 56 : 120) - pendingCount
        var pad: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &pad) { p in
            p[0] = 0x80
            copy.update(UnsafeRawBufferPointer(rebasing: p[..<padLength]))
        }
        withUnsafeBytes(of: &lengthField) { copy.update($0) }
        copy.core.write(digest: digest)
    }

    /// The digest as an array.
    func finish() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Core.digestLength) { buffer, count in
            finish(into: buffer.baseAddress!)
            count = Core.digestLength
        }
    }

    /// The digest of `bytes`.
    static func hash(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var hasher = Self()
        if bytes.withContiguousStorageIfAvailable({ hasher.update(UnsafeRawBufferPointer($0)) }) == nil {
            hasher.update(Array(bytes))
        }
        return hasher.finish()
    }
}

@inline(__always)
private func rotateLeft(_ x: UInt32, _ n: UInt32) -> UInt32 { x << n | x >> (32 - n) }

/// SHA-1 (FIPS 180-4 §6.1).
struct SHA1Core: BlockHashCore, Sendable {
    private var h0: UInt32 = 0x6745_2301
    private var h1: UInt32 = 0xEFCD_AB89
    private var h2: UInt32 = 0x98BA_DCFE
    private var h3: UInt32 = 0x1032_5476
    private var h4: UInt32 = 0xC3D2_E1F0

    static let lengthIsBigEndian = true
    static let digestLength = 20

    init() {}

    mutating func compress(_ block: UnsafeRawPointer) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 80) { w in
            for i in 0..<16 { w[i] = UInt32(bigEndian: block.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
            for i in 16..<80 { w[i] = rotateLeft(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1) }
            var a = h0, b = h1, c = h2, d = h3, e = h4
            for i in 0..<80 {
                let f: UInt32, k: UInt32
                switch i {
                case 0..<20: f = (b & c) | (~b & d); k = 0x5A82_7999
                case 20..<40: f = b ^ c ^ d; k = 0x6ED9_EBA1
                case 40..<60: f = (b & c) | (b & d) | (c & d); k = 0x8F1B_BCDC
                default: f = b ^ c ^ d; k = 0xCA62_C1D6
                }
                let t = rotateLeft(a, 5) &+ f &+ e &+ k &+ w[i]
                e = d
                d = c
                c = rotateLeft(b, 30)
                b = a
                a = t
            }
            h0 &+= a
            h1 &+= b
            h2 &+= c
            h3 &+= d
            h4 &+= e
        }
    }

    func write(digest: UnsafeMutableRawPointer) {
        digest.storeBytes(of: h0.bigEndian, toByteOffset: 0, as: UInt32.self)
        digest.storeBytes(of: h1.bigEndian, toByteOffset: 4, as: UInt32.self)
        digest.storeBytes(of: h2.bigEndian, toByteOffset: 8, as: UInt32.self)
        digest.storeBytes(of: h3.bigEndian, toByteOffset: 12, as: UInt32.self)
        digest.storeBytes(of: h4.bigEndian, toByteOffset: 16, as: UInt32.self)
    }
}

/// MD5 (RFC 1321).
struct MD5Core: BlockHashCore, Sendable {
    private var a0: UInt32 = 0x6745_2301
    private var b0: UInt32 = 0xEFCD_AB89
    private var c0: UInt32 = 0x98BA_DCFE
    private var d0: UInt32 = 0x1032_5476

    static let lengthIsBigEndian = false
    static let digestLength = 16

    init() {}

    /// The 64 steps written out (RFC 1321 §3.4): the additive constants are ⌊2³² · |sin(i + 1)|⌋,
    /// the rotations 7 12 17 22 / 5 9 14 20 / 4 11 16 23 / 6 10 15 21 per round. No arrays,
    /// so that unoptimized (debug) builds stay fast enough for the state cache's tests.
    mutating func compress(_ block: UnsafeRawPointer) {
        let m0 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
        let m1 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        let m2 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        let m3 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        let m4 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
        let m5 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 20, as: UInt32.self))
        let m6 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 24, as: UInt32.self))
        let m7 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 28, as: UInt32.self))
        let m8 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 32, as: UInt32.self))
        let m9 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 36, as: UInt32.self))
        let m10 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 40, as: UInt32.self))
        let m11 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 44, as: UInt32.self))
        let m12 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 48, as: UInt32.self))
        let m13 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 52, as: UInt32.self))
        let m14 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 56, as: UInt32.self))
        let m15 = UInt32(littleEndian: block.loadUnaligned(fromByteOffset: 60, as: UInt32.self))
        var a = a0, b = b0, c = c0, d = d0
        var t: UInt32
        t = a &+ ((b & c) | (~b & d)) &+ m0 &+ 0xD76AA478; a = b &+ (t &<< 7 | t &>> 25)
        t = d &+ ((a & b) | (~a & c)) &+ m1 &+ 0xE8C7B756; d = a &+ (t &<< 12 | t &>> 20)
        t = c &+ ((d & a) | (~d & b)) &+ m2 &+ 0x242070DB; c = d &+ (t &<< 17 | t &>> 15)
        t = b &+ ((c & d) | (~c & a)) &+ m3 &+ 0xC1BDCEEE; b = c &+ (t &<< 22 | t &>> 10)
        t = a &+ ((b & c) | (~b & d)) &+ m4 &+ 0xF57C0FAF; a = b &+ (t &<< 7 | t &>> 25)
        t = d &+ ((a & b) | (~a & c)) &+ m5 &+ 0x4787C62A; d = a &+ (t &<< 12 | t &>> 20)
        t = c &+ ((d & a) | (~d & b)) &+ m6 &+ 0xA8304613; c = d &+ (t &<< 17 | t &>> 15)
        t = b &+ ((c & d) | (~c & a)) &+ m7 &+ 0xFD469501; b = c &+ (t &<< 22 | t &>> 10)
        t = a &+ ((b & c) | (~b & d)) &+ m8 &+ 0x698098D8; a = b &+ (t &<< 7 | t &>> 25)
        t = d &+ ((a & b) | (~a & c)) &+ m9 &+ 0x8B44F7AF; d = a &+ (t &<< 12 | t &>> 20)
        t = c &+ ((d & a) | (~d & b)) &+ m10 &+ 0xFFFF5BB1; c = d &+ (t &<< 17 | t &>> 15)
        t = b &+ ((c & d) | (~c & a)) &+ m11 &+ 0x895CD7BE; b = c &+ (t &<< 22 | t &>> 10)
        t = a &+ ((b & c) | (~b & d)) &+ m12 &+ 0x6B901122; a = b &+ (t &<< 7 | t &>> 25)
        t = d &+ ((a & b) | (~a & c)) &+ m13 &+ 0xFD987193; d = a &+ (t &<< 12 | t &>> 20)
        t = c &+ ((d & a) | (~d & b)) &+ m14 &+ 0xA679438E; c = d &+ (t &<< 17 | t &>> 15)
        t = b &+ ((c & d) | (~c & a)) &+ m15 &+ 0x49B40821; b = c &+ (t &<< 22 | t &>> 10)
        t = a &+ ((d & b) | (~d & c)) &+ m1 &+ 0xF61E2562; a = b &+ (t &<< 5 | t &>> 27)
        t = d &+ ((c & a) | (~c & b)) &+ m6 &+ 0xC040B340; d = a &+ (t &<< 9 | t &>> 23)
        t = c &+ ((b & d) | (~b & a)) &+ m11 &+ 0x265E5A51; c = d &+ (t &<< 14 | t &>> 18)
        t = b &+ ((a & c) | (~a & d)) &+ m0 &+ 0xE9B6C7AA; b = c &+ (t &<< 20 | t &>> 12)
        t = a &+ ((d & b) | (~d & c)) &+ m5 &+ 0xD62F105D; a = b &+ (t &<< 5 | t &>> 27)
        t = d &+ ((c & a) | (~c & b)) &+ m10 &+ 0x02441453; d = a &+ (t &<< 9 | t &>> 23)
        t = c &+ ((b & d) | (~b & a)) &+ m15 &+ 0xD8A1E681; c = d &+ (t &<< 14 | t &>> 18)
        t = b &+ ((a & c) | (~a & d)) &+ m4 &+ 0xE7D3FBC8; b = c &+ (t &<< 20 | t &>> 12)
        t = a &+ ((d & b) | (~d & c)) &+ m9 &+ 0x21E1CDE6; a = b &+ (t &<< 5 | t &>> 27)
        t = d &+ ((c & a) | (~c & b)) &+ m14 &+ 0xC33707D6; d = a &+ (t &<< 9 | t &>> 23)
        t = c &+ ((b & d) | (~b & a)) &+ m3 &+ 0xF4D50D87; c = d &+ (t &<< 14 | t &>> 18)
        t = b &+ ((a & c) | (~a & d)) &+ m8 &+ 0x455A14ED; b = c &+ (t &<< 20 | t &>> 12)
        t = a &+ ((d & b) | (~d & c)) &+ m13 &+ 0xA9E3E905; a = b &+ (t &<< 5 | t &>> 27)
        t = d &+ ((c & a) | (~c & b)) &+ m2 &+ 0xFCEFA3F8; d = a &+ (t &<< 9 | t &>> 23)
        t = c &+ ((b & d) | (~b & a)) &+ m7 &+ 0x676F02D9; c = d &+ (t &<< 14 | t &>> 18)
        t = b &+ ((a & c) | (~a & d)) &+ m12 &+ 0x8D2A4C8A; b = c &+ (t &<< 20 | t &>> 12)
        t = a &+ (b ^ c ^ d) &+ m5 &+ 0xFFFA3942; a = b &+ (t &<< 4 | t &>> 28)
        t = d &+ (a ^ b ^ c) &+ m8 &+ 0x8771F681; d = a &+ (t &<< 11 | t &>> 21)
        t = c &+ (d ^ a ^ b) &+ m11 &+ 0x6D9D6122; c = d &+ (t &<< 16 | t &>> 16)
        t = b &+ (c ^ d ^ a) &+ m14 &+ 0xFDE5380C; b = c &+ (t &<< 23 | t &>> 9)
        t = a &+ (b ^ c ^ d) &+ m1 &+ 0xA4BEEA44; a = b &+ (t &<< 4 | t &>> 28)
        t = d &+ (a ^ b ^ c) &+ m4 &+ 0x4BDECFA9; d = a &+ (t &<< 11 | t &>> 21)
        t = c &+ (d ^ a ^ b) &+ m7 &+ 0xF6BB4B60; c = d &+ (t &<< 16 | t &>> 16)
        t = b &+ (c ^ d ^ a) &+ m10 &+ 0xBEBFBC70; b = c &+ (t &<< 23 | t &>> 9)
        t = a &+ (b ^ c ^ d) &+ m13 &+ 0x289B7EC6; a = b &+ (t &<< 4 | t &>> 28)
        t = d &+ (a ^ b ^ c) &+ m0 &+ 0xEAA127FA; d = a &+ (t &<< 11 | t &>> 21)
        t = c &+ (d ^ a ^ b) &+ m3 &+ 0xD4EF3085; c = d &+ (t &<< 16 | t &>> 16)
        t = b &+ (c ^ d ^ a) &+ m6 &+ 0x04881D05; b = c &+ (t &<< 23 | t &>> 9)
        t = a &+ (b ^ c ^ d) &+ m9 &+ 0xD9D4D039; a = b &+ (t &<< 4 | t &>> 28)
        t = d &+ (a ^ b ^ c) &+ m12 &+ 0xE6DB99E5; d = a &+ (t &<< 11 | t &>> 21)
        t = c &+ (d ^ a ^ b) &+ m15 &+ 0x1FA27CF8; c = d &+ (t &<< 16 | t &>> 16)
        t = b &+ (c ^ d ^ a) &+ m2 &+ 0xC4AC5665; b = c &+ (t &<< 23 | t &>> 9)
        t = a &+ (c ^ (b | ~d)) &+ m0 &+ 0xF4292244; a = b &+ (t &<< 6 | t &>> 26)
        t = d &+ (b ^ (a | ~c)) &+ m7 &+ 0x432AFF97; d = a &+ (t &<< 10 | t &>> 22)
        t = c &+ (a ^ (d | ~b)) &+ m14 &+ 0xAB9423A7; c = d &+ (t &<< 15 | t &>> 17)
        t = b &+ (d ^ (c | ~a)) &+ m5 &+ 0xFC93A039; b = c &+ (t &<< 21 | t &>> 11)
        t = a &+ (c ^ (b | ~d)) &+ m12 &+ 0x655B59C3; a = b &+ (t &<< 6 | t &>> 26)
        t = d &+ (b ^ (a | ~c)) &+ m3 &+ 0x8F0CCC92; d = a &+ (t &<< 10 | t &>> 22)
        t = c &+ (a ^ (d | ~b)) &+ m10 &+ 0xFFEFF47D; c = d &+ (t &<< 15 | t &>> 17)
        t = b &+ (d ^ (c | ~a)) &+ m1 &+ 0x85845DD1; b = c &+ (t &<< 21 | t &>> 11)
        t = a &+ (c ^ (b | ~d)) &+ m8 &+ 0x6FA87E4F; a = b &+ (t &<< 6 | t &>> 26)
        t = d &+ (b ^ (a | ~c)) &+ m15 &+ 0xFE2CE6E0; d = a &+ (t &<< 10 | t &>> 22)
        t = c &+ (a ^ (d | ~b)) &+ m6 &+ 0xA3014314; c = d &+ (t &<< 15 | t &>> 17)
        t = b &+ (d ^ (c | ~a)) &+ m13 &+ 0x4E0811A1; b = c &+ (t &<< 21 | t &>> 11)
        t = a &+ (c ^ (b | ~d)) &+ m4 &+ 0xF7537E82; a = b &+ (t &<< 6 | t &>> 26)
        t = d &+ (b ^ (a | ~c)) &+ m11 &+ 0xBD3AF235; d = a &+ (t &<< 10 | t &>> 22)
        t = c &+ (a ^ (d | ~b)) &+ m2 &+ 0x2AD7D2BB; c = d &+ (t &<< 15 | t &>> 17)
        t = b &+ (d ^ (c | ~a)) &+ m9 &+ 0xEB86D391; b = c &+ (t &<< 21 | t &>> 11)
        a0 &+= a
        b0 &+= b
        c0 &+= c
        d0 &+= d
    }

    func write(digest: UnsafeMutableRawPointer) {
        digest.storeBytes(of: a0.littleEndian, toByteOffset: 0, as: UInt32.self)
        digest.storeBytes(of: b0.littleEndian, toByteOffset: 4, as: UInt32.self)
        digest.storeBytes(of: c0.littleEndian, toByteOffset: 8, as: UInt32.self)
        digest.storeBytes(of: d0.littleEndian, toByteOffset: 12, as: UInt32.self)
    }
}

extension BlockHasher: Sendable where Core: Sendable {}

typealias SHA1 = BlockHasher<SHA1Core>
typealias MD5 = BlockHasher<MD5Core>
