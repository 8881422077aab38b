// Internal helpers for turning protocol text into bytes and back.
//
// HTTP heads and chunk headers are byte strings. We map them to `String` as
// Latin-1 (each byte becomes the Unicode scalar with the same value), which is
// lossless both ways; everything ARMS actually sends is plain ASCII.

enum ByteText {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let colon = UInt8(ascii: ":")
    static let semicolon = UInt8(ascii: ";")
    static let crlf: [UInt8] = [0x0D, 0x0A]

    /// Bytes to `String`, one scalar per byte.
    static func string(_ bytes: some Sequence<UInt8>) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(Unicode.Scalar(b)) }
        return String(s)
    }

    /// `String` to bytes, one byte per scalar; scalars above U+00FF become `?`.
    static func bytes(_ text: String) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(text.unicodeScalars.count)
        for s in text.unicodeScalars {
            out.append(s.value <= 0xFF ? UInt8(s.value) : UInt8(ascii: "?"))
        }
        return out
    }

    static func lowercased(_ b: UInt8) -> UInt8 {
        (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z")) ? b + 0x20 : b
    }

    /// ASCII case-insensitive equality (non-ASCII compared exactly).
    static func equalsIgnoringCase(_ a: String, _ b: String) -> Bool {
        let x = a.unicodeScalars, y = b.unicodeScalars
        guard x.count == y.count else { return false }
        for (p, q) in zip(x, y) where p != q {
            guard p.isASCII, q.isASCII,
                  lowercased(UInt8(p.value)) == lowercased(UInt8(q.value)) else { return false }
        }
        return true
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    static func hexValue(_ b: UInt8) -> Int? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(b - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    /// Parses 1 or more decimal digits, nothing else, into a value `<= limit`.
    static func decimal(_ digits: some Collection<UInt8>, limit: UInt64) -> UInt64? {
        guard !digits.isEmpty else { return nil }
        var v: UInt64 = 0
        for d in digits {
            guard isDigit(d) else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(d - UInt8(ascii: "0")))
            guard !o1, !o2, s <= limit else { return nil }
            v = s
        }
        return v
    }

    /// Drops leading and trailing spaces and tabs.
    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var s = bytes
        while let f = s.first, f == space || f == tab { s.removeFirst() }
        while let l = s.last, l == space || l == tab { s.removeLast() }
        return s
    }

    /// Index of the first occurrence of `needle` in `haystack` at or after `from`.
    static func firstRange(of needle: [UInt8], in haystack: [UInt8], from: Int = 0) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        var i = max(0, from)
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == needle[0] {
                var j = 1
                while j < needle.count && haystack[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }
}
