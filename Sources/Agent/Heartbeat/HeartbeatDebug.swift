import ARMSProtocol
import Glibc

/// `armsd -H` (agent.md §2): collect the heartbeat statistics every 5 seconds and print
/// them as armsd's verbose log lines (`HH:MM:SS INFO heartbeat mem_usage: idx=0, …`),
/// without any ARMS traffic, until a signal ends the process. The first round has no CPU
/// or traffic lines (they are changes since the previous round).
public enum HeartbeatDebug {
    /// Seconds between rounds.
    public static let period = 5

    /// Runs until killed; returns 1 only when the configuration or log cannot be opened.
    public static func run(options: ArmsdOptions) -> Int32 {
        var configuration = ArmsdConfiguration()
        do {
            let text = try AtomicFile.read(options.configPath, maxBytes: 1 << 20)
            let parsed = try ArmsdConfiguration.parse(String(decoding: text, as: UTF8.self), fileName: options.configPath)
            for warning in parsed.warnings { ArmsdDaemon.stderr("\(warning)") }
            configuration = parsed.configuration
        } catch let error as SystemError {
            ArmsdDaemon.stderr("cannot read configuration \(options.configPath): \(error.reason)")
            return 1
        } catch {
            ArmsdDaemon.stderr("\(error)")
            return 1
        }
        let logger: Logger
        do {
            logger = try Logger.standard(logFile: options.logFile, verbose: true, foreground: true)
        } catch {
            ArmsdDaemon.stderr("cannot open log file: \(error)")
            return 1
        }
        // SIGINT/SIGTERM end it as they end the daemon (the signals may arrive blocked from the parent).
        SignalWatcher.start(onTerminate: { signal in
            logger.info("signal \(signal) caught. exit.")
            SignalWatcher.exitNow(1)
        }, onHangUp: {})
        let collector = HeartbeatCollector(configuration: configuration, logger: logger)
        logger.info("heartbeat debug: printing statistics every \(period) sec (no ARMS traffic)")
        let clock = ContinuousClock()
        var next = clock.now
        while true {
            _ = collector.collect(now: clock.now)
            next = next + .seconds(period)
            let wait = next - clock.now
            if wait > .zero {
                let c = wait.components
                var request = timespec(tv_sec: Int(c.seconds), tv_nsec: Int(c.attoseconds / 1_000_000_000))
                var remaining = timespec()
                while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
            }
        }
    }
}
