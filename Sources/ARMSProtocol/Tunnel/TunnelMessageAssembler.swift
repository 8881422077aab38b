/// One ARMS message carried by the tunnel: the data of its chunks in order.
public struct TunnelMessage: Hashable, Sendable {
    /// The `id=` its chunks carried, nil if none. (An id of 0 is kept as 0
    /// but, like libarms, groups nothing: such a chunk is a message on its own.)
    public let id: UInt32?
    /// The data of each chunk, in order (a tolerated defect chunk adds an empty piece).
    public let pieces: [[UInt8]]

    public init(id: UInt32?, pieces: [[UInt8]]) {
        self.id = id
        self.pieces = pieces
    }

    /// All pieces joined: the message bytes (one XML document).
    public var data: [UInt8] { Array(pieces.joined()) }
}

/// What a tunnel peer receives, one event at a time.
public enum TunnelEvent: Hashable, Sendable {
    /// A complete message.
    case message(TunnelMessage)
    /// A keep-alive probe (`echo-request`); the RS answers it with an echo reply.
    case echoRequest
    /// A keep-alive reply (`echo-response` or `echo`).
    case echoReply
    /// The peer sent the last chunk `0\r\n\r\n`.
    case endOfStream
}

/// Groups decoded chunks into messages (tunnel.md §4.2, §4.3, §12 step 3).
///
/// * A chunk carrying `echo-request` is a probe, one carrying `echo-response`
///   or `echo` is a reply; their data and any id are ignored.
/// * A chunk with a non-zero `id=` is appended to the message with that id;
///   the message is complete at the chunk carrying `trail` (or, with the
///   tolerated libarms defect, at an empty chunk).
/// * A chunk without id (or with `id=0`) is a complete message on its own,
///   whether or not it carries `trail`.
///
/// Feed bytes with `feed(_:)` and call `next()` until it returns nil. The
/// events are the same however the input was split; errors are final.
public struct TunnelMessageAssembler: Sendable {
    /// Bounds on buffered message data.
    public struct Limits: Equatable, Sendable {
        /// Largest message, in data bytes.
        public var maxMessageSize: Int
        /// Most messages that may be partly received at the same time.
        public var maxMessagesInFlight: Int

        public init(maxMessageSize: Int = 1 << 20, maxMessagesInFlight: Int = 8) {
            precondition(maxMessageSize > 0 && maxMessagesInFlight > 0, "limits must be positive")
            self.maxMessageSize = maxMessageSize
            self.maxMessagesInFlight = maxMessagesInFlight
        }
    }

    private struct Partial: Sendable {
        var pieces: [[UInt8]]
        var size: Int
    }

    public let limits: Limits
    private var decoder: TunnelChunkDecoder
    private var inFlight: [UInt32: Partial] = [:]
    private var failure: TunnelFramingError?

    public init(decoderOptions: TunnelChunkDecoder.Options = TunnelChunkDecoder.Options(), limits: Limits = Limits()) {
        self.decoder = TunnelChunkDecoder(options: decoderOptions)
        self.limits = limits
    }

    /// Ids of messages begun but not yet complete, ascending.
    public var messageIDsInFlight: [UInt32] { inFlight.keys.sorted() }

    /// Appends received bytes.
    public mutating func feed(_ bytes: some Sequence<UInt8>) {
        decoder.feed(bytes)
    }

    /// The next event, or nil when more bytes are needed.
    public mutating func next() throws(TunnelFramingError) -> TunnelEvent? {
        if let failure { throw failure }
        do throws(TunnelFramingError) {
            while let event = try decoder.next() {
                switch event {
                case .endOfStream:
                    return .endOfStream
                case .chunk(let chunk):
                    if let out = try add(chunk) { return out }
                }
            }
            return nil
        } catch {
            failure = error
            throw error
        }
    }

    private mutating func add(_ chunk: TunnelChunk) throws(TunnelFramingError) -> TunnelEvent? {
        let header = chunk.header
        if header.isEchoRequest { return .echoRequest }
        if header.isEchoReply { return .echoReply }
        guard let id = header.id, id != 0 else {
            guard chunk.data.count <= limits.maxMessageSize else {
                throw .messageTooLarge(id: header.id, limit: limits.maxMessageSize)
            }
            return .message(TunnelMessage(id: header.id, pieces: [chunk.data]))
        }
        var partial = inFlight.removeValue(forKey: id) ?? Partial(pieces: [], size: 0)
        if partial.pieces.isEmpty && inFlight.count >= limits.maxMessagesInFlight && !isFinal(header) {
            throw .tooManyMessagesInFlight(limit: limits.maxMessagesInFlight)
        }
        partial.size += chunk.data.count
        guard partial.size <= limits.maxMessageSize else {
            throw .messageTooLarge(id: id, limit: limits.maxMessageSize)
        }
        partial.pieces.append(chunk.data)
        if isFinal(header) { return .message(TunnelMessage(id: id, pieces: partial.pieces)) }
        inFlight[id] = partial
        return nil
    }

    /// `trail`, or an empty chunk (only produced for the tolerated defect).
    private func isFinal(_ header: TunnelChunkHeader) -> Bool {
        header.isTrail || header.size == 0
    }
}
