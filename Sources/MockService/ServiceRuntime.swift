import ARMSProtocol
import Foundation
import MockCore
import MockLS
import MockRS
import NIOCore
import NIOPosix

/// What `warplink-mock serve` runs, and what tests start in process.
public struct ServiceConfiguration: Sendable {
    /// Numeric loopback addresses to listen on (IPv4 and/or IPv6).
    public var hosts: [String] = ["127.0.0.1"]
    /// 0 = pick a free port.
    public var lsPort = 18443
    public var rsPort = 18444
    public var controlPort = 18480
    /// SAs provisioned at start.
    public var fleet: [SAProfile] = [.demo]
    /// The SA whose `armsd.conf` goes into the data directory (default: the first of the fleet).
    public var agentSA: DistributionID?
    /// Where the CA, initial config, armsd.conf and control.json are written; `nil` writes nothing.
    public var dataDirectory: String? = DataDirectory.defaultPath
    /// Handed out by the LS.
    public var rsRetryMax = 3
    public var rsRetryInterval = 3
    /// Written into the initial config (libarms waits interval × 20 s between LS rounds).
    public var lsRetryInterval = DataDirectory.defaultRetryInterval
    public var lsRetryMax = DataDirectory.defaultRetryMax
    /// Per-connection read limit of the LS and RS.
    public var readTimeout: Duration = .seconds(30)
    /// The certificates the LS and RS present (fault tests swap in the wrong ones).
    public var lsTLS: ServerTLS = .locationServer
    public var rsTLS: ServerTLS = .remoteServer
    /// How the LS answers an unknown SA or a wrong key.
    public var authFailure: AuthFailureAnswer = .armsResult403
    /// Asked before every LS and RS exchange (fault injection); `nil` answers everything normally.
    public var faultHook: ExchangeFaultHook?
    /// Asked for every connection the LS, RS and tunnel listeners accept, before TLS
    /// (`ConnectionFaultContext.role` tells which); `nil` faults none.
    public var connectionFaultHook: ConnectionFaultHook?
    /// UDP port of the heartbeat receiver. 0 (the default here, so that in-process tests
    /// never collide) picks a free one, the same on every address when possible; `serve` uses 18446.
    public var heartbeatPort = 0
    /// Numeric addresses the heartbeat receiver listens on; SAs without heartbeat servers of
    /// their own are sent here (one `heartbeat-info` per address).
    public var heartbeatHosts: [String] = ["127.0.0.1", "::1"]
    /// Accepted heartbeat samples kept per SA.
    public var heartbeatSamples = HeartbeatLedger.defaultSampleCapacity
    /// The https-tunnel endpoint's port on every host. 0 (the default here, so that
    /// in-process tests never collide) picks a free one; `serve` uses 18445.
    public var tunnelPort = 0
    /// The push-method-query answer: method priority, echo interval, result code. Its
    /// `tunnelURLs`, when empty, become the tunnel listener's own URLs (one per host).
    public var pushOffer = PushOffer()
    /// The tunnel endpoint closes a tunnel that received nothing for this long.
    public var tunnelIdleTimeout: Duration = .seconds(130)
    /// The RS listener's addresses (default: `hosts`). The LS hands out one RS URL per
    /// address, so `["127.0.0.1", "127.0.0.2"]` gives two RS on IPv4 loopback.
    public var rsHosts: [String]?
    /// Which of the tunnel listener's hosts the push-method-query offers when
    /// `pushOffer.tunnelURLs` is empty (nil: every one).
    public var offeredTunnelHosts: [String]?

    public init() {}

    /// A mock inside another program (tests, scenarios, the fleet simulator, benchmarks):
    /// every listener on a free port, and nothing written to disk unless `dataDirectory`
    /// names a directory.
    public static func inProcess(dataDirectory: String? = nil) -> ServiceConfiguration {
        var c = ServiceConfiguration()
        c.lsPort = 0
        c.rsPort = 0
        c.controlPort = 0
        c.tunnelPort = 0
        c.heartbeatPort = 0
        c.dataDirectory = dataDirectory
        return c
    }
}

