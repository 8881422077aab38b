import ArgumentParser
import FleetSimulator
import Foundation
import MockCore
import MockService

/// `warplink-mock fleet`: N simulated SAs in this process against a mock (docs/fleet-simulator.md).
struct FleetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "Run N simulated SAs (pull, push-method-query, tunnels, pushes, heartbeats) against a mock.",
        discussion: """
            The SAs are generated from --seed (ids 0001-0000-0000-00F1-0000-0000-SSSS-SSSS) and provisioned \
            on the running mock through its control API (--data DIR or --control URL), or on a mock this \
            command starts itself (--serve). Prints a progress line each second on stderr and a summary at \
            the end; exits non-zero when some SA never became push-ready. Ctrl-C or --stop-after stops it.
            """)

    @Option(name: .long, help: "Number of simulated SAs.")
    var count: Int

    @OptionGroup var target: ControlOptions

    @Flag(name: .long, help: "Start a mock in this process (free ports, no data directory) instead of using a running one.")
    var serve = false

    @Option(name: .long, help: "Spread the SAs' starts over this many seconds.")
    var ramp: Double = 0

    @Option(name: .long, help: "At most this many SAs between their start and push-ready at once.")
    var maxConcurrency: Int = 200

    @Option(name: .long, help: "Seed of the ids, keys, jitter and push targets.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "md-command pushes per second to push-ready SAs picked at random (0 = none).")
    var pushRate: Double = 0

    @Flag(name: .long, help: "Start the pushes only once every SA has been push-ready (the push figures then cover held tunnels only, not the start-up).")
    var pushAfterReady = false

    @Option(name: .long, help: "Stop after this many seconds (default: run until Ctrl-C).")
    var stopAfter: Double?

    @Option(name: .long, help: "Heartbeat interval (seconds) the generated SAs are provisioned with (0 = no heartbeats).")
    var heartbeatInterval: Int = 60

    func validate() throws {
        guard count > 0, count <= 100_000 else { throw ValidationError("--count must be between 1 and 100000") }
        guard ramp >= 0, maxConcurrency > 0, pushRate >= 0 else { throw ValidationError("--ramp, --max-concurrency and --push-rate must not be negative") }
        if let stopAfter, stopAfter <= 0 { throw ValidationError("--stop-after must be positive") }
        guard heartbeatInterval >= 0 else { throw ValidationError("--heartbeat-interval must not be negative") }
    }

    func run() async throws {
        let limit = FileLimit.raise()
        var options = FleetOptions()
        options.ramp = ramp
        options.maxConcurrency = maxConcurrency
        options.seed = seed
        options.heartbeats = heartbeatInterval > 0
        let profiles = FleetProvisioning.profiles(count: count, seed: seed, heartbeatInterval: heartbeatInterval)
        let fds = 2 * count + 64
        if limit < (serve ? 2 * fds : fds) {
            note("open-file limit \(limit) is below what \(count) SAs need (\(serve ? "two" : "one") descriptor per tunnel and side): expect connect failures")
        }

        var runtime: ServiceRuntime?
        let fleet: Fleet
        let sender: PushSender
        if serve {
            let configuration = FleetSetup.serviceConfiguration(count: count, seed: seed, heartbeatInterval: heartbeatInterval)
            let started = try await ServiceRuntime.start(configuration)
            runtime = started
            note("mock started: LS \(started.lsURLs.map(\.description).joined(separator: " ")), control \(started.controlURL)")
            fleet = FleetSetup.fleet(for: started, options: options)
            sender = .inProcess(started)
        } else {
            let client: ControlClient
            do { client = try target.client() } catch { throw ValidationError(error.description) }
            note("provisioning \(count) SAs on \(client.url)")
            let lsURLs = try await FleetSetup.provision(client, profiles: profiles) { done in
                note("provisioned \(done)/\(profiles.count)")
            }
            var rootCA = TestPKI.rootCACertificatePEM
            if target.control == nil, let pem = try? String(contentsOfFile: DataDirectory(path: target.data).rootCAPath, encoding: .utf8) {
                rootCA = pem
            }
            fleet = Fleet(members: FleetProvisioning.members(of: profiles), lsURLs: lsURLs, rootCAPEM: rootCA, options: options)
            sender = .control(client)
        }

        try await fleet.start()
        let stopSignal = AsyncStream<String>.makeStream()
        let signalTask = Task {
            let signal = await SignalWaiter.wait(for: [SIGINT, SIGTERM])
            stopSignal.continuation.yield("signal \(signal)")
        }
        let timerTask = Task {
            if let stopAfter {
                try? await Task.sleep(for: .milliseconds(Int(stopAfter * 1000)))
                if !Task.isCancelled { stopSignal.continuation.yield("--stop-after \(stopAfter) s") }
            }
        }
        let progressTask = Task { await FleetProgress.run(fleet) }
        let pushTask = Task { [pushAfterReady, pushRate, seed] in
            if pushAfterReady, pushRate > 0 {
                // Checked every 100 ms; cancelled with the run when --stop-after comes first.
                while !Task.isCancelled, fleet.snapshot.allReadyAfter == nil {
                    try? await Task.sleep(for: .milliseconds(100))
                }
                guard !Task.isCancelled else { return }
                FleetProgress.note("all SAs push-ready: pushes start")
                fleet.resetPushFigures()
            }
            await PushLoad(fleet: fleet, rate: pushRate, sender: sender, seed: seed).run()
        }

        var reason = "stopped"
        for await r in stopSignal.stream {
            reason = r
            break
        }
        timerTask.cancel()
        signalTask.cancel()
        pushTask.cancel()
        await pushTask.value
        progressTask.cancel()
        await progressTask.value
        let snapshot = fleet.snapshot
        note("stopping (\(reason))")
        await fleet.stop()
        await runtime?.stop()
        print(FleetProgress.summary(snapshot, pushRate: pushRate))
        if snapshot.everReady < snapshot.count { throw ExitCode(1) }
    }

    private func note(_ text: String) { FleetProgress.note(text) }
}

