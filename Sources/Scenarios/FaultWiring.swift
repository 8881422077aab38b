import ARMSProtocol
import Foundation
import MockCore
import MockRS
import MockService

/// Connects a fault plane to the mocks' hooks (docs/fault-hooks.md): every LS/RS exchange,
/// every connection to the LS, RS and tunnel listeners, the tunnel's open request,
/// confirmation and RS messages, and (when the receiver offers it) every heartbeat datagram.
enum FaultWiring {
    static var now: Double { Date().timeIntervalSince1970 }

    /// The hooks that go into the configuration before the service starts.
    static func install(_ plane: FaultPlane, into configuration: inout ServiceConfiguration) {
        configuration.faultHook = { context in
            guard let action = plane.decide(role: context.role, messageType: context.messageType, listener: context.request.local,
                                            sa: context.claimedSA, connectionLevel: false, now: now) else { return .none }
            return exchangeFault(action, messageType: context.messageType)
        }
        configuration.connectionFaultHook = { context in
            // A server a step took down refuses every connection.
            if plane.isDown(context.role) { return .refuse }
            guard let action = plane.decide(role: context.role, messageType: nil, listener: context.local, sa: nil,
                                            connectionLevel: true, now: now) else { return .none }
            switch action {
            case .refuse: return .refuse
            case .handshakeCut: return .cutHandshake
            case .handshakeStall: return .stallHandshake
            default: return .none
            }
        }
    }

    /// The hooks set on the running service.
    static func install(_ plane: FaultPlane, into runtime: ServiceRuntime) {
        if plane.rules.contains(where: { $0.target.role == .heartbeat }) {
            runtime.setHeartbeatDatagramFault { context in
                switch plane.decide(role: .heartbeat, messageType: nil, listener: nil, sa: context.claimedSA?.description,
                                    connectionLevel: false, now: now) {
                case .drop?: return .drop
                case .duplicate?: return .duplicate
                case .corrupt?: return .corrupt
                default: return .none
                }
            }
        }
        let tunnelRules = plane.rules.contains { $0.target.role == .tunnel && !$0.action.isConnectionLevel }
        guard tunnelRules else { return }
        runtime.setConfirmAnswer { sa in
            guard case .confirmResult(let code)? = plane.decide(role: .tunnel, messageType: "push-confirmation-start", listener: nil,
                                                                sa: sa, connectionLevel: false, now: now) else { return nil }
            return ResultCode(code)
        }
        runtime.setTunnelOpenFault { sa in
            guard case .openStatus(let code)? = plane.decide(role: .tunnel, messageType: "tunnel-open", listener: nil, sa: sa,
                                                             connectionLevel: false, now: now) else { return nil }
            return .status(HTTPStatus(code: code))
        }
        runtime.setChunkFault { sa, type in
            switch plane.decide(role: .tunnel, messageType: type, listener: nil, sa: sa, connectionLevel: false, now: now) {
            case .chunkTruncate?: return .truncate
            case .chunkMalformed?: return .malformedChunk
            case .chunkMalformedXML?: return .malformedXML
            default: return nil
            }
        }
    }

    static func exchangeFault(_ action: FaultAction, messageType: String?) -> ExchangeFault {
        switch action {
        case .resultCode(let code): return .armsResult(code)
        case .httpStatus(let code): return .status(HTTPStatus(code: code))
        case .close: return .close
        case .delay(let seconds): return .delay(duration(seconds))
        case .dribble(let seconds): return .dribble(duration(seconds))
        case .resetMidBody: return .resetMidBody
        case .truncate: return ExchangeFault(write: .truncateMidBody)
        case .malformedXML: return .malformedXML
        default: return .none
        }
    }

    static func duration(_ seconds: Double) -> Duration { .nanoseconds(Int64(seconds * 1_000_000_000)) }
}

/// The CONNECT proxy a scenario with `topology.proxy` starts; it journals each CONNECT (role `proxy`).
final class ScenarioProxy: Sendable {
    let proxy: ConnectProxy
    let url: String

    private init(proxy: ConnectProxy, url: String) {
        self.proxy = proxy
        self.url = url
    }

    static func start(journal: Journal) async throws -> ScenarioProxy {
        let proxy = ConnectProxy(journal: journal)
        let bound = try await proxy.start()
        return ScenarioProxy(proxy: proxy, url: ConnectProxy.url(of: bound))
    }

    func stop() async { await proxy.stop() }
}