/// The running service side: RS, LS, control API and the data directory, on one event loop group.
public final class ServiceRuntime: Sendable {
    public let configuration: ServiceConfiguration
    public let fleet: FleetStore
    public let journal: Journal
    public let locationServer: LocationServer
    public let remoteServer: RemoteServer
    /// The https-tunnel endpoint and the push operations.
    public let tunnelServer: TunnelServer
    /// The tunnel URLs the listener serves (`https://127.0.0.1:18445/tunnel`).
    public let tunnelURLs: [ARMSURL]
    public let control: ControlAPI
    /// The UDP heartbeat server (heartbeat.md §9).
    public let heartbeatReceiver: HeartbeatReceiver
    public let lsURLs: [ARMSURL]
    public let rsURLs: [ARMSURL]
    public let controlURL: String
    public let dataDirectory: DataDirectory?

    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    private init(configuration: ServiceConfiguration, fleet: FleetStore, journal: Journal, ls: LocationServer, rs: RemoteServer,
                 tunnel: TunnelServer, tunnelURLs: [ARMSURL],
                 control: ControlAPI, heartbeat: HeartbeatReceiver, lsURLs: [ARMSURL], rsURLs: [ARMSURL], controlURL: String, data: DataDirectory?) {
        self.configuration = configuration
        self.tunnelServer = tunnel
        self.tunnelURLs = tunnelURLs
        self.fleet = fleet
        self.journal = journal
        self.locationServer = ls
        self.remoteServer = rs
        self.control = control
        self.heartbeatReceiver = heartbeat
        self.lsURLs = lsURLs
        self.rsURLs = rsURLs
        self.controlURL = controlURL
        self.dataDirectory = data
    }

