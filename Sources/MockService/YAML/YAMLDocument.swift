import Foundation
import Yams

/// Why a YAML input file (fleet file, scenario) was refused; `description` is `FILE:LINE: KEY: reason`.
public struct YAMLLoadError: Error, Equatable, Sendable, CustomStringConvertible {
    public var fileName: String
    /// 1-based; nil when the error is about the whole file (size, unreadable).
    public var line: Int?
    /// The key path, e.g. `sas[1].modules[0].id`; empty for syntax errors.
    public var key: String
    public var message: String

    public init(fileName: String, line: Int?, key: String, message: String) {
        self.fileName = fileName
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        var s = fileName
        if let line { s += ":\(line)" }
        s += ": "
        if !key.isEmpty { s += key + ": " }
        return s + message
    }
}

/// Bounded reading of the project's YAML inputs: size and nesting are checked before
/// libYAML builds a tree, syntax errors carry their line, anchors are refused by the walker.
public enum YAMLDocument {
    /// Reads a UTF-8 file of at most `maxSize` bytes; errors are labelled with `path` as given.
    public static func read(contentsOf path: String, maxSize: Int) throws(YAMLLoadError) -> String {
        let data: Data
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            if let size = (attributes[.size] as? NSNumber)?.intValue, size > maxSize {
                throw YAMLLoadError(fileName: path, line: nil, key: "", message: "file is \(size) bytes, at most \(maxSize) allowed")
            }
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch let error as YAMLLoadError {
            throw error
        } catch {
            throw YAMLLoadError(fileName: path, line: nil, key: "", message: "cannot read: \(readReason(error))")
        }
        guard data.count <= maxSize else {
            throw YAMLLoadError(fileName: path, line: nil, key: "", message: "file is \(data.count) bytes, at most \(maxSize) allowed")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw YAMLLoadError(fileName: path, line: nil, key: "", message: "not UTF-8 text")
        }
        return text
    }

    /// Checks size and depth, composes the single document and hands its root (nil for an
    /// empty document) to `body`, with a walker labelling errors with `fileName`.
    public static func withRoot<T>(_ text: String, fileName: String, maxSize: Int, maxDepth: Int,
                                   _ body: (Node?, YAMLWalker) throws(YAMLLoadError) -> T) throws(YAMLLoadError) -> T {
        func fail(_ line: Int?, _ message: String) -> YAMLLoadError {
            YAMLLoadError(fileName: fileName, line: line, key: "", message: message)
        }
        let size = text.utf8.count
        guard size <= maxSize else { throw fail(nil, "file is \(size) bytes, at most \(maxSize) allowed") }
        if let (line, message) = DepthScanner.check(text, maxDepth: maxDepth) { throw fail(line, message) }

        // The parser owns the anchors; it must outlive the walk, which refuses them.
        let parser: Parser
        let root: Node?
        do {
            parser = try Parser(yaml: text)
            root = try parser.singleRoot()
        } catch let error as YamlError {
            var (line, message) = describe(error)
            if let line, let text = text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst(line - 1).first,
               text.prefix(while: { $0 == " " || $0 == "\t" }).contains("\t") {
                message += " (indent with spaces: YAML does not allow tabs there)"
            }
            throw fail(line, message)
        } catch {
            throw fail(nil, "YAML: \(error)")
        }
        return try withExtendedLifetime(parser) { () throws(YAMLLoadError) -> T in
            try body(root, YAMLWalker(fileName: fileName))
        }
    }

