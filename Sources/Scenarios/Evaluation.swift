import Foundation
import MockCore

extension ScenarioExecution {
    /// Checks every expectation once the scenario ended; appends one failure line per miss.
    func evaluate() {
        let x = scenario.expect
        let entered = states.map(\.new)
        if !x.states.isEmpty, !Self.isSubsequence(x.states, of: entered) {
            failures.append("states: expected \(x.states.joined(separator: " → ")) in this order; the agent went through "
                + (entered.isEmpty ? "none" : entered.joined(separator: " → ")))
        }
        if let final = x.finalState, states.last?.new != final {
            failures.append("final state: expected \(final), the agent is in \(states.last?.new ?? "no reported state")")
        }
        for bad in x.never where entered.contains(bad) {
            failures.append("states: the agent entered \(bad), which it must never do here")
        }
        switch (x.exit, agent?.isRunning ?? false, agent?.exitStatus) {
        case (.running, false, _): failures.append("exit: the agent should still run, but it \(agent?.exitDescription ?? "never started")")
        case (.exited, true, _), (.code, true, _), (.nonzero, true, _): failures.append("exit: the agent should have exited, but it still runs")
        case (.code(let want), false, let got?) where got != want: failures.append("exit: expected exit code \(want), got \(agent!.exitDescription)")
        case (.nonzero, false, 0?): failures.append("exit: expected a non-zero exit, got exit 0")
        default: break
        }
        if !x.scripts.isEmpty {
            var position = 0
            let recorded = calls.map(\.fields)
            for pattern in x.scripts {
                guard let found = recorded[position...].firstIndex(where: { Self.matches(pattern, $0) }) else {
                    failures.append("scripts: no call \"\(pattern.joined(separator: " "))\" after the ones matched before; calls were: "
                        + (recorded.isEmpty ? "none" : recorded.map { $0.joined(separator: " ") }.joined(separator: "; ")))
                    break
                }
                position = found + 1
            }
        }
        for (name, want) in x.scriptCounts.sorted(by: { $0.key < $1.key }) {
            let got = calls.filter { $0.fields.first == name }.count
            if got != want { failures.append("scripts: \(name) called \(got) time(s), expected \(want)") }
        }
        for (module, want) in x.configs.sorted(by: { $0.key < $1.key }) {
            let got = scripts.receivedConfig(module)
            if got != want {
                failures.append("configs: module \(module) last received \(got.map { "\"\($0.prefix(120))\"" } ?? "nothing"), expected \"\(want.prefix(120))\"")
            }
        }
        for j in x.journal {
            let got = journalCount(j.match)
            var bounds: [String] = []
            if let n = j.exactly, got != n { bounds.append("exactly \(n)") }
            if let n = j.atLeast, got < n { bounds.append("at least \(n)") }
            if let n = j.atMost, got > n { bounds.append("at most \(n)") }
            if !bounds.isEmpty {
                failures.append("journal (line \(j.line)): \(j.match): expected \(bounds.joined(separator: ", ")), saw \(got)")
            }
        }
        if !x.log.isEmpty {
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            for text in x.log where !log.contains(text) { failures.append("log: no line contains \"\(text)\"") }
        }
        if let h = x.heartbeat { evaluate(h) }
        checkInvariants()
        if let within = x.within, let end = endTime, end - t0 > within {
            failures.append(String(format: "time: the end came %.2f s after the agent's start, expected within %g s", end - t0, within))
        }
    }

    func evaluate(_ h: HeartbeatExpectation) {
        let snapshot = runtime?.heartbeatSnapshot(of: sa)
        let accepted = snapshot?.sampleCount ?? 0
        if let n = h.acceptedAtLeast, accepted < n {
            failures.append("heartbeat: \(accepted) datagram(s) accepted from \(sa), expected at least \(n)")
        }
        let rejected = snapshot?.rejected ?? [:]
        if let n = h.rejected, snapshot?.rejectedTotal ?? 0 != n {
            failures.append("heartbeat: \(snapshot?.rejectedTotal ?? 0) rejected (\(rejected)), expected \(n)")
        }
        for (reason, n) in h.rejectedFor.sorted(by: { $0.key < $1.key }) where rejected[reason, default: 0] < n {
            failures.append("heartbeat: \(rejected[reason, default: 0]) rejected for \(reason), expected at least \(n) (all: \(rejected))")
        }
        if let family = h.family {
            let sources = (snapshot?.samples ?? []).compactMap(\.source)
            let other = sources.filter { ($0.hasPrefix("[") || $0.contains("::")) != (family == "ipv6") }
            if sources.isEmpty { failures.append("heartbeat: no accepted datagram to tell the family from") }
            if !other.isEmpty { failures.append("heartbeat: \(other.count) datagram(s) came over the other family than \(family) (\(other.first!))") }
        }
        if let tolerance = h.intervalTolerance, let interval = scenario.timing.heartbeatInterval {
            if let mean = snapshot?.intervals?.mean {
                if abs(mean - Double(interval)) > Double(interval) * tolerance {
                    failures.append(String(format: "heartbeat: mean interval %.3f s, expected %d s ± %g%%", mean, interval, tolerance * 100))
                }
            } else {
                failures.append("heartbeat: no interval measured (fewer than two datagrams)")
            }
        }
    }

    /// Outcomes that mean the agent sent something a libarms-speaking service refuses.
    static let refusedOutcomes = ["bad-request", "bad-credentials", "unknown-sa", "decode-error", "id-mismatch", "too-large"]

    /// The mock's own invariants, checked in every scenario: each request the agent sent was
    /// well-formed HTTP, authenticated and a decodable ARMS message of the right SA; and,
    /// unless the scenario injects heartbeat faults or expects rejections, every heartbeat verified.
    func checkInvariants() {
        for outcome in Self.refusedOutcomes where !scenario.expect.journal.contains(where: { $0.match.outcome == outcome }) {
            let entries = runtime?.journal.entries { $0.sequence > journalMark && $0.outcome == outcome } ?? []
            if let first = entries.first {
                failures.append("invariant: \(entries.count) exchange(s) ended \(outcome): the agent sent what the service refuses "
                    + "(first: \(first.role.rawValue) \(first.messageType ?? "-"): \(first.detail ?? ""))")
            }
        }
        let heartbeatFaults = scenario.faults.contains { $0.target.role == .heartbeat }
        if !heartbeatFaults, scenario.expect.heartbeat?.rejected == nil, scenario.expect.heartbeat?.rejectedFor.isEmpty ?? true,
           let snapshot = runtime?.heartbeatSnapshot(of: sa), snapshot.rejectedTotal > 0 {
            failures.append("invariant: \(snapshot.rejectedTotal) heartbeat datagram(s) of the agent were rejected (\(snapshot.rejected))")
        }
    }

    static func isSubsequence(_ wanted: [String], of seen: [String]) -> Bool {
        var i = 0
        for s in seen where i < wanted.count && s == wanted[i] { i += 1 }
        return i == wanted.count
    }

    /// A recorded call against a pattern: name, then one glob per argument (`*` any text).
    static func matches(_ pattern: [String], _ call: [String]) -> Bool {
        guard pattern.count <= call.count, pattern.first == call.first else { return false }
        for (p, a) in zip(pattern.dropFirst(), call.dropFirst()) where !glob(p, a) { return false }
        return true
    }

    static func glob(_ pattern: String, _ text: String) -> Bool {
        let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 1 { return pattern == text }
        guard text.hasPrefix(parts[0]) else { return false }
        var rest = Substring(text.dropFirst(parts[0].count))
        for part in parts.dropFirst().dropLast() where !part.isEmpty {
            guard let r = rest.range(of: part) else { return false }
            rest = rest[r.upperBound...]
        }
        return rest.hasSuffix(parts.last!)
    }

    // MARK: - Timeline

    /// Every observation in time order: states, script calls, exchanges, faults, steps, agent starts and exits.
    func buildTimeline() -> [TimelineEvent] {
        var events = warmUpEvents + notes
        events += states.map { TimelineEvent(time: $0.time, source: "state", text: "\($0.old) -> \($0.new)") }
        events += calls.filter { $0.fields.first != "state-changed" }
            .map { TimelineEvent(time: $0.time, source: "script", text: $0.fields.map { $0.count > 80 ? String($0.prefix(77)) + "..." : $0 }.joined(separator: " ")) }
        events += plane.applied.map { f in
            TimelineEvent(time: f.time, source: "fault", text: "\(f.action) on \(f.target) #\(f.occurrence) (rule at line \(f.ruleLine))")
        }
        if let journal = runtime?.journal {
            events += journal.entries().map { e in
                var text = e.messageType ?? "-"
                if e.httpStatus != 0 { text += " http \(e.httpStatus)" }
                if let r = e.resultCode { text += " result \(r)" }
                text += " " + e.outcome
                if let d = e.detail { text += " (" + (d.count > 100 ? String(d.prefix(97)) + "..." : d) + ")" }
                if let peer = e.peer, e.role != .heartbeat { text += " from " + peer }
                return TimelineEvent(time: e.time, source: e.role.rawValue, text: text)
            }
        }
        return events.map { e in var e = e; e.time -= t0; return e }.sorted { $0.time < $1.time }
    }
}
