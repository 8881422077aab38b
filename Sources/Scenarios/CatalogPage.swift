/// The page that lists every check id with its rule and scenario (docs/checks.md).
public enum CatalogPage {
    public static func markdown(_ scenarios: [Scenario]) -> String {
        let sorted = scenarios.sorted { $0.id < $1.id }
        var out = """
            # Conformance checks

            Every scenario in `scenarios/` checks one libarms rule and has a check id. Run them all with
            `swift run warplink-mock run scenarios` (see [scenarios.md](scenarios.md)); this page is generated
            by `swift run warplink-mock run --catalog scenarios > docs/checks.md`, and a test keeps it in step
            with the files.

            \(sorted.count) checks: \(Scenario.areas.map { area in "\(area) \(sorted.filter { $0.area == area }.count)" }.joined(separator: ", ")).

            """
        for area in Scenario.areas {
            let list = sorted.filter { $0.area == area }
            guard !list.isEmpty else { continue }
            out += "\n## \(title(area))\n\n| check | rule | scenario |\n|---|---|---|\n"
            for s in list {
                let file = s.file.split(separator: "/").last.map(String.init) ?? s.file
                out += "| \(s.id) | \(cell(s.rule)) | [\(file)](../scenarios/\(file)) |\n"
            }
        }
        return out
    }

    static func title(_ area: String) -> String {
        switch area {
        case "PULL": return "PULL: LS and RS pull, result codes, retries, certificates"
        case "PUSH": return "PUSH: push-method-query and every push operation"
        case "TUN": return "TUN: https-tunnel drops, echoes, re-confirmation"
        case "HB": return "HB: heartbeats"
        case "AF": return "AF: IPv4 / IPv6 address families"
        case "CACHE": return "CACHE: the state cache across restarts"
        default: return area
        }
    }

    static func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
}
