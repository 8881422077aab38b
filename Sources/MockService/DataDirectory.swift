import ARMSProtocol
import Foundation
import MockCore

/// The directory a running mock writes for agents and for the CLI (docs/control-api.md,
/// "Data directory"); `./warplink-data` unless `--data DIR` says otherwise.
///
/// ```
/// DIR/
/// ├── ca.pem            root CA the LS certificate chains to (armsd's path-root-ca)
/// ├── initial-config    Initial-Config naming the mock's LS URLs (armsd's path-iconfig)
/// ├── armsd.conf        armsd.conf for one SA; run `armsd -D -f DIR/armsd.conf -b DIR/work`
/// ├── scripts/          demo callback scripts armsd.conf names (start, reconfig, command, …)
/// ├── state/            armsd state caches, one file per distribution id
/// └── control.json      {"control": "http://127.0.0.1:PORT", "pid": N} for the CLI
/// ```
///
/// Every path written into the files is absolute, and the state cache and PID file sit
/// outside any `-b` working directory the agent is given (which it removes at exit). Every
/// file is written atomically (a temporary file in the same directory, then rename), with
/// mode 0600 for those that hold keys.
public struct DataDirectory: Sendable, Hashable {
    /// The default location, relative to the current directory.
    public static let defaultPath = "./warplink-data"

    /// Initial-Config retry interval: libarms pauses `× 20` s between LS rounds, so 20 s.
    public static let defaultRetryInterval = 1
    /// Initial-Config retry maximum: libarms makes `× 500 + 1` rounds, so 501.
    public static let defaultRetryMax = 1

    /// The directory, absolute and without a trailing slash.
    public let path: String

    /// `path` may be relative (to the current directory).
    public init(path: String = DataDirectory.defaultPath) {
        var p = path.isEmpty ? "." : path
        if !p.hasPrefix("/") { p = FileManager.default.currentDirectoryPath + "/" + p }
        self.path = Self.normalized(p)
    }

    /// Resolves `.` and `..` components and doubled slashes (without following links).
    private static func normalized(_ path: String) -> String {
        var parts: [Substring] = []
        for c in path.split(separator: "/", omittingEmptySubsequences: true) {
            if c == "." { continue }
            if c == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(c)
        }
        return "/" + parts.joined(separator: "/")
    }

    public var rootCAPath: String { path + "/ca.pem" }
    public var initialConfigPath: String { path + "/initial-config" }
    public var armsdConfPath: String { path + "/armsd.conf" }
    public var controlFilePath: String { path + "/control.json" }
    public var stateDirectoryPath: String { path + "/state" }
    public var scriptsDirectoryPath: String { path + "/scripts" }
    /// Where an agent for `id` keeps its state cache (`path-state-cache`).
    public func stateCachePath(for id: DistributionID) -> String { stateDirectoryPath + "/" + id.description }
    /// The PID file armsd writes when it daemonizes (`path-pid`).
    public var pidFilePath: String { path + "/armsd.pid" }
    /// A suggested `-b` working directory for an agent of `id` (not created here).
    public func workDirectoryPath(for id: DistributionID) -> String { path + "/work/" + id.description }

    // MARK: - Contents

    /// What `control.json` holds: where the control API listens and which process serves it.
    public struct ControlFile: Codable, Equatable, Sendable {
        /// `http://127.0.0.1:PORT`.
        public var control: String
        public var pid: Int32

        public init(control: String, pid: Int32) {
            self.control = control
            self.pid = pid
        }
    }

    /// What a running mock offers: the values the files point at.
    public struct Endpoints: Sendable, Hashable {
        /// The LS URLs for the Initial-Config (1 to 4, numeric hosts).
        public var lsURLs: [ARMSURL]
        /// The control API's base URL, `http://127.0.0.1:PORT`.
        public var control: String

        public init(lsURLs: [ARMSURL], control: String) {
            self.lsURLs = lsURLs
            self.control = control
        }
    }

    /// The Initial-Config for `lsURLs` with this directory's short retry values.
    public static func initialConfig(lsURLs: [ARMSURL], retryInterval: Int = defaultRetryInterval,
                                     retryMax: Int = defaultRetryMax) -> InitialConfig {
        InitialConfig(lsURLs: lsURLs.map(\.description), retryInterval: retryInterval, retryMax: retryMax)
    }

    /// The armsd.conf for `sa`: its id and LS key, this directory's Initial-Config, root CA,
    /// state cache and PID file; every other key at armsd's default.
    public func armsdConfiguration(for sa: SAProfile) -> ArmsdConfiguration {
        var c = ArmsdConfiguration()
        c.distributionID = sa.distributionID
        c.lsSAKey = sa.lsKey
        c.pathIConfig = initialConfigPath
        c.pathRootCA = rootCAPath
        c.pathStateCache = stateCachePath(for: sa.distributionID)
        c.pathPID = pidFilePath
        for (script, _) in DemoScripts.bodies {
            c.scripts[script] = scriptsDirectoryPath + "/" + DemoScripts.fileName(script)
        }
        return c
    }

    // MARK: - Writing

    /// Why the directory could not be prepared or read.
    public struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        public var path: String
        public var message: String

        public init(path: String, message: String) {
            self.path = path
            self.message = message
        }

