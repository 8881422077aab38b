import Foundation

/// Where the package lives and where `swift test` put the built executables.
enum Repository {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A built executable (`armsd`, `warplink-mock`) from the debug build `swift test` made.
    static func executable(_ name: String) throws -> URL {
        let candidates = [".build/debug", ".build/x86_64-unknown-linux-gnu/debug", ".build/aarch64-unknown-linux-gnu/debug"]
        for c in candidates {
            let url = root.appendingPathComponent(c).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw HarnessError("executable \(name) not found under .build; run `swift build` first")
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes: a bounded wait, never a bare
/// sleep. It suspends instead of blocking, so waiting tests never starve the cooperative thread
/// pool that in-process servers and other tests run on.
@discardableResult
func waitUntil(_ what: String, timeout: Double = 20, _ condition: () throws -> Bool) async throws -> Double {
    let start = Date()
    while true {
        if try condition() { return Date().timeIntervalSince(start) }
        if Date().timeIntervalSince(start) > timeout {
            throw HarnessError("timed out after \(timeout) s waiting for \(what)")
        }
        try await Task.sleep(nanoseconds: 20_000_000)
    }
}

/// A fresh directory removed when the value is released.
final class TemporaryDirectory {
    let url: URL
    init(_ prefix: String = "warplink") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A child process whose output is captured as it comes.
final class RunningProcess: @unchecked Sendable {
    let process = Process()
    private let lock = NSLock()
    private var out = Data()
    private var err = Data()
    let name: String

    init(_ executable: URL, _ arguments: [String], environment: [String: String] = [:], directory: URL? = nil) throws {
        name = executable.lastPathComponent
        process.executableURL = executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        if let directory { process.currentDirectoryURL = directory }
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = FileHandle.nullDevice
        outPipe.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            guard let self, !d.isEmpty else { return }
            self.lock.withLock { self.out.append(d) }
        }
        errPipe.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            guard let self, !d.isEmpty else { return }
            self.lock.withLock { self.err.append(d) }
        }
        try process.run()
    }

    var stdout: String { lock.withLock { String(decoding: out, as: UTF8.self) } }
    var stderr: String { lock.withLock { String(decoding: err, as: UTF8.self) } }
    var stdoutLines: [String] { stdout.split(separator: "\n").map(String.init) }

    /// Waits for a stdout line containing `text`; returns that line.
    @discardableResult
    func waitForLine(containing text: String, timeout: Double = 20) async throws -> String {
        var found: String?
        do {
            try await waitUntil("\(name) to print \"\(text)\"", timeout: timeout) {
                found = stdoutLines.first { $0.contains(text) }
                return found != nil || !process.isRunning
            }
        } catch {
            throw HarnessError("\(error)\n--- \(name) stdout ---\n\(stdout)\n--- stderr ---\n\(stderr)")
        }
        guard let found else {
            throw HarnessError("\(name) exited (\(process.terminationStatus)) before printing \"\(text)\"\n--- stdout ---\n\(stdout)\n--- stderr ---\n\(stderr)")
        }
        return found
    }

    /// Sends a signal and waits for the exit; returns the status.
    @discardableResult
    func stop(signal: Int32 = SIGTERM, timeout: Double = 10) async throws -> Int32 {
        if process.isRunning { kill(process.processIdentifier, signal) }
        try await waitExit(timeout: timeout)
        return process.terminationStatus
    }

    @discardableResult
    func waitExit(timeout: Double = 20) async throws -> Int32 {
        do {
            try await waitUntil("\(name) to exit", timeout: timeout) { !process.isRunning }
        } catch {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw HarnessError("\(error)\n--- \(name) stdout ---\n\(stdout)\n--- stderr ---\n\(stderr)")
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

/// Writes an executable `#!/bin/sh` script.
func writeScript(_ path: String, _ body: String) throws {
    try ("#!/bin/sh\n" + body).write(toFile: path, atomically: true, encoding: .utf8)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
}
