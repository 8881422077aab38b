import ARMSProtocol
import Foundation
import MockCore
import MockRS
import MockService
import Testing

/// The `warplink-mock` binary `swift build` / `swift test` put next to the test bundle.
private func cliPath() throws -> String {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    #if os(Linux)
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
        dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
    }
    #endif
    // macOS runs tests from inside an .xctest bundle.
    for candidate in [dir, dir.deletingLastPathComponent(), dir.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()] {
        let path = candidate.appendingPathComponent("warplink-mock").path
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    throw CLIError(message: "warplink-mock not found next to \(dir.path); run `swift build` first")
}

private struct CLIError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

private struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs `warplink-mock arguments…`, killing it if it takes longer than `timeout` seconds.
private func runCLI(_ arguments: [String], timeout: Double = 60) async throws -> CLIResult {
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let outPath = dir + "/stdout", errPath = dir + "/stderr"
    _ = FileManager.default.createFile(atPath: outPath, contents: nil)
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
    let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try cliPath())
    // A generous client timeout: on 2 busy cores the in-process server may answer slowly.
    process.arguments = arguments.contains("--timeout") ? arguments : arguments + ["--timeout", "60"]
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
    while process.isRunning {
        if ContinuousClock.now > deadline {
            process.terminate()
            process.waitUntilExit()
            throw CLIError(message: "warplink-mock \(arguments.joined(separator: " ")) did not finish within \(timeout) s")
        }
        try await Task.sleep(nanoseconds: 20_000_000)
    }
    process.waitUntilExit()
    try out.close()
    try err.close()
    return CLIResult(status: process.terminationStatus,
                     stdout: try String(contentsOfFile: outPath, encoding: .utf8),
                     stderr: try String(contentsOfFile: errPath, encoding: .utf8))
}

