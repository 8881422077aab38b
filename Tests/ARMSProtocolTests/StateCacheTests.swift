import Testing
@testable import ARMSProtocol

/// Little-endian reads and NUL-terminated strings at fixed offsets, independent of the codec.
private struct Image {
    let bytes: [UInt8]

    func int32(_ offset: Int) -> Int {
        Int(Int32(bitPattern: UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8
            | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24))
    }

    func int64(_ offset: Int) -> Int {
        var v: UInt64 = 0
        for k in 0..<8 { v |= UInt64(bytes[offset + k]) << (8 * UInt64(k)) }
        return Int(Int64(bitPattern: v))
    }

    /// The `capacity`-byte field: its text, and whether everything after the text is NUL.
    func text(_ offset: Int, _ capacity: Int) -> (String, Bool) {
        let field = bytes[offset..<(offset + capacity)]
        let end = field.firstIndex(of: 0) ?? field.endIndex
        return (String(decoding: field[..<end], as: UTF8.self), field[end...].allSatisfy { $0 == 0 })
    }

    func isZero(_ range: Range<Int>) -> Bool { bytes[range].allSatisfy { $0 == 0 } }
}

/// Re-seals an image after a deliberate change (new MD5 trailer).
private func resealed(_ bytes: [UInt8]) -> [UInt8] {
    var b = bytes
    let digest = testDigests.md5(of: b[..<29440])
    b.replaceSubrange(29440..<29456, with: digest)
    return b
}

private func putInt32(_ value: Int32, _ bytes: inout [UInt8], at offset: Int) {
    let v = UInt32(bitPattern: value)
    for k in 0..<4 { bytes[offset + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) }
}

private func decodeError(_ bytes: [UInt8]) -> StateCache.DecodeError? {
    do throws(StateCache.DecodeError) {
        _ = try StateCache(decoding: bytes, digests: testDigests)
        return nil
    } catch {
        return error
    }
}

private func fieldError(_ build: () throws(StateCache.FieldError) -> StateCache) -> StateCache.FieldError? {
    do throws(StateCache.FieldError) {
        _ = try build()
        return nil
    } catch {
        return error
    }
}

@Suite struct StateCacheTests {
    static let pem1 = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\nAAAA==\n-----END CERTIFICATE-----\n"
    static let pem2 = "-----BEGIN CERTIFICATE-----\nMIIBBBBB\n-----END CERTIFICATE-----\n"

    /// Every line type, two RS servers (the second without a CA).
    static func sample() throws -> StateCache {
        try StateCache(
            rsEndpoint: "https://192.0.2.10:8443/arms.cgi",
            retryMax: 3, retryInterval: 60, llTimeout: 0x1_0000_0123,
            lines: [
                .pppoe(PPPoELine(ifindex: 1, account: "user@example", password: "secret")),
                .mobile(MobileLine(ifindex: 2, account: "mobile-id", password: "mobile-pass", telno: "*99***1#",
                                   cid: 7, apn: "apn.example", pdpType: "ip", ipAddress: "10.0.0.1")),
                .staticAddress(ifindex: 3, ipAddress: "2001:db8::1"),
                .ra(ifindex: 4),
                .pppoeIPv6(PPPoELine(ifindex: -5, account: "v6user", password: "v6pass")),
            ],
            lastLine: 2,
            rsPresharedKey: "rs-sa-preshared-key",
            rsServers: [.init(url: "https://192.0.2.10:8443/arms.cgi", caPEM: pem1),
                        .init(url: "https://[2001:db8::10]/arms.cgi")],
            currentServer: 1, result: -42)
    }

    @Test func sizeAndVersion() throws {
        let bytes = try Self.sample().encoded(digests: testDigests)
        #expect(bytes.count == 29456)
        #expect(StateCacheLayout.size == 29456)
        #expect(Image(bytes: bytes).int32(0) == 2)
    }

    @Test func topLevelOffsets() throws {
        let b = Image(bytes: try Self.sample().encoded(digests: testDigests))
        #expect(b.text(4, 128) == ("https://192.0.2.10:8443/arms.cgi", true))
        #expect(b.int32(132) == 3)
        #expect(b.int32(136) == 60)
        #expect(b.isZero(140..<144))  // padding before the 8-byte time_t
        #expect(b.int64(144) == 0x1_0000_0123)
        #expect(b.int32(2472) == 5)    // num_line
        #expect(b.int32(2476) == 2)    // last_line
        #expect(b.text(2480, 65) == ("rs-sa-preshared-key", true))
        #expect(b.text(2545, 257) == ("https://192.0.2.10:8443/arms.cgi", true))
        #expect(b.text(2545 + 257, 5120) == (Self.pem1, true))
        #expect(b.text(2545 + 5377, 257) == ("https://[2001:db8::10]/arms.cgi", true))
        #expect(b.isZero((2545 + 5377 + 257)..<(2545 + 2 * 5377)))  // no CA for RS 1
        #expect(b.isZero((2545 + 2 * 5377)..<(2545 + 5 * 5377)))    // slots 2-4 unused
        #expect(b.isZero(29430..<29432))  // padding before current_server
        #expect(b.int32(29432) == 1)
        #expect(b.int32(29436) == -42)
    }

