import Foundation

// Fixture bytes for the Push* suites. Imports Foundation but not Agent (see
// TransportProcessTests.swift for why the two must not meet in one file).

/// Bytes of Tests/Fixtures/<name>.
func pushFixture(_ name: String) throws -> [UInt8] {
    let url = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Tests/AgentTests
        .deletingLastPathComponent()  // Tests
        .appendingPathComponent("Fixtures", isDirectory: true)
        .appendingPathComponent(name)
    return Array(try Data(contentsOf: url))
}