/// The live progress line and the summary.
enum FleetProgress {
    static let lock = NSLock()

    static func note(_ text: String) {
        lock.withLock { FileHandle.standardError.write(Data("fleet: \(text)\n".utf8)) }
    }

    static func run(_ fleet: Fleet) async {
        let tty = isatty(2) != 0
        var lastPushes = 0
        var lastTime = 0.0
        var tick = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let s = fleet.snapshot
            let pushes = s.pushesSucceeded + s.pushesFailed
            let rate = s.elapsed > lastTime ? Double(max(0, pushes - lastPushes)) / (s.elapsed - lastTime) : 0
            lastPushes = pushes
            lastTime = s.elapsed
            tick += 1
            let line = progressLine(s, pushRate: rate)
            if tty {
                lock.withLock { FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8)) }
            } else if tick % 5 == 0 || s.allReadyAfter != nil && tick % 5 == 1 {
                lock.withLock { FileHandle.standardError.write(Data((line + "\n").utf8)) }
            }
        }
        if tty { lock.withLock { FileHandle.standardError.write(Data("\n".utf8)) } }
    }

    static func progressLine(_ s: FleetSnapshot, pushRate: Double) -> String {
        let phases = SAPhase.allCases.filter { s[$0] > 0 || $0 == .ready || $0 == .failed }.map { "\($0) \(s[$0])" }
        return String(format: "[%7.1fs] ", s.elapsed) + phases.joined(separator: " | ")
            + String(format: " | pushes %.0f/s (ok %d, failed %d) | hb %d | errors %d", pushRate, s.pushesSucceeded,
                     s.pushesFailed, s.heartbeatsSent, s.errorCount)
    }

    static func summary(_ s: FleetSnapshot, pushRate: Double) -> String {
        var lines = ["fleet summary"]
        lines.append("  SAs: \(s.count), push-ready at least once: \(s.everReady), ready now: \(s[.ready]), failed: \(s[.failed])")
        lines.append("  all push-ready after: " + (s.allReadyAfter.map { String(format: "%.1f s", $0) } ?? "not reached"))
        lines.append("  phases at the end: " + SAPhase.allCases.map { "\($0) \(s[$0])" }.joined(separator: ", "))
        lines.append(String(format: "  run time: %.1f s", s.elapsed))
        if pushRate > 0 || s.pushesSucceeded + s.pushesFailed > 0 {
            var p = "  pushes (md-command): \(s.pushesSucceeded) succeeded, \(s.pushesFailed) failed"
            if let p50 = s.pushP50, let p99 = s.pushP99 { p += String(format: "; latency p50 %.2f ms, p99 %.2f ms", p50 * 1000, p99 * 1000) }
            lines.append(p)
        }
        lines.append("  heartbeats sent: \(s.heartbeatsSent)")
        lines.append("  push loops restarted: \(s.pushLoopRestarts)")
        lines.append("  errors: \(s.errorCount)")
        for (text, n) in s.topErrors { lines.append("    \(n)x \(text)") }
        return lines.joined(separator: "\n")
    }
}

/// RLIMIT_NOFILE: soft raised to hard.
enum FileLimit {
    static func raise() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return Int(limit.rlim_cur)
    }
}
