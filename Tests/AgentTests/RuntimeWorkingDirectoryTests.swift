import Glibc
import Testing
@testable import Agent

/// Every `<store>/<id>` file of the tree with its content, e.g. `running-config/2=v1`.
private func snapshot(_ w: WorkingDirectory) -> [String] {
    var result: [String] = []
    for store in WorkingDirectory.Store.allCases {
        for name in directoryEntries(w.path + "/" + store.rawValue) {
            result.append("\(store.rawValue)/\(name)=\(readText(w.path + "/" + store.rawValue + "/" + name) ?? "?")")
        }
    }
    return result.sorted()
}

@Suite struct RuntimeWorkingDirectoryTests {
    /// A working directory at a new path below a scratch directory (created by the agent).
    static func fresh(_ scratch: ScratchDirectory) throws -> WorkingDirectory {
        try WorkingDirectory(explicitPath: scratch.file("base"))
    }

    @Test func treeAndModes() throws {
        let scratch = try ScratchDirectory("wd")
        let w = try Self.fresh(scratch)
        #expect(w.path == scratch.file("base"))
        #expect(w.createdBase)
        #expect(directoryEntries(w.path) == ["backup-config", "candidate-config", "running-config",
                                             "startup-config", "tmp"])
        #expect(permissions(w.path) == 0o700)
        for name in WorkingDirectory.subdirectories {
            #expect(permissions(w.path + "/" + name) == 0o700, "\(name)")
        }
        #expect(w.path(of: .candidate, module: 7) == scratch.file("base") + "/candidate-config/7")
        #expect(w.path(of: .running, module: 4_294_967_295) == scratch.file("base") + "/running-config/4294967295")
    }

    @Test func temporaryFilesCountFromZeroWithMode0600() throws {
        let scratch = try ScratchDirectory("wd")
        let w = try Self.fresh(scratch)
        #expect(w.nextTemporaryNumber == 0)
        let first = try w.makeTemporaryFile(contents: utf8Bytes("config"))
        let second = try w.makeTemporaryFile()
        #expect(first == w.path + "/tmp/0")
        #expect(second == w.path + "/tmp/1")
        #expect(readText(first) == "config")
        #expect(readText(second) == "")
        #expect(permissions(first) == 0o600)
        #expect(permissions(second) == 0o600)
        // Never reused, even after removal.
        w.removeTemporaryFile(first)
        #expect(!pathExists(first))
        #expect(try w.makeTemporaryFile() == w.path + "/tmp/2")
        #expect(w.nextTemporaryNumber == 3)
    }

    @Test func temporaryCounterIsSharedAcrossThreads() async throws {
        let scratch = try ScratchDirectory("wd")
        let w = try Self.fresh(scratch)
        let paths = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<4 {
                group.addTask { try (0..<25).map { _ in try w.makeTemporaryFile() } }
            }
            var all: [String] = []
            for try await chunk in group { all += chunk }
            return all
        }
        #expect(Set(paths).count == 100)
        #expect(directoryEntries(w.temporaryDirectory).count == 100)
        #expect(Set(directoryEntries(w.temporaryDirectory)) == Set((0..<100).map(String.init)))
    }

    @Test func existingTemporaryNumberIsSkipped() throws {
        let scratch = try ScratchDirectory("wd")
        let base = scratch.file("base")
        let w1 = try WorkingDirectory(explicitPath: base)
        try w1.makeTemporaryFile(contents: utf8Bytes("left over"))
        // A second process reusing the directory (tmp/0 exists).
        let w2 = try WorkingDirectory(explicitPath: base)
        #expect(!w2.createdBase)
        #expect(try w2.makeTemporaryFile() == base + "/tmp/1")
        #expect(readText(base + "/tmp/0") == "left over")
    }

    @Test func pullInstallsRunningBackupStartup() throws {
        let scratch = try ScratchDirectory("wd")
        let w = try Self.fresh(scratch)
        try w.storeCandidate(module: 2, contents: utf8Bytes("stale candidate"))
        let received = try w.makeTemporaryFile(contents: utf8Bytes("pulled"))
        try w.installPulledConfig(module: 2, from: received)
        #expect(snapshot(w) == ["backup-config/2=pulled", "running-config/2=pulled", "startup-config/2=pulled"])
        #expect(!pathExists(received))
        #expect(directoryEntries(w.temporaryDirectory) == [])
        for store in [WorkingDirectory.Store.running, .backup, .startup] {
            #expect(permissions(w.path(of: store, module: 2)) == 0o600)
        }
        // Independent snapshots: changing one store leaves the others.
        try w.write(utf8Bytes("edited"), to: .running, module: 2)
        #expect(snapshot(w) == ["backup-config/2=pulled", "running-config/2=edited", "startup-config/2=pulled"])
    }

    @Test func pushCommitRevertRemove() throws {
        let scratch = try ScratchDirectory("wd")
        let w = try Self.fresh(scratch)
        try w.installPulledConfig(module: 0, contents: utf8Bytes("v1"))

        // push stores candidate only
        try w.storeCandidate(module: 0, contents: utf8Bytes("v2"))
        #expect(snapshot(w) == ["backup-config/0=v1", "candidate-config/0=v2", "running-config/0=v1",
                                "startup-config/0=v1"])
        #expect(permissions(w.path(of: .candidate, module: 0)) == 0o600)

        // commit: backup = old running, running = candidate, candidate removed
        #expect(try w.commit(module: 0))
        #expect(snapshot(w) == ["backup-config/0=v1", "running-config/0=v2", "startup-config/0=v1"])

        // a second commit cycle moves v2 into backup
        try w.storeCandidate(module: 0, contents: utf8Bytes("v3"))
        #expect(try w.commit(module: 0))
        #expect(snapshot(w) == ["backup-config/0=v2", "running-config/0=v3", "startup-config/0=v1"])

        // commit without candidate changes nothing
        #expect(try !w.commit(module: 0))
        #expect(snapshot(w) == ["backup-config/0=v2", "running-config/0=v3", "startup-config/0=v1"])

        // revert: running = backup (backup kept)
        #expect(try w.revert(module: 0))
        #expect(snapshot(w) == ["backup-config/0=v2", "running-config/0=v2", "startup-config/0=v1"])

        // remove: all four gone
        try w.storeCandidate(module: 0, contents: utf8Bytes("v4"))
        try w.removeModule(0)
        #expect(snapshot(w) == [])
        try w.removeModule(0)  // unknown module: fine
    }

    @Test func moduleAddedByPushHasNoBackup() throws {
        let scratch = try ScratchDirectory("wd")
        let w = try Self.fresh(scratch)
        try w.installPulledConfig(module: 1, contents: utf8Bytes("one"))
        let temporary = try w.makeTemporaryFile(contents: utf8Bytes("new module"))
        try w.storeCandidate(module: 5, from: temporary)
        #expect(!pathExists(temporary))
        #expect(try w.commit(module: 5))
        #expect(snapshot(w) == ["backup-config/1=one", "running-config/1=one", "running-config/5=new module",
                                "startup-config/1=one"])
        // reverting it removes its running config
        #expect(try !w.revert(module: 5))
        #expect(snapshot(w) == ["backup-config/1=one", "running-config/1=one", "startup-config/1=one"])
        #expect(try w.contents(of: .running, module: 5) == nil)
        #expect(try w.contents(of: .running, module: 1) == utf8Bytes("one"))
        #expect(w.exists(.backup, module: 1) && !w.exists(.candidate, module: 1))
    }

    @Test func cleanUpRemovesWhatItCreated() throws {
        let scratch = try ScratchDirectory("wd")
        let w = try Self.fresh(scratch)
        try w.installPulledConfig(module: 3, contents: utf8Bytes("x"))
        try w.storeCandidate(module: 3, contents: utf8Bytes("y"))
        try w.makeTemporaryFile(contents: utf8Bytes("scratch"))
        try w.makeTemporaryFile()
        #expect(w.cleanUp() == [])
        #expect(!pathExists(w.path))
        #expect(directoryEntries(scratch.path) == [])
    }

    @Test func reusedExplicitDirectoryIsLeftInPlace() throws {
        let scratch = try ScratchDirectory("wd")
        let base = scratch.file("existing")
        #expect(mkdir(base, 0o750) == 0)
        try scratch.write("existing/keep.txt", "operator file")
        let w = try WorkingDirectory(explicitPath: base)
        #expect(!w.createdBase)
        #expect(permissions(base) == 0o750)  // not the agent's to change
        try w.installPulledConfig(module: 0, contents: utf8Bytes("cfg"))
        try w.makeTemporaryFile()
        #expect(w.cleanUp() == [])
        #expect(isDirectoryPath(base))
        #expect(directoryEntries(base) == ["keep.txt"])
    }

    @Test func relativeExplicitPathIsMadeAbsolute() throws {
        let scratch = try ScratchDirectory("wd")
        var cwd = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        #expect(getcwd(&cwd, cwd.count) != nil)
        let current = cwd.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        // A path relative to the current directory that lands in the scratch directory.
        let ups = current.split(separator: "/").map { _ in ".." }.joined(separator: "/")
        let relative = (ups.isEmpty ? "." : ups) + scratch.path + "/rel/"
        let w = try WorkingDirectory(explicitPath: relative)
        #expect(w.path.hasPrefix("/"))
        #expect(!w.path.hasSuffix("/"))
        #expect(isDirectoryPath(scratch.path + "/rel/running-config"))
        w.cleanUp()
        #expect(!pathExists(scratch.path + "/rel"))
    }

    @Test func defaultPathMustNotExist() throws {
        let expected = "/tmp/armsd.\(getpid())"
        #expect(WorkingDirectory.defaultPath() == expected)
        #expect(WorkingDirectory.defaultPath(pid: 1025) == "/tmp/armsd.1025")
        removeTree(expected)
        defer { removeTree(expected) }

        let w = try WorkingDirectory()
        #expect(w.path == expected && w.createdBase)
        #expect(permissions(expected) == 0o700)
        // A second instance in the same process finds it.
        #expect(throws: WorkingDirectory.SetupError.alreadyExists(path: expected)) { try WorkingDirectory() }
        #expect(WorkingDirectory.SetupError.alreadyExists(path: expected).description
                == "base directory already exists: \(expected)")
        #expect(w.cleanUp() == [])
        #expect(!pathExists(expected))
    }

    @Test func explicitPathThatIsAFileFails() throws {
        let scratch = try ScratchDirectory("wd")
        let file = try scratch.write("plain", "not a directory")
        #expect(throws: WorkingDirectory.SetupError.system(SystemError("mkdir", path: file, code: ENOTDIR))) {
            try WorkingDirectory(explicitPath: file)
        }
    }
}
