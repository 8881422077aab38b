import Testing
@testable import ARMSProtocol

@Suite struct HeartbeatDecoderTests {
    typealias T = HeartbeatTestData

    /// Decodes `bytes`, expecting the given error and its reason code.
    func expectRejected(
        _ bytes: [UInt8], maximumLength: Int = 1024,
        _ error: HeartbeatDecodeError, reason: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(throws: error, sourceLocation: sourceLocation) {
            try HeartbeatDatagram(decoding: bytes, maximumLength: maximumLength)
        }
        #expect(error.reason.rawValue == reason, sourceLocation: sourceLocation)
    }

    // MARK: Length (§9 step 1)

    @Test func tooShort() {
        expectRejected([], .tooShort(length: 0), reason: "too-short")
        expectRejected(Array(T.minimal.dropLast()), .tooShort(length: 43), reason: "too-short")
        expectRejected(Array(T.minimal[..<24]), .tooShort(length: 24), reason: "too-short")
    }

    @Test func tooLong() throws {
        // Well-formed apart from its size: an unknown TLV of 977 bytes makes 1025.
        let big = T.unsigned([0x00, 0x40, 0x03, 0xD1] + Array(repeating: 0, count: 977))
        #expect(big.count == 1025)
        expectRejected(big, .tooLong(length: 1025, limit: 1024), reason: "too-long")

        // The limit is configurable both ways.
        let decoded = try HeartbeatDatagram(decoding: big, maximumLength: 2048)
        #expect(decoded.unknownStatistics.first?.value.count == 977)
        expectRejected(T.workedExample, maximumLength: 169, .tooLong(length: 170, limit: 169), reason: "too-long")
        #expect(throws: Never.self) { try HeartbeatDatagram(decoding: T.workedExample, maximumLength: 170) }
    }

    // MARK: Prefix (§9 step 2)

    @Test(arguments: [0, 1, 2, 3])
    func badHMACHeader(offset: Int) {
        var bytes = T.minimal
        bytes[offset] ^= 0x10
        expectRejected(bytes, .badPrefix(offset: 0), reason: "bad-prefix")
    }

    @Test(arguments: [24, 25, 26, 27])
    func badDistributionIDHeader(offset: Int) {
        var bytes = T.workedExample
        bytes[offset] ^= 0x01
        expectRejected(bytes, .badPrefix(offset: 24), reason: "bad-prefix")
    }

    @Test func prefixTLVsSwappedAreRejected() {
        let swapped = Array(T.minimal[24..<44] + T.minimal[0..<24])
        expectRejected(swapped, .badPrefix(offset: 0), reason: "bad-prefix")
    }

    @Test func distributionIDVersionIsNotChecked() throws {
        // The MA-E3xx wiki example has version 0x0000 (§9 step 3).
        let id = DistributionID("0000-0123-4567-8901-2345-6789-DEAD-BEEF")!
        let datagram = try HeartbeatDatagram(decoding: HeartbeatBuilder(distributionID: id).sign(passphrase: "x", digests: testDigests))
        #expect(datagram.distributionID == id)
        #expect(datagram.distributionID.description == "0000-0123-4567-8901-2345-6789-DEAD-BEEF")
    }

    // MARK: TLV walk (§9 step 5)

    @Test(arguments: [1, 2, 3])
    func truncatedHeader(leftover: Int) {
        let tail: [UInt8] = Array([0x00, 0x33, 0x00][..<leftover])
        expectRejected(T.unsigned(tail), .truncatedTLV(offset: 44, remaining: leftover), reason: "truncated-tlv")
    }

    @Test func truncatedHeaderAfterValidTLVs() {
        let bytes = T.workedExample + [0x00]
        expectRejected(bytes, .truncatedTLV(offset: 170, remaining: 1), reason: "truncated-tlv")
    }

    @Test func overrun() {
        // CPU usage declares 3 bytes, only 2 follow.
        expectRejected(T.unsigned([0x00, 0x33, 0x00, 0x03, 0x00, 0x00]),
                       .overrun(offset: 44, type: 0x0033, length: 3), reason: "overrun")
        // Unknown types overrun the same way.
        expectRejected(T.unsigned([0x12, 0x34, 0xFF, 0xFF, 0x00]),
                       .overrun(offset: 44, type: 0x1234, length: 65535), reason: "overrun")
        // Last statistic of the worked example cut short by one byte.
        expectRejected(Array(T.workedExample.dropLast()),
                       .overrun(offset: 160, type: 0x002C, length: 6), reason: "overrun")
    }

    @Test(arguments: HeartbeatStatistic.Kind.allCases)
    func knownTypeWithWrongLength(kind: HeartbeatStatistic.Kind) {
        for length in [0, kind.valueLength - 1, kind.valueLength + 1] {
            let tail = [UInt8(kind.rawValue >> 8), UInt8(kind.rawValue & 0xFF), 0x00, UInt8(length)]
                + Array(repeating: 0, count: length)
            expectRejected(T.unsigned(tail), .badLength(offset: 44, type: kind.rawValue, length: length),
                           reason: "bad-length")
        }
    }

