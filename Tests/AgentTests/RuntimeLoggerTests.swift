import Glibc
import Testing
@testable import Agent

@Suite struct RuntimeLoggerTests {
    static let time = LogTime(year: 2024, month: 1, day: 2, hour: 3, minute: 4, second: 5)

    @Test func labelsAreFiveColumns() {
        #expect(LogLevel.allCases.map(\.label) == ["EMERG", "ERROR", "WARN ", "INFO ", "DEBUG"])
        #expect(LogLevel.allCases.map(\.syslogPriority) == [LOG_EMERG, LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG])
    }

    @Test func lineFormats() {
        let record = LogRecord(level: .warn, message: "script timed out (30 sec)", time: Self.time, pid: 1025)
        #expect(record.fileLine == "2024/01/02 03:04:05 armsd [1025] WARN  script timed out (30 sec)")
        #expect(record.consoleLine == "03:04:05 WARN  script timed out (30 sec)")
        let late = LogRecord(level: .emerg, message: "x",
                             time: LogTime(year: 2031, month: 12, day: 31, hour: 23, minute: 59, second: 59), pid: 7)
        #expect(late.fileLine == "2031/12/31 23:59:59 armsd [7] EMERG x")
    }

    @Test func localTimeBreakdown() {
        var t = time_t(1_700_000_000)
        var parts = tm()
        localtime_r(&t, &parts)
        let time = LogTime(epochSeconds: 1_700_000_000)
        #expect(time.year == Int(parts.tm_year) + 1900)
        #expect(time.month == Int(parts.tm_mon) + 1)
        #expect(time.day == Int(parts.tm_mday))
        #expect(time.hour == Int(parts.tm_hour) && time.minute == Int(parts.tm_min) && time.second == Int(parts.tm_sec))
    }

