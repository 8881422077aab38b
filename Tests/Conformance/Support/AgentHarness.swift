import Foundation
import MockCore
import MockService
import Scenarios

/// The service side in process plus a real `armsd` process pointed at it.
final class PullRig: @unchecked Sendable {
    let runtime: ServiceRuntime
    let dir: TemporaryDirectory
    let confPath: String
    let logPath: String
    let recordPath: String
    let statePath: String
    let workPath: String

    /// Runs `body` with a started rig and always stops the mocks afterwards.
    static func with(_ configure: (inout ServiceConfiguration) -> Void = { _ in },
                     _ body: (PullRig) async throws -> Void) async throws {
        let rig = try await start(configure)
        do {
            try await body(rig)
        } catch {
            await rig.stop()
            throw error
        }
        await rig.stop()
    }

    /// Starts the mocks on free ports (IPv4 loopback unless `hosts` says otherwise).
    static func start(_ configure: (inout ServiceConfiguration) -> Void = { _ in }) async throws -> PullRig {
        let dir = try TemporaryDirectory("pull")
        var configuration = ServiceConfiguration.inProcess(dataDirectory: dir.path("data"))
        configuration.lsRetryInterval = 0
        configuration.lsRetryMax = 1
        configuration.rsRetryMax = 1
        configuration.rsRetryInterval = 1
        configure(&configuration)
        let runtime = try await ServiceRuntime.start(configuration)
        return try PullRig(runtime: runtime, dir: dir)
    }

    private init(runtime: ServiceRuntime, dir: TemporaryDirectory) throws {
        self.runtime = runtime
        self.dir = dir
        confPath = dir.path("armsd.conf")
        logPath = dir.path("armsd.log")
        recordPath = dir.path("scripts.log")
        statePath = dir.path("state-cache")
        workPath = dir.path("work")
        let scripts = dir.path("scripts")
        // The scenario runner's recording scripts: one line per call (name|arg|…), start and
        // reconfig keep their config (config-<id>), and a test changes an exit code by writing
        // `<name>-exit` (setScriptExit).
        let recording = RecordingScripts(directory: scripts, recordPath: recordPath, configPrefix: dir.path("config-"))
        try recording.write(exitFiles: dir.url.path + "/")
        let generated = try String(contentsOfFile: runtime.dataDirectory!.armsdConfPath, encoding: .utf8)
        let conf = generated.split(separator: "\n").filter { !$0.hasPrefix("path-state-cache") }.joined(separator: "\n")
            + "\npath-state-cache: \(statePath)\n"
            + Self.scriptNames.map { "script-\($0): \(scripts)/\($0)" }.joined(separator: "\n") + "\n"
        try conf.write(toFile: confPath, atomically: true, encoding: .utf8)
    }

    static let scriptNames = RecordingScripts.names

    /// Makes the named script exit with `code` from its next run on.
    func setScriptExit(_ name: String, _ code: Int32) throws {
        try "\(code)\n".write(toFile: dir.path(name + "-exit"), atomically: true, encoding: .utf8)
    }

    /// The config the last `start` or `reconfig` of a module received.
    func receivedConfig(_ module: UInt32) -> String? { try? String(contentsOfFile: dir.path("config-\(module)"), encoding: .utf8) }

    /// The script calls of one script, arguments only.
    func calls(of name: String) -> [[String]] { scriptCalls.filter { $0.first == name }.map { Array($0.dropFirst()) } }

    /// Starts the built `armsd` in the foreground, logging to a file.
    func startAgent(extra: [String] = []) throws -> RunningProcess {
        try RunningProcess(try Repository.executable("armsd"), ["-D", "-v", "-b", workPath, "-l", logPath, "-f", confPath] + extra)
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
    var logLines: [String] { log.split(separator: "\n").map(String.init) }
    var scriptCalls: [[String]] {
        let text = (try? String(contentsOfFile: recordPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
    }

    /// Waits for a log line containing `text`.
    @discardableResult
    func waitForLog(_ text: String, timeout: Double = 30, agent: RunningProcess? = nil) async throws -> Double {
        do {
            return try await waitUntil("armsd log line \"\(text)\"", timeout: timeout) {
                if log.contains(text) { return true }
                if let agent, !agent.process.isRunning { throw HarnessError("armsd exited (\(agent.process.terminationStatus))") }
                return false
            }
        } catch {
            throw HarnessError("\(error)\n--- armsd log ---\n\(log)\n--- stderr ---\n\(agent?.stderr ?? "")")
        }
    }

    /// The state changes armsd logged, as "OLD -> NEW".
    var stateChanges: [String] {
        logLines.compactMap { line in line.range(of: "state changed: ").map { String(line[$0.upperBound...]) } }
    }

    func journal(_ role: ServerRole) -> [JournalEntry] { runtime.journal.entries { $0.role == role } }

    func stop() async { await runtime.stop() }
}
