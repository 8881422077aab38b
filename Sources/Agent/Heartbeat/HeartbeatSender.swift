import ARMSProtocol
import Glibc

/// The agent's heartbeat sender (heartbeat.md §6, §7), hosted by the push loop: the loop
/// calls ``start(servers:now:)`` when the state becomes PUSH_WAIT, waits no later than
/// ``nextDeadline``, calls ``tick(now:)``, and calls ``stop()`` when the loop ends.
///
/// Timing, as libarms 5.33 does it:
/// * Heartbeats go out only between `start` and `stop` (PUSH_WAIT), never during the
///   pull, push-method-query or push confirmation.
/// * The first tick is due at once (the `now` given to `start`); later ticks are
///   fixed-rate: each is due one interval after the previous one was *due*, so the time
///   spent collecting and sending does not add up. If the host falls more than an interval
///   behind (process suspended, a long configure), the missed ticks are dropped, never sent
///   in a burst; ``skipDueTicks(now:)`` drops them explicitly (libarms runs no tick while a
///   configure transaction executes).
/// * The interval is the first `heartbeat-info`'s. Entries with different intervals make
///   libarms discard the whole list: then nothing is started (warning logged).
/// * Nothing is started (``nextDeadline`` stays nil) when no server is usable or the
///   interval is ≤ 0 (libarms would spin in that case).
/// * A server is usable when its host is a numeric IPv4/IPv6 literal (names are never
///   resolved) and, if ``addressFamily`` is set, of that family (libarms sends only to
///   servers of the RS connection's family). Unusable servers are skipped silently.
/// * Per tick: the statistics are collected once, the datagram is signed per server with
///   that server's passphrase and sent on a fresh non-blocking UDP socket (ephemeral
///   source port, no bind, no connect, nothing read). A send error is logged at debug
///   level and never stops the agent; the next attempt is the next tick.
/// * `start` logs `Start heartbeat (interval: N sec)` (libarms code 80) and one
///   ` heartbeat server: HOST` (code 82) per usable server; `stop` logs `Stop heartbeat.`
///   (code 81); each successful send logs `Sent heartbeat to HOST` at debug level (code 200).
public final class HeartbeatSender {
    public let distributionID: DistributionID
    let logger: Logger
    let source: any HeartbeatStatisticsSource

    /// When set, only servers of this family are used (libarms: the RS connection's family).
    /// nil (the default) uses every numeric server.
    public var addressFamily: SocketAddress.Family?
    /// `arms_hb_stop()`: ticks still collect statistics but send nothing.
    public var isPaused = false

    /// A usable server: its address and passphrase.
    struct Target {
        var address: SocketAddress
        var passphrase: String
    }

    private(set) var targets: [Target] = []
    private(set) var interval: Duration = .zero
    private var deadline: ContinuousClock.Instant?
    /// Datagrams handed to the kernel since `start` (for tests and dump-debug).
    public private(set) var sentCount = 0
    /// Send attempts that failed since `start`.
    public private(set) var failedCount = 0
    /// When the last tick ran.
    public private(set) var lastTick: ContinuousClock.Instant?

    /// A sender collecting the Linux statistics the `hb-*` keys of `configuration` ask for.
    public convenience init(distributionID: DistributionID, configuration: ArmsdConfiguration, logger: Logger) {
        self.init(distributionID: distributionID, source: HeartbeatCollector(configuration: configuration, logger: logger), logger: logger)
    }

    /// A sender with its own statistics source (tests, fixed values).
    public init(distributionID: DistributionID, source: any HeartbeatStatisticsSource, logger: Logger) {
        self.distributionID = distributionID
        self.source = source
        self.logger = logger
    }

    /// Whether a heartbeat schedule is running.
    public var isRunning: Bool { deadline != nil }

    /// When ``tick(now:)`` next has something to do; nil when not running.
    public var nextDeadline: ContinuousClock.Instant? { deadline }

