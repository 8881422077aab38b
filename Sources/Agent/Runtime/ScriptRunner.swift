import Glibc

/// How a callback script run ended (agent.md §5.1).
public enum ScriptOutcome: Equatable, Sendable, CustomStringConvertible {
    /// No `script-*` key: nothing ran; the caller applies the default of §5.1.
    case notConfigured
    /// The script exited with this status. 127 when it could not be executed (missing,
    /// not executable, bad interpreter), as armsd's child reports an `execv` failure.
    case exited(Int32)
    /// The script was ended by this signal (not sent by the runner).
    case signaled(Int32)
    /// The time limit expired; the script was sent SIGTERM (then SIGKILL). Counts as failed.
    case timedOut
    /// The script ran but its status was collected elsewhere (something else reaped it).
    case statusUnavailable
    /// The runner could not start a process at all (no pipe, no memory, process limit).
    case failedToStart(SystemError)

    public var description: String {
        switch self {
        case .notConfigured: return "not configured"
        case .exited(let code): return "exited with \(code)"
        case .signaled(let signal): return "killed by signal \(signal)"
        case .timedOut: return "timed out"
        case .statusUnavailable: return "exit status unavailable"
        case .failedToStart(let error): return "not started: \(error)"
        }
    }
}

/// The result of one script run.
public struct ScriptResult: Equatable, Sendable {
    public var outcome: ScriptOutcome
    /// The first `StderrCollector.capacity` bytes the script wrote to stderr.
    public var stderr: [UInt8]
    /// The stderr lines that were logged as `script unhandled error: <line>` (sanitised).
    public var stderrLines: [String]
    /// Why `posix_spawn` could not execute the path (the outcome is then `.exited(127)`).
    public var execError: SystemError?

    public init(outcome: ScriptOutcome, stderr: [UInt8] = [], stderrLines: [String] = [],
                execError: SystemError? = nil) {
        self.outcome = outcome
        self.stderr = stderr
        self.stderrLines = stderrLines
        self.execError = execError
    }

    /// Exit status, when the script exited by itself.
    public var exitStatus: Int32? {
        if case .exited(let code) = outcome { return code }
        return nil
    }

    /// Exited with status 0.
    public var succeeded: Bool { outcome == .exited(0) }

    public var timedOut: Bool { outcome == .timedOut }

    public var isConfigured: Bool { outcome != .notConfigured }
}

/// Collects a script's stderr the way armsd does: at most `capacity` bytes are kept;
/// every line ending in LF within them is reported (possibly empty), with each byte that
/// is not a printable, non-blank ASCII character (C `isgraph`) shown as a space. When the
/// limit is reached the line in progress is reported as it stands and the rest of the
/// output is dropped. An unterminated last line is not reported.
public struct StderrCollector: Sendable {
    /// armsd's `scriptlog` buffer size.
    public static let capacity = 1000

    public private(set) var kept: [UInt8] = []
    private var pending: [UInt8] = []
    private var full = false

    public init() {}

    /// Takes the next chunk read from the pipe; returns the lines it completed.
    public mutating func consume(_ chunk: some Collection<UInt8>) -> [String] {
        guard !full else { return [] }
        var lines: [String] = []
        for byte in chunk {
            kept.append(byte)
            if byte == UInt8(ascii: "\n") {
                lines.append(String(decoding: pending, as: UTF8.self))
                pending.removeAll(keepingCapacity: true)
            } else {
                pending.append((0x21...0x7E).contains(byte) ? byte : UInt8(ascii: " "))
            }
            if kept.count == Self.capacity {
                full = true
                if !pending.isEmpty { lines.append(String(decoding: pending, as: UTF8.self)) }
                pending.removeAll()
                break
            }
        }
        return lines
    }
}