    /// Turns libYAML's error into a line and a message.
    private static func describe(_ error: YamlError) -> (Int?, String) {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let c = context.map { $0.text + " " } ?? ""
            return (mark.line, "YAML syntax: \(c)\(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return (context.mark.line > 0 ? context.mark.line : nil,
                    "duplicate key \(duplicates.map { "\"\($0)\"" }.joined(separator: ", "))")
        case .reader(let problem, _, _, _):
            return (nil, "YAML: \(problem)")
        default:
            return (nil, "YAML: \(error)")
        }
    }

    static func readReason(_ error: any Error) -> String {
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain,
           let code = POSIXErrorCode(rawValue: Int32(underlying.code)) {
            return String(cString: strerror(code.rawValue))
        }
        if ns.domain == NSCocoaErrorDomain && ns.code == NSFileReadNoSuchFileError { return "no such file" }
        if ns.domain == NSCocoaErrorDomain && ns.code == NSFileNoSuchFileError { return "no such file" }
        return ns.localizedDescription
    }
}

/// An upper bound on YAML nesting, found without building the tree (whose construction
/// recurses once per level): flow brackets outside quotes, comments and block scalars, and
/// block indentation. Deliberately simple; only its bound matters.
enum DepthScanner {
    /// The line and message of the first place nested deeper than `maxDepth`, else nil.
    static func check(_ text: String, maxDepth: Int) -> (Int, String)? {
        var flow = 0
        var quote: UInt8? = nil          // ' or " while inside a quoted scalar
        var blockScalarIndent: Int? = nil // parent indentation while inside a block scalar
        var lineNumber = 0
        for rawLine in text.utf8.split(separator: 0x0A, omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = Array(rawLine)
            let indent = line.prefix(while: { $0 == 0x20 }).count
            let blank = line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
            if let parent = blockScalarIndent {
                if blank || indent > parent { continue }
                blockScalarIndent = nil
            }
            if quote == nil && flow == 0 && !blank {
                // Block nesting needs indentation; "- - -" nests without new lines.
                var column = indent
                while column + 1 < line.count, line[column] == 0x2D, line[column + 1] == 0x20 { column += 2 }
                if column > maxDepth * 8 { return (lineNumber, "indented too deeply (\(column) columns)") }
            }
            var previous: UInt8? = nil   // last non-blank byte on this line outside quotes
            var lastBlank = true         // the byte before is a blank (or line start)
            var i = 0
            var lastToken: ArraySlice<UInt8> = []
            var tokenStart = 0
            while i < line.count {
                let c = line[i]
                if let q = quote {
                    if q == 0x22 && c == 0x5C { i += 2; continue }   // \x in "…"
                    if c == q {
                        if q == 0x27 && i + 1 < line.count && line[i + 1] == 0x27 { i += 2; continue } // '' in '…'
                        quote = nil
                        previous = c
                        lastBlank = false
                    }
                    i += 1
                    continue
                }
                let atTokenStart = previous == nil || previous == 0x2C || previous == 0x5B || previous == 0x7B
                    || ((previous == 0x3A || previous == 0x2D || previous == 0x3F) && lastBlank)
                if c == 0x20 || c == 0x09 || c == 0x0D {
                    lastBlank = true
                    i += 1
                    continue
                }
                if c == 0x23 && lastBlank { break }   // a comment ends the line
                if (c == 0x27 || c == 0x22) && atTokenStart {
                    quote = c
                } else if (c == 0x5B || c == 0x7B) && (atTokenStart || flow > 0) {
                    flow += 1
                    if flow > maxDepth { return (lineNumber, "nested deeper than \(maxDepth) levels") }
                } else if (c == 0x5D || c == 0x7D) && flow > 0 {
                    flow -= 1
                }
                if lastBlank { tokenStart = i }
                lastToken = line[tokenStart...i]
                previous = c
                lastBlank = false
                i += 1
            }
            // A block scalar header (`|`, `>-`, `|2+`, …) ends the line: its content follows.
            if quote == nil, flow == 0, let first = lastToken.first, first == 0x7C || first == 0x3E, lastToken.count <= 3,
               lastToken.dropFirst().allSatisfy({ $0 == 0x2B || $0 == 0x2D || ($0 >= 0x31 && $0 <= 0x39) }) {
                blockScalarIndent = indent
            }
        }
        return nil
    }
}
