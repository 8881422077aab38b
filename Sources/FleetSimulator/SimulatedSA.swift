import MockCore
import ARMSProtocol
import Agent
import NIOCore
import NIOSSL

/// One simulated SA: the Agent's own `PullMachine` and `PushMachine` driven over
/// NIO on one event loop. Everything mutable is touched only on `loop` (the class
/// is handed between threads only to hop onto it).
final class SimulatedSA: @unchecked Sendable {
    let index: Int
    let member: FleetMember
    let loop: any EventLoop
    private unowned let fleet: Fleet

    private var phase: SAPhase = .waiting
    private var knowledge = PullKnowledge()
    private var pull: PullMachine?
    private var push: PushMachine?
    private var answer: ConfigSolicitationResult?
    private var operations: SimulatedOperations?
    private var rng: SplitMix64
    private var stopped = false
    private var everReady = false

    /// Open tunnel connections by tunnel number, and a generation per connection so that
    /// events of a connection already given up are dropped.
    private var tunnels: [Int: any Channel] = [:]
    private var generation = 0
    private var tunnelGeneration: [Int: Int] = [:]
    private var timer: Scheduled<Void>?
    private var timerDeadline: ContinuousClock.Instant?
    private var pullWait: Scheduled<Void>?
    private var heartbeat: RepeatedTask?
    private var heartbeatBuilder: HeartbeatBuilder

    init(index: Int, member: FleetMember, loop: any EventLoop, fleet: Fleet, seed: UInt64) {
        self.index = index
        self.member = member
        self.loop = loop
        self.fleet = fleet
        self.rng = SplitMix64(seed: seed)
        self.heartbeatBuilder = HeartbeatBuilder(distributionID: member.distributionID)
    }

    private var options: FleetOptions { fleet.options }

    private func setPhase(_ new: SAPhase) {
        guard new != phase else { return }
        let old = phase
        phase = new
        if new == .ready && !everReady { everReady = true }
        fleet.transition(index, from: old, to: new)
    }

    // MARK: pull (LS, RS)

    /// Starts (or restarts) with a pull; on the SA's loop.
    func begin() {
        loop.assertInEventLoop()
        guard !stopped else { return }
        let settings = PullSettings(distributionID: member.distributionID, description: "armsd",
                                    lsURLs: fleet.lsURLs, lsRetry: options.lsRetry, lsKey: member.lsKey,
                                    deadline: options.pullDeadline, noLinePause: 5)
        pull = PullMachine(settings: settings, knowledge: knowledge)
        feedPull(.start)
    }

    private func feedPull(_ first: PullEvent) {
        var event: PullEvent? = first
        while let e = event, !stopped, var machine = pull {
            event = nil
            let actions = machine.handle(e, now: fleet.seconds())
            pull = machine
            for action in actions {
                switch action {
                case .log:
                    break
                case .state(_, let to):
                    switch to {
                    case .lsPull: setPhase(.lsPull)
                    case .rsPull: setPhase(.rsPull)
                    default: break
                    }
                case .controlLine(let lineAction, _, _):
                    // The simulated lines are always up.
                    event = .line(lineAction == .connect ? .connected : .disconnected)
                case .exchange(let exchange):
                    pullExchange(exchange)
                case .wait(let seconds):
                    pullWait = loop.scheduleTask(in: .seconds(Int64(seconds))) { [self] in feedPull(.waited) }
                case .finish(let result):
                    knowledge = machine.knowledge
                    pull = nil
                    pullFinished(result)
                }
            }
        }
    }

    private func pullExchange(_ exchange: PullExchange) {
        let url: ARMSURL
        let context: NIOSSLContext
        do {
            url = try ARMSURL(parsing: exchange.url)
            let trust = exchange.server == .locationServer ? fleet.rootCAPEM : (exchange.trustAnchor ?? "")
            context = try fleet.tls.context(trust: trust)
        } catch {
            fleet.error("\(exchange.server.rawValue) TLS setup: \(error)")
            loop.execute { [self] in feedPull(.exchanged(.transportFailed)) }
            return
        }
        let request = exchange.httpRequest(path: url.path, distributionID: member.distributionID)
        let server = exchange.server.rawValue
        FleetTransport.exchange(on: loop, url: url, context: context, request: request, timeout: options.exchangeTimeout)
            .whenSuccess { [self] reply in
                let outcome: PullExchangeOutcome
                switch reply {
                case .failed(let reason):
                    fleet.error("\(server) exchange: \(reason)")
                    outcome = .transportFailed
                case .status(let code):
                    fleet.error("\(server) exchange: HTTP \(code)")
                    outcome = .httpStatus(code)
                case .response(let response):
                    outcome = exchange.outcome(of: response)
                    if case .undecodable(let error) = outcome { fleet.error("\(server) answer: \(error)") }
                }
                feedPull(.exchanged(outcome))
            }
    }