/// Runs callback scripts as armsd does (agent.md §5.1): the configured path is executed
/// directly with `posix_spawn` (no shell, no PATH search) with argv[0] = path and the
/// given arguments (empty strings are real empty arguments); the environment is the
/// process's own plus `ARMS_DISTRIBUTION_ID=<canonical id>`; stdin and stdout are
/// inherited; stderr goes to a pipe (see `StderrCollector`), each complete line logged
/// at WARN as `script unhandled error: <line>`.
///
/// The child starts with an empty signal mask and every signal at its default action
/// (the daemon may block or ignore some, e.g. SIGPIPE), in a process group of its own.
/// When the time limit expires the runner logs `executing script timed out` (WARN),
/// sends SIGTERM to that process group (so helpers the script started end too), and
/// SIGKILL after `killGrace`. Every wait is bounded: stderr is polled in slices of at
/// most 20 ms between `waitpid(WNOHANG)` checks, and a child that survives SIGKILL for
/// `reapLimit` is abandoned. When the script exits by itself, anything it left running
/// in the background is left alone, and the runner stops reading stderr even if such a
/// helper still holds it open.
///
/// The runner reaps only its own child (`waitpid(pid)`); nothing else in the process may
/// reap it (no `waitpid(-1)` in a SIGCHLD handler, SIGCHLD not set to SIG_IGN), or the
/// outcome is `.statusUnavailable`. The stderr pipe is made close-on-exec right after
/// `pipe(2)` (Glibc does not export `pipe2`), so a process spawned by another thread in
/// that instant could inherit it; the runner does not depend on EOF, so this only costs
/// that process a stray descriptor.
public struct ScriptRunner: Sendable {
    /// Exported as `ARMS_DISTRIBUTION_ID`; nil leaves the environment as it is.
    public var distributionID: DistributionID?
    /// Receives the WARN lines; nil logs nothing.
    public var logger: Logger?
    /// Time between SIGTERM and SIGKILL.
    public var killGrace: Duration
    /// How long to wait for a SIGKILLed child before giving up on it.
    public var reapLimit: Duration

    public init(distributionID: DistributionID?, logger: Logger?, killGrace: Duration = .seconds(2),
                reapLimit: Duration = .seconds(5)) {
        self.distributionID = distributionID
        self.logger = logger
        self.killGrace = killGrace
        self.reapLimit = reapLimit
    }

    /// Runs `script` as configured in `configuration` (its path from `scripts`, its time
    /// limit from `timeout` seconds). A missing key gives `.notConfigured`; an empty value
    /// counts as configured (the run then fails with 127, as `execv("")` does in armsd).
    public func run(_ script: ArmsdConfiguration.Script, arguments: [String],
                    configuration: ArmsdConfiguration) -> ScriptResult {
        guard let path = configuration.scripts[script] else { return ScriptResult(outcome: .notConfigured) }
        return run(path: path, arguments: arguments, timeout: .seconds(configuration.timeout))
    }

    /// Runs the executable at `path` with `arguments` and a time limit. A limit of zero
    /// expires at once (armsd's `timeout: 0` behaves the same).
    public func run(path: String, arguments: [String], timeout: Duration) -> ScriptResult {
        var pipeFDs: [Int32] = [-1, -1]
        guard pipe(&pipeFDs) == 0 else {
            return ScriptResult(outcome: .failedToStart(SystemError("pipe", code: errno)))
        }
        let readEnd = pipeFDs[0], writeEnd = pipeFDs[1]
        defer { close(readEnd) }
        // (Glibc does not export pipe2.) Neither end may leak into other children; the
        // script gets the write end as its fd 2 through dup2, which clears the flag there.
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(writeEnd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(readEnd, F_SETFL, fcntl(readEnd, F_GETFL) | O_NONBLOCK)

        // ETXTBSY: the script file is still open for writing somewhere, typically in a child
        // another thread forked just before the file was closed (an editor saving it, a
        // deployment tool). That passes within milliseconds; retry briefly before giving up.
        var spawned = spawn(path: path, arguments: arguments, stderr: writeEnd)
        var busyRetries = 0
        while case .failure(let error) = spawned, error.code == ETXTBSY, busyRetries < Self.textBusyRetries {
            busyRetries += 1
            var pause = timespec(tv_sec: 0, tv_nsec: 10_000_000)
            _ = nanosleep(&pause, nil)
            spawned = spawn(path: path, arguments: arguments, stderr: writeEnd)
        }
        close(writeEnd)
        let pid: pid_t
        switch spawned {
        case .success(let child):
            pid = child
        case .failure(let error) where error.code == EAGAIN || error.code == ENOMEM:
            return ScriptResult(outcome: .failedToStart(error))
        case .failure(let error):
            // glibc reports exec failures here; armsd's child would _exit(127).
            return ScriptResult(outcome: .exited(127), execError: error)
        }
        return supervise(pid: pid, stderr: readEnd, timeout: timeout)
    }

    // MARK: - Spawning

    /// Attempts after an ETXTBSY, 10 ms apart.
    static let textBusyRetries = 50

    private func spawn(path: String, arguments: [String], stderr: Int32) -> Result<pid_t, SystemError> {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stderr, STDERR_FILENO)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes,
                                 Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let argv = CStringArray([path] + arguments)
        let envp = CStringArray(environment())
        var pid: pid_t = 0
        let status = posix_spawn(&pid, path, &actions, &attributes, argv.pointers, envp.pointers)
        guard status == 0 else { return .failure(SystemError("posix_spawn", path: path, code: status)) }
        return .success(pid)
    }

