import ARMSProtocol

/// The mock heartbeat server without sockets (heartbeat.md §9): datagrams in, verdicts
/// and per-SA series out. The UDP receiver (``HeartbeatReceiver``) feeds it under a lock;
/// tests feed it directly.
///
/// Per datagram, in order: size (44...`maximumLength` bytes), prefix and TLV framing
/// (``HeartbeatDatagram/init(decoding:maximumLength:)``), a known distribution id, the
/// HMAC-SHA1 under the passphrase that SA was issued, then the statistics' plausibility
/// (implausible values are kept as warnings, not rejected).
///
/// Counting: a rejection is charged to an SA when the datagram's prefix names a known SA
/// (even if the TLVs after it are broken); everything else (too short, bad prefix,
/// unknown SA) is counted globally. An SA whose profile has no heartbeat settings has no
/// passphrase, so its datagrams are rejected as `bad-mac`.
///
/// Journal policy (``Outcome/shouldJournal``): the first accepted datagram of each SA;
/// of the rejections, the first ``journalFirstRejections`` per (SA or global, reason), then
/// only the 2ⁿ-th ones, so a flood costs a logarithmic number of entries. Every other
/// datagram only updates the counters and the series.
public struct HeartbeatLedger: Sendable {
    /// Samples kept per SA unless told otherwise.
    public static let defaultSampleCapacity = 120
    /// Rejections journalled per (scope, reason) before thinning out to powers of two.
    public static let journalFirstRejections = 10

    /// Samples kept per SA (the oldest is dropped first).
    public let sampleCapacity: Int
    /// Longest datagram accepted (libarms never sends more than 1024 bytes).
    public let maximumLength: Int
    /// Computes the heartbeat HMAC-SHA1.
    public let digests: any ARMSDigests

    /// The verdict on one datagram.
    public enum Outcome: Equatable, Sendable {
        /// Stored; `first` is true for the SA's first accepted datagram.
        case accepted(DistributionID, first: Bool, warnings: Int)
        /// Dropped. `sa` is the SA it was charged to (nil: counted globally); `count` is how
        /// many rejections for this reason that scope has seen now.
        case rejected(HeartbeatRejectReason, sa: DistributionID?, detail: String, count: Int)

        /// Whether the receiver should write a journal entry (see the type's journal policy).
        public var shouldJournal: Bool {
            switch self {
            case .accepted(_, let first, _): return first
            case .rejected(_, _, _, let count): return HeartbeatLedger.journals(count: count)
            }
        }
    }

    private struct Record: Sendable {
        var samples: DatagramRing
        var sampleCount = 0
        var firstArrival: Double?
        var lastArrival: Double?
        var lastMonotonic: ContinuousClock.Instant?
        var gapLast = 0.0
        var gapSum = 0.0
        var gapMin = Double.infinity
        var gapMax = 0.0
        var gapCount = 0
        var rejected: [HeartbeatRejectReason: Int] = [:]
        var faults: [HeartbeatDatagramFault: Int] = [:]
        /// The prepared HMAC keys of the passphrases last looked up, in their order.
        var keys: [HeartbeatKey] = []

        init(capacity: Int) { samples = DatagramRing(capacity: capacity) }

        /// Whether any of `passphrases` verifies `bytes`, reusing the prepared keys while
        /// the SA's passphrases stay the same. Every passphrase is tried, so the time taken
        /// does not reveal which one matched.
        mutating func verify(_ bytes: [UInt8], passphrases: [String], digests: any ARMSDigests) -> Bool {
            if !keys.elementsEqual(passphrases, by: { $0.passphrase == $1 }) {
                keys = passphrases.map { HeartbeatKey(passphrase: $0, digests: digests) }
            }
            var matched = false
            for key in keys where key.verifies(bytes) { matched = true }
            return matched
        }

        mutating func accept(_ bytes: [UInt8], source: String?, monotonic: ContinuousClock.Instant, wallTime: Double) {
            if let previous = lastMonotonic {
                let gap = HeartbeatLedger.seconds(monotonic - previous)
                gapLast = gap
                gapSum += gap
                gapMin = min(gapMin, gap)
                gapMax = max(gapMax, gap)
                gapCount += 1
            }
            lastMonotonic = monotonic
            firstArrival = firstArrival ?? wallTime
            lastArrival = wallTime
            sampleCount += 1
            samples.append(bytes, time: wallTime, source: source)
        }
    }

