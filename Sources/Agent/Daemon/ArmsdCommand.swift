import Glibc

/// The `armsd` program: parse the command line, then run the daemon.
public enum ArmsdCommand {
    /// Runs armsd with `arguments` (without the program name); returns the exit status.
    public static func run(_ arguments: [String]) -> Int32 {
        let options: ArmsdOptions
        do {
            options = try ArmsdOptions.parse(arguments)
        } catch {
            ArmsdDaemon.stderr(error.description)
            ArmsdDaemon.stderr(ArmsdOptions.usage)
            return 1
        }
        if options.showHelp {
            print(ArmsdOptions.usage)
            return 0
        }
        if options.showVersion {
            print("armsd version \(AgentVersion.agent)")
            print("libarms \(AgentVersion.libarmsCompatible) (Release) compatible")
            return 0
        }
        if options.heartbeatDebug {
            return HeartbeatDebug.run(options: options)
        }
        do {
            return try ArmsdDaemon(options: options).run()
        } catch {
            ArmsdDaemon.stderr(error.description)
            return 1
        }
    }
}
