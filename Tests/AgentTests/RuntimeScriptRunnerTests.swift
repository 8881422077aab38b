import Glibc
import Testing
@testable import Agent

@Suite(.blocksPoolThread) struct RuntimeScriptRunnerTests {
    static let distributionID = DistributionID("0001-0000-1234-0080-0000-0000-dead-beef")!

    static func runner(_ sink: MemoryLogSink = MemoryLogSink(), grace: Duration = .seconds(1)) -> ScriptRunner {
        ScriptRunner(distributionID: distributionID, logger: Logger(sinks: [sink]), killGrace: grace,
                     reapLimit: .seconds(5))
    }

    @Test func argvIsExactIncludingEmptyArguments() throws {
        let dir = try ScratchDirectory("script")
        let out = dir.file("argv.out")
        let script = try dir.script("start", """
            out='\(out)'
            printf '%s\\n' "$#" > "$out"
            for a in "$0" "$@"; do printf '<%s>\\n' "$a" >> "$out"; done
            """)
        let arguments = ["2", "0.0.0-0", "", "/tmp/armsd.1025/tmp/0", "two words", "*", "$HOME", ""]
        let result = Self.runner().run(path: script, arguments: arguments, timeout: .seconds(20))
        #expect(result.outcome == .exited(0))
        let expected = "8\n<\(script)>\n" + arguments.map { "<\($0)>\n" }.joined()
        #expect(readText(out) == expected)
    }

    @Test func environmentCarriesTheDistributionID() throws {
        let dir = try ScratchDirectory("script")
        let out = dir.file("env.out")
        let script = try dir.script("env", """
            printf '%s\\n' "$ARMS_DISTRIBUTION_ID" > '\(out)'
            printf '%s\\n' "${PATH-unset}" >> '\(out)'
            """)
        let result = Self.runner().run(path: script, arguments: [], timeout: .seconds(20))
        #expect(result.succeeded)
        let path = getenv("PATH").map { String(cString: $0) } ?? "unset"
        #expect(readText(out) == "0001-0000-1234-0080-0000-0000-DEAD-BEEF\n\(path)\n")
    }

