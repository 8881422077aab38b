import ARMSProtocol
import Glibc

/// Where the heartbeat statistics come from, once per tick (what libarms' statistics
/// callback does). The sender calls it with the tick's time.
public protocol HeartbeatStatisticsSource: AnyObject {
    /// The statistics for this tick, in the order they go into the datagram.
    func collect(now: ContinuousClock.Instant) -> [HeartbeatStatistic]
}

/// armsd's Linux statistics collector (heartbeat.md §5, agent.md §3.2), honouring the
/// `hb-*` keys of armsd.conf:
///
/// * CPU detail and CPU usage (index 0, all CPUs) from the `cpu` line of /proc/stat, as the
///   change since the previous tick; none on the first tick.
/// * Memory (index 0) from /proc/meminfo: free = MemFree + Buffers + Cached, used = the rest.
/// * Disk index N for each `hb-disk-usageN` path (statvfs): used = (blocks − free) × fragment
///   size, free = blocks available to unprivileged users × fragment size.
/// * Traffic rate index N for each `hb-traffic-ifN` interface present in /proc/net/dev:
///   per-second change since the previous tick over whole monotonic seconds, with counter
///   wrap handled by ``HeartbeatStatistic/TrafficCounters/rates(from:to:elapsedSeconds:width:)``;
///   none on an interface's first tick. Missing interfaces are left out.
/// * With `hb-dummy` non-zero: synthetic values instead (4 CPUs, 2 memories, 2 disks,
///   3 interfaces with rates and counters, and the only radio-wave statistic).
///
/// A statistic that cannot be read is left out and logged as a warning; the others still
/// go out. With `-v` each value is logged as armsd does (`heartbeat mem_usage: idx=0, …`).
public final class HeartbeatCollector: HeartbeatStatisticsSource {
    /// Reads a whole /proc file; nil (after logging) when it cannot be read.
    public typealias FileReader = (String) -> Result<String, SystemError>
    /// statvfs of a path.
    public typealias DiskReader = (String) -> Result<HeartbeatStatistic.SpaceUsage, SystemError>

    public let disks: [(index: UInt16, path: String)]
    public let interfaces: [(index: UInt16, name: String)]
    public let dummy: Bool
    let logger: Logger
    let readFile: FileReader
    let readDisk: DiskReader
    private var previousCPU: CPUTimes?
    private var previousTraffic: [UInt16: (counters: HeartbeatStatistic.TrafficCounters, at: ContinuousClock.Instant)] = [:]
    private var dummyState: UInt64 = 0x9E37_79B9_7F4A_7C15
    private var dummyCounters: [HeartbeatStatistic.TrafficCounters] = (0..<3).map {
        .init(index: UInt16($0), inOctets: 0, outOctets: 0, inPackets: 0, outPackets: 0, inErrors: 0, outErrors: 0)
    }

    /// Counter width of /proc/net/dev on this machine (`unsigned long`).
    static let counterWidth: CounterWidth = MemoryLayout<UInt>.size == 8 ? .bits64 : .bits32

    public init(configuration: ArmsdConfiguration, logger: Logger,
                readFile: @escaping FileReader = HeartbeatCollector.readProcFile,
                readDisk: @escaping DiskReader = HeartbeatCollector.diskUsage) {
        var disks: [(UInt16, String)] = []
        for (n, path) in [configuration.hbDiskUsage0, configuration.hbDiskUsage1, configuration.hbDiskUsage2].enumerated() {
            if let path, !path.isEmpty { disks.append((UInt16(n), path)) }
        }
        var interfaces: [(UInt16, String)] = []
        for (n, name) in [configuration.hbTrafficIf0, configuration.hbTrafficIf1, configuration.hbTrafficIf2,
                          configuration.hbTrafficIf3].enumerated() {
            if let name, !name.isEmpty { interfaces.append((UInt16(n), name)) }
        }
        self.disks = disks
        self.interfaces = interfaces
        self.dummy = configuration.hbDummy != 0
        self.logger = logger
        self.readFile = readFile
        self.readDisk = readDisk
    }

    public func collect(now: ContinuousClock.Instant) -> [HeartbeatStatistic] {
        if dummy { return synthetic() }
        var out: [HeartbeatStatistic] = []
        out += cpu()
        if let memory = memory() { out.append(.memory(memory)) }
        out += disk()
        out += traffic(now: now)
        return out
    }

    // MARK: - Linux

    private func read(_ path: String) -> String? {
        switch readFile(path) {
        case .success(let text): return text
        case .failure(let error):
            logger.warn("cannot open \(path): \(error.reason)")
            return nil
        }
    }

    private func cpu() -> [HeartbeatStatistic] {
        guard let text = read("/proc/stat"), let current = ProcStat(parsing: text).aggregate, current.total > 0 else { return [] }
        defer { previousCPU = current }
        guard let previous = previousCPU, let d = current.detail(since: previous, index: 0) else { return [] }
        logger.verboseInfo("heartbeat cpu_detail_usage: idx=0, idle=\(d.idle), interrupt=\(d.interrupt), user=\(d.user), "
                           + "system=\(d.system), other=\(d.other)")
        return [.cpuDetail(d), .cpuUsage(.init(index: 0, utilization: 100 - min(d.idle, 100)))]
    }