        public var description: String { "\(path): \(message)" }
    }

    /// Creates the directory (and its parents) and `state/`, mode 0700 for new ones.
    public func create() throws(Failure) {
        for dir in [path, stateDirectoryPath] {
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw Failure(path: dir, message: "cannot create directory: \(Self.reason(error))")
            }
        }
    }

    /// Writes everything a running mock offers: `ca.pem`, `initial-config`, `control.json`
    /// (with this process's id) and, when `sa` is given, `armsd.conf` for it.
    public func prepare(endpoints: Endpoints, rootCAPEM: String, sa: SAProfile?,
                        retryInterval: Int = defaultRetryInterval, retryMax: Int = defaultRetryMax) throws(Failure) {
        try create()
        try writeRootCA(pem: rootCAPEM)
        try writeInitialConfig(lsURLs: endpoints.lsURLs, retryInterval: retryInterval, retryMax: retryMax)
        if let sa {
            try writeDemoScripts()
            try writeArmsdConf(for: sa)
        }
        try writeControlFile(ControlFile(control: endpoints.control, pid: getpid()))
    }

    /// Writes `ca.pem` (the text as given, with a final newline).
    public func writeRootCA(pem: String) throws(Failure) {
        guard pem.contains("-----BEGIN CERTIFICATE-----") else {
            throw Failure(path: rootCAPath, message: "the root CA text is not a PEM certificate")
        }
        try Self.writeAtomically(pem.hasSuffix("\n") ? pem : pem + "\n", to: rootCAPath, mode: 0o644)
    }

    /// Writes `initial-config`; returns what it wrote.
    @discardableResult
    public func writeInitialConfig(lsURLs: [ARMSURL], retryInterval: Int = defaultRetryInterval,
                                   retryMax: Int = defaultRetryMax) throws(Failure) -> InitialConfig {
        let config = Self.initialConfig(lsURLs: lsURLs, retryInterval: retryInterval, retryMax: retryMax)
        let text: String
        do { text = try config.encoded() } catch { throw Failure(path: initialConfigPath, message: error.description) }
        try Self.writeAtomically(text, to: initialConfigPath, mode: 0o644)
        return config
    }

    /// Writes `armsd.conf` for `sa` (mode 0600: it holds the LS key); returns what it wrote.
    @discardableResult
    public func writeArmsdConf(for sa: SAProfile) throws(Failure) -> ArmsdConfiguration {
        let config = armsdConfiguration(for: sa)
        let text: String
        do { text = try config.encoded() } catch { throw Failure(path: armsdConfPath, message: error.description) }
        let header = "# armsd.conf for \(sa.distributionID), written by warplink-mock.\n"
            + "# Run: armsd -D -f \(armsdConfPath) -b \(workDirectoryPath(for: sa.distributionID))\n"
        try Self.writeAtomically(header + text, to: armsdConfPath, mode: 0o600)
        return config
    }

    /// Writes the demo callback scripts into `scripts/` (mode 0755).
    public func writeDemoScripts() throws(Failure) {
        do {
            try FileManager.default.createDirectory(atPath: scriptsDirectoryPath, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw Failure(path: scriptsDirectoryPath, message: "cannot create directory: \(Self.reason(error))")
        }
        for (script, body) in DemoScripts.bodies {
            try Self.writeAtomically(DemoScripts.text(body), to: scriptsDirectoryPath + "/" + DemoScripts.fileName(script), mode: 0o755)
        }
    }

    /// Writes `control.json` (mode 0600).
    public func writeControlFile(_ file: ControlFile) throws(Failure) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do { data = try encoder.encode(file) } catch { throw Failure(path: controlFilePath, message: "\(error)") }
        try Self.writeAtomically(String(decoding: data, as: UTF8.self) + "\n", to: controlFilePath, mode: 0o600)
    }

    /// Reads `control.json`; nil when it does not exist.
    public func readControlFile() throws(Failure) -> ControlFile? {
        guard FileManager.default.fileExists(atPath: controlFilePath) else { return nil }
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: controlFilePath)) } catch {
            throw Failure(path: controlFilePath, message: "cannot read: \(Self.reason(error))")
        }
        guard data.count <= 4096 else { throw Failure(path: controlFilePath, message: "unexpectedly large (\(data.count) bytes)") }
        do { return try JSONDecoder().decode(ControlFile.self, from: data) } catch {
            throw Failure(path: controlFilePath, message: "not a control file: \(error)")
        }
    }

    /// Removes `control.json` if it names this process (a server calls this when it stops).
    public func removeControlFile() {
        guard let file = try? readControlFile(), file.pid == getpid() else { return }
        unlink(controlFilePath)
    }

    // MARK: - Atomic write

    /// Writes `text` to a temporary file next to `path`, flushes it, then renames it over `path`.
    public static func writeAtomically(_ text: String, to path: String, mode: mode_t) throws(Failure) {
        let dir = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let temp = dir + "/." + name + ".tmp." + String(getpid()) + "." + String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw Failure(path: path, message: "cannot create \(temp): \(errnoText())") }
        var ok = false
        defer {
            if !ok { unlink(temp) }
        }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                let message = errnoText()
                close(fd)
                throw Failure(path: path, message: "cannot write: \(message)")
            }
            written += n
        }
        // The mode given to open() is filtered by the umask; set it exactly.
        fchmod(fd, mode)
        if fsync(fd) != 0 {
            let message = errnoText()
            close(fd)
            throw Failure(path: path, message: "cannot flush: \(message)")
        }
        close(fd)
        guard rename(temp, path) == 0 else { throw Failure(path: path, message: "cannot rename \(temp): \(errnoText())") }
        ok = true
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }

    private static func reason(_ error: any Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return ns.localizedDescription
    }
}
