extension LocationConfig {
    /// Something in an `md-config` text that a mock LS must not send (pull.md §9.1, §9.2).
    public enum Issue: Equatable, Sendable, CustomStringConvertible {
        /// Empty text: libarms treats the response as result 200 and returns `ARMS_EREBOOT`.
        case empty
        /// `maxSize + 1` bytes or more: overruns libarms' 2048-byte slot.
        case tooLarge(bytes: Int)
        /// A CR: it sticks to the token before it (`}` no longer closes, PEM lines carry it).
        case carriageReturn(line: Int)
        /// A tab: it does not separate tokens.
        case tab(line: Int)
        /// A byte above 0x7F: pull responses must be plain ASCII.
        case nonASCII(line: Int)
        /// libarms' tokenizer would misread or overrun on it; see `ParseError`.
        case unparsable(ParseError)
        /// A token libarms silently skips (unknown keyword, `ifindex:` with a colon, a
        /// parameter the line type does not have, or its value).
        case ignoredToken(line: Int, token: String)
        /// First `md-config` without any line block: the RS phase never starts.
        case noLineBlock
        /// First `md-config` without `rs-certificate`: no RS response is ever accepted.
        case noCertificate
        /// First `md-config` has no line whose address family reaches this RS URL.
        case unreachableURL(ARMSURL)

        public var description: String {
            switch self {
            case .empty: return "md-config is empty (the client reboots)"
            case .tooLarge(let n): return "md-config is \(n) bytes, must be below 2048"
            case .carriageReturn(let l): return "md-config:\(l): carriage return (use LF only)"
            case .tab(let l): return "md-config:\(l): tab (libarms does not split tokens at tabs)"
            case .nonASCII(let l): return "md-config:\(l): non-ASCII byte"
            case .unparsable(let e): return e.description
            case .ignoredToken(let l, let t): return "md-config:\(l): token ignored by libarms: \"\(t)\""
            case .noLineBlock: return "first md-config has no line block (RS phase never starts)"
            case .noCertificate: return "first md-config has no rs-certificate (RS responses are rejected)"
            case .unreachableURL(let u): return "no line in the first md-config reaches \(u) (\(u.addressFamily.rawValue))"
            }
        }
    }

    /// Checks one `md-config` text against the mock-server checklist. `isFirst` marks the
    /// `md-config` of the first `rs-info` (the only one whose line blocks and certificate
    /// libarms uses); `rsURLs` are the response's RS URLs, each of which needs a line of a
    /// matching address family there. Returns every issue found, none for a good text.
    public static func validate(_ text: String, isFirst: Bool = true, rsURLs: [ARMSURL] = []) -> [Issue] {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return [.empty] }
        var issues: [Issue] = []
        if bytes.count > maxSize { issues.append(.tooLarge(bytes: bytes.count)) }
        var line = 1
        var flagged: (cr: Bool, tab: Bool, high: Bool) = (false, false, false)
        for c in bytes {
            switch c {
            case UInt8(ascii: "\n"):
                line += 1
                flagged = (false, false, false)
            case UInt8(ascii: "\r") where !flagged.cr:
                issues.append(.carriageReturn(line: line))
                flagged.cr = true
            case UInt8(ascii: "\t") where !flagged.tab:
                issues.append(.tab(line: line))
                flagged.tab = true
            case 0x80... where !flagged.high:
                issues.append(.nonASCII(line: line))
                flagged.high = true
            default:
                break
            }
        }
        guard bytes.count <= maxSize else { return issues }
        var ignored: [(line: Int, token: String)] = []
        let config: LocationConfig
        do {
            config = try parse(bytes, ignored: &ignored)
        } catch {
            issues.append(.unparsable(error))
            return issues
        }
        issues += ignored.map { Issue.ignoredToken(line: $0.line, token: $0.token) }
        if isFirst {
            if config.lines.isEmpty { issues.append(.noLineBlock) }
            if config.rsCertificatePEM == nil { issues.append(.noCertificate) }
            for url in rsURLs where !config.lines.isEmpty && !config.hasLine(for: url.addressFamily) {
                issues.append(.unreachableURL(url))
            }
        }
        return issues
    }
}
