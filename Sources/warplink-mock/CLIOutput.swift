import ArgumentParser
import Foundation
import MockService

/// Output helpers shared by the subcommands.
enum CLI {
    /// Writes `message` to standard error.
    static func printError(_ message: String) {
        FileHandle.standardError.write(Data(("warplink-mock: " + message + "\n").utf8))
    }

    /// Runs `body`; prints any error as `warplink-mock: …` on standard error and exits 1.
    static func run(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as ExitCode {
            throw error
        } catch let error as ValidationError {
            throw error
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
    }

    /// `value` as pretty JSON with sorted keys.
    static func json<T: Encodable>(_ value: T, pretty: Bool = true) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try e.encode(value), as: UTF8.self)
    }

    /// Left-aligned columns separated by two spaces.
    static func table(_ rows: [[String]]) -> String {
        guard let width = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: width)
        for r in rows { for (k, c) in r.enumerated() { widths[k] = max(widths[k], c.count) } }
        return rows.map { r in
            r.enumerated().map { k, c in k == r.count - 1 ? c : c.padding(toLength: widths[k], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

extension CLI {
    /// Writes one line to standard output at once (unbuffered, so `--follow` output is seen
    /// as it comes even through a pipe).
    static func out(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
