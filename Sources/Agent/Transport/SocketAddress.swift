import Glibc

/// A numeric IPv4 or IPv6 TCP endpoint.
///
/// Built only from numeric literals (`getaddrinfo` with `AI_NUMERICHOST`): like
/// libarms, the agent never asks DNS. Equality compares the socket address itself
/// (family, address bytes, port, IPv6 scope), not the spelling of `host`.
public struct SocketAddress: Hashable, Sendable, CustomStringConvertible {
    /// The address family.
    public enum Family: Hashable, Sendable, CustomStringConvertible {
        case ipv4
        case ipv6

        /// `AF_INET` / `AF_INET6`.
        public var rawValue: Int32 {
            switch self {
            case .ipv4: Int32(AF_INET)
            case .ipv6: Int32(AF_INET6)
            }
        }

        public var description: String {
            switch self {
            case .ipv4: "IPv4"
            case .ipv6: "IPv6"
            }
        }
    }

    /// The address family.
    public let family: Family
    /// The numeric host: exactly as passed to `numeric(host:port:)`, or in
    /// canonical form (`getnameinfo`) for addresses read from a socket.
    public let host: String
    /// The TCP port.
    public let port: UInt16
    /// The raw `sockaddr_in` / `sockaddr_in6`.
    let storage: [UInt8]

    /// Resolves a numeric IPv4 or IPv6 literal (IPv6 without brackets, an
    /// optional `%scope` allowed). Names are refused without any lookup.
    public static func numeric(host: String, port: UInt16) throws(TransportError) -> SocketAddress {
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = socketStreamType
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            if let list { freeaddrinfo(list) }
            throw .invalidAddress(host: host, port: port)
        }
        defer { freeaddrinfo(first) }
        let info = first.pointee
        guard let sa = info.ai_addr,
              let family = Family(rawFamily: Int32(sa.pointee.sa_family)) else {
            throw .invalidAddress(host: host, port: port)
        }
        let bytes = Array(UnsafeRawBufferPointer(start: sa, count: Int(info.ai_addrlen)))
        return SocketAddress(family: family, host: host, port: port, storage: bytes)
    }

    init(family: Family, host: String, port: UInt16, storage: [UInt8]) {
        self.family = family
        self.host = host
        self.port = port
        self.storage = storage
    }

    /// Reads a kernel-filled socket address (from `getsockname`/`getpeername`).
    init?(storage raw: UnsafeRawBufferPointer) {
        guard raw.count >= MemoryLayout<sa_family_t>.size else { return nil }
        let familyValue = raw.loadUnaligned(fromByteOffset: 0, as: sa_family_t.self)
        guard let family = Family(rawFamily: Int32(familyValue)) else { return nil }
        let length = family == .ipv4 ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size
        guard raw.count >= length else { return nil }
        let bytes = Array(raw.prefix(length))
        var hostBuffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let status = bytes.withUnsafeBytes { sa in
            getnameinfo(sa.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(length),
                        &hostBuffer, socklen_t(hostBuffer.count), nil, 0, NI_NUMERICHOST | NI_NUMERICSERV)
        }
        guard status == 0 else { return nil }
        let port: UInt16 = bytes.withUnsafeBytes { sa in
            switch family {
            case .ipv4: UInt16(bigEndian: sa.loadUnaligned(as: sockaddr_in.self).sin_port)
            case .ipv6: UInt16(bigEndian: sa.loadUnaligned(as: sockaddr_in6.self).sin6_port)
            }
        }
        self.init(family: family, host: cStringPrefix(hostBuffer), port: port, storage: bytes)
    }

    /// `host:port`, IPv6 as `[host]:port`.
    public var description: String {
        family == .ipv6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    public static func == (lhs: SocketAddress, rhs: SocketAddress) -> Bool {
        lhs.storage == rhs.storage
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(storage)
    }

    /// Calls `body` with the address as a `sockaddr` pointer and its length.
    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        storage.withUnsafeBytes { raw in
            body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
        }
    }
}

extension SocketAddress.Family {
    init?(rawFamily: Int32) {
        switch rawFamily {
        case Int32(AF_INET): self = .ipv4
        case Int32(AF_INET6): self = .ipv6
        default: return nil
        }
    }
}

// MARK: - small helpers shared by the transport files

let socketStreamType = Int32(SOCK_STREAM.rawValue)

/// `strerror` text of an errno value.
func errnoText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text)
}

/// The text before the first NUL of a C character buffer.
func cStringPrefix(_ buffer: [CChar]) -> String {
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return String(decoding: bytes, as: UTF8.self)
}
