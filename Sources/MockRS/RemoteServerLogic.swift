import ARMSProtocol
import MockCore

/// MockRS without sockets (pull side, pull.md §5): an HTTP request in, the answer bytes
/// and the journal facts out.
///
/// A provisioned SA with its `rs-preshared-key` gets result 100 with the SA certificate
/// and key, the proposals, the heartbeat servers, the `rs-pull-server-url`s, then every
/// module of its profile and one `md-config` per module (modules first, as libarms
/// requires). Refusals follow `ARMSRequestGate.check`.
public struct RemoteServerLogic: Sendable {
    public let configuration: RemoteServerConfiguration
    public let fleet: FleetStore
    private let gate: ARMSRequestGate

    public init(configuration: RemoteServerConfiguration, fleet: FleetStore) throws(RemoteServerConfigurationError) {
        try configuration.validate()
        self.configuration = configuration
        self.fleet = fleet
        self.gate = ARMSRequestGate(accepted: Self.acceptedTypes, defaultAnswerType: .configSolicitation,
                                    key: \SAProfile.rsKey, authFailure: configuration.authFailure)
    }

    /// What the RS listener answers: pull, push-method-query, and the https-simple
    /// push-confirmation-start and X-done requests (those go to the push side, see `RemoteServer.setPushHandler`).
    public static let acceptedTypes: Set<MessageType> = Set([MessageType.configSolicitation, .pushMethodQuery, .pushConfirmationStart]
        + MessageName.pushOperations.filter(\.isAsync).map { MessageType($0, .done) })

    /// Whether a request type is handled by the push side rather than this logic.
    public static func isPushSide(_ type: MessageType) -> Bool {
        type == .pushConfirmationStart || (type.phase == .done && type.name.isAsync)
    }

    /// The gate's decision alone (credentials, body, type, distribution id).
    public func admit(_ request: HTTPRequest) -> ARMSRequestGate.Decision { gate.check(request, fleet: fleet) }

    /// The answer to one request. `ownURLs` stands in for `pullServerURLs` when that is `nil`.
    public func respond(to request: HTTPRequest, ownURLs: [ARMSURL] = []) -> ExchangeReply {
        let admitted: ARMSRequestGate.Admitted
        switch gate.check(request, fleet: fleet) {
        case .rejected(let reply): return reply
        case .admitted(let a): admitted = a
        }
        let profile = admitted.profile
        if admitted.request.type == .pushMethodQuery {
            return pushMethodQueryAnswer(admitted)
        }
        if Self.isPushSide(admitted.request.type) {
            return ARMSAnswer.reply(.standard(admitted.request.type, .invalidMessageType, body: nil), facts: admitted.facts(
                outcome: ExchangeOutcome.decodeError, detail: "https-simple push is not enabled in this server"))
        }
        var detail = "\(profile.modules.count) module(s)"
        if case .configSolicitation(let c) = admitted.request.body {
            detail += ", trigger \"\(c.trigger)\""
            if let firmware = c.firmwareInfo { detail += ", firmware \"\(firmware)\"" }
        }
        return ARMSAnswer.reply(response(for: profile, ownURLs: ownURLs), facts: admitted.facts(detail: detail))
    }

    /// The push-method-query answer (push.md §3.3): `configuration.push`.
    func pushMethodQueryAnswer(_ admitted: ARMSRequestGate.Admitted) -> ExchangeReply {
        var offered: [String] = []
        if case .pushMethodQuery(let methods) = admitted.request.body { offered = methods }
        let offer = configuration.push
        let detail = "SA offers [\(offered.joined(separator: ", "))]; RS offers [\(offer.methods.joined(separator: ", "))], "
            + "\(offer.tunnelURLs.count) tunnel URL(s), echo \(offer.echoInterval.map(String.init) ?? "default")"
        return ARMSAnswer.reply(offer.response(), facts: admitted.facts(detail: detail))
    }

    /// The result-100 answer for an authenticated SA.
    public func response(for profile: SAProfile, ownURLs: [ARMSURL] = []) -> ARMSResponse {
        let urls = configuration.pullServerURLs ?? Array(ownURLs.prefix(RemoteServerConfiguration.maxListEntries))
        let result = ConfigSolicitationResult(
            saCertificate: configuration.saIdentity.certificateChainPEM,
            saPrivateKey: configuration.saIdentity.privateKeyPEM,
            proposedPushPort: configuration.proposedPushPort,
            proposedPushTimeout: configuration.proposedPushTimeout,
            heartbeatServers: heartbeatServers(for: profile),
            rsPushServerAddresses: configuration.pushServerAddresses,
            rsPullServerURLs: urls.map(\.description),
            modules: profile.modules.map { ModuleInfo(id: $0.id, version: $0.version, info: $0.info) },
            configs: profile.modules.map(Self.config))
        return .standard(.configSolicitation, .success, body: .configSolicitation(result))
    }

    /// The `heartbeat-info` entries for an SA (heartbeat.md §2): from its profile's
    /// heartbeat settings (its own servers, else the mock's receiver addresses), all with
    /// the profile's passphrase and interval and algorithm `hmac-sha1`; at most 5. An SA
    /// without heartbeat settings gets the configured `heartbeatServers`.
    public func heartbeatServers(for profile: SAProfile) -> [HeartbeatServerInfo] {
        guard let heartbeat = profile.heartbeat else { return configuration.heartbeatServers }
        let targets = heartbeat.servers.isEmpty ? configuration.heartbeatReceivers : heartbeat.servers
        return targets.prefix(HeartbeatProfile.maxServers).map {
            HeartbeatServerInfo(host: $0.host, port: $0.port, passphrase: heartbeat.passphrase, interval: heartbeat.interval,
                                algorithms: [HeartbeatProfile.algorithm])
        }
    }

    /// A module's `md-config`: its text, or base64 (`encoding="base64"`, no line breaks).
    static func config(_ module: ModuleProfile) -> ModuleConfig {
        let bytes = Array(module.config.utf8)
        return ModuleConfig(id: module.id, content: Payload(bytes: bytes, encoding: module.base64 ? .base64 : .text))
    }
}
