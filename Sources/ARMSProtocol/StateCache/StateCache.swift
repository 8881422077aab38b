/// The agent's state cache: what libarms' `arms_dump_state()` saves after every successful
/// pull so that a restart can skip the LS (agent.md §9, pull.md §7.4).
///
/// `encoded(digests:)` gives the exact 29456-byte LP64 image of libarms 5.33 (see
/// `StateCacheLayout`), with zero padding, NUL-padded strings, zeroed unused line and
/// RS slots and the MD5 trailer; `init(decoding:digests:)` reads such an image back, checking
/// size, digest and version in libarms' order (digest before version).
///
/// Every value is checked when the cache is built, so encoding cannot fail: strings must
/// fit their C buffers with the terminating NUL and must not contain NUL, integers must
/// fit a C `int` (`lltimeout` is a 64-bit `time_t`), at most 5 lines and 5 RS servers.
public struct StateCache: Sendable, Hashable {
    /// One RS the pull may use: `rs-info/url` and the CA certificate (PEM) taken from that
    /// RS-Info's Location-Config.
    public struct RSServer: Sendable, Hashable {
        /// At most 256 bytes.
        public let url: String
        /// At most 5119 bytes; nil when the slot holds no certificate.
        public let caPEM: String?

        /// An empty `caPEM` is stored as nil (libarms cannot tell them apart).
        public init(url: String, caPEM: String? = nil) {
            self.url = url
            self.caPEM = (caPEM?.isEmpty ?? true) ? nil : caPEM
        }
    }

    /// `rs_endpoint` (≤ 127 bytes): RS that served the last successful pull; empty means
    /// the LS must be asked.
    public let rsEndpoint: String
    /// `retry_max` (`rs-retry-max`).
    public let retryMax: Int
    /// `retry_int` (`rs-retry-interval`, seconds).
    public let retryInterval: Int
    /// `lltimeout` (`ll-timeout`, seconds; a 64-bit `time_t`).
    public let llTimeout: Int
    /// `line_defs[0..<num_line]` from the Location-Config (at most 5).
    public let lines: [LineDefinition]
    /// `last_line`: index of the line that last reached the RS.
    public let lastLine: Int
    /// `rs_preshared_key` (≤ 64 bytes). A secret: write the cache with mode 0600.
    public let rsPresharedKey: String
    /// `rsinfo[]` (at most 5, without gaps).
    public let rsServers: [RSServer]
    /// `current_server`: index of the RS used last.
    public let currentServer: Int
    /// `result`: libarms' result code when the state was dumped (0 after a pull).
    public let result: Int

    /// Whether a restart with this cache goes straight to the RS (agent.md §9.4).
    public var allowsSkippingLS: Bool { !rsEndpoint.isEmpty }

    /// A value that cannot be stored in its C field.
    public enum FieldError: Error, Equatable, Sendable, CustomStringConvertible {
        /// The text needs more than `max` bytes (its buffer also holds the NUL).
        case tooLong(field: String, length: Int, max: Int)
        /// A NUL byte would cut the text short.
        case containsNUL(field: String)
        /// Outside the range of the C type (`int`).
        case outOfRange(field: String, value: Int)
        /// More entries than the array holds.
        case tooMany(field: String, count: Int, max: Int)

        public var description: String {
            switch self {
            case .tooLong(let f, let n, let m): return "state cache: \(f): \(n) bytes, at most \(m) fit"
            case .containsNUL(let f): return "state cache: \(f): contains a NUL byte"
            case .outOfRange(let f, let v): return "state cache: \(f): \(v) does not fit a C int"
            case .tooMany(let f, let n, let m): return "state cache: \(f): \(n) entries, at most \(m) fit"
            }
        }
    }

