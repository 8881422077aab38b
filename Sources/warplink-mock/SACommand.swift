import ArgumentParser

/// `warplink-mock sa …`: the provisioned SAs of a running server.
struct SACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sa",
        abstract: "List, add and remove the SAs a running server serves.",
        subcommands: [SAListCommand.self, SAAddCommand.self, SARemoveCommand.self]
    )
}
