/// Standard base64 (RFC 4648 alphabet, `=` padding) with libarms' decoding rules.
///
/// libarms' decoder tolerates CR and LF anywhere in the input and nothing else:
/// a space or a tab is a decode error (pull.md §5.3, push.md §2.5). Encoded output
/// has no line breaks, as libarms writes it.
public enum Base64 {
    public enum DecodeError: Error, Equatable, Sendable, CustomStringConvertible {
        /// A byte outside the alphabet (and not CR/LF) at this offset.
        case invalidCharacter(UInt8, offset: Int)
        /// The number of significant characters is not a multiple of four.
        case badLength(Int)
        /// `=` somewhere other than the last one or two positions.
        case misplacedPadding(offset: Int)

        public var description: String {
            switch self {
            case .invalidCharacter(let c, let o):
                return "base64: invalid character 0x\(String(c, radix: 16)) at offset \(o)"
            case .badLength(let n):
                return "base64: \(n) significant characters is not a multiple of 4"
            case .misplacedPadding(let o):
                return "base64: misplaced '=' at offset \(o)"
            }
        }
    }

    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private static let reverse: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    /// Encodes bytes without line breaks.
    public static func encode(_ bytes: some Collection<UInt8>) -> [UInt8] {
        let input = Array(bytes)
        var out = [UInt8]()
        out.reserveCapacity((input.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= input.count {
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
            out.append(alphabet[Int(n & 63)])
            i += 3
        }
        let rest = input.count - i
        if rest == 1 {
            let n = UInt32(input[i]) << 16
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
        } else if rest == 2 {
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], UInt8(ascii: "=")]
        }
        return out
    }

    /// Encodes bytes to a `String`.
    public static func encodeToString(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: encode(bytes), as: UTF8.self)
    }

    /// Decodes with libarms' tolerance: CR and LF are skipped, anything else outside
    /// the alphabet is an error.
    public static func decode(_ text: some Collection<UInt8>) throws(DecodeError) -> [UInt8] {
        var values = [UInt8]()
        values.reserveCapacity(text.count)
        var padding = 0
        for (offset, c) in text.enumerated() {
            if c == 0x0D || c == 0x0A { continue }
            if c == UInt8(ascii: "=") {
                padding += 1
                if padding > 2 { throw .misplacedPadding(offset: offset) }
                values.append(0)
                continue
            }
            let v = reverse[Int(c)]
            if v == 0xFF { throw .invalidCharacter(c, offset: offset) }
            if padding > 0 { throw .misplacedPadding(offset: offset) }
            values.append(v)
        }
        guard values.count % 4 == 0 else { throw .badLength(values.count) }
        var out = [UInt8]()
        out.reserveCapacity(values.count / 4 * 3)
        var i = 0
        while i < values.count {
            let n = UInt32(values[i]) << 18 | UInt32(values[i + 1]) << 12 | UInt32(values[i + 2]) << 6 | UInt32(values[i + 3])
            out.append(UInt8(n >> 16 & 0xFF))
            out.append(UInt8(n >> 8 & 0xFF))
            out.append(UInt8(n & 0xFF))
            i += 4
        }
        out.removeLast(padding)
        return out
    }

    public static func decode(_ text: String) throws(DecodeError) -> [UInt8] {
        try decode(Array(text.utf8))
    }
}
