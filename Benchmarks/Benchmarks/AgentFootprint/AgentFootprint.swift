import Benchmark
import Foundation
import MockCore
import MockService

// armsd's footprint: one iteration starts the release `armsd` (built beforehand, see
// below) against an in-process mock (LS, RS, tunnel, heartbeat receiver), waits until it
// is in PUSH_WAIT holding a confirmed https-tunnel and its first heartbeat was accepted,
// then reads its peak RSS (`VmHWM` in /proc/PID/status) and stops it.
//
// Custom metrics: `peak RSS (kB)` and `start to PUSH_WAIT (ms)` (process start to the
// state-change log line, heartbeat wait not included).
//
// The binary is not built here:
//   swift build -c release -Xswiftc -static-stdlib --product armsd     (from the repository root)
// `ARMSD=/path/to/armsd` overrides the default `<repository>/.build/release/armsd`.

let peakRSS = BenchmarkMetric.custom("peak RSS (kB)", polarity: .prefersSmaller, useScalingFactor: false)
let startToPushWait = BenchmarkMetric.custom("start to PUSH_WAIT (ms)", polarity: .prefersSmaller, useScalingFactor: false)

let benchmarks: @Sendable () -> Void = {
    let rig = FootprintRig()
    Benchmark("armsd in PUSH_WAIT (https-tunnel, heartbeats on)",
              configuration: .init(metrics: [peakRSS, startToPushWait], warmupIterations: 0,
                                   maxDuration: .seconds(60), maxIterations: 5)) { benchmark in
        let (rss, millis) = try await rig.runAgentOnce()
        benchmark.measurement(peakRSS, rss)
        benchmark.measurement(startToPushWait, millis)
    } setup: {
        try await rig.start()
    } teardown: {
        await rig.stop()
    }
}

final class FootprintRig: @unchecked Sendable {
    var runtime: ServiceRuntime?
    var directory = ""
    var runs = 0

    struct Failure: Error, CustomStringConvertible { let description: String }

    static var armsdPath: String {
        if let path = ProcessInfo.processInfo.environment["ARMSD"], !path.isEmpty { return path }
        // <repository>/Benchmarks/Benchmarks/AgentFootprint/AgentFootprint.swift
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url.appendingPathComponent(".build/release/armsd").path
    }

    func start() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.armsdPath) else {
            throw Failure(description: "no armsd at \(Self.armsdPath): run `swift build -c release -Xswiftc -static-stdlib --product armsd` in the repository, or set ARMSD")
        }
        directory = NSTemporaryDirectory() + "agent-footprint-\(getpid())"
        try? FileManager.default.removeItem(atPath: directory)
        var c = ServiceConfiguration.inProcess(dataDirectory: directory + "/data")
        c.heartbeatHosts = ["127.0.0.1"]
        runtime = try await ServiceRuntime.start(c)
    }

    func stop() async {
        await runtime?.stop()
        runtime = nil
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Starts armsd, waits for PUSH_WAIT and a heartbeat, returns (VmHWM kB, ms to PUSH_WAIT).
    func runAgentOnce() async throws -> (Int, Int) {
        guard let runtime, let data = runtime.dataDirectory else { throw Failure(description: "no service") }
        runs += 1
        let work = directory + "/work-\(runs)"
        let log = directory + "/armsd-\(runs).log"
        let demo = SAProfile.demo.distributionID
        let heartbeatsBefore = runtime.heartbeatSnapshot(of: demo)?.sampleCount ?? 0
        // Every run starts cold (LS pull first): no state cache from the run before.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: data.stateDirectoryPath)) ?? [] {
            try? FileManager.default.removeItem(atPath: data.stateDirectoryPath + "/" + name)
        }

        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: Self.armsdPath)
        agent.arguments = ["-D", "-b", work, "-l", log, "-f", data.armsdConfPath]
        // Only PATH (for the scripts): nothing of the harness (e.g. a preloaded allocator) reaches armsd.
        agent.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        agent.standardOutput = FileHandle.nullDevice
        agent.standardError = FileHandle.nullDevice
        let started = ContinuousClock.now
        try agent.run()
        defer {
            agent.terminate()
            agent.waitUntilExit()
        }
        var reachedPushWait: ContinuousClock.Instant?
        let deadline = started + .seconds(30)
        while true {
            guard agent.isRunning else { throw Failure(description: "armsd exited (\(agent.terminationStatus)); log: \(log)") }
            guard ContinuousClock.now < deadline else { throw Failure(description: "no PUSH_WAIT with a heartbeat within 30 s; log: \(log)") }
            if reachedPushWait == nil, let text = try? String(contentsOfFile: log, encoding: .utf8), text.contains("-> PUSH_WAIT") {
                reachedPushWait = ContinuousClock.now
            }
            if reachedPushWait != nil, (runtime.heartbeatSnapshot(of: demo)?.sampleCount ?? 0) > heartbeatsBefore { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        let status = try String(contentsOfFile: "/proc/\(agent.processIdentifier)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kB = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else {
            throw Failure(description: "no VmHWM in /proc/\(agent.processIdentifier)/status")
        }
        let elapsed = (reachedPushWait! - started).components
        return (kB, Int(elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000))
    }
}