    /// The process environment with `ARMS_DISTRIBUTION_ID` set.
    func environment() -> [String] {
        var result: [String] = []
        let name = "ARMS_DISTRIBUTION_ID="
        let start: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = environ
        if var entry = start {
            while let pointer = entry.pointee {
                let text = String(cString: pointer)
                if distributionID == nil || !text.hasPrefix(name) { result.append(text) }
                entry += 1
            }
        }
        if let distributionID { result.append(name + distributionID.description) }
        return result
    }

    // MARK: - Supervision

    private func supervise(pid: pid_t, stderr readEnd: Int32, timeout: Duration) -> ScriptResult {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var collector = StderrCollector()
        var reported: [String] = []
        var pipeOpen = true
        var idleSlice = 1  // ms; grows while nothing happens
        var timedOut = false
        var killAt: ContinuousClock.Instant?
        var giveUpAt: ContinuousClock.Instant?

        func drain() {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while pipeOpen {
                let count = buffer.withUnsafeMutableBytes { raw in
                    retryingOnInterrupt { read(readEnd, raw.baseAddress, raw.count) }
                }
                if count > 0 {
                    for line in collector.consume(buffer[..<count]) {
                        reported.append(line)
                        logger?.warn("script unhandled error: \(line)")
                    }
                } else if count == 0 || errno != EAGAIN {
                    pipeOpen = false
                } else {
                    return
                }
            }
        }

        var outcome: ScriptOutcome
        while true {
            var status: Int32 = 0
            let reaped = retryingOnInterrupt { waitpid(pid, &status, WNOHANG) }
            if reaped == pid {
                drain()
                if timedOut {
                    outcome = .timedOut
                } else if status & 0x7F == 0 {
                    outcome = .exited((status >> 8) & 0xFF)
                } else {
                    outcome = .signaled(status & 0x7F)
                }
                break
            }
            if reaped == -1 {
                drain()
                outcome = timedOut ? .timedOut : .statusUnavailable
                break
            }

            let now = clock.now
            if !timedOut && now >= deadline {
                timedOut = true
                logger?.warn("executing script timed out")
                sendSignal(pid, SIGTERM)
                killAt = now + killGrace
            }
            if let at = killAt, now >= at {
                sendSignal(pid, SIGKILL)
                killAt = nil
                giveUpAt = now + reapLimit
            }
            if let at = giveUpAt, now >= at {
                drain()
                outcome = .timedOut
                break
            }

            // Wait for stderr data or the next check, whichever comes first.
            var waitMs = idleSlice
            if !timedOut { waitMs = min(waitMs, Self.milliseconds(until: deadline, from: now)) }
            if let at = killAt { waitMs = min(waitMs, Self.milliseconds(until: at, from: now)) }
            if pipeOpen {
                var descriptor = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
                let ready = poll(&descriptor, 1, Int32(waitMs))
                if ready > 0 {
                    drain()
                    idleSlice = 1
                    continue
                }
            } else {
                _ = poll(nil, 0, Int32(waitMs))
            }
            idleSlice = min(idleSlice * 2, 20)
        }
        return ScriptResult(outcome: outcome, stderr: collector.kept, stderrLines: reported)
    }

    /// SIGTERM/SIGKILL to the script's process group (and to the script itself, should
    /// the group be gone).
    private func sendSignal(_ pid: pid_t, _ number: Int32) {
        _ = kill(-pid, number)
        _ = kill(pid, number)
    }

    private static func milliseconds(until deadline: ContinuousClock.Instant, from now: ContinuousClock.Instant) -> Int {
        guard deadline > now else { return 0 }
        let (seconds, attoseconds) = (deadline - now).components
        let ms = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int(min(ms, 1000))
    }
}

/// A NULL-terminated `char *[]` that lives as long as the value.
private final class CStringArray {
    let pointers: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    private let count: Int

    init(_ strings: [String]) {
        count = strings.count
        pointers = .allocate(capacity: count + 1)
        for (i, s) in strings.enumerated() { pointers[i] = strdup(s) }
        pointers[count] = nil
    }

    deinit {
        for i in 0..<count { free(pointers[i]) }
        pointers.deallocate()
    }
}
