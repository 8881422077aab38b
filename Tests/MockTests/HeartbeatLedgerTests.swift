import ARMSProtocol
import MockCore
import MockRS
import Testing

/// The heartbeat server's checks and series without sockets (heartbeat.md §9).
@Suite struct HeartbeatLedgerTests {
    static let a = DistributionID("0001-0000-1234-0080-0000-0000-DEAD-BEEF")!
    static let b = DistributionID("0001-0000-0000-0000-0000-0000-0000-0002")!
    static let unknown = DistributionID("0001-0000-0000-0000-0000-0000-0000-0099")!
    static let keys: [DistributionID: [String]] = [a: ["s3cret-passphrase"], b: ["other-key"]]
    static func lookup(_ id: DistributionID) -> [String]? { keys[id] }

    static func datagram(_ id: DistributionID = a, passphrase: String = "s3cret-passphrase", cpu: UInt8 = 12) -> [UInt8] {
        var builder = HeartbeatBuilder(distributionID: id)
        try? builder.append(.cpuUsage(.init(index: 0, utilization: cpu)))
        try? builder.append(.cpuDetail(.init(index: 0, idle: 88, interrupt: 1, user: 7, system: 3, other: 1)))
        try? builder.append(.memory(.init(index: 0, used: 134_217_728, free: 402_653_184)))
        try? builder.append(.disk(.init(index: 1, used: 1 << 30, free: 3 << 30)))
        try? builder.append(.trafficRate(.init(index: 0, inOctets: 12500, outOctets: 3400, inPackets: 20, outPackets: 15,
                                               inErrors: 0, outErrors: 0)))
        try? builder.append(.radioWave(.init(index: 0, status: .running, maximum: 80, minimum: 40, average: 60)))
        return builder.sign(passphrase: passphrase, digests: SwiftCryptoDigests())
    }

    static let t0 = ContinuousClock.now

    @Test func validPacketsAreAcceptedAndTheSeriesReflectsIntervals() throws {
        var ledger = HeartbeatLedger(digests: SwiftCryptoDigests(), sampleCapacity: 3)
        let gaps: [Double] = [0, 1.0, 3.0, 2.0]   // arrival offsets: 0, 1, 4, 6 s
        var offset = 0.0
        for (k, gap) in gaps.enumerated() {
            offset += gap
            let outcome = ledger.ingest(Self.datagram(cpu: UInt8(10 + k)), source: "127.0.0.1:5000", monotonic: Self.t0 + .seconds(offset),
                                        wallTime: 1_700_000_000 + offset, passphrases: Self.lookup)
            #expect(outcome == .accepted(Self.a, first: k == 0, warnings: 0))
            #expect(outcome.shouldJournal == (k == 0))
        }
        let s = try #require(ledger.snapshot(of: Self.a))
        #expect(s.sa == "0001-0000-1234-0080-0000-0000-DEAD-BEEF")
        #expect(s.sampleCount == 4)
        #expect(s.samples.count == 3)                          // bounded ring
        #expect(s.samples.map { $0.cpuUsage.first?.utilization } == [11, 12, 13])   // oldest dropped
        #expect(s.firstArrival == 1_700_000_000 && s.lastArrival == 1_700_000_006)
        let i = try #require(s.intervals)
        #expect(i.count == 3 && i.last == 2 && i.min == 1 && i.max == 3 && i.mean == 2)
        #expect(s.rejected.isEmpty)
        let last = try #require(s.last)
        #expect(last.source == "127.0.0.1:5000")
        #expect(last.size == 44 + 7 + 11 + 22 + 22 + 54 + 10)
        #expect(last.cpuDetail == [.init(index: 0, idle: 88, interrupt: 1, user: 7, system: 3, other: 1)])
        #expect(last.memory == [.init(index: 0, used: 134_217_728, free: 402_653_184)])
        #expect(last.disk == [.init(index: 1, used: 1 << 30, free: 3 << 30)])
        #expect(last.trafficRate.first?.inOctets == 12500)
        #expect(last.radioWave == [.init(index: 0, status: "running", maximum: 80, minimum: 40, average: 60)])
        #expect(ledger.accepted == 4)
        #expect(ledger.snapshot(of: Self.b) == nil)
    }

    @Test func theLibarmsCaptureIsAccepted() throws {
        let capture = try MockFixture.bytes("libarms-5.33-heartbeat.bin")
        let id = DistributionID("0001-0000-1234-0056-0000-0000-0000-0001")!
        var ledger = HeartbeatLedger(digests: SwiftCryptoDigests())
        let outcome = ledger.ingest(capture, source: nil, monotonic: Self.t0, wallTime: 0) { $0 == id ? ["s3cret-passphrase"] : nil }
        #expect(outcome == .accepted(id, first: true, warnings: 0))
        let sample = try #require(ledger.snapshot(of: id)?.last)
        #expect(sample.cpuUsage == [.init(index: 0, utilization: 50)])
        #expect(sample.memory == [.init(index: 0, used: 65536, free: 32768)])
        #expect(sample.trafficRate.map(\.inOctets) == [1024, 2048])
    }

