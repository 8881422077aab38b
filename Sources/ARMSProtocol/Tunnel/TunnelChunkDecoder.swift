/// Incremental, bounded decoder for the tunnel chunk stream (tunnel.md §4).
///
/// Feed bytes as they arrive with `feed(_:)`, then call `next()` until it
/// returns nil (more bytes needed). Events come out in stream order and are
/// the same however the input was split. A chunk is reported only once its
/// data and the CRLF after it have arrived, so its data is complete.
///
/// Errors are final: after one is thrown every later `next()` throws it again.
/// Events that completed before the faulty bytes are still delivered first.
public struct TunnelChunkDecoder: Sendable {
    /// Limits and tolerance.
    public struct Options: Equatable, Sendable {
        /// Longest accepted chunk header line, in bytes before its CRLF.
        /// libarms reads header lines of at most 255 bytes.
        public var maxHeaderLength: Int
        /// Largest accepted chunk size. libarms writes at most 8191 bytes per chunk.
        public var maxChunkSize: Int
        /// Tolerate the libarms 5.33 defect of tunnel.md §4.2: a header
        /// `0;id=N[;...]\r\n` (size 0 **with** an `id=`) followed by neither
        /// data nor CRLF is reported as an empty chunk (an empty final piece of
        /// message N) instead of the end of the stream. A size-0 chunk without
        /// `id=` still ends the stream.
        public var toleratesEmptyFinalPieceDefect: Bool

        public init(maxHeaderLength: Int = 255, maxChunkSize: Int = 1 << 20, toleratesEmptyFinalPieceDefect: Bool = false) {
            precondition(maxHeaderLength > 0 && maxChunkSize > 0, "limits must be positive")
            self.maxHeaderLength = maxHeaderLength
            self.maxChunkSize = maxChunkSize
            self.toleratesEmptyFinalPieceDefect = toleratesEmptyFinalPieceDefect
        }
    }

    /// What the decoder found.
    public enum Event: Hashable, Sendable {
        /// A complete chunk (never size 0, except a tolerated defect chunk).
        case chunk(TunnelChunk)
        /// The last chunk `0\r\n\r\n` (any extensions) was received.
        case endOfStream
    }

    private enum State: Sendable {
        case header
        case data(TunnelChunkHeader)
        case dataCR(TunnelChunkHeader)
        case dataLF(TunnelChunkHeader)
        case lastCR
        case lastLF
        case finished
        case failed(TunnelFramingError)
    }

    public let options: Options
    private var state: State = .header
    private var input: [UInt8] = []
    private var position = 0
    private var line: [UInt8] = []
    private var pendingCR = false
    private var data: [UInt8] = []

    public init(options: Options = Options()) {
        self.options = options
    }

    /// True once the last chunk has been decoded.
    public var isFinished: Bool {
        if case .finished = state { return true }
        return false
    }

    /// Appends received bytes. Nothing is decoded until `next()` is called.
    public mutating func feed(_ bytes: some Sequence<UInt8>) {
        if position == input.count {
            input.removeAll(keepingCapacity: true)
            position = 0
        } else if position >= 4096 && position * 2 >= input.count {
            input.removeFirst(position)
            position = 0
        }
        input.append(contentsOf: bytes)
    }

    /// The next event, or nil when more bytes are needed.
    /// Bytes after the end of the stream are an error.
    public mutating func next() throws(TunnelFramingError) -> Event? {
        while true {
            switch state {
            case .failed(let e):
                throw e
            case .finished:
                if position < input.count { throw fail(.dataAfterEndOfStream) }
                return nil
            default:
                guard position < input.count else { return nil }
                if let event = try step() { return event }
            }
        }
    }

    /// Hands over the bytes fed but not yet decoded (used by the HTTP parsers
    /// to keep what follows the end of a chunked body).
    mutating func takeUndecodedBytes() -> [UInt8] {
        let rest = Array(input[position...])
        input.removeAll()
        position = 0
        return rest
    }

    private mutating func fail(_ e: TunnelFramingError) -> TunnelFramingError {
        state = .failed(e)
        return e
    }

    /// Consumes bytes for the current state; returns an event when one completes.
    private mutating func step() throws(TunnelFramingError) -> Event? {
        switch state {
        case .header:
            while position < input.count {
                let b = input[position]
                position += 1
                if b == ByteText.lf {
                    guard pendingCR else { throw fail(.headerNotTerminatedByCRLF) }
                    pendingCR = false
                    return try endOfHeaderLine()
                }
                if pendingCR {
                    pendingCR = false
                    try appendToLine(ByteText.cr)
                }
                if b == ByteText.cr { pendingCR = true } else { try appendToLine(b) }
            }
            return nil
        case .data(let header):
            let k = min(header.size - data.count, input.count - position)
            data.append(contentsOf: input[position ..< position + k])
            position += k
            if data.count == header.size { state = .dataCR(header) }
            return nil
        case .dataCR(let header):
            guard input[position] == ByteText.cr else { throw fail(.missingCRLFAfterData) }
            position += 1
            state = .dataLF(header)
            return nil
        case .dataLF(let header):
            guard input[position] == ByteText.lf else { throw fail(.missingCRLFAfterData) }
            position += 1
            let chunk = TunnelChunk(data: data, extensions: header.extensions)
            data = []
            state = .header
            return .chunk(chunk)
        case .lastCR:
            guard input[position] == ByteText.cr else { throw fail(.missingCRLFAfterLastChunk) }
            position += 1
            state = .lastLF
            return nil
        case .lastLF:
            guard input[position] == ByteText.lf else { throw fail(.missingCRLFAfterLastChunk) }
            position += 1
            state = .finished
            return .endOfStream
        case .finished, .failed:
            return nil
        }
    }

    private mutating func appendToLine(_ b: UInt8) throws(TunnelFramingError) {
        line.append(b)
        if line.count > options.maxHeaderLength { throw fail(.headerTooLong(limit: options.maxHeaderLength)) }
    }

    private mutating func endOfHeaderLine() throws(TunnelFramingError) -> Event? {
        let header: TunnelChunkHeader
        do throws(TunnelFramingError) {
            header = try TunnelChunkHeader(parsing: line, maxSize: options.maxChunkSize)
        } catch {
            throw fail(error)
        }
        line.removeAll(keepingCapacity: true)
        if header.size > 0 {
            data = []
            data.reserveCapacity(min(header.size, 1 << 16))
            state = .data(header)
            return nil
        }
        if options.toleratesEmptyFinalPieceDefect && header.id != nil {
            return .chunk(TunnelChunk(data: [], extensions: header.extensions))
        }
        state = .lastCR
        return nil
    }
}
