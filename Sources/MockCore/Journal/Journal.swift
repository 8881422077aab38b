import NIOConcurrencyHelpers
import NIOCore

/// Which part of the mock handled an exchange.
public enum ServerRole: String, Codable, Sendable {
    case ls = "LS"
    case rs = "RS"
    case tunnel
    case simple
    case heartbeat
    case control
    /// The HTTPS CONNECT proxy (`ConnectProxy`).
    case proxy
}

/// One exchange as the mock saw it: what tests assert on and operators read back.
public struct JournalEntry: Codable, Equatable, Sendable {
    /// Position in the journal, from 1.
    public var sequence: Int
    /// Seconds since the Unix epoch, when the exchange ended.
    public var time: Double
    public var role: ServerRole
    /// The SA's distribution id in canonical form, when it could be told.
    public var sa: String?
    /// The ARMS message type of the request (`rs-solicitation`, …), when it could be read.
    public var messageType: String?
    /// The ARMS result code answered, if an ARMS answer was sent.
    public var resultCode: Int?
    /// The HTTP status answered (0 when none was sent).
    public var httpStatus: Int
    public var bytesIn: Int
    public var bytesOut: Int
    /// A short machine-readable outcome: `ok`, `unknown-sa`, `bad-credentials`, `bad-request`,
    /// `decode-error`, `timeout`, `closed`, `tls-error`, `fault:<name>`, …
    public var outcome: String
    /// Human-readable detail (the decode error, the fault applied, …).
    public var detail: String?
    /// The peer's address, e.g. `127.0.0.1:53422`.
    public var peer: String?

    public init(sequence: Int = 0, time: Double, role: ServerRole, sa: String? = nil, messageType: String? = nil,
                resultCode: Int? = nil, httpStatus: Int = 0, bytesIn: Int = 0, bytesOut: Int = 0,
                outcome: String, detail: String? = nil, peer: String? = nil) {
        self.sequence = sequence
        self.time = time
        self.role = role
        self.sa = sa
        self.messageType = messageType
        self.resultCode = resultCode
        self.httpStatus = httpStatus
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.outcome = outcome
        self.detail = detail
        self.peer = peer
    }
}

/// An append-only, bounded record of exchanges; safe to use from any thread.
///
/// When it holds `capacity` entries the oldest are dropped; sequence numbers keep counting.
public final class Journal: Sendable {
    private struct State {
        /// A ring: appending and dropping the oldest are O(1), so a full journal costs the
        /// same per entry as an empty one. Sequence numbers are consecutive in it.
        var entries = CircularBuffer<JournalEntry>()
        var next = 1
        var dropped = 0
    }

    public let capacity: Int
    private let state = NIOLockedValueBox(State())
    private let observers = NIOLockedValueBox<[@Sendable (JournalEntry) -> Void]>([])

    public init(capacity: Int = 100_000) {
        self.capacity = max(1, capacity)
    }

    /// Records an entry, giving it the next sequence number; returns the stored entry.
    @discardableResult
    public func append(_ entry: JournalEntry) -> JournalEntry {
        let stored = state.withLockedValue { s -> JournalEntry in
            var e = entry
            e.sequence = s.next
            s.next += 1
            s.entries.append(e)
            while s.entries.count > capacity {
                s.entries.removeFirst()
                s.dropped += 1
            }
            return e
        }
        for observer in observers.withLockedValue({ $0 }) { observer(stored) }
        return stored
    }

    /// Calls `observer` for every entry appended from now on.
    public func observe(_ observer: @escaping @Sendable (JournalEntry) -> Void) {
        observers.withLockedValue { $0.append(observer) }
    }

    /// Entries with a sequence number above `after`, oldest first, optionally filtered.
    public func entries(after: Int = 0, where include: (JournalEntry) -> Bool = { _ in true }) -> [JournalEntry] {
        state.withLockedValue { s in
            // Consecutive sequence numbers: the first one above `after` is found by arithmetic.
            guard let first = s.entries.first?.sequence else { return [] }
            let skip = min(s.entries.count, max(0, after - first + 1))
            return s.entries.dropFirst(skip).filter(include)
        }
    }

    public func count(where include: (JournalEntry) -> Bool = { _ in true }) -> Int {
        state.withLockedValue { s in s.entries.reduce(0) { $0 + (include($1) ? 1 : 0) } }
    }

    /// Entries dropped because the journal was full.
    public var droppedCount: Int { state.withLockedValue { $0.dropped } }

    /// The sequence number the next entry will get.
    public var nextSequence: Int { state.withLockedValue { $0.next } }
}
