/// The 128-bit identity of a service adapter (SA).
///
/// On the wire it is written as eight groups of four upper-case hex digits
/// (`0001-0000-1234-0056-0000-0000-0000-0001`, 39 characters) in XML and in
/// HTTP Basic auth, and as 16 big-endian bytes in heartbeat datagrams.
/// Parsing accepts either case; formatting always gives upper case, as libarms does.
public struct DistributionID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Protocol version (0x0001 = SMFv2; 0x0000 and 0xFFFF are reserved but seen in the field).
    public var version: UInt16
    /// Vendor code.
    public var vendorCode: UInt32
    /// SA type.
    public var saType: UInt16
    /// Per-vendor unique SA code.
    public var saCode: UInt64

    public init(version: UInt16, vendorCode: UInt32, saType: UInt16, saCode: UInt64) {
        self.version = version
        self.vendorCode = vendorCode
        self.saType = saType
        self.saCode = saCode
    }

    /// Why a distribution id string or byte sequence was refused.
    public enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        case wrongLength(Int)
        case wrongGroupCount(Int)
        case badGroup(index: Int, text: String)

        public var description: String {
            switch self {
            case .wrongLength(let n):
                return "distribution id must be 39 characters (8 groups of 4 hex digits), got \(n)"
            case .wrongGroupCount(let n):
                return "distribution id must have 8 groups separated by '-', got \(n)"
            case .badGroup(let i, let t):
                return "distribution id group \(i + 1) is not 4 hex digits: \"\(t)\""
            }
        }
    }

    /// Parses the textual form: 8 groups of exactly 4 hex digits (any case) joined by `-`.
    public init(parsing text: some StringProtocol) throws(ParseError) {
        let utf8 = Array(text.utf8)
        let groups = utf8.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
        guard groups.count == 8 else {
            if utf8.count != 39 { throw .wrongLength(utf8.count) }
            throw .wrongGroupCount(groups.count)
        }
        var words = [UInt16]()
        words.reserveCapacity(8)
        for (i, g) in groups.enumerated() {
            guard g.count == 4, let v = Self.hexValue(g) else {
                throw .badGroup(index: i, text: String(decoding: g, as: UTF8.self))
            }
            words.append(v)
        }
        self.init(words: words)
    }

    /// Non-throwing convenience.
    public init?(_ text: some StringProtocol) {
        guard let v = try? DistributionID(parsing: text) else { return nil }
        self = v
    }

    /// Builds an id from its 16 big-endian bytes (heartbeat TLV order).
    public init(bytes: some Collection<UInt8>) throws(ParseError) {
        guard bytes.count == 16 else { throw .wrongLength(bytes.count) }
        let b = Array(bytes)
        var words = [UInt16]()
        for i in 0..<8 { words.append(UInt16(b[2 * i]) << 8 | UInt16(b[2 * i + 1])) }
        self.init(words: words)
    }

    private init(words w: [UInt16]) {
        version = w[0]
        vendorCode = UInt32(w[1]) << 16 | UInt32(w[2])
        saType = w[3]
        saCode = UInt64(w[4]) << 48 | UInt64(w[5]) << 32 | UInt64(w[6]) << 16 | UInt64(w[7])
    }

    /// The eight 16-bit groups in textual order.
    public var groups: [UInt16] {
        [version, UInt16(vendorCode >> 16), UInt16(vendorCode & 0xFFFF), saType,
         UInt16(saCode >> 48), UInt16((saCode >> 32) & 0xFFFF),
         UInt16((saCode >> 16) & 0xFFFF), UInt16(saCode & 0xFFFF)]
    }

    /// The 16 big-endian bytes used in heartbeat datagrams.
    public var bytes: [UInt8] {
        groups.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    /// Canonical form: `%04X-%04X-...`, upper case, 39 characters.
    public var description: String {
        var out = [UInt8]()
        out.reserveCapacity(39)
        let hex = Array("0123456789ABCDEF".utf8)
        for (i, g) in groups.enumerated() {
            if i > 0 { out.append(UInt8(ascii: "-")) }
            for shift in stride(from: 12, through: 0, by: -4) {
                out.append(hex[Int((g >> UInt16(shift)) & 0xF)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func < (a: DistributionID, b: DistributionID) -> Bool {
        a.groups.lexicographicallyPrecedes(b.groups)
    }

    private static func hexValue(_ digits: some Collection<UInt8>) -> UInt16? {
        var v: UInt16 = 0
        for c in digits {
            let d: UInt16
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt16(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt16(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt16(c - UInt8(ascii: "A") + 10)
            default: return nil
            }
            v = v << 4 | d
        }
        return v
    }
}
