import ARMSProtocol

/// The callback scripts `serve` writes into `DIR/scripts/` and names in `DIR/armsd.conf`,
/// so that an agent started on the defaults shows what the service asks of it. They print
/// one line per call on standard output (armsd passes it through with `-D`) and answer
/// the push operations through their result files (agent.md §5.2–§5.3).
enum DemoScripts {
    /// Script key → POSIX sh body (without the `#!` line).
    static let bodies: [(ArmsdConfiguration.Script, String)] = [
        (.start, """
            echo "[start] module $1 version $2 info '$3':"
            sed 's/^/    | /' "$4"
            """),
        (.reconfig, """
            echo "[reconfig] module $1 version $2 info '$3' from $4:"
            sed 's/^/    | /' "$4"
            """),
        (.stop, """
            echo "[stop] module $1"
            """),
        (.command, """
            echo "[command] module $1: $(cat "$2")"
            printf 'module %s ran: %s\\n' "$1" "$(cat "$2")" > "$3"
            """),
        (.status, """
            echo "[status] module $1"
            printf 'module %s: up, load %s\\n' "$1" "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)" > "$3"
            """),
        (.clear, """
            echo "[clear] module $1"
            printf 'module %s: counters cleared\\n' "$1" > "$3"
            """),
        (.stateChanged, """
            echo "[state] $1 -> $2"
            """),
        (.reboot, """
            echo "[reboot] a real device would reboot now"
            """),
    ]

    /// The file name of a script in `DIR/scripts/` (`script-reconfig` → `reconfig`).
    static func fileName(_ script: ArmsdConfiguration.Script) -> String {
        String(script.rawValue.dropFirst("script-".count))
    }

    static func text(_ body: String) -> String {
        "#!/bin/sh\n# Demo callback script written by warplink-mock serve (edit freely; rewritten at each start).\n" + body + "\n"
    }
}
