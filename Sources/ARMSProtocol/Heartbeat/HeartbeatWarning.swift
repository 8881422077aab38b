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
        visitWarnings { out.append($0) }
        return out
    }

    /// `warnings.count`, without building the list (a receiver's hot path).
    var warningCount: Int {
        var count = 0
        visitWarnings { _ in count += 1 }
        return count
    }

    /// The plausibility rules, once: calls `found` for each implausible value, in field order.
    private func visitWarnings(_ found: (HeartbeatWarning) -> Void) {
        func over(_ limit: UInt8, _ code: HeartbeatWarning.Code, _ kind: Kind, _ index: UInt16, _ field: String, _ value: UInt8) {
            if value > limit { found(.init(code: code, kind: kind, index: index, field: field, value: UInt64(value))) }
        }
        func space(_ kind: Kind, _ v: SpaceUsage) {
            // Compare each against zero rather than adding: the sum could overflow.
            if v.used == 0 && v.free == 0 { found(.init(code: .zeroTotal, kind: kind, index: v.index, field: "used+free", value: 0)) }
        }
        switch self {
        case .cpuUsage(let v):
            over(100, .percentOver100, .cpuUsage, v.index, "utilization", v.utilization)
        case .cpuDetail(let v):
            over(100, .percentOver100, .cpuDetail, v.index, "idle", v.idle)
            over(100, .percentOver100, .cpuDetail, v.index, "interrupt", v.interrupt)
            over(100, .percentOver100, .cpuDetail, v.index, "user", v.user)
            over(100, .percentOver100, .cpuDetail, v.index, "system", v.system)
            over(100, .percentOver100, .cpuDetail, v.index, "other", v.other)
        case .memory(let v):
            space(.memory, v)
        case .disk(let v):
            space(.disk, v)
        case .radioWave(let v):
            over(4, .undefinedRadioStatus, .radioWave, v.index, "status", v.status.rawValue)
            over(100, .levelOver100, .radioWave, v.index, "maximum", v.maximum)
            over(100, .levelOver100, .radioWave, v.index, "minimum", v.minimum)
            over(100, .levelOver100, .radioWave, v.index, "average", v.average)
        case .trafficCount, .trafficRate, .unknown:
            break
        }
    }
}
