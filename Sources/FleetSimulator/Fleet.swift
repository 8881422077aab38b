import MockCore
import ARMSProtocol
import Agent
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Where a simulated SA is.
public enum SAPhase: Int, CaseIterable, Sendable, CustomStringConvertible {
    /// Not started yet (ramp, concurrency limit).
    case waiting
    case lsPull
    case rsPull
    case methodQuery
    /// Tunnels connecting and confirming, never push-ready yet.
    case confirming
    /// PUSH_WAIT: a confirmed tunnel serves pushes.
    case ready
    /// Was push-ready, now confirming again or pulling again.
    case reconnecting
    /// Gave up (the pull failed, or the RS answered 501).
    case failed

    public var description: String {
        switch self {
        case .waiting: return "waiting"
        case .lsPull: return "ls-pull"
        case .rsPull: return "rs-pull"
        case .methodQuery: return "method-query"
        case .confirming: return "confirming"
        case .ready: return "ready"
        case .reconnecting: return "reconnecting"
        case .failed: return "failed"
        }
    }
}

/// How a fleet runs.
public struct FleetOptions: Sendable {
    /// SAs start spread evenly over this many seconds (each with a seeded jitter within its slot).
    public var ramp: Double = 0
    /// At most this many SAs between their start and push-ready (or failure) at once.
    public var maxConcurrency = 200
    /// Seeds the start jitter, heartbeat phases, statistics and message ids.
    public var seed: UInt64 = 1
    /// Send heartbeats at the interval the RS hands out.
    public var heartbeats = true
    /// Per HTTPS exchange (connect, request, whole answer), as libarms' 30 s.
    public var exchangeTimeout: TimeAmount = .seconds(30)
    /// The LS rounds and pause of the initial config.
    public var lsRetry = LSRetryPolicy(rounds: 3, intervalSeconds: 5)
    /// `arms_pull()`'s global deadline in seconds.
    public var pullDeadline: Double = 600

    public init() {}
}

/// Counters of a running fleet at one moment.
public struct FleetSnapshot: Sendable {
    public var count: Int
    /// SAs in each phase now.
    public var phases: [SAPhase: Int]
    /// SAs that were push-ready at least once.
    public var everReady: Int
    /// Seconds since `start()`.
    public var elapsed: Double
    /// Seconds from `start()` until every SA had been push-ready; nil until then.
    public var allReadyAfter: Double?
    public var pushesSucceeded: Int
    public var pushesFailed: Int
    public var heartbeatsSent: Int
    /// Push loops that ended (reboot, pull-config, lost tunnels) and were restarted with a pull.
    public var pushLoopRestarts: Int
    public var errorCount: Int
    /// The most frequent error texts, most frequent first.
    public var topErrors: [(String, Int)]
    /// Latency percentiles of the pushes recorded (seconds).
    public var pushP50: Double?
    public var pushP99: Double?

    public subscript(phase: SAPhase) -> Int { phases[phase] ?? 0 }
}

/// N simulated SAs in one process on a shared event loop group: each pulls from the LS
/// and the RS, asks for its push method, holds its tunnel(s), answers pushes and sends
/// heartbeats, with the Agent's own state machines (docs/fleet-simulator.md).
public final class Fleet: @unchecked Sendable {
    public let members: [FleetMember]
    public let lsURLs: [String]
    public let rootCAPEM: String
    public let options: FleetOptions
    let tls = TLSContexts()
    private let group: any EventLoopGroup
    private let clock = ContinuousClock()
    private let origin: ContinuousClock.Instant
    // Set once in `start()` before any SA runs, read-only afterwards.
    private var sas: [SimulatedSA] = []
    private var heartbeatChannel: (any Channel)?
    private var scheduler: RepeatedTask?
    private var starts: [Double] = []

