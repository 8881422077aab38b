import ArgumentParser
import ARMSProtocol
import Foundation
import MockCore
import MockService

/// `warplink-mock journal [--sa ID] [--role LS|RS] [--after N] [--follow] [--json]`.
struct JournalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "journal",
        abstract: "Print the exchanges the running server recorded.",
        discussion: """
            One line per exchange, oldest first: sequence number, time (UTC), role, SA, message \
            type, result code, HTTP status, outcome and detail. --json prints one JSON object per \
            line instead (the control API's journal entries). --follow keeps polling for new \
            entries until interrupted.
            """
    )

    @OptionGroup var server: ControlOptions

    @Option(name: .long, help: ArgumentHelp("Only this SA's exchanges.", valueName: "distribution-id"))
    var sa: String?

    @Option(name: .long, help: ArgumentHelp("Only this role: LS, RS, tunnel, simple, heartbeat or control.", valueName: "role"))
    var role: String?

    @Option(name: .long, help: ArgumentHelp("Only entries with a sequence number above N.", valueName: "n"))
    var after: Int = 0

    @Flag(name: .long, help: "Keep printing new entries as they arrive (Ctrl-C to stop).")
    var follow = false

    @Flag(name: .long, help: "Print each entry as one line of JSON.")
    var json = false

    @Option(name: .long, help: ArgumentHelp("Seconds between polls with --follow.", valueName: "seconds"))
    var interval: Double = 0.5

    func validate() throws {
        guard after >= 0 else { throw ValidationError("--after must not be negative") }
        guard interval >= 0.05, interval <= 60 else { throw ValidationError("--interval must be between 0.05 and 60 seconds") }
        if let sa, DistributionID(sa) == nil { throw ValidationError("--sa: \"\(sa)\" is not a distribution id") }
        if let role, ServerRole(matching: role) == nil {
            throw ValidationError("--role: \"\(role)\" is not one of LS, RS, tunnel, simple, heartbeat, control")
        }
    }

    func run() async throws {
        let saID = sa.flatMap { DistributionID($0) }
        let roleFilter = role.flatMap { ServerRole(matching: $0) }
        try await CLI.run {
            let client = try server.client()
            var cursor = after
            var printed = false
            while true {
                let page = try await client.journal(after: cursor, sa: saID, role: roleFilter, limit: ControlAPI.maxJournalLimit)
                for entry in page.entries {
                    CLI.out(json ? try CLI.json(entry, pretty: false) : Self.line(entry))
                    printed = true
                }
                cursor = page.next
                if page.more { continue }
                if !follow { break }
                try await Task.sleep(nanoseconds: UInt64(interval * 1e9))
            }
            if !printed && !json { CLI.out("no journal entries") }
        }
    }

    /// `#12 2024-05-01T10:00:00.123Z LS 0001-… rs-solicitation result=100 http=200 ok detail`.
    static func line(_ e: JournalEntry) -> String {
        var parts = ["#\(e.sequence)", timestamp(e.time), e.role.rawValue, e.sa ?? "-", e.messageType ?? "-"]
        if let r = e.resultCode { parts.append("result=\(r)") }
        if e.httpStatus != 0 { parts.append("http=\(e.httpStatus)") }
        parts.append(e.outcome)
        if let p = e.peer { parts.append("peer=\(p)") }
        if let d = e.detail { parts.append("- " + d) }
        return parts.joined(separator: " ")
    }

    static func timestamp(_ t: Double) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date(timeIntervalSince1970: t))
    }
}
