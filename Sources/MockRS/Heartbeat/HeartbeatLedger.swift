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
        var samples: Ring<HeartbeatSample>
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

        init(capacity: Int) { samples = Ring(capacity: capacity) }
    }

    private var records: [DistributionID: Record] = [:]
    private var globalRejected: [HeartbeatRejectReason: Int] = [:]
    private var allRejected: [HeartbeatRejectReason: Int] = [:]
    private var globalFaults: [HeartbeatDatagramFault: Int] = [:]
    private var allFaults: [HeartbeatDatagramFault: Int] = [:]
    /// Accepted datagrams, all SAs.
    public private(set) var accepted = 0

    public init(sampleCapacity: Int = HeartbeatLedger.defaultSampleCapacity,
                maximumLength: Int = HeartbeatDatagram.maximumLength) {
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
        let datagram: HeartbeatDatagram
        do {
            datagram = try HeartbeatDatagram(decoding: bytes, maximumLength: maximumLength)
        } catch {
            // A readable prefix naming a known SA charges the fault to that SA.
            let sa = Self.prefixID(bytes).flatMap { passphrases($0) != nil ? $0 : nil }
            return reject(error.reason, sa: sa, detail: error.description)
        }
        let id = datagram.distributionID
        guard let keys = passphrases(id) else {
            return reject(.unknownSA, sa: nil, detail: "heartbeat unknown-sa: \(id) is not provisioned")
        }
        guard !keys.isEmpty, datagram.verify(anyOf: keys) else {
            let why = keys.isEmpty ? "the SA has no heartbeat passphrase" : "the digest does not match the SA's passphrase"
            return reject(.badMAC, sa: id, detail: "heartbeat bad-mac: \(why)")
        }
        let sample = HeartbeatSample(datagram, time: wallTime, source: source)
        var record = records[id] ?? Record(capacity: sampleCapacity)
        if let previous = record.lastMonotonic {
            let gap = Self.seconds(monotonic - previous)
            record.gapLast = gap
            record.gapSum += gap
            record.gapMin = min(record.gapMin, gap)
            record.gapMax = max(record.gapMax, gap)
            record.gapCount += 1
        }
        record.lastMonotonic = monotonic
        record.firstArrival = record.firstArrival ?? wallTime
        record.lastArrival = wallTime
        record.sampleCount += 1
        record.samples.append(sample)
        let first = record.sampleCount == 1
        records[id] = record
        accepted += 1
        return .accepted(id, first: first, warnings: sample.warnings.count)
    }

    private mutating func reject(_ reason: HeartbeatRejectReason, sa: DistributionID?, detail: String) -> Outcome {
        allRejected[reason, default: 0] += 1
        let count: Int
        if let sa {
            var record = records[sa] ?? Record(capacity: sampleCapacity)
            record.rejected[reason, default: 0] += 1
            count = record.rejected[reason] ?? 0
            records[sa] = record
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
            var record = records[sa] ?? Record(capacity: sampleCapacity)
            record.faults[fault, default: 0] += 1
            let count = record.faults[fault] ?? 0
            records[sa] = record
            return count
        }
        globalFaults[fault, default: 0] += 1
        return globalFaults[fault] ?? 0
    }

    /// Whether the `count`-th event of a kind in one scope is journaled: the first
    /// ``journalFirstRejections``, then only the 2ⁿ-th.
    public static func journals(count: Int) -> Bool {
        count <= journalFirstRejections || count & (count - 1) == 0
    }

    /// The distribution id of a datagram whose 44-byte prefix is intact, else nil.
    public static func prefixID(_ b: [UInt8]) -> DistributionID? {
        guard b.count >= HeartbeatDatagram.prefixLength,
              b[0] == 0x00, b[1] == 0x01, b[2] == 0x00, b[3] == 0x14,
              b[24] == 0x00, b[25] == 0x11, b[26] == 0x00, b[27] == 0x10 else { return nil }
        return try? DistributionID(bytes: b[28..<44])
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
                                 rejected: Self.named(r.rejected), faults: Self.named(r.faults), samples: r.samples.elements)
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

/// A fixed-capacity ring: appending to a full ring drops the oldest element.
struct Ring<Element: Sendable>: Sendable {
    private var storage: [Element] = []
    private var start = 0
    let capacity: Int

    init(capacity: Int) { self.capacity = max(1, capacity) }

    mutating func append(_ element: Element) {
        if storage.count < capacity {
            storage.append(element)
        } else {
            storage[start] = element
            start = (start + 1) % capacity
        }
    }

    /// Oldest first.
    var elements: [Element] { Array(storage[start...] + storage[..<start]) }
}