    /// Starts the RS first (the LS hands out its URLs), then the LS, the control API, and writes the data directory.
    public static func start(_ configuration: ServiceConfiguration) async throws -> ServiceRuntime {
        let fleet = FleetStore(configuration.fleet)
        let journal = Journal()
        let group = MultiThreadedEventLoopGroup.singleton

        // The heartbeat receiver first: the RS hands out its addresses.
        let heartbeat = HeartbeatReceiver(hosts: configuration.heartbeatHosts, port: configuration.heartbeatPort, fleet: fleet,
                                          journal: journal, digests: SwiftCryptoDigests(),
                                          sampleCapacity: configuration.heartbeatSamples, eventLoopGroup: group)
        let heartbeatTargets = try await heartbeat.start()
        // Then the tunnel endpoint: the RS offers its URLs in push-method-query.
        let tunnel = TunnelServer(
            configuration: TunnelServerConfiguration(
                endpoints: configuration.hosts.map { ExchangeEndpoint(host: $0, port: configuration.tunnelPort) },
                tls: configuration.rsTLS, idleTimeout: configuration.tunnelIdleTimeout),
            fleet: fleet, journal: journal, eventLoopGroup: group)
        do { try await tunnel.start() } catch {
            await heartbeat.stop()
            throw error
        }
        let tunnelURLs: [ARMSURL]
        do { tunnelURLs = try tunnel.urls() } catch {
            await tunnel.stop()
            await heartbeat.stop()
            throw StartError(description: "tunnel URLs: \(error)")
        }
        var offer = configuration.pushOffer
        if offer.tunnelURLs.isEmpty {
            let offered = configuration.offeredTunnelHosts.map { hosts in tunnelURLs.filter { hosts.contains($0.host) } } ?? tunnelURLs
            offer.tunnelURLs = Array(offered.prefix(PushOffer.maxEntries))
        }
        var rsConfiguration = RemoteServerConfiguration(authFailure: configuration.authFailure)
        rsConfiguration.heartbeatReceivers = heartbeatTargets
        rsConfiguration.push = offer

        var rsServer = ExchangeServerConfiguration.remoteServer(
            endpoints: (configuration.rsHosts ?? configuration.hosts).map { ExchangeEndpoint(host: $0, port: configuration.rsPort) },
            tls: configuration.rsTLS)
        rsServer.readTimeout = configuration.readTimeout
        let rs: RemoteServer
        do {
            rs = try RemoteServer(configuration: rsConfiguration, fleet: fleet, journal: journal,
                                  server: rsServer, eventLoopGroup: group)
        } catch {
            await tunnel.stop()
            await heartbeat.stop()
            throw StartError(description: "RS configuration: \(error)")
        }
        if let hook = configuration.faultHook { rs.exchange.setFaultHook(hook) }
        applyConnectionFaultHook(configuration.connectionFaultHook, to: [rs.exchange], tunnel: tunnel)
        rs.setPushHandler { admitted in await tunnel.handleSimpleRequest(admitted) }
        do { try await rs.start() } catch {
            await tunnel.stop()
            await heartbeat.stop()
            throw error
        }
        let rsURLs = try rs.urls()

        var lsServer = ExchangeServerConfiguration.locationServer(
            endpoints: configuration.hosts.map { ExchangeEndpoint(host: $0, port: configuration.lsPort) }, tls: configuration.lsTLS)
        lsServer.readTimeout = configuration.readTimeout
        let ls: LocationServer
        do {
            ls = try LocationServer(
                configuration: LocationServerConfiguration(rsURLs: rsURLs, rsRetryMax: configuration.rsRetryMax,
                                                           rsRetryInterval: configuration.rsRetryInterval,
                                                           authFailure: configuration.authFailure),
                fleet: fleet, journal: journal, server: lsServer, eventLoopGroup: group)
        } catch {
            await rs.stop()
            await heartbeat.stop()
            await tunnel.stop()
            throw StartError(description: "LS configuration: \(error)")
        }
        if let hook = configuration.faultHook { ls.exchange.setFaultHook(hook) }
        applyConnectionFaultHook(configuration.connectionFaultHook, to: [ls.exchange], tunnel: nil)
        do {
            try await ls.start()
        } catch {
            await rs.stop()
            await heartbeat.stop()
            await tunnel.stop()
            throw error
        }
        let lsURLs = try ls.urls()

        let statusEndpoints = lsURLs.map { ServiceStatus.Endpoint(role: .ls, address: $0.description) }
            + rsURLs.map { ServiceStatus.Endpoint(role: .rs, address: $0.description) }
            + heartbeatTargets.map { ServiceStatus.Endpoint(role: .heartbeat, address: $0.description) }
            + tunnelURLs.map { ServiceStatus.Endpoint(role: .tunnel, address: $0.description) }
        let control = ControlAPI(store: fleet, journal: journal, port: configuration.controlPort, heartbeat: heartbeat, push: tunnel) {
            ServiceStatus(endpoints: statusEndpoints)
        }
        let port: Int
        do {
            port = try await control.start()
        } catch {
            await ls.stop()
            await rs.stop()
            await heartbeat.stop()
            await tunnel.stop()
            throw error
        }
        let controlURL = "http://127.0.0.1:\(port)"

        var data: DataDirectory?
        if let path = configuration.dataDirectory {
            let dir = DataDirectory(path: path)
            let agentID = configuration.agentSA ?? configuration.fleet.first?.distributionID
            let sa = agentID.flatMap { fleet[$0] }
            do {
                try dir.prepare(endpoints: DataDirectory.Endpoints(lsURLs: lsURLs, control: controlURL),
                                rootCAPEM: TestPKI.rootCACertificatePEM, sa: sa,
                                retryInterval: configuration.lsRetryInterval, retryMax: configuration.lsRetryMax)
            } catch {
                await control.stop()
                await ls.stop()
                await rs.stop()
                await heartbeat.stop()
                await tunnel.stop()
                throw StartError(description: "\(error)")
            }
            data = dir
        }
        return ServiceRuntime(configuration: configuration, fleet: fleet, journal: journal, ls: ls, rs: rs,
                              tunnel: tunnel, tunnelURLs: tunnelURLs, control: control, heartbeat: heartbeat,
                              lsURLs: lsURLs, rsURLs: rsURLs, controlURL: controlURL, data: data)
    }

    /// Stops every listener and removes `control.json`.
    public func stop() async {
        await control.stop()
        await locationServer.stop()
        await remoteServer.stop()
        await tunnelServer.stop()
        await heartbeatReceiver.stop()
        dataDirectory?.removeControlFile()
    }

