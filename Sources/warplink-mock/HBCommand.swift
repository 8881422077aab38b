import ArgumentParser

/// `warplink-mock hb …`: what the running server's heartbeat receiver saw.
struct HBCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hb",
        abstract: "Show the heartbeats the running server received.",
        subcommands: [HBShowCommand.self]
    )
}
