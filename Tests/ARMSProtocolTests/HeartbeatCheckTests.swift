import Testing
@testable import ARMSProtocol

/// `HeartbeatDatagram.check` (the receiver's allocation-free path) against the full decoder:
/// the same verdict, error and warning count on valid, implausible and damaged datagrams.
@Suite struct HeartbeatCheckTests {
    static let id = DistributionID(version: 1, vendorCode: 0x1234, saType: 0x80, saCode: 0xDEAD_BEEF)

    static func datagram(_ statistics: [HeartbeatStatistic]) -> [UInt8] {
        var builder = HeartbeatBuilder(distributionID: id)
        for s in statistics { try? builder.append(s) }
        return builder.sign(passphrase: "p", digests: testDigests)
    }

    static let implausible = datagram([
        .cpuUsage(.init(index: 0, utilization: 120)),
        .cpuDetail(.init(index: 0, idle: 101, interrupt: 0, user: 200, system: 3, other: 1)),
        .memory(.init(index: 0, used: 0, free: 0)),
        .disk(.init(index: 1, used: 1, free: 0)),
        .radioWave(.init(index: 0, status: .init(rawValue: 9), maximum: 101, minimum: 40, average: 250)),
        .trafficCount(.init(index: 0, inOctets: 1, outOctets: 2, inPackets: 3, outPackets: 4, inErrors: 5, outErrors: 6)),
        .unknown(.init(type: 0x0040, value: [1, 2, 3])),
    ])

    static func sameVerdict(_ bytes: [UInt8], maximumLength: Int = 1024) -> Bool {
        let full = Result { () throws(HeartbeatDecodeError) in try HeartbeatDatagram(decoding: bytes, maximumLength: maximumLength) }
        let quick = Result { () throws(HeartbeatDecodeError) in try HeartbeatDatagram.check(bytes, maximumLength: maximumLength) }
        switch (full, quick) {
        case (.success(let d), .success(let s)):
            return d.distributionID == s.distributionID && d.warnings.count == s.warningCount
        case (.failure(let a), .failure(let b)):
            return a == b
        default:
            return false
        }
    }

    @Test func warningsAreCountedLikeTheDecoderListsThem() throws {
        let summary = try HeartbeatDatagram.check(Self.implausible)
        #expect(summary.distributionID == Self.id)
        #expect(summary.warningCount == 7)
        #expect(try HeartbeatDatagram(decoding: Self.implausible).warnings.count == 7)
    }

    @Test func everySingleByteDamageGetsTheSameVerdict() {
        let base = Self.implausible
        for offset in base.indices {
            for value: UInt8 in [0x00, 0x01, 0x11, 0x33, 0x35, 0x39, 0x40, 0xFF] {
                var b = base
                b[offset] = value
                #expect(Self.sameVerdict(b), "byte \(offset) = \(value)")
            }
        }
        for length in 0...base.count { #expect(Self.sameVerdict(Array(base[..<length])), "first \(length) bytes") }
        #expect(Self.sameVerdict(base, maximumLength: 100))
        // A repeated (type, index) pair.
        let twice = Self.datagram([.cpuUsage(.init(index: 0, utilization: 1))])
        #expect(Self.sameVerdict(twice + twice[44...]))
    }
}
