import Glibc
import Synchronization

/// Whole-file reads and crash-safe writes, without Foundation.
public enum AtomicFile {
    /// Distinguishes temporary files of concurrent writers in one process.
    private static let sequence = Atomic<Int>(0)

    /// Replaces `path` with `bytes` so that a reader (or a crash at any moment) sees either
    /// the old file or the complete new one, never a partial one: the data goes to a new
    /// temporary file in the same directory (`.<name>.<pid>.<n>.tmp`, created exclusively
    /// with `mode`), which is written in full, `fchmod`ed to `mode` (the umask does not
    /// apply), `fsync`ed and then `rename`d over `path`; finally the directory is
    /// `fsync`ed so the rename itself is durable. On failure the temporary file is
    /// removed and `path` is left as it was.
    ///
    /// - Parameter durable: false skips both `fsync` calls (for scratch files on tmpfs;
    ///   the rename is still atomic).
    public static func write(_ bytes: some Collection<UInt8>, to path: String, mode: mode_t = 0o600,
                             durable: Bool = true) throws(SystemError) {
        let data = Array(bytes)
        try replace(path, mode: mode, durable: durable) { fd, temporary throws(SystemError) in
            try writeAll(fd, data, path: temporary)
        }
    }

    /// Replaces `to` with a copy of the file `from`, with the guarantees of `write`; the
    /// data is streamed in 64 KiB pieces, never held whole in memory.
    public static func copy(from source: String, to path: String, mode: mode_t = 0o600,
                            durable: Bool = true) throws(SystemError) {
        let input = retryingOnInterrupt { open(source, O_RDONLY | O_CLOEXEC) }
        guard input >= 0 else { throw SystemError("open", path: source, code: errno) }
        defer { close(input) }
        try replace(path, mode: mode, durable: durable) { fd, temporary throws(SystemError) in
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = chunk.withUnsafeMutableBytes { buffer in
                    retryingOnInterrupt { Glibc.read(input, buffer.baseAddress, buffer.count) }
                }
                guard count >= 0 else { throw SystemError("read", path: source, code: errno) }
                if count == 0 { return }
                try writeAll(fd, Array(chunk[..<count]), path: temporary)
            }
        }
    }

    /// The common part of `write` and `copy`: `fill` writes the new content to the
    /// temporary file's descriptor.
    private static func replace(_ path: String, mode: mode_t, durable: Bool,
                                fill: (Int32, String) throws(SystemError) -> Void) throws(SystemError) {
        let (directory, name) = split(path)
        var fd: Int32 = -1
        var temporary = ""
        for _ in 0..<100 {
            let n = sequence.wrappingAdd(1, ordering: .relaxed).oldValue
            temporary = (directory == "/" ? "" : directory) + "/.\(name).\(getpid()).\(n).tmp"
            fd = retryingOnInterrupt { open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode) }
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else { throw SystemError("open", path: temporary, code: errno) }
        var renamed = false
        defer {
            if fd >= 0 { close(fd) }
            if !renamed { unlink(temporary) }
        }
        guard fchmod(fd, mode) == 0 else { throw SystemError("fchmod", path: temporary, code: errno) }
        try fill(fd, temporary)
        if durable {
            guard retryingOnInterrupt({ fsync(fd) }) == 0 else { throw SystemError("fsync", path: temporary, code: errno) }
        }
        let closed = close(fd)
        fd = -1
        guard closed == 0 else { throw SystemError("close", path: temporary, code: errno) }
        guard rename(temporary, path) == 0 else { throw SystemError("rename", path: path, code: errno) }
        renamed = true
        if durable { syncDirectory(directory) }
    }

    /// The whole content of `path`; fails with EFBIG when it exceeds `maxBytes`.
    public static func read(_ path: String, maxBytes: Int = 16 << 20) throws(SystemError) -> [UInt8] {
        let fd = retryingOnInterrupt { open(path, O_RDONLY | O_CLOEXEC) }
        guard fd >= 0 else { throw SystemError("open", path: path, code: errno) }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { buffer in
                retryingOnInterrupt { Glibc.read(fd, buffer.baseAddress, buffer.count) }
            }
            guard count >= 0 else { throw SystemError("read", path: path, code: errno) }
            if count == 0 { return result }
            guard result.count + count <= maxBytes else { throw SystemError("read", path: path, code: EFBIG) }
            result += chunk[..<count]
        }
    }

    /// Writes all of `bytes` to `fd` (retrying short writes and EINTR).
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                retryingOnInterrupt { Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset) }
            }
            guard written > 0 else { throw SystemError("write", path: path, code: written < 0 ? errno : EIO) }
            offset += written
        }
    }

    /// Directory and last component of `path` (`"."` for a bare name).
    static func split(_ path: String) -> (directory: String, name: String) {
        let bytes = Array(path.utf8)
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return (".", path) }
        let directory = slash == 0 ? "/" : String(decoding: bytes[..<slash], as: UTF8.self)
        return (directory, String(decoding: bytes[(slash + 1)...], as: UTF8.self))
    }

    /// Best effort: makes a rename in `directory` durable.
    private static func syncDirectory(_ directory: String) {
        let fd = retryingOnInterrupt { open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
        guard fd >= 0 else { return }
        _ = retryingOnInterrupt { fsync(fd) }
        close(fd)
    }
}