    private struct Counters {
        var phases = [Int](repeating: 0, count: SAPhase.allCases.count)
        var phaseOf: [UInt8] = []
        var ready: [Int] = []
        var readyPosition: [Int] = []
        var everReady = 0
        var everReadyFlag: [Bool] = []
        var allReadyAt: Double?
        var active = 0
        var nextStart = 0
        var startedAt: Double?
        var pushesOK = 0
        var pushesFailed = 0
        var latencies: [Double] = []
        var heartbeats = 0
        var restarts = 0
        var errors: [String: Int] = [:]
        var errorCount = 0
        var stopping = false
    }

    private let counters = NIOLockedValueBox(Counters())
    /// Latencies kept for percentiles (the first ones; later ones only counted).
    static let maxLatencies = 2_000_000
    /// Distinct error texts kept.
    static let maxErrorKinds = 64

    public init(members: [FleetMember], lsURLs: [String], rootCAPEM: String, options: FleetOptions = FleetOptions(),
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.members = members
        self.lsURLs = lsURLs
        self.rootCAPEM = rootCAPEM
        self.options = options
        self.group = group
        self.origin = clock.now
        counters.withLockedValue { c in
            c.phases[SAPhase.waiting.rawValue] = members.count
            c.phaseOf = [UInt8](repeating: UInt8(SAPhase.waiting.rawValue), count: members.count)
            c.readyPosition = [Int](repeating: -1, count: members.count)
            c.everReadyFlag = [Bool](repeating: false, count: members.count)
        }
    }

    /// Seconds since the fleet was made (the pull machine's clock).
    func seconds() -> Double {
        let d = origin.duration(to: clock.now)
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    // MARK: start and stop

    /// Binds the heartbeat socket and starts the SAs along the ramp.
    public func start() async throws {
        heartbeatChannel = try await DatagramBootstrap(group: group).bind(host: "127.0.0.1", port: 0).get()
        var rng = SplitMix64(seed: options.seed)
        let n = members.count
        let slot = n > 0 ? options.ramp / Double(n) : 0
        starts = (0..<n).map { i in Double(i) * slot + rng.unit() * slot }
        sas = members.enumerated().map { i, member in
            SimulatedSA(index: i, member: member, loop: group.next(), fleet: self, seed: rng.next())
        }
        let begin = seconds()
        counters.withLockedValue { $0.startedAt = begin }
        scheduler = group.next().scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(10)) { [self] _ in
            releaseStarts()
        }
    }

    /// Starts every SA whose time has come while the concurrency limit allows.
    private func releaseStarts() {
        let now = seconds()
        let due: [Int] = counters.withLockedValue { c in
            guard !c.stopping, let startedAt = c.startedAt else { return [] }
            var list: [Int] = []
            while c.nextStart < sas.count, c.active < options.maxConcurrency, starts[c.nextStart] <= now - startedAt {
                list.append(c.nextStart)
                c.nextStart += 1
                c.active += 1
            }
            return list
        }
        for i in due {
            let sa = sas[i]
            sa.loop.execute { sa.begin() }
        }
        if counters.withLockedValue({ $0.nextStart >= sas.count }) { scheduler?.cancel() }
    }

    /// Stops every SA (zero chunk and close on each tunnel) and the heartbeat socket.
    public func stop() async {
        counters.withLockedValue { $0.stopping = true }
        scheduler?.cancel()
        var futures: [EventLoopFuture<Void>] = []
        for sa in sas {
            futures.append(sa.loop.submit { sa.stop() })
        }
        for f in futures { try? await f.get() }
        try? await heartbeatChannel?.close()
    }

    // MARK: reports from the SAs

    func transition(_ index: Int, from old: SAPhase, to new: SAPhase) {
        let now = seconds()
        counters.withLockedValue { c in
            c.phases[old.rawValue] -= 1
            c.phases[new.rawValue] += 1
            c.phaseOf[index] = UInt8(new.rawValue)
            if new == .ready {
                c.readyPosition[index] = c.ready.count
                c.ready.append(index)
                if !c.everReadyFlag[index] {
                    c.everReadyFlag[index] = true
                    c.everReady += 1
                    c.active -= 1
                    if c.everReady == members.count, let s = c.startedAt { c.allReadyAt = now - s }
                }
            } else if old == .ready {
                let position = c.readyPosition[index]
                let last = c.ready.removeLast()
                if last != index {
                    c.ready[position] = last
                    c.readyPosition[last] = position
                }
                c.readyPosition[index] = -1
            }
            if new == .failed && !c.everReadyFlag[index] { c.active -= 1 }
        }
    }