    private var records: [DistributionID: Record] = [:]
    private var globalRejected: [HeartbeatRejectReason: Int] = [:]
    private var allRejected: [HeartbeatRejectReason: Int] = [:]
    private var globalFaults: [HeartbeatDatagramFault: Int] = [:]
    private var allFaults: [HeartbeatDatagramFault: Int] = [:]
    /// Accepted datagrams, all SAs.
    public private(set) var accepted = 0

    public init(digests: any ARMSDigests, sampleCapacity: Int = HeartbeatLedger.defaultSampleCapacity,
                maximumLength: Int = HeartbeatDatagram.maximumLength) {
        self.digests = digests
        self.sampleCapacity = max(1, sampleCapacity)
        self.maximumLength = max(HeartbeatDatagram.prefixLength, maximumLength)
    }

    /// Checks and records one datagram.
    ///
    /// - Parameters:
    ///   - bytes: the datagram as received.
    ///   - source: the sender's `host:port` (informative).
    ///   - monotonic: arrival on a monotonic clock (for the observed intervals).
    ///   - wallTime: arrival in seconds since the Unix epoch (for display).
    ///   - passphrases: the passphrases issued to an SA; nil when the SA is unknown.
    public mutating func ingest(_ bytes: [UInt8], source: String?, monotonic: ContinuousClock.Instant, wallTime: Double,
                                passphrases: (DistributionID) -> [String]?) -> Outcome {
        let summary: HeartbeatDatagram.Summary
        do {
            summary = try HeartbeatDatagram.check(bytes, maximumLength: maximumLength)
        } catch {
            // A readable prefix naming a known SA charges the fault to that SA.
            let sa = HeartbeatDatagram.claimedDistributionID(bytes).flatMap { passphrases($0) != nil ? $0 : nil }
            return reject(error.reason, sa: sa, detail: error.description)
        }
        let id = summary.distributionID
        guard let keys = passphrases(id) else {
            return reject(.unknownSA, sa: nil, detail: "heartbeat unknown-sa: \(id) is not provisioned")
        }
        // The record is updated in place (no copy of its sample ring).
        let slot = recordIndex(id)
        guard !keys.isEmpty, records.values[slot].verify(bytes, passphrases: keys, digests: digests) else {
            let why = keys.isEmpty ? "the SA has no heartbeat passphrase" : "the digest does not match the SA's passphrase"
            return reject(.badMAC, sa: id, detail: "heartbeat bad-mac: \(why)")
        }
        records.values[slot].accept(bytes, source: source, monotonic: monotonic, wallTime: wallTime)
        accepted += 1
        return .accepted(id, first: records.values[slot].sampleCount == 1, warnings: summary.warningCount)
    }

    /// The position of `id`'s record, created empty if missing.
    private mutating func recordIndex(_ id: DistributionID) -> Dictionary<DistributionID, Record>.Index {
        if let index = records.index(forKey: id) { return index }
        records[id] = Record(capacity: sampleCapacity)
        return records.index(forKey: id)!
    }

    private mutating func reject(_ reason: HeartbeatRejectReason, sa: DistributionID?, detail: String) -> Outcome {
        allRejected[reason, default: 0] += 1
        let count: Int
        if let sa {
            let slot = recordIndex(sa)
            records.values[slot].rejected[reason, default: 0] += 1
            count = records.values[slot].rejected[reason] ?? 0
        } else {
            globalRejected[reason, default: 0] += 1
            count = globalRejected[reason] ?? 0
        }
        return .rejected(reason, sa: sa, detail: detail, count: count)
    }

    /// Counts one datagram the receiver's fault hook acted on (not `.none`), charged to `sa`
    /// when given (a provisioned SA named by the prefix), else globally. Returns how many
    /// datagrams that scope has seen with this fault now (for the journal's thinning).
    @discardableResult
    public mutating func noteFault(_ fault: HeartbeatDatagramFault, sa: DistributionID?) -> Int {
        allFaults[fault, default: 0] += 1
        if let sa {
            let slot = recordIndex(sa)
            records.values[slot].faults[fault, default: 0] += 1
            return records.values[slot].faults[fault] ?? 0
        }
        globalFaults[fault, default: 0] += 1
        return globalFaults[fault] ?? 0
    }