    private func pullFinished(_ result: PullResult) {
        switch result {
        case .failure(let code):
            fleet.error("pull failed: \(code)")
            setPhase(.failed)
        case .success(let result, _):
            answer = result
            methodQuery(result)
        }
    }

    // MARK: push-method-query

    private var pushSettings: PushSettings {
        PushSettings(distributionID: member.distributionID, description: "armsd", presharedKey: knowledge.rsPresharedKey,
                     retryMax: knowledge.rsRetryMax, retryInterval: knowledge.rsRetryInterval)
    }

    private func methodQuery(_ result: ConfigSolicitationResult) {
        setPhase(.methodQuery)
        let settings = pushSettings
        let urls = PushMethodQuery.urlOrder(pullServerURLs: result.rsPullServerURLs, rsURLCount: knowledge.rsURLs.count,
                                            currentServer: knowledge.currentServer)
        let request = PushMethodQuery.request(settings: settings, methods: PushMethodQuery.offeredMethods(simpleAvailable: false))
        queryRound(urls: urls, position: 0, round: 0, request: request)
    }

    private func queryRound(urls: [String], position: Int, round: Int, request: ARMSRequest) {
        guard !stopped else { return }
        let settings = pushSettings
        guard position < urls.count else {
            if round < settings.retryMax && !urls.isEmpty {
                pullWait = loop.scheduleTask(in: .seconds(Int64(max(0, settings.retryInterval)))) { [self] in
                    queryRound(urls: urls, position: 0, round: round + 1, request: request)
                }
            } else {
                fleet.error("push-method-query: retry is over")
                pushEnded(.pull(trigger: "retry is over", forgetEndpoint: false))
            }
            return
        }
        guard let url = try? ARMSURL(parsing: urls[position]), let anchor = knowledge.rsTrustAnchor,
              let context = try? fleet.tls.context(trust: anchor) else {
            fleet.error("push-method-query: unusable URL or RS certificate")
            return loop.execute { [self] in queryRound(urls: urls, position: position + 1, round: round, request: request) }
        }
        let bytes = HTTPClientRequest.post(path: url.path, credentials: settings.credentials,
                                           body: request.encode(style: .libarms).bytes)
        FleetTransport.exchange(on: loop, url: url, context: context, request: bytes, timeout: options.exchangeTimeout)
            .whenSuccess { [self] reply in
                guard !stopped else { return }
                switch reply {
                case .failed(let reason):
                    fleet.error("push-method-query: \(reason)")
                    queryRound(urls: urls, position: position + 1, round: round, request: request)
                case .status(let code):
                    fleet.error("push-method-query: HTTP \(code)")
                    queryRound(urls: urls, position: position + 1, round: round, request: request)
                case .response(let response):
                    guard let decoded = try? ARMSResponse.decode(response.body, expecting: .pushMethodQuery, options: .libarms) else {
                        fleet.error("push-method-query: undecodable answer")
                        return queryRound(urls: urls, position: position + 1, round: round, request: request)
                    }
                    switch PushMethodQuery.verdict(decoded) {
                    case .offered(let offer):
                        startTunnels(offer, family: url.addressFamily)
                    case .retry:
                        queryRound(urls: urls, position: position + 1, round: round, request: request)
                    case .stop(let end):
                        pushEnded(end)
                    }
                }
            }
    }

    // MARK: tunnels