    private func memory() -> HeartbeatStatistic.SpaceUsage? {
        guard let text = read("/proc/meminfo"), let usage = MemInfo(parsing: text)?.usage() else { return nil }
        logger.verboseInfo("heartbeat mem_usage: idx=0, used=\(usage.used), free=\(usage.free)")
        return usage
    }

    private func disk() -> [HeartbeatStatistic] {
        var out: [HeartbeatStatistic] = []
        for (index, path) in disks {
            switch readDisk(path) {
            case .success(var usage):
                usage.index = index
                logger.verboseInfo("heartbeat disk_usage: idx=\(index), path=\(path), used=\(usage.used), free=\(usage.free)")
                out.append(.disk(usage))
            case .failure(let error):
                logger.warn("statvfs(\"\(path)\") failed: \(error.reason)")
            }
        }
        return out
    }

    private func traffic(now: ContinuousClock.Instant) -> [HeartbeatStatistic] {
        guard !interfaces.isEmpty, let text = read("/proc/net/dev") else { return [] }
        let counters = NetDev.parse(text)
        var out: [HeartbeatStatistic] = []
        for (index, name) in interfaces {
            guard var current = counters[name] else { continue }
            current.index = index
            let previous = previousTraffic[index]
            previousTraffic[index] = (current, now)
            guard let previous else { continue }
            let elapsed = (now - previous.at).components.seconds
            guard elapsed > 0,
                  let r = HeartbeatStatistic.TrafficCounters.rates(from: previous.counters, to: current,
                                                                   elapsedSeconds: UInt64(elapsed), width: Self.counterWidth)
            else { continue }
            logger.verboseInfo("heartbeat traffic_rate: ifidx=\(index), in_octet=\(r.inOctets), out_octet=\(r.outOctets), "
                               + "in_packet=\(r.inPackets), out_packet=\(r.outPackets), in_error=\(r.inErrors), out_error=\(r.outErrors)")
            out.append(.trafficRate(r))
        }
        return out
    }

    // MARK: - hb-dummy

    private func random(_ bound: UInt64) -> UInt64 {
        // xorshift64*: plenty for synthetic numbers.
        dummyState ^= dummyState >> 12
        dummyState ^= dummyState << 25
        dummyState ^= dummyState >> 27
        return (dummyState &* 0x2545_F491_4F6C_DD1D) % max(bound, 1)
    }

    private func synthetic() -> [HeartbeatStatistic] {
        var out: [HeartbeatStatistic] = []
        for cpu in 0..<4 {
            let user = UInt8(random(60)), system = UInt8(random(20)), interrupt = UInt8(random(5)), other = UInt8(random(5))
            let idle = 100 - user - system - interrupt - other
            out.append(.cpuDetail(.init(index: UInt16(cpu), idle: idle, interrupt: interrupt, user: user, system: system, other: other)))
            out.append(.cpuUsage(.init(index: UInt16(cpu), utilization: 100 - idle)))
        }
        for n in 0..<2 {
            let total: UInt64 = 1 << 30
            let used = random(total)
            out.append(.memory(.init(index: UInt16(n), used: used, free: total - used)))
        }
        for n in 0..<2 {
            let total: UInt64 = 16 << 30
            let used = random(total)
            out.append(.disk(.init(index: UInt16(n), used: used, free: total - used)))
        }
        for n in 0..<3 {
            let rate = HeartbeatStatistic.TrafficCounters(index: UInt16(n), inOctets: random(1 << 20), outOctets: random(1 << 20),
                                                          inPackets: random(1000), outPackets: random(1000),
                                                          inErrors: random(3), outErrors: random(3))
            var c = dummyCounters[n]
            c.inOctets &+= rate.inOctets; c.outOctets &+= rate.outOctets
            c.inPackets &+= rate.inPackets; c.outPackets &+= rate.outPackets
            c.inErrors &+= rate.inErrors; c.outErrors &+= rate.outErrors
            dummyCounters[n] = c
            out.append(.trafficRate(rate))
            out.append(.trafficCount(c))
        }
        let low = UInt8(random(50)), high = low + UInt8(random(50))
        out.append(.radioWave(.init(index: 0, status: .running, maximum: high, minimum: low, average: (low + high) / 2)))
        return out
    }

    // MARK: - System access

    /// Reads a /proc file whole (they report size 0, so read to the end), at most 1 MiB.
    public static func readProcFile(_ path: String) -> Result<String, SystemError> {
        do {
            let bytes = try AtomicFile.read(path, maxBytes: ProcLimits.maxBytes)
            return .success(String(decoding: bytes, as: UTF8.self))
        } catch {
            return .failure(error)
        }
    }

    /// statvfs of `path` as a disk statistic (index 0).
    public static func diskUsage(_ path: String) -> Result<HeartbeatStatistic.SpaceUsage, SystemError> {
        var fs = statvfs()
        guard statvfs(path, &fs) == 0 else { return .failure(SystemError("statvfs", path: path, code: errno)) }
        let fragment = UInt64(fs.f_frsize)
        let usedBlocks = UInt64(fs.f_blocks) >= UInt64(fs.f_bfree) ? UInt64(fs.f_blocks) - UInt64(fs.f_bfree) : 0
        let (used, o1) = usedBlocks.multipliedReportingOverflow(by: fragment)
        let (free, o2) = UInt64(fs.f_bavail).multipliedReportingOverflow(by: fragment)
        return .success(.init(index: 0, used: o1 ? .max : used, free: o2 ? .max : free))
    }
}
