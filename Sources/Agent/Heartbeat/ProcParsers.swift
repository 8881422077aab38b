import ARMSProtocol

// Pure parsers for the Linux files armsd's heartbeat collector reads (heartbeat.md §5):
// /proc/stat, /proc/meminfo and /proc/net/dev. Each takes the file's text, reads at most
// `maxBytes` of it and at most `maxLines` lines, and skips lines it cannot read instead of
// failing (a statistic that cannot be read is left out, never the whole heartbeat).

/// Limits shared by the /proc parsers.
public enum ProcLimits {
    /// Longest text looked at (a /proc/stat of a 1024-CPU machine is about 150 KiB).
    public static let maxBytes = 1 << 20
    /// Most lines looked at.
    public static let maxLines = 8192
    /// Most numbers read from one line.
    public static let maxFields = 32
}

/// The split lines of `text` (bounded), each as its whitespace-separated words.
func procLines(_ text: some StringProtocol) -> [[Substring]] {
    let whole = String(text)
    let bounded = whole.utf8.count > ProcLimits.maxBytes
        ? String(decoding: Array(whole.utf8.prefix(ProcLimits.maxBytes)), as: UTF8.self) : whole
    var out: [[Substring]] = []
    for line in bounded.split(separator: "\n", omittingEmptySubsequences: true).prefix(ProcLimits.maxLines) {
        out.append(Array(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).prefix(ProcLimits.maxFields + 1)))
    }
    return out
}

/// Plain decimal digits as an unsigned 64-bit number; nil otherwise (or on overflow).
func procNumber(_ word: Substring) -> UInt64? {
    guard !word.isEmpty, word.utf8.count <= 20 else { return nil }
    return UInt64(word)
}

/// Cumulative CPU time of one `cpu` line of /proc/stat, in clock ticks (USER_HZ).
/// Fields x0…x7: user, nice, system, idle, iowait, irq, softirq, steal; absent ones are 0.
public struct CPUTimes: Hashable, Sendable {
    public var user: UInt64
    public var nice: UInt64
    public var system: UInt64
    public var idle: UInt64
    public var iowait: UInt64
    public var irq: UInt64
    public var softirq: UInt64
    public var steal: UInt64

    public init(user: UInt64 = 0, nice: UInt64 = 0, system: UInt64 = 0, idle: UInt64 = 0, iowait: UInt64 = 0,
                irq: UInt64 = 0, softirq: UInt64 = 0, steal: UInt64 = 0) {
        self.user = user
        self.nice = nice
        self.system = system
        self.idle = idle
        self.iowait = iowait
        self.irq = irq
        self.softirq = softirq
        self.steal = steal
    }

    /// Sum of the eight fields (what armsd divides by); saturates instead of overflowing.
    public var total: UInt64 {
        [user, nice, system, idle, iowait, irq, softirq, steal].reduce(0) { $0.addingReportingOverflow($1).overflow ? .max : $0 + $1 }
    }

    /// The CPU-detail statistic for the time between `previous` and `self`, armsd's Linux
    /// mapping: idle = x3, interrupt = x5 + x6, user = x0 + x1, system = x2, other = x4 + x7,
    /// each as delta × 100 / total delta, truncated. nil when no time passed or a counter
    /// went backwards (a CPU came back online, a counter was reset).
    public func detail(since previous: CPUTimes, index: UInt16) -> HeartbeatStatistic.CPUDetail? {
        let pairs: [(UInt64, UInt64)] = [(user, previous.user), (nice, previous.nice), (system, previous.system), (idle, previous.idle),
                                         (iowait, previous.iowait), (irq, previous.irq), (softirq, previous.softirq),
                                         (steal, previous.steal)]
        guard pairs.allSatisfy({ $0.0 >= $0.1 }) else { return nil }
        let d = pairs.map { $0.0 - $0.1 }
        let totalDelta = d.reduce(0, +)
        guard totalDelta > 0 else { return nil }
        func percent(_ part: UInt64) -> UInt8 {
            // part ≤ totalDelta, so part × 100 / totalDelta ≤ 100; multiply in 128 bits' worth of care.
            let (product, overflow) = part.multipliedReportingOverflow(by: 100)
            let value = overflow ? part / (totalDelta / 100 == 0 ? 1 : totalDelta / 100) : product / totalDelta
            return UInt8(min(value, 100))
        }
        return HeartbeatStatistic.CPUDetail(index: index, idle: percent(d[3]), interrupt: percent(d[5] + d[6]),
                                            user: percent(d[0] + d[1]), system: percent(d[2]), other: percent(d[4] + d[7]))
    }
}

/// /proc/stat: the aggregate `cpu` line and the per-CPU `cpuN` lines.
public struct ProcStat: Hashable, Sendable {
    /// The `cpu` line (all CPUs together); nil if missing or unreadable.
    public var aggregate: CPUTimes?
    /// `cpuN` lines by N (at most `maxCPUs`).
    public var perCPU: [Int: CPUTimes]

