import ARMSProtocol
import MockCore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The mock heartbeat server on the network: UDP sockets (one per address) feeding a
/// ``HeartbeatLedger``. It never replies. Passphrases come from the fleet store at the
/// moment each datagram arrives (the SA profile's `heartbeat.passphrase`).
///
/// ```swift
/// let receiver = HeartbeatReceiver(hosts: ["127.0.0.1", "::1"], port: 0, fleet: fleet, journal: journal,
///                                   digests: SwiftCryptoDigests())
/// let bound = try await receiver.start()       // [127.0.0.1:41234, [::1]:41234]
/// …
/// receiver.snapshot(of: id)?.sampleCount
/// await receiver.stop()
/// ```
public final class HeartbeatReceiver: Sendable {
    /// Numeric addresses to listen on.
    public let hosts: [String]
    /// The port asked for; 0 picks a free one (the same for every address when possible).
    public let requestedPort: Int
    public let fleet: FleetStore
    public let journal: Journal
    private let group: any EventLoopGroup
    private let ledger: NIOLockedValueBox<HeartbeatLedger>
    private let channels = NIOLockedValueBox<[any Channel]>([])
    private let bound = NIOLockedValueBox<[HeartbeatTarget]>([])
    private let faultHook = NIOLockedValueBox<HeartbeatDatagramFaultHook?>(nil)

    /// Largest datagram read whole (anything above the ledger's limit is rejected as too long).
    static let receiveBufferSize = 65_536

    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(hosts: [String], port: Int, fleet: FleetStore, journal: Journal, digests: any ARMSDigests,
                sampleCapacity: Int = HeartbeatLedger.defaultSampleCapacity, eventLoopGroup: (any EventLoopGroup)? = nil) {
        self.hosts = hosts
        self.requestedPort = port
        self.fleet = fleet
        self.journal = journal
        self.group = eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton
        self.ledger = NIOLockedValueBox(HeartbeatLedger(digests: digests, sampleCapacity: sampleCapacity))
    }

    /// Binds every host; returns the bound addresses in host order. On failure nothing stays bound.
    @discardableResult
    public func start() async throws -> [HeartbeatTarget] {
        var opened: [any Channel] = []
        var targets: [HeartbeatTarget] = []
        var sharedPort = requestedPort
        do {
            for host in hosts {
                let channel: any Channel
                if requestedPort == 0, sharedPort != 0, let c = try? await bind(host: host, port: sharedPort) {
                    channel = c
                } else {
                    do {
                        channel = try await bind(host: host, port: requestedPort)
                    } catch {
                        throw StartError(description: "heartbeat: cannot listen on UDP \(HeartbeatTarget(host: host, port: requestedPort)): \(error)")
                    }
                }
                opened.append(channel)
                let port = channel.localAddress?.port ?? 0
                if sharedPort == 0 { sharedPort = port }
                targets.append(HeartbeatTarget(host: host, port: port))
            }
        } catch {
            for c in opened { try? await c.close() }
            throw error
        }
        channels.withLockedValue { $0 = opened }
        bound.withLockedValue { $0 = targets }
        return targets
    }

