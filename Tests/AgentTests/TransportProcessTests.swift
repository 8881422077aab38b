import Foundation
import Testing

// Process and thread plumbing for the Transport* suites. This file imports
// Foundation but not Agent: Foundation's bundled ICU and the system ICU that
// libxml2 (under ARMSProtocol) pulls in cannot meet in one file. Nothing here
// exposes Foundation types to the other files.

let transportCertsDirectory: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()  // Tests/AgentTests
    .deletingLastPathComponent()  // Tests
    .deletingLastPathComponent()  // repository root
    .appendingPathComponent("certs", isDirectory: true)

/// Contents of certs/<name>.
func certText(_ name: String) throws -> String {
    try String(contentsOf: transportCertsDirectory.appendingPathComponent(name), encoding: .utf8)
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
}

// MARK: - openssl s_server

/// `openssl s_server -rev` (echoes every line reversed) on a kernel-chosen port.
final class OpenSSLServer {
    let process = Process()
    let logURL: URL
    private(set) var port: UInt16 = 0
    let host: String

    /// - Parameters:
    ///   - certificate: base name in certs/ (`ls` → ls.pem + ls.key).
    ///   - host: `127.0.0.1` or `::1`.
    ///   - extra: further s_server options (e.g. `-verify 1 -CAfile root-ca.pem`).
    init(certificate: String, host: String = "127.0.0.1", extra: [String] = []) throws {
        self.host = host
        logURL = FileManager.default.temporaryDirectory
            .appendingPathComponent("transport-s_server-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        let accept = host.contains(":") ? "[\(host)]:0" : "\(host):0"
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.currentDirectoryURL = transportCertsDirectory
        process.arguments = ["s_server", "-accept", accept, "-cert", "\(certificate).pem",
                             "-key", "\(certificate).key", "-rev"] + extra
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try log.close()

        // Wait (bounded) for "ACCEPT <host>:<port>".
        let limit = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < limit {
            if let port = acceptedPort() {
                self.port = port
                return
            }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        stop()
        throw HarnessError(description: "s_server did not start: \(output)")
    }

    deinit { stop() }

    var output: String {
        (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
    }

    private func acceptedPort() -> UInt16? {
        for line in output.split(separator: "\n") where line.hasPrefix("ACCEPT ") {
            if let colon = line.lastIndex(of: ":"), let port = UInt16(line[line.index(after: colon)...]) {
                return port
            }
        }
        return nil
    }

    /// Polls the server's output (bounded) until it contains `text`.
    func waitForOutput(containing text: String, seconds: Int = 10) -> Bool {
        let limit = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < limit {
            if output.contains(text) { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return output.contains(text)
    }

    /// Kills the server. SIGKILL: a child started from a Swift concurrency
    /// thread inherits that thread's blocked signals, SIGTERM among them.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            let limit = ContinuousClock.now + .seconds(5)
            while process.isRunning, ContinuousClock.now < limit {
                Thread.sleep(forTimeInterval: 0.01)
            }
        }
        try? FileManager.default.removeItem(at: logURL)
    }
}

// MARK: - background thread and lock

/// Runs `body` on its own thread; `wait(seconds:)` is bounded.
final class BackgroundJob: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)

    init(_ body: @escaping @Sendable () -> Void) {
        let thread = Thread { [done] in
            body()
            done.signal()
        }
        thread.start()
    }

    /// True when the job finished within `seconds`.
    @discardableResult
    func wait(seconds: Int) -> Bool {
        done.wait(timeout: .now() + .seconds(seconds)) == .success
    }
}

/// A value guarded by a lock, shared between a test and a `BackgroundJob`.
final class LockedBox<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    init(_ value: Value) { stored = value }

    var value: Value {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); defer { lock.unlock() }; stored = newValue }
    }
}

@Suite(.blocksPoolThread) struct TransportProcessTests {
    @Test func certificatesAreFound() throws {
        #expect(try certText("root-ca.pem").hasPrefix("-----BEGIN CERTIFICATE-----"))
    }

    @Test func serverHarnessReportsItsPort() throws {
        let server = try OpenSSLServer(certificate: "ls")
        defer { server.stop() }
        #expect(server.port != 0)
    }
}
