import ARMSProtocol
import Benchmark
import MockCore
import MockRS
import MockService
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// One iteration = one datagram through `HeartbeatLedger.ingest`: decode, SA lookup,
// HMAC-SHA1 verify, plausibility, sample ring and interval statistics. Throughput is
// packets per second on one core; the goal is 200,000.
//
// "receiver over UDP": the same datagram sent from a second socket to a running service's
// heartbeat receiver on 127.0.0.1 (NIO event loop, fault-hook check, source address,
// ledger lock, fleet lookup), 1000 per iteration in windows of 64 so that the socket
// buffer never overflows; throughput counts datagrams accepted. Sender and receiver each
// take a core.

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 1000,
        maxDuration: .seconds(3),
        maxIterations: 5_000_000
    )

    for fleetSize in [1, 1000] {
        let fleet = IngestFleet(size: fleetSize)
        // Steady state: one ledger for all iterations, as a running receiver (every SA seen
        // before after the warm-up; the ring full after 120 datagrams per SA).
        let steady = LedgerBox()
        Benchmark("ingest, \(fleetSize) SA(s), \(fleet.datagrams[0].count) B",
                  configuration: .init(metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 1,
                                       scalingFactor: .kilo, maxDuration: .seconds(3), maxIterations: 100_000)) { benchmark in
            let start = ContinuousClock.now
            for _ in benchmark.scaledIterations {
                let outcome = steady.ledger.ingest(fleet.datagrams[steady.count % fleetSize], source: nil, monotonic: start,
                                                   wallTime: 0, passphrases: fleet.passphrases)
                blackHole(outcome)
                steady.count += 1
            }
            precondition(steady.ledger.accepted == steady.count, "every datagram is accepted")
        }
        // Cold: a fresh ledger per datagram (the SA's first datagram: record, ring and key
        // schedule are created), what this benchmark measured before 2026-11-28.
        Benchmark("first ingest into a fresh ledger, \(fleetSize) SA(s), \(fleet.datagrams[0].count) B") { benchmark in
            var ledger = HeartbeatLedger(digests: SwiftCryptoDigests())
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

    let udp = UDPRig()
    Benchmark("receiver over UDP, 1 SA, \(udp.datagram.count) B",
              configuration: .init(metrics: [.wallClock, .throughput], warmupIterations: 2, scalingFactor: .kilo,
                                   maxDuration: .seconds(3), maxIterations: 1000)) { benchmark in
        guard let runtime = udp.runtime else { return benchmark.error("no service") }
        let fd = try udp.connectedSocket(to: runtime.heartbeatEndpoints[0])
        defer { close(fd) }
        var expected = runtime.heartbeatReceiver.acceptedCount
        benchmark.startMeasurement()
        var window = 0
        for _ in benchmark.scaledIterations {
            guard send(fd, udp.datagram, udp.datagram.count, 0) == udp.datagram.count else { return benchmark.error("send failed") }
            expected += 1
            window += 1
            if window == UDPRig.window {
                window = 0
                try UDPRig.wait(for: expected, runtime)
            }
        }
        try UDPRig.wait(for: expected, runtime)
        benchmark.stopMeasurement()
    } setup: {
        try await udp.start()
    } teardown: {
        await udp.stop()
    }
}

/// The ledger of the steady-state benchmark, kept across iterations (one benchmark thread).
final class LedgerBox: @unchecked Sendable {
    var ledger = HeartbeatLedger(digests: SwiftCryptoDigests())
    var count = 0
}

/// A running service (demo SA) for the UDP benchmark, and the demo SA's datagram.
/// `runtime` is set by the benchmark's setup, before any iteration runs.
final class UDPRig: @unchecked Sendable {
    static let window = 64
    var runtime: ServiceRuntime?
    let datagram: [UInt8]

    init() {
        let id = DistributionID("0001-0000-0000-0000-0000-0000-0000-0001")!
        var builder = HeartbeatBuilder(distributionID: id)
        for statistic in IngestFleet.statistics { try! builder.append(statistic) }
        datagram = builder.sign(passphrase: "demo-hb-passphrase", digests: SwiftCryptoDigests())
    }

    func start() async throws {
        var c = ServiceConfiguration.inProcess()
        c.heartbeatHosts = ["127.0.0.1"]
        let started = try await ServiceRuntime.start(c)
        runtime = started
    }

    func stop() async {
        await runtime?.stop()
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// A UDP socket connected to `target` (IPv4).
    func connectedSocket(to target: HeartbeatTarget) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = UInt16(target.port).bigEndian
        inet_pton(AF_INET, target.host, &a.sin_addr)
        let rc = withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); throw Failure(description: "connect: errno \(errno)") }
        return fd
    }

    /// Spins (bounded, 5 s) until the receiver has accepted `count` datagrams.
    static func wait(for count: Int, _ runtime: ServiceRuntime) throws {
        let deadline = ContinuousClock.now + .seconds(5)
        while runtime.heartbeatReceiver.acceptedCount < count {
            guard ContinuousClock.now < deadline else {
                throw Failure(description: "datagrams lost: \(runtime.heartbeatReceiver.acceptedCount) of \(count) accepted")
            }
            sched_yield()
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
            for statistic in Self.statistics { try! builder.append(statistic) }
            datagrams.append(builder.sign(passphrase: passphrase, digests: SwiftCryptoDigests()))
            keys[id] = [passphrase]
        }
        self.datagrams = datagrams
        self.keys = keys
    }

    /// armsd's usual content: one CPU, memory, disk and one interface's counters and rates.
    static let statistics: [HeartbeatStatistic] = [
                .cpuUsage(.init(index: 0, utilization: 12)),
                .cpuDetail(.init(index: 0, idle: 88, interrupt: 1, user: 6, system: 4, other: 1)),
                .memory(.init(index: 0, used: 180 << 20, free: 330 << 20)),
                .disk(.init(index: 0, used: 40 << 20, free: 900 << 20)),
                .trafficCount(.init(index: 0, inOctets: 123_456_789, outOctets: 98_765_432, inPackets: 100_000,
                                    outPackets: 90_000, inErrors: 1, outErrors: 0)),
                .trafficRate(.init(index: 0, inOctets: 1200, outOctets: 800, inPackets: 12, outPackets: 9, inErrors: 0, outErrors: 0)),
    ]

    func passphrases(_ id: DistributionID) -> [String]? { keys[id] }
}