    @Test func lineOffsets() throws {
        let b = Image(bytes: try Self.sample().encoded(digests: testDigests))
        // line 0: PPPoE at 152
        #expect(b.int32(152) == 2)
        #expect(b.int32(156) == 1)
        #expect(b.text(160, 36) == ("user@example", true))
        #expect(b.text(196, 36) == ("secret", true))
        #expect(b.isZero(232..<616))  // rest of the 460-byte union
        // line 1: mobile at 616 (conf at 620)
        #expect(b.int32(616) == 5)
        #expect(b.int32(620) == 2)
        #expect(b.text(624, 40) == ("*99***1#", true))
        #expect(b.int32(664) == 7)
        #expect(b.text(668, 100) == ("apn.example", true))
        #expect(b.text(768, 8) == ("ip", true))
        #expect(b.text(776, 128) == ("mobile-id", true))
        #expect(b.text(904, 128) == ("mobile-pass", true))
        #expect(b.text(1032, 48) == ("10.0.0.1", true))
        // line 2: static at 1080
        #expect(b.int32(1080) == 6)
        #expect(b.int32(1084) == 3)
        #expect(b.text(1088, 48) == ("2001:db8::1", true))
        #expect(b.isZero(1136..<1544))
        // line 3: RA at 1544
        #expect(b.int32(1544) == 7)
        #expect(b.int32(1548) == 4)
        #expect(b.isZero(1552..<2008))
        // line 4: PPPoE-IPv6 at 2008
        #expect(b.int32(2008) == 8)
        #expect(b.int32(2012) == -5)
        #expect(b.text(2016, 36) == ("v6user", true))
        #expect(b.text(2052, 36) == ("v6pass", true))
        #expect(b.isZero(2088..<2472))
    }

    @Test func layoutConstantsMatchTheSpec() {
        typealias L = StateCacheLayout
        #expect(L.lineDefinitionOffset(5) == L.numLineOffset)
        #expect(L.rsPresharedKeyOffset + L.rsPresharedKeyCapacity == L.rsInfoOffset)
        #expect(L.rsInfoEntryOffset(5) == 29430)
        #expect(L.rsURLCapacity + L.rsCertificateCapacity == L.rsInfoStride)
        #expect(L.lineConfOffset + L.lineConfSize == L.lineDefinitionStride)
        #expect(L.Conf.mobileIPAddress + L.Conf.mobileIPAddressCapacity == L.lineConfSize)
        #expect(L.digestOffset + L.digestLength == L.size)
        #expect(L.LineTypeCode.allCases.map(\.rawValue) == Array(0...9))
    }

    @Test func digestIsMD5OfThePrecedingBytes() throws {
        // RFC 1321 test vectors.
        func hex(_ bytes: [UInt8]) -> String {
            bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
        }
        #expect(hex(testDigests.md5(of: [])) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(hex(testDigests.md5(of: ArraySlice("abc".utf8))) == "900150983cd24fb0d6963f7d28e17f72")
        #expect(hex(testDigests.md5(of: ArraySlice("message digest".utf8))) == "f96b697d7cb7938d525a2f31aaf161d0")
        let bytes = try Self.sample().encoded(digests: testDigests)
        #expect(Array(bytes[29440...]) == testDigests.md5(of: bytes[..<29440]))
    }

    @Test func emptyCacheIsAllZeroButVersionAndDigest() throws {
        let bytes = try StateCache().encoded(digests: testDigests)
        #expect(Image(bytes: bytes).int32(0) == 2)
        #expect(Image(bytes: bytes).isZero(4..<29440))
        let decoded = try StateCache(decoding: bytes, digests: testDigests)
        #expect(decoded == (try StateCache()))
        #expect(!decoded.allowsSkippingLS)
    }

    @Test func roundTrip() throws {
        let cache = try Self.sample()
        let decoded = try StateCache(decoding: cache.encoded(digests: testDigests), digests: testDigests)
        #expect(decoded == cache)
        #expect(decoded.allowsSkippingLS)
        #expect(decoded.encoded(digests: testDigests) == cache.encoded(digests: testDigests))
    }

