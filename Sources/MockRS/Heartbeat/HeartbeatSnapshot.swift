import ARMSProtocol

/// One accepted heartbeat datagram as the mock stored it: arrival, sender and the
/// statistics it carried (JSON: camelCase, as the control API writes it).
public struct HeartbeatSample: Codable, Equatable, Sendable {
    public struct CPUUsage: Codable, Equatable, Sendable {
        public var index: Int
        public var utilization: Int

        public init(index: Int, utilization: Int) {
            self.index = index
            self.utilization = utilization
        }
    }

    public struct CPUDetail: Codable, Equatable, Sendable {
        public var index: Int
        public var idle: Int
        public var interrupt: Int
        public var user: Int
        public var system: Int
        public var other: Int

        public init(index: Int, idle: Int, interrupt: Int, user: Int, system: Int, other: Int) {
            self.index = index
            self.idle = idle
            self.interrupt = interrupt
            self.user = user
            self.system = system
            self.other = other
        }
    }

    /// Memory or disk, in bytes.
    public struct Space: Codable, Equatable, Sendable {
        public var index: Int
        public var used: UInt64
        public var free: UInt64

        public init(index: Int, used: UInt64, free: UInt64) {
            self.index = index
            self.used = used
            self.free = free
        }
    }

    /// Cumulative counters (type 0x0038) or per-second rates (type 0x0039) of one interface.
    public struct Traffic: Codable, Equatable, Sendable {
        public var index: Int
        public var inOctets: UInt64
        public var outOctets: UInt64
        public var inPackets: UInt64
        public var outPackets: UInt64
        public var inErrors: UInt64
        public var outErrors: UInt64

        public init(index: Int, inOctets: UInt64, outOctets: UInt64, inPackets: UInt64, outPackets: UInt64,
                    inErrors: UInt64, outErrors: UInt64) {
            self.index = index
            self.inOctets = inOctets
            self.outOctets = outOctets
            self.inPackets = inPackets
            self.outPackets = outPackets
            self.inErrors = inErrors
            self.outErrors = outErrors
        }
    }

    public struct RadioWave: Codable, Equatable, Sendable {
        public var index: Int
        /// `running`, `no-signal`, `invalid-data`, `no-device`, `read-error` or `status-N`.
        public var status: String
        public var maximum: Int
        public var minimum: Int
        public var average: Int

        public init(index: Int, status: String, maximum: Int, minimum: Int, average: Int) {
            self.index = index
            self.status = status
            self.maximum = maximum
            self.minimum = minimum
            self.average = average
        }
    }

    /// Arrival, seconds since the Unix epoch (server clock).
    public var time: Double
    /// `host:port` of the sender (informative: the port changes every datagram).
    public var source: String?
    /// Datagram size in bytes.
    public var size: Int
    public var cpuUsage: [CPUUsage] = []
    public var cpuDetail: [CPUDetail] = []
    public var memory: [Space] = []
    public var disk: [Space] = []
    public var trafficCount: [Traffic] = []
    public var trafficRate: [Traffic] = []
    public var radioWave: [RadioWave] = []
    /// Type codes of TLVs the mock does not know (skipped).
    public var unknownTypes: [Int] = []
    /// Implausible values (heartbeat.md §9 step 6), e.g. `percent-over-100: type 0x0033 index 0 utilization = 120`.
    public var warnings: [String] = []

    /// The sample of a decoded (and verified) datagram.
    public init(_ datagram: HeartbeatDatagram, time: Double, source: String?) {
        self.time = time
        self.source = source
        self.size = datagram.bytes.count
        func traffic(_ t: HeartbeatStatistic.TrafficCounters) -> Traffic {
            Traffic(index: Int(t.index), inOctets: t.inOctets, outOctets: t.outOctets, inPackets: t.inPackets,
                    outPackets: t.outPackets, inErrors: t.inErrors, outErrors: t.outErrors)
        }
        for statistic in datagram.statistics {
            switch statistic {
            case .cpuUsage(let v): cpuUsage.append(CPUUsage(index: Int(v.index), utilization: Int(v.utilization)))
            case .cpuDetail(let v):
                cpuDetail.append(CPUDetail(index: Int(v.index), idle: Int(v.idle), interrupt: Int(v.interrupt), user: Int(v.user),
                                           system: Int(v.system), other: Int(v.other)))
            case .memory(let v): memory.append(Space(index: Int(v.index), used: v.used, free: v.free))
            case .disk(let v): disk.append(Space(index: Int(v.index), used: v.used, free: v.free))
            case .trafficCount(let v): trafficCount.append(traffic(v))
            case .trafficRate(let v): trafficRate.append(traffic(v))
            case .radioWave(let v):
                radioWave.append(RadioWave(index: Int(v.index), status: v.status.description, maximum: Int(v.maximum),
                                           minimum: Int(v.minimum), average: Int(v.average)))
            case .unknown(let raw): unknownTypes.append(Int(raw.type))
            }
        }
        warnings = datagram.warnings.map(\.description)
    }
}