    /// Whether the `count`-th event of a kind in one scope is journaled: the first
    /// ``journalFirstRejections``, then only the 2ⁿ-th.
    public static func journals(count: Int) -> Bool {
        count <= journalFirstRejections || count & (count - 1) == 0
    }

    static func seconds(_ d: Duration) -> Double {
        let c = d.components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }

    // MARK: - Reading

    /// Everything known about one SA; nil if no datagram ever named it.
    public func snapshot(of id: DistributionID) -> HeartbeatSnapshot? {
        guard let r = records[id] else { return nil }
        let intervals = r.gapCount == 0 ? nil
            : HeartbeatIntervals(last: r.gapLast, mean: r.gapSum / Double(r.gapCount), min: r.gapMin, max: r.gapMax, count: r.gapCount)
        return HeartbeatSnapshot(sa: id.description, sampleCount: r.sampleCount, firstArrival: r.firstArrival,
                                 lastArrival: r.lastArrival, intervals: intervals,
                                 rejected: Self.named(r.rejected), faults: Self.named(r.faults), samples: r.samples.samples())
    }

    /// Counters over all SAs; `listening` is left empty for the receiver to fill.
    public var overview: HeartbeatOverview {
        HeartbeatOverview(accepted: accepted, rejected: Self.named(globalRejected), rejectedAll: Self.named(allRejected),
                          faults: Self.named(allFaults), sas: records.keys.sorted().map(\.description))
    }

    /// Rejections not charged to any SA, by reason.
    public var globalRejections: [HeartbeatRejectReason: Int] { globalRejected }

    static func named<Key: RawRepresentable<String>>(_ counts: [Key: Int]) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: counts.map { ($0.key.rawValue, $0.value) })
    }
}

/// The most recent accepted datagrams of one SA, kept as bytes in one flat buffer of
/// `capacity` fixed-size slots (the slot size grows to the longest datagram seen), with
/// their arrival and sender. Appending to a full ring overwrites the oldest slot, so in
/// steady state a datagram costs a copy and no allocation. Samples are decoded only when
/// read.
struct DatagramRing: Sendable {
    private struct Slot: Sendable {
        var time: Double
        var source: String?
        var length: Int
    }

    let capacity: Int
    private var bytes: [UInt8] = []
    private var slots: [Slot] = []
    private var slotSize = 0
    /// The slot of the oldest datagram once the ring is full.
    private var start = 0

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var count: Int { slots.count }

    mutating func append(_ datagram: [UInt8], time: Double, source: String?) {
        if datagram.count > slotSize { resize(to: datagram.count) }
        let slot: Int
        if slots.count < capacity {
            slot = slots.count
            slots.append(Slot(time: time, source: source, length: datagram.count))
            bytes.append(contentsOf: repeatElement(0, count: slotSize))
        } else {
            slot = start
            slots[slot] = Slot(time: time, source: source, length: datagram.count)
            start = (start + 1) % capacity
        }
        let offset = slot * slotSize
        bytes.withUnsafeMutableBytes { out in
            datagram.withUnsafeBytes { out.baseAddress!.advanced(by: offset).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        }
    }

    /// Re-lays the slots out `size` bytes apart (a longer datagram than any before).
    private mutating func resize(to size: Int) {
        var wider = [UInt8](repeating: 0, count: slots.count * size)
        for (n, slot) in slots.enumerated() {
            wider.replaceSubrange(n * size..<n * size + slot.length, with: bytes[n * slotSize..<n * slotSize + slot.length])
        }
        bytes = wider
        slotSize = size
    }

    /// The stored datagram in slot order position `n` (0 = oldest) with its arrival and sender.
    func datagram(_ n: Int) -> (bytes: ArraySlice<UInt8>, time: Double, source: String?) {
        let slot = (start + n) % slots.count
        let s = slots[slot]
        return (bytes[slot * slotSize..<slot * slotSize + s.length], s.time, s.source)
    }

    /// The samples, oldest first, decoded from the stored datagrams (all of which were
    /// checked when they were stored).
    func samples() -> [HeartbeatSample] {
        (0..<slots.count).compactMap { n in
            let d = datagram(n)
            guard let decoded = try? HeartbeatDatagram(decoding: d.bytes, maximumLength: .max) else { return nil }
            return HeartbeatSample(decoded, time: d.time, source: d.source)
        }
    }
}
