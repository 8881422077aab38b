import ARMSProtocol
import Foundation
import MockCore
import MockService
import Testing

private let goodFleet = """
    # two SAs
    version: 1
    sas:
      - distribution-id: 0001-0000-0000-0000-0000-0000-0000-0001
        ls-key: demo-ls-key
        rs-key: demo-rs-key
        label: demo SA
        modules:
          - id: 0
            version: "1.0"
            config: |
              VERSION=1.0
          - id: 1
            version: 1.10
            info: router-main
            config: |
              hostname demo-router
              interface lan0 address 192.168.0.1/24
      - distribution-id: 0001-0000-0000-0000-0000-0000-00ab-0002
        ls-key: "12345"
        rs-key: k2
        modules:
          - id: 7
            config-base64: aMOpbGxvCg==
    """

@Suite struct ServiceFleetFileTests {
    @Test func loadsAGoodFile() throws {
        let sas = try FleetFile.parse(goodFleet)
        #expect(sas.count == 2)
        #expect(sas[0] == SAProfile(
            distributionID: DistributionID(version: 1, vendorCode: 0, saType: 0, saCode: 1),
            lsKey: "demo-ls-key", rsKey: "demo-rs-key", label: "demo SA",
            modules: [
                ModuleProfile(id: 0, version: "1.0", info: "", config: "VERSION=1.0\n"),
                ModuleProfile(id: 1, version: "1.10", info: "router-main",
                              config: "hostname demo-router\ninterface lan0 address 192.168.0.1/24\n"),
            ]))
        #expect(sas[1].distributionID.description == "0001-0000-0000-0000-0000-0000-00AB-0002")
        #expect(sas[1].lsKey == "12345")
        #expect(sas[1].label == nil)
        #expect(sas[1].modules == [ModuleProfile(id: 7, version: nil, info: "", config: "héllo\n", base64: true)])
    }

    @Test func emptyFleetAndOptionalEmptyValues() throws {
        #expect(try FleetFile.parse("version: 1\nsas: []\n").isEmpty)
        let sas = try FleetFile.parse("""
            version: 1
            sas:
              - distribution-id: 0001-0000-0000-0000-0000-0000-0000-0003
                ls-key: a
                rs-key: b
                label:
                modules:
            """)
        #expect(sas.first?.label == nil)
        #expect(sas.first?.modules == [])
    }

    /// Each kind of error names the file, the line and the key.
    @Test(arguments: [
        ("version: 1\nsas:\n  - distribution-id: 0001-0000\n    ls-key: a\n    rs-key: b\n",
         "fleet.yaml:3: sas[0].distribution-id: \"0001-0000\": distribution id must be 39 characters"),
        ("version: 1\nsas:\n  - distribution-id: 0001-0000-0000-0000-0000-0000-0000-0001\n    lskey: a\n    rs-key: b\n",
         "fleet.yaml:4: sas[0].lskey: unknown key (expected one of: distribution-id, ls-key, rs-key, label, modules, heartbeat)"),
        ("version: 1\nsas: []\nextra: 1\n",
         "fleet.yaml:3: extra: unknown key"),
        ("version: 1\nsas:\n  - distribution-id: 0001-0000-0000-0000-0000-0000-0000-0001\n    ls-key: a\n    rs-key: b\n    modules:\n      - id: 1\n        colour: red\n",
         "fleet.yaml:8: sas[0].modules[0].colour: unknown key"),
        ("version: 1\nsas:\n  - distribution-id: 0001-0000-0000-0000-0000-0000-0000-0001\n    rs-key: b\n",
         "fleet.yaml:3: sas[0].ls-key: missing (required)"),
        ("version: 1\nsas:\n  - distribution-id: 0001-0000-0000-0000-0000-0000-0000-0001\n    ls-key: ~\n    rs-key: b\n",
         "fleet.yaml:4: sas[0].ls-key: missing value"),
        ("version: 1\nsas:\n  - distribution-id: 0001-0000-0000-0000-0000-0000-0000-0001\n    ls-key: \(String(repeating: "k", count: 65))\n    rs-key: b\n",
         "fleet.yaml:4: sas[0].ls-key: longer than 64 bytes"),
        ("version: 1\nsas:\n  - distribution-id: 0001-0000-0000-0000-0000-0000-0000-0001\n    ls-key: a\n    rs-key: b\n  - distribution-id: 0001-0000-0000-0000-0000-0000-0000-0001\n    ls-key: a\n    rs-key: b\n",
         "fleet.yaml:6: sas[1].distribution-id: 0001-0000-0000-0000-0000-0000-0000-0001 is listed twice (also sas[0], line 3)"),
        ("version: 1\nsas:\n  - distribution-id: 0001-0000-0000-0000-0000-0000-0000-0001\n    ls-key: a\n    rs-key: b\n    modules:\n      - id: 1\n      - id: 1\n",
         "fleet.yaml:8: sas[0].modules[1].id: module 1 is listed twice (also modules[0])"),
        ("version: 1\nsas:\n  - distribution-id: 0001-0000-0000-0000-0000-0000-0000-0001\n    ls-key: a\n    rs-key: b\n    modules:\n      - id: 0x10\n",
         "fleet.yaml:7: sas[0].modules[0].id: \"0x10\" is not a decimal number from 0 to 4294967295"),
        ("version: 1\nsas:\n  - distribution-id: 0001-0000-0000-0000-0000-0000-0000-0001\n    ls-key: a\n    rs-key: b\n    modules:\n      - id: 1\n        config: x\n        config-base64: eA==\n",
         "fleet.yaml:9: sas[0].modules[0].config-base64: give either config or config-base64, not both"),
        ("version: 1\nsas:\n  - distribution-id: 0001-0000-0000-0000-0000-0000-0000-0001\n    ls-key: a\n    rs-key: b\n    modules:\n      - id: 1\n        config-base64: 'not base64'\n",
         "fleet.yaml:8: sas[0].modules[0].config-base64: base64: invalid character 0x20 at offset 3"),
        ("version: 1\nsas:\n  - distribution-id: 0001-0000-0000-0000-0000-0000-0000-0001\n    ls-key: a\n    rs-key: b\n    modules:\n      - id: 1\n        config: \"caf\\u00e9\"\n",
         "fleet.yaml:8: sas[0].modules[0].config: contains byte 0xC3; a text config is printable ASCII, TAB and LF only (use config-base64 instead)"),
        ("version: 2\nsas: []\n",
         "fleet.yaml:1: version: unsupported version \"2\" (this warplink-mock reads version 1)"),
        ("sas: []\n",
         "fleet.yaml:1: version: missing (required; write `version: 1`)"),
        ("version: 1\nsas:\n  distribution-id: x\n",
         "fleet.yaml:3: sas: expected a list"),
        ("version: 1\nsas:\n  - distribution-id: [a, b\n",
         "fleet.yaml:4: YAML syntax:"),
        ("version: 1\nsas:\n\t- x\n",
         "fleet.yaml:3: YAML syntax: while scanning for the next token found character that cannot start any token (indent with spaces: YAML does not allow tabs there)"),
        ("version: 1\nversion: 1\nsas: []\n",
         "fleet.yaml:1: duplicate key \"version\""),
        ("version: 1\nsas:\n  - &sa\n    distribution-id: 0001-0000-0000-0000-0000-0000-0000-0001\n    ls-key: a\n    rs-key: b\n  - *sa\n",
         "fleet.yaml:3: sas[0]: anchors and aliases (&, *) are not supported"),
        ("", "fleet.yaml:1: empty file"),
    ])
    func errorsNameLineAndKey(yaml: String, expected: String) {
        do {
            let sas = try FleetFile.parse(yaml)
            Issue.record("accepted: \(sas)")
        } catch {
            #expect(error.description.hasPrefix(expected), "got: \(error.description)")
        }
    }

    @Test func refusesOversizedAndDeeplyNestedInput() {
        let big = "version: 1\nsas: []\n#" + String(repeating: "x", count: FleetFile.maxSize)
        #expect(throws: FleetFile.LoadError.self) { try FleetFile.parse(big) }
        do { _ = try FleetFile.parse(big) } catch { #expect(error.description.contains("at most \(FleetFile.maxSize) allowed")) }

        let deep = "version: 1\nsas: " + String(repeating: "[", count: 100_000)
        do { _ = try FleetFile.parse(deep) } catch { #expect(error.description == "fleet.yaml:2: nested deeper than \(FleetFile.maxDepth) levels") }
        let dashes = "version: 1\nsas:\n" + String(repeating: "- ", count: 50_000) + "x\n"
        do { _ = try FleetFile.parse(dashes) } catch { #expect(error.description.hasPrefix("fleet.yaml:3: indented too deeply")) }
        // Brackets and quotes inside a block scalar or a quoted string are text, not nesting.
        let text = "version: 1\nsas:\n  - distribution-id: 0001-0000-0000-0000-0000-0000-0000-0001\n    ls-key: 'a[[[['\n    rs-key: b\n"
            + "    modules:\n      - id: 1\n        config: |\n" + String(repeating: "          {[{[{[{[\n", count: 100)
        #expect(throws: Never.self) { try FleetFile.parse(text) }
    }

    @Test func loadNamesTheFile() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/fleet.yaml"
        do { _ = try FleetFile.load(contentsOf: path) } catch { #expect(error.description == "\(path): cannot read: no such file") }
        try "version: 1\nsas:\n  - ls-key: a\n".write(toFile: path, atomically: true, encoding: .utf8)
        do { _ = try FleetFile.load(contentsOf: path) } catch {
            #expect(error.description == "\(path):3: sas[0].distribution-id: missing (required)")
        }
    }

    @Test func roundTrip() throws {
        var odd = SAProfile(distributionID: DistributionID(version: 1, vendorCode: 0x1234, saType: 0x56, saCode: 0xABCDEF),
                            lsKey: "123", rsKey: "yes", label: "null # not a comment: really",
                            modules: [
                                ModuleProfile(id: 4_294_967_295, version: "1.10", info: "true", config: "  indented first line\n\ttab\n\n\n"),
                                ModuleProfile(id: 2, version: "~", config: "no newline"),
                                ModuleProfile(id: 3, config: "émoji ✓ and\r\nCRLF " + String(repeating: "long line ", count: 30), base64: true),
                                ModuleProfile(id: 4, base64: true),
                            ])
        let profiles = [SAProfile.demo, odd]
        let yaml = try FleetFile.encode(profiles)
        #expect(try FleetFile.parse(yaml) == profiles)
        #expect(yaml.hasPrefix("# WarpLinkMock fleet file"))
        #expect(yaml.contains("version: 1\n"))
        #expect(yaml.contains("ls-key: '123'"))

        #expect(try FleetFile.parse(try FleetFile.encode([])) == [])

        odd.lsKey = ""
        #expect(throws: FleetFile.EncodeError.invalidProfile(index: 1, ProfileIssue(path: "lsKey", message: "must not be empty"))) {
            try FleetFile.encode(profiles.dropLast() + [odd])
        }
    }
}

/// A new empty directory under the system's temporary directory.
func makeTemporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "warplink-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