    /// Why a byte image is not a usable state cache.
    public enum DecodeError: Error, Equatable, Sendable, CustomStringConvertible {
        /// Not `StateCacheLayout.size` bytes (armsd: `size of state cache is not expected`).
        case wrongSize(expected: Int, actual: Int)
        /// The MD5 trailer does not match (libarms: EINVAL).
        case badDigest
        /// `state_version` is not 2 (libarms: EINVAL).
        case wrongVersion(Int)
        /// A text field has no NUL inside its buffer, i.e. a value longer than
        /// `capacity - 1` bytes (a URL over 256 bytes, a PEM over 5119, ...).
        case fieldDoesNotFit(field: String, capacity: Int)
        /// A text field is not valid UTF-8.
        case notUTF8(field: String)
        /// `num_line` outside 0...5.
        case lineCount(Int)
        /// A line type code that is not one of the Location-Config types
        /// (0 = none, the anonymous types 1/4/9, or an unknown code).
        case lineType(index: Int, code: Int)
        /// An RS slot with a URL after an empty slot (libarms never dumps gaps).
        case serverGap(index: Int)

        public var description: String {
            switch self {
            case .wrongSize(let e, let a): return "state cache is \(a) bytes, expected \(e)"
            case .badDigest: return "state cache digest mismatch"
            case .wrongVersion(let v): return "state cache version \(v), expected \(StateCacheLayout.stateVersion)"
            case .fieldDoesNotFit(let f, let c): return "state cache: \(f): no NUL within its \(c) bytes"
            case .notUTF8(let f): return "state cache: \(f): not UTF-8"
            case .lineCount(let n): return "state cache: num_line \(n) outside 0...\(StateCacheLayout.maxLines)"
            case .lineType(let i, let c): return "state cache: line_defs[\(i)].type \(c) is not a Location-Config line type"
            case .serverGap(let i): return "state cache: rsinfo[\(i)].url follows an empty slot"
            }
        }
    }

    /// Builds a cache, checking every value against its C field.
    public init(rsEndpoint: String = "", retryMax: Int = 0, retryInterval: Int = 0, llTimeout: Int = 0,
                lines: [LineDefinition] = [], lastLine: Int = 0, rsPresharedKey: String = "",
                rsServers: [RSServer] = [], currentServer: Int = 0, result: Int = 0) throws(FieldError) {
        typealias L = StateCacheLayout
        try Self.checkText(rsEndpoint, "rs_endpoint", capacity: L.rsEndpointCapacity)
        try Self.checkInt(retryMax, "retry_max")
        try Self.checkInt(retryInterval, "retry_int")
        guard lines.count <= L.maxLines else { throw .tooMany(field: "line_defs", count: lines.count, max: L.maxLines) }
        for (i, line) in lines.enumerated() { try Self.checkLine(line, index: i) }
        try Self.checkInt(lastLine, "last_line")
        try Self.checkText(rsPresharedKey, "rs_preshared_key", capacity: L.rsPresharedKeyCapacity)
        guard rsServers.count <= L.maxServers else { throw .tooMany(field: "rsinfo", count: rsServers.count, max: L.maxServers) }
        for (i, server) in rsServers.enumerated() {
            try Self.checkText(server.url, "rsinfo[\(i)].url", capacity: L.rsURLCapacity)
            if let pem = server.caPEM { try Self.checkText(pem, "rsinfo[\(i)].cert", capacity: L.rsCertificateCapacity) }
        }
        try Self.checkInt(currentServer, "current_server")
        try Self.checkInt(result, "result")
        self.init(unchecked: rsEndpoint, retryMax, retryInterval, llTimeout, lines, lastLine, rsPresharedKey,
                  rsServers, currentServer, result)
    }

    /// Stores the values as given (the caller checked them).
    private init(unchecked rsEndpoint: String, _ retryMax: Int, _ retryInterval: Int, _ llTimeout: Int,
                 _ lines: [LineDefinition], _ lastLine: Int, _ rsPresharedKey: String, _ rsServers: [RSServer],
                 _ currentServer: Int, _ result: Int) {
        self.rsEndpoint = rsEndpoint
        self.retryMax = retryMax
        self.retryInterval = retryInterval
        self.llTimeout = llTimeout
        self.lines = lines
        self.lastLine = lastLine
        self.rsPresharedKey = rsPresharedKey
        self.rsServers = rsServers
        self.currentServer = currentServer
        self.result = result
    }

