import Glibc

/// Handles SIGTERM, SIGINT and SIGHUP on a thread of its own with `sigwait`, so the
/// single-threaded agent can block in I/O and scripts and still stop at once
/// (agent.md §2: `signal N caught. exit.`, working directory removed, exit 1).
public enum SignalWatcher {
    nonisolated(unsafe) private static var onTerminate: ((Int32) -> Void)?
    nonisolated(unsafe) private static var onHangUp: (() -> Void)?

    /// Blocks the signals in the calling thread (and threads it creates later), then
    /// starts the watcher thread. Call once, early, from the main thread.
    public static func start(onTerminate: @escaping (Int32) -> Void, onHangUp: @escaping () -> Void) {
        self.onTerminate = onTerminate
        self.onHangUp = onHangUp
        signal(SIGPIPE, SIG_IGN)
        var set = watchedSet()
        pthread_sigmask(SIG_BLOCK, &set, nil)
        startThread()
    }

    /// Starts the watcher thread again in a forked child (threads do not survive `fork`,
    /// so after `daemon()` the signals would otherwise stay blocked with nobody waiting).
    public static func restartAfterFork() {
        guard onTerminate != nil else { return }
        startThread()
    }

    private static func startThread() {
        var thread = pthread_t()
        pthread_create(&thread, nil, { _ in
            var set = SignalWatcher.watchedSet()
            while true {
                var received: Int32 = 0
                guard sigwait(&set, &received) == 0 else { continue }
                if received == SIGHUP {
                    SignalWatcher.onHangUp?()
                } else {
                    SignalWatcher.onTerminate?(received)
                }
            }
        }, nil)
        pthread_detach(thread)
    }

    /// Ends the process from the watcher thread: flushes stdio, then `_exit`. Not `exit`:
    /// that would run the atexit handlers (OpenSSL's cleanup among them) on this thread
    /// while the main thread may still be inside OpenSSL or a script start, and crash the
    /// process instead of ending it with `status`. Every log line is already written
    /// (`write(2)` per line) and the state cache is only ever replaced by a rename.
    public static func exitNow(_ status: Int32) -> Never {
        fflush(nil)
        _exit(status)
    }

    static func watchedSet() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGHUP)
        return set
    }
}
