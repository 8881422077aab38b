import Testing
@testable import ARMSProtocol

@Suite struct HeartbeatWarningTests {
    typealias T = HeartbeatTestData

    @Test func valuesInRangeGiveNoWarning() {
        let fine: [HeartbeatStatistic] = [
            .cpuUsage(.init(index: 0, utilization: 100)),
            .cpuDetail(.init(index: 0, idle: 100, interrupt: 100, user: 100, system: 100, other: 100)),
            .memory(.init(index: 0, used: 0, free: 1)),
            .disk(.init(index: 0, used: 1, free: 0)),
            .radioWave(.init(index: 0, status: .readError, maximum: 100, minimum: 100, average: 100)),
            .trafficCount(.init(index: 0, inOctets: .max, outOctets: .max, inPackets: .max, outPackets: .max,
                                inErrors: .max, outErrors: .max)),
            .trafficRate(.init(index: 0, inOctets: 0, outOctets: 0, inPackets: 0, outPackets: 0,
                               inErrors: 0, outErrors: 0)),
            .unknown(.init(type: 0x0036, value: [0xFF])),
        ]
        for statistic in fine { #expect(statistic.warnings.isEmpty, "\(statistic)") }
    }

    @Test func cpuPercentagesAbove100() {
        #expect(HeartbeatStatistic.cpuUsage(.init(index: 3, utilization: 101)).warnings == [
            .init(code: .percentOver100, kind: .cpuUsage, index: 3, field: "utilization", value: 101),
        ])
        let detail = HeartbeatStatistic.cpuDetail(.init(index: 1, idle: 255, interrupt: 0, user: 0,
                                                        system: 101, other: 0))
        #expect(detail.warnings == [
            .init(code: .percentOver100, kind: .cpuDetail, index: 1, field: "idle", value: 255),
            .init(code: .percentOver100, kind: .cpuDetail, index: 1, field: "system", value: 101),
        ])
    }

    @Test func radioStatusAbove4AndLevelsAbove100() {
        let radio = HeartbeatStatistic.radioWave(.init(index: 2, status: .init(rawValue: 5),
                                                       maximum: 101, minimum: 0, average: 200))
        #expect(radio.warnings == [
            .init(code: .undefinedRadioStatus, kind: .radioWave, index: 2, field: "status", value: 5),
            .init(code: .levelOver100, kind: .radioWave, index: 2, field: "maximum", value: 101),
            .init(code: .levelOver100, kind: .radioWave, index: 2, field: "average", value: 200),
        ])
        #expect(!HeartbeatStatistic.RadioStatus(rawValue: 5).isDefined)
        #expect(HeartbeatStatistic.RadioStatus.readError.isDefined)
    }

    @Test func zeroUsedPlusFree() {
        #expect(HeartbeatStatistic.memory(.init(index: 0, used: 0, free: 0)).warnings == [
            .init(code: .zeroTotal, kind: .memory, index: 0, field: "used+free", value: 0),
        ])
        #expect(HeartbeatStatistic.disk(.init(index: 9, used: 0, free: 0)).warnings.map(\.code) == [.zeroTotal])
        // Values whose sum would overflow are not zero.
        #expect(HeartbeatStatistic.disk(.init(index: 0, used: .max, free: 1)).warnings.isEmpty)
    }

    @Test func implausibleDatagramIsKeptWithItsWarnings() throws {
        var builder = HeartbeatBuilder(distributionID: T.fixtureID)
        try builder.append(.cpuUsage(.init(index: 0, utilization: 150)))
        try builder.append(.memory(.init(index: 0, used: 0, free: 0)))
        try builder.append(.radioWave(.init(index: 0, status: .init(rawValue: 7), maximum: 1, minimum: 1, average: 1)))
        let datagram = try HeartbeatDatagram(decoding: builder.sign(passphrase: T.passphrase, digests: testDigests))
        #expect(datagram.verify(passphrase: T.passphrase, digests: testDigests))
        #expect(datagram.statistics.count == 3)
        #expect(datagram.warnings.map(\.code) == [.percentOver100, .zeroTotal, .undefinedRadioStatus])
        #expect(datagram.warnings.first?.description == "percent-over-100: type 0x0033 index 0 utilization = 150")
    }
}
