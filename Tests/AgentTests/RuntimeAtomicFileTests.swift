import Glibc
import Testing
@testable import Agent

@Suite struct RuntimeAtomicFileTests {
    @Test func writesWholeFileWithModeAndNoLeftovers() throws {
        let dir = try ScratchDirectory("atomic")
        let path = dir.file("state")
        try AtomicFile.write(utf8Bytes("first version"), to: path, mode: 0o600)
        #expect(readText(path) == "first version")
        #expect(permissions(path) == 0o600)
        try AtomicFile.write(utf8Bytes("second"), to: path, mode: 0o640)
        #expect(readText(path) == "second")
        #expect(permissions(path) == 0o640)
        try AtomicFile.write([UInt8](), to: path, mode: 0o600, durable: false)
        #expect(readText(path) == "")
        #expect(directoryEntries(dir.path) == ["state"])
    }

    @Test func modeIsExactDespiteUmask() throws {
        let dir = try ScratchDirectory("atomic")
        // 0o666 would become 0o644 under the usual umask; fchmod makes it exact.
        try AtomicFile.write(utf8Bytes("x"), to: dir.file("f"), mode: 0o666)
        #expect(permissions(dir.file("f")) == 0o666)
    }

    @Test func failedWriteLeavesTheOldFileAndNoTemporary() throws {
        let dir = try ScratchDirectory("atomic")
        // The target is a non-empty directory: the final rename fails.
        #expect(mkdir(dir.file("target"), 0o700) == 0)
        try dir.write("target/inside", "old")
        #expect(throws: SystemError.self) {
            try AtomicFile.write(utf8Bytes("new"), to: dir.file("target"), mode: 0o600)
        }
        #expect(directoryEntries(dir.path) == ["target"])
        #expect(readText(dir.file("target/inside")) == "old")
        // A missing directory fails at open.
        #expect(throws: SystemError.self) {
            try AtomicFile.write(utf8Bytes("new"), to: dir.file("nodir/file"), mode: 0o600)
        }
    }

    @Test func readersSeeOldOrNewNeverPartial() async throws {
        let dir = try ScratchDirectory("atomic")
        let path = dir.file("cache")
        let small = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        let large = [UInt8](repeating: UInt8(ascii: "b"), count: 200_000)
        try AtomicFile.write(small, to: path, mode: 0o600)
        // Each task reports (reads, bad reads).
        let counts = await withTaskGroup(of: (Int, Int).self) { group in
            group.addTask {
                for i in 0..<60 {
                    try? AtomicFile.write(i % 2 == 0 ? large : small, to: path, mode: 0o600, durable: i % 10 == 0)
                }
                return (0, 0)
            }
            group.addTask {
                var reads = 0, bad = 0
                for _ in 0..<300 {
                    guard let content = try? AtomicFile.read(path) else {
                        bad += 1
                        continue
                    }
                    reads += 1
                    if content != small && content != large { bad += 1 }
                }
                return (reads, bad)
            }
            var total = (0, 0)
            for await (reads, bad) in group { total = (total.0 + reads, total.1 + bad) }
            return total
        }
        #expect(counts.0 == 300)
        #expect(counts.1 == 0)
        #expect(directoryEntries(dir.path) == ["cache"])
    }

    @Test func copyStreamsWholeFiles() throws {
        let dir = try ScratchDirectory("atomic")
        let large = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try AtomicFile.write(large, to: dir.file("source"), mode: 0o644)
        try AtomicFile.write(utf8Bytes("old"), to: dir.file("target"), mode: 0o600)
        try AtomicFile.copy(from: dir.file("source"), to: dir.file("target"), mode: 0o600)
        #expect(try AtomicFile.read(dir.file("target")) == large)
        #expect(permissions(dir.file("target")) == 0o600)
        // A missing source leaves the target alone.
        #expect(throws: SystemError("open", path: dir.file("none"), code: ENOENT)) {
            try AtomicFile.copy(from: dir.file("none"), to: dir.file("target"))
        }
        #expect(try AtomicFile.read(dir.file("target")) == large)
        #expect(directoryEntries(dir.path) == ["source", "target"])
    }

    @Test func readLimit() throws {
        let dir = try ScratchDirectory("atomic")
        try dir.write("big", String(repeating: "x", count: 100))
        #expect(try AtomicFile.read(dir.file("big"), maxBytes: 100).count == 100)
        #expect(throws: SystemError("read", path: dir.file("big"), code: EFBIG)) {
            try AtomicFile.read(dir.file("big"), maxBytes: 99)
        }
        #expect(throws: SystemError("open", path: dir.file("none"), code: ENOENT)) {
            try AtomicFile.read(dir.file("none"))
        }
    }

    @Test func splitPaths() {
        #expect(AtomicFile.split("/var/cache/armsd/state") == ("/var/cache/armsd", "state"))
        #expect(AtomicFile.split("/state") == ("/", "state"))
        #expect(AtomicFile.split("state") == (".", "state"))
    }

    @Test func systemErrorText() {
        let error = SystemError("mkdir", path: "/tmp/armsd.1", code: EEXIST)
        #expect(error.description == "mkdir(\"/tmp/armsd.1\") failed: File exists")
        #expect(SystemError("pipe", code: EMFILE).description == "pipe() failed: Too many open files")
    }
}
