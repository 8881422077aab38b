import Glibc
import Synchronization

/// armsd's log levels (agent.md §12), with their syslog priorities.
public enum LogLevel: Int32, Sendable, CaseIterable, Comparable {
    case emerg = 0   // LOG_EMERG
    case error = 3   // LOG_ERR
    case warn = 4    // LOG_WARNING
    case info = 6    // LOG_INFO
    case debug = 7   // LOG_DEBUG

    /// The 5-column label of file and console lines: `EMERG`, `ERROR`, `WARN `, `INFO `, `DEBUG`.
    public var label: String {
        switch self {
        case .emerg: return "EMERG"
        case .error: return "ERROR"
        case .warn: return "WARN "
        case .info: return "INFO "
        case .debug: return "DEBUG"
        }
    }

    /// syslog(3) priority.
    public var syslogPriority: Int32 { rawValue }

    /// More severe sorts first (`.emerg < .debug`).
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// Local wall-clock time of a log line, to the second.
public struct LogTime: Sendable, Hashable {
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int

    public init(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
    }

    /// `time_t` broken down in the local time zone (`localtime_r`).
    public init(epochSeconds: Int) {
        var t = time_t(epochSeconds)
        var parts = tm()
        localtime_r(&t, &parts)
        self.init(year: Int(parts.tm_year) + 1900, month: Int(parts.tm_mon) + 1, day: Int(parts.tm_mday),
                  hour: Int(parts.tm_hour), minute: Int(parts.tm_min), second: Int(parts.tm_sec))
    }

    /// Now, local time.
    public static func now() -> LogTime { LogTime(epochSeconds: Int(time(nil))) }

    /// `YYYY/MM/DD HH:MM:SS`
    public var dateAndTime: String {
        "\(pad(year, 4))/\(pad(month, 2))/\(pad(day, 2)) \(timeOfDay)"
    }

    /// `HH:MM:SS`
    public var timeOfDay: String { "\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))" }

    private func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}

/// One log line as handed to the sinks.
public struct LogRecord: Sendable, Hashable {
    public var level: LogLevel
    public var message: String
    public var time: LogTime
    public var pid: Int32

    public init(level: LogLevel, message: String, time: LogTime, pid: Int32) {
        self.level = level
        self.message = message
        self.time = time
        self.pid = pid
    }

    /// The `-l FILE` line: `YYYY/MM/DD HH:MM:SS armsd [PID] LEVEL message`.
    public var fileLine: String { "\(time.dateAndTime) armsd [\(pid)] \(level.label) \(message)" }

    /// The `-v` console line: `HH:MM:SS LEVEL message`.
    public var consoleLine: String { "\(time.timeOfDay) \(level.label) \(message)" }
}

/// Where log lines go.
public protocol LogSink: Sendable {
    func write(_ record: LogRecord)
}

/// syslog(3) with ident `armsd`, `LOG_PID`, facility `LOG_DAEMON`.
public final class SyslogSink: LogSink {
    /// openlog keeps the pointer: it must live as long as the process.
    nonisolated(unsafe) private static let ident: UnsafeMutablePointer<CChar> = strdup("armsd")!

    public init() {
        openlog(Self.ident, LOG_PID, LOG_DAEMON)
    }

    public func write(_ record: LogRecord) {
        record.message.withCString { text in
            withVaList([text]) { vsyslog(record.level.syslogPriority, "%s", $0) }
        }
    }
}

/// `-l FILE`: lines appended to a file (created 0666 minus umask, as `fopen("a")`), one
/// `write(2)` per line, so every line reaches the file as soon as it is logged.
public final class FileLogSink: LogSink {
    public let path: String
    private let fd: Int32

    public init(path: String) throws(SystemError) {
        let fd = retryingOnInterrupt { open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o666) }
        guard fd >= 0 else { throw SystemError("open", path: path, code: errno) }
        self.path = path
        self.fd = fd
    }

    deinit { close(fd) }

    public func write(_ record: LogRecord) {
        try? AtomicFile.writeAll(fd, Array((record.fileLine + "\n").utf8), path: path)
    }
}

