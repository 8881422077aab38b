/// One statistic TLV of a heartbeat datagram (heartbeat.md §3.3).
///
/// Every known statistic carries a 16-bit index chosen by the agent (CPU,
/// memory, disk or interface number). Within one datagram a (type, index) pair
/// may appear only once. Types this library does not know are kept verbatim as
/// ``Raw`` so that a receiver can report them and an encoder can reproduce them.
public enum HeartbeatStatistic: Hashable, Sendable {
    /// Type 0x0033: CPU busy percentage.
    case cpuUsage(CPUUsage)
    /// Type 0x0034: CPU time split, percent of the interval.
    case cpuDetail(CPUDetail)
    /// Type 0x0035: memory used and free, in bytes.
    case memory(SpaceUsage)
    /// Type 0x0037: disk used and available, in bytes.
    case disk(SpaceUsage)
    /// Type 0x0038: cumulative interface counters.
    case trafficCount(TrafficCounters)
    /// Type 0x0039: interface rates (per second, averaged since the previous heartbeat).
    case trafficRate(TrafficCounters)
    /// Type 0x002c: mobile radio signal level.
    case radioWave(RadioWave)
    /// A TLV whose type this library does not know, kept as type and value bytes.
    case unknown(Raw)

    /// The statistic types defined by libarms 5.33, with their wire type codes.
    public enum Kind: UInt16, CaseIterable, Sendable {
        case radioWave = 0x002C
        case cpuUsage = 0x0033
        case cpuDetail = 0x0034
        case memory = 0x0035
        case disk = 0x0037
        case trafficCount = 0x0038
        case trafficRate = 0x0039

        /// The fixed value length of this type (without the 4-byte TLV header).
        public var valueLength: Int {
            switch self {
            case .cpuUsage: return 3
            case .cpuDetail: return 7
            case .memory, .disk: return 18
            case .trafficCount, .trafficRate: return 50
            case .radioWave: return 6
            }
        }

        /// The whole TLV length: header plus value.
        public var tlvLength: Int { HeartbeatWire.tlvHeaderLength + valueLength }
    }

    /// Type 0x0033 value: busy percentage of one CPU (armsd sends `100 - idle`).
    public struct CPUUsage: Hashable, Sendable {
        public var index: UInt16
        /// Busy percent, 0...100 (not enforced on the wire).
        public var utilization: UInt8

        public init(index: UInt16, utilization: UInt8) {
            self.index = index
            self.utilization = utilization
        }
    }

    /// Type 0x0034 value: percentages of the interval spent in each CPU state.
    public struct CPUDetail: Hashable, Sendable {
        public var index: UInt16
        public var idle: UInt8
        public var interrupt: UInt8
        public var user: UInt8
        public var system: UInt8
        public var other: UInt8

        public init(index: UInt16, idle: UInt8, interrupt: UInt8, user: UInt8, system: UInt8, other: UInt8) {
            self.index = index
            self.idle = idle
            self.interrupt = interrupt
            self.user = user
            self.system = system
            self.other = other
        }
    }

    /// Value of types 0x0035 (memory) and 0x0037 (disk): bytes used and free.
    public struct SpaceUsage: Hashable, Sendable {
        public var index: UInt16
        public var used: UInt64
        /// Free (memory) or available to unprivileged users (disk), in bytes.
        public var free: UInt64

        public init(index: UInt16, used: UInt64, free: UInt64) {
            self.index = index
            self.used = used
            self.free = free
        }
    }

    /// Value of types 0x0038 (cumulative counts) and 0x0039 (per-second rates)
    /// for one interface.
    public struct TrafficCounters: Hashable, Sendable {
        /// Interface number chosen by the agent.
        public var index: UInt16
        public var inOctets: UInt64
        public var outOctets: UInt64
        public var inPackets: UInt64
        public var outPackets: UInt64
        public var inErrors: UInt64
        public var outErrors: UInt64

        public init(
            index: UInt16,
            inOctets: UInt64, outOctets: UInt64,
            inPackets: UInt64, outPackets: UInt64,
            inErrors: UInt64, outErrors: UInt64
        ) {
            self.index = index
            self.inOctets = inOctets
            self.outOctets = outOctets
            self.inPackets = inPackets
            self.outPackets = outPackets
            self.inErrors = inErrors
            self.outErrors = outErrors
        }
    }

    /// Type 0x002c value: radio signal level of one mobile interface.
    public struct RadioWave: Hashable, Sendable {
        /// Interface number chosen by the agent.
        public var index: UInt16
        public var status: RadioStatus
        /// Signal levels over the interval, 0...100 (not enforced on the wire).
        public var maximum: UInt8
        public var minimum: UInt8
        public var average: UInt8

        public init(index: UInt16, status: RadioStatus, maximum: UInt8, minimum: UInt8, average: UInt8) {
            self.index = index
            self.status = status
            self.maximum = maximum
            self.minimum = minimum
            self.average = average
        }
    }

    /// State of the radio device (libarms `arms_hb_mobile_status`).
    ///
    /// An open set: values above 4 are not defined but are kept as they came
    /// (a receiver warns about them, see ``HeartbeatWarning``).
    public struct RadioStatus: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        public static let running = RadioStatus(rawValue: 0)
        public static let noSignal = RadioStatus(rawValue: 1)
        public static let invalidData = RadioStatus(rawValue: 2)
        public static let noDevice = RadioStatus(rawValue: 3)
        public static let readError = RadioStatus(rawValue: 4)

        /// Whether the value is one of the five defined states.
        public var isDefined: Bool { rawValue <= 4 }