    private static func checkText(_ text: String, _ field: String, capacity: Int) throws(FieldError) {
        let bytes = text.utf8
        guard !bytes.contains(0) else { throw .containsNUL(field: field) }
        guard bytes.count < capacity else { throw .tooLong(field: field, length: bytes.count, max: capacity - 1) }
    }

    private static func checkInt(_ value: Int, _ field: String) throws(FieldError) {
        guard Int(Int32.min)...Int(Int32.max) ~= value else { throw .outOfRange(field: field, value: value) }
    }

    private static func checkLine(_ line: LineDefinition, index i: Int) throws(FieldError) {
        typealias C = StateCacheLayout.Conf
        let conf = "line_defs[\(i)].conf"
        try checkInt(line.ifindex, "\(conf).ifindex")
        switch line {
        case .pppoe(let p), .pppoeIPv6(let p):
            try checkText(p.account, "\(conf).pppoe.id", capacity: C.pppoeIDCapacity)
            try checkText(p.password, "\(conf).pppoe.pass", capacity: C.pppoePasswordCapacity)
        case .mobile(let m):
            try checkText(m.telno, "\(conf).mobile.telno", capacity: C.mobileTelnoCapacity)
            try checkInt(m.cid, "\(conf).mobile.cid")
            try checkText(m.apn, "\(conf).mobile.apn", capacity: C.mobileAPNCapacity)
            try checkText(m.pdpType, "\(conf).mobile.pdp", capacity: C.mobilePDPCapacity)
            try checkText(m.account, "\(conf).mobile.id", capacity: C.mobileIDCapacity)
            try checkText(m.password, "\(conf).mobile.pass", capacity: C.mobilePasswordCapacity)
            try checkText(m.ipAddress, "\(conf).mobile.ipaddr", capacity: C.mobileIPAddressCapacity)
        case .staticAddress(_, let address):
            try checkText(address, "\(conf).staticip.ipaddr", capacity: C.staticIPAddressCapacity)
        case .dhcp, .ra:
            break
        }
    }

    // MARK: - Encoding

    /// The 29456-byte image, MD5 trailer included.
    public func encoded(digests: any ARMSDigests) -> [UInt8] {
        typealias L = StateCacheLayout
        typealias C = L.Conf
        var w = ByteImage(count: L.size)
        w.putInt32(L.stateVersion, at: L.stateVersionOffset)
        w.putText(rsEndpoint, at: L.rsEndpointOffset)
        w.putInt32(retryMax, at: L.retryMaxOffset)
        w.putInt32(retryInterval, at: L.retryIntervalOffset)
        w.putInt64(llTimeout, at: L.llTimeoutOffset)
        for (i, line) in lines.enumerated() {
            let entry = L.lineDefinitionOffset(i)
            let conf = entry + L.lineConfOffset
            w.putInt32(Int(L.LineTypeCode(line.type).rawValue), at: entry + L.lineTypeOffset)
            w.putInt32(line.ifindex, at: conf + C.ifindex)
            switch line {
            case .pppoe(let p), .pppoeIPv6(let p):
                w.putText(p.account, at: conf + C.pppoeID)
                w.putText(p.password, at: conf + C.pppoePassword)
            case .mobile(let m):
                w.putText(m.telno, at: conf + C.mobileTelno)
                w.putInt32(m.cid, at: conf + C.mobileCID)
                w.putText(m.apn, at: conf + C.mobileAPN)
                w.putText(m.pdpType, at: conf + C.mobilePDP)
                w.putText(m.account, at: conf + C.mobileID)
                w.putText(m.password, at: conf + C.mobilePassword)
                w.putText(m.ipAddress, at: conf + C.mobileIPAddress)
            case .staticAddress(_, let address):
                w.putText(address, at: conf + C.staticIPAddress)
            case .dhcp, .ra:
                break
            }
        }
        w.putInt32(lines.count, at: L.numLineOffset)
        w.putInt32(lastLine, at: L.lastLineOffset)
        w.putText(rsPresharedKey, at: L.rsPresharedKeyOffset)
        for (i, server) in rsServers.enumerated() {
            let entry = L.rsInfoEntryOffset(i)
            w.putText(server.url, at: entry + L.rsURLOffset)
            if let pem = server.caPEM { w.putText(pem, at: entry + L.rsCertificateOffset) }
        }
        w.putInt32(currentServer, at: L.currentServerOffset)
        w.putInt32(result, at: L.resultOffset)
        let digest = digests.md5(of: w.bytes[..<L.digestOffset])
        w.bytes.replaceSubrange(L.digestOffset..<L.size, with: digest)
        return w.bytes
    }

