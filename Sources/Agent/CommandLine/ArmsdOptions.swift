/// The `armsd` command line (agent.md §2), parsed the way getopt does:
/// flags may be grouped (`-Dv`), an option's value may be attached (`-fFILE`)
/// or the next argument, and `--` ends the options.
public struct ArmsdOptions: Equatable, Sendable {
    /// `-f FILE`: armsd.conf.
    public var configPath: String = "/etc/armsd/armsd.conf"
    /// `-D`: stay in the foreground, no PID file.
    public var foreground = false
    /// `-w`: stay in the foreground until pull and push-method-query succeeded.
    public var waitBeforeDaemonizing = false
    /// `-v` (or the deprecated `-d`, which also implies `-D`).
    public var verbose = false
    /// `-l FILE`: log to this file instead of syslog.
    public var logFile: String?
    /// `-b DIR`: working directory instead of `/tmp/armsd.<pid>`.
    public var workingDirectory: String?
    /// `-i DISTID`: overrides `distribution-id` of the config file.
    public var distributionID: DistributionIDText?
    /// `-p PORT`: https-simple listener port (0 = libarms' default 10443).
    public var pushPort: Int = 0
    /// `-H`: print heartbeat statistics every few seconds, no ARMS traffic (implies `-v -D`).
    public var heartbeatDebug = false
    /// `-V`: print the version and exit.
    public var showVersion = false
    /// `-h`: print usage and exit.
    public var showHelp = false

    public init() {}

    /// A distribution id given on the command line, already validated.
    public struct DistributionIDText: Equatable, Sendable {
        public let id: DistributionID
    }

    public enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        case unknownOption(Character)
        case missingValue(Character)
        case badValue(option: Character, value: String, reason: String)
        case unexpectedArgument(String)

        public var description: String {
            switch self {
            case .unknownOption(let c): return "armsd: invalid option -- '\(c)'"
            case .missingValue(let c): return "armsd: option requires an argument -- '\(c)'"
            case .badValue(let c, let v, let r): return "armsd: -\(c) \(v): \(r)"
            case .unexpectedArgument(let a): return "armsd: unexpected argument '\(a)'"
            }
        }
    }

    public static let usage = """
        usage: armsd [-DdHhVvw] [-b dir] [-f config] [-i distribution-id] [-l logfile] [-p port]
          -b dir     working directory (default /tmp/armsd.<pid>)
          -D         do not daemonize
          -d         verbose and do not daemonize (deprecated: -v -D)
          -f config  configuration file (default /etc/armsd/armsd.conf)
          -H         print heartbeat statistics every 5 seconds; no ARMS traffic
          -h         show this help
          -i id      distribution id (overrides distribution-id in the config file)
          -l logfile write log lines to logfile instead of syslog
          -p port    https-simple push listener port (default 10443)
          -V         show version
          -v         verbose
          -w         daemonize only after pull and push-method-query succeeded
        """

    private static let takesValue: Set<Character> = ["b", "f", "i", "l", "p"]

    /// Parses the arguments after the program name.
    public static func parse(_ arguments: [String]) throws(ParseError) -> ArmsdOptions {
        var options = ArmsdOptions()
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                if index < arguments.count { throw .unexpectedArgument(arguments[index]) }
                break
            }
            guard argument.hasPrefix("-"), argument.count > 1 else { throw .unexpectedArgument(argument) }
            var letters = Substring(argument.dropFirst())
            while let letter = letters.first {
                letters = letters.dropFirst()
                if takesValue.contains(letter) {
                    let value: String
                    if !letters.isEmpty {
                        value = String(letters)
                        letters = ""
                    } else if index < arguments.count {
                        value = arguments[index]
                        index += 1
                    } else {
                        throw .missingValue(letter)
                    }
                    try options.apply(letter, value)
                } else {
                    try options.apply(letter)
                }
            }
        }
        if options.heartbeatDebug {
            options.verbose = true
            options.foreground = true
        }
        return options
    }

    private mutating func apply(_ flag: Character) throws(ParseError) {
        switch flag {
        case "D": foreground = true
        case "w": waitBeforeDaemonizing = true
        case "d": verbose = true; foreground = true
        case "v": verbose = true
        case "H": heartbeatDebug = true
        case "V": showVersion = true
        case "h": showHelp = true
        default: throw .unknownOption(flag)
        }
    }

    private mutating func apply(_ option: Character, _ value: String) throws(ParseError) {
        switch option {
        case "f": configPath = value
        case "l": logFile = value
        case "b": workingDirectory = value
        case "i":
            do {
                distributionID = DistributionIDText(id: try DistributionID(parsing: value))
            } catch {
                throw .badValue(option: "i", value: value, reason: error.description)
            }
        case "p":
            guard let port = Int(value), (0...65535).contains(port) else {
                throw .badValue(option: "p", value: value, reason: "not a port number (0-65535)")
            }
            pushPort = port
        default: throw .unknownOption(option)
        }
    }
}