    @Test func fileSinkAppendsExactLines() throws {
        let dir = try ScratchDirectory("log")
        let path = try dir.write("armsd.log", "earlier line\n")
        let sink = try FileLogSink(path: path)
        sink.write(LogRecord(level: .info, message: "state cache saved", time: Self.time, pid: 42))
        // Each line is in the file as soon as it is written (no buffering).
        #expect(readText(path) == "earlier line\n2024/01/02 03:04:05 armsd [42] INFO  state cache saved\n")
        sink.write(LogRecord(level: .debug, message: "daemonized", time: Self.time, pid: 42))
        #expect(readText(path) == "earlier line\n2024/01/02 03:04:05 armsd [42] INFO  state cache saved\n"
                + "2024/01/02 03:04:05 armsd [42] DEBUG daemonized\n")
    }

    @Test func loggerWritesThroughTheFileSink() throws {
        let dir = try ScratchDirectory("log")
        let path = dir.file("armsd.log")
        let logger = try Logger.standard(logFile: path, verbose: false, foreground: true)
        #expect(logger.sinks.count == 1)
        logger.info("initial configuration succeeded")
        logger.debug("not written without -v")
        logger.verboseInfo("not written without -v either")
        logger.error("arms_pull failed")
        let lines = (readText(path) ?? "").split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        let suffixes = [" armsd [\(getpid())] INFO  initial configuration succeeded",
                        " armsd [\(getpid())] ERROR arms_pull failed"]
        for (line, suffix) in zip(lines, suffixes) {
            #expect(line.hasSuffix(suffix))
            // YYYY/MM/DD HH:MM:SS
            let stamp = Array(line.utf8.prefix(19))
            #expect(stamp.count == 19)
            for (i, c) in stamp.enumerated() {
                switch i {
                case 4, 7: #expect(c == UInt8(ascii: "/"))
                case 10: #expect(c == UInt8(ascii: " "))
                case 13, 16: #expect(c == UInt8(ascii: ":"))
                default: #expect((UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c))
                }
            }
            #expect(line.utf8.count == 19 + suffix.utf8.count)
        }
    }

    @Test func debugOnlyWhenVerbose() {
        let quiet = MemoryLogSink()
        let loud = MemoryLogSink()
        for (sink, verbose) in [(quiet, false), (loud, true)] {
            let logger = Logger(sinks: [sink], verbose: verbose)
            logger.debug("daemonized")
            logger.verboseInfo("config callback called: id=0")
            logger.emerg("e")
            logger.warn("w")
        }
        #expect(quiet.lines == ["EMERG e", "WARN w"])
        #expect(loud.lines == ["DEBUG daemonized", "INFO config callback called: id=0", "EMERG e", "WARN w"])
    }

    @Test func libarmsLogCallbackLines() {
        let sink = MemoryLogSink()
        let logger = Logger(sinks: [sink], verbose: true)
        logger.libarms(code: 2, "Pull from LS.")
        logger.libarms(code: 82, " heartbeat server: 202.221.50.96")
        logger.libarms(code: 200, "Sent heartbeat to 192.0.2.1")
        #expect(sink.lines == ["INFO log callback: 2 - Pull from LS.",
                               "INFO log callback: 82 -  heartbeat server: 202.221.50.96",
                               "DEBUG log callback: 200 - Sent heartbeat to 192.0.2.1"])
        let quiet = MemoryLogSink()
        Logger(sinks: [quiet]).libarms(code: 200, "debug only")
        #expect(quiet.records.isEmpty)
    }

    @Test func libarmsTextIsCutAt128Bytes() {
        let long = String(repeating: "a", count: 200)
        #expect(Logger.libarmsText(long) == String(repeating: "a", count: 128))
        #expect(Logger.libarmsText(String(repeating: "b", count: 128)).utf8.count == 128)
        #expect(Logger.libarmsText("short") == "short")
        // A two-byte character split by the cut is dropped whole.
        let split = String(repeating: "c", count: 127) + "é" + "tail"
        #expect(Logger.libarmsText(split) == String(repeating: "c", count: 127))
        let sink = MemoryLogSink()
        Logger(sinks: [sink]).libarms(code: 131, long)
        #expect(sink.messages == ["log callback: 131 - " + String(repeating: "a", count: 128)])
    }

    @Test func consoleSinkWritesAndCanBeDisabled() throws {
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let console = ConsoleLogSink(fileDescriptor: fds[1])
        let memory = MemoryLogSink()
        let logger = Logger(sinks: [memory, console], verbose: true)
        console.write(LogRecord(level: .info, message: "armsd version 0.1.0", time: Self.time, pid: 1))
        logger.daemonized()
        #expect(!console.isEnabled)
        logger.info("after daemonizing")
        close(fds[1])
        var buffer = [UInt8](repeating: 0, count: 512)
        var output: [UInt8] = []
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fds[0], $0.baseAddress, $0.count) }
            if n <= 0 { break }
            output += buffer[..<n]
        }
        #expect(String(decoding: output, as: UTF8.self) == "03:04:05 INFO  armsd version 0.1.0\n")
        #expect(memory.messages == ["after daemonizing"])
    }

    @Test func standardSinks() throws {
        let dir = try ScratchDirectory("log")
        let withConsole = try Logger.standard(logFile: dir.file("a.log"), verbose: true, foreground: true)
        #expect(withConsole.sinks.count == 2)
        #expect(withConsole.sinks.last is ConsoleLogSink)
        let daemon = try Logger.standard(logFile: dir.file("b.log"), verbose: true, foreground: false)
        #expect(daemon.sinks.count == 1 && daemon.sinks.first is FileLogSink)
        let syslog = try Logger.standard(logFile: nil, verbose: false, foreground: true)
        #expect(syslog.sinks.count == 1 && syslog.sinks.first is SyslogSink)
        #expect(throws: SystemError.self) {
            try Logger.standard(logFile: dir.file("missing/dir/c.log"), verbose: false, foreground: true)
        }
    }
}