    /// Most per-CPU lines kept.
    public static let maxCPUs = 4096

    public init(aggregate: CPUTimes? = nil, perCPU: [Int: CPUTimes] = [:]) {
        self.aggregate = aggregate
        self.perCPU = perCPU
    }

    /// Reads the `cpu` lines of /proc/stat's text. A line needs at least four numbers
    /// (user, nice, system, idle), like armsd's `sscanf(...) >= 5`.
    public init(parsing text: some StringProtocol) {
        var aggregate: CPUTimes?
        var perCPU: [Int: CPUTimes] = [:]
        for words in procLines(text) {
            guard let name = words.first, name.hasPrefix("cpu") else { continue }
            let numbers = words.dropFirst().prefix(8).map(procNumber)
            guard numbers.count >= 4, numbers.allSatisfy({ $0 != nil }) else { continue }
            var x = numbers.map { $0! }
            while x.count < 8 { x.append(0) }
            let times = CPUTimes(user: x[0], nice: x[1], system: x[2], idle: x[3], iowait: x[4], irq: x[5], softirq: x[6], steal: x[7])
            if name == "cpu" {
                if aggregate == nil { aggregate = times }
            } else if let n = Int(name.dropFirst(3)), n >= 0, perCPU.count < Self.maxCPUs {
                perCPU[n] = times
            }
        }
        self.aggregate = aggregate
        self.perCPU = perCPU
    }
}

/// /proc/meminfo: the four values armsd uses, in bytes.
public struct MemInfo: Hashable, Sendable {
    public var total: UInt64
    public var free: UInt64
    public var buffers: UInt64
    public var cached: UInt64

    public init(total: UInt64, free: UInt64, buffers: UInt64, cached: UInt64) {
        self.total = total
        self.free = free
        self.buffers = buffers
        self.cached = cached
    }

    /// Reads `MemTotal:`, `MemFree:`, `Buffers:` and `Cached:` (kB values); nil without
    /// `MemTotal:`. Missing others count as 0.
    public init?(parsing text: some StringProtocol) {
        var values: [Substring: UInt64] = [:]
        for words in procLines(text) where words.count >= 2 {
            let key = words[0]
            guard ["MemTotal:", "MemFree:", "Buffers:", "Cached:"].contains(key), values[key] == nil,
                  let kb = procNumber(words[1]) else { continue }
            let (bytes, overflow) = kb.multipliedReportingOverflow(by: 1024)
            values[key] = overflow ? .max : bytes
        }
        guard let total = values["MemTotal:"] else { return nil }
        self.init(total: total, free: values["MemFree:"] ?? 0, buffers: values["Buffers:"] ?? 0, cached: values["Cached:"] ?? 0)
    }

    /// armsd's memory statistic: free = MemFree + Buffers + Cached, used = MemTotal − free
    /// (like `free(1)`); nil when the parts exceed the total (armsd skips it then).
    public func usage(index: UInt16 = 0) -> HeartbeatStatistic.SpaceUsage? {
        let (partial, o1) = free.addingReportingOverflow(buffers)
        let (available, o2) = partial.addingReportingOverflow(cached)
        guard !o1, !o2, available <= total else { return nil }
        return HeartbeatStatistic.SpaceUsage(index: index, used: total - available, free: available)
    }
}

/// /proc/net/dev: cumulative counters per interface.
public enum NetDev {
    /// Most interfaces kept.
    public static let maxInterfaces = 4096

    /// Counters by interface name (index 0 in each; the caller sets the statistic index).
    /// A line is `NAME: rx-bytes rx-packets rx-errs … (8 numbers) tx-bytes tx-packets tx-errs …`;
    /// the header lines (no colon) are skipped, and so are lines with fewer than 11 numbers.
    public static func parse(_ text: some StringProtocol) -> [String: HeartbeatStatistic.TrafficCounters] {
        var out: [String: HeartbeatStatistic.TrafficCounters] = [:]
        for words in procLines(text) {
            // The name ends at the first colon, which may touch the first number ("eth0:123").
            let line = words.joined(separator: " ")
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingPrefixSpaces
            guard !name.isEmpty, name.utf8.count <= 64 else { continue }
            let fields = line[line.index(after: colon)...].split(separator: " ").prefix(ProcLimits.maxFields).map(procNumber)
            guard fields.count >= 11, fields.prefix(11).allSatisfy({ $0 != nil }) else { continue }
            let f = fields.prefix(11).map { $0! }
            guard out.count < maxInterfaces || out[String(name)] != nil else { continue }
            out[String(name)] = HeartbeatStatistic.TrafficCounters(
                index: 0, inOctets: f[0], outOctets: f[8], inPackets: f[1], outPackets: f[9], inErrors: f[2], outErrors: f[10])
        }
        return out
    }
}

extension Substring {
    fileprivate var trimmingPrefixSpaces: Substring { drop(while: { $0 == " " }) }
}
