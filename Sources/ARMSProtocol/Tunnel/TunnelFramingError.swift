/// Why a tunnel byte stream could not be framed (decoder) or grouped into
/// messages (assembler).
public enum TunnelFramingError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The chunk size is empty or not hexadecimal (the text is what stood before `;` or CRLF).
    case badChunkSize(String)
    /// An `id=` extension whose value is not 1 or more decimal digits fitting `UInt32`.
    case badID(String)
    /// A chunk header line longer than the limit (bytes before CRLF).
    case headerTooLong(limit: Int)
    /// A chunk size (hex text as received) above the limit.
    case chunkTooLarge(size: String, limit: Int)
    /// A chunk header line ended with LF not preceded by CR.
    case headerNotTerminatedByCRLF
    /// The two bytes after the chunk data are not CRLF.
    case missingCRLFAfterData
    /// The last chunk (size 0) is not followed by an empty CRLF line
    /// (trailer fields are not supported).
    case missingCRLFAfterLastChunk
    /// Bytes arrived after the end of the stream.
    case dataAfterEndOfStream
    /// A message grew beyond the size limit (assembler). `id` is nil for an id-less chunk.
    case messageTooLarge(id: UInt32?, limit: Int)
    /// A new message id arrived while the limit of messages in flight was reached (assembler).
    case tooManyMessagesInFlight(limit: Int)

    public var description: String {
        switch self {
        case .badChunkSize(let s): return "tunnel: bad chunk size \"\(s)\""
        case .badID(let s): return "tunnel: bad chunk id \"\(s)\""
        case .headerTooLong(let n): return "tunnel: chunk header line longer than \(n) bytes"
        case .chunkTooLarge(let s, let n): return "tunnel: chunk size 0x\(s) above limit \(n)"
        case .headerNotTerminatedByCRLF: return "tunnel: chunk header line ends in a bare LF"
        case .missingCRLFAfterData: return "tunnel: chunk data not followed by CRLF"
        case .missingCRLFAfterLastChunk: return "tunnel: last chunk not followed by CRLF"
        case .dataAfterEndOfStream: return "tunnel: data after the last chunk"
        case .messageTooLarge(let id, let n):
            return "tunnel: message \(id.map { "id=\($0)" } ?? "without id") larger than \(n) bytes"
        case .tooManyMessagesInFlight(let n): return "tunnel: more than \(n) messages in flight"
        }
    }
}
