import Foundation

/// Callback scripts that record every call (name and arguments, one line each) into one
/// file, keep the configs `start` and `reconfig` received, answer the push scripts through
/// their result files, and exit with a chosen code. What any armsd-compatible agent runs.
public struct RecordingScripts: Sendable {
    /// The scripts written, by armsd.conf name without `script-`.
    public static let names = ["start", "stop", "state-changed", "post-pull", "reboot", "reconfig", "command", "status", "clear"]

    /// Where they live.
    public let directory: String
    /// The record: `name|arg1|arg2…` per call, appended in one write each.
    public let recordPath: String
    /// `config-<module>`: the config the module's last start or reconfig received.
    public let configPrefix: String

    public init(directory: String, recordPath: String, configPrefix: String) {
        self.directory = directory
        self.recordPath = recordPath
        self.configPrefix = configPrefix
    }

    /// The script file of `name`.
    public func path(_ name: String) -> String { directory + "/" + name }

    /// Writes every script; `exits` gives a script's exit code (default 0). With
    /// `exitFiles`, a script whose `<exitFiles><name>-exit` file exists exits with the number
    /// in it instead, so that a test can change an exit code while the agent runs.
    public func write(exits: [String: Int32] = [:], exitFiles: String? = nil) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for name in Self.names {
            var body = "#!/bin/sh\nline='\(name)'\nfor a in \"$@\"; do line=\"$line|$a\"; done\nprintf '%s\\n' \"$line\" >> '\(recordPath)'\n"
            switch name {
            case "start", "reconfig": body += "cat \"$4\" > '\(configPrefix)'\"$1\"\n"
            case "command": body += "printf 'ran:%s' \"$(cat \"$2\")\" > \"$3\"\n"
            case "status": body += "printf 'status of %s:%s' \"$1\" \"$(cat \"$2\")\" > \"$3\"\n"
            case "clear": body += "printf 'cleared %s' \"$1\" > \"$3\"\n"
            default: break
            }
            if let exitFiles {
                body += "if [ -f '\(exitFiles)\(name)-exit' ]; then exit $(cat '\(exitFiles)\(name)-exit'); fi\n"
            }
            body += "exit \(exits[name] ?? 0)\n"
            let file = path(name)
            try body.write(toFile: file, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file)
        }
    }

    /// The armsd.conf lines naming the scripts.
    public var confLines: [String] { Self.names.map { "script-\($0): \(path($0))" } }

    /// The config the last start or reconfig of `module` received.
    public func receivedConfig(_ module: UInt32) -> String? { try? String(contentsOfFile: configPrefix + "\(module)", encoding: .utf8) }
}

/// Follows the record file as it grows: each new complete line once, split into fields.
final class RecordFollower {
    let path: String
    private var offset: UInt64 = 0
    private var partial = Data()

    init(path: String) { self.path = path }

    /// The calls recorded since the last read.
    func read() -> [[String]] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        do { try handle.seek(toOffset: offset) } catch { return [] }
        guard let data = try? handle.readToEnd(), !data.isEmpty else { return [] }
        offset += UInt64(data.count)
        partial.append(data)
        var out: [[String]] = []
        while let nl = partial.firstIndex(of: 0x0A) {
            let line = String(decoding: partial[partial.startIndex..<nl], as: UTF8.self)
            partial.removeSubrange(partial.startIndex...nl)
            out.append(line.split(separator: "|", omittingEmptySubsequences: false).map(String.init))
        }
        return out
    }
}
