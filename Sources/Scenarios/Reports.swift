import Foundation

/// The run's reports: the console lines, JUnit XML, JSON.
public enum Reports {
    /// `PASS ARMS-PULL-001  1.23 s  title` / `FAIL …`.
    public static func line(_ r: ScenarioResult) -> String {
        let id = r.id.padding(toLength: 15, withPad: " ", startingAt: 0)
        return (r.passed ? "PASS " : "FAIL ") + id + String(format: "%6.2f s  ", r.duration) + r.title
    }

    /// What a failure prints: why, the rule, how to rerun, and the timeline.
    public static func failureDetail(_ r: ScenarioResult, maxTimelineLines: Int = 250) -> String {
        var out = "  \(r.file): \(r.rule)\n"
        for f in r.failures { out += "  ✗ \(f)\n" }
        out += "  seed \(r.seed)" + (r.directory.map { "; files kept in \($0)" } ?? "") + "\n"
        out += "  timeline (s since the agent's start):\n"
        out += timelineText(r.timeline, maxLines: maxTimelineLines).split(separator: "\n").map { "    " + $0 }.joined(separator: "\n") + "\n"
        return out
    }

    /// The timeline as aligned text; long runs of heartbeat and echo lines are folded.
    public static func timelineText(_ events: [TimelineEvent], maxLines: Int = 250) -> String {
        var lines: [String] = []
        var folded = 0
        var lastKey = ""
        for e in events {
            let key = e.source + "|" + e.text
            let repetitive = e.source == "heartbeat" || e.text.hasPrefix("echo")
            if repetitive && key == lastKey { folded += 1; continue }
            if folded > 0 { lines.append("         …  (\(folded) more like the line above)"); folded = 0 }
            lastKey = key
            lines.append(String(format: "%8.3f  ", e.time) + e.source.padding(toLength: 9, withPad: " ", startingAt: 0) + " " + e.text)
        }
        if folded > 0 { lines.append("         …  (\(folded) more like the line above)") }
        if lines.count > maxLines {
            let head = maxLines / 2
            lines = Array(lines.prefix(head)) + ["         …  (\(lines.count - maxLines) lines left out)"] + Array(lines.suffix(maxLines - head))
        }
        return lines.joined(separator: "\n")
    }

    /// JUnit XML: one test suite, one test case per scenario (classname = area), failures with the timeline.
    public static func junit(_ results: [ScenarioResult], seed: UInt64, duration: Double) -> String {
        let failures = results.filter { !$0.passed }.count
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        x += "<testsuites tests=\"\(results.count)\" failures=\"\(failures)\" time=\"\(String(format: "%.3f", duration))\">\n"
        x += "  <testsuite name=\"warplink-mock scenarios\" tests=\"\(results.count)\" failures=\"\(failures)\" errors=\"0\" skipped=\"0\" time=\"\(String(format: "%.3f", duration))\">\n"
        x += "    <properties><property name=\"seed\" value=\"\(seed)\"/></properties>\n"
        for r in results {
            let area = r.id.split(separator: "-").dropFirst().first.map(String.init) ?? "ARMS"
            x += "    <testcase classname=\"ARMS.\(escape(area))\" name=\"\(escape(r.id + " " + r.title))\" file=\"\(escape(r.file))\" time=\"\(String(format: "%.3f", r.duration))\">"
            if r.passed {
                x += "</testcase>\n"
            } else {
                x += "\n      <failure message=\"\(escape(r.failures.first ?? "failed"))\" type=\"ScenarioFailure\">"
                x += escape(failureDetail(r)) + "</failure>\n    </testcase>\n"
            }
        }
        x += "  </testsuite>\n</testsuites>\n"
        return x
    }

    /// The JSON report: seed, totals, and every result with its timeline.
    public static func json(_ results: [ScenarioResult], seed: UInt64, duration: Double) throws -> Data {
        struct Report: Encodable {
            var seed: UInt64
            var duration: Double
            var total: Int
            var passed: Int
            var failed: Int
            var scenarios: [ScenarioResult]
        }
        let report = Report(seed: seed, duration: duration, total: results.count, passed: results.filter(\.passed).count,
                            failed: results.filter { !$0.passed }.count, scenarios: results)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(report)
    }

    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\n", "\t", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 { out += "?" } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out
    }
}
