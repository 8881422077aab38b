/// How text that is not plain printable ASCII is written.
public enum XMLTextStyle: Sendable {
    /// As libarms writes: `< > & " '` become entities and every byte ≥ 0x80 becomes `?`.
    /// Used for everything the SA (agent) sends.
    case libarms
    /// As a server must write for a libarms reader (US-ASCII only): the five
    /// entities, non-ASCII Unicode scalars as numeric character references,
    /// invalid UTF-8 and control characters other than TAB/LF/CR as `?`.
    case asciiSafe
}

/// Builds an ARMS document byte by byte, in pieces.
///
/// libarms generates some messages in several pieces (one per callback result)
/// and the tunnel writes one chunk per piece; `breakPiece()` marks those seams.
struct XMLWriter {
    private(set) var pieces: [[UInt8]] = [[]]
    let style: XMLTextStyle

    init(style: XMLTextStyle) { self.style = style }

    var bytes: [UInt8] { pieces.count == 1 ? pieces[0] : pieces.flatMap { $0 } }

    mutating func breakPiece() {
        if !pieces[pieces.count - 1].isEmpty { pieces.append([]) }
    }

    mutating func raw(_ s: String) { pieces[pieces.count - 1].append(contentsOf: s.utf8) }
    mutating func raw(bytes: [UInt8]) { pieces[pieces.count - 1].append(contentsOf: bytes) }

    mutating func open(_ name: String, _ attributes: [(String, String)] = []) {
        raw("<" + name)
        for (key, value) in attributes {
            raw(" " + key + "=\"")
            escape(Array(value.utf8))
            raw("\"")
        }
        raw(">")
    }

    mutating func close(_ name: String) { raw("</" + name + ">") }

    /// `<name>escaped text</name>`.
    mutating func element(_ name: String, _ text: String, _ attributes: [(String, String)] = []) {
        open(name, attributes)
        escape(Array(text.utf8))
        close(name)
    }

    mutating func element(_ name: String, _ value: Int) { element(name, String(value)) }

    /// `<name></name>`: libarms never writes self-closing tags.
    mutating func empty(_ name: String) {
        open(name)
        close(name)
    }

    mutating func text(_ s: String) { escape(Array(s.utf8)) }

    /// Writes a payload as element content: escaped text, or base64 (no line breaks).
    mutating func payload(_ payload: Payload) {
        switch payload.encoding {
        case .text: escape(payload.bytes)
        case .base64: raw(bytes: Base64.encode(payload.bytes))
        }
    }

    mutating func escape(_ input: [UInt8]) {
        var out = [UInt8]()
        out.reserveCapacity(input.count)
        var i = 0
        while i < input.count {
            let c = input[i]
            switch c {
            case UInt8(ascii: "<"): out += Array("&lt;".utf8)
            case UInt8(ascii: ">"): out += Array("&gt;".utf8)
            case UInt8(ascii: "&"): out += Array("&amp;".utf8)
            case UInt8(ascii: "\""): out += Array("&quot;".utf8)
            case UInt8(ascii: "'"): out += Array("&apos;".utf8)
            case 0x80...:
                switch style {
                case .libarms:
                    out.append(UInt8(ascii: "?"))
                case .asciiSafe:
                    if let (scalar, length) = Self.decodeScalar(input, at: i) {
                        out += Array("&#\(scalar);".utf8)
                        i += length
                        continue
                    }
                    out.append(UInt8(ascii: "?"))
                }
            case 0x09, 0x0A, 0x0D:
                out.append(c)
            case ..<0x20, 0x7F:
                out.append(style == .libarms ? c : UInt8(ascii: "?"))
            default:
                out.append(c)
            }
            i += 1
        }
        raw(bytes: out)
    }

    /// One UTF-8 scalar at `i`, if the bytes there form a valid one.
    private static func decodeScalar(_ bytes: [UInt8], at i: Int) -> (UInt32, Int)? {
        let lead = bytes[i]
        let length: Int
        var value: UInt32
        switch lead {
        case 0xC2...0xDF: length = 2; value = UInt32(lead & 0x1F)
        case 0xE0...0xEF: length = 3; value = UInt32(lead & 0x0F)
        case 0xF0...0xF4: length = 4; value = UInt32(lead & 0x07)
        default: return nil
        }
        guard i + length <= bytes.count else { return nil }
        for k in 1..<length {
            let b = bytes[i + k]
            guard b & 0xC0 == 0x80 else { return nil }
            value = value << 6 | UInt32(b & 0x3F)
        }
        let minimum: UInt32 = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000
        guard value >= minimum, value <= 0x10FFFF, !(0xD800...0xDFFF).contains(value) else { return nil }
        return (value, length)
    }
}
