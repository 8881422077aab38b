import ARMSProtocol
import Benchmark
import MockCore

// One figure per benchmark: time per operation and allocations per operation of
// the pure codecs in ARMSProtocol. The messages are the sizes a real pull or push
// carries (the config-solicitation answer holds an SA certificate and key, three
// modules and one heartbeat server, about 4.5 KB).

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        warmupIterations: 100,
        maxDuration: .seconds(2),
        maxIterations: 1_000_000
    )

    for sample in CodecSamples.messages {
        let encoded = sample.message.encodedBytes
        Benchmark("encode \(sample.name)") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(sample.message.encodedBytes)
            }
        }
        Benchmark("decode \(sample.name)") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try ARMSMessage.decode(encoded, expecting: sample.message.type))
            }
        }
    }

    // Tunnel framing: an md-command answer split into libarms's pieces, one chunk per piece.
    let reply = CodecSamples.mdCommandResponse.encode()
    let framed = TunnelChunkEncoder.message(reply.pieces, id: 0x1234_5678)
    Benchmark("encode tunnel chunks (md-command answer, \(framed.count) B)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(TunnelChunkEncoder.message(reply.pieces, id: 0x1234_5678))
        }
    }
    Benchmark("decode tunnel chunks (md-command answer, \(framed.count) B)") { benchmark in
        for _ in benchmark.scaledIterations {
            var assembler = TunnelMessageAssembler()
            assembler.feed(framed)
            while let event = try assembler.next() { blackHole(event) }
        }
    }

    // Heartbeat: the datagram armsd sends with CPU, memory, disk and one interface.
    let builder = CodecSamples.heartbeatBuilder()
    let datagram = builder.sign(passphrase: CodecSamples.passphrase, digests: SwiftCryptoDigests())
    Benchmark("heartbeat build + sign (\(datagram.count) B)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(CodecSamples.heartbeatBuilder().sign(passphrase: CodecSamples.passphrase, digests: SwiftCryptoDigests()))
        }
    }
    Benchmark("heartbeat decode (\(datagram.count) B)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try HeartbeatDatagram(decoding: datagram))
        }
    }
    Benchmark("heartbeat decode + HMAC verify (\(datagram.count) B)") { benchmark in
        for _ in benchmark.scaledIterations {
            let decoded = try HeartbeatDatagram(decoding: datagram)
            precondition(decoded.verify(passphrase: CodecSamples.passphrase, digests: SwiftCryptoDigests()))
            blackHole(decoded)
        }
    }
}

/// The messages measured, built the way the mocks and the agent build them.
enum CodecSamples {
    struct Sample {
        let name: String
        let message: ARMSMessage
    }

    static let id = "0001-0000-0000-0000-0000-0000-0000-0001"
    static let passphrase = "heartbeat-passphrase"

    static let certificate = "-----BEGIN CERTIFICATE-----\n"
        + String(repeating: String(repeating: "A", count: 64) + "\n", count: 18)
        + "-----END CERTIFICATE-----\n"
    static let privateKey = "-----BEGIN PRIVATE KEY-----\n"
        + String(repeating: String(repeating: "B", count: 64) + "\n", count: 26)
        + "-----END PRIVATE KEY-----\n"

    static let mdCommandResponse = ARMSResponse.standard(
        MessageType(.mdCommand),
        body: .moduleResult(ModuleResult(moduleID: 0, output: Payload(text: String(repeating: "interface lan0 up 1500\n", count: 40)))))

    static let messages: [Sample] = [
        Sample(name: "rs-solicitation request", message: .request(ARMSRequest(
            type: .rsSolicitation, distributionID: id, description: "armsd", body: .rsSolicitation(trigger: "power on boot")))),
        Sample(name: "rs-solicitation answer", message: .response(.standard(.rsSolicitation, body: .rsSolicitation(RSSolicitationResult(
            rsPresharedKey: "demo-rs-key", llTimeout: 30, rsRetryMax: 3, rsRetryInterval: 10, lifetime: 86400,
            urls: ["https://127.0.0.1:18444/rs", "https://[::1]:18444/rs"],
            locationConfigs: ["line-dhcp {\n ifindex 0;\n};\n"]))))),
        Sample(name: "config-solicitation request", message: .request(ARMSRequest(
            type: .configSolicitation, distributionID: id, description: "armsd",
            body: .configSolicitation(ConfigSolicitationRequest(trigger: "power on boot"))))),
        Sample(name: "config-solicitation answer", message: .response(.standard(.configSolicitation, body: .configSolicitation(
            ConfigSolicitationResult(
                saCertificate: certificate, saPrivateKey: privateKey,
                proposedPushPort: 10443, proposedPushTimeout: 60,
                heartbeatServers: [HeartbeatServerInfo(host: "127.0.0.1", port: 18446, passphrase: passphrase, interval: 300,
                                                       algorithms: ["hmac-sha1"])],
                rsPullServerURLs: ["https://127.0.0.1:18444/rs"],
                modules: [ModuleInfo(id: 0, version: "1.0", info: "router-main"), ModuleInfo(id: 1, version: "2.1", info: "wan"),
                          ModuleInfo(id: 2, version: "0.9", info: "vpn")],
                configs: [ModuleConfig(id: 0, content: Payload(text: String(repeating: "hostname router1\n", count: 20))),
                          ModuleConfig(id: 1, content: Payload(text: String(repeating: "interface wan0 dhcp\n", count: 20))),
                          ModuleConfig(id: 2, content: Payload(bytes: Array(repeating: 0xA5, count: 512), encoding: .base64))]))))),
        Sample(name: "push md-command request", message: .request(ARMSRequest(
            type: MessageType(.mdCommand), distributionID: id, body: .mdCommand([ModuleCommand(moduleID: 0, command: "show interface")])))),
        Sample(name: "push md-command answer", message: .response(mdCommandResponse)),
    ]

    static func heartbeatBuilder() -> HeartbeatBuilder {
        var builder = HeartbeatBuilder(distributionID: DistributionID(id)!)
        let statistics: [HeartbeatStatistic] = [
            .cpuUsage(.init(index: 0, utilization: 12)),
            .cpuUsage(.init(index: 1, utilization: 7)),
            .cpuDetail(.init(index: 0, idle: 88, interrupt: 1, user: 6, system: 4, other: 1)),
            .memory(.init(index: 0, used: 180 << 20, free: 330 << 20)),
            .disk(.init(index: 0, used: 40 << 20, free: 900 << 20)),
            .trafficCount(.init(index: 0, inOctets: 123_456_789, outOctets: 98_765_432, inPackets: 100_000, outPackets: 90_000,
                                inErrors: 1, outErrors: 0)),
            .trafficRate(.init(index: 0, inOctets: 1200, outOctets: 800, inPackets: 12, outPackets: 9, inErrors: 0, outErrors: 0)),
        ]
        for statistic in statistics { try! builder.append(statistic) }
        return builder
    }
}

extension ARMSMessage {
    /// The message as one buffer, the way it goes on the wire.
    var encodedBytes: [UInt8] {
        switch self {
        case .request(let request): return request.encode().bytes
        case .response(let response): return response.encode().bytes
        }
    }
}