    // MARK: - Decoding

    /// Reads an image written by `encoded(digests:)` or by libarms 5.33 on an LP64 host.
    /// Checks, in this order: size, digest, version, then every field. Bytes after a
    /// string's NUL, padding, union bytes the line type does not use, line entries from
    /// `num_line` on and the certificate of an empty RS slot are ignored, as libarms does.
    /// `digests` computes the MD5 trailer.
    public init(decoding image: some Collection<UInt8>, digests: any ARMSDigests) throws(DecodeError) {
        typealias L = StateCacheLayout
        typealias C = L.Conf
        let r = ByteReader(bytes: Array(image))
        guard r.bytes.count == L.size else { throw .wrongSize(expected: L.size, actual: r.bytes.count) }
        guard digests.md5(of: r.bytes[..<L.digestOffset]) == Array(r.bytes[L.digestOffset...]) else { throw .badDigest }
        let version = r.int32(at: L.stateVersionOffset)
        guard version == L.stateVersion else { throw .wrongVersion(version) }

        let endpoint = try r.text(at: L.rsEndpointOffset, capacity: L.rsEndpointCapacity, field: "rs_endpoint")
        let numLine = r.int32(at: L.numLineOffset)
        guard 0...L.maxLines ~= numLine else { throw .lineCount(numLine) }
        var lines: [LineDefinition] = []
        for i in 0..<numLine {
            let entry = L.lineDefinitionOffset(i)
            let conf = entry + L.lineConfOffset
            let name = "line_defs[\(i)].conf"
            let code = r.int32(at: entry + L.lineTypeOffset)
            let ifindex = r.int32(at: conf + C.ifindex)
            func pppoe() throws(DecodeError) -> PPPoELine {
                PPPoELine(ifindex: ifindex,
                          account: try r.text(at: conf + C.pppoeID, capacity: C.pppoeIDCapacity, field: "\(name).pppoe.id"),
                          password: try r.text(at: conf + C.pppoePassword, capacity: C.pppoePasswordCapacity,
                                               field: "\(name).pppoe.pass"))
            }
            switch L.LineTypeCode(rawValue: Int32(truncatingIfNeeded: code)) {
            case .pppoe: lines.append(.pppoe(try pppoe()))
            case .pppoeIPv6: lines.append(.pppoeIPv6(try pppoe()))
            case .dhcp: lines.append(.dhcp(ifindex: ifindex))
            case .ra: lines.append(.ra(ifindex: ifindex))
            case .staticAddress:
                lines.append(.staticAddress(
                    ifindex: ifindex,
                    ipAddress: try r.text(at: conf + C.staticIPAddress, capacity: C.staticIPAddressCapacity,
                                          field: "\(name).staticip.ipaddr")))
            case .mobile:
                let m = "\(name).mobile"
                lines.append(.mobile(MobileLine(
                    ifindex: ifindex,
                    account: try r.text(at: conf + C.mobileID, capacity: C.mobileIDCapacity, field: "\(m).id"),
                    password: try r.text(at: conf + C.mobilePassword, capacity: C.mobilePasswordCapacity,
                                         field: "\(m).pass"),
                    telno: try r.text(at: conf + C.mobileTelno, capacity: C.mobileTelnoCapacity, field: "\(m).telno"),
                    cid: r.int32(at: conf + C.mobileCID),
                    apn: try r.text(at: conf + C.mobileAPN, capacity: C.mobileAPNCapacity, field: "\(m).apn"),
                    pdpType: try r.text(at: conf + C.mobilePDP, capacity: C.mobilePDPCapacity, field: "\(m).pdp"),
                    ipAddress: try r.text(at: conf + C.mobileIPAddress, capacity: C.mobileIPAddressCapacity,
                                          field: "\(m).ipaddr"))))
            case .noLine, .anonymousPPPoE, .anonymousMobile, .anonymousPPPoEIPv6, nil:
                throw .lineType(index: i, code: code)
            }
        }
        let key = try r.text(at: L.rsPresharedKeyOffset, capacity: L.rsPresharedKeyCapacity, field: "rs_preshared_key")
        var servers: [RSServer] = []
        var sawEmpty = false
        for i in 0..<L.maxServers {
            let entry = L.rsInfoEntryOffset(i)
            let url = try r.text(at: entry + L.rsURLOffset, capacity: L.rsURLCapacity, field: "rsinfo[\(i)].url")
            if url.isEmpty {
                sawEmpty = true
                continue
            }
            guard !sawEmpty else { throw .serverGap(index: i) }
            let pem = try r.text(at: entry + L.rsCertificateOffset, capacity: L.rsCertificateCapacity,
                                 field: "rsinfo[\(i)].cert")
            servers.append(RSServer(url: url, caPEM: pem))
        }

        // Every value was read from a field of its C size, so it passes the checks.
        self.init(unchecked: endpoint, r.int32(at: L.retryMaxOffset), r.int32(at: L.retryIntervalOffset),
                  r.int64(at: L.llTimeoutOffset), lines, r.int32(at: L.lastLineOffset), key, servers,
                  r.int32(at: L.currentServerOffset), r.int32(at: L.resultOffset))
    }
}

