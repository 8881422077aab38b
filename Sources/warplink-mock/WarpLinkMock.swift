import ArgumentParser
import MockService

/// `warplink-mock`: runs the ARMS mock servers and drives a running one (the entry point).
@main
struct WarpLinkMock: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "warplink-mock",
        abstract: "Mock IIJ SMFv2 ARMS servers (Location Server, Remote Server) for armsd agents.",
        discussion: """
            Subcommands other than serve talk to a running server through its control API on \
            127.0.0.1. They find it with --data DIR (default ./warplink-data; the server writes \
            DIR/control.json) or --control http://127.0.0.1:PORT.
            """,
        version: MockService.version,
        subcommands: [
            ServeCommand.self,
            SACommand.self,
            JournalCommand.self,
            PushCommand.self,
            HBCommand.self,
            RunCommand.self,
            FleetCommand.self,
        ]
    )
}
