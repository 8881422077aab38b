import Glibc

/// Reading and writing the state cache file (`path-state-cache`, agent.md §9.3) with
/// armsd's log lines.
public enum StateCacheFile {
    /// What loading found. Only `.loaded` lets the pull skip the LS (when its endpoint is
    /// set); every other case starts at the LS and is never fatal.
    public enum LoadResult: Equatable, Sendable {
        case loaded(StateCache)
        /// The file could not be opened (armsd: any `fopen` failure).
        case missing(SystemError)
        /// The file is not `StateCacheLayout.size` bytes long.
        case wrongSize(Int)
        /// Reading failed after opening.
        case readFailed(SystemError)
        /// Digest, version or a field is wrong.
        case invalid(StateCache.DecodeError)

        /// armsd's log line for this result (agent.md §9.3, §12.1); nil after a
        /// successful restore, which armsd does not log.
        public var logLine: (level: LogLevel, message: String)? {
            switch self {
            case .loaded: return nil
            case .missing: return (.info, "no state cache file - try LS-PULL")
            case .wrongSize: return (.warn, "size of state cache is not expected - ignore it")
            case .readFailed(let e): return (.warn, "fread() failed: \(e.reason)")
            case .invalid: return (.warn, "cannot restore state cache")
            }
        }

        public var cache: StateCache? {
            if case .loaded(let cache) = self { return cache }
            return nil
        }
    }

    /// Reads and decodes the cache at `path`.
    public static func load(path: String) -> LoadResult {
        let fd = retryingOnInterrupt { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { return .missing(SystemError("open", path: path, code: errno)) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return .readFailed(SystemError("fstat", path: path, code: errno)) }
        guard Int(st.st_size) == StateCacheLayout.size else { return .wrongSize(Int(st.st_size)) }
        var bytes = [UInt8](repeating: 0, count: StateCacheLayout.size)
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeMutableBytes { raw in
                retryingOnInterrupt { read(fd, raw.baseAddress! + offset, raw.count - offset) }
            }
            guard count > 0 else {
                return .readFailed(SystemError("read", path: path, code: count < 0 ? errno : EIO))
            }
            offset += count
        }
        do throws(StateCache.DecodeError) {
            return .loaded(try StateCache(decoding: bytes, digests: OpenSSLDigests()))
        } catch {
            return .invalid(error)
        }
    }

    /// Writes `cache` to `path` atomically with mode 0600 (agent.md §9.5, §14): a crash
    /// leaves the old file or the new one, never a torn cache.
    public static func save(_ cache: StateCache, path: String) throws(SystemError) {
        try AtomicFile.write(cache.encoded(digests: OpenSSLDigests()), to: path, mode: 0o600)
    }

    /// Saves and logs `state cache saved` (INFO) or
    /// `cannot save state cache (ignored): <reason>` (WARN). Returns whether it was saved.
    @discardableResult
    public static func save(_ cache: StateCache, path: String, logger: Logger) -> Bool {
        do {
            try save(cache, path: path)
            logger.info("state cache saved")
            return true
        } catch {
            logger.warn("cannot save state cache (ignored): \(error)")
            return false
        }
    }

    /// Loads and logs armsd's line for the result.
    public static func load(path: String, logger: Logger) -> LoadResult {
        let result = load(path: path)
        if let line = result.logLine { logger.log(line.level, line.message) }
        return result
    }
}