/// A zeroed byte image written little-endian.
private struct ByteImage {
    var bytes: [UInt8]

    init(count: Int) { bytes = [UInt8](repeating: 0, count: count) }

    mutating func putInt32(_ value: Int, at offset: Int) {
        let v = UInt32(bitPattern: Int32(value))
        for k in 0..<4 { bytes[offset + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(k))) }
    }

    mutating func putInt64(_ value: Int, at offset: Int) {
        let v = UInt64(bitPattern: Int64(value))
        for k in 0..<8 { bytes[offset + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
    }

    /// Copies the UTF-8 bytes; the rest of the field stays zero (the caller checked the length).
    mutating func putText(_ text: String, at offset: Int) {
        var i = offset
        for b in text.utf8 {
            bytes[i] = b
            i += 1
        }
    }
}

/// Little-endian reads from an image.
private struct ByteReader {
    let bytes: [UInt8]

    func int32(at offset: Int) -> Int {
        var v: UInt32 = 0
        for k in 0..<4 { v |= UInt32(bytes[offset + k]) << (8 * UInt32(k)) }
        return Int(Int32(bitPattern: v))
    }

    func int64(at offset: Int) -> Int {
        var v: UInt64 = 0
        for k in 0..<8 { v |= UInt64(bytes[offset + k]) << (8 * UInt64(k)) }
        return Int(Int64(bitPattern: v))
    }

    /// The bytes up to the first NUL of a `capacity`-byte field, as UTF-8 text.
    func text(at offset: Int, capacity: Int, field: String) throws(StateCache.DecodeError) -> String {
        let slot = bytes[offset..<(offset + capacity)]
        guard let end = slot.firstIndex(of: 0) else { throw .fieldDoesNotFit(field: field, capacity: capacity) }
        guard let text = String(validating: slot[..<end], as: UTF8.self) else { throw .notUTF8(field: field) }
        return text
    }
}