    /// Starts (or restarts) the schedule with the RS's `heartbeat-info` list; the first
    /// tick is due at `now`.
    public func start(servers: [HeartbeatServerInfo], now: ContinuousClock.Instant) {
        if deadline != nil { stop() }
        sentCount = 0
        failedCount = 0
        isPaused = false
        targets = []
        guard let first = servers.first else {
            logger.debug("heartbeat: no heartbeat-info from the RS; heartbeat not started")
            return
        }
        let seconds = first.interval ?? 0
        if servers.contains(where: { ($0.interval ?? 0) != seconds }) {
            logger.warn("heartbeat: heartbeat-info entries have different intervals; heartbeat not started")
            return
        }
        guard seconds > 0 else {
            logger.warn("heartbeat: interval \(seconds) from the RS; heartbeat not started")
            return
        }
        for server in servers.prefix(5) {
            guard let port = UInt16(exactly: server.port ?? 0),
                  let address = try? SocketAddress.numeric(host: server.host, port: port) else { continue }
            if let family = addressFamily, address.family != family { continue }
            targets.append(Target(address: address, passphrase: server.passphrase))
        }
        guard !targets.isEmpty else {
            logger.warn("heartbeat: no usable heartbeat server (numeric address\(addressFamily.map { " of \($0)" } ?? "")); heartbeat not started")
            return
        }
        interval = .seconds(seconds)
        logger.libarms(code: 80, "Start heartbeat (interval: \(seconds) sec)")
        for target in targets { logger.libarms(code: 82, " heartbeat server: \(target.address.host)") }
        deadline = now
    }

    /// Ends the schedule (`Stop heartbeat.`); a no-op when not running.
    public func stop() {
        guard deadline != nil else { return }
        deadline = nil
        logger.libarms(code: 81, "Stop heartbeat.")
    }

    /// Sends one heartbeat to every server if one is due at `now`, then schedules the next.
    public func tick(now: ContinuousClock.Instant) {
        guard let due = deadline, now >= due else { return }
        deadline = Self.following(due, interval: interval, after: now)
        lastTick = now
        var builder = HeartbeatBuilder(distributionID: distributionID)
        for statistic in source.collect(now: now) {
            do { try builder.append(statistic) } catch { logger.debug("heartbeat: \(error)") }
        }
        guard !isPaused else { return }
        for target in targets {
            let datagram = builder.sign(passphrase: target.passphrase, digests: OpenSSLDigests())
            if let error = Self.send(datagram, to: target.address) {
                failedCount += 1
                logger.debug("heartbeat: cannot send to \(target.address): \(error.reason)")
            } else {
                sentCount += 1
                logger.libarms(code: 200, "Sent heartbeat to \(target.address.host)")
            }
        }
    }

    /// Moves the schedule past `now` without sending (ticks that fell inside a configure
    /// transaction are skipped, heartbeat.md §6 step 5).
    public func skipDueTicks(now: ContinuousClock.Instant) {
        guard let due = deadline, now >= due else { return }
        deadline = Self.following(due, interval: interval, after: now)
    }

    /// The first `due + k × interval` (k ≥ 1) later than `now`.
    static func following(_ due: ContinuousClock.Instant, interval: Duration, after now: ContinuousClock.Instant)
        -> ContinuousClock.Instant {
        var next = due + interval
        if next <= now {
            let behind = now - next
            let steps = Int64(behind / interval) + 1
            next = next + interval * steps
        }
        return next
    }

    /// One datagram on a fresh non-blocking UDP socket; nil on success.
    static func send(_ datagram: [UInt8], to address: SocketAddress) -> SystemError? {
        let fd = socket(address.family.rawValue, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return SystemError("socket", path: address.description, code: errno) }
        defer { close(fd) }
        let sent = datagram.withUnsafeBytes { bytes in
            address.withSockAddr { sa, length in sendto(fd, bytes.baseAddress, bytes.count, 0, sa, length) }
        }
        if sent < 0 { return SystemError("sendto", path: address.description, code: errno) }
        if sent != datagram.count { return SystemError("sendto", path: address.description, code: EMSGSIZE) }
        return nil
    }
}
