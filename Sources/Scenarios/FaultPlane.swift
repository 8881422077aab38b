import MockCore
import NIOConcurrencyHelpers

/// A fault the plane applied: what the timeline shows.
public struct AppliedFault: Sendable {
    public var time: Double
    /// The line of the rule in the scenario file.
    public var ruleLine: Int
    public var target: String
    public var occurrence: Int
    public var action: FaultAction
    public var sa: String?
}

/// The scenario's fault rules at run time: counts the events each rule matches, draws
/// the rule's probability from one seeded generator, records what it applied. The servers'
/// hooks ask it once per event (exchange, connection, tunnel message, datagram).
public final class FaultPlane: Sendable {
    public let rules: [FaultRule]
    public let seed: UInt64

    private struct State {
        var counters: [Int]
        var random: SplitMix64
        var applied: [AppliedFault] = []
        var down: Set<ServerRole> = []
        var armed = true
    }
    private let state: NIOLockedValueBox<State>

    public init(rules: [FaultRule], seed: UInt64) {
        self.rules = rules
        self.seed = seed
        state = NIOLockedValueBox(State(counters: Array(repeating: 0, count: rules.count), random: SplitMix64(seed: seed)))
    }

    /// While disarmed (a warm-up run), nothing is applied or counted.
    public func arm(_ armed: Bool) { state.withLockedValue { $0.armed = armed } }

    /// A step took a server down (its connections are refused) or up again.
    public func setDown(_ role: ServerRole, _ down: Bool) {
        state.withLockedValue { s in if down { s.down.insert(role) } else { s.down.remove(role) } }
    }

    public func isDown(_ role: ServerRole) -> Bool { state.withLockedValue { $0.down.contains(role) } }

    public var applied: [AppliedFault] { state.withLockedValue { $0.applied } }

    /// The action for one event, or nil. Every rule matching the event counts it; the
    /// first whose occurrence and probability hit applies.
    public func decide(role: ServerRole, messageType: String?, listener: String?, sa: String?,
                       connectionLevel: Bool, now: Double) -> FaultAction? {
        state.withLockedValue { s -> FaultAction? in
            guard s.armed else { return nil }
            var chosen: FaultAction?
            for (index, rule) in rules.enumerated() {
                guard rule.target.role == role, rule.action.isConnectionLevel == connectionLevel else { continue }
                if let wanted = rule.target.messageType, wanted != messageType { continue }
                if let wanted = rule.target.listener, !Self.listener(listener, is: wanted) { continue }
                s.counters[index] += 1
                let n = s.counters[index]
                guard chosen == nil, rule.occurrences.contains(n) else { continue }
                if rule.probability < 1, s.random.unit() >= rule.probability { continue }
                chosen = rule.action
                s.applied.append(AppliedFault(time: now, ruleLine: rule.line, target: rule.target.description, occurrence: n,
                                              action: rule.action, sa: sa))
            }
            return chosen
        }
    }

    /// Whether `address` (`127.0.0.2:4431`, `[::1]:4431`, or a bare host) is on `host`.
    static func listener(_ address: String?, is host: String) -> Bool {
        guard let address else { return false }
        if address == host { return true }
        let bare = host.hasPrefix("[") ? host : (host.contains(":") ? "[\(host)]" : host)
        return address.hasPrefix(bare + ":")
    }
}
