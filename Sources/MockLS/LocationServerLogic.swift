import ARMSProtocol
import MockCore

/// MockLS without sockets: an HTTP request in, the answer bytes and the journal facts out
/// (pull.md §4).
///
/// A provisioned SA with its LS key gets result 100 with its `rs-preshared-key`, the
/// configured RS retry values and one `rs-info` (URL + Location-Config) per RS URL.
/// Refusals follow `ARMSRequestGate.check`.
public struct LocationServerLogic: Sendable {
    public let configuration: LocationServerConfiguration
    public let fleet: FleetStore
    /// The checked `md-config` texts, one per RS URL.
    public let locationConfigs: [String]
    private let gate: ARMSRequestGate

    /// Throws when the configuration would give a libarms client an unusable answer.
    public init(configuration: LocationServerConfiguration, fleet: FleetStore) throws(LocationServerConfigurationError) {
        self.configuration = configuration
        self.fleet = fleet
        self.locationConfigs = try configuration.locationConfigs()
        self.gate = ARMSRequestGate(accepted: [.rsSolicitation], defaultAnswerType: .rsSolicitation, key: \SAProfile.lsKey,
                                    authFailure: configuration.authFailure)
    }

    /// The answer to one request.
    public func respond(to request: HTTPRequest) -> ExchangeReply {
        let admitted: ARMSRequestGate.Admitted
        switch gate.check(request, fleet: fleet) {
        case .rejected(let reply): return reply
        case .admitted(let a): admitted = a
        }
        var detail: String?
        if case .rsSolicitation(let trigger) = admitted.request.body { detail = "trigger \"\(trigger)\"" }
        return ARMSAnswer.reply(response(for: admitted.profile), facts: admitted.facts(detail: detail))
    }

    /// The result-100 answer for an authenticated SA.
    public func response(for profile: SAProfile) -> ARMSResponse {
        let result = RSSolicitationResult(
            rsPresharedKey: profile.rsKey,
            llTimeout: configuration.llTimeout,
            rsRetryMax: configuration.rsRetryMax,
            rsRetryInterval: configuration.rsRetryInterval,
            lifetime: configuration.lifetime,
            urls: configuration.rsURLs.map(\.description),
            locationConfigs: locationConfigs)
        return .standard(.rsSolicitation, .success, body: .rsSolicitation(result))
    }
}
