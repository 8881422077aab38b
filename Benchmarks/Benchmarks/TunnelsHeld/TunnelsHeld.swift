import Benchmark
import FleetSimulator
import Glibc
import MockService

// Tunnels held: N simulated SAs (FleetSimulator) against a mock in the same process, each
// pulled, confirmed and holding its https-tunnel. One iteration = the whole run. Recorded:
// resident memory added per SA once all are push-ready (mock and simulated SA together,
// so an upper bound of the mock's share; docs/benchmarks.md has the mock alone from
// separate processes) and seconds until all were push-ready. Goal: ≤ 30 KB per tunnel on the mock.

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.custom("KB per SA (mock + SA)"), .custom("s to all push-ready"), .custom("SAs push-ready", polarity: .prefersLarger)],
        warmupIterations: 0,
        scalingFactor: .one,
        maxDuration: .seconds(600),
        maxIterations: 1
    )

    for count in [1000, 5000, 10000] {
        Benchmark("tunnels held, \(count) SAs") { benchmark in
            FileLimit.raise(to: 4 * count + 1024)
            let runtime = try await ServiceRuntime.start(FleetSetup.serviceConfiguration(count: count, seed: 1, heartbeatInterval: 60))
            var options = FleetOptions()
            options.maxConcurrency = 200
            let fleet = FleetSetup.fleet(for: runtime, options: options)
            let before = Resident.kilobytes()
            let clock = ContinuousClock()
            let start = clock.now
            try await fleet.start()
            let all = await fleet.waitUntilAllReady(timeout: .seconds(540))
            let seconds = start.duration(to: clock.now)
            // Let the last confirmations and heartbeats settle.
            try await Task.sleep(for: .seconds(2))
            let after = Resident.kilobytes()
            let ready = fleet.snapshot.everReady
            benchmark.measurement(.custom("KB per SA (mock + SA)"), (after - before) / max(1, ready))
            benchmark.measurement(.custom("s to all push-ready"), Int(seconds.components.seconds))
            benchmark.measurement(.custom("SAs push-ready", polarity: .prefersLarger), ready)
            await fleet.stop()
            await runtime.stop()
            if !all { print("tunnels held, \(count) SAs: only \(ready) push-ready; \(fleet.snapshot.topErrors)") }
        }
    }
}

enum Resident {
    /// VmRSS of this process in KB.
    static func kilobytes() -> Int {
        guard let file = fopen("/proc/self/status", "r") else { return 0 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, 256, file) != nil {
            let length = line.firstIndex(of: 0) ?? line.count
            let text = String(decoding: line[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if text.hasPrefix("VmRSS:") {
                return Int(text.dropFirst(6).split(separator: " ").first ?? "0") ?? 0
            }
        }
        return 0
    }
}

enum FileLimit {
    /// Raises RLIMIT_NOFILE to `wanted` (root may raise the hard limit), else soft to hard.
    static func raise(to wanted: Int) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        var raised = limit
        raised.rlim_cur = max(limit.rlim_cur, rlim_t(wanted))
        raised.rlim_max = max(limit.rlim_max, rlim_t(wanted))
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) != 0 {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
    }
}
