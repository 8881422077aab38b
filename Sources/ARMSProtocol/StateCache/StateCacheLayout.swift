/// Byte layout of libarms 5.33's `struct arms_dumped_state` (state version 2) as an
/// LP64 compiler lays it out (x86-64, aarch64): host byte order (little-endian there),
/// native alignment, zero padding, NUL-padded `char` arrays (agent.md §9.1–9.2).
///
/// ```
///      0  int     state_version            (2)
///      4  char    rs_endpoint[128]
///    132  int     retry_max
///    136  int     retry_int
///    140  -       padding (4)
///    144  time_t  lltimeout                (8 bytes)
///    152  struct line_define line_defs[5]  (464 bytes each: int type; union conf)
///   2472  int     num_line
///   2476  int     last_line
///   2480  char    rs_preshared_key[65]
///   2545  struct  rsinfo[5]                (5377 bytes each: char url[257]; char cert[5120])
///  29430  -       padding (2)
///  29432  int     current_server
///  29436  int     result
///  29440  uint8   digest[16]               (MD5 of bytes 0..<29440)
///  29456  end
/// ```
///
/// The 460-byte line union (offsets relative to `conf`, i.e. to the entry + 4):
/// PPPoE and PPPoE-IPv6 `{ int ifindex; char id[36]; char pass[36]; }`;
/// DHCP, RA and the anonymous types `{ int ifindex; }`;
/// mobile `{ int ifindex; char telno[40]; int cid; char apn[100]; char pdp[8];
/// char id[128]; char pass[128]; char ipaddr[48]; }`;
/// static `{ int ifindex; char ipaddr[48]; }`.
public enum StateCacheLayout {
    /// `arms_size_of_state()` on LP64.
    public static let size = 29456
    /// `ARMS_STATE_VERSION` of libarms 5.33.
    public static let stateVersion = 2

    // MARK: Top-level offsets

    public static let stateVersionOffset = 0
    public static let rsEndpointOffset = 4
    public static let rsEndpointCapacity = 128
    public static let retryMaxOffset = 132
    public static let retryIntervalOffset = 136
    public static let llTimeoutOffset = 144
    public static let lineDefinitionsOffset = 152
    public static let lineDefinitionStride = 464
    public static let maxLines = 5
    public static let numLineOffset = 2472
    public static let lastLineOffset = 2476
    public static let rsPresharedKeyOffset = 2480
    public static let rsPresharedKeyCapacity = 65
    public static let rsInfoOffset = 2545
    public static let rsInfoStride = 5377
    public static let maxServers = 5
    public static let currentServerOffset = 29432
    public static let resultOffset = 29436
    public static let digestOffset = 29440
    public static let digestLength = 16

    // MARK: rsinfo entry (relative to the entry)

    public static let rsURLOffset = 0
    /// `URL_MAX_LEN + 1`: a URL has at most 256 bytes.
    public static let rsURLCapacity = 257
    public static let rsCertificateOffset = 257
    /// `ARMS_MAX_PEM_LEN`: a PEM has at most 5119 bytes.
    public static let rsCertificateCapacity = 5120

    // MARK: line_define entry (relative to the entry)

    public static let lineTypeOffset = 0
    /// Start of the union; every member begins with `int ifindex`.
    public static let lineConfOffset = 4
    public static let lineConfSize = 460

    /// Offsets inside the union (relative to `conf`) and buffer sizes.
    public enum Conf {
        public static let ifindex = 0
        public static let pppoeID = 4, pppoeIDCapacity = 36
        public static let pppoePassword = 40, pppoePasswordCapacity = 36
        public static let mobileTelno = 4, mobileTelnoCapacity = 40
        public static let mobileCID = 44
        public static let mobileAPN = 48, mobileAPNCapacity = 100
        public static let mobilePDP = 148, mobilePDPCapacity = 8
        public static let mobileID = 156, mobileIDCapacity = 128
        public static let mobilePassword = 284, mobilePasswordCapacity = 128
        public static let mobileIPAddress = 412, mobileIPAddressCapacity = 48
        public static let staticIPAddress = 4, staticIPAddressCapacity = 48
    }

    /// `enum arms_line_types` (libarms.h).
    public enum LineTypeCode: Int32, Sendable, CaseIterable {
        case noLine = 0
        case anonymousPPPoE = 1
        case pppoe = 2
        case dhcp = 3
        case anonymousMobile = 4
        case mobile = 5
        case staticAddress = 6
        case ra = 7
        case pppoeIPv6 = 8
        case anonymousPPPoEIPv6 = 9

        /// The code libarms stores for a Location-Config line.
        public init(_ type: LineType) {
            switch type {
            case .pppoe: self = .pppoe
            case .pppoeIPv6: self = .pppoeIPv6
            case .dhcp: self = .dhcp
            case .mobile: self = .mobile
            case .staticAddress: self = .staticAddress
            case .ra: self = .ra
            }
        }
    }

    /// Offset of line entry `index` (0..<5).
    public static func lineDefinitionOffset(_ index: Int) -> Int {
        lineDefinitionsOffset + index * lineDefinitionStride
    }

    /// Offset of rsinfo entry `index` (0..<5).
    public static func rsInfoEntryOffset(_ index: Int) -> Int {
        rsInfoOffset + index * rsInfoStride
    }
}