    /// What the heartbeat receiver knows about one SA; nil if no datagram named it yet.
    public func heartbeatSnapshot(of id: DistributionID) -> HeartbeatSnapshot? {
        heartbeatReceiver.snapshot(of: id)
    }

    /// The heartbeat receiver's counters over all SAs.
    public var heartbeatOverview: HeartbeatOverview { heartbeatReceiver.overview }

    /// The heartbeat receiver's bound addresses, in `heartbeatHosts` order.
    public var heartbeatEndpoints: [HeartbeatTarget] { heartbeatReceiver.endpoints }

    // MARK: - Push (for in-process tests; the control API offers the same)

    /// Sends a push operation to a push-ready SA over one of its confirmed tunnels and
    /// waits until it finished or `timeout` passed (the result is then `timed-out`).
    /// Throws `PushRequestError` (`.notPushReady`, `.unknownSA`, `.unknownOperation`,
    /// `.missingArgument`) when it cannot be sent.
    public func push(_ operation: PushOperationRequest, to sa: DistributionID,
                     timeout: Duration = .seconds(30)) async throws(PushRequestError) -> PushOperationResult {
        try await tunnelServer.push(operation, to: sa, timeout: timeout)
    }

    /// Starts a push operation and returns its id at once (see `pushResult(_:)`).
    public func startPush(_ operation: PushOperationRequest, to sa: DistributionID) throws(PushRequestError) -> Int {
        try tunnelServer.submit(operation, to: sa)
    }

    /// An operation by id (`nil` if unknown or forgotten).
    public func pushResult(_ id: Int) -> PushOperationResult? { tunnelServer.result(id) }

    /// Tunnels (count, family, peer, confirmed) and push-readiness of an SA.
    public func pushStatus(of sa: DistributionID) -> PushStatus { tunnelServer.status(of: sa) }

    /// Closes every tunnel of the SA from the server side (last chunk, then TLS close).
    public func dropTunnels(of sa: DistributionID) { tunnelServer.dropTunnels(of: sa) }

    /// Decides the result code of the RS's answers to X-done requests: `(sa, request) ->
    /// ResultCode?` (`nil` = 100). E.g. answer a configure-done 400 to make libarms roll back
    /// and re-send it with transaction-result 414. `nil` removes the hook.
    public func setDoneAnswer(_ hook: (@Sendable (String, ARMSRequest) -> ResultCode?)?) { tunnelServer.setDoneAnswer(hook) }

    /// Answer (default) or withhold the replies to echo probes on every tunnel.
    public func setEchoReplies(enabled: Bool) { tunnelServer.setEchoReplies(enabled: enabled) }

    /// The one line `serve` prints when ready: every endpoint and file, as JSON.
    public var readyEvent: ReadyEvent {
        ReadyEvent(version: MockService.version, pid: getpid(),
                   ls: lsURLs.map(\.description), rs: rsURLs.map(\.description), tunnel: tunnelURLs.map(\.description),
                   control: controlURL,
                   data: dataDirectory.map { dir in
                       ReadyEvent.Files(directory: absolute(dir.path), ca: absolute(dir.rootCAPath),
                                        initialConfig: absolute(dir.initialConfigPath), armsdConf: absolute(dir.armsdConfPath))
                   },
                   sas: fleet.all.map(\.distributionID.description),
                   heartbeat: heartbeatReceiver.endpoints.map(\.description))
    }

    private func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}

/// `{"event":"ready", …}`.
public struct ReadyEvent: Codable, Equatable, Sendable {
    public struct Files: Codable, Equatable, Sendable {
        public var directory: String
        public var ca: String
        public var initialConfig: String
        public var armsdConf: String
    }

    public var event = "ready"
    public var version: String
    public var pid: Int32
    public var ls: [String]
    public var rs: [String]
    /// The https-tunnel endpoints.
    public var tunnel: [String]?
    public var control: String
    public var data: Files?
    public var sas: [String]
    /// The heartbeat receiver's UDP addresses (`127.0.0.1:18446`, `[::1]:18446`).
    public var heartbeat: [String]?

    /// One line of JSON with sorted keys.
    public var jsonLine: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{\"event\":\"ready\"}"
    }
}
