@testable import Agent
import ARMSProtocol
import Testing

/// The /proc parsers and the Linux collector of the heartbeat statistics (heartbeat.md §5).
@Suite struct HeartbeatProcParserTests {
    static let stat1 = """
        cpu  10132153 290696 3084719 46828483 16683 0 25195 0 0 0
        cpu0 1393280 32966 572056 13343292 6130 0 17875 0 0 0
        cpu1 1335003 29209 519290 13376217 3512 0 4089 0 0 0
        intr 199292 34 0 0
        ctxt 19250734
        btime 1700000000
        """
    // 100 ticks later: user +20, nice +5, system +10, idle +50, iowait +5, irq +2, softirq +3, steal +5.
    static let stat2 = """
        cpu  10132173 290701 3084729 46828533 16688 2 25198 5 0 0
        cpu0 1393290 32966 572060 13343320 6130 0 17876 0 0 0
        """

    @Test func procStatCPULines() throws {
        let s = ProcStat(parsing: Self.stat1)
        let cpu = try #require(s.aggregate)
        #expect(cpu == CPUTimes(user: 10132153, nice: 290696, system: 3084719, idle: 46828483, iowait: 16683, irq: 0, softirq: 25195, steal: 0))
        #expect(s.perCPU.keys.sorted() == [0, 1])
        #expect(s.perCPU[1]?.idle == 13376217)
        // Old kernels have only four numbers; garbage lines are skipped.
        let old = ProcStat(parsing: "cpu 1 2 3 4\ncpu7 x y z w\ncpuZ 1 2 3 4\n")
        #expect(old.aggregate == CPUTimes(user: 1, nice: 2, system: 3, idle: 4))
        #expect(old.perCPU.isEmpty)
        #expect(ProcStat(parsing: "").aggregate == nil)
        #expect(ProcStat(parsing: "cpu 1 2\n").aggregate == nil)
    }

    @Test func cpuDetailIsTheDeltaWithArmsdsMapping() throws {
        let a = try #require(ProcStat(parsing: Self.stat1).aggregate)
        let b = try #require(ProcStat(parsing: Self.stat2).aggregate)
        let d = try #require(b.detail(since: a, index: 0))
        // total delta 100: idle 50, interrupt 2+3, user 20+5, system 10, other 5+5.
        #expect(d == HeartbeatStatistic.CPUDetail(index: 0, idle: 50, interrupt: 5, user: 25, system: 10, other: 10))
        #expect(a.detail(since: a, index: 0) == nil)      // no time passed
        #expect(a.detail(since: b, index: 0) == nil)      // counters went backwards
    }

    @Test func meminfoGivesArmsdsUsedAndFree() throws {
        let text = """
            MemTotal:        8000000 kB
            MemFree:         1000000 kB
            MemAvailable:    5000000 kB
            Buffers:          200000 kB
            Cached:          2800000 kB
            SwapCached:            0 kB
            """
        let m = try #require(MemInfo(parsing: text))
        #expect(m == MemInfo(total: 8_192_000_000, free: 1_024_000_000, buffers: 204_800_000, cached: 2_867_200_000))
        #expect(m.usage() == .init(index: 0, used: 4_096_000_000, free: 4_096_000_000))
        #expect(MemInfo(parsing: "MemFree: 1 kB\n") == nil)
        #expect(MemInfo(total: 1, free: 2, buffers: 0, cached: 0).usage() == nil)
    }

