import Foundation
import Testing

/// `armsd -H` as users run it: heartbeat statistics printed every few seconds as armsd's
/// verbose log lines, without any ARMS traffic (agent.md §2, heartbeat.md §5).
@Suite struct HeartbeatDebugConformanceTests {
    @Test func armsdDashHPrintsStatistics() async throws {
        let dir = try TemporaryDirectory("hb-debug")
        let conf = dir.path("armsd.conf")
        try "hb-disk-usage0: /\nhb-disk-usage1: \(dir.url.path)\nhb-traffic-if0: lo\nhb-traffic-if1: nosuchif0\n"
            .write(toFile: conf, atomically: true, encoding: .utf8)
        let agent = try RunningProcess(try Repository.executable("armsd"), ["-H", "-f", conf, "-l", dir.path("armsd.log")])

        // The first round at once: memory and disks (CPU and traffic are changes, so they come later).
        let mem = try await agent.waitForLine(containing: "heartbeat mem_usage:", timeout: 20)
        #expect(mem.range(of: #"^\d\d:\d\d:\d\d INFO  heartbeat mem_usage: idx=0, used=\d+, free=\d+$"#, options: .regularExpression) != nil,
                "\(mem)")
        let disk = try await agent.waitForLine(containing: "heartbeat disk_usage: idx=1", timeout: 20)
        #expect(disk.contains("path=\(dir.url.path), used="))
        #expect(agent.stdoutLines.contains { $0.contains("heartbeat disk_usage: idx=0, path=/, used=") })

        // The second round, about 5 s later, has the CPU split and the loopback's rates.
        let cpu = try await agent.waitForLine(containing: "heartbeat cpu_detail_usage:", timeout: 30)
        #expect(cpu.range(of: #"idx=0, idle=\d+, interrupt=\d+, user=\d+, system=\d+, other=\d+$"#, options: .regularExpression) != nil,
                "\(cpu)")
        let traffic = try await agent.waitForLine(containing: "heartbeat traffic_rate:", timeout: 20)
        #expect(traffic.range(of: #"ifidx=0, in_octet=\d+, out_octet=\d+, in_packet=\d+, out_packet=\d+, in_error=\d+, out_error=\d+$"#,
                              options: .regularExpression) != nil, "\(traffic)")
        #expect(!agent.stdout.contains("ifidx=1"))       // the missing interface is left out
        #expect(agent.stdout.contains("no ARMS traffic"))

        #expect(try await agent.stop(signal: SIGTERM) == 1)
        #expect(agent.stdout.contains("signal 15 caught. exit."))
    }
}
