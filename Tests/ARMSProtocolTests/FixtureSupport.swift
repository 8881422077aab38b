import Foundation

/// Reads the golden vectors in Tests/Fixtures (copies of ../shared/fixtures).
enum Fixture {
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    /// The body of an `.http` fixture: everything after the first CRLFCRLF.
    static func httpBody(_ name: String) throws -> [UInt8] {
        let all = try bytes(name)
        let marker: [UInt8] = [13, 10, 13, 10]
        for i in 0...(all.count - 4) where Array(all[i..<i + 4]) == marker {
            return Array(all[(i + 4)...])
        }
        return []
    }

    /// The head of an `.http` fixture, through its CRLFCRLF.
    static func httpHead(_ name: String) throws -> [UInt8] {
        let all = try bytes(name)
        let body = try httpBody(name)
        return Array(all[..<(all.count - body.count)])
    }

    /// Documents quoted in the protocol spec, with where they came from.
    static func specExamples() throws -> [(origin: String, document: String)] {
        let text = String(decoding: try bytes("spec-examples.txt"), as: UTF8.self)
        var out: [(String, String)] = []
        var origin: String?
        var lines: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("#") && origin == nil { continue }
            if line.hasPrefix("=== ") {
                if let origin { out.append((origin, lines.joined(separator: "\n"))) }
                origin = String(line.dropFirst(4))
                lines = []
            } else {
                lines.append(line)
            }
        }
        if let origin {
            while lines.last?.isEmpty == true { lines.removeLast() }
            out.append((origin, lines.joined(separator: "\n")))
        }
        return out
    }
}

extension Array where Element == UInt8 {
    var string: String { String(decoding: self, as: UTF8.self) }
}
