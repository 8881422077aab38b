import Glibc
import Synchronization

/// armsd's working directory (agent.md §13) and the per-module config life cycle of §6.
///
/// ```
/// <base>/                     /tmp/armsd.<pid>, or -b DIR
/// ├── running-config/<id>     config in effect
/// ├── backup-config/<id>      previous running config (rollback source)
/// ├── candidate-config/<id>   pushed, not yet committed
/// ├── startup-config/<id>     config as received at the last pull
/// └── tmp/<n>                 scratch files, n = 0, 1, 2, ... for the whole process
/// ```
///
/// Base and subdirectories are created with mode 0700 (armsd: 0755; agent.md §14).
/// The default base must not exist; an explicit `-b` base is created when missing (and
/// then removed by `cleanUp()`) or reused as it is (and left in place, its mode
/// untouched). Every store keeps an independent file per module; files are written
/// with mode 0600 and replaced by rename, never modified in place.
///
/// One instance serves the whole process; the temporary-file counter is shared by all
/// its users and safe to use from several threads. The life-cycle operations are not
/// synchronised with each other: call them from the one thread that runs the scripts.
public final class WorkingDirectory: Sendable {
    /// A per-module config store.
    public enum Store: String, Sendable, CaseIterable {
        case running = "running-config"
        case backup = "backup-config"
        case candidate = "candidate-config"
        case startup = "startup-config"
    }

    /// Why the working directory could not be set up.
    public enum SetupError: Error, Equatable, Sendable, CustomStringConvertible {
        /// The default base directory exists already (armsd's message).
        case alreadyExists(path: String)
        /// `getcwd` failed while making a relative `-b` path absolute.
        case currentDirectory(SystemError)
        /// A directory could not be created or is not a directory.
        case system(SystemError)

        public var description: String {
            switch self {
            case .alreadyExists(let p): return "base directory already exists: \(p)"
            case .currentDirectory(let e): return "cannot make -b path absolute: \(e)"
            case .system(let e): return e.description
            }
        }
    }

    /// Absolute path of the base directory.
    public let path: String
    /// Whether this process created the base directory (then `cleanUp()` removes it).
    public let createdBase: Bool
    /// Next `tmp/<n>` number.
    private let counter = Mutex<UInt64>(0)

    /// Subdirectory names, in armsd's creation order.
    public static let subdirectories = ["backup-config", "candidate-config", "running-config", "startup-config", "tmp"]

    /// `/tmp/armsd.<pid>`.
    public static func defaultPath(pid: Int32 = getpid()) -> String { "/tmp/armsd.\(pid)" }

    /// Sets up the tree.
    /// - Parameter explicitPath: the `-b` value (a relative path is taken relative to the
    ///   current directory); nil for `/tmp/armsd.<pid>`.
    public init(explicitPath: String? = nil) throws(SetupError) {
        var created = false
        if let explicitPath {
            let absolute: String
            if explicitPath.hasPrefix("/") {
                absolute = explicitPath
            } else {
                guard let cwd = Self.currentDirectory() else {
                    throw .currentDirectory(SystemError("getcwd", code: errno))
                }
                absolute = (cwd == "/" ? "" : cwd) + "/" + explicitPath
            }
            path = Self.trimmingTrailingSlashes(absolute)
            if mkdir(path, 0o700) == 0 {
                created = true
            } else if errno != EEXIST {
                throw .system(SystemError("mkdir", path: path, code: errno))
            } else if !Self.isDirectory(path) {
                throw .system(SystemError("mkdir", path: path, code: ENOTDIR))
            }
        } else {
            path = Self.defaultPath()
            var st = stat()
            if lstat(path, &st) == 0 { throw .alreadyExists(path: path) }
            guard mkdir(path, 0o700) == 0 else {
                if errno == EEXIST { throw .alreadyExists(path: path) }
                throw .system(SystemError("mkdir", path: path, code: errno))
            }
            created = true
        }
        createdBase = created
        do throws(SystemError) {
            if created { try Self.setMode(path) }
            for name in Self.subdirectories {
                let sub = path + "/" + name
                if mkdir(sub, 0o700) == 0 {
                    try Self.setMode(sub)
                } else if errno != EEXIST || !Self.isDirectory(sub) {
                    throw SystemError("mkdir", path: sub, code: errno == EEXIST ? ENOTDIR : errno)
                }
            }
        } catch {
            cleanUp()
            throw .system(error)
        }
    }

