@testable import Agent
import ARMSProtocol
import Glibc
import Testing

/// The heartbeat sender over real UDP on loopback (heartbeat.md §4, §6, §7).
@Suite(.blocksPoolThread) struct HeartbeatSenderTests {
    static let id = DistributionID("0001-0000-1234-0080-0000-0000-DEAD-BEEF")!

    /// A UDP socket bound to a loopback port, standing in for a heartbeat server.
    final class UDPServer {
        let fd: Int32
        let port: UInt16
        let host: String

        init(host: String = "127.0.0.1") throws {
            self.host = host
            let fd = socket(host.contains(":") ? AF_INET6 : AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            try #require(fd >= 0)
            let bound = try SocketAddress.numeric(host: host, port: 0).withSockAddr { bind(fd, $0, $1) }
            guard bound == 0, let local = socketAddress(of: fd, peer: false) else {
                close(fd)
                throw HarnessError(description: "bind: \(errno)")
            }
            self.fd = fd
            port = local.port
        }

        deinit { close(fd) }

        /// The next datagram, waiting at most `milliseconds`.
        func receive(milliseconds: Int32 = 5000) -> [UInt8]? {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, milliseconds) == 1 else { return nil }
            var buffer = [UInt8](repeating: 0, count: 65536)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            return n >= 0 ? Array(buffer[..<n]) : nil
        }

        func info(passphrase: String, interval: Int) -> HeartbeatServerInfo {
            HeartbeatServerInfo(host: host, port: Int(port), passphrase: passphrase, interval: interval, algorithms: ["hmac-sha1"])
        }
    }

    /// Fixed statistics (simple-armsd's values, heartbeat.md §5).
    final class FixedSource: HeartbeatStatisticsSource {
        var calls = 0
        func collect(now: ContinuousClock.Instant) -> [HeartbeatStatistic] {
            calls += 1
            return [.cpuUsage(.init(index: 0, utilization: 50)), .memory(.init(index: 0, used: 65536, free: 32768))]
        }
    }