    @Test func netDevCounters() {
        let text = """
            Inter-|   Receive                                                |  Transmit
             face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
                lo: 1234567    8901    0    0    0     0          0         0  1234567    8901    0    0    0     0       0          0
              eth0:98765432 123456    7    1    0     0          0        12 5432100   65432    3    0    0     0       0          0
            broken: 1 2 3
            """
        let c = NetDev.parse(text)
        #expect(c.keys.sorted() == ["eth0", "lo"])
        #expect(c["eth0"] == .init(index: 0, inOctets: 98_765_432, outOctets: 5_432_100, inPackets: 123_456, outPackets: 65_432,
                                   inErrors: 7, outErrors: 3))
        #expect(c["lo"]?.inOctets == 1_234_567)
    }

    @Test func parsersAreBounded() {
        let huge = String(repeating: "cpu 1 2 3 4 5 6 7 8\n", count: 100_000)   // 2 MB, 100k lines
        #expect(ProcStat(parsing: huge).aggregate == CPUTimes(user: 1, nice: 2, system: 3, idle: 4, iowait: 5, irq: 6, softirq: 7, steal: 8))
        let many = (0..<10_000).map { "if\($0): 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16" }.joined(separator: "\n")
        #expect(NetDev.parse(many).count <= ProcLimits.maxLines)
        #expect(NetDev.parse("eth0: 99999999999999999999999 1 2 3 4 5 6 7 8 9 10 11").isEmpty)   // overflow refused
    }

    /// A collector over canned /proc texts and disks.
    final class CannedSystem: @unchecked Sendable {
        var files: [String: String] = [:]
        func read(_ path: String) -> Result<String, SystemError> {
            files[path].map { .success($0) } ?? .failure(SystemError("open", path: path, code: 2))
        }
    }

    @Test func collectorFirstTickThenDeltas() throws {
        let sys = CannedSystem()
        sys.files["/proc/stat"] = Self.stat1
        sys.files["/proc/meminfo"] = "MemTotal: 100 kB\nMemFree: 40 kB\nBuffers: 0 kB\nCached: 10 kB\n"
        sys.files["/proc/net/dev"] = "eth0: 1000 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0\nwan0: 5 5 0 0 0 0 0 0 5 5 0 0 0 0 0 0\n"
        var conf = ArmsdConfiguration()
        conf.hbDiskUsage1 = "/missing"
        conf.hbTrafficIf1 = "wan0"
        conf.hbTrafficIf2 = ""
        let log = MemoryLogSink()
        let collector = HeartbeatCollector(configuration: conf, logger: Logger(sinks: [log], verbose: true),
                                           readFile: sys.read,
                                           readDisk: { path in
                                               path == "/" ? .success(.init(index: 0, used: 7, free: 9))
                                                   : .failure(SystemError("statvfs", path: path, code: 2))
                                           })
        let t0 = ContinuousClock.now
        let first = collector.collect(now: t0)
        // First tick: no CPU, no traffic; memory and the readable disk.
        #expect(first == [.memory(.init(index: 0, used: 51200, free: 51200)), .disk(.init(index: 0, used: 7, free: 9))])
        #expect(log.lines.contains("WARN statvfs(\"/missing\") failed: No such file or directory"))
        #expect(log.lines.contains("INFO heartbeat mem_usage: idx=0, used=51200, free=51200"))

        sys.files["/proc/stat"] = Self.stat2
        sys.files["/proc/net/dev"] = "eth0: 3000 30 1 0 0 0 0 0 2500 25 0 0 0 0 0 0\nwan0: 5 5 0 0 0 0 0 0 5 5 0 0 0 0 0 0\n"
        let second = collector.collect(now: t0 + .seconds(2))
        #expect(second.first == .cpuDetail(.init(index: 0, idle: 50, interrupt: 5, user: 25, system: 10, other: 10)))
        #expect(second.dropFirst().first == .cpuUsage(.init(index: 0, utilization: 50)))
        #expect(second.contains(.trafficRate(.init(index: 0, inOctets: 1000, outOctets: 250, inPackets: 10, outPackets: 2,
                                                   inErrors: 0, outErrors: 0))))
        #expect(second.contains(.trafficRate(.init(index: 1, inOctets: 0, outOctets: 0, inPackets: 0, outPackets: 0,
                                                   inErrors: 0, outErrors: 0))))
        #expect(log.lines.contains("INFO heartbeat cpu_detail_usage: idx=0, idle=50, interrupt=5, user=25, system=10, other=10"))
        #expect(log.lines.contains { $0.hasPrefix("INFO heartbeat traffic_rate: ifidx=0, in_octet=1000, out_octet=250") })

        // A counter that went down is read as a 64-bit wrap only when plausible, else skipped.
        sys.files["/proc/net/dev"] = "eth0: 10 30 1 0 0 0 0 0 2500 25 0 0 0 0 0 0\n"
        let third = collector.collect(now: t0 + .seconds(4))
        #expect(!third.contains { if case .trafficRate = $0 { return true } else { return false } })
    }

    @Test func dummyModeSendsSyntheticValuesThatFitOneDatagram() throws {
        var conf = ArmsdConfiguration()
        conf.hbDummy = 1
        let collector = HeartbeatCollector(configuration: conf, logger: Logger(sinks: []))
        let stats = collector.collect(now: .now)
        var builder = HeartbeatBuilder(distributionID: DistributionID("0001-0000-0000-0000-0000-0000-0000-0001")!)
        for s in stats { try builder.append(s) }
        let datagram = try HeartbeatDatagram(decoding: builder.sign(passphrase: "k", digests: OpenSSLDigests()))
        #expect(datagram.warnings.isEmpty)
        #expect(stats.contains { if case .radioWave = $0 { return true } else { return false } })
        #expect(stats.filter { if case .cpuUsage = $0 { return true } else { return false } }.count == 4)
    }

    @Test func theRealProcFilesParse() throws {
        let stat = try HeartbeatCollector.readProcFile("/proc/stat").get()
        let s = ProcStat(parsing: stat)
        #expect(s.aggregate != nil)
        #expect(!s.perCPU.isEmpty)
        let mem = try #require(MemInfo(parsing: try HeartbeatCollector.readProcFile("/proc/meminfo").get()))
        #expect(mem.total > 0)
        #expect(mem.usage() != nil)
        #expect(NetDev.parse(try HeartbeatCollector.readProcFile("/proc/net/dev").get())["lo"] != nil)
        let root = try HeartbeatCollector.diskUsage("/").get()
        #expect(root.used + root.free > 0)
    }
}