@Suite struct ServiceCLITests {
    @Test func hbShowPrintsSamplesIntervalAndRejections() async throws {
        let runtime = try await HeartbeatReceiverTests.startService()
        do {
            let demo = SAProfile.demo.distributionID
            let target = try #require(runtime.heartbeatEndpoints.first)
            try HeartbeatReceiverTests.send(HeartbeatReceiverTests.demoDatagram(cpu: 33), to: target)
            try HeartbeatReceiverTests.send(HeartbeatReceiverTests.demoDatagram(cpu: 34), to: target)
            try HeartbeatReceiverTests.send(HeartbeatReceiverTests.demoDatagram(passphrase: "nope"), to: target)
            try await waitUntil("three datagrams") {
                runtime.heartbeatSnapshot(of: demo).map { $0.sampleCount == 2 && $0.rejectedTotal == 1 } ?? false
            }

            let r = try await runCLI(["hb", "show", "--sa", demo.description, "--control", runtime.controlURL])
            #expect(r.status == 0, "stderr: \(r.stderr)")
            let lines = r.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first == "sa: \(demo)")
            #expect(lines.contains("samples: 2"))
            #expect(lines.contains { $0.hasPrefix("interval: last ") && $0.hasSuffix("(1 gaps)") })
            #expect(lines.contains("rejected: bad-mac=1"))
            #expect(lines.contains { $0.hasPrefix("last sample: 73 bytes from 127.0.0.1:") })
            #expect(lines.contains("  cpu-usage[0]: 34%"))
            #expect(lines.contains("  memory[0]: used=65536 free=32768"))

            let j = try await runCLI(["hb", "show", "--sa", demo.description, "--json", "--control", runtime.controlURL])
            #expect(j.status == 0, "stderr: \(j.stderr)")
            let snapshot = try JSONDecoder().decode(HeartbeatSnapshot.self, from: Data(j.stdout.utf8))
            #expect(snapshot == runtime.heartbeatSnapshot(of: demo))

            let o = try await runCLI(["hb", "show", "--control", runtime.controlURL])
            #expect(o.status == 0, "stderr: \(o.stderr)")
            #expect(o.stdout.contains("accepted: 2\n"))
            #expect(o.stdout.contains("listening: 127.0.0.1:\(target.port)"))

            let missing = try await runCLI(["hb", "show", "--sa", "0001-0000-0000-0000-0000-0000-0000-0077", "--control", runtime.controlURL])
            #expect(missing.status != 0)
            #expect(missing.stderr.contains("no SA 0001-0000-0000-0000-0000-0000-0000-0077"))
        } catch {
            await runtime.stop()
            throw error
        }
        await runtime.stop()
    }

    @Test func saListPrintsTheStore() async throws {
        try await withControlAPI { api, client in
            api.store.put(SAProfile(distributionID: DistributionID("0001-0000-0000-0000-0000-0000-0000-0009")!,
                                    lsKey: "ls9", rsKey: "rs9", label: nil, modules: []))
            let r = try await runCLI(["sa", "list", "--control", client.url])
            #expect(r.status == 0, "stderr: \(r.stderr)")
            let lines = r.stdout.split(separator: "\n").map(String.init)
            try #require(lines.count == 3)
            #expect(lines[0].hasPrefix("DISTRIBUTION-ID"))
            #expect(lines[1].hasPrefix("0001-0000-0000-0000-0000-0000-0000-0001  demo-ls-key  demo-rs-key  0@1.0,1@1.0  demo SA"))
            #expect(lines[2].hasPrefix("0001-0000-0000-0000-0000-0000-0000-0009  ls9          rs9          -"))

            let j = try await runCLI(["sa", "list", "--json", "--control", client.url])
            #expect(j.status == 0, "stderr: \(j.stderr)")
            let list = try JSONDecoder().decode(SAList.self, from: Data(j.stdout.utf8))
            #expect(list.sas == api.store.all)
        }
    }

    @Test func journalJSONPrintsTheJournal() async throws {
        try await withControlAPI(entries: 4) { api, client in
            let r = try await runCLI(["journal", "--control", client.url, "--json"])
            #expect(r.status == 0, "stderr: \(r.stderr)")
            let entries = try r.stdout.split(separator: "\n").map { try JSONDecoder().decode(JournalEntry.self, from: Data($0.utf8)) }
            #expect(entries == api.journal.entries())

            let filtered = try await runCLI(["journal", "--control", client.url, "--role", "rs", "--after", "2"])
            #expect(filtered.status == 0, "stderr: \(filtered.stderr)")
            let lines = filtered.stdout.split(separator: "\n")
            #expect(lines.count == 1)
            #expect(lines.first?.hasPrefix("#4 2023-11-14T22:13:23.000Z RS 0001-0000-0000-0000-0000-0000-0000-0002 config-solicitation result=100 http=200 ok") == true)
        }
    }

    @Test func saAddAndRemove() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "hostname r5\n".write(toFile: dir + "/r5.conf", atomically: true, encoding: .utf8)
        try "caf\u{e9}\n".write(toFile: dir + "/utf8.conf", atomically: true, encoding: .utf8)
        try await withControlAPI { api, client in
            let id = DistributionID("0001-0000-0000-0000-0000-0000-0000-0005")!
            let r = try await runCLI(["sa", "add", "--control", client.url, "--distribution-id", id.description,
                                      "--ls-key", "l5", "--rs-key", "r5", "--label", "five",
                                      "--module", "1:2.0:\(dir)/r5.conf", "--module", "2", "--module", "3::\(dir)/utf8.conf"])
            #expect(r.status == 0, "stderr: \(r.stderr)")
            #expect(r.stdout == "added \(id) (five)\n")
            #expect(api.store[id] == SAProfile(distributionID: id, lsKey: "l5", rsKey: "r5", label: "five", modules: [
                ModuleProfile(id: 1, version: "2.0", config: "hostname r5\n"),
                ModuleProfile(id: 2),
                ModuleProfile(id: 3, config: "caf\u{e9}\n", base64: true),
            ]))

            let fleet = try FleetFile.encode([SAProfile(distributionID: id, lsKey: "x", rsKey: "y")])
            try fleet.write(toFile: dir + "/fleet.yaml", atomically: true, encoding: .utf8)
            let f = try await runCLI(["sa", "add", "--control", client.url, "--fleet", dir + "/fleet.yaml"])
            #expect(f.status == 0, "stderr: \(f.stderr)")
            #expect(f.stdout == "replaced \(id)\n")
            #expect(api.store[id]?.lsKey == "x")

            let rm = try await runCLI(["sa", "remove", "--control", client.url, id.description])
            #expect(rm.status == 0 && rm.stdout == "removed \(id)\n", "stderr: \(rm.stderr)")
            #expect(api.store[id] == nil)
            let again = try await runCLI(["sa", "remove", "--control", client.url, id.description])
            #expect(again.status != 0)
            #expect(again.stderr.contains("no SA \(id) is provisioned"))

            let bad = try await runCLI(["sa", "add", "--control", client.url, "--distribution-id", id.description,
                                        "--ls-key", String(repeating: "k", count: 65), "--rs-key", "r"])
            #expect(bad.status != 0)
            #expect(bad.stderr.contains("--ls-key: longer than 64 bytes"))

            try "version: 1\nsas:\n  - distribution-id: bad\n".write(toFile: dir + "/bad.yaml", atomically: true, encoding: .utf8)
            let badFleet = try await runCLI(["sa", "add", "--control", client.url, "--fleet", dir + "/bad.yaml"])
            #expect(badFleet.status != 0)
            #expect(badFleet.stderr.contains("\(dir)/bad.yaml:3: sas[0].distribution-id: \"bad\""))
        }
    }

    @Test func explainsWhenNoServerListens() async throws {
        // A port that was just in use and is closed now.
        let api = ControlAPI(store: FleetStore(), journal: Journal())
        let port = try await api.start()
        await api.stop()
        let r = try await runCLI(["sa", "list", "--control", "http://127.0.0.1:\(port)"])
        #expect(r.status != 0)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("nothing is listening on http://127.0.0.1:\(port)"), "stderr: \(r.stderr)")
        #expect(r.stderr.contains("warplink-mock serve"))

        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let j = try await runCLI(["journal", "--json", "--data", dir])
        #expect(j.status != 0)
        #expect(j.stderr.contains("no warplink-mock server is running for data directory \(dir)"), "stderr: \(j.stderr)")
        #expect(j.stderr.contains("warplink-mock serve --data \(dir)"))

        // control.json naming a port nobody listens on.
        try DataDirectory(path: dir).writeControlFile(.init(control: "http://127.0.0.1:\(port)", pid: getpid()))
        let s = try await runCLI(["sa", "list", "--data", dir])
        #expect(s.status != 0)
        #expect(s.stderr.contains("(named in \(dir)/control.json; the server may have stopped)"), "stderr: \(s.stderr)")
    }

    @Test func journalFollowPrintsNewEntries() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await withControlAPI(entries: 2) { api, client in
            let outPath = dir + "/follow.out"
            _ = FileManager.default.createFile(atPath: outPath, contents: nil)
            let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try cliPath())
            process.arguments = ["journal", "--follow", "--json", "--interval", "0.1", "--timeout", "60", "--control", client.url]
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            try process.run()
            defer {
                if process.isRunning { process.terminate() }
                process.waitUntilExit()
                try? out.close()
            }
            /// Waits (at most 20 s) until the output has `count` lines.
            func lines(_ count: Int) async throws -> [String] {
                let deadline = ContinuousClock.now + .seconds(20)
                while true {
                    let text = try String(contentsOfFile: outPath, encoding: .utf8)
                    let lines = text.split(separator: "\n").map(String.init)
                    if lines.count >= count || ContinuousClock.now > deadline || !process.isRunning { return lines }
                    try await Task.sleep(nanoseconds: 50_000_000)
                }
            }
            #expect(try await lines(2).count == 2)
            api.journal.append(JournalEntry(time: 1_700_000_100, role: .tunnel, outcome: "closed"))
            let all = try await lines(3)
            #expect(all.count == 3)
            let last = try JSONDecoder().decode(JournalEntry.self, from: Data((all.last ?? "").utf8))
            #expect(last.sequence == 3 && last.role == .tunnel && last.outcome == "closed")
            #expect(process.isRunning)
        }
    }

    @Test func findsTheServerThroughTheDataDirectory() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try await withControlAPI { _, client in
            try DataDirectory(path: dir).writeControlFile(.init(control: client.url, pid: getpid()))
            let r = try await runCLI(["sa", "list", "--data", dir])
            #expect(r.status == 0, "stderr: \(r.stderr)")
            #expect(r.stdout.contains("demo-ls-key"))
        }
    }
}

