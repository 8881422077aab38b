import Testing
@testable import Agent

// Parsers of the system tools' output and the text-mode sanitising (agent.md §5.2, §5.3).
@Suite struct PushOperationRunnerTests {
    @Test func pingSummaryOfIputilsAndBusybox() throws {
        let iputils = "PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.\n\n--- 127.0.0.1 ping statistics ---\n3 packets transmitted, 2 received, 33.3333% packet loss, time 2003ms\n"
        #expect(try #require(PushOperationRunner.pingCounts(iputils)) == (3, 2))
        let busybox = "--- 192.0.2.1 ping statistics ---\n4 packets transmitted, 0 packets received, 100% packet loss\n"
        #expect(try #require(PushOperationRunner.pingCounts(busybox)) == (4, 0))
        #expect(PushOperationRunner.pingCounts("ping: command not found") == nil)
    }

    @Test func tracerouteHopsKeepTheirNumbers() {
        let output = "traceroute to 192.0.2.1 (192.0.2.1), 30 hops max, 60 byte packets\n 1  192.0.2.254  0.321 ms\n 2  *\n 3  192.0.2.1  1.2 ms\n"
        #expect(PushOperationRunner.tracerouteHops(output) == [
            TracerouteHop(hop: 1, address: "192.0.2.254"), TracerouteHop(hop: 2, address: "*"), TracerouteHop(hop: 3, address: "192.0.2.1"),
        ])
    }

    @Test func onlyNumericAddressesReachTheShell() throws {
        #expect(try #require(PushOperationRunner.numericAddress("127.0.0.1")) == ("127.0.0.1", false))
        #expect(try #require(PushOperationRunner.numericAddress("::1")) == ("::1", true))
        #expect(PushOperationRunner.numericAddress("127.0.0.1; rm -rf /") == nil)
        #expect(PushOperationRunner.numericAddress(nil) == nil)
    }

    @Test func textModeReplacesUnprintableBytes() throws {
        let rig = try PushRig()
        #expect(rig.runner.payload([0x41, 0x09, 0x0A, 0x00, 0xFF, 0x7E]) == Payload(bytes: [0x41, 0x09, 0x0A, 0x40, 0x40, 0x7E]))
    }

    @Test func readStorageAndStatusThroughScripts() throws {
        let rig = try PushRig()
        guard case .storedConfigs(let configs) = rig.runner.perform(.readStorage("running")) else { Issue.record("no configs"); return }
        #expect(configs.map(\.id) == [0, 1, 2])
        #expect(configs.first?.content.text == "old config 0\n")
        // No status script configured: 402 (agent.md §5.2).
        #expect(rig.runner.perform(.readStatus([StatusRequest(moduleID: 1)])) == .statusReports([
            StatusReport(moduleID: 1, result: .saFailure, report: ""),
        ]))
        // md-command through the command script.
        #expect(rig.runner.perform(.mdCommand(ModuleCommand(moduleID: 2, command: "show"))) == .moduleOutput(.success, "ran show"))
    }
}
