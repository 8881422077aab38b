import Foundation
import MockCore

// The JSON bodies of the control API (docs/control-api.md). Field names are camelCase
// everywhere, as Swift's Codable writes them: `distributionID`, `lsKey`, `httpStatus`, …

/// `GET /api/v1/status`.
public struct ServiceStatus: Codable, Equatable, Sendable {
    /// One listening endpoint of the mock.
    public struct Endpoint: Codable, Equatable, Sendable {
        public var role: ServerRole
        /// A URL (`https://127.0.0.1:8443/arms.cgi`), or `host:port` for UDP.
        public var address: String

        public init(role: ServerRole, address: String) {
            self.role = role
            self.address = address
        }
    }

    /// `warplink-mock`'s version.
    public var version: String
    /// The serving process.
    public var pid: Int32
    public var endpoints: [Endpoint]
    /// Counters by name. The control API fills `sas`, `journalEntries` and
    /// `journalDropped` itself; the status provider may add more.
    public var counts: [String: Int]

    public init(version: String = MockService.version, pid: Int32 = getpid(), endpoints: [Endpoint] = [], counts: [String: Int] = [:]) {
        self.version = version
        self.pid = pid
        self.endpoints = endpoints
        self.counts = counts
    }
}

/// `GET /api/v1/sas`.
public struct SAList: Codable, Equatable, Sendable {
    /// Ordered by distribution id.
    public var sas: [SAProfile]

    public init(sas: [SAProfile]) { self.sas = sas }
}

/// `GET /api/v1/journal`: one page of entries and the cursor for the next.
public struct JournalPage: Codable, Equatable, Sendable {
    /// Oldest first.
    public var entries: [JournalEntry]
    /// Pass as `after` to get what follows these entries.
    public var next: Int
    /// True when the page was cut at `limit` and more entries match already.
    public var more: Bool
    /// Entries the journal dropped because it was full (they can no longer be read).
    public var dropped: Int

    public init(entries: [JournalEntry], next: Int, more: Bool, dropped: Int) {
        self.entries = entries
        self.next = next
        self.more = more
        self.dropped = dropped
    }
}

/// The body of every 4xx/5xx answer.
public struct ControlErrorBody: Codable, Equatable, Sendable {
    public var error: String

    public init(error: String) { self.error = error }
}

/// The JSON coders every part of the control API uses: sorted keys, no escaped slashes.
enum ControlJSON {
    static func encoder(pretty: Bool = false) -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    static func encode<T: Encodable>(_ value: T, pretty: Bool = false) -> [UInt8] {
        // Encoding these plain value types cannot fail (no non-finite doubles are stored).
        (try? Array(encoder(pretty: pretty).encode(value))) ?? Array(#"{"error":"cannot encode the answer"}"#.utf8)
    }
}