    @Test(arguments: [UInt16(0x0000), 0x0001, 0x0011])
    func prefixTypeAgain(type: UInt16) {
        let length: UInt8 = type == 0x0001 ? 20 : type == 0x0011 ? 16 : 0
        let tail = [UInt8(type >> 8), UInt8(type & 0xFF), 0x00, length] + Array(repeating: 0, count: Int(length))
        expectRejected(T.unsigned(tail), .reservedType(offset: 44, type: type), reason: "reserved-type")
        // Also after valid statistics.
        expectRejected(T.workedExample + tail, .reservedType(offset: 170, type: type), reason: "reserved-type")
    }

    @Test func duplicateTypeAndIndex() {
        let cpu: [UInt8] = [0x00, 0x33, 0x00, 0x03, 0x00, 0x00, 0x0C]
        let cpuOtherIndex: [UInt8] = [0x00, 0x33, 0x00, 0x03, 0x00, 0x01, 0x0C]
        expectRejected(T.unsigned(cpu + cpu), .duplicate(offset: 51, type: 0x0033, index: 0), reason: "duplicate")
        expectRejected(T.unsigned(cpu + cpuOtherIndex + cpu),
                       .duplicate(offset: 58, type: 0x0033, index: 0), reason: "duplicate")
        // The radio wave of the worked example repeated at its end.
        expectRejected(T.workedExample + T.workedExample[160...],
                       .duplicate(offset: 170, type: 0x002C, index: 0), reason: "duplicate")
    }

    @Test func sameIndexUnderDifferentTypesIsFine() throws {
        let datagram = try HeartbeatDatagram(decoding: T.workedExample)
        #expect(Set(datagram.statistics.map(\.index)) == [0])
        #expect(datagram.statistics.count == 6)
    }

    @Test func unknownTypesAreSkippedAndReported() throws {
        let cpu: [UInt8] = [0x00, 0x33, 0x00, 0x03, 0x00, 0x00, 0x32]
        let gap: [UInt8] = [0x00, 0x36, 0x00, 0x02, 0xAB, 0xCD]  // 0x0036 is undefined
        let empty: [UInt8] = [0x7F, 0x00, 0x00, 0x00]
        let datagram = try HeartbeatDatagram(decoding: T.unsigned(gap + cpu + empty + gap))
        #expect(datagram.statistics == [
            .unknown(.init(type: 0x0036, value: [0xAB, 0xCD])),
            .cpuUsage(.init(index: 0, utilization: 50)),
            .unknown(.init(type: 0x7F00, value: [])),
            .unknown(.init(type: 0x0036, value: [0xAB, 0xCD])),
        ])
        #expect(datagram.unknownStatistics.map(\.type) == [0x0036, 0x7F00, 0x0036])
    }

    @Test func firstFaultWins() {
        // Overrun is checked before the type, the type before the length.
        expectRejected(T.unsigned([0x00, 0x01, 0x00, 0x14]), .overrun(offset: 44, type: 0x0001, length: 20),
                       reason: "overrun")
        expectRejected(T.unsigned([0x00, 0x11, 0x00, 0x03, 0, 0, 0]), .reservedType(offset: 44, type: 0x0011),
                       reason: "reserved-type")
        // A faulty TLV after a duplicate: the duplicate, which comes first, is reported.
        let cpu: [UInt8] = [0x00, 0x33, 0x00, 0x03, 0x00, 0x00, 0x0C]
        expectRejected(T.unsigned(cpu + cpu + [0x00]), .duplicate(offset: 51, type: 0x0033, index: 0),
                       reason: "duplicate")
    }

    @Test func structureIsCheckedButNotTheDigest() throws {
        // The decoder leaves authentication to verify(): a zero digest decodes.
        let datagram = try HeartbeatDatagram(decoding: T.unsigned([]))
        #expect(datagram.digest.allSatisfy { $0 == 0 })
        #expect(!datagram.verify(passphrase: T.passphrase, digests: testDigests))
        #expect(datagram.bytes == T.unsigned([]))
    }

    // MARK: Reason codes

    @Test func reasonCodesAreStable() {
        #expect(HeartbeatRejectReason.allCases.map(\.rawValue) == [
            "too-short", "too-long", "bad-prefix", "truncated-tlv", "overrun",
            "bad-length", "reserved-type", "duplicate", "unknown-sa", "bad-mac",
        ])
        #expect(HeartbeatRejectReason(rawValue: "bad-mac") == .badMAC)
        #expect(HeartbeatRejectReason(rawValue: "unknown-sa") == .unknownSA)
        #expect("\(HeartbeatRejectReason.truncatedTLV)" == "truncated-tlv")
    }

    @Test func errorDescriptionsNameTheReason() {
        let error = HeartbeatDecodeError.badLength(offset: 44, type: 0x0033, length: 4)
        #expect(error.description == "heartbeat bad-length: type 0x0033 at offset 44 has length 4")
        #expect(HeartbeatDecodeError.tooShort(length: 3).description.hasPrefix("heartbeat too-short: "))
    }
}