    private func bind(host: String, port: Int) async throws -> any Channel {
        let address = try SocketAddress(ipAddress: host, port: port)
        return try await DatagramBootstrap(group: group)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: Self.receiveBufferSize))
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(HeartbeatDatagramHandler(receiver: self))
                }
            }
            .bind(to: address).get()
    }

    /// Closes every socket.
    public func stop() async {
        let open = channels.withLockedValue { c in defer { c = [] }; return c }
        for c in open { try? await c.close() }
    }

    /// The bound addresses (empty before `start()`).
    public var endpoints: [HeartbeatTarget] { bound.withLockedValue { $0 } }

    /// What the receiver knows about one SA; nil if no datagram named it yet.
    public func snapshot(of id: DistributionID) -> HeartbeatSnapshot? {
        ledger.withLockedValue { $0.snapshot(of: id) }
    }

    /// Accepted datagrams so far, all SAs (cheap: no overview is built).
    public var acceptedCount: Int { ledger.withLockedValue { $0.accepted } }

    /// Counters over all SAs, with the listening addresses.
    public var overview: HeartbeatOverview {
        var o = ledger.withLockedValue { $0.overview }
        o.listening = endpoints.map(\.description)
        return o
    }

    /// Installs (or, with nil, removes) the fault hook asked once per received datagram
    /// before the ledger (see ``HeartbeatDatagramFault``).
    public func setDatagramFault(_ hook: HeartbeatDatagramFaultHook?) {
        faultHook.withLockedValue { $0 = hook }
    }

    /// What each socket does per read: asks the fault hook, applies its decision, then
    /// checks and records the datagram (none, one or two copies of it); journals per the
    /// ledger's policy. Returns the ledger's verdicts in order (empty when dropped).
    @discardableResult
    public func receive(_ bytes: [UInt8], source: String?) -> [HeartbeatLedger.Outcome] {
        guard let hook = faultHook.withLockedValue({ $0 }) else { return [ingest(bytes, source: source)] }
        let claimed = HeartbeatDatagram.claimedDistributionID(bytes)
        let fault = hook(HeartbeatDatagramFaultContext(source: source, byteCount: bytes.count, claimedSA: claimed))
        guard fault != .none else { return [ingest(bytes, source: source)] }
        noteFault(fault, claimed: claimed, byteCount: bytes.count, source: source)
        switch fault {
        case .none: return [ingest(bytes, source: source)]
        case .drop: return []
        case .duplicate: return [ingest(bytes, source: source), ingest(bytes, source: source)]
        case .corrupt: return [ingest(HeartbeatDatagramFault.corrupted(bytes), source: source)]
        }
    }

    /// Counts an applied fault (charged to the claimed SA when it is provisioned) and
    /// journals it with the ledger's thinning.
    private func noteFault(_ fault: HeartbeatDatagramFault, claimed: DistributionID?, byteCount: Int, source: String?) {
        let sa = claimed.flatMap { fleet[$0] != nil ? $0 : nil }
        let count = ledger.withLockedValue { $0.noteFault(fault, sa: sa) }
        guard HeartbeatLedger.journals(count: count), let outcome = fault.outcome else { return }
        var detail = "heartbeat datagram fault: \(fault.rawValue)"
        if count > HeartbeatLedger.journalFirstRejections { detail += " (#\(count) of this kind)" }
        journal.append(JournalEntry(time: Self.wallClockSeconds(), role: .heartbeat, sa: sa?.description, messageType: "heartbeat",
                                    bytesIn: byteCount, outcome: outcome, detail: detail, peer: source))
    }

    /// Checks and records one datagram in the ledger; journals per the ledger's policy.
    private func ingest(_ bytes: [UInt8], source: String?) -> HeartbeatLedger.Outcome {
        let wall = Self.wallClockSeconds()
        let now = ContinuousClock.now
        let fleet = self.fleet
        let outcome = ledger.withLockedValue {
            $0.ingest(bytes, source: source, monotonic: now, wallTime: wall) { id in
                fleet[id].map { profile in profile.heartbeat.map { [$0.passphrase] } ?? [] }
            }
        }
        if outcome.shouldJournal {
            var entry = JournalEntry(time: wall, role: .heartbeat, messageType: "heartbeat", bytesIn: bytes.count, outcome: "ok",
                                     peer: source)
            switch outcome {
            case .accepted(let id, _, let warnings):
                entry.sa = id.description
                entry.detail = "first heartbeat accepted" + (warnings > 0 ? " (\(warnings) warning(s))" : "")
            case .rejected(let reason, let sa, let detail, let count):
                entry.sa = sa?.description
                entry.outcome = reason.rawValue
                entry.detail = count > HeartbeatLedger.journalFirstRejections ? "\(detail) (rejection #\(count) of this kind)" : detail
            }
            journal.append(entry)
        }
        return outcome
    }

    static func wallClockSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}

/// Hands each datagram to the receiver; never writes.
private final class HeartbeatDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let receiver: HeartbeatReceiver

    init(receiver: HeartbeatReceiver) { self.receiver = receiver }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let bytes = Array(envelope.data.readableBytesView)
        receiver.receive(bytes, source: Self.describe(envelope.remoteAddress))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A UDP read error (e.g. ICMP feedback) must not close the listener.
    }

    static func describe(_ address: SocketAddress) -> String {
        guard let ip = address.ipAddress, let port = address.port else { return "\(address)" }
        return HeartbeatTarget(host: ip, port: port).description
    }
}
