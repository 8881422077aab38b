/// An implausible statistic value (heartbeat.md §9 step 6). libarms does not
/// check value ranges, so a receiver records these and keeps the datagram.
public struct HeartbeatWarning: Hashable, Sendable, CustomStringConvertible {
    /// What is implausible, as a stable short code.
    public enum Code: String, CaseIterable, Hashable, Sendable {
        /// A CPU percentage above 100.
        case percentOver100 = "percent-over-100"
        /// A radio status other than 0...4.
        case undefinedRadioStatus = "undefined-radio-status"
        /// A radio level above 100.
        case levelOver100 = "level-over-100"
        /// Memory or disk with used + free = 0.
        case zeroTotal = "zero-total"
    }

    public var code: Code
    /// The statistic the value belongs to.
    public var kind: HeartbeatStatistic.Kind
    public var index: UInt16
    /// The field name, e.g. `utilization`, `idle`, `status`, `maximum`, `used+free`.
    public var field: String
    /// The offending value.
    public var value: UInt64

    public init(code: Code, kind: HeartbeatStatistic.Kind, index: UInt16, field: String, value: UInt64) {
        self.code = code
        self.kind = kind
        self.index = index
        self.field = field
        self.value = value
    }

    public var description: String {
        "\(code.rawValue): type 0x\(HeartbeatWire.hex4(kind.rawValue)) index \(index) \(field) = \(value)"
    }
}

extension HeartbeatStatistic {
    /// Implausible values in this statistic; empty when all are in range.
    public var warnings: [HeartbeatWarning] {
        var out = [HeartbeatWarning]()
        func check(_ code: HeartbeatWarning.Code, _ kind: Kind, _ index: UInt16,
                   _ fields: KeyValuePairs<String, UInt8>, limit: UInt8) {
            for (name, value) in fields where value > limit {
                out.append(.init(code: code, kind: kind, index: index, field: name, value: UInt64(value)))
            }
        }
        func checkSpace(_ kind: Kind, _ v: SpaceUsage) {
            // Compare each against zero rather than adding: the sum could overflow.
            if v.used == 0 && v.free == 0 {
                out.append(.init(code: .zeroTotal, kind: kind, index: v.index, field: "used+free", value: 0))
            }
        }
        switch self {
        case .cpuUsage(let v):
            check(.percentOver100, .cpuUsage, v.index, ["utilization": v.utilization], limit: 100)
        case .cpuDetail(let v):
            check(.percentOver100, .cpuDetail, v.index,
                  ["idle": v.idle, "interrupt": v.interrupt, "user": v.user, "system": v.system, "other": v.other],
                  limit: 100)
        case .memory(let v):
            checkSpace(.memory, v)
        case .disk(let v):
            checkSpace(.disk, v)
        case .radioWave(let v):
            check(.undefinedRadioStatus, .radioWave, v.index, ["status": v.status.rawValue], limit: 4)
            check(.levelOver100, .radioWave, v.index,
                  ["maximum": v.maximum, "minimum": v.minimum, "average": v.average], limit: 100)
        case .trafficCount, .trafficRate, .unknown:
            break
        }
        return out
    }
}

extension HeartbeatStatistic {
    /// `warnings.count`, without building the warnings.
    var warningCount: Int {
        switch self {
        case .cpuUsage(let v): return v.utilization > 100 ? 1 : 0
        case .cpuDetail(let v):
            return (v.idle > 100 ? 1 : 0) + (v.interrupt > 100 ? 1 : 0) + (v.user > 100 ? 1 : 0)
                + (v.system > 100 ? 1 : 0) + (v.other > 100 ? 1 : 0)
        case .memory(let v), .disk(let v): return v.used == 0 && v.free == 0 ? 1 : 0
        case .radioWave(let v):
            return (v.status.rawValue > 4 ? 1 : 0) + (v.maximum > 100 ? 1 : 0) + (v.minimum > 100 ? 1 : 0)
                + (v.average > 100 ? 1 : 0)
        case .trafficCount, .trafficRate, .unknown: return 0
        }
    }
}
