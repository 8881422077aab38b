import ARMSProtocol
import MockCore
import NIOConcurrencyHelpers
import NIOCore

/// MockLS on the network: `LocationServerLogic` behind an `ExchangeServer`
/// (TLS with the `Location Server 127.0.0.1` certificate by default).
public final class LocationServer: Sendable {
    /// The listener: bound endpoints, fault hook.
    public let exchange: ExchangeServer
    private let logic: NIOLockedValueBox<LocationServerLogic>

    /// - Parameter server: listening, TLS and read limits; its role is forced to `.ls`.
    public init(configuration: LocationServerConfiguration, fleet: FleetStore, journal: Journal,
                server: ExchangeServerConfiguration = .locationServer(), eventLoopGroup: (any EventLoopGroup)? = nil)
        throws(LocationServerConfigurationError) {
        let box = NIOLockedValueBox(try LocationServerLogic(configuration: configuration, fleet: fleet))
        logic = box
        var server = server
        server.role = .ls
        exchange = ExchangeServer(configuration: server, journal: journal, eventLoopGroup: eventLoopGroup) { exchange in
            box.withLockedValue { $0 }.respond(to: exchange.request)
        }
    }

    public var configuration: LocationServerConfiguration { logic.withLockedValue { $0.configuration } }

    /// Replaces the configuration for the following requests; throws (and keeps the old one) when it is unusable.
    public func update(_ configuration: LocationServerConfiguration) throws(LocationServerConfigurationError) {
        let fleet = logic.withLockedValue { $0.fleet }
        let new = try LocationServerLogic(configuration: configuration, fleet: fleet)
        logic.withLockedValue { $0 = new }
    }

    @discardableResult
    public func start() async throws -> [BoundEndpoint] { try await exchange.start() }

    public func stop() async { await exchange.stop() }

    public var boundEndpoints: [BoundEndpoint] { exchange.boundEndpoints }

    /// `https://<listener>/<path>` for every listener, e.g. for an Initial-Config.
    public func urls(path: String = "arms.cgi") throws(ARMSURL.ParseError) -> [ARMSURL] {
        try boundEndpoints.map { endpoint throws(ARMSURL.ParseError) in try endpoint.url(path: path) }
    }
}
