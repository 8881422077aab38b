extension LocationConfig {
    /// Why a `LocationConfig` cannot be written as text a libarms client reads back unchanged.
    public enum EncodeError: Error, Equatable, Sendable, CustomStringConvertible {
        /// More than `LocationConfig.maxLineBlocks` lines.
        case tooManyLines(Int)
        /// A value with a byte libarms would split or skip (space, `;`, tab, CR, LF, other
        /// control or non-ASCII), or an integer outside the range of a C `int`.
        case invalidValue(key: String, value: String)
        /// A value longer than its field for the line type.
        case valueTooLong(key: String, value: String, max: Int)
        /// A PEM line (1-based, within the PEM) that is neither a BEGIN/END CERTIFICATE line
        /// nor a single token that libarms copies unchanged.
        case invalidCertificateLine(Int)
        /// The text would be `LocationConfig.maxSize + 1` bytes or more.
        case tooLarge(bytes: Int)

        public var description: String {
            switch self {
            case .tooManyLines(let n):
                return "location config: \(n) lines, at most \(LocationConfig.maxLineBlocks) allowed"
            case .invalidValue(let k, let v):
                return "location config: \(k): value cannot be written: \"\(v)\""
            case .valueTooLong(let k, let v, let m):
                return "location config: \(k): \"\(v)\" is longer than \(m) characters"
            case .invalidCertificateLine(let l):
                return "location config: rs-certificate: PEM line \(l) is not a single token"
            case .tooLarge(let n):
                return "location config: \(n) bytes, at most \(LocationConfig.maxSize) allowed"
            }
        }
    }

    /// Writes the text an LS puts in `md-config`: LF line ends, one-space indentation, one
    /// `key value;` per line, blocks closed by `};`, as in pull.md §4.3:
    ///
    /// ```
    /// line-dhcp {
    ///  ifindex 0;
    /// };
    /// rs-certificate {
    /// -----BEGIN CERTIFICATE-----
    /// ...
    /// -----END CERTIFICATE-----
    /// };
    /// ```
    /// Empty string parameters are left out (libarms reads them as empty anyway); `ifindex`
    /// is always written, and `cid` for mobile lines. The certificate is written line by
    /// line with blank lines dropped, so parsing the text gives the PEM in canonical form
    /// (each line LF-terminated); a value holding a canonical PEM round-trips exactly.
    public func encoded() throws(EncodeError) -> String {
        guard lines.count <= Self.maxLineBlocks else { throw .tooManyLines(lines.count) }
        var out = ""
        for line in lines {
            out += line.type.keyword + " {\n"
            var params: [(key: String, value: String, max: Int?)] = [("ifindex", String(line.ifindex), nil)]
            switch line {
            case .pppoe(let p), .pppoeIPv6(let p):
                params += [("account", p.account, 35), ("password", p.password, 35)]
            case .mobile(let m):
                params += [("account", m.account, 127), ("password", m.password, 127), ("telno", m.telno, 39),
                           ("cid", String(m.cid), nil), ("apn", m.apn, 99), ("pdp-type", m.pdpType, 7),
                           ("ipaddress", m.ipAddress, 47)]
            case .staticAddress(_, let address):
                params.append(("ipaddress", address, 47))
            case .dhcp, .ra:
                break
            }
            for (key, value, max) in params where !value.isEmpty {
                if max == nil {
                    // Integers: must read back through the parser's C-int rule.
                    guard Self.decimalInt(ArraySlice(value.utf8)) != nil else {
                        throw .invalidValue(key: key, value: value)
                    }
                }
                guard Self.isPlainToken(value) else { throw .invalidValue(key: key, value: value) }
                if let max, value.utf8.count > max { throw .valueTooLong(key: key, value: value, max: max) }
                out += " " + key + " " + value + ";\n"
            }
            out += "};\n"
        }
        if let pem = rsCertificatePEM {
            out += "rs-certificate {\n"
            var number = 0
            for pemLine in pem.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
                number += 1
                if pemLine.isEmpty { continue }
                let text = String(decoding: pemLine, as: UTF8.self)
                switch text {
                case "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----":
                    break
                case "{", "}", "-----BEGIN", "-----END", "CERTIFICATE-----":
                    throw .invalidCertificateLine(number)
                default:
                    guard Self.isPlainToken(text) else { throw .invalidCertificateLine(number) }
                }
                out += text + "\n"
            }
            out += "};\n"
        }
        let size = out.utf8.count
        guard size <= Self.maxSize else { throw .tooLarge(bytes: size) }
        return out
    }

    /// Printable ASCII without space and `;`: read back by libarms as exactly one token.
    static func isPlainToken(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ";") }
    }
}