        public var description: String {
            switch self {
            case .running: return "running"
            case .noSignal: return "no-signal"
            case .invalidData: return "invalid-data"
            case .noDevice: return "no-device"
            case .readError: return "read-error"
            default: return "status-\(rawValue)"
            }
        }
    }

    /// A TLV of a type this library does not interpret.
    public struct Raw: Hashable, Sendable {
        public var type: UInt16
        public var value: [UInt8]

        public init(type: UInt16, value: [UInt8]) {
            self.type = type
            self.value = value
        }
    }

    /// The known kind, or nil for ``unknown(_:)``.
    public var kind: Kind? {
        switch self {
        case .cpuUsage: return .cpuUsage
        case .cpuDetail: return .cpuDetail
        case .memory: return .memory
        case .disk: return .disk
        case .trafficCount: return .trafficCount
        case .trafficRate: return .trafficRate
        case .radioWave: return .radioWave
        case .unknown: return nil
        }
    }

    /// The wire type code.
    public var type: UInt16 {
        if case .unknown(let raw) = self { return raw.type }
        return kind?.rawValue ?? HeartbeatWire.invalidType
    }

    /// The statistic's index, or nil for ``unknown(_:)`` (whose layout is not known).
    public var index: UInt16? {
        switch self {
        case .cpuUsage(let v): return v.index
        case .cpuDetail(let v): return v.index
        case .memory(let v), .disk(let v): return v.index
        case .trafficCount(let v), .trafficRate(let v): return v.index
        case .radioWave(let v): return v.index
        case .unknown: return nil
        }
    }
}

// MARK: - Value encoding and decoding

extension HeartbeatStatistic {
    /// The key used for the one-per-(type, index) rule; nil for unknown types.
    var uniquenessKey: UInt32? {
        guard let index else { return nil }
        return UInt32(type) << 16 | UInt32(index)
    }

    /// Length of the value bytes (without the TLV header).
    var valueLength: Int {
        if case .unknown(let raw) = self { return raw.value.count }
        return kind?.valueLength ?? 0
    }

    /// Appends type, length and value to `out`. The caller has checked that the
    /// value length fits in 16 bits.
    func appendTLV(to out: inout [UInt8]) {
        HeartbeatWire.appendBigEndian(type, to: &out)
        HeartbeatWire.appendBigEndian(UInt16(truncatingIfNeeded: valueLength), to: &out)
        switch self {
        case .cpuUsage(let v):
            HeartbeatWire.appendBigEndian(v.index, to: &out)
            out.append(v.utilization)
        case .cpuDetail(let v):
            HeartbeatWire.appendBigEndian(v.index, to: &out)
            out.append(contentsOf: [v.idle, v.interrupt, v.user, v.system, v.other])
        case .memory(let v), .disk(let v):
            HeartbeatWire.appendBigEndian(v.index, to: &out)
            HeartbeatWire.appendBigEndian(v.used, to: &out)
            HeartbeatWire.appendBigEndian(v.free, to: &out)
        case .trafficCount(let v), .trafficRate(let v):
            HeartbeatWire.appendBigEndian(v.index, to: &out)
            HeartbeatWire.appendBigEndian(v.inOctets, to: &out)
            HeartbeatWire.appendBigEndian(v.outOctets, to: &out)
            HeartbeatWire.appendBigEndian(v.inPackets, to: &out)
            HeartbeatWire.appendBigEndian(v.outPackets, to: &out)
            HeartbeatWire.appendBigEndian(v.inErrors, to: &out)
            HeartbeatWire.appendBigEndian(v.outErrors, to: &out)
        case .radioWave(let v):
            HeartbeatWire.appendBigEndian(v.index, to: &out)
            out.append(contentsOf: [v.status.rawValue, v.maximum, v.minimum, v.average])
        case .unknown(let raw):
            out.append(contentsOf: raw.value)
        }
    }

    /// Decodes the value of a known kind starting at `offset` of `bytes`.
    /// The caller has checked that exactly `kind.valueLength` bytes are there.
    init(kind: Kind, bytes b: [UInt8], at o: Int) {
        let index = HeartbeatWire.readBigEndian(UInt16.self, from: b, at: o)
        func u64(_ field: Int) -> UInt64 {
            HeartbeatWire.readBigEndian(UInt64.self, from: b, at: o + 2 + 8 * field)
        }
        func traffic() -> TrafficCounters {
            TrafficCounters(index: index, inOctets: u64(0), outOctets: u64(1), inPackets: u64(2),
                            outPackets: u64(3), inErrors: u64(4), outErrors: u64(5))
        }
        switch kind {
        case .cpuUsage:
            self = .cpuUsage(CPUUsage(index: index, utilization: b[o + 2]))
        case .cpuDetail:
            self = .cpuDetail(CPUDetail(index: index, idle: b[o + 2], interrupt: b[o + 3],
                                        user: b[o + 4], system: b[o + 5], other: b[o + 6]))
        case .memory:
            self = .memory(SpaceUsage(index: index, used: u64(0), free: u64(1)))
        case .disk:
            self = .disk(SpaceUsage(index: index, used: u64(0), free: u64(1)))
        case .trafficCount:
            self = .trafficCount(traffic())
        case .trafficRate:
            self = .trafficRate(traffic())
        case .radioWave:
            self = .radioWave(RadioWave(index: index, status: RadioStatus(rawValue: b[o + 2]),
                                        maximum: b[o + 3], minimum: b[o + 4], average: b[o + 5]))
        }
    }
}