/// `-v` without daemonizing: every line also on standard output as `HH:MM:SS LEVEL message`.
/// `disable()` stops the echo (when `-w` daemonizes later).
public final class ConsoleLogSink: LogSink {
    private let enabled = Atomic<Bool>(true)
    private let fd: Int32

    public init(fileDescriptor: Int32 = STDOUT_FILENO) {
        fd = fileDescriptor
    }

    public func disable() { enabled.store(false, ordering: .relaxed) }

    public var isEnabled: Bool { enabled.load(ordering: .relaxed) }

    public func write(_ record: LogRecord) {
        guard isEnabled else { return }
        try? AtomicFile.writeAll(fd, Array((record.consoleLine + "\n").utf8), path: "<stdout>")
    }
}

/// Keeps every record (tests).
public final class MemoryLogSink: LogSink {
    private let storage = Mutex<[LogRecord]>([])

    public init() {}

    public func write(_ record: LogRecord) { storage.withLock { $0.append(record) } }

    public var records: [LogRecord] { storage.withLock { $0 } }

    /// `LEVEL message` per record (label trimmed: `WARN`, `INFO`).
    public var lines: [String] {
        records.map { "\($0.level.label.trimmingSpaces) \($0.message)" }
    }

    public var messages: [String] { records.map(\.message) }

    public func removeAll() { storage.withLock { $0.removeAll() } }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}

/// The agent's logger (agent.md §12): sends every line to its sinks; DEBUG lines only
/// when verbose.
public final class Logger: Sendable {
    public let sinks: [any LogSink]
    /// `-v`: DEBUG lines and the verbose-only INFO lines are written.
    public let verbose: Bool

    /// libarms formats its messages into a 128-byte buffer (`LOG_BUFSIZ`).
    public static let libarmsMessageLimit = 128

    public init(sinks: [any LogSink], verbose: Bool = false) {
        self.sinks = sinks
        self.verbose = verbose
    }

    /// The sinks armsd uses: `-l FILE` or syslog, and with `-v` while in the foreground
    /// also standard output.
    public static func standard(logFile: String?, verbose: Bool, foreground: Bool) throws(SystemError) -> Logger {
        var sinks: [any LogSink] = []
        if let logFile {
            sinks.append(try FileLogSink(path: logFile))
        } else {
            sinks.append(SyslogSink())
        }
        if verbose && foreground { sinks.append(ConsoleLogSink()) }
        return Logger(sinks: sinks, verbose: verbose)
    }

    /// Stops the console echo (the process has daemonized).
    public func daemonized() {
        for case let console as ConsoleLogSink in sinks { console.disable() }
    }

    public func log(_ level: LogLevel, _ message: String) {
        guard level != .debug || verbose else { return }
        let record = LogRecord(level: level, message: message, time: .now(), pid: getpid())
        for sink in sinks { sink.write(record) }
    }

    public func emerg(_ message: String) { log(.emerg, message) }
    public func error(_ message: String) { log(.error, message) }
    public func warn(_ message: String) { log(.warn, message) }
    public func info(_ message: String) { log(.info, message) }
    public func debug(_ message: String) { log(.debug, message) }

    /// An INFO line armsd writes only with `-v` (callback calls, heartbeat values).
    public func verboseInfo(_ message: String) {
        if verbose { log(.info, message) }
    }

    /// A libarms log-callback message: `log callback: <code> - <text>`, INFO, or DEBUG
    /// for code 200; `text` is cut to libarms' 128 bytes first.
    public func libarms(code: Int, _ text: String) {
        log(code == 200 ? .debug : .info, "log callback: \(code) - \(Self.libarmsText(text))")
    }

    /// `text` as libarms' 128-byte message buffer holds it (cut at a character boundary).
    public static func libarmsText(_ text: String) -> String {
        guard text.utf8.count > libarmsMessageLimit else { return text }
        var bytes = Array(text.utf8.prefix(libarmsMessageLimit))
        // Drop a multi-byte character the cut split (at most 3 continuation bytes).
        for _ in 0..<4 {
            if let valid = String(validating: bytes, as: UTF8.self) { return valid }
            bytes.removeLast()
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
