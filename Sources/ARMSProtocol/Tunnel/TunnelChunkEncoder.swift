/// Writes tunnel chunks the way libarms and the recommended RS do (tunnel.md §4.2, §8, §12).
public enum TunnelChunkEncoder: Sendable {
    /// A message as an SA writes it: one chunk per non-empty piece, each with
    /// `;id=<id>`, the last one also with `;trail`. A single piece gives
    /// `<hex>;id=<id>;trail`. If every piece is empty nothing is written.
    public static func message(_ pieces: [[UInt8]], id: UInt32) -> [UInt8] {
        let written = pieces.filter { !$0.isEmpty }
        var out = [UInt8]()
        for (i, piece) in written.enumerated() {
            let ext: [TunnelChunkExtension] = i == written.count - 1 ? [.id(id), .trail] : [.id(id)]
            out += TunnelChunk(data: piece, extensions: ext).encoded()
        }
        return out
    }

    /// A whole message in one chunk, RS style: `<hex>;id=<id>;trail`, or
    /// `<hex>;trail` without an id. `data` must not be empty (an empty chunk
    /// would end the stream).
    public static func singleChunk(_ data: [UInt8], id: UInt32?) -> [UInt8] {
        precondition(!data.isEmpty, "an empty chunk ends the stream")
        return TunnelChunk(data: data, extensions: (id.map { [.id($0)] } ?? []) + [.trail]).encoded()
    }

    /// The SA's keep-alive probe: `4;echo-request;trail\r\necho\r\n` (28 bytes).
    public static let echoRequest: [UInt8] = TunnelChunk(data: Array("echo".utf8), extensions: [.echoRequest, .trail]).encoded()

    /// The recommended keep-alive reply: `4;echo-response;trail\r\necho\r\n` (29 bytes).
    public static let echoReply: [UInt8] = TunnelChunk(data: Array("echo".utf8), extensions: [.echoResponse, .trail]).encoded()

    /// The last chunk, ending the stream: `0\r\n\r\n`.
    public static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)
}
