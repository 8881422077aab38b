import ARMSProtocol
import ArgumentParser
import Foundation
import MockCore
import MockService

/// `warplink-mock serve`: the LS, the RS and the control API on loopback.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the mock Location Server, Remote Server and control API on loopback.",
        discussion: """
            With no options: LS on https://127.0.0.1:18443/arms.cgi, RS on https://127.0.0.1:18444/rs.cgi, \
            control API on http://127.0.0.1:18480, heartbeat receiver on UDP 127.0.0.1 and ::1 port 18446, a built-in demo SA, and ./warplink-data holding ca.pem, \
            initial-config and armsd.conf (run `armsd -D -f warplink-data/armsd.conf`). Port 0 picks a free port. \
            Prints one JSON line {"event":"ready",…} when listening; Ctrl-C or SIGTERM stops it.
            """)

    @Option(name: .long, help: "Fleet file (YAML) with the SAs to provision; default: the built-in demo SA.")
    var fleet: String?

    @Option(name: .long, help: "Data directory for ca.pem, initial-config, armsd.conf and control.json.")
    var data: String = DataDirectory.defaultPath

    @Option(name: .long, help: "Numeric loopback address to listen on; repeat for IPv4 and IPv6 (e.g. --host 127.0.0.1 --host ::1).")
    var host: [String] = []

    @Option(name: .long, help: "LS port (0 = pick one).")
    var lsPort: Int = 18443

    @Option(name: .long, help: "RS port (0 = pick one).")
    var rsPort: Int = 18444

    @Option(name: .long, help: "https-tunnel endpoint port (0 = pick one).")
    var tunnelPort: Int = 18445

    @Option(name: .long, help: "https-tunnel-echo-interval (seconds) offered in push-method-query.")
    var echoInterval: Int = 60

    @Option(name: .long, help: "Control API port on 127.0.0.1 (0 = pick one).")
    var controlPort: Int = 18480

    @Option(name: .long, help: "Heartbeat receiver UDP port on 127.0.0.1 and ::1 (0 = pick one).")
    var heartbeatPort: Int = 18446

    @Option(name: .long, help: "The SA whose armsd.conf is written (default: the first SA).")
    var agentSA: String?

    @Option(name: .long, help: "rs-retry-max the LS hands out.")
    var rsRetryMax: Int = 3

    @Option(name: .long, help: "rs-retry-interval (seconds) the LS hands out.")
    var rsRetryInterval: Int = 3

    @Option(name: .long, help: "LS retry interval in the initial config (libarms waits value × 20 s).")
    var lsRetryInterval: Int = DataDirectory.defaultRetryInterval

    @Option(name: .long, help: "LS retry max in the initial config (libarms makes value × 500 + 1 rounds).")
    var lsRetryMax: Int = DataDirectory.defaultRetryMax

    func run() async throws {
        var configuration = ServiceConfiguration()
        if !host.isEmpty { configuration.hosts = host }
        configuration.lsPort = lsPort
        configuration.rsPort = rsPort
        configuration.controlPort = controlPort
        configuration.heartbeatPort = heartbeatPort
        configuration.tunnelPort = tunnelPort
        guard echoInterval > 0 else { throw ValidationError("--echo-interval must be positive") }
        configuration.pushOffer.echoInterval = echoInterval
        configuration.tunnelIdleTimeout = .seconds(2 * echoInterval + 10)
        configuration.dataDirectory = data
        configuration.rsRetryMax = rsRetryMax
        configuration.rsRetryInterval = rsRetryInterval
        configuration.lsRetryInterval = lsRetryInterval
        configuration.lsRetryMax = lsRetryMax
        if let fleet {
            do {
                configuration.fleet = try FleetFile.load(contentsOf: fleet)
            } catch {
                throw ValidationError(error.description)
            }
        }
        if let agentSA {
            guard let id = DistributionID(agentSA) else { throw ValidationError("--agent-sa: not a distribution id: \(agentSA)") }
            configuration.agentSA = id
        }

        let runtime = try await ServiceRuntime.start(configuration)
        FileHandle.standardOutput.write(Data((runtime.readyEvent.jsonLine + "\n").utf8))
        let signal = await SignalWaiter.wait(for: [SIGINT, SIGTERM])
        FileHandle.standardError.write(Data("warplink-mock: signal \(signal), stopping\n".utf8))
        await runtime.stop()
    }
}

/// Waits for one of the given signals with Dispatch sources.
enum SignalWaiter {
    static func wait(for signals: [Int32]) async -> Int32 {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            let once = OnceBox(continuation)
            var sources: [any DispatchSourceSignal] = []
            for s in signals {
                signal(s, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: s, queue: .global())
                source.setEventHandler { once.resume(s) }
                source.resume()
                sources.append(source)
            }
            once.keep(sources)
        }
    }

    private final class OnceBox: @unchecked Sendable {
        private let lock = NSLock()
        private var continuation: CheckedContinuation<Int32, Never>?
        private var sources: [any DispatchSourceSignal] = []

        init(_ c: CheckedContinuation<Int32, Never>) { continuation = c }
        func keep(_ s: [any DispatchSourceSignal]) { lock.withLock { sources = s } }
        func resume(_ signal: Int32) {
            let c: CheckedContinuation<Int32, Never>? = lock.withLock {
                defer { continuation = nil }
                return continuation
            }
            c?.resume(returning: signal)
        }
    }
}
