import ARMSProtocol
import MockCore
import NIOConcurrencyHelpers
import NIOCore

/// MockRS on the network (pull side): `RemoteServerLogic` behind an `ExchangeServer`
/// (TLS with the `Remote Server 127.0.0.1` certificate by default).
public final class RemoteServer: Sendable {
    /// The listener: bound endpoints, fault hook.
    public let exchange: ExchangeServer
    private let logic: NIOLockedValueBox<RemoteServerLogic>
    private let pushHandler = NIOLockedValueBox<(@Sendable (ARMSRequestGate.Admitted) async -> ExchangeReply)?>(nil)

    /// - Parameter server: listening, TLS and read limits; its role is forced to `.rs`.
    public init(configuration: RemoteServerConfiguration, fleet: FleetStore, journal: Journal,
                server: ExchangeServerConfiguration = .remoteServer(), eventLoopGroup: (any EventLoopGroup)? = nil)
        throws(RemoteServerConfigurationError) {
        let box = NIOLockedValueBox(try RemoteServerLogic(configuration: configuration, fleet: fleet))
        logic = box
        let pushBox = pushHandler
        var server = server
        server.role = .rs
        exchange = ExchangeServer(configuration: server, journal: journal, eventLoopGroup: eventLoopGroup) { exchange in
            let logic = box.withLockedValue { $0 }
            if let push = pushBox.withLockedValue({ $0 }), case .admitted(let admitted) = logic.admit(exchange.request),
               RemoteServerLogic.isPushSide(admitted.request.type) {
                return await push(admitted)
            }
            var own: [ARMSURL] = []
            if logic.configuration.pullServerURLs == nil {
                own = exchange.serverEndpoints.compactMap { try? $0.url(path: logic.configuration.pullPath) }
            }
            return logic.respond(to: exchange.request, ownURLs: own)
        }
    }

    /// Hands https-simple push-confirmation-start and X-done requests (already admitted:
    /// credentials, type and distribution id checked) to the push side.
    public func setPushHandler(_ handler: (@Sendable (ARMSRequestGate.Admitted) async -> ExchangeReply)?) {
        pushHandler.withLockedValue { $0 = handler }
    }

    public var configuration: RemoteServerConfiguration { logic.withLockedValue { $0.configuration } }

    /// Replaces the configuration for the following requests; throws (and keeps the old one) when it is unusable.
    public func update(_ configuration: RemoteServerConfiguration) throws(RemoteServerConfigurationError) {
        let fleet = logic.withLockedValue { $0.fleet }
        let new = try RemoteServerLogic(configuration: configuration, fleet: fleet)
        logic.withLockedValue { $0 = new }
    }

    @discardableResult
    public func start() async throws -> [BoundEndpoint] { try await exchange.start() }

    public func stop() async { await exchange.stop() }

    public var boundEndpoints: [BoundEndpoint] { exchange.boundEndpoints }

    /// `https://<listener>/<path>` for every listener: the RS URLs to give the LS
    /// (and, with `pullServerURLs` `nil`, the `rs-pull-server-url`s).
    public func urls(path: String? = nil) throws(ARMSURL.ParseError) -> [ARMSURL] {
        let path = path ?? configuration.pullPath
        return try boundEndpoints.map { endpoint throws(ARMSURL.ParseError) in try endpoint.url(path: path) }
    }
}