    // MARK: Paths

    /// `<base>/<store>/<id>`.
    public func path(of store: Store, module id: UInt32) -> String {
        "\(path)/\(store.rawValue)/\(id)"
    }

    /// `<base>/tmp`.
    public var temporaryDirectory: String { path + "/tmp" }

    /// Whether the module has a file in `store`.
    public func exists(_ store: Store, module id: UInt32) -> Bool {
        access(path(of: store, module: id), F_OK) == 0
    }

    /// The file of the module in `store`, nil when there is none.
    public func contents(of store: Store, module id: UInt32) throws(SystemError) -> [UInt8]? {
        do throws(SystemError) {
            return try AtomicFile.read(path(of: store, module: id))
        } catch where error.code == ENOENT {
            return nil
        }
    }

    // MARK: Temporary files

    /// Creates the next `tmp/<n>` exclusively with mode 0600 holding `contents` and
    /// returns its path. Numbers start at 0 and are never reused in this process; a
    /// number whose file already exists (left in a reused `-b` directory) is skipped.
    @discardableResult
    public func makeTemporaryFile(contents: some Collection<UInt8> = [UInt8]()) throws(SystemError) -> String {
        var attempts = 0
        while true {
            let n = counter.withLock { value -> UInt64 in
                defer { value += 1 }
                return value
            }
            let file = "\(temporaryDirectory)/\(n)"
            let fd = retryingOnInterrupt { open(file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
            if fd < 0 {
                let code = errno
                attempts += 1
                if code == EEXIST && attempts < 10_000 { continue }
                throw SystemError("open", path: file, code: code)
            }
            defer { close(fd) }
            do throws(SystemError) {
                guard fchmod(fd, 0o600) == 0 else { throw SystemError("fchmod", path: file, code: errno) }
                try AtomicFile.writeAll(fd, Array(contents), path: file)
            } catch {
                unlink(file)
                throw error
            }
            return file
        }
    }

    /// Removes a file made by `makeTemporaryFile` (missing files are fine).
    public func removeTemporaryFile(_ file: String) {
        unlink(file)
    }

    /// The number the next temporary file will get (for logs and tests).
    public var nextTemporaryNumber: UInt64 { counter.withLock { $0 } }

    // MARK: Config life cycle (agent.md §6)

    /// Pull delivered a module's config (after `start` ran on `temporaryFile`):
    /// running = backup = startup = received, candidate removed; the temporary file
    /// becomes the running config (it is moved, the other stores get copies).
    public func installPulledConfig(module id: UInt32, from temporaryFile: String) throws(SystemError) {
        try AtomicFile.copy(from: temporaryFile, to: path(of: .startup, module: id), mode: 0o600, durable: false)
        try AtomicFile.copy(from: temporaryFile, to: path(of: .backup, module: id), mode: 0o600, durable: false)
        guard chmod(temporaryFile, 0o600) == 0 else { throw SystemError("chmod", path: temporaryFile, code: errno) }
        try move(temporaryFile, to: path(of: .running, module: id))
        try remove(.candidate, module: id)
    }

    /// Pull delivered `contents` for a module: running = backup = startup = contents,
    /// candidate removed.
    public func installPulledConfig(module id: UInt32, contents: [UInt8]) throws(SystemError) {
        try write(contents, to: .startup, module: id)
        try write(contents, to: .backup, module: id)
        try write(contents, to: .running, module: id)
        try remove(.candidate, module: id)
    }

    /// A configure push stored a module's config: candidate = received.
    public func storeCandidate(module id: UInt32, contents: [UInt8]) throws(SystemError) {
        try write(contents, to: .candidate, module: id)
    }

    /// The same from a temporary file, which is moved there.
    public func storeCandidate(module id: UInt32, from temporaryFile: String) throws(SystemError) {
        guard chmod(temporaryFile, 0o600) == 0 else { throw SystemError("chmod", path: temporaryFile, code: errno) }
        try move(temporaryFile, to: path(of: .candidate, module: id))
    }

    /// Commit of one module (after its `reconfig` ran, whatever its result): backup = old
    /// running (if there was one; otherwise backup is left alone), running = candidate,
    /// candidate removed. Returns false (and changes nothing) when there is no candidate.
    @discardableResult
    public func commit(module id: UInt32) throws(SystemError) -> Bool {
        let candidate = path(of: .candidate, module: id)
        guard access(candidate, F_OK) == 0 else { return false }
        let running = path(of: .running, module: id)
        if access(running, F_OK) == 0 {
            try move(running, to: path(of: .backup, module: id))
        }
        try move(candidate, to: running)
        return true
    }

    /// Revert of one module: running = backup (backup kept). Without a backup (a module
    /// added by the failed push) running is removed. Returns whether a backup existed.
    @discardableResult
    public func revert(module id: UInt32) throws(SystemError) -> Bool {
        let backup = path(of: .backup, module: id)
        guard access(backup, F_OK) == 0 else {
            try remove(.running, module: id)
            return false
        }
        try AtomicFile.copy(from: backup, to: path(of: .running, module: id), mode: 0o600, durable: false)
        return true
    }

    /// Remove / stop: deletes the module's file in all four stores.
    public func removeModule(_ id: UInt32) throws(SystemError) {
        for store in Store.allCases { try remove(store, module: id) }
    }

    /// Deletes one store file (missing is fine).
    public func remove(_ store: Store, module id: UInt32) throws(SystemError) {
        let file = path(of: store, module: id)
        guard unlink(file) == 0 || errno == ENOENT else { throw SystemError("unlink", path: file, code: errno) }
    }

    /// Writes one store file atomically with mode 0600 (no fsync: the tree is scratch).
    public func write(_ contents: [UInt8], to store: Store, module id: UInt32) throws(SystemError) {
        try AtomicFile.write(contents, to: path(of: store, module: id), mode: 0o600, durable: false)
    }

    private func move(_ from: String, to: String) throws(SystemError) {
        guard rename(from, to) == 0 else { throw SystemError("rename", path: from, code: errno) }
    }

    // MARK: Exit

    /// Exit clean-up: deletes every file in the five subdirectories and the
    /// subdirectories, then the base directory when this process created it (a reused
    /// `-b` directory stays, with anything else it contains). Best effort; returns the
    /// failures.
    @discardableResult
    public func cleanUp() -> [SystemError] {
        var failures: [SystemError] = []
        for name in Self.subdirectories {
            let sub = path + "/" + name
            guard let dir = opendir(sub) else {
                if errno != ENOENT { failures.append(SystemError("opendir", path: sub, code: errno)) }
                continue
            }
            var names: [String] = []
            while let entry = readdir(dir) {
                let entryName = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if entryName != "." && entryName != ".." { names.append(entryName) }
            }
            closedir(dir)
            for entryName in names {
                let file = sub + "/" + entryName
                if unlink(file) != 0 && errno != ENOENT {
                    failures.append(SystemError("unlink", path: file, code: errno))
                }
            }
            if rmdir(sub) != 0 && errno != ENOENT { failures.append(SystemError("rmdir", path: sub, code: errno)) }
        }
        if createdBase && rmdir(path) != 0 && errno != ENOENT {
            failures.append(SystemError("rmdir", path: path, code: errno))
        }
        return failures
    }

    // MARK: Helpers

    private static func setMode(_ directory: String) throws(SystemError) {
        guard chmod(directory, 0o700) == 0 else { throw SystemError("chmod", path: directory, code: errno) }
    }

    private static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & mode_t(S_IFMT)) == mode_t(S_IFDIR)
    }

    private static func currentDirectory() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return nil }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    private static func trimmingTrailingSlashes(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        return String(p)
    }
}
