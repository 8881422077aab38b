import ARMSProtocol
import Benchmark
import MockRS

// One iteration = one datagram through `HeartbeatLedger.ingest`: decode, SA lookup,
// HMAC-SHA1 verify, plausibility, sample ring and interval statistics. Throughput is
// packets per second on one core; the goal is 200,000.

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 1000,
        maxDuration: .seconds(3),
        maxIterations: 5_000_000
    )

    for fleetSize in [1, 1000] {
        let fleet = IngestFleet(size: fleetSize)
        Benchmark("ingest, \(fleetSize) SA(s), \(fleet.datagrams[0].count) B") { benchmark in
            var ledger = HeartbeatLedger()
            let start = ContinuousClock.now
            var n = 0
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                let outcome = ledger.ingest(fleet.datagrams[n % fleetSize], source: nil, monotonic: start, wallTime: 0,
                                            passphrases: fleet.passphrases)
                blackHole(outcome)
                n += 1
            }
            benchmark.stopMeasurement()
            precondition(ledger.accepted == n, "every datagram is accepted")
        }
    }
}

/// `size` SAs, each with its own passphrase and one signed datagram of armsd's usual content.
struct IngestFleet: Sendable {
    let datagrams: [[UInt8]]
    let keys: [DistributionID: [String]]

    init(size: Int) {
        var datagrams: [[UInt8]] = []
        var keys: [DistributionID: [String]] = [:]
        for n in 0..<size {
            let id = DistributionID(version: 1, vendorCode: 0, saType: 0x48, saCode: UInt64(n + 1))
            let passphrase = "passphrase-\(n)"
            var builder = HeartbeatBuilder(distributionID: id)
            let statistics: [HeartbeatStatistic] = [
                .cpuUsage(.init(index: 0, utilization: 12)),
                .cpuDetail(.init(index: 0, idle: 88, interrupt: 1, user: 6, system: 4, other: 1)),
                .memory(.init(index: 0, used: 180 << 20, free: 330 << 20)),
                .disk(.init(index: 0, used: 40 << 20, free: 900 << 20)),
                .trafficCount(.init(index: 0, inOctets: 123_456_789, outOctets: 98_765_432, inPackets: 100_000,
                                    outPackets: 90_000, inErrors: 1, outErrors: 0)),
                .trafficRate(.init(index: 0, inOctets: 1200, outOctets: 800, inPackets: 12, outPackets: 9, inErrors: 0, outErrors: 0)),
            ]
            for statistic in statistics { try! builder.append(statistic) }
            datagrams.append(builder.sign(passphrase: passphrase))
            keys[id] = [passphrase]
        }
        self.datagrams = datagrams
        self.keys = keys
    }

    func passphrases(_ id: DistributionID) -> [String]? { keys[id] }
}