    @Test func rejectionsCarryTheRightReasonAndLeaveOtherSAsAlone() throws {
        var ledger = HeartbeatLedger(digests: SwiftCryptoDigests())
        func feed(_ bytes: [UInt8], at offset: Double = 0) -> HeartbeatLedger.Outcome {
            ledger.ingest(bytes, source: "127.0.0.1:9", monotonic: Self.t0 + .seconds(offset), wallTime: offset, passphrases: Self.lookup)
        }
        #expect(feed(Self.datagram(Self.b, passphrase: "other-key")) == .accepted(Self.b, first: true, warnings: 0))

        // Wrong passphrase: charged to A.
        guard case .rejected(.badMAC, let sa1, _, 1) = feed(Self.datagram(passphrase: "wrong")) else {
            Issue.record("wrong passphrase not rejected as bad-mac"); return
        }
        #expect(sa1 == Self.a)
        // Truncated TLV after a good prefix naming A: charged to A.
        var truncated = Self.datagram()
        truncated.append(contentsOf: [0x00, 0x33])
        guard case .rejected(.truncatedTLV, let sa2, _, 1) = feed(truncated) else {
            Issue.record("truncated TLV not rejected as truncated-tlv"); return
        }
        #expect(sa2 == Self.a)
        // Unknown distribution id: global.
        guard case .rejected(.unknownSA, nil, _, 1) = feed(Self.datagram(Self.unknown)) else {
            Issue.record("unknown SA not rejected as unknown-sa"); return
        }
        // Oversized: A's prefix, but longer than 1024 bytes.
        var oversized = Self.datagram()
        oversized += [0x7F, 0x00, 0x03, 0xE8] + [UInt8](repeating: 0, count: 1000)
        guard case .rejected(.tooLong, let sa3, _, 1) = feed(oversized) else {
            Issue.record("oversized datagram not rejected as too-long"); return
        }
        #expect(sa3 == Self.a)
        // Garbage: global.
        guard case .rejected(.tooShort, nil, _, 1) = feed([1, 2, 3]) else { Issue.record("short datagram"); return }
        guard case .rejected(.badPrefix, nil, _, 1) = feed([UInt8](repeating: 0xFF, count: 60)) else {
            Issue.record("bad prefix"); return
        }

        let a = try #require(ledger.snapshot(of: Self.a))
        #expect(a.sampleCount == 0 && a.samples.isEmpty)
        #expect(a.rejected == ["bad-mac": 1, "truncated-tlv": 1, "too-long": 1])
        let b = try #require(ledger.snapshot(of: Self.b))
        #expect(b.sampleCount == 1 && b.rejected.isEmpty)
        #expect(ledger.overview.rejected == ["unknown-sa": 1, "too-short": 1, "bad-prefix": 1])
        #expect(ledger.overview.rejectedAll.values.reduce(0, +) == 6)
        #expect(ledger.overview.sas == [Self.b.description, Self.a.description].sorted())

        // B keeps working after all that.
        #expect(feed(Self.datagram(Self.b, passphrase: "other-key"), at: 2) == .accepted(Self.b, first: false, warnings: 0))
        #expect(ledger.snapshot(of: Self.b)?.intervals?.last == 2)
    }

    @Test func anSAWithoutPassphraseIsBadMACAndImplausibleValuesAreWarnings() throws {
        var ledger = HeartbeatLedger(digests: SwiftCryptoDigests())
        let outcome = ledger.ingest(Self.datagram(), source: nil, monotonic: Self.t0, wallTime: 0) { $0 == Self.a ? [] : nil }
        guard case .rejected(.badMAC, Self.a?, let detail, 1) = outcome else { Issue.record("\(outcome)"); return }
        #expect(detail.contains("no heartbeat passphrase"))

        let warned = ledger.ingest(Self.datagram(cpu: 120), source: nil, monotonic: Self.t0, wallTime: 0, passphrases: Self.lookup)
        #expect(warned == .accepted(Self.a, first: true, warnings: 1))
        #expect(ledger.snapshot(of: Self.a)?.last?.warnings.first?.hasPrefix("percent-over-100") == true)
    }

    @Test func rejectionJournallingThinsOut() {
        var ledger = HeartbeatLedger(digests: SwiftCryptoDigests())
        var journalled: [Int] = []
        for k in 1...100 {
            let o = ledger.ingest([0], source: nil, monotonic: Self.t0, wallTime: 0, passphrases: Self.lookup)
            if o.shouldJournal { journalled.append(k) }
        }
        #expect(journalled == Array(1...10) + [16, 32, 64])
    }
}
