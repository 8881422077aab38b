import ARMSProtocol
import NIOConcurrencyHelpers

/// The provisioned SAs, shared by the LS, the RS and the control API; safe to use from any thread.
public final class FleetStore: Sendable {
    private let profiles: NIOLockedValueBox<[DistributionID: SAProfile]>

    public init(_ initial: [SAProfile] = []) {
        var map: [DistributionID: SAProfile] = [:]
        for p in initial { map[p.distributionID] = p }
        profiles = NIOLockedValueBox(map)
    }

    public subscript(id: DistributionID) -> SAProfile? {
        profiles.withLockedValue { $0[id] }
    }

    /// Adds or replaces an SA; returns the previous profile.
    @discardableResult
    public func put(_ profile: SAProfile) -> SAProfile? {
        profiles.withLockedValue { $0.updateValue(profile, forKey: profile.distributionID) }
    }

    @discardableResult
    public func remove(_ id: DistributionID) -> SAProfile? {
        profiles.withLockedValue { $0.removeValue(forKey: id) }
    }

    /// Changes one SA in place; returns `nil` when it is not provisioned.
    @discardableResult
    public func update(_ id: DistributionID, _ change: (inout SAProfile) -> Void) -> SAProfile? {
        profiles.withLockedValue { map in
            guard var p = map[id] else { return nil }
            change(&p)
            map[id] = p
            return p
        }
    }

    /// All SAs ordered by distribution id.
    public var all: [SAProfile] {
        profiles.withLockedValue { $0.values.sorted { $0.distributionID < $1.distributionID } }
    }

    public var count: Int { profiles.withLockedValue { $0.count } }
}
