import Glibc

/// The transport's timers. `libarms` holds the values libarms 5.33 uses
/// (pull.md §2.7, push.md §2.6, tunnel.md §9); tests shorten them.
public struct TransportTimeouts: Hashable, Sendable {
    /// One timer for TCP connect plus TLS handshake on a direct connection;
    /// through a web proxy, the TLS handshake alone gets this long.
    public var connectAndHandshake: Duration
    /// Each web proxy step: TCP connect, writing `CONNECT`, the proxy's answer.
    public var proxyStep: Duration
    /// Longest wait for any progress while writing.
    public var writeProgress: Duration
    /// `SSL_shutdown` calls an orderly close makes at most (non-blocking).
    public var shutdownAttempts: Int

    public init(connectAndHandshake: Duration = .seconds(30),
                proxyStep: Duration = .seconds(30),
                writeProgress: Duration = .seconds(30),
                shutdownAttempts: Int = 4) {
        self.connectAndHandshake = connectAndHandshake
        self.proxyStep = proxyStep
        self.writeProgress = writeProgress
        self.shutdownAttempts = shutdownAttempts
    }

    /// 30 s everywhere, four shutdown tries: libarms 5.33.
    public static let libarms = TransportTimeouts()
}

// MARK: - deadlines and poll(2)

typealias Deadline = ContinuousClock.Instant

/// `poll` timeout in milliseconds until `deadline`, rounded up, 0 when passed.
func pollMilliseconds(until deadline: Deadline) -> Int32 {
    let remaining = ContinuousClock.now.duration(to: deadline)
    guard remaining > .zero else { return 0 }
    let (seconds, attoseconds) = remaining.components
    if seconds >= Int64(Int32.max / 1000) { return Int32.max }
    let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
    return Int32(clamping: milliseconds)
}

/// Waits until `fd` reports one of `events` (or an error/hang-up condition, which
/// the following call then reports). Returns false when `deadline` passed first.
func waitFor(_ events: Int16, on fd: Int32, until deadline: Deadline) throws(TransportError) -> Bool {
    while true {
        var entry = pollfd(fd: fd, events: events, revents: 0)
        let timeout = pollMilliseconds(until: deadline)
        let ready = poll(&entry, 1, timeout)
        if ready > 0 { return true }
        if ready == 0 {
            if ContinuousClock.now >= deadline { return false }
            continue
        }
        let code = errno
        if code == EINTR { continue }
        throw .io(operation: "poll", errno: code)
    }
}

let pollIn = Int16(POLLIN)
let pollOut = Int16(POLLOUT)

func earliest(_ a: Deadline, _ b: Deadline?) -> Deadline {
    guard let b else { return a }
    return min(a, b)
}
