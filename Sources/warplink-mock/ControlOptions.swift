import ArgumentParser
import MockService
import NIOCore

/// How a subcommand finds the running server: `--data DIR` or `--control URL`.
struct ControlOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Data directory of the running server (reads DIR/control.json).", valueName: "dir"))
    var data: String = DataDirectory.defaultPath

    @Option(name: .long, help: ArgumentHelp("Control API URL, e.g. http://127.0.0.1:8080 (overrides --data).", valueName: "url"))
    var control: String?

    @Option(name: .long, help: ArgumentHelp("Seconds to wait for each answer.", valueName: "seconds"))
    var timeout: Double = 10

    func validate() throws {
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be between 0 and 3600 seconds") }
    }

    /// The client for the chosen server.
    func client() throws(ControlClientError) -> ControlClient {
        let t = TimeAmount.nanoseconds(Int64(timeout * 1e9))
        if let control { return try ControlClient(url: control, timeout: t, origin: nil) }
        return try ControlClient.locate(dataDirectory: DataDirectory(path: data), timeout: t)
    }
}
