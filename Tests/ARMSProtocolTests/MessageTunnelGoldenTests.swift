import Testing
@testable import ARMSProtocol

/// The tunnel captures, end to end: chunks → messages → typed values → our
/// encoder's pieces → chunks, byte for byte (given the same chunk ids).
@Suite struct MessageTunnelGoldenTests {
    static let distID = "0001-0000-1234-0056-0000-0000-0000-0001"

    static func messages(_ fixture: String) throws -> [TunnelMessage] {
        var assembler = TunnelMessageAssembler()
        assembler.feed(try Fixture.bytes(fixture))
        var out: [TunnelMessage] = []
        while let event = try assembler.next() {
            if case .message(let m) = event { out.append(m) }
        }
        return out
    }

    /// Files a libarms client wrote: our encoding must reproduce every chunk.
    @Test(arguments: [
        "libarms-5.33-confirm-start-request.chunk",
        "libarms-5.33-confirm-done-response.chunk",
        "libarms-5.33-read-module-list-response.chunk",
        "libarms-5.33-check-transaction-response.chunk",
        "libarms-5.33-ping-start-response.chunk",
        "libarms-5.33-ping-done-request.chunk",
        "libarms-5.33-md-command-response.chunk",
        "libarms-5.33-configure-start-response.chunk",
        "libarms-5.33-configure-done-request.chunk",
        "libarms-5.33-read-status-start-response.chunk",
        "libarms-5.33-read-status-done-request.chunk",
        "libarms-5.33-reboot-response.chunk",
    ])
    func clientChunksReencodeByteForByte(_ fixture: String) throws {
        let messages = try Self.messages(fixture)
        #expect(messages.count == 1)
        let wire = try Fixture.bytes(fixture)
        for m in messages {
            let message = try ARMSMessage.decode(m.data)
            let encoded = message.encode(style: .libarms)
            #expect(encoded.pieces == m.pieces, "piece boundaries of \(fixture)")
            #expect(TunnelChunkEncoder.message(encoded.pieces, id: try #require(m.id)) == wire)
        }
    }

    /// Answers a libarms client accepted: they decode, and ours for the same values say the same.
    @Test(arguments: [
        "mock-accepted-confirm.chunk",
        "mock-accepted-md-command-request.chunk",
        "mock-accepted-configure-start-request.chunk",
        "mock-accepted-configure-done-response.chunk",
        "mock-accepted-read-status-start-request.chunk",
        "mock-accepted-read-status-done-response.chunk",
        "mock-accepted-reboot-request.chunk",
    ])
    func serverChunksDecodeAndReencode(_ fixture: String) throws {
        let messages = try Self.messages(fixture)
        #expect(!messages.isEmpty)
        for m in messages {
            let message = try ARMSMessage.decode(m.data, options: .libarms)
            let ours = message.encode(style: .asciiSafe)
            #expect(ours.bytes == m.data, "\(fixture) re-encodes to the same bytes")
            #expect(try ARMSMessage.decode(ours.bytes, options: .libarms) == message)
        }
    }

    @Test func decodedValuesOfTheCaptures() throws {
        let ping = try ARMSRequest.decode(try Self.messages("libarms-5.33-ping-done-request.chunk")[0].data)
        #expect(ping.type == MessageType(.ping, .done))
        #expect(ping.transactionResult == .success)
        #expect(ping.transactionID == 1237451044)
        #expect(ping.body == .pingResult(success: 3, failure: 0))

        let status = try ARMSRequest.decode(try Self.messages("libarms-5.33-read-status-done-request.chunk")[0].data)
        #expect(status.body == .statusReports([
            StatusReport(moduleID: 0, report: "id=0: get_status_cb() result"),
            StatusReport(moduleID: 1, report: "id=1: get_status_cb() result"),
        ]))

        let md = try ARMSResponse.decode(try Self.messages("libarms-5.33-md-command-response.chunk")[0].data)
        #expect(md.body == .moduleResult(ModuleResult(moduleID: 0, output: "md_command(id=0): done")))

        let confirm = try Self.messages("mock-accepted-confirm.chunk")
        #expect(confirm.count == 2)
        let start = try ARMSResponse.decode(confirm[0].data)
        #expect(start.type == .pushConfirmationStart && start.transactionID == 70418033)
        let done = try ARMSRequest.decode(confirm[1].data)
        #expect(done.type == .pushConfirmationDone && done.transactionID == 70418033 && done.distributionID == Self.distID)

        let configure = try ARMSRequest.decode(try Self.messages("mock-accepted-configure-start-request.chunk")[0].data)
        guard case .configure(let c) = configure.body else { Issue.record("configure body"); return }
        #expect(c.modules.map(\.id) == [0, 1, 2])
        #expect(c.configs == [ModuleConfig(id: 0, content: "hostname router02\ninterface lan0 address 192.168.0.2/24\n")])

        let statusStart = try ARMSRequest.decode(try Self.messages("mock-accepted-read-status-start-request.chunk")[0].data)
        #expect(statusStart.body == .statusRequests([
            StatusRequest(moduleID: 0), StatusRequest(moduleID: 1, parameter: Payload(bytes: Array("param".utf8), encoding: .base64)),
        ]))
    }
}
