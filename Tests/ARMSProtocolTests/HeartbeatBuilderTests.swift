import Testing
@testable import ARMSProtocol

@Suite struct HeartbeatBuilderTests {
    typealias T = HeartbeatTestData
    typealias Kind = HeartbeatStatistic.Kind

    /// A statistic of `kind` with index `index` and arbitrary values.
    static func sample(_ kind: Kind, index: UInt16) -> HeartbeatStatistic {
        switch kind {
        case .cpuUsage: return .cpuUsage(.init(index: index, utilization: 1))
        case .cpuDetail: return .cpuDetail(.init(index: index, idle: 1, interrupt: 2, user: 3, system: 4, other: 5))
        case .memory: return .memory(.init(index: index, used: 1, free: 2))
        case .disk: return .disk(.init(index: index, used: 1, free: 2))
        case .trafficCount:
            return .trafficCount(.init(index: index, inOctets: 1, outOctets: 2, inPackets: 3, outPackets: 4,
                                       inErrors: 5, outErrors: 6))
        case .trafficRate:
            return .trafficRate(.init(index: index, inOctets: 1, outOctets: 2, inPackets: 3, outPackets: 4,
                                      inErrors: 5, outErrors: 6))
        case .radioWave: return .radioWave(.init(index: index, status: .noSignal, maximum: 3, minimum: 1, average: 2))
        }
    }