/// Gaps between successive accepted heartbeats of one SA, in seconds (monotonic clock).
public struct HeartbeatIntervals: Codable, Equatable, Sendable {
    public var last: Double
    public var mean: Double
    public var min: Double
    public var max: Double
    /// How many gaps were measured (accepted samples − 1).
    public var count: Int

    public init(last: Double, mean: Double, min: Double, max: Double, count: Int) {
        self.last = last
        self.mean = mean
        self.min = min
        self.max = max
        self.count = count
    }
}

/// What the mock's heartbeat receiver knows about one SA (`GET /api/v1/sas/{id}/heartbeat`).
public struct HeartbeatSnapshot: Codable, Equatable, Sendable {
    /// Distribution id, canonical form.
    public var sa: String
    /// Accepted datagrams since the receiver started.
    public var sampleCount: Int
    /// First and last accepted arrival, seconds since the Unix epoch.
    public var firstArrival: Double?
    public var lastArrival: Double?
    /// Observed gaps between accepted datagrams; nil before the second one.
    public var intervals: HeartbeatIntervals?
    /// Rejected datagrams that named this SA, by reason (`bad-mac`, `truncated-tlv`, …).
    public var rejected: [String: Int]
    /// Datagrams naming this SA that the receiver's fault hook acted on, by fault
    /// (`drop`, `duplicate`, `corrupt`; see ``HeartbeatDatagramFault``).
    public var faults: [String: Int]
    /// The most recent accepted samples, oldest first (bounded ring).
    public var samples: [HeartbeatSample]

    public init(sa: String, sampleCount: Int = 0, firstArrival: Double? = nil, lastArrival: Double? = nil,
                intervals: HeartbeatIntervals? = nil, rejected: [String: Int] = [:], faults: [String: Int] = [:],
                samples: [HeartbeatSample] = []) {
        self.sa = sa
        self.sampleCount = sampleCount
        self.firstArrival = firstArrival
        self.lastArrival = lastArrival
        self.intervals = intervals
        self.rejected = rejected
        self.faults = faults
        self.samples = samples
    }

    /// The newest sample.
    public var last: HeartbeatSample? { samples.last }
    /// All rejections of this SA.
    public var rejectedTotal: Int { rejected.values.reduce(0, +) }
}

/// The receiver's counters over all SAs (`GET /api/v1/heartbeat`).
public struct HeartbeatOverview: Codable, Equatable, Sendable {
    /// `host:port` of every receiver socket.
    public var listening: [String]
    /// Accepted datagrams, all SAs.
    public var accepted: Int
    /// Rejections that could not be charged to a known SA (unparseable prefix, unknown SA), by reason.
    public var rejected: [String: Int]
    /// Every rejection (per-SA ones included), by reason.
    public var rejectedAll: [String: Int]
    /// Datagrams the receiver's fault hook acted on (per-SA ones included), by fault
    /// (`drop`, `duplicate`, `corrupt`; see ``HeartbeatDatagramFault``).
    public var faults: [String: Int]
    /// SAs with at least one accepted or rejected datagram (or one the fault hook acted on),
    /// canonical ids, sorted.
    public var sas: [String]

    public init(listening: [String] = [], accepted: Int = 0, rejected: [String: Int] = [:], rejectedAll: [String: Int] = [:],
                faults: [String: Int] = [:], sas: [String] = []) {
        self.listening = listening
        self.accepted = accepted
        self.rejected = rejected
        self.rejectedAll = rejectedAll
        self.faults = faults
        self.sas = sas
    }
}