    @Test func roundTripAtFieldLimits() throws {
        let cache = try StateCache(
            rsEndpoint: String(repeating: "e", count: 127),
            retryMax: Int(Int32.max), retryInterval: Int(Int32.min), llTimeout: Int.min,
            lines: [.pppoe(PPPoELine(ifindex: 0, account: String(repeating: "a", count: 35),
                                     password: String(repeating: "p", count: 35))),
                    .mobile(MobileLine(ifindex: 0, account: String(repeating: "i", count: 127),
                                       password: String(repeating: "w", count: 127),
                                       telno: String(repeating: "1", count: 39), cid: -1,
                                       apn: String(repeating: "n", count: 99), pdpType: "ppppppp",
                                       ipAddress: String(repeating: "f", count: 47)))],
            rsPresharedKey: String(repeating: "k", count: 64),
            rsServers: (0..<5).map { .init(url: String(repeating: "\($0)", count: 256),
                                           caPEM: String(repeating: "C", count: 5119)) })
        #expect(try StateCache(decoding: cache.encoded(digests: testDigests), digests: testDigests) == cache)
    }

    @Test func everyFlippedByteFailsTheDigest() throws {
        let bytes = try Self.sample().encoded(digests: testDigests)
        for offset in 0..<bytes.count {
            var corrupt = bytes
            corrupt[offset] ^= 0x01
            #expect(decodeError(corrupt) == .badDigest, "byte \(offset)")
        }
    }

    @Test func wrongSize() throws {
        let bytes = try Self.sample().encoded(digests: testDigests)
        #expect(decodeError(Array(bytes.dropLast())) == .wrongSize(expected: 29456, actual: 29455))
        #expect(decodeError(Array(bytes.prefix(100))) == .wrongSize(expected: 29456, actual: 100))
        #expect(decodeError([]) == .wrongSize(expected: 29456, actual: 0))
        #expect(decodeError(bytes + [0]) == .wrongSize(expected: 29456, actual: 29457))
        // The ILP32 size is not accepted either.
        #expect(decodeError(Array(bytes.prefix(29448))) == .wrongSize(expected: 29456, actual: 29448))
    }

    @Test func wrongVersion() throws {
        for version: Int32 in [0, 1, 3, -1] {
            var bytes = try Self.sample().encoded(digests: testDigests)
            putInt32(version, &bytes, at: 0)
            #expect(decodeError(resealed(bytes)) == .wrongVersion(Int(version)))
            // Without a new digest the digest check comes first, as in libarms.
            #expect(decodeError(bytes) == .badDigest)
        }
    }

    @Test func unterminatedFieldsDoNotFit() throws {
        let base = try StateCache().encoded(digests: testDigests)
        func filled(_ range: Range<Int>) -> [UInt8] {
            var b = base
            for i in range { b[i] = UInt8(ascii: "x") }
            return resealed(b)
        }
        #expect(decodeError(filled(4..<132)) == .fieldDoesNotFit(field: "rs_endpoint", capacity: 128))
        #expect(decodeError(filled(2480..<2545)) == .fieldDoesNotFit(field: "rs_preshared_key", capacity: 65))
        // A 257-byte URL and a 5120-byte PEM.
        #expect(decodeError(filled(2545..<2802)) == .fieldDoesNotFit(field: "rsinfo[0].url", capacity: 257))
        var withURL = base
        for (i, b) in "https://192.0.2.1/".utf8.enumerated() { withURL[2545 + i] = b }
        for i in 2802..<(2802 + 5120) { withURL[i] = UInt8(ascii: "C") }
        #expect(decodeError(resealed(withURL)) == .fieldDoesNotFit(field: "rsinfo[0].cert", capacity: 5120))
        // A PPPoE id of 36 bytes.
        var pppoe = base
        putInt32(1, &pppoe, at: 2472)
        putInt32(2, &pppoe, at: 152)
        for i in 160..<196 { pppoe[i] = UInt8(ascii: "u") }
        #expect(decodeError(resealed(pppoe)) == .fieldDoesNotFit(field: "line_defs[0].conf.pppoe.id", capacity: 36))
    }

