import ARMSProtocol
import Foundation
import MockCore
import MockRS
import MockService
import Testing

/// The heartbeat receiver over real UDP on loopback, inside a running service, and its
/// provisioning through the RS pull answer, the fleet file and the control API.
@Suite struct HeartbeatReceiverTests {
    static let demo = SAProfile.demo.distributionID

    static func startService(_ configure: (inout ServiceConfiguration) -> Void = { _ in }) async throws -> ServiceRuntime {
        var c = ServiceConfiguration.inProcess()
        configure(&c)
        return try await ServiceRuntime.start(c)
    }

    /// Sends one UDP datagram from a fresh socket, like libarms.
    static func send(_ bytes: [UInt8], to target: HeartbeatTarget) throws {
        let v6 = target.host.contains(":")
        let fd = socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        let sent: Int
        if v6 {
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            a.sin6_port = UInt16(target.port).bigEndian
            inet_pton(AF_INET6, target.host, &a.sin6_addr)
            sent = withUnsafePointer(to: &a) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = UInt16(target.port).bigEndian
            inet_pton(AF_INET, target.host, &a.sin_addr)
            sent = withUnsafePointer(to: &a) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        #expect(sent == bytes.count)
    }

    static func demoDatagram(passphrase: String = "demo-hb-passphrase", cpu: UInt8 = 42) -> [UInt8] {
        var builder = HeartbeatBuilder(distributionID: demo)
        try? builder.append(.cpuUsage(.init(index: 0, utilization: cpu)))
        try? builder.append(.memory(.init(index: 0, used: 65536, free: 32768)))
        return builder.sign(passphrase: passphrase, digests: SwiftCryptoDigests())
    }

    @Test func datagramsOverIPv4AndIPv6ReachTheLedger() async throws {
        let runtime = try await Self.startService()
        do {
            let endpoints = runtime.heartbeatEndpoints
            try #require(endpoints.count == 2)
            #expect(endpoints[0].host == "127.0.0.1" && endpoints[1].host == "::1")
            #expect(endpoints.allSatisfy { $0.port > 0 })

            try Self.send(Self.demoDatagram(cpu: 10), to: endpoints[0])
            try await waitUntil("the IPv4 heartbeat") { runtime.heartbeatSnapshot(of: Self.demo)?.sampleCount == 1 }
            try Self.send(Self.demoDatagram(cpu: 20), to: endpoints[1])
            try await waitUntil("the IPv6 heartbeat") { runtime.heartbeatSnapshot(of: Self.demo)?.sampleCount == 2 }
            try Self.send(Self.demoDatagram(passphrase: "wrong"), to: endpoints[1])
            try Self.send([0, 1, 2], to: endpoints[0])
            try await waitUntil("the rejections") { runtime.heartbeatOverview.rejectedAll.values.reduce(0, +) == 2 }

            let s = try #require(runtime.heartbeatSnapshot(of: Self.demo))
            #expect(s.samples.map { $0.cpuUsage.first?.utilization } == [10, 20])
            #expect(s.samples[0].source?.hasPrefix("127.0.0.1:") == true)
            #expect(s.samples[1].source?.hasPrefix("[::1]:") == true)
            #expect(s.intervals?.count == 1)
            #expect(s.rejected == ["bad-mac": 1])
            let overview = runtime.heartbeatOverview
            #expect(overview.accepted == 2 && overview.rejected == ["too-short": 1])
            #expect(overview.listening == endpoints.map(\.description))

            // Journal: the first accepted datagram and both rejections, not the second accepted one.
            let entries = runtime.journal.entries { $0.role == .heartbeat }
            #expect(entries.map(\.outcome).sorted() == ["bad-mac", "ok", "too-short"])

            // The control API and its client.
            let client = try ControlClient(url: runtime.controlURL)
            let viaAPI = try #require(try await client.heartbeat(of: Self.demo))
            #expect(viaAPI == s)
            #expect(try await client.heartbeatOverview() == overview)
            let stranger = DistributionID("0001-0000-0000-0000-0000-0000-0000-0077")!
            #expect(try await client.heartbeat(of: stranger) == nil)
            let status = try await client.status()
            #expect(status.endpoints.filter { $0.role == .heartbeat }.map(\.address) == endpoints.map(\.description))
        } catch {
            await runtime.stop()
            throw error
        }
        await runtime.stop()
    }

    @Test func theRSHandsOutTheReceiverAndProfileSettings() throws {
        let receivers = [HeartbeatTarget(host: "127.0.0.1", port: 18446), HeartbeatTarget(host: "::1", port: 18446)]
        let logic = try RemoteServerLogic(configuration: {
            var c = RemoteServerConfiguration()
            c.heartbeatReceivers = receivers
            return c
        }(), fleet: FleetStore([.demo]))
        let infos = logic.heartbeatServers(for: .demo)
        #expect(infos == receivers.map {
            HeartbeatServerInfo(host: $0.host, port: $0.port, passphrase: "demo-hb-passphrase", interval: 60, algorithms: ["hmac-sha1"])
        })
        var own = SAProfile.demo
        own.heartbeat = HeartbeatProfile(passphrase: "p", interval: 2, servers: [HeartbeatTarget(host: "192.0.2.1", port: 10010)])
        #expect(logic.heartbeatServers(for: own) == [HeartbeatServerInfo(host: "192.0.2.1", port: 10010, passphrase: "p", interval: 2,
                                                                         algorithms: ["hmac-sha1"])])
        own.heartbeat = nil
        #expect(logic.heartbeatServers(for: own).isEmpty)

        // The encoded pull answer carries them.
        guard case .configSolicitation(let result) = logic.response(for: .demo).body else {
            Issue.record("not a config-solicitation answer"); return
        }
        #expect(result.heartbeatServers == infos)
    }

    @Test func fleetFileAndJSONCarryHeartbeatSettings() throws {
        let yaml = """
            version: 1
            sas:
              - distribution-id: 0001-0000-0000-0000-0000-0000-0000-0005
                ls-key: l
                rs-key: r
                heartbeat:
                  passphrase: hb-secret
                  interval: 2
                  servers:
                    - host: 127.0.0.1
                      port: 10010
                    - host: "::1"
                      port: 10010
              - distribution-id: 0001-0000-0000-0000-0000-0000-0000-0006
                ls-key: l
                rs-key: r
                heartbeat:
                  passphrase: only-key
                  interval: 300
            """
        let profiles = try FleetFile.parse(yaml)
        try #require(profiles.count == 2)
        #expect(profiles[0].heartbeat == HeartbeatProfile(passphrase: "hb-secret", interval: 2, servers: [
            HeartbeatTarget(host: "127.0.0.1", port: 10010), HeartbeatTarget(host: "::1", port: 10010)]))
        #expect(profiles[1].heartbeat == HeartbeatProfile(passphrase: "only-key", interval: 300))
        #expect(try FleetFile.parse(FleetFile.encode(profiles)) == profiles)

        let six = (0..<6).map { "          - host: 127.0.0.\($0 + 1)\n            port: 1\n" }.joined()
        let tooMany = "version: 1\nsas:\n  - distribution-id: 0001-0000-0000-0000-0000-0000-0000-0005\n    ls-key: l\n    rs-key: r\n"
            + "    heartbeat:\n      passphrase: p\n      interval: 1\n      servers:\n" + six.replacingOccurrences(of: "          ", with: "        ")
        #expect(throws: FleetFile.LoadError.self) { try FleetFile.parse(tooMany) }
        do {
            _ = try FleetFile.parse(tooMany)
        } catch {
            #expect(error.description.contains("sas[0].heartbeat.servers: 6 servers, at most 5"))
        }
        let zero = "version: 1\nsas:\n  - distribution-id: 0001-0000-0000-0000-0000-0000-0000-0005\n    ls-key: l\n    rs-key: r\n"
            + "    heartbeat:\n      passphrase: p\n      interval: 0\n"
        do {
            _ = try FleetFile.parse(zero)
            Issue.record("interval 0 accepted")
        } catch {
            #expect(error.description.contains("sas[0].heartbeat.interval"))
        }

        let json = #"{"distributionID":"0001-0000-0000-0000-0000-0000-0000-0007","lsKey":"l","rsKey":"r","heartbeat":{"passphrase":"k","interval":5}}"#
        let profile = try SAProfileJSON.decode(Array(json.utf8))
        #expect(profile.heartbeat == HeartbeatProfile(passphrase: "k", interval: 5))
        #expect(try SAProfileJSON.decode(SAProfileJSON.encode(profile)) == profile)
        let typo = #"{"distributionID":"0001-0000-0000-0000-0000-0000-0000-0007","lsKey":"l","rsKey":"r","heartbeat":{"passphrase":"k","intervall":5}}"#
        #expect(throws: ProfileIssue(path: "heartbeat.intervall", message: "unknown field (expected: interval, passphrase, servers)")) {
            try SAProfileJSON.decode(Array(typo.utf8))
        }
    }
}
