// swift-tools-version:6.1
import PackageDescription

// WarpLinkMock's benchmarks, a package of their own so that the main package's
// build and `swift test` never compile the benchmark harness.
//
// Run from this directory:  swift package --disable-sandbox benchmark
let package = Package(
    name: "WarpLinkMockBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "WarpLinkMock", path: ".."),
        .package(url: "https://github.com/ordo-one/package-benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // Encode and decode of each pull message, a push request, a tunnel chunk and a heartbeat packet.
        .executableTarget(
            name: "Codec",
            dependencies: [
                .product(name: "ARMSProtocol", package: "WarpLinkMock"),
                // SwiftCryptoDigests signs and verifies the heartbeats.
                .product(name: "MockCore", package: "WarpLinkMock"),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/Codec",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        // HMAC-verified heartbeat datagrams per second through the mock's ledger, on one core.
        .executableTarget(
            name: "HeartbeatIngest",
            dependencies: [
                .product(name: "ARMSProtocol", package: "WarpLinkMock"),
                .product(name: "MockCore", package: "WarpLinkMock"),
                .product(name: "MockRS", package: "WarpLinkMock"),
                .product(name: "MockService", package: "WarpLinkMock"),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/HeartbeatIngest",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        // Server memory per held tunnel at 1k, 5k and 10k simulated SAs (FleetSimulator + in-process mock).
        .executableTarget(
            name: "TunnelsHeld",
            dependencies: [
                .product(name: "FleetSimulator", package: "WarpLinkMock"),
                .product(name: "MockService", package: "WarpLinkMock"),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/TunnelsHeld",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        // md-command round trips per second over held tunnels, and p50/p99 at fixed rates.
        .executableTarget(
            name: "PushThroughput",
            dependencies: [
                .product(name: "MockCore", package: "WarpLinkMock"),
                .product(name: "FleetSimulator", package: "WarpLinkMock"),
                .product(name: "MockService", package: "WarpLinkMock"),
                .product(name: "ARMSProtocol", package: "WarpLinkMock"),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/PushThroughput",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        // Full pulls (LS + RS, new TLS connections) per second against the in-process mock, beside
        // bare TLS handshakes per second (NIOSSL client and the agent's OpenSSL client).
        .executableTarget(
            name: "PullRate",
            dependencies: [
                .product(name: "ARMSProtocol", package: "WarpLinkMock"),
                .product(name: "Agent", package: "WarpLinkMock"),
                .product(name: "MockCore", package: "WarpLinkMock"),
                .product(name: "MockService", package: "WarpLinkMock"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/PullRate",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        // armsd's peak RSS in PUSH_WAIT and its time from start to PUSH_WAIT (custom metrics);
        // runs the release binary built beforehand (docs/benchmarks.md).
        .executableTarget(
            name: "AgentFootprint",
            dependencies: [
                .product(name: "MockCore", package: "WarpLinkMock"),
                .product(name: "MockService", package: "WarpLinkMock"),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/AgentFootprint",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
    ]
)