    @Test func badLineCountAndTypes() throws {
        let base = try StateCache().encoded(digests: testDigests)
        for count: Int32 in [6, -1, 1000] {
            var b = base
            putInt32(count, &b, at: 2472)
            #expect(decodeError(resealed(b)) == .lineCount(Int(count)))
        }
        for code: Int32 in [0, 1, 4, 9, 10, -1] {
            var b = base
            putInt32(1, &b, at: 2472)
            putInt32(code, &b, at: 152)
            #expect(decodeError(resealed(b)) == .lineType(index: 0, code: Int(code)))
        }
        // Entries from num_line on are ignored.
        var b = base
        putInt32(99, &b, at: 152 + 464)
        #expect(try StateCache(decoding: resealed(b), digests: testDigests).lines == [])
    }

    @Test func notUTF8AndServerGaps() throws {
        var b = try StateCache().encoded(digests: testDigests)
        b[4] = 0xFF
        #expect(decodeError(resealed(b)) == .notUTF8(field: "rs_endpoint"))

        var gap = try StateCache().encoded(digests: testDigests)
        gap[2545 + 5377] = UInt8(ascii: "h")  // URL in slot 1 with slot 0 empty
        #expect(decodeError(resealed(gap)) == .serverGap(index: 1))

        // A certificate in an empty slot is ignored, as libarms does.
        var orphan = try StateCache().encoded(digests: testDigests)
        orphan[2545 + 257] = UInt8(ascii: "C")
        #expect(try StateCache(decoding: resealed(orphan), digests: testDigests).rsServers == [])
    }

    @Test func bytesAfterTheNulAreIgnored() throws {
        var b = try StateCache(rsEndpoint: "https://192.0.2.1/").encoded(digests: testDigests)
        b[4 + 100] = UInt8(ascii: "z")
        b[141] = 0x55  // padding
        #expect(try StateCache(decoding: resealed(b), digests: testDigests).rsEndpoint == "https://192.0.2.1/")
    }

    @Test func fieldLimitsAtConstruction() {
        #expect(fieldError { () throws(StateCache.FieldError) in try StateCache(rsEndpoint: String(repeating: "e", count: 128)) }
                == .tooLong(field: "rs_endpoint", length: 128, max: 127))
        #expect(fieldError { () throws(StateCache.FieldError) in try StateCache(rsPresharedKey: String(repeating: "k", count: 65)) }
                == .tooLong(field: "rs_preshared_key", length: 65, max: 64))
        #expect(fieldError { () throws(StateCache.FieldError) in
            try StateCache(rsServers: [.init(url: String(repeating: "u", count: 257))])
        } == .tooLong(field: "rsinfo[0].url", length: 257, max: 256))
        #expect(fieldError { () throws(StateCache.FieldError) in
            try StateCache(rsServers: [.init(url: "https://192.0.2.1/", caPEM: String(repeating: "C", count: 5120))])
        } == .tooLong(field: "rsinfo[0].cert", length: 5120, max: 5119))
        #expect(fieldError { () throws(StateCache.FieldError) in
            try StateCache(rsServers: Array(repeating: .init(url: "https://192.0.2.1/"), count: 6))
        } == .tooMany(field: "rsinfo", count: 6, max: 5))
        #expect(fieldError { () throws(StateCache.FieldError) in
            try StateCache(lines: Array(repeating: .dhcp(ifindex: 0), count: 6))
        } == .tooMany(field: "line_defs", count: 6, max: 5))
        #expect(fieldError { () throws(StateCache.FieldError) in
            try StateCache(lines: [.pppoe(PPPoELine(ifindex: 0, account: String(repeating: "a", count: 36)))])
        } == .tooLong(field: "line_defs[0].conf.pppoe.id", length: 36, max: 35))
        #expect(fieldError { () throws(StateCache.FieldError) in
            try StateCache(lines: [.dhcp(ifindex: 0), .mobile(MobileLine(ifindex: 0, pdpType: "pppppppp"))])
        } == .tooLong(field: "line_defs[1].conf.mobile.pdp", length: 8, max: 7))
        #expect(fieldError { () throws(StateCache.FieldError) in try StateCache(retryMax: Int(Int32.max) + 1) }
                == .outOfRange(field: "retry_max", value: Int(Int32.max) + 1))
        #expect(fieldError { () throws(StateCache.FieldError) in try StateCache(lines: [.ra(ifindex: Int(Int32.min) - 1)]) }
                == .outOfRange(field: "line_defs[0].conf.ifindex", value: Int(Int32.min) - 1))
        #expect(fieldError { () throws(StateCache.FieldError) in try StateCache(rsEndpoint: "a\u{0}b") }
                == .containsNUL(field: "rs_endpoint"))
    }

    @Test func emptyPEMIsNoPEM() throws {
        #expect(StateCache.RSServer(url: "https://192.0.2.1/", caPEM: "").caPEM == nil)
    }
}
