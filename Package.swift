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
        .library(name: "MockLS", targets: ["MockLS"]),
        .library(name: "MockRS", targets: ["MockRS"]),
        .library(name: "Agent", targets: ["Agent"]),
        .executable(name: "warplink-mock", targets: ["warplink-mock"]),
        .executable(name: "armsd", targets: ["armsd"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"]), .brew(["libxml2"])]
        ),
        .target(
            name: "ARMSProtocol",
            dependencies: [
                "CLibXML2",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(name: "MockLS", dependencies: ["ARMSProtocol"]),
        .target(name: "MockRS", dependencies: ["ARMSProtocol"]),
        // The agent's TLS client runs on the system OpenSSL (libssl-dev); this C
        // target wraps the macros Swift cannot import and the verify callback.
        .target(
            name: "CArmsOpenSSL",
            linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]
        ),
        .target(name: "Agent", dependencies: ["ARMSProtocol", "CArmsOpenSSL"]),
        .executableTarget(
            name: "warplink-mock",
            dependencies: [
                "ARMSProtocol", "MockLS", "MockRS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The agent keeps its own getopt-style parser (armsd's exact command line)
        // and stays free of Foundation for its memory budget.
        .executableTarget(name: "armsd", dependencies: ["Agent"]),
        .testTarget(name: "ARMSProtocolTests", dependencies: ["ARMSProtocol"]),
        .testTarget(name: "AgentTests", dependencies: ["Agent"]),
        .testTarget(name: "Conformance", dependencies: ["ARMSProtocol"]),
    ],
    swiftLanguageModes: [.v6]
)