    /// Counts an error under its text (the first 64 distinct texts are kept apart).
    public func error(_ text: String) {
        counters.withLockedValue { c in
            c.errorCount += 1
            if c.errors[text] != nil || c.errors.count < Self.maxErrorKinds {
                c.errors[text, default: 0] += 1
            } else {
                c.errors["(other errors)", default: 0] += 1
            }
        }
    }

    func pushLoopEnded(_ end: PushLoopEnd) {
        counters.withLockedValue { $0.restarts += 1 }
    }

    func sendHeartbeat(_ datagram: [UInt8], to address: NIOCore.SocketAddress) {
        guard let channel = heartbeatChannel else { return }
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: datagram)), promise: nil)
        counters.withLockedValue { $0.heartbeats += 1 }
    }

    // MARK: for pushes and reports

    /// A push-ready SA picked with `random` (nil when none is ready).
    public func randomReadySA(using random: inout SplitMix64) -> DistributionID? {
        let index: Int? = counters.withLockedValue { c in
            c.ready.isEmpty ? nil : c.ready[Int(random.next() % UInt64(c.ready.count))]
        }
        return index.map { members[$0].distributionID }
    }

    /// The SAs push-ready now.
    public var readySAs: [DistributionID] {
        counters.withLockedValue { c in c.ready.sorted().map { members[$0].distributionID } }
    }

    /// Counts one push and its latency in the fleet's figures.
    public func recordPush(succeeded: Bool, latency: Double) {
        counters.withLockedValue { c in
            if succeeded { c.pushesOK += 1 } else { c.pushesFailed += 1 }
            if c.latencies.count < Self.maxLatencies { c.latencies.append(latency) }
        }
    }

    /// Forgets the push latencies recorded so far (to measure one phase of a run).
    public func resetPushFigures() {
        counters.withLockedValue { c in
            c.latencies = []
            c.pushesOK = 0
            c.pushesFailed = 0
        }
    }

    public var snapshot: FleetSnapshot {
        let now = seconds()
        let (snap, latencies) = counters.withLockedValue { c -> (FleetSnapshot, [Double]) in
            var phases: [SAPhase: Int] = [:]
            for p in SAPhase.allCases { phases[p] = c.phases[p.rawValue] }
            let top = c.errors.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(8)
            return (FleetSnapshot(count: members.count, phases: phases, everReady: c.everReady,
                                  elapsed: now - (c.startedAt ?? now), allReadyAfter: c.allReadyAt,
                                  pushesSucceeded: c.pushesOK, pushesFailed: c.pushesFailed, heartbeatsSent: c.heartbeats,
                                  pushLoopRestarts: c.restarts, errorCount: c.errorCount, topErrors: Array(top),
                                  pushP50: nil, pushP99: nil), c.latencies)
        }
        var result = snap
        if !latencies.isEmpty {
            let sorted = latencies.sorted()
            result.pushP50 = Self.percentile(sorted, 0.50)
            result.pushP99 = Self.percentile(sorted, 0.99)
        }
        return result
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        let rank = Int((p * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(0, rank), sorted.count - 1)]
    }

    /// Waits until every SA has been push-ready once, or no SA can get there any more,
    /// or `timeout` passed; true when all made it.
    public func waitUntilAllReady(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let s = counters.withLockedValue { ($0.everReady, $0.phases[SAPhase.failed.rawValue]) }
            if s.0 == members.count { return true }
            if s.0 + s.1 == members.count && s.1 > 0 { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return counters.withLockedValue { $0.everReady } == members.count
    }
}
