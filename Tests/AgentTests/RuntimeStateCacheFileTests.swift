import Glibc
import Testing
@testable import Agent

@Suite struct RuntimeStateCacheFileTests {
    static func sample() throws -> StateCache {
        try StateCache(rsEndpoint: "https://192.0.2.10/arms.cgi", retryMax: 3, retryInterval: 60, llTimeout: 30,
                       lines: [.dhcp(ifindex: 0)], rsPresharedKey: "secret",
                       rsServers: [.init(url: "https://192.0.2.10/arms.cgi", caPEM: "PEM\n")])
    }

    @Test func saveAndLoad() throws {
        let dir = try ScratchDirectory("cache")
        let path = dir.file("state")
        let sink = MemoryLogSink()
        let logger = Logger(sinks: [sink])
        #expect(StateCacheFile.save(try Self.sample(), path: path, logger: logger))
        #expect(permissions(path) == 0o600)
        #expect(directoryEntries(dir.path) == ["state"])
        #expect(try AtomicFile.read(path) == (try Self.sample().encoded(digests: OpenSSLDigests())))
        let loaded = StateCacheFile.load(path: path, logger: logger)
        #expect(loaded == .loaded(try Self.sample()))
        #expect(loaded.cache?.allowsSkippingLS == true)
        #expect(sink.lines == ["INFO state cache saved"])
    }

    @Test func loadFailuresAndTheirLogLines() throws {
        let dir = try ScratchDirectory("cache")
        let path = dir.file("state")
        let sink = MemoryLogSink()
        let logger = Logger(sinks: [sink])

        #expect(StateCacheFile.load(path: path, logger: logger) == .missing(SystemError("open", path: path, code: ENOENT)))

        var bytes = try Self.sample().encoded(digests: OpenSSLDigests())
        try AtomicFile.write(bytes.dropLast(), to: path)
        #expect(StateCacheFile.load(path: path, logger: logger) == .wrongSize(29455))

        bytes[10] ^= 0xFF
        try AtomicFile.write(bytes, to: path)
        #expect(StateCacheFile.load(path: path, logger: logger) == .invalid(.badDigest))

        #expect(sink.lines == ["INFO no state cache file - try LS-PULL",
                               "WARN size of state cache is not expected - ignore it",
                               "WARN cannot restore state cache"])
    }

    @Test func saveFailureIsLoggedAndIgnored() throws {
        let dir = try ScratchDirectory("cache")
        let sink = MemoryLogSink()
        #expect(!StateCacheFile.save(try Self.sample(), path: dir.file("no/such/dir/state"), logger: Logger(sinks: [sink])))
        #expect(sink.lines.count == 1)
        #expect(sink.lines.first?.hasPrefix("WARN cannot save state cache (ignored): open(") == true)
        #expect(sink.lines.first?.hasSuffix("failed: No such file or directory") == true)
    }
}