@Suite struct PushCLITests {
    @Test func pushPrintsTheResultAndExitsNonZeroOnFailure() async throws {
        try await withPushRuntime { rt in
            let sa = PushFixtures.sa.description
            let notReady = try await runCLI(["push", "reboot", "--sa", sa, "--control", rt.controlURL])
            #expect(notReady.status != 0)
            #expect(notReady.stderr.contains("not push-ready"), "stderr: \(notReady.stderr)")

            let t = try await rt.readyTunnel()
            async let ok = runCLI(["push", "md-command", "--sa", sa, "--command", "show version", "--control", rt.controlURL, "--wait", "30"])
            let request = try await t.nextRequest(timeout: .seconds(60))
            #expect(request.body == .mdCommand([ModuleCommand(moduleID: 0, command: "show version")]))
            try await t.sendFixture("libarms-5.33-md-command-response.chunk")
            let r = try await ok
            #expect(r.status == 0, "stderr: \(r.stderr)")
            #expect(r.stdout.contains("md-command on \(sa): succeeded"))
            #expect(r.stdout.contains("md_command(id=0): done"))

            async let refused = runCLI(["push", "ping", "--sa", sa, "--address", "192.0.2.1", "--json", "--control", rt.controlURL, "--wait", "30"])
            let ping = try await t.nextRequest(timeout: .seconds(60))
            #expect(ping.body == .ping(PingRequest(address: "192.0.2.1")))
            try await t.send(TunnelChunkEncoder.message(ARMSMessage.response(.standard(ping.type, .notSupported)).encode().pieces, id: 77))
            let f = try await refused
            #expect(f.status != 0)
            let result = try JSONDecoder().decode(PushOperationResult.self, from: Data(f.stdout.utf8))
            #expect(result.state == .failed && result.resultCode == 505)
            #expect(f.stderr.contains("ping failed"))
            await t.close()
        }
    }
}