    @Test func sendsSignedDatagramsToIPv4AndIPv6Servers() throws {
        let v4 = try UDPServer(), v6 = try UDPServer(host: "::1")
        let log = MemoryLogSink()
        let source = FixedSource()
        let sender = HeartbeatSender(distributionID: Self.id, source: source, logger: Logger(sinks: [log], verbose: true))
        let t0 = ContinuousClock.now
        sender.start(servers: [v4.info(passphrase: "key-four", interval: 1), v6.info(passphrase: "key-six", interval: 1),
                               HeartbeatServerInfo(host: "heartbeat.example", port: 10010, passphrase: "x", interval: 1)],
                     now: t0)
        #expect(sender.nextDeadline == t0)
        #expect(log.messages == ["log callback: 80 - Start heartbeat (interval: 1 sec)",
                                 "log callback: 82 -  heartbeat server: 127.0.0.1",
                                 "log callback: 82 -  heartbeat server: ::1"])
        sender.tick(now: t0)
        #expect(source.calls == 1)
        #expect(sender.sentCount == 2)

        let a = try HeartbeatDatagram(decoding: try #require(v4.receive()))
        #expect(a.distributionID == Self.id)
        #expect(a.verify(passphrase: "key-four", digests: OpenSSLDigests()) && !a.verify(passphrase: "key-six", digests: OpenSSLDigests()))
        #expect(a.statistics == [.cpuUsage(.init(index: 0, utilization: 50)), .memory(.init(index: 0, used: 65536, free: 32768))])
        let b = try HeartbeatDatagram(decoding: try #require(v6.receive()))
        #expect(b.verify(passphrase: "key-six", digests: OpenSSLDigests()))
        #expect(b.statistics == a.statistics)
        #expect(log.messages.contains("log callback: 200 - Sent heartbeat to ::1"))

        sender.stop()
        #expect(sender.nextDeadline == nil)
        #expect(log.messages.last == "log callback: 81 - Stop heartbeat.")
    }

    @Test func fixedRateScheduleWithARealShortInterval() throws {
        let server = try UDPServer()
        let sender = HeartbeatSender(distributionID: Self.id, source: FixedSource(), logger: Logger(sinks: []))
        let clock = ContinuousClock()
        let start = clock.now
        sender.start(servers: [server.info(passphrase: "k", interval: 1)], now: start)
        var arrivals: [ContinuousClock.Instant] = []
        let end = start + .seconds(10)
        while arrivals.count < 3, clock.now < end {
            sender.tick(now: clock.now)
            let wait = max(0, min(200, Int32((try #require(sender.nextDeadline) - clock.now) / .milliseconds(1))))
            if server.receive(milliseconds: wait) != nil { arrivals.append(clock.now) }
        }
        try #require(arrivals.count == 3)
        // First at once, then one per second (fixed rate, measured loosely on a busy machine).
        #expect(arrivals[0] - start < .milliseconds(500))
        #expect(arrivals[2] - arrivals[0] > .milliseconds(1500))
        #expect(arrivals[2] - arrivals[0] < .milliseconds(4000))
    }

    @Test func scheduleArithmetic() throws {
        let server = try UDPServer()
        let source = FixedSource()
        let sender = HeartbeatSender(distributionID: Self.id, source: source, logger: Logger(sinks: []))
        let t0 = ContinuousClock.now
        sender.start(servers: [server.info(passphrase: "k", interval: 10)], now: t0)
        sender.tick(now: t0 + .milliseconds(30))
        #expect(sender.nextDeadline == t0 + .seconds(10))      // from when it was due, not when it ran
        sender.tick(now: t0 + .seconds(5))
        #expect(source.calls == 1)                              // not due yet
        sender.tick(now: t0 + .seconds(35))                     // far behind: one tick, no burst
        #expect(source.calls == 2)
        #expect(sender.nextDeadline == t0 + .seconds(40))
        sender.skipDueTicks(now: t0 + .seconds(41))             // a configure ran over the tick
        #expect(source.calls == 2)
        #expect(sender.nextDeadline == t0 + .seconds(50))
        sender.isPaused = true                                  // arms_hb_stop: collect, don't send
        sender.tick(now: t0 + .seconds(50))
        #expect(source.calls == 3)
        #expect(sender.sentCount == 2)
    }

    @Test func unusableListsDoNotStartAndSendErrorsDoNotStopTheAgent() throws {
        let log = MemoryLogSink()
        let sender = HeartbeatSender(distributionID: Self.id, source: FixedSource(), logger: Logger(sinks: [log], verbose: true))
        let now = ContinuousClock.now
        sender.start(servers: [], now: now)
        #expect(sender.nextDeadline == nil)
        sender.start(servers: [HeartbeatServerInfo(host: "127.0.0.1", port: 1, passphrase: "k", interval: 0)], now: now)
        #expect(sender.nextDeadline == nil)
        sender.start(servers: [HeartbeatServerInfo(host: "127.0.0.1", port: 1, passphrase: "k", interval: 5),
                               HeartbeatServerInfo(host: "::1", port: 1, passphrase: "k", interval: 6)], now: now)
        #expect(sender.nextDeadline == nil)
        #expect(log.lines.contains("WARN heartbeat: heartbeat-info entries have different intervals; heartbeat not started"))
        sender.start(servers: [HeartbeatServerInfo(host: "sacm.example.jp", port: 10010, passphrase: "k", interval: 5)], now: now)
        #expect(sender.nextDeadline == nil)
        sender.addressFamily = .ipv6
        sender.start(servers: [HeartbeatServerInfo(host: "127.0.0.1", port: 10010, passphrase: "k", interval: 5)], now: now)
        #expect(sender.nextDeadline == nil)
        sender.addressFamily = nil

        // Port 0 cannot be sent to; a broadcast address is refused without SO_BROADCAST. Neither throws nor stops the schedule.
        sender.start(servers: [HeartbeatServerInfo(host: "127.0.0.1", port: 0, passphrase: "k", interval: 5),
                               HeartbeatServerInfo(host: "255.255.255.255", port: 10010, passphrase: "k", interval: 5)], now: now)
        sender.tick(now: now)
        #expect(sender.failedCount == 2 && sender.sentCount == 0)
        #expect(sender.nextDeadline == now + .seconds(5))
        #expect(log.lines.contains { $0.hasPrefix("DEBUG heartbeat: cannot send to 127.0.0.1:0:") })
    }
}
