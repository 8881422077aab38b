import ARMSProtocol
import Foundation
import MockCore
import MockRS
import MockService
import Testing

/// The built `armsd` in https-simple mode (push.md §4.2, §7): its listener on `-p`,
/// the RS connecting to it for the confirmation and for every operation, and async
/// `-done` requests POSTed back to the RS.
@Suite struct PushSimpleConformanceTests {
    static let sa = SAProfile.demo.distributionID

    static func withSimpleAgent(_ configure: @escaping (inout ServiceConfiguration) -> Void = { _ in },
                                _ body: (PullRig, RunningProcess, Int) async throws -> Void) async throws {
        let port = try freeTCPPort()
        try await PushTunnelConformanceTests.withPushReadyAgent({ configuration in
            configuration.pushOffer.methods = [PushMethod.httpsSimple]
            configure(&configuration)
        }, extra: ["-p", "\(port)"]) { rig, agent in
            try await body(rig, agent, port)
        }
    }

    @Test func confirmationOverTheListener() async throws {
        try await Self.withSimpleAgent { rig, _, port in
            let status = rig.runtime.pushStatus(of: Self.sa)
            #expect(status.mode == PushMethod.httpsSimple, "\(status)")
            #expect(status.simpleEndpoint == "https://127.0.0.1:\(port)/", "\(status)")
            #expect(rig.log.contains("Push method: simple"))
            let changes = rig.stateChanges
            #expect(changes.suffix(2) == ["PULLDONE -> PUSH_SENDREADY", "PUSH_SENDREADY -> PUSH_WAIT"], "\(changes)")
            let confirm = rig.journal(.rs).filter { $0.messageType == "push-confirmation-start" }
            #expect(confirm.count == 1 && confirm.first?.resultCode == 100)
        }
    }

    @Test func syncAndAsyncOperations() async throws {
        try await Self.withSimpleAgent { rig, _, _ in
            let command = try await rig.runtime.push(.mdCommand("show simple", module: 1), to: Self.sa)
            #expect(command.mode == PushMethod.httpsSimple)
            #expect(command.output.first?.text == "ran:show simple", "\(command)")

            // Async: start answered on the listener, the done request POSTed to the RS.
            let status = try await rig.runtime.push(.readStatus(modules: [1], parameter: "mem"), to: Self.sa)
            #expect(status.transactionResult == 100, "\(status)")
            #expect(status.output.first?.text == "status of 1:mem")
            let ping = try await rig.runtime.push(.ping("127.0.0.1", count: 1), to: Self.sa)
            #expect(ping.pingSuccess == 1, "\(ping)")
            // The done request came to the RS as an HTTPS POST of its own (push.md §7.5); the
            // exchange is journaled once its answer is written.
            try await waitUntil("ping-done journaled by the RS", timeout: 10) {
                rig.journal(.rs).contains { $0.messageType == "ping-done" }
            }
            let dones = rig.journal(.rs).filter { $0.messageType == "ping-done" }
            #expect(dones.count == 1 && dones.first?.resultCode == 100, "\(dones)")

            let list = try await rig.runtime.push(.readModuleList, to: Self.sa)
            #expect(list.modules?.map(\.id) == [0, 1], "\(list)")
        }
    }

    @Test func theOtherOperationsOverTheListener() async throws {
        try await Self.withSimpleAgent { rig, agent, _ in
            let debug = try await rig.runtime.push(.dumpDebug, to: Self.sa)
            #expect(debug.output.map(\.text).joined().contains("Push Method: simple"), "\(debug)")
            let check = try await rig.runtime.push(.checkTransaction, to: Self.sa)
            #expect(check.resultCode == 100, "\(check)")
            let clear = try await rig.runtime.push(.clearStatus(modules: [0], parameter: "all"), to: Self.sa)
            #expect(clear.output.map(\.text) == ["cleared 0"], "\(clear)")
            let trace = try await rig.runtime.push(.traceroute("127.0.0.1", count: 1, maxHop: 2), to: Self.sa)
            #expect(trace.hops?.first == PushHop(hop: 1, address: "127.0.0.1"), "\(trace)")

            // pull-config: the loop ends, the agent pulls from the RS again and confirms anew.
            let pull = try await rig.runtime.push(.pullConfig("RS"), to: Self.sa)
            #expect(pull.resultCode == 100, "\(pull)")
            try await waitUntil("confirmed again after the re-pull", timeout: 30) {
                rig.journal(.rs).filter { $0.messageType == "config-solicitation" }.count == 2
                    && rig.stateChanges.filter { $0 == "PUSH_SENDREADY -> PUSH_WAIT" }.count == 2
                    && rig.runtime.pushStatus(of: Self.sa).pushReady
            }

            // reboot: stop for every module, then the reboot script, and armsd exits.
            let reboot = try await rig.runtime.push(.reboot, to: Self.sa)
            #expect(reboot.resultCode == 100, "\(reboot)")
            _ = try await agent.waitExit(timeout: 30)
            #expect(rig.scriptCalls.compactMap(\.first).filter { ["stop", "reboot"].contains($0) }.suffix(3) == ["stop", "stop", "reboot"])
        }
    }

    /// After a successful configure https-simple tears the loop down and confirms again
    /// (push.md §4.4): PUSH_WAIT -> PUSH_REBOOT -> PUSH_SENDREADY -> PUSH_WAIT.
    @Test func configureThenReconfirmation() async throws {
        try await Self.withSimpleAgent { rig, _, _ in
            let result = try await rig.runtime.push(.configure([PushConfigArgument(module: 1, text: "hostname simple\n")]), to: Self.sa)
            #expect(result.transactionResult == 100, "\(result)")
            #expect(rig.receivedConfig(1) == "hostname simple\n")
            try await waitUntil("confirmation redone", timeout: 30) {
                rig.stateChanges.filter { $0 == "PUSH_SENDREADY -> PUSH_WAIT" }.count >= 2 && rig.runtime.pushStatus(of: Self.sa).pushReady
            }
            #expect(rig.stateChanges.contains("PUSH_WAIT -> PUSH_REBOOT"))
            let after = try await rig.runtime.push(.readStorage(StorageName.running), to: Self.sa)
            #expect(after.output.last?.text == "hostname simple\n", "\(after)")
        }
    }
}

/// A TCP port that was free a moment ago on 127.0.0.1 (for listeners the agent opens itself).
func freeTCPPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw HarnessError("socket: \(errno)") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw HarnessError("bind: \(errno)") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw HarnessError("getsockname: \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}