    @Test func environmentListHasOneDistributionIDEntry() {
        let env = Self.runner().environment()
        #expect(env.filter { $0.hasPrefix("ARMS_DISTRIBUTION_ID=") }
            == ["ARMS_DISTRIBUTION_ID=0001-0000-1234-0080-0000-0000-DEAD-BEEF"])
        let plain = ScriptRunner(distributionID: nil, logger: nil).environment()
        #expect(plain.count == env.count - 1 || plain.count == env.count)
    }

    @Test func exitStatuses() throws {
        let dir = try ScratchDirectory("script")
        for code: Int32 in [0, 1, 42, 128, 132, 255] {
            let script = try dir.script("exit\(code)", "exit \(code)")
            let result = Self.runner().run(path: script, arguments: [], timeout: .seconds(20))
            #expect(result.outcome == .exited(code))
            #expect(result.exitStatus == code)
            #expect(result.succeeded == (code == 0))
        }
    }

    @Test func killedBySignal() throws {
        let dir = try ScratchDirectory("script")
        let script = try dir.script("suicide", "kill -KILL $$")
        #expect(Self.runner().run(path: script, arguments: [], timeout: .seconds(20)).outcome == .signaled(SIGKILL))
    }

    @Test func execFailuresGive127() throws {
        let dir = try ScratchDirectory("script")
        let notExecutable = try dir.write("plain", "#!/bin/sh\nexit 0\n", mode: 0o644)
        let badInterpreter = try dir.write("badinterp", "#!/nonexistent/interpreter\nexit 0\n", mode: 0o755)
        for path in [dir.file("missing"), notExecutable, badInterpreter, dir.path, ""] {
            let result = Self.runner().run(path: path, arguments: ["x"], timeout: .seconds(20))
            #expect(result.outcome == .exited(127), "\(path)")
            #expect(!result.succeeded)
        }
        let missing = Self.runner().run(path: dir.file("missing"), arguments: [], timeout: .seconds(20))
        #expect(missing.execError?.code == ENOENT)
    }

    @Test func notConfiguredIsItsOwnOutcome() throws {
        let dir = try ScratchDirectory("script")
        var configuration = ArmsdConfiguration()
        #expect(Self.runner().run(.start, arguments: ["0"], configuration: configuration).outcome == .notConfigured)
        #expect(!Self.runner().run(.start, arguments: [], configuration: configuration).isConfigured)
        configuration.scripts[.start] = try dir.script("start", "exit 3")
        #expect(Self.runner().run(.start, arguments: [], configuration: configuration).outcome == .exited(3))
        configuration.scripts[.stop] = ""
        #expect(Self.runner().run(.stop, arguments: [], configuration: configuration).outcome == .exited(127))
    }

    @Test func stderrLinesAreLoggedSanitised() throws {
        let dir = try ScratchDirectory("script")
        let script = try dir.script("noisy", """
            printf 'first line\\nsecond\\tx\\001y\\303\\251\\n\\nunterminated' >&2
            echo 'to stdout is not captured'
            exit 3
            """)
        let sink = MemoryLogSink()
        let result = Self.runner(sink).run(path: script, arguments: [], timeout: .seconds(20))
        #expect(result.outcome == .exited(3))
        #expect(result.stderrLines == ["first line", "second x y  ", ""])
        #expect(result.stderr == utf8Bytes("first line\nsecond\tx\u{1}y\u{e9}\n\nunterminated"))
        #expect(sink.lines == ["WARN script unhandled error: first line",
                               "WARN script unhandled error: second x y  ",
                               "WARN script unhandled error: "])
    }

    @Test func stderrIsCappedAt1000Bytes() throws {
        let dir = try ScratchDirectory("script")
        // 30 lines of 59 characters + LF = 1800 bytes; 16 lines fit in 960 bytes, the 17th
        // is cut after 40 bytes.
        let script = try dir.script("flood", """
            i=0
            while [ $i -lt 30 ]; do
              printf '%02d%057d\\n' $i 0 >&2
              i=$((i+1))
            done
            """)
        let sink = MemoryLogSink()
        let result = Self.runner(sink).run(path: script, arguments: [], timeout: .seconds(20))
        #expect(result.succeeded)
        #expect(result.stderr.count == 1000)
        #expect(result.stderrLines.count == 17)
        #expect(result.stderrLines.first == "00" + String(repeating: "0", count: 57))
        #expect(result.stderrLines.last == "16" + String(repeating: "0", count: 38))
        #expect(sink.records.count == 17)
    }

    @Test func collectorRules() {
        var c = StderrCollector()
        #expect(c.consume(utf8Bytes("ab")) == [])
        #expect(c.consume(utf8Bytes("c\nd e\r\n\n")) == ["abc", "d e ", ""])
        #expect(c.consume([0, 0x7F, 0x80, 0x21, 0x7E, 0x0A]) == ["   !~"])
        var big = StderrCollector()
        #expect(big.consume([UInt8](repeating: UInt8(ascii: "x"), count: 999)) == [])
        #expect(big.consume(utf8Bytes("yz\n")) == [String(repeating: "x", count: 999) + "y"])
        #expect(big.kept.count == 1000)
        #expect(big.consume(utf8Bytes("more\n")) == [])
        var exact = StderrCollector()
        #expect(exact.consume([UInt8](repeating: UInt8(ascii: "x"), count: 999) + [0x0A]).count == 1)
        #expect(exact.consume(utf8Bytes("more\n")) == [])
    }

    @Test func timeoutEndsASleepingScript() throws {
        let dir = try ScratchDirectory("script")
        let script = try dir.script("sleeper", "sleep 30")
        let sink = MemoryLogSink()
        let started = ContinuousClock.now
        let result = Self.runner(sink).run(path: script, arguments: [], timeout: .milliseconds(500))
        let elapsed = ContinuousClock.now - started
        #expect(result.outcome == .timedOut)
        #expect(result.timedOut && !result.succeeded)
        #expect(elapsed >= .milliseconds(500))
        #expect(elapsed < .seconds(10))
        #expect(sink.lines.contains("WARN executing script timed out"))
    }

    @Test func scriptIgnoringSIGTERMIsKilled() throws {
        let dir = try ScratchDirectory("script")
        let ready = dir.file("ready")
        let script = try dir.script("stubborn", """
            trap '' TERM
            : > '\(ready)'
            while :; do sleep 1; done
            """)
        let started = ContinuousClock.now
        let result = Self.runner(grace: .milliseconds(500)).run(path: script, arguments: [], timeout: .seconds(2))
        let elapsed = ContinuousClock.now - started
        #expect(pathExists(ready))
        #expect(result.outcome == .timedOut)
        #expect(elapsed >= .milliseconds(2500))  // SIGTERM did not end it, SIGKILL did
        #expect(elapsed < .seconds(12))
    }

    @Test func zeroTimeoutExpiresAtOnce() throws {
        let dir = try ScratchDirectory("script")
        let script = try dir.script("sleeper", "sleep 30")
        let started = ContinuousClock.now
        #expect(Self.runner().run(path: script, arguments: [], timeout: .zero).outcome == .timedOut)
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func configurationTimeoutApplies() throws {
        let dir = try ScratchDirectory("script")
        var configuration = ArmsdConfiguration()
        configuration.timeout = 1
        configuration.scripts[.status] = try dir.script("status", "sleep 30")
        let started = ContinuousClock.now
        #expect(Self.runner(grace: .milliseconds(200)).run(.status, arguments: ["0", "a", "b"],
                                                          configuration: configuration).outcome == .timedOut)
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func backgroundHelperHoldingStderrDoesNotBlock() throws {
        let dir = try ScratchDirectory("script")
        // The helper keeps the stderr pipe open for 30 s; the script itself exits at once.
        let script = try dir.script("daemonizer", "sleep 30 & exit 5")
        let started = ContinuousClock.now
        let result = Self.runner().run(path: script, arguments: [], timeout: .seconds(20))
        #expect(result.outcome == .exited(5))
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func signalMaskAndDispositionsAreReset() throws {
        let dir = try ScratchDirectory("script")
        // With SIGTERM blocked in the calling thread, a child that inherited the mask would
        // survive its own SIGTERM and exit 0.
        let term = try dir.script("term", "kill -TERM $$\nexit 0")
        var block = sigset_t()
        sigemptyset(&block)
        sigaddset(&block, SIGTERM)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &block, &previous)
        let termResult = Self.runner().run(path: term, arguments: [], timeout: .seconds(20))
        pthread_sigmask(SIG_SETMASK, &previous, nil)
        #expect(termResult.outcome == .signaled(SIGTERM))

        // armsd ignores SIGPIPE; the script must get the default action back.
        _ = Glibc.signal(SIGPIPE, SIG_IGN)
        let pipe = try dir.script("pipe", "kill -PIPE $$\nexit 0")
        #expect(Self.runner().run(path: pipe, arguments: [], timeout: .seconds(20)).outcome == .signaled(SIGPIPE))
    }

    @Test func scriptLeadsItsOwnProcessGroup() throws {
        let dir = try ScratchDirectory("script")
        let out = dir.file("pgid.out")
        // /proc/<pid>/stat: pid (comm) state ppid pgrp ...
        let script = try dir.script("pgid", """
            read -r pid comm state ppid pgrp rest < /proc/$$/stat
            printf '%s %s\\n' "$$" "$pgrp" > '\(out)'
            """)
        #expect(Self.runner().run(path: script, arguments: [], timeout: .seconds(20)).succeeded)
        let fields = (readText(out) ?? "").split(separator: " ").map { $0.trimmingCharacters() }
        #expect(fields.count == 2)
        #expect(fields.first == fields.last)
        #expect(fields.first != String(getpgrp()))
    }

    @Test func stdoutIsInheritedNotCaptured() throws {
        let dir = try ScratchDirectory("script")
        let script = try dir.script("stdout", "echo 'runtime test: script stdout'")
        let result = Self.runner().run(path: script, arguments: [], timeout: .seconds(20))
        #expect(result.succeeded)
        #expect(result.stderr.isEmpty && result.stderrLines.isEmpty)
    }
}
