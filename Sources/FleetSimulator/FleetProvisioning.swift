import ARMSProtocol
import MockCore

/// The SAs a simulated fleet runs as: generated deterministically from a seed,
/// so that a fleet and the mock it talks to agree on ids and keys without
/// sharing a file.
///
/// Distribution ids are `0001-0000-0000-00F1-0000-0000-SSSS-SSSS` (SA type 0x00F1,
/// SA code = member number from 1), apart from the demo SA and hand-written fleets.
public enum FleetProvisioning {
    /// The SA type every generated id carries.
    public static let saType: UInt16 = 0x00F1
    /// The module every generated SA has (its md-command target).
    public static let moduleID: UInt32 = 1

    /// The distribution id of member `index` (0-based).
    public static func distributionID(_ index: Int) -> DistributionID {
        DistributionID(version: 1, vendorCode: 0, saType: saType, saCode: UInt64(index + 1))
    }

    /// `count` SA profiles: LS key, RS key and heartbeat passphrase derived from `seed` and
    /// the member number; one module; heartbeats every `heartbeatInterval` seconds to the
    /// mock's own receiver (0 = no heartbeat settings).
    public static func profiles(count: Int, seed: UInt64, heartbeatInterval: Int = 60) -> [SAProfile] {
        (0..<max(0, count)).map { profile(index: $0, seed: seed, heartbeatInterval: heartbeatInterval) }
    }

    public static func profile(index: Int, seed: UInt64, heartbeatInterval: Int = 60) -> SAProfile {
        let id = distributionID(index)
        var mixer = SplitMix64(seed: seed ^ (UInt64(index) &* 0x9E37_79B9_7F4A_7C15))
        let ls = "ls-" + hex(mixer.next())
        let rs = "rs-" + hex(mixer.next())
        let hb = "hb-" + hex(mixer.next())
        return SAProfile(
            distributionID: id, lsKey: ls, rsKey: rs, label: "fleet \(index + 1)",
            modules: [ModuleProfile(id: moduleID, version: "1.0", info: "fleet-module", config: "hostname fleet-\(index + 1)\n")],
            heartbeat: heartbeatInterval > 0 ? HeartbeatProfile(passphrase: hb, interval: heartbeatInterval) : nil)
    }

    /// What a simulated SA needs to start: its id and LS key (everything else it learns by pulling).
    public static func members(of profiles: [SAProfile]) -> [FleetMember] {
        profiles.map { FleetMember(distributionID: $0.distributionID, lsKey: $0.lsKey) }
    }

    static func hex(_ value: UInt64) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 16)
        var v = value
        for i in (0..<16).reversed() {
            out[i] = digits[Int(v & 0xF)]
            v >>= 4
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// One simulated SA's starting knowledge.
public struct FleetMember: Equatable, Sendable {
    public var distributionID: DistributionID
    public var lsKey: String

    public init(distributionID: DistributionID, lsKey: String) {
        self.distributionID = distributionID
        self.lsKey = lsKey
    }
}
