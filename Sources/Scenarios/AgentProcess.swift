import Foundation

/// The agent under test as a child process: `AGENT -D -v -b WORK -l LOG -f CONF`, the
/// command line of armsd (ours or libarms' own), standard output and error to files.
final class AgentProcess: @unchecked Sendable {
    let process = Process()
    let startTime: Double
    /// Set by the observer once it recorded the exit.
    var exitNoted = false

    init(executable: String, arguments: [String], stdoutPath: String, stderrPath: String) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        startTime = Date().timeIntervalSince1970
    }

    var isRunning: Bool { process.isRunning }
    var pid: Int32 { process.processIdentifier }
    /// The exit status, once it exited (a signal's number for a signalled exit).
    var exitStatus: Int32? { process.isRunning ? nil : process.terminationStatus }
    var exitDescription: String {
        guard !process.isRunning else { return "running" }
        return process.terminationReason == .uncaughtSignal ? "killed by signal \(process.terminationStatus)" : "exit \(process.terminationStatus)"
    }

    /// SIGTERM, then SIGKILL after `grace` seconds; bounded.
    func stop(grace: Double = 5) async {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().timeIntervalSince1970 + grace
        while process.isRunning && Date().timeIntervalSince1970 < deadline {
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            while process.isRunning { try? await Task.sleep(nanoseconds: 5_000_000) }
        }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