    private func startTunnels(_ offer: PushMethodQueryResult, family: AddressFamily) {
        guard offer.methods.contains(PushMethod.httpsTunnel) else {
            fleet.error("push-method-query: no https-tunnel offered")
            return pushEnded(.pull(trigger: "no push method", forgetEndpoint: false))
        }
        setPhase(everReady ? .reconnecting : .confirming)
        let answer = self.answer
        operations = SimulatedOperations(distributionID: member.distributionID, modules: answer?.modules ?? [],
                                         configs: answer?.configs ?? [])
        let box = RandomBox(seed: rng.next())
        var machine = PushMachine(settings: pushSettings, tunnelURLs: offer.tunnelURLs, echoInterval: offer.echoInterval,
                                  family: family, state: .pullDone, modules: answer?.modules ?? [],
                                  randomID: { box.next() })
        let actions = machine.start(now: .now)
        push = machine
        perform(actions)
    }

    private func feedPush(_ event: PushEvent) {
        guard !stopped, var machine = push else { return }
        let actions = machine.handle(event, now: .now)
        push = machine
        perform(actions)
    }

    /// Carries out the machine's actions in order; events they cause are fed at once.
    private func perform(_ initial: [PushAction]) {
        var queue = initial[...]
        while let action = queue.popFirst(), !stopped {
            switch action {
            case .log:
                break
            case .state(let from, let to):
                if to == .pushWait {
                    setPhase(.ready)
                    startHeartbeat()
                } else if from == .pushWait {
                    stopHeartbeat()
                    setPhase(.reconnecting)
                }
            case .connect(let tunnel, let url):
                connectTunnel(tunnel, url)
            case .send(let tunnel, let writes):
                guard let channel = tunnels[tunnel] else { continue }
                for bytes in writes where !bytes.isEmpty {
                    channel.write(ByteBuffer(bytes: bytes), promise: nil)
                }
                channel.flush()
            case .close(let tunnel, _):
                tunnelGeneration[tunnel] = nil
                tunnels.removeValue(forKey: tunnel)?.close(promise: nil)
            case .execute(let token, let work):
                guard var ops = operations, var machine = push else { continue }
                let result = ops.perform(work)
                operations = ops
                let follow = machine.handle(.executed(token: token, result), now: .now)
                push = machine
                queue.append(contentsOf: follow)
            case .finish(let end):
                pushEnded(end)
                return
            }
        }
        rescheduleTimer()
    }

    private func connectTunnel(_ tunnel: Int, _ url: ARMSURL) {
        generation += 1
        let current = generation
        tunnelGeneration[tunnel] = current
        guard let anchor = knowledge.rsTrustAnchor,
              let context = (try? fleet.tls.context(trust: anchor, certificate: answer?.saCertificate, privateKey: answer?.saPrivateKey))
                ?? (try? fleet.tls.context(trust: anchor)) else {
            fleet.error("tunnel: unusable RS certificate")
            return loop.execute { [self] in feedPush(.connectFailed(tunnel: tunnel, reason: "TLS setup")) }
        }
        FleetTransport.connect(on: loop, to: url, context: context) { [self] in
            TunnelHandler(onBytes: { [self] bytes in
                guard tunnelGeneration[tunnel] == current else { return }
                feedPush(.received(tunnel: tunnel, bytes: bytes))
            }, onEnd: { [self] reason in
                guard tunnelGeneration[tunnel] == current else { return }
                tunnelGeneration[tunnel] = nil
                tunnels[tunnel] = nil
                if !stopped { fleet.error("tunnel lost: \(reason)") }
                feedPush(.connectionLost(tunnel: tunnel, reason: reason))
            })
        }.whenComplete { [self] result in
            // Always a turn of the loop later, never inside `perform`.
            loop.execute { [self] in
                switch result {
                case .success(let channel):
                    guard tunnelGeneration[tunnel] == current, !stopped, channel.isActive else {
                        channel.close(promise: nil)
                        return
                    }
                    tunnels[tunnel] = channel
                    feedPush(.connected(tunnel: tunnel))
                case .failure(let error):
                    guard tunnelGeneration[tunnel] == current else { return }
                    tunnelGeneration[tunnel] = nil
                    fleet.error("tunnel connect: \(error)")
                    feedPush(.connectFailed(tunnel: tunnel, reason: "\(error)"))
                }
            }
        }
    }

