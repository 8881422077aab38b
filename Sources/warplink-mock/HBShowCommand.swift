import ArgumentParser
import ARMSProtocol
import Foundation
import MockRS
import MockService

/// `warplink-mock hb show [--sa ID] [--json]`.
struct HBShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print one SA's heartbeat samples, or the receiver's counters.",
        discussion: """
            With --sa: the sample count, the observed interval between heartbeats (last, mean, \
            min, max), rejected datagrams by reason and the values of the last sample. Without \
            --sa: the receiver's addresses, the accepted count and the rejections that could \
            not be charged to an SA. --json prints the control API's JSON instead (with every \
            stored sample).
            """
    )

    @OptionGroup var server: ControlOptions

    @Option(name: .long, help: ArgumentHelp("The SA to show.", valueName: "distribution-id"))
    var sa: String?

    @Flag(name: .long, help: "Print the control API's JSON.")
    var json = false

    func validate() throws {
        if let sa, DistributionID(sa) == nil { throw ValidationError("--sa: \"\(sa)\" is not a distribution id") }
    }

    func run() async throws {
        try await CLI.run {
            let client = try server.client()
            if let id = sa.flatMap({ DistributionID($0) }) {
                guard let snapshot = try await client.heartbeat(of: id) else {
                    CLI.printError("no SA \(id)")
                    throw ExitCode.failure
                }
                CLI.out(json ? try CLI.json(snapshot) : Self.text(snapshot, now: Date().timeIntervalSince1970))
            } else {
                let overview = try await client.heartbeatOverview()
                CLI.out(json ? try CLI.json(overview) : Self.text(overview))
            }
        }
    }

    /// The human-readable form of one SA's snapshot.
    static func text(_ s: HeartbeatSnapshot, now: Double) -> String {
        var lines = ["sa: \(s.sa)", "samples: \(s.sampleCount)"]
        if let last = s.lastArrival {
            lines.append("last arrival: \(JournalCommand.timestamp(last)) (\(seconds(max(0, now - last))) ago)")
        }
        if let i = s.intervals {
            lines.append("interval: last \(seconds(i.last)), mean \(seconds(i.mean)), min \(seconds(i.min)), max \(seconds(i.max)) (\(i.count) gaps)")
        } else {
            lines.append("interval: -")
        }
        lines.append("rejected: " + counts(s.rejected))
        guard let sample = s.last else {
            lines.append("last sample: none")
            return lines.joined(separator: "\n")
        }
        lines.append("last sample: \(sample.size) bytes from \(sample.source ?? "-")")
        for v in sample.cpuUsage { lines.append("  cpu-usage[\(v.index)]: \(v.utilization)%") }
        for v in sample.cpuDetail {
            lines.append("  cpu-detail[\(v.index)]: idle=\(v.idle)% interrupt=\(v.interrupt)% user=\(v.user)% system=\(v.system)% other=\(v.other)%")
        }
        for v in sample.memory { lines.append("  memory[\(v.index)]: used=\(v.used) free=\(v.free)") }
        for v in sample.disk { lines.append("  disk[\(v.index)]: used=\(v.used) free=\(v.free)") }
        for v in sample.trafficRate {
            lines.append("  traffic-rate[\(v.index)]: in=\(v.inOctets)B/s out=\(v.outOctets)B/s in-packets=\(v.inPackets)/s "
                         + "out-packets=\(v.outPackets)/s in-errors=\(v.inErrors)/s out-errors=\(v.outErrors)/s")
        }
        for v in sample.trafficCount {
            lines.append("  traffic-count[\(v.index)]: in=\(v.inOctets) out=\(v.outOctets) in-packets=\(v.inPackets) "
                         + "out-packets=\(v.outPackets) in-errors=\(v.inErrors) out-errors=\(v.outErrors)")
        }
        for v in sample.radioWave {
            lines.append("  radio-wave[\(v.index)]: \(v.status) max=\(v.maximum) min=\(v.minimum) avg=\(v.average)")
        }
        if !sample.unknownTypes.isEmpty {
            lines.append("  unknown types: " + sample.unknownTypes.map { "0x" + String($0, radix: 16) }.joined(separator: ", "))
        }
        for w in sample.warnings { lines.append("  warning: \(w)") }
        return lines.joined(separator: "\n")
    }

    /// The human-readable form of the receiver's counters.
    static func text(_ o: HeartbeatOverview) -> String {
        [
            "listening: " + (o.listening.isEmpty ? "-" : o.listening.joined(separator: " ")),
            "accepted: \(o.accepted)",
            "rejected (no SA): " + counts(o.rejected),
            "rejected (all): " + counts(o.rejectedAll),
            "sas: " + (o.sas.isEmpty ? "-" : o.sas.joined(separator: " ")),
        ].joined(separator: "\n")
    }

    static func counts(_ c: [String: Int]) -> String {
        c.isEmpty ? "none" : c.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }

    static func seconds(_ s: Double) -> String { String(format: "%.3fs", s) }
}
