// swift-tools-version:6.1
import PackageDescription

// Layers, bottom to top:
//   CLibXML2 (system library)  ->  ARMSProtocol (pure codecs)
//   ARMSProtocol  ->  MockLS / MockRS / Agent (roles)
//   roles  ->  warplink-mock / armsd (thin executables)
let package = Package(
    name: "WarpLinkMock",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "ARMSProtocol", targets: ["ARMSProtocol"]),
        .library(name: "MockCore", targets: ["MockCore"]),
        .library(name: "MockLS", targets: ["MockLS"]),
        .library(name: "MockRS", targets: ["MockRS"]),
        .library(name: "MockService", targets: ["MockService"]),
        .library(name: "Agent", targets: ["Agent"]),
        .library(name: "FleetSimulator", targets: ["FleetSimulator"]),
        .executable(name: "warplink-mock", targets: ["warplink-mock"]),
        .executable(name: "armsd", targets: ["armsd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"]), .brew(["libxml2"])]
        ),
        // No cryptography of its own: its two digests (HMAC-SHA1 for heartbeats, MD5 for the
        // state cache) come from the caller's ARMSDigests (swift-crypto on the service side,
        // the system OpenSSL in the agent), so the agent links neither swift-crypto nor
        // BoringSSL nor the Foundation they pull in.
        .target(name: "ARMSProtocol", dependencies: ["CLibXML2"]),
        // Shared by the service-side roles: provisioning, journal, TLS listeners.
        .target(
            name: "MockCore",
            dependencies: [
                "ARMSProtocol",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .target(name: "MockLS", dependencies: ["MockCore"]),
        .target(name: "MockRS", dependencies: ["MockCore"]),
        // The whole service side in one process: LS + RS + control API + data directory.
        .target(
            name: "MockService",
            dependencies: [
                "MockLS", "MockRS",
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // The agent's TLS client runs on the system OpenSSL (libssl-dev); this C
        // target wraps the macros Swift cannot import and the verify callback.
        .target(
            name: "CArmsOpenSSL",
            linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]
        ),
        .target(name: "Agent", dependencies: ["ARMSProtocol", "CArmsOpenSSL"]),
        // Scenario files, the fault plane and the runner behind `warplink-mock run`.
        .target(
            name: "Scenarios",
            dependencies: [
                "MockService", "MockRS", "MockCore",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // N simulated SAs in one process: the Agent's pull and push state machines over NIO.
        .target(
            name: "FleetSimulator",
            dependencies: [
                "Agent", "MockService", "MockRS", "MockCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .executableTarget(
            name: "warplink-mock",
            dependencies: [
                "ARMSProtocol", "MockService", "MockRS", "Scenarios", "FleetSimulator",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The agent keeps its own getopt-style parser (armsd's exact command line)
        // and stays free of Foundation for its memory budget.
        .executableTarget(name: "armsd", dependencies: ["Agent"]),
        // Test support: the published digest vectors each ARMSDigests is checked against.
        .target(name: "DigestVectors", dependencies: ["ARMSProtocol"], path: "Tests/DigestVectors"),
        // swift-crypto for the tests' own ARMSDigests.
        .testTarget(
            name: "ARMSProtocolTests",
            dependencies: ["ARMSProtocol", "DigestVectors", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(name: "AgentTests", dependencies: ["Agent", "DigestVectors"]),
        .testTarget(
            name: "MockTests",
            dependencies: [
                "MockCore", "MockLS", "MockRS", "MockService", "DigestVectors",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .testTarget(name: "ScenariosTests", dependencies: ["Scenarios", "MockService", "MockCore"]),
        .testTarget(name: "Conformance", dependencies: ["ARMSProtocol", "MockService", "MockRS", "Scenarios", "FleetSimulator"]),
    ],
    swiftLanguageModes: [.v6]
)
