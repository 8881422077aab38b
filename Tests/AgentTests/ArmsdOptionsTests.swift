import Testing
@testable import Agent

@Suite struct ArmsdOptionsTests {
    @Test func defaults() throws {
        let o = try ArmsdOptions.parse([])
        #expect(o.configPath == "/etc/armsd/armsd.conf")
        #expect(!o.foreground && !o.verbose && o.pushPort == 0 && o.distributionID == nil)
    }

    @Test func maE3xxCommandLine() throws {
        let o = try ArmsdOptions.parse(["-D", "-f", "/etc/armsd/armsd.conf"])
        #expect(o.foreground && o.configPath == "/etc/armsd/armsd.conf")
    }

    @Test func groupedFlagsAndAttachedValues() throws {
        let o = try ArmsdOptions.parse(["-Dvw", "-fconf", "-l", "log.txt", "-b/tmp/x", "-p", "20443",
                                        "-i", "0001-0000-1234-0056-0000-0000-dead-beef"])
        #expect(o.foreground && o.verbose && o.waitBeforeDaemonizing)
        #expect(o.configPath == "conf" && o.logFile == "log.txt" && o.workingDirectory == "/tmp/x" && o.pushPort == 20443)
        #expect(o.distributionID?.id.description == "0001-0000-1234-0056-0000-0000-DEAD-BEEF")
    }

    @Test func deprecatedDAndHeartbeatDebugImplyForegroundVerbose() throws {
        let d = try ArmsdOptions.parse(["-d"])
        #expect(d.foreground && d.verbose)
        let h = try ArmsdOptions.parse(["-H"])
        #expect(h.heartbeatDebug && h.foreground && h.verbose)
    }

    @Test func errors() {
        #expect(throws: ArmsdOptions.ParseError.unknownOption("x")) { try ArmsdOptions.parse(["-x"]) }
        #expect(throws: ArmsdOptions.ParseError.missingValue("f")) { try ArmsdOptions.parse(["-D", "-f"]) }
        #expect(throws: ArmsdOptions.ParseError.unexpectedArgument("extra")) { try ArmsdOptions.parse(["extra"]) }
        #expect(throws: ArmsdOptions.ParseError.badValue(option: "p", value: "99999", reason: "not a port number (0-65535)")) {
            try ArmsdOptions.parse(["-p", "99999"])
        }
        #expect(throws: ArmsdOptions.ParseError.self) { try ArmsdOptions.parse(["-i", "not-an-id"]) }
    }
}
