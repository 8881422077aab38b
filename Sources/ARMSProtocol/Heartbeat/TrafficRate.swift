/// Width of an interface counter as the operating system keeps it: 32 bits
/// on many 32-bit kernels and older SNMP-style counters, 64 bits elsewhere.
public enum CounterWidth: Int, Hashable, Sendable {
    case bits32 = 32
    case bits64 = 64
}

extension HeartbeatStatistic.TrafficCounters {
    /// Per-second rate of one cumulative counter (heartbeat.md §5 "Traffic
    /// rate"): (current − previous) / elapsedSeconds, integer division, as armsd does.
    ///
    /// Wrap handling — the result is never negative and never more than the
    /// counter could really have moved:
    /// * `current >= previous`: the plain difference.
    /// * `current < previous`: read as one wrap of `width` bits, so the step is
    ///   2^width − previous + current.
    ///   - 32 bits: always accepted; the step is below 2^32, so the rate is
    ///     bounded by 2^32 / elapsedSeconds.
    ///   - 64 bits: a real wrap needs the previous value near the top of the
    ///     range. A step above 2^63 in one interval cannot happen (it is years
    ///     of traffic at any link speed): the counter was reset, and the
    ///     result is nil.
    ///
    /// - Returns: nil (no rate for this sample; skip the statistic, as on the
    ///   first tick) when `elapsedSeconds` is 0, when a value does not fit in
    ///   `width` bits (the counter is not that wide), or on a 64-bit reset.
    public static func perSecondRate(
        previous: UInt64, current: UInt64, elapsedSeconds: UInt64, width: CounterWidth
    ) -> UInt64? {
        guard elapsedSeconds > 0 else { return nil }
        if width == .bits32 {
            guard previous <= UInt64(UInt32.max), current <= UInt64(UInt32.max) else { return nil }
        }
        let step: UInt64
        if current >= previous {
            step = current - previous
        } else if width == .bits32 {
            step = (UInt64(1) << 32) - previous + current
        } else {
            step = current &- previous  // 2^64 − previous + current, modulo 2^64
            guard step <= UInt64(1) << 63 else { return nil }
        }
        return step / elapsedSeconds
    }

    /// Per-second rates of all six counters of one interface, for a traffic-rate
    /// (0x0039) statistic; the index is `current`'s.
    ///
    /// - Returns: nil if any counter gives no rate (see
    ///   ``perSecondRate(previous:current:elapsedSeconds:width:)``).
    public static func rates(
        from previous: Self, to current: Self, elapsedSeconds: UInt64, width: CounterWidth
    ) -> Self? {
        func rate(_ field: KeyPath<Self, UInt64>) -> UInt64? {
            perSecondRate(previous: previous[keyPath: field], current: current[keyPath: field],
                          elapsedSeconds: elapsedSeconds, width: width)
        }
        guard let inOctets = rate(\.inOctets), let outOctets = rate(\.outOctets),
              let inPackets = rate(\.inPackets), let outPackets = rate(\.outPackets),
              let inErrors = rate(\.inErrors), let outErrors = rate(\.outErrors)
        else { return nil }
        return Self(index: current.index, inOctets: inOctets, outOctets: outOctets,
                    inPackets: inPackets, outPackets: outPackets, inErrors: inErrors, outErrors: outErrors)
    }
}
