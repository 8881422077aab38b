/// One https-tunnel (tunnel.md §3–§10): where it is in its life, its chunk
/// stream, echo timer, retry budget and the transactions it carries.
struct TunnelSession {
    enum Phase: Equatable {
        /// Waiting to (re)connect at `until`.
        case waiting(until: ContinuousClock.Instant)
        /// `.connect` was asked for.
        case connecting
        /// Open request written; reading the response head until `deadline`.
        case awaitingHead(deadline: ContinuousClock.Instant)
        /// push-confirmation-start written; waiting for its answer.
        case confirmingStart(deadline: ContinuousClock.Instant)
        /// Start answered; waiting for the RS's push-confirmation-done request.
        case confirmingDone(deadline: ContinuousClock.Instant)
        /// Confirmed (or carrying a configure-done): push requests are served.
        case ready
        /// Dropped for good.
        case removed
    }

    /// A configure whose done request this tunnel carries (push.md §6.1, tunnel.md §7.4).
    struct PendingConfigure: Equatable {
        var transactionID: Int
        /// The result to report; nil while the commit has not run.
        var result: ResultCode?
        var rolledBack = false
        /// The done request has been written on the current connection.
        var doneSent = false
    }

    let index: Int
    let url: ARMSURL
    var phase: Phase
    var assembler = TunnelMessageAssembler()
    /// Bytes of the response head received so far.
    var head: [UInt8] = []
    var retries = 0
    /// "keep push wait": confirmed at least once.
    var confirmedOnce = false
    var echoDue: ContinuousClock.Instant?
    var echoOutstanding = false
    /// The RS's transaction id of the running confirmation.
    var confirmationID = 0
    /// Async transactions waiting for their done response: id → method.
    var pendingDones: [Int: MessageName] = [:]
    var configure: PendingConfigure?

    init(index: Int, url: ARMSURL, now: ContinuousClock.Instant) {
        self.index = index
        self.url = url
        self.phase = .waiting(until: now)
    }

    var tag: String { "tunnel#\(index)" }

    var isConnected: Bool {
        switch phase {
        case .awaitingHead, .confirmingStart, .confirmingDone, .ready: return true
        default: return false
        }
    }

    var isRemoved: Bool { phase == .removed }

    /// The earliest moment this tunnel needs the timer.
    var nextDeadline: ContinuousClock.Instant? {
        var deadlines: [ContinuousClock.Instant] = []
        switch phase {
        case .waiting(let t), .awaitingHead(let t), .confirmingStart(let t), .confirmingDone(let t): deadlines.append(t)
        default: break
        }
        if isConnected, let echoDue { deadlines.append(echoDue) }
        return deadlines.min()
    }

    /// A fresh connection: new stream state, no echo yet.
    mutating func resetStream() {
        assembler = TunnelMessageAssembler()
        head = []
        echoDue = nil
        echoOutstanding = false
        pendingDones = [:]
    }
}

/// Splits encoded chunks the way libarms writes them (tunnel.md §4.2): the
/// header line, the data and the closing CRLF each as a separate TLS write.
enum TunnelWrites {
    static func message(_ pieces: [[UInt8]], id: UInt32) -> [[UInt8]] {
        let written = pieces.filter { !$0.isEmpty }
        var writes: [[UInt8]] = []
        for (i, piece) in written.enumerated() {
            let ext: [TunnelChunkExtension] = i == written.count - 1 ? [.id(id), .trail] : [.id(id)]
            let chunk = TunnelChunk(data: piece, extensions: ext).encoded()
            let headerLength = chunk.count - piece.count - 2
            writes.append(Array(chunk[0..<headerLength]))
            writes.append(piece)
            writes.append(Array(chunk[(chunk.count - 2)...]))
        }
        return writes
    }
}
