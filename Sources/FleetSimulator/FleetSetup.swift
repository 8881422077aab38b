import ARMSProtocol
import MockCore
import MockService

/// Puts a fleet and a mock together: in this process, or through a running mock's control API.
public enum FleetSetup {
    /// A mock for this process: every port picked free, no data directory, `count`
    /// generated SAs (with the demo SA out of the way).
    public static func serviceConfiguration(count: Int, seed: UInt64, heartbeatInterval: Int = 60) -> ServiceConfiguration {
        var configuration = ServiceConfiguration.inProcess()
        configuration.heartbeatHosts = ["127.0.0.1"]
        configuration.fleet = FleetProvisioning.profiles(count: count, seed: seed, heartbeatInterval: heartbeatInterval)
        return configuration
    }

    /// The fleet of the SAs an in-process mock was started with (`serviceConfiguration`).
    public static func fleet(for runtime: ServiceRuntime, options: FleetOptions) -> Fleet {
        let generated = runtime.configuration.fleet.filter { $0.distributionID.saType == FleetProvisioning.saType }
        return Fleet(members: FleetProvisioning.members(of: generated), lsURLs: runtime.lsURLs.map(\.description),
                     rootCAPEM: TestPKI.rootCACertificatePEM, options: options)
    }

    /// Adds (or replaces) the profiles on a running mock, `concurrency` requests at a
    /// time, and returns its LS URLs. `progress` is called with the number done so far.
    public static func provision(_ client: ControlClient, profiles: [SAProfile], concurrency: Int = 16,
                                 progress: @escaping @Sendable (Int) -> Void = { _ in }) async throws -> [String] {
        let status = try await client.status()
        let ls = status.endpoints.filter { $0.role == .ls }.map(\.address)
        guard !ls.isEmpty else { throw ControlClientError.badAnswer("the mock names no LS endpoint") }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            var done = 0
            for _ in 0..<min(concurrency, profiles.count) {
                let p = profiles[next]
                next += 1
                group.addTask { try await client.putSA(p) }
            }
            while try await group.next() != nil {
                done += 1
                if done % 500 == 0 || done == profiles.count { progress(done) }
                if next < profiles.count {
                    let p = profiles[next]
                    next += 1
                    group.addTask { try await client.putSA(p) }
                }
            }
        }
        return ls
    }
}
