import Glibc
import Testing
@testable import Agent

// File-system plumbing for the Runtime* suites, on Glibc only (no Foundation next to
// Agent, see TransportProcessTests.swift). Every wait is bounded.

struct RuntimeTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A fresh directory under /tmp, removed with everything in it when released.
final class ScratchDirectory {
    let path: String

    init(_ label: String = "runtime") throws {
        var template = Array("/tmp/agent-\(label)-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw RuntimeTestError("mkdtemp failed: \(errno)")
        }
        path = String(cString: made)
    }

    deinit { removeTree(path) }

    func file(_ name: String) -> String { path + "/" + name }

    /// Writes a file with `mode`.
    @discardableResult
    func write(_ name: String, _ text: String, mode: mode_t = 0o644) throws -> String {
        let target = file(name)
        let fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw RuntimeTestError("open \(target): \(errno)") }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw RuntimeTestError("write \(target)") }
        guard fchmod(fd, mode) == 0 else { throw RuntimeTestError("fchmod \(target)") }
        return target
    }

    /// A `#!/bin/sh` script with `body`, mode 0755.
    func script(_ name: String, _ body: String) throws -> String {
        try write(name, "#!/bin/sh\n" + body + "\n", mode: 0o755)
    }
}

/// Removes `path` and, for a directory, everything below it.
func removeTree(_ path: String) {
    var st = stat()
    guard lstat(path, &st) == 0 else { return }
    if (st.st_mode & mode_t(S_IFMT)) == mode_t(S_IFDIR) {
        for name in directoryEntries(path) { removeTree(path + "/" + name) }
        rmdir(path)
    } else {
        unlink(path)
    }
}

/// Names in a directory (without `.` and `..`), sorted; nil when it cannot be opened.
func directoryEntries(_ path: String) -> [String] {
    guard let dir = opendir(path) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}

func pathExists(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0
}

func isDirectoryPath(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0 && (st.st_mode & mode_t(S_IFMT)) == mode_t(S_IFDIR)
}

/// Permission bits of `path`.
func permissions(_ path: String) -> mode_t? {
    var st = stat()
    guard lstat(path, &st) == 0 else { return nil }
    return st.st_mode & 0o7777
}

func readText(_ path: String) -> String? {
    guard let bytes = try? AtomicFile.read(path) else { return nil }
    return String(decoding: bytes, as: UTF8.self)
}

func utf8Bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Waits (bounded) until `condition` holds, checking every 10 ms.
func eventually(within limit: Duration = .seconds(10), _ condition: () -> Bool) -> Bool {
    let end = ContinuousClock.now + limit
    while ContinuousClock.now < end {
        if condition() { return true }
        _ = poll(nil, 0, 10)
    }
    return condition()
}

extension Substring {
    /// Without leading and trailing blanks and line ends.
    func trimmingCharacters() -> String {
        var s = self
        while let c = s.first, c == " " || c == "\n" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\n" { s = s.dropLast() }
        return String(s)
    }
}
