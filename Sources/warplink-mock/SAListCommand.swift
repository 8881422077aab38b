import ArgumentParser
import MockService

/// `warplink-mock sa list [--json]`.
struct SAListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the provisioned SAs.",
        discussion: "Without --json: one line per SA (distribution id, keys, module ids, label)."
    )

    @OptionGroup var server: ControlOptions

    @Flag(name: .long, help: "Print the control API's JSON ({\"sas\": [...]}).")
    var json = false

    func run() async throws {
        try await CLI.run {
            let sas = try await server.client().listSAs()
            if json {
                CLI.out(try CLI.json(SAList(sas: sas)))
                return
            }
            if sas.isEmpty {
                CLI.out("no SAs provisioned")
                return
            }
            var rows = [["DISTRIBUTION-ID", "LS-KEY", "RS-KEY", "MODULES", "LABEL"]]
            for sa in sas {
                let modules = sa.modules.isEmpty ? "-" : sa.modules.map { m in
                    String(m.id) + (m.version.map { "@" + $0 } ?? "")
                }.joined(separator: ",")
                rows.append([sa.distributionID.description, sa.lsKey, sa.rsKey, modules, sa.label ?? ""])
            }
            CLI.out(CLI.table(rows))
        }
    }
}
