import ArgumentParser
import ARMSProtocol
import MockService

/// `warplink-mock sa remove ID`.
struct SARemoveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove an SA; the server stops answering it at once."
    )

    @OptionGroup var server: ControlOptions

    @Argument(help: ArgumentHelp("Distribution id (8 groups of 4 hex digits).", valueName: "distribution-id"))
    var id: String

    func run() async throws {
        let distributionID: DistributionID
        do { distributionID = try DistributionID(parsing: id) } catch {
            throw ValidationError("\"\(id)\" is not a distribution id: \(error)")
        }
        try await CLI.run {
            guard try await server.client().removeSA(distributionID) != nil else {
                CLI.printError("no SA \(distributionID) is provisioned")
                throw ExitCode.failure
            }
            CLI.out("removed \(distributionID)")
        }
    }
}
