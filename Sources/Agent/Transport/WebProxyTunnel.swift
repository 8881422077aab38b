/// The optional HTTPS ("web") proxy of libarms (pull.md §2.2, push.md §2.6):
/// plain TCP to the proxy, one `CONNECT`, one read of its answer, then TLS
/// through the tunnel.
public enum WebProxyTunnel {
    /// libarms reads the proxy's answer once into a 8192-byte buffer (one byte
    /// kept for the terminating NUL).
    public static let responseReadLimit = 8191

    /// The exact request bytes:
    /// `CONNECT <host>:<port> HTTP/1.1\r\nHost: <host>:<port>\r\n\r\n`,
    /// an IPv6 host in brackets in both places.
    public static func connectRequest(to server: SocketAddress) -> [UInt8] {
        let target = server.family == .ipv6 ? "[\(server.host)]:\(server.port)" : "\(server.host):\(server.port)"
        return Array("CONNECT \(target) HTTP/1.1\r\nHost: \(target)\r\n\r\n".utf8)
    }

    /// The status code when `reply` starts the way libarms' `sscanf("HTTP/%u.%u %u")`
    /// needs (numbers may be preceded by white space, as `%u` allows), else nil.
    public static func statusCode(of reply: [UInt8]) -> Int? {
        let prefix = Array("HTTP/".utf8)
        guard reply.count > prefix.count, Array(reply.prefix(prefix.count)) == prefix else { return nil }
        var index = prefix.count
        guard scanUnsigned(reply, &index) != nil else { return nil }
        guard index < reply.count, reply[index] == UInt8(ascii: ".") else { return nil }
        index += 1
        guard scanUnsigned(reply, &index) != nil else { return nil }
        return scanUnsigned(reply, &index)
    }

    /// Whether libarms accepts the reply: a status code from 200 to 299.
    public static func accepts(_ reply: [UInt8]) -> Bool {
        guard let code = statusCode(of: reply) else { return false }
        return (200...299).contains(code)
    }

    /// Runs the `CONNECT` exchange on a connected proxy socket: write within
    /// `stepTimeout` of progress, wait up to `stepTimeout` for the answer, read
    /// it once (at most 8191 bytes), require 2xx. Whatever else that read held
    /// is dropped, as libarms does.
    static func establish(over tcp: TCPConnection, to server: SocketAddress, stepTimeout: Duration) throws(TransportError) {
        try tcp.write(connectRequest(to: server), progressTimeout: stepTimeout,
                      deadline: .now + stepTimeout, phase: .proxyRequest)
        let reply = try tcp.read(upTo: responseReadLimit, deadline: .now + stepTimeout, phase: .proxyResponse)
        guard !reply.isEmpty else { throw .proxyClosed }
        guard accepts(reply) else {
            throw .proxyRefused(status: statusCode(of: reply), statusLine: firstLine(of: reply))
        }
    }

    private static func scanUnsigned(_ bytes: [UInt8], _ index: inout Int) -> Int? {
        while index < bytes.count, isCSpace(bytes[index]) { index += 1 }
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") { index += 1 }
        var value = 0
        var digits = 0
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            value = min(value * 10 + Int(bytes[index] - UInt8(ascii: "0")), Int(UInt32.max))
            digits += 1
            index += 1
        }
        return digits > 0 ? value : nil
    }

    private static func isCSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    private static func firstLine(of reply: [UInt8]) -> String {
        let line = reply.prefix { $0 != 0x0D && $0 != 0x0A }.prefix(120)
        return String(decoding: line.map { (0x20...0x7E).contains($0) ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }
}
