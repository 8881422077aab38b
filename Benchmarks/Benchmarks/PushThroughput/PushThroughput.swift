import MockCore
import ARMSProtocol
import Benchmark
import FleetSimulator
import MockService

// Pushes over held tunnels: 1000 simulated SAs (FleetSimulator) push-ready against a mock in
// the same process; md-command round trips through the RS's push API (`ServiceRuntime.push`:
// request over the tunnel, the SA's echo back, the operation finished). Goals: ≥ 5,000/s,
// p99 ≤ 10 ms at a fixed rate.

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        warmupIterations: 0,
        scalingFactor: .one,
        maxDuration: .seconds(120),
        maxIterations: 3
    )

    Benchmark("md-command round trips, 64 in flight, 1000 SAs",
              configuration: .init(metrics: [.custom("pushes/s", polarity: .prefersLarger), .custom("failed")])) { benchmark in
        let rig = try await Rig.shared()
        let pushes = 20_000
        let clock = ContinuousClock()
        let start = clock.now
        let failed = await withTaskGroup(of: Bool.self) { group in
            let send = { @Sendable (id: DistributionID, n: Int) async -> Bool in await rig.sender.send(id, "bench \(n)") == nil }
            var next = 0
            var failed = 0
            var random = SplitMix64(seed: 42)
            for _ in 0..<64 {
                let id = rig.ready[Int(random.next() % UInt64(rig.ready.count))]
                let n = next
                next += 1
                group.addTask { await send(id, n) }
            }
            while let ok = await group.next() {
                if !ok { failed += 1 }
                if next < pushes {
                    let id = rig.ready[Int(random.next() % UInt64(rig.ready.count))]
                    let n = next
                    next += 1
                    group.addTask { await send(id, n) }
                }
            }
            return failed
        }
        let d = start.duration(to: clock.now)
        let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        benchmark.measurement(.custom("pushes/s", polarity: .prefersLarger), Int(Double(pushes) / seconds))
        benchmark.measurement(.custom("failed"), failed)
    }

    for rate in [1000, 2500, 5000] {
        Benchmark("md-command latency at \(rate)/s for 5 s, 1000 SAs",
                  configuration: .init(metrics: [.custom("p50 µs"), .custom("p99 µs"), .custom("failed")])) { benchmark in
            let rig = try await Rig.shared()
            rig.fleet.resetPushFigures()
            await PushLoad(fleet: rig.fleet, rate: Double(rate), sender: rig.sender, seed: 9).run(for: .seconds(5))
            let s = rig.fleet.snapshot
            benchmark.measurement(.custom("p50 µs"), Int((s.pushP50 ?? 0) * 1e6))
            benchmark.measurement(.custom("p99 µs"), Int((s.pushP99 ?? 0) * 1e6))
            benchmark.measurement(.custom("failed"), s.pushesFailed)
        }
    }
}

/// One mock and 1000 push-ready simulated SAs for every benchmark of this target.
final class Rig: Sendable {
    let runtime: ServiceRuntime
    let fleet: Fleet
    let sender: PushSender
    let ready: [DistributionID]

    private init(runtime: ServiceRuntime, fleet: Fleet, ready: [DistributionID]) {
        self.runtime = runtime
        self.fleet = fleet
        self.sender = .inProcess(runtime)
        self.ready = ready
    }

    private static let instance = Once()

    static func shared() async throws -> Rig {
        if let rig = await instance.value { return rig }
        let runtime = try await ServiceRuntime.start(FleetSetup.serviceConfiguration(count: 1000, seed: 1, heartbeatInterval: 60))
        let fleet = FleetSetup.fleet(for: runtime, options: FleetOptions())
        try await fleet.start()
        guard await fleet.waitUntilAllReady(timeout: .seconds(300)) else {
            throw RigError(description: "only \(fleet.snapshot.everReady) SAs push-ready: \(fleet.snapshot.topErrors)")
        }
        let rig = Rig(runtime: runtime, fleet: fleet, ready: fleet.readySAs)
        await instance.set(rig)
        return rig
    }

    actor Once {
        var value: Rig?
        func set(_ rig: Rig) { value = rig }
    }
}

struct RigError: Error, CustomStringConvertible {
    let description: String
}
