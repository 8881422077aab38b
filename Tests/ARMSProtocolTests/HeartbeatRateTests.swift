import Testing
@testable import ARMSProtocol

@Suite struct HeartbeatRateTests {
    typealias Counters = HeartbeatStatistic.TrafficCounters

    func rate(_ previous: UInt64, _ current: UInt64, _ seconds: UInt64, _ width: CounterWidth) -> UInt64? {
        Counters.perSecondRate(previous: previous, current: current, elapsedSeconds: seconds, width: width)
    }

    @Test(arguments: [CounterWidth.bits32, .bits64])
    func plainDifferenceWithIntegerDivision(width: CounterWidth) {
        #expect(rate(1000, 4000, 3, width) == 1000)
        #expect(rate(0, 10, 3, width) == 3)
        #expect(rate(5, 5, 300, width) == 0)
        #expect(rate(0, 299, 300, width) == 0)
    }

    @Test(arguments: [CounterWidth.bits32, .bits64])
    func noElapsedTimeGivesNoRate(width: CounterWidth) {
        #expect(rate(0, 100, 0, width) == nil)
        #expect(rate(100, 100, 0, width) == nil)
    }

    @Test func thirtyTwoBitWrap() {
        let top = UInt64(UInt32.max)
        // 100 steps up to the top, then 100 more after wrapping to 0: 200 in 1 s.
        #expect(rate(top - 99, 100, 1, .bits32) == 200)
        #expect(rate(top, 0, 1, .bits32) == 1)
        // The largest step a 32-bit counter can make in one wrap: 2^32 − 1.
        #expect(rate(1, 0, 1, .bits32) == top)
        #expect(rate(1, 0, 300, .bits32) == top / 300)
        // A 32-bit wrap never gives more than 2^32 per interval.
        #expect(rate(top, top - 1, 1, .bits32)! < UInt64(1) << 32)
    }

    @Test func thirtyTwoBitValuesMustFit() {
        let over = UInt64(UInt32.max) + 1
        #expect(rate(over, over + 10, 1, .bits32) == nil)
        #expect(rate(over, 5, 1, .bits32) == nil)
        #expect(rate(5, over, 1, .bits32) == nil)
        // The same values are fine as a 64-bit counter.
        #expect(rate(over, over + 10, 1, .bits64) == 10)
    }

    @Test func sixtyFourBitWrap() {
        #expect(rate(.max - 9, 10, 2, .bits64) == 10)   // 10 + 10 = 20 over 2 s
        #expect(rate(.max, 0, 1, .bits64) == 1)
        // Boundary: a step of exactly 2^63 is still believed, one more is not.
        let half = UInt64(1) << 63
        #expect(rate(half, 0, 1, .bits64) == half)
        #expect(rate(half, 1, 1, .bits64) == nil)
    }

    @Test func sixtyFourBitResetGivesNoRate() {
        // The counter went back to near zero (interface re-created): not a wrap.
        #expect(rate(1_000_000, 5, 300, .bits64) == nil)
        #expect(rate(1, 0, 1, .bits64) == nil)
    }

    @Test func ratesOfAllCounters() {
        let previous = Counters(index: 2, inOctets: UInt64(UInt32.max) - 999, outOctets: 1000, inPackets: 10,
                                outPackets: 20, inErrors: 0, outErrors: 7)
        let current = Counters(index: 2, inOctets: 2000, outOctets: 31000, inPackets: 40,
                               outPackets: 20, inErrors: 3, outErrors: 7)
        #expect(Counters.rates(from: previous, to: current, elapsedSeconds: 10, width: .bits32)
            == Counters(index: 2, inOctets: 300, outOctets: 3000, inPackets: 3, outPackets: 0,
                        inErrors: 0, outErrors: 0))
        // As 64-bit counters the in-octets drop is a reset: no statistic at all.
        #expect(Counters.rates(from: previous, to: current, elapsedSeconds: 10, width: .bits64) == nil)
        #expect(Counters.rates(from: previous, to: current, elapsedSeconds: 0, width: .bits32) == nil)
    }

    @Test func ratesFeedATrafficRateStatistic() throws {
        let previous = Counters(index: 0, inOctets: 0, outOctets: 0, inPackets: 0, outPackets: 0,
                                inErrors: 0, outErrors: 0)
        let current = Counters(index: 0, inOctets: 3_750_000, outOctets: 1_020_000, inPackets: 6000,
                               outPackets: 4500, inErrors: 0, outErrors: 0)
        let rates = try #require(Counters.rates(from: previous, to: current, elapsedSeconds: 300, width: .bits64))
        var builder = HeartbeatBuilder(distributionID: HeartbeatTestData.workedExampleID)
        try builder.append(.trafficRate(rates))
        // Same value bytes as the traffic-rate TLV of the worked example (offsets 106..<160).
        #expect(builder.unsignedDatagram[44...] == HeartbeatTestData.workedExample[106..<160])
    }
}