    private func rescheduleTimer() {
        guard !stopped, let deadline = push?.nextDeadline else {
            timer?.cancel()
            timer = nil
            timerDeadline = nil
            return
        }
        if let existing = timerDeadline, existing <= deadline, timer != nil { return }
        timer?.cancel()
        timerDeadline = deadline
        let delay = max(.zero, ContinuousClock.now.duration(to: deadline)) + .milliseconds(1)
        timer = loop.scheduleTask(in: .nanoseconds(Int64(delay.components.seconds) * 1_000_000_000 + delay.components.attoseconds / 1_000_000_000)) { [self] in
            timer = nil
            timerDeadline = nil
            feedPush(.timer)
            if timer == nil { rescheduleTimer() }
        }
    }

    /// The push loop is over (reboot, pull-config, no tunnel left, RS refusal): pull again a second later.
    private func pushEnded(_ end: PushLoopEnd) {
        closeTunnels(orderly: false)
        stopHeartbeat()
        push = nil
        timer?.cancel()
        timer = nil
        timerDeadline = nil
        guard !stopped else { return }
        fleet.pushLoopEnded(end)
        if case .pull(_, true) = end { knowledge.rsEndpoint = nil }
        if case .dontRetry = end {
            fleet.error("RS answered 501: SA stops")
            setPhase(.failed)
            return
        }
        setPhase(everReady ? .reconnecting : .rsPull)
        pullWait = loop.scheduleTask(in: .seconds(1)) { [self] in begin() }
    }

    private func closeTunnels(orderly: Bool) {
        for (tunnel, channel) in tunnels {
            tunnelGeneration[tunnel] = nil
            if orderly && channel.isActive {
                channel.writeAndFlush(ByteBuffer(bytes: TunnelChunkEncoder.lastChunk), promise: nil)
            }
            channel.close(promise: nil)
        }
        tunnels = [:]
    }

    // MARK: heartbeats

    private func startHeartbeat() {
        guard heartbeat == nil, options.heartbeats, let servers = answer?.heartbeatServers, !servers.isEmpty else { return }
        let targets: [(NIOCore.SocketAddress, String)] = servers.compactMap { server in
            guard !server.host.contains(":"), let address = try? NIOCore.SocketAddress(ipAddress: server.host, port: server.port ?? 0) else {
                return nil
            }
            return (address, server.passphrase)
        }
        guard !targets.isEmpty else { return }
        let interval = max(1, servers.first?.interval ?? 60)
        // The first datagram at PUSH_WAIT as armsd does, spread by up to a second.
        let first = TimeAmount.milliseconds(Int64(rng.unit() * 1000))
        heartbeat = loop.scheduleRepeatedTask(initialDelay: first, delay: .seconds(Int64(interval))) { [self] _ in
            sendHeartbeat(targets)
        }
    }

    private func sendHeartbeat(_ targets: [(NIOCore.SocketAddress, String)]) {
        guard !stopped else { return }
        heartbeatBuilder.removeAllStatistics()
        let used = UInt64(128 + rng.next() % 64) << 20
        try? heartbeatBuilder.append(.cpuUsage(.init(index: 0, utilization: UInt8(rng.next() % 40))))
        try? heartbeatBuilder.append(.memory(.init(index: 0, used: used, free: (512 << 20) - used)))
        for (address, passphrase) in targets {
            fleet.sendHeartbeat(heartbeatBuilder.sign(passphrase: passphrase, digests: OpenSSLDigests()), to: address)
        }
    }

    private func stopHeartbeat() {
        heartbeat?.cancel()
        heartbeat = nil
    }

    // MARK: stop

    /// Closes everything (zero chunk on each tunnel); on the SA's loop.
    func stop() {
        loop.assertInEventLoop()
        stopped = true
        closeTunnels(orderly: true)
        stopHeartbeat()
        timer?.cancel()
        pullWait?.cancel()
        push = nil
        pull = nil
    }
}

/// The source of message and transaction ids a `PushMachine` asks for.
private final class RandomBox {
    private var generator: SplitMix64
    init(seed: UInt64) { generator = SplitMix64(seed: seed) }
    func next() -> UInt32 { UInt32(truncatingIfNeeded: generator.next()) }
}
