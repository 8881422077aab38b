import ARMSProtocol
import Agent
import Benchmark
import MockCore
import MockService
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS

// Full pulls per second against the in-process mock, beside bare TLS handshakes of the
// same machine. One iteration:
//
// - "pull": what armsd does at boot, in process: the agent's PullMachine and PullExchanger
//   (system OpenSSL, a new connection and SSL_CTX per exchange, as libarms) run
//   rs-solicitation against the mock LS, then config-solicitation against the mock RS.
//   Two TLS handshakes, two HTTP exchanges, XML both ways, the mock's provisioning logic.
// - "handshake, NIOSSL client": connect, TLS handshake, close, NIOSSL client against a bare
//   NIOSSL server holding the mock LS's certificate, key and TLS settings (no application
//   handler). The baseline the issue names.
// - "handshake, agent client": the same server, the agent's OpenSSL client (what each pull
//   exchange pays for its connection).
//
// The goal: pulls/s ≥ ½ × NIOSSL handshakes/s (a pull holds two handshakes).

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .cpuTotal],
        warmupIterations: 20,
        maxDuration: .seconds(5),
        maxIterations: 100_000
    )
    let rig = PullRig()

    Benchmark("pull (LS + RS, new TLS connection each)") { benchmark in
        guard let settings = rig.settings else { return benchmark.error("no service") }
        for _ in benchmark.scaledIterations {
            let result = PullRig.pull(settings)
            guard case .success = result else { return benchmark.error("pull failed: \(result)") }
        }
    } setup: {
        try await rig.startService()
    } teardown: {
        await rig.stopService()
    }

    Benchmark("handshake, NIOSSL client <-> NIOSSL server") { benchmark in
        guard let port = rig.bareServerPort, let client = rig.nioClientContext else { return benchmark.error("no server") }
        for _ in benchmark.scaledIterations {
            try PullRig.nioHandshake(port: port, context: client)
        }
    } setup: {
        try await rig.startBareServer()
    } teardown: {
        await rig.stopBareServer()
    }

    Benchmark("handshake, agent client (OpenSSL) <-> NIOSSL server") { benchmark in
        guard let port = rig.bareServerPort else { return benchmark.error("no server") }
        let configuration = try TLSClientConfiguration.locationServer(rootCA: TestPKI.rootCACertificatePEM)
        let address = try Agent.SocketAddress.numeric(host: "127.0.0.1", port: UInt16(port))
        for _ in benchmark.scaledIterations {
            let connection = try TLSClientConnection.connect(to: address, configuration: configuration)
            connection.close()
        }
    } setup: {
        try await rig.startBareServer()
    } teardown: {
        await rig.stopBareServer()
    }
}

/// The servers of the benchmarks. Set by each benchmark's setup before its iterations run.
final class PullRig: @unchecked Sendable {
    var runtime: ServiceRuntime?
    var settings: PullSettings?
    var bareServer: (any Channel)?
    var bareServerPort: Int?
    var nioClientContext: NIOSSLContext?

    struct Failure: Error, CustomStringConvertible { let description: String }

    func startService() async throws {
        var c = ServiceConfiguration.inProcess()
        c.heartbeatHosts = ["127.0.0.1"]
        c.lsRetryInterval = 0
        c.lsRetryMax = 1
        let started = try await ServiceRuntime.start(c)
        runtime = started
        let demo = SAProfile.demo
        settings = PullSettings(distributionID: demo.distributionID, lsURLs: started.lsURLs.map(\.description),
                                lsRetry: LSRetryPolicy(rounds: 1, intervalSeconds: 0), lsKey: demo.lsKey)
    }

    func stopService() async {
        await runtime?.stop()
        runtime = nil
    }

    /// One full pull, LS then RS, the way armsd's daemon drives its machine (no scripts, no line control).
    static func pull(_ settings: PullSettings) -> PullResult {
        var machine = PullMachine(settings: settings, knowledge: PullKnowledge(), state: .initial, trigger: "power on boot")
        let exchanger = PullExchanger(distributionID: settings.distributionID, rootCAPEM: TestPKI.rootCACertificatePEM)
        let started = ContinuousClock.now
        func now() -> Double {
            let c = (ContinuousClock.now - started).components
            return Double(c.seconds) + Double(c.attoseconds) / 1e18
        }
        var actions = machine.handle(.start, now: now())
        while true {
            var event: PullEvent?
            for action in actions {
                switch action {
                case .log, .state: break
                case .controlLine(let a, _, _): event = .line(a == .disconnect ? .disconnected : .connected)
                case .exchange(let e): event = .exchanged(exchanger.perform(e) { _ in })
                case .wait: return .failure(.fatal)   // a retry pause: the pull went wrong
                case .finish(let result): return result
                }
            }
            guard let next = event else { return .failure(.fatal) }
            actions = machine.handle(next, now: now())
        }
    }

    /// A NIOSSL server with the mock LS's TLS settings that only completes handshakes.
    func startBareServer() async throws {
        guard bareServer == nil else { return }
        let context = try ServerTLS.locationServer.makeContext()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        bareServer = channel
        bareServerPort = channel.localAddress?.port
        var client = TLSConfiguration.makeClientConfiguration()
        client.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(TestPKI.rootCACertificatePEM.utf8)))
        client.certificateVerification = .noHostnameVerification
        nioClientContext = try NIOSSLContext(configuration: client)
    }

    func stopBareServer() async {
        try? await bareServer?.close()
        bareServer = nil
        bareServerPort = nil
    }

    /// Connect, handshake, close; returns when the client saw the handshake complete.
    static func nioHandshake(port: Int, context: NIOSSLContext) throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let done = group.next().makePromise(of: Void.self)
        let channel = try ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: nil))
                    try channel.pipeline.syncOperations.addHandler(HandshakeWatcher(done: done))
                }
            }
            .connect(host: "127.0.0.1", port: port).wait()
        do {
            try done.futureResult.wait()
        } catch {
            try? channel.close().wait()
            throw error
        }
        try channel.close().wait()
    }
}

/// Fulfils `done` when the TLS handshake completes, fails it if the channel goes first.
final class HandshakeWatcher: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny
    let done: EventLoopPromise<Void>

    init(done: EventLoopPromise<Void>) { self.done = done }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event { done.succeed() }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        done.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.fail(PullRig.Failure(description: "closed before the handshake completed"))
        context.fireChannelInactive()
    }
}