    @Test func startsWithThePrefix() {
        let builder = HeartbeatBuilder(distributionID: T.workedExampleID)
        #expect(builder.unsignedDatagram == [0x00, 0x01, 0x00, 0x14] + Array(repeating: 0, count: 20)
            + [0x00, 0x11, 0x00, 0x10] + T.workedExampleID.bytes)
        #expect(builder.remainingCapacity == 980)
    }

    @Test func statisticsAreWrittenInCallOrder() throws {
        var builder = HeartbeatBuilder(distributionID: T.workedExampleID)
        let order: [HeartbeatStatistic] = T.workedExampleStatistics.reversed()
        for statistic in order { try builder.append(statistic) }
        let decoded = try HeartbeatDatagram(decoding: builder.unsignedDatagram)
        #expect(decoded.statistics == order)
    }

    /// heartbeat.md §3.4: how many TLVs of one type fill the 980 bytes.
    @Test(arguments: [
        (Kind.cpuUsage, 140), (.cpuDetail, 89), (.memory, 44), (.disk, 44),
        (.trafficCount, 18), (.trafficRate, 18), (.radioWave, 98),
    ])
    func perTypeMaximum(kind: Kind, maximum: Int) throws {
        var builder = HeartbeatBuilder(distributionID: T.workedExampleID)
        for i in 0..<maximum { try builder.append(Self.sample(kind, index: UInt16(i))) }
        let full = builder.unsignedDatagram
        #expect(full.count == 44 + maximum * kind.tlvLength)
        #expect(full.count <= 1024)

        let left = 980 - maximum * kind.tlvLength
        #expect(throws: HeartbeatBuildError.noSpace(needed: kind.tlvLength, available: left)) {
            try builder.append(Self.sample(kind, index: UInt16(maximum)))
        }
        #expect(builder.unsignedDatagram == full)

        // A full datagram is still accepted by the decoder and reads back.
        let decoded = try HeartbeatDatagram(decoding: builder.sign(passphrase: T.passphrase, digests: testDigests))
        #expect(decoded.statistics.count == maximum)
        #expect(decoded.statistics.last == Self.sample(kind, index: UInt16(maximum - 1)))
    }

    @Test func exactFitIsAccepted() throws {
        // 140 CPU-usage TLVs are exactly 980 bytes: the datagram is exactly 1024.
        var builder = HeartbeatBuilder(distributionID: T.workedExampleID)
        for i in 0..<140 { try builder.append(Self.sample(.cpuUsage, index: UInt16(i))) }
        #expect(builder.unsignedDatagram.count == 1024)
        #expect(builder.remainingCapacity == 0)
        #expect(throws: HeartbeatBuildError.noSpace(needed: 7, available: 0)) {
            try builder.append(Self.sample(.cpuUsage, index: 140))
        }
    }

    @Test func smallerStatisticStillFitsAfterARefusal() throws {
        var builder = HeartbeatBuilder(distributionID: T.workedExampleID)
        for i in 0..<18 { try builder.append(Self.sample(.trafficRate, index: UInt16(i))) }  // 44 + 972 = 1016
        #expect(throws: HeartbeatBuildError.noSpace(needed: 22, available: 8)) {
            try builder.append(Self.sample(.memory, index: 0))
        }
        try builder.append(Self.sample(.cpuUsage, index: 0))  // 7 more = 1023
        #expect(builder.remainingCapacity == 1)
        #expect(builder.unsignedDatagram.count == 1023)
    }

    @Test func duplicateTypeAndIndexIsRefused() throws {
        var builder = HeartbeatBuilder(distributionID: T.workedExampleID)
        try builder.append(.cpuUsage(.init(index: 0, utilization: 10)))
        let before = builder.unsignedDatagram
        #expect(throws: HeartbeatBuildError.duplicate(type: 0x0033, index: 0)) {
            try builder.append(.cpuUsage(.init(index: 0, utilization: 20)))
        }
        #expect(builder.unsignedDatagram == before)

        // Same index under other types, and another index of the same type, are fine.
        try builder.append(.cpuDetail(.init(index: 0, idle: 90, interrupt: 0, user: 5, system: 5, other: 0)))
        try builder.append(.memory(.init(index: 0, used: 1, free: 1)))
        try builder.append(.disk(.init(index: 0, used: 1, free: 1)))
        try builder.append(.cpuUsage(.init(index: 1, utilization: 20)))
        #expect(throws: HeartbeatBuildError.duplicate(type: 0x0037, index: 0)) {
            try builder.append(.disk(.init(index: 0, used: 2, free: 2)))
        }
        // Memory and disk share a value layout but not a type.
        #expect(throws: HeartbeatBuildError.duplicate(type: 0x0035, index: 0)) {
            try builder.append(.memory(.init(index: 0, used: 2, free: 2)))
        }
        // Traffic counters and traffic rate are separate types too.
        try builder.append(Self.sample(.trafficCount, index: 7))
        try builder.append(Self.sample(.trafficRate, index: 7))
        #expect(throws: HeartbeatBuildError.duplicate(type: 0x0039, index: 7)) {
            try builder.append(Self.sample(.trafficRate, index: 7))
        }
    }

    @Test func duplicateIsReportedEvenWhenFull() throws {
        var builder = HeartbeatBuilder(distributionID: T.workedExampleID)
        for i in 0..<140 { try builder.append(Self.sample(.cpuUsage, index: UInt16(i))) }
        #expect(throws: HeartbeatBuildError.duplicate(type: 0x0033, index: 139)) {
            try builder.append(Self.sample(.cpuUsage, index: 139))
        }
    }

    @Test(arguments: [UInt16(0x0000), 0x0001, 0x0011, 0x002C, 0x0033, 0x0034, 0x0035, 0x0037, 0x0038, 0x0039])
    func rawStatisticCannotUseReservedOrKnownTypes(type: UInt16) {
        var builder = HeartbeatBuilder(distributionID: T.workedExampleID)
        #expect(throws: HeartbeatBuildError.reservedType(type)) {
            try builder.append(.unknown(.init(type: type, value: [0, 0, 0])))
        }
        #expect(builder.unsignedDatagram.count == 44)
    }

    @Test func rawStatisticsAreAppendedAsGiven() throws {
        var builder = HeartbeatBuilder(distributionID: T.workedExampleID)
        try builder.append(.unknown(.init(type: 0x0036, value: [0xAA, 0xBB])))
        try builder.append(.unknown(.init(type: 0x0036, value: [])))
        try builder.append(.unknown(.init(type: 0xFFFF, value: Array(repeating: 7, count: 900))))
        let expected: [UInt8] = [0x00, 0x36, 0x00, 0x02, 0xAA, 0xBB, 0x00, 0x36, 0x00, 0x00, 0xFF, 0xFF, 0x03, 0x84]
            + Array(repeating: 7, count: 900)
        #expect(Array(builder.unsignedDatagram[44...]) == expected)
        #expect(throws: HeartbeatBuildError.noSpace(needed: 70_004, available: 66)) {
            try builder.append(.unknown(.init(type: 0x0040, value: Array(repeating: 0, count: 70_000))))
        }
    }

    @Test func removeAllStatisticsGoesBackToThePrefix() throws {
        var builder = HeartbeatBuilder(distributionID: T.workedExampleID)
        for statistic in T.workedExampleStatistics { try builder.append(statistic) }
        builder.removeAllStatistics()
        #expect(builder.unsignedDatagram.count == 44)
        #expect(builder.sign(passphrase: T.passphrase, digests: testDigests) == T.minimal)
        // The same (type, index) may be set again on the next tick.
        for statistic in T.workedExampleStatistics { try builder.append(statistic) }
        #expect(builder.sign(passphrase: T.passphrase, digests: testDigests) == T.workedExample)
    }

    @Test func samePayloadIsSignedPerServer() throws {
        var builder = HeartbeatBuilder(distributionID: T.fixtureID)
        for statistic in T.fixtureStatistics { try builder.append(statistic) }
        let first = builder.sign(passphrase: "s3cret-passphrase", digests: testDigests)
        let second = builder.sign(passphrase: "v6-passphrase", digests: testDigests)

        #expect(first.count == second.count)
        #expect(first[..<4] == second[..<4])
        #expect(first[24...] == second[24...])
        #expect(first[4..<24] != second[4..<24])

        let a = try HeartbeatDatagram(decoding: first)
        let b = try HeartbeatDatagram(decoding: second)
        #expect(a.statistics == b.statistics)
        #expect(a.verify(passphrase: "s3cret-passphrase", digests: testDigests) && !a.verify(passphrase: "v6-passphrase", digests: testDigests))
        #expect(b.verify(passphrase: "v6-passphrase", digests: testDigests) && !b.verify(passphrase: "s3cret-passphrase", digests: testDigests))
        // Signing does not change the builder: signing again gives the same bytes.
        #expect(builder.sign(passphrase: "s3cret-passphrase", digests: testDigests) == first)
    }

    @Test func passphraseIsUsedAsItsUTF8Bytes() throws {
        // A non-ASCII passphrase is keyed by its UTF-8 bytes, and differs from a
        // passphrase that only looks similar.
        let builder = HeartbeatBuilder(distributionID: T.workedExampleID)
        let datagram = try HeartbeatDatagram(decoding: builder.sign(passphrase: "pässword", digests: testDigests))
        #expect(datagram.verify(passphrase: "pässword", digests: testDigests))
        #expect(!datagram.verify(passphrase: "pa\u{0308}ssword", digests: testDigests))  // same text, other bytes
    }

    @Test func smallerLimitIsHonoured() throws {
        var builder = HeartbeatBuilder(distributionID: T.workedExampleID, maximumLength: 51)
        try builder.append(Self.sample(.cpuUsage, index: 0))
        #expect(throws: HeartbeatBuildError.noSpace(needed: 7, available: 0)) {
            try builder.append(Self.sample(.cpuUsage, index: 1))
        }
        #expect(HeartbeatBuilder(distributionID: T.workedExampleID, maximumLength: 10).maximumLength == 44)
    }

    // MARK: Round trips

    static let extremes: [HeartbeatStatistic] = [
        .cpuUsage(.init(index: 65535, utilization: 255)),
        .cpuDetail(.init(index: 1, idle: 0, interrupt: 255, user: 128, system: 1, other: 254)),
        .memory(.init(index: 2, used: .max, free: 0x0102_0304_0506_0708)),
        .disk(.init(index: 3, used: 0, free: .max)),
        .trafficCount(.init(index: 4, inOctets: .max, outOctets: 0x8000_0000_0000_0000, inPackets: 1,
                            outPackets: 0xFFFF_FFFF, inErrors: 0x1_0000_0000, outErrors: 0)),
        .trafficRate(.init(index: 0x8000, inOctets: 1, outOctets: 2, inPackets: 3, outPackets: 4,
                           inErrors: 5, outErrors: .max)),
        .radioWave(.init(index: 6, status: .readError, maximum: 100, minimum: 0, average: 50)),
        .radioWave(.init(index: 7, status: .init(rawValue: 200), maximum: 255, minimum: 255, average: 255)),
        .unknown(.init(type: 0x0036, value: [1, 2, 3])),
        .unknown(.init(type: 0xFFFF, value: [])),
    ]

    @Test(arguments: extremes)
    func everyStatisticRoundTrips(statistic: HeartbeatStatistic) throws {
        var builder = HeartbeatBuilder(distributionID: T.fixtureID)
        try builder.append(statistic)
        let bytes = builder.sign(passphrase: "k", digests: testDigests)
        #expect(bytes.count == 44 + 4 + statistic.valueLength)
        let decoded = try HeartbeatDatagram(decoding: bytes)
        #expect(decoded.statistics == [statistic])
        #expect(decoded.verify(passphrase: "k", digests: testDigests))
    }

    @Test func allStatisticsTogetherRoundTrip() throws {
        var builder = HeartbeatBuilder(distributionID: T.fixtureID)
        for statistic in Self.extremes { try builder.append(statistic) }
        let bytes = builder.sign(passphrase: T.passphrase, digests: testDigests)
        let decoded = try HeartbeatDatagram(decoding: bytes)
        #expect(decoded.statistics == Self.extremes)
        #expect(decoded.unknownStatistics == [.init(type: 0x0036, value: [1, 2, 3]), .init(type: 0xFFFF, value: [])])

        // Re-encoding what was decoded gives the same datagram.
        var again = HeartbeatBuilder(distributionID: decoded.distributionID)
        for statistic in decoded.statistics { try again.append(statistic) }
        #expect(again.sign(passphrase: T.passphrase, digests: testDigests) == bytes)
    }

    @Test func valueLayoutIsBigEndian() throws {
        var builder = HeartbeatBuilder(distributionID: T.fixtureID)
        try builder.append(.trafficCount(.init(index: 0x0102, inOctets: 0x0304_0506_0708_090A, outOctets: 0,
                                               inPackets: 0, outPackets: 0, inErrors: 0, outErrors: 0x0B)))
        try builder.append(.radioWave(.init(index: 0xA0B0, status: .noDevice, maximum: 9, minimum: 8, average: 7)))
        let tail = Array(builder.unsignedDatagram[44...])
        #expect(tail[0..<14] == [0x00, 0x38, 0x00, 0x32, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A])
        #expect(tail[46..<54] == [0, 0, 0, 0, 0, 0, 0, 0x0B])
        #expect(tail[54...] == [0x00, 0x2C, 0x00, 0x06, 0xA0, 0xB0, 0x03, 0x09, 0x08, 0x07])
    }

    @Test func indexAndTypeAccessors() {
        #expect(Self.extremes.map(\.type) == [0x33, 0x34, 0x35, 0x37, 0x38, 0x39, 0x2C, 0x2C, 0x36, 0xFFFF])
        #expect(Self.extremes.map(\.index) == [65535, 1, 2, 3, 4, 0x8000, 6, 7, nil, nil])
        #expect(Self.extremes.map(\.kind) == [.cpuUsage, .cpuDetail, .memory, .disk, .trafficCount, .trafficRate,
                                              .radioWave, .radioWave, nil, nil])
        #expect(Kind.allCases.map(\.tlvLength) == [10, 7, 11, 22, 22, 54, 54])
        #expect(HeartbeatStatistic.RadioStatus.noSignal.description == "no-signal")
        #expect(HeartbeatStatistic.RadioStatus(rawValue: 9).description == "status-9")
    }
}
