import Glibc

/// Runs a `PushMachine` over real sockets: one `poll(2)` loop over the
/// non-blocking TLS tunnels plus hosted timers (heartbeat), single-threaded
/// like libarms. Connects, writes and work (scripts) block, bounded by their
/// own timeouts, as in libarms.
public final class PushLoop {
    public private(set) var machine: PushMachine
    public let tlsConfiguration: TLSClientConfiguration
    public let timeouts: TransportTimeouts
    public var hooks: PushLoopHooks
    /// Carries out scripts and tools.
    public let work: (PushWork) -> PushWorkResult
    private var connections: [Int: TLSClientConnection] = [:]
    private let clock = ContinuousClock()

    public init(machine: PushMachine, tlsConfiguration: TLSClientConfiguration, timeouts: TransportTimeouts = .libarms,
                hooks: PushLoopHooks = PushLoopHooks(), work: @escaping (PushWork) -> PushWorkResult) {
        self.machine = machine
        self.tlsConfiguration = tlsConfiguration
        self.timeouts = timeouts
        self.hooks = hooks
        self.work = work
    }

    deinit {
        for (_, c) in connections { c.abort() }
    }

    /// Runs until the machine finishes; returns how.
    public func run() -> PushLoopEnd {
        perform(machine.start(now: clock.now))
        while machine.end == nil {
            waitOnce()
        }
        for (_, c) in connections { c.abort() }
        connections = [:]
        return machine.end ?? .methodFailed
    }

    /// One poll round: reads what arrived, fires due timers.
    func waitOnce() {
        let indices = connections.keys.sorted()
        var fds = indices.map { pollfd(fd: connections[$0]!.fileDescriptor, events: Int16(POLLIN), revents: 0) }
        let deadlines = [machine.nextDeadline] + hooks.timers.map(\.nextDeadline)
        let next = deadlines.compactMap { $0 }.min()
        var timeout: Int32 = next.map { pollMilliseconds(until: $0) } ?? 1000
        if indices.contains(where: { connections[$0]!.bufferedByteCount > 0 }) { timeout = 0 }
        timeout = min(timeout, 1000)
        let ready = fds.withUnsafeMutableBufferPointer { poll($0.baseAddress, nfds_t($0.count), timeout) }
        if ready > 0 || timeout == 0 {
            for (k, index) in indices.enumerated() where fds[k].revents != 0 || (connections[index]?.bufferedByteCount ?? 0) > 0 {
                drain(index)
                if machine.end != nil { return }
            }
        }
        let now = clock.now
        perform(machine.handle(.timer, now: now))
        for timer in hooks.timers {
            if let due = timer.nextDeadline, due <= now { timer.fire(now: now) }
        }
    }

    /// Reads everything available on one tunnel.
    private func drain(_ index: Int) {
        while let connection = connections[index], machine.end == nil {
            let event: PushEvent
            do {
                switch try connection.readAvailable(upTo: 8192) {
                case .bytes(let bytes): event = .received(tunnel: index, bytes: bytes)
                case .wouldBlock: return
                case .closed: event = .connectionLost(tunnel: index, reason: "connection closed by peer")
                }
            } catch {
                event = .connectionLost(tunnel: index, reason: "\(error)")
            }
            perform(machine.handle(event, now: clock.now))
        }
    }

    /// Carries out actions in order; events they produce are handled at once.
    private func perform(_ initial: [PushAction]) {
        var queue = initial[...]
        while let action = queue.popFirst() {
            var follow: [PushAction] = []
            switch action {
            case .log(let line):
                hooks.log(line)
            case .state(let from, let to):
                hooks.changeState(from: from, to: to)
            case .connect(let index, let url):
                follow = connect(index, url)
            case .send(let index, let writes):
                guard let connection = connections[index] else { continue }
                do {
                    for bytes in writes where !bytes.isEmpty { try connection.write(bytes) }
                } catch {
                    // Drop the rest of this tunnel's writes queued behind it.
                    queue = queue.filter { if case .send(let t, _) = $0 { return t != index } else { return true } }[...]
                    follow = machine.handle(.connectionLost(tunnel: index, reason: "\(error)"), now: clock.now)
                }
            case .close(let index, let orderly):
                if let connection = connections.removeValue(forKey: index) {
                    orderly ? connection.close() : connection.abort()
                }
            case .execute(let token, let w):
                let result = work(w)
                follow = machine.handle(.executed(token: token, result), now: clock.now)
            case .finish:
                break
            }
            if !follow.isEmpty { queue = (Array(queue) + follow)[...] }
        }
    }

    private func connect(_ index: Int, _ url: ARMSURL) -> [PushAction] {
        do {
            guard let port = UInt16(exactly: url.port) else { throw TransportError.invalidAddress(host: url.host, port: 0) }
            let address = try SocketAddress.numeric(host: url.host, port: port)
            let connection = try TLSClientConnection.connect(to: address, configuration: tlsConfiguration, timeouts: timeouts)
            connections[index] = connection
            return machine.handle(.connected(tunnel: index), now: clock.now)
        } catch {
            return machine.handle(.connectFailed(tunnel: index, reason: "\(error)"), now: clock.now)
        }
    }
}
