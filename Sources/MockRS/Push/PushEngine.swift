import ARMSProtocol
import MockCore
import NIOCore

/// What the push engine asks its transport to do.
public enum PushAction: Equatable, Sendable {
    /// Write these bytes on the tunnel, as one write followed by a flush (one chunk, or the
    /// response head: never split, never merged with the next action's bytes).
    case write(tunnel: Int, bytes: [UInt8])
    /// Close the tunnel; with `lastChunk` first send `0\r\n\r\n` (orderly close).
    case close(tunnel: Int, lastChunk: Bool)
    /// Append to the journal (`time` is 0: the transport stamps it).
    case journal(JournalEntry)
}

/// One tunnel as the status shows it.
public struct PushTunnelStatus: Codable, Equatable, Sendable {
    public var id: Int
    /// The SA's address, `127.0.0.1:53422`.
    public var peer: String?
    /// `ipv4` or `ipv6`.
    public var family: String?
    /// Confirmation completed on this connection.
    public var ready: Bool
    /// Echo probes received.
    public var echoes: Int

    public init(id: Int, peer: String?, family: String?, ready: Bool, echoes: Int) {
        self.id = id
        self.peer = peer
        self.family = family
        self.ready = ready
        self.echoes = echoes
    }
}

/// The push state of one SA: `GET /api/v1/sas/{id}/push`.
public struct PushStatus: Codable, Equatable, Sendable {
    public var sa: String
    /// A confirmation completed and a confirmed channel is open.
    public var pushReady: Bool
    /// `https-tunnel` when push-ready over a tunnel.
    public var mode: String?
    /// Open tunnel connections (confirmed or not).
    public var tunnels: [PushTunnelStatus]
    /// The https-simple `push-endpoint` the SA announced, if any.
    public var simpleEndpoint: String?

    public init(sa: String, pushReady: Bool, mode: String?, tunnels: [PushTunnelStatus], simpleEndpoint: String? = nil) {
        self.sa = sa
        self.pushReady = pushReady
        self.mode = mode
        self.tunnels = tunnels
        self.simpleEndpoint = simpleEndpoint
    }
}

/// MockRS's push side without sockets (push.md §4–§6, tunnel.md §5–§8, §12): tunnels,
/// confirmation, echo, the operation and transaction tables. Events in (bytes received
/// on a tunnel, a tunnel opened or gone, an operation submitted or given up), actions out
/// (`PushAction`: bytes to write, tunnels to close, journal entries).
///
/// Rules it follows:
/// * Per tunnel at most one RS request awaits its (start-)response; more wait in a queue.
///   A reply is matched by its `type` name (or `generic-error`).
/// * Async transactions are kept per SA by the SA's transaction id, so a `configure-done`
///   arriving first on a reconnected tunnel (tunnel.md §7.4) finds its operation.
/// * `X-done` requests are answered with one chunk carrying the transaction id.
/// * A push-confirmation-start (first message or a re-confirmation) is answered with the
///   start response and the confirm-done request, two chunks; the tunnel is ready when the
///   SA's confirm-done response arrives. Nothing but echo replies is sent meanwhile.
/// * Bad framing closes that tunnel only, with a journal entry saying why.
public struct PushEngine: Sendable {
    public struct Limits: Equatable, Sendable {
        /// Operations kept (the oldest finished ones are forgotten beyond this).
        public var maxOperations: Int
        /// Reassembly bounds per tunnel.
        public var assembler: TunnelMessageAssembler.Limits
        /// Largest chunk the RS writes (libarms reads at most 8192 bytes per read).
        public var maxChunkData: Int

        public init(maxOperations: Int = 1000, assembler: TunnelMessageAssembler.Limits = .init(), maxChunkData: Int = 8000) {
            self.maxOperations = maxOperations
            self.assembler = assembler
            self.maxChunkData = maxChunkData
        }
    }

    enum Phase: Equatable, Sendable {
        /// Open; no confirmation yet.
        case fresh
        /// Confirm-start answered; waiting for the SA's confirm-done response.
        case confirming
        case ready
    }

    struct Tunnel: Sendable {
        var sa: String
        var peer: String?
        var family: String?
        var assembler: TunnelMessageAssembler
        var phase: Phase = .fresh
        /// Ever confirmed on this connection (stays true during a re-confirmation).
        var confirmed = false
        var awaiting: Int?
        var queue: [Int] = []
        var echoes = 0
    }

    struct Operation: Sendable {
        var result: PushOperationResult
        var request: ARMSRequest
        var name: MessageName
    }

    public let limits: Limits
    /// Answer echo probes (tests switch this off to make the SA reconnect).
    public var echoReplies = true
    /// Decides the result code of the answer to an X-done request (SA, the request);
    /// `nil` or a `nil` result answers 100. A non-100 answer keeps the transaction open, so
    /// that libarms' re-sent configure-done (414 after a rollback, push.md §6.1) is recorded too.
    public var doneAnswer: (@Sendable (String, ARMSRequest) -> ResultCode?)?
    /// Decides the result code of the push-confirmation-start answer in a tunnel (SA);
    /// `nil` or a `nil` result answers 100 and goes on with the confirm-done request. Any
    /// other code is answered alone (no transaction id, no confirm-done request) and the
    /// tunnel stays unconfirmed: libarms reconnects on 3xx/4xx and stops its whole push
    /// loop on 2xx/5xx (tunnel.md §6, push.md §2.4).
    public var confirmAnswer: (@Sendable (String) -> ResultCode?)?
    /// Consulted for every RS→SA ARMS message on a tunnel (SA, message type); a non-nil
    /// `ChunkFault` replaces the message's normal chunks (journaled).
    public var chunkFault: (@Sendable (String, String) -> ChunkFault?)?
    private(set) var tunnels: [Int: Tunnel] = [:]
    /// SA → ids of its open tunnels, ascending: every per-SA question is answered from here,
    /// so that a push or a status read costs the same with 10 tunnels held as with 10,000.
    private var tunnelsBySA: [String: [Int]] = [:]
    private var operations: [Int: Operation] = [:]
    /// Operations that finished since `takeFinished()` was last called, in order.
    private var finishedSinceTaken: [Int] = []
    /// Finished operations, oldest finish first: the ones forgotten first when more than
    /// `limits.maxOperations` are kept. Unfinished operations are never forgotten.
    private var finishedOrder = CircularBuffer<Int>()
    /// SA → SA transaction id → operation id.
    private var transactions: [String: [Int: Int]] = [:]
    /// https-simple done requests that reached the RS before the listener's start answer
    /// was recorded (the SA closes that connection, executes and POSTs the done at once;
    /// the two arrive on different connections): by SA and transaction id, a few per SA.
    private var earlyDones: [String: [Int: ARMSRequest]] = [:]
    static let maxEarlyDones = 16
    /// SA → its https-simple listener (`push-endpoint`) and whether a confirm-done was answered there.
    private var simple: [String: (endpoint: String, confirmed: Bool)] = [:]
    private var nextTunnelID = 1
    private var nextOperationID = 1
    private var nextChunkID: UInt32 = 1
    private var nextConfirmationID: Int

    /// - Parameter firstConfirmationID: the transaction id of the first push-confirmation (then counting up).
    public init(limits: Limits = Limits(), firstConfirmationID: Int = 70418033) {
        self.limits = limits
        self.nextConfirmationID = firstConfirmationID
    }

    // MARK: - Queries

    public func result(_ id: Int) -> PushOperationResult? { operations[id]?.result }

    public func status(of sa: String) -> PushStatus {
        let list = tunnelIDs(of: sa).compactMap { id in
            tunnels[id].map { PushTunnelStatus(id: id, peer: $0.peer, family: $0.family, ready: $0.phase == .ready, echoes: $0.echoes) }
        }
        let ready = list.contains { $0.ready }
        let simpleReady = simple[sa]?.confirmed == true
        var status = PushStatus(sa: sa, pushReady: ready || simpleReady,
                                mode: ready ? PushMethod.httpsTunnel : simpleReady ? PushMethod.httpsSimple : nil, tunnels: list)
        status.simpleEndpoint = simple[sa]?.endpoint
        return status
    }

    public func isPushReady(_ sa: String) -> Bool {
        hasReadyTunnel(sa) || simple[sa]?.confirmed == true
    }

    /// Ids of the SA's confirmed tunnels, ascending.
    private func readyTunnelIDs(of sa: String) -> [Int] {
        tunnelIDs(of: sa).filter { tunnels[$0]?.phase == .ready }
    }

    private func hasReadyTunnel(_ sa: String) -> Bool {
        tunnelIDs(of: sa).contains { tunnels[$0]?.phase == .ready }
    }

    /// The operations that finished (succeeded, failed or timed out) since the last call,
    /// in order; the caller wakes whoever waits for them.
    public mutating func takeFinished() -> [Int] {
        defer { finishedSinceTaken.removeAll(keepingCapacity: true) }
        return finishedSinceTaken
    }

    /// Stores an operation; notes it as finished when this store finished it.
    private mutating func store(_ op: Operation, as id: Int) {
        let wasFinished = operations[id]?.result.isFinished ?? false
        operations[id] = op
        if op.result.isFinished, !wasFinished {
            finishedSinceTaken.append(id)
            finishedOrder.append(id)
        }
    }

    /// The SA's confirmed https-simple listener, when it has no ready tunnel.
    public func simpleEndpoint(for sa: String) -> String? {
        guard !hasReadyTunnel(sa), let s = simple[sa], s.confirmed else { return nil }
        return s.endpoint
    }

    // MARK: - https-simple (push.md §4.2, §7)

    /// An https-simple push-confirmation-start reached the RS: remember the endpoint and
    /// return the start response (result 100, a new transaction id) and the confirm-done
    /// request the service must POST to the endpoint.
    public mutating func simpleConfirmationStart(sa: String, endpoint: String) -> (ARMSResponse, ARMSRequest) {
        let txid = nextConfirmationID
        nextConfirmationID = nextConfirmationID >= Int(Int32.max) ? 1 : nextConfirmationID + 1
        simple[sa] = (endpoint, simple[sa]?.endpoint == endpoint ? simple[sa]!.confirmed : false)
        return (.standard(.pushConfirmationStart, transactionID: txid),
                ARMSRequest(type: .pushConfirmationDone, distributionID: sa, transactionID: txid))
    }

    /// The SA's listener answered the confirm-done request (any answer completes it, push.md §4.1).
    public mutating func simpleConfirmed(sa: String, endpoint: String) {
        if simple[sa]?.endpoint == endpoint { simple[sa]!.confirmed = true }
    }

    /// The listener could not be reached: the SA is no longer push-ready over https-simple.
    public mutating func simpleUnreachable(sa: String) { simple[sa]?.confirmed = false }

    /// Records an operation sent over https-simple (state `sent`).
    public mutating func submitSimple(_ request: ARMSRequest, for sa: String) throws(PushRequestError) -> Int {
        guard simpleEndpoint(for: sa) != nil else { throw .notPushReady(sa) }
        let id = nextOperationID
        nextOperationID += 1
        var result = PushOperationResult(id: id, sa: sa, operation: request.type.name.rawValue, state: .sent)
        result.mode = PushMethod.httpsSimple
        operations[id] = Operation(result: result, request: request, name: request.type.name)
        evictOld()
        return id
    }

    /// The request an https-simple operation sends.
    public func request(of id: Int) -> ARMSRequest? { operations[id]?.request }

    /// The https-simple listener's answer to an operation (or `nil` and why, when none came).
    public mutating func simpleReply(_ id: Int, _ response: Result<ARMSResponse, SimpleFailure>) {
        switch response {
        case .success(let r): applyReply(id, r)
        case .failure(let f): fail(id, f.description)
        }
    }

    /// An https-simple X-done request POSTed to the RS: records it and returns the answer.
    public mutating func simpleDone(_ r: ARMSRequest, sa: String) -> (ARMSResponse, String) {
        let (answer, detail, _) = applyDone(r, sa: sa)
        return (answer, detail)
    }

    /// Ids of the SA's open tunnels.
    public func tunnelIDs(of sa: String) -> [Int] { tunnelsBySA[sa] ?? [] }

    public var openTunnelCount: Int { tunnels.count }

    // MARK: - Tunnel events

    /// A tunnel passed its handshake (the transport wrote the 200 head). Returns its id.
    public mutating func openTunnel(sa: String, peer: String?, family: AddressFamily?) -> (Int, [PushAction]) {
        let id = nextTunnelID
        nextTunnelID += 1
        tunnels[id] = Tunnel(sa: sa, peer: peer, family: family?.rawValue, assembler: TunnelMessageAssembler(limits: limits.assembler))
        tunnelsBySA[sa, default: []].append(id)   // ids only grow: the list stays ascending
        return (id, [journal(id, type: "tunnel-open", outcome: ExchangeOutcome.ok, httpStatus: 200,
                             detail: "tunnel#\(id) open (\(family?.rawValue ?? "?"))")])
    }

    /// Bytes received on a tunnel (after the request head).
    public mutating func receive(_ bytes: some Sequence<UInt8>, on id: Int) -> [PushAction] {
        guard tunnels[id] != nil else { return [] }
        tunnels[id]!.assembler.feed(bytes)
        var actions: [PushAction] = []
        while tunnels[id] != nil {
            let event: TunnelEvent?
            do {
                event = try tunnels[id]!.assembler.next()
            } catch {
                actions.append(journal(id, type: nil, outcome: PushOutcome.framingError,
                                       detail: "tunnel#\(id) closed: \(error)"))
                actions += remove(id, reason: "tunnel closed after a framing error")
                actions.append(.close(tunnel: id, lastChunk: false))
                return actions
            }
            guard let event else { break }
            actions += handle(event, on: id)
        }
        return actions
    }

    /// The connection is gone (peer closed, read timeout, error). `reason` goes to the journal.
    public mutating func tunnelClosed(_ id: Int, reason: String, outcome: String = ExchangeOutcome.closed) -> [PushAction] {
        guard tunnels[id] != nil else { return [] }
        var actions = [journal(id, type: nil, outcome: outcome, detail: "tunnel#\(id) closed: \(reason)")]
        actions += remove(id, reason: "tunnel#\(id) closed (\(reason))")
        return actions
    }

    /// Closes every tunnel of the SA from the server side (orderly: last chunk first).
    public mutating func dropTunnels(of sa: String) -> [PushAction] {
        var actions: [PushAction] = []
        for id in tunnelIDs(of: sa) {
            actions.append(journal(id, type: nil, outcome: PushOutcome.dropped, detail: "tunnel#\(id) dropped by the server (test hook)"))
            actions += remove(id, reason: "tunnel#\(id) dropped by the server")
            actions.append(.close(tunnel: id, lastChunk: true))
        }
        return actions
    }

    // MARK: - Operations

    /// Queues an operation for the SA on its least busy confirmed tunnel. Throws
    /// `.notPushReady` when there is none.
    public mutating func submit(_ request: ARMSRequest, for sa: String) throws(PushRequestError) -> (Int, [PushAction]) {
        func load(_ id: Int) -> Int {
            guard let t = tunnels[id] else { return .max }
            return t.queue.count + (t.awaiting == nil ? 0 : 1)
        }
        // The least busy ready tunnel; the lowest id among equals (the list is ascending).
        guard let tunnelID = readyTunnelIDs(of: sa).min(by: { load($0) < load($1) }) else { throw .notPushReady(sa) }
        let id = nextOperationID
        nextOperationID += 1
        var result = PushOperationResult(id: id, sa: sa, operation: request.type.name.rawValue)
        result.mode = PushMethod.httpsTunnel
        result.tunnel = tunnelID
        operations[id] = Operation(result: result, request: request, name: request.type.name)
        evictOld()
        tunnels[tunnelID]!.queue.append(id)
        return (id, pump(tunnelID))
    }

    /// The caller stopped waiting: an unfinished operation becomes `timed-out` (a late
    /// answer still updates it). Frees the tunnel if it was waiting for this one's reply.
    public mutating func expire(_ id: Int) -> [PushAction] {
        guard var op = operations[id], !op.result.isFinished else { return [] }
        op.result.state = .timedOut
        op.result.error = op.result.error ?? "no answer from the SA in time"
        store(op, as: id)
        var actions: [PushAction] = []
        for tid in tunnelIDs(of: op.result.sa) {
            guard let t = tunnels[tid] else { continue }
            tunnels[tid]!.queue.removeAll { $0 == id }
            if t.awaiting == id {
                // A tunnel pairs answers with requests by order only (sync answers carry no
                // transaction id), so an answer that comes after the expiry would be taken for
                // the next request's. The tunnel is closed instead; the SA reconnects and
                // confirms again, and what was queued on it moves to another tunnel or fails.
                tunnels[tid]!.awaiting = nil
                actions.append(journal(tid, type: op.name.rawValue, outcome: ExchangeOutcome.timeout,
                                       detail: "operation \(id) got no answer in time: tunnel#\(tid) closed so that a late answer cannot be taken for another request's"))
                actions += remove(tid, reason: "tunnel#\(tid) closed after operation \(id) timed out")
                actions.append(.close(tunnel: tid, lastChunk: true))
            }
        }
        return actions
    }

    // MARK: - Internals

    private mutating func handle(_ event: TunnelEvent, on id: Int) -> [PushAction] {
        switch event {
        case .echoRequest:
            tunnels[id]!.echoes += 1
            if echoReplies {
                return [.write(tunnel: id, bytes: TunnelChunkEncoder.echoReply),
                        journal(id, type: "echo-request", outcome: ExchangeOutcome.ok, detail: "echo reply sent")]
            }
            return [journal(id, type: "echo-request", outcome: PushOutcome.echoWithheld, detail: "echo reply withheld (test switch)")]
        case .echoReply:
            return [journal(id, type: "echo-response", outcome: PushOutcome.unexpected, detail: "echo reply from the SA ignored")]
        case .endOfStream:
            var actions = [journal(id, type: nil, outcome: ExchangeOutcome.closed, detail: "tunnel#\(id) closed: the SA sent the last chunk")]
            actions += remove(id, reason: "the SA ended tunnel#\(id)")
            actions.append(.close(tunnel: id, lastChunk: false))
            return actions
        case .message(let message):
            let decoded: ARMSMessage
            do {
                decoded = try ARMSMessage.decode(message.data, options: .libarms)
            } catch {
                return [journal(id, type: nil, outcome: ExchangeOutcome.decodeError, bytesIn: message.data.count,
                                detail: "unreadable message ignored: \(error)")]
            }
            switch decoded {
            case .request(let r): return handleRequest(r, size: message.data.count, on: id)
            case .response(let r): return handleResponse(r, size: message.data.count, on: id)
            }
        }
    }

    private mutating func handleRequest(_ r: ARMSRequest, size: Int, on id: Int) -> [PushAction] {
        let sa = tunnels[id]!.sa
        if r.type == .pushConfirmationStart {
            if let code = confirmAnswer?(sa), code != .success {
                var actions = frames(.response(.standard(.pushConfirmationStart, code)), on: id)
                let reaction = (300...499).contains(code.rawValue) ? "libarms reconnects the tunnel"
                    : (200...299).contains(code.rawValue) || code.rawValue >= 500 ? "libarms stops its push loop"
                    : "libarms' reaction is not documented for this code"
                actions.append(journal(id, type: r.type.attribute, resultCode: code.rawValue,
                                       outcome: ExchangeOutcome.fault("confirm-\(code.rawValue)"), bytesIn: size,
                                       detail: "fault: push-confirmation-start answered \(code.rawValue), no confirm-done sent (\(reaction))"))
                return actions
            }
            let txid = nextConfirmationID
            nextConfirmationID = nextConfirmationID >= Int(Int32.max) ? 1 : nextConfirmationID + 1
            tunnels[id]!.phase = .confirming
            let start = ARMSResponse.standard(.pushConfirmationStart, transactionID: txid)
            let done = ARMSRequest(type: .pushConfirmationDone, distributionID: sa, transactionID: txid)
            var actions = frames(.response(start), on: id)
            actions += frames(.request(done), on: id)
            actions.append(journal(id, type: r.type.attribute, resultCode: 100, outcome: ExchangeOutcome.ok, bytesIn: size,
                                   detail: "confirmation \(txid) started, push-confirmation-done sent"))
            return actions
        }
        if r.type.phase == .done, r.type.name.isAsync {
            let (answer, detail, known) = applyDone(r, sa: sa)
            var actions = frames(.response(answer), on: id)
            actions.append(journal(id, type: r.type.attribute, resultCode: r.transactionResult?.rawValue,
                                   outcome: known ? ExchangeOutcome.ok : PushOutcome.unknownTransaction, bytesIn: size, detail: detail))
            return actions
        }
        return [journal(id, type: r.type.attribute, outcome: PushOutcome.unexpected, bytesIn: size,
                        detail: "request the RS does not accept in a tunnel, ignored")]
    }

    /// Records a done request; returns the answer (100 with the transaction id, no body).
    private mutating func applyDone(_ r: ARMSRequest, sa: String) -> (ARMSResponse, String, Bool) {
        let txid = r.transactionID ?? 0
        let code = doneAnswer?(sa, r) ?? .success
        let answer = ARMSResponse.standard(r.type, code, transactionID: txid, body: nil)
        guard let opID = transactions[sa]?[txid], var op = operations[opID] else {
            let awaitingStart = operations.values.contains {
                $0.result.sa == sa && $0.result.state == .sent && $0.result.mode == PushMethod.httpsSimple && $0.name == r.type.name
            }
            if awaitingStart, txid != 0, (earlyDones[sa]?.count ?? 0) < Self.maxEarlyDones {
                earlyDones[sa, default: [:]][txid] = r
                return (answer, "done request for transaction \(txid) before its start answer was recorded; kept", true)
            }
            return (answer, "done request for unknown transaction \(txid), answered \(code.rawValue)", false)
        }
        op.result.transactionResult = r.transactionResult?.rawValue
        guard code == .success else {
            op.result.error = "done request (transaction-result \(r.transactionResult?.rawValue ?? 0)) answered \(code.rawValue)"
            store(op, as: opID)
            return (answer, "operation \(opID) transaction \(txid) done, answered \(code.rawValue) (test hook)", true)
        }
        transactions[sa]?[txid] = nil
        op.result.error = nil
        Self.read(r.body, into: &op.result)
        let ok = r.transactionResult == .success
        op.result.state = ok ? .succeeded : .failed
        if !ok { op.result.error = "SA reported transaction-result \(r.transactionResult.map { "\($0.rawValue) \($0.text)" } ?? "none")" }
        store(op, as: opID)
        return (answer, "operation \(opID) transaction \(txid) done, answered 100", true)
    }

    private mutating func handleResponse(_ r: ARMSResponse, size: Int, on id: Int) -> [PushAction] {
        if r.type == .pushConfirmationDone {
            guard tunnels[id]!.phase == .confirming else {
                return [journal(id, type: r.type.attribute, resultCode: r.resultCode.rawValue, outcome: PushOutcome.unexpected,
                                bytesIn: size, detail: "confirm-done response without a confirmation running")]
            }
            tunnels[id]!.phase = .ready
            tunnels[id]!.confirmed = true
            var actions = [journal(id, type: r.type.attribute, resultCode: r.resultCode.rawValue, outcome: ExchangeOutcome.ok,
                                   bytesIn: size, detail: "tunnel#\(id) ready to push")]
            actions += pump(id)
            return actions
        }
        guard let opID = tunnels[id]!.awaiting, var op = operations[opID],
              r.type.name == op.name || r.type == .genericError else {
            return [journal(id, type: r.type.attribute, resultCode: r.resultCode.rawValue, outcome: PushOutcome.unexpected,
                            bytesIn: size, detail: "response nobody waits for, ignored")]
        }
        tunnels[id]!.awaiting = nil
        applyReply(opID, r)
        op = operations[opID]!
        var actions = [journal(id, type: r.type.attribute, resultCode: r.resultCode.rawValue, outcome: ExchangeOutcome.ok,
                               bytesIn: size, detail: "operation \(opID) \(op.result.state.rawValue)"
                                   + (op.result.transactionID.map { ", transaction \($0)" } ?? ""))]
        actions += pump(id)
        return actions
    }

    /// Records the reply (sync response or start response) to an operation.
    private mutating func applyReply(_ opID: Int, _ r: ARMSResponse) {
        guard var op = operations[opID] else { return }
        op.result.resultCode = r.resultCode.rawValue
        let ok = r.resultCode == .success
        if op.name.isAsync && r.type != .genericError {
            if ok, let txid = r.transactionID, txid != 0 {
                op.result.transactionID = txid
                op.result.state = .started
                transactions[op.result.sa, default: [:]][txid] = opID
                if let early = earlyDones[op.result.sa]?.removeValue(forKey: txid) {
                    store(op, as: opID)
                    _ = applyDone(early, sa: op.result.sa)
                    return
                }
            } else {
                op.result.state = .failed
                op.result.error = ok ? "start response without a transaction id" : "SA answered \(r.resultCode.rawValue) \(r.resultCode.text)"
            }
        } else {
            if let body = r.body { Self.read(body, into: &op.result) }
            op.result.state = ok ? .succeeded : .failed
            if !ok { op.result.error = "SA answered \(r.type.attribute) \(r.resultCode.rawValue) \(r.resultCode.text)" }
        }
        store(op, as: opID)
    }

    /// Sends the next queued operation when the tunnel is ready and idle.
    private mutating func pump(_ id: Int) -> [PushAction] {
        guard let t = tunnels[id], t.phase == .ready, t.awaiting == nil, !t.queue.isEmpty else { return [] }
        let opID = tunnels[id]!.queue.removeFirst()
        guard var op = operations[opID], !op.result.isFinished else { return pump(id) }
        op.result.state = .sent
        store(op, as: opID)
        tunnels[id]!.awaiting = opID
        var actions = frames(.request(op.request), on: id)
        actions.append(journal(id, type: op.request.type.attribute, outcome: PushOutcome.sent,
                               detail: "operation \(opID) sent"))
        return actions
    }

    /// Forgets a tunnel: its waiting operation fails, queued ones move to another ready
    /// tunnel of the SA (or fail), started non-configure transactions fail (the SA discards them).
    private mutating func remove(_ id: Int, reason: String) -> [PushAction] {
        guard let t = tunnels.removeValue(forKey: id) else { return [] }
        tunnelsBySA[t.sa]?.removeAll { $0 == id }
        if tunnelsBySA[t.sa]?.isEmpty == true { tunnelsBySA[t.sa] = nil }
        if let w = t.awaiting { fail(w, reason + " before the answer") }
        var actions: [PushAction] = []
        for q in t.queue {
            if let other = readyTunnelIDs(of: t.sa).first {
                tunnels[other]!.queue.append(q)
                operations[q]?.result.tunnel = other
                actions += pump(other)
            } else {
                fail(q, reason + " before it was sent")
            }
        }
        for (txid, opID) in transactions[t.sa] ?? [:] {
            guard let op = operations[opID], op.result.tunnel == id, op.name != .configure else { continue }
            transactions[t.sa]?[txid] = nil
            fail(opID, reason + " before the done request")
        }
        return actions
    }

    private mutating func fail(_ id: Int, _ why: String) {
        guard var op = operations[id], !op.result.isFinished else { return }
        op.result.state = .failed
        op.result.error = why
        store(op, as: id)
    }

    private mutating func evictOld() {
        while operations.count > limits.maxOperations, let oldest = finishedOrder.popFirst() {
            operations[oldest] = nil
        }
    }

    /// A message as RS chunks: one chunk (with a fresh id and `trail`) when it fits, else
    /// several with the same id; each chunk its own write.
    private mutating func frames(_ message: ARMSMessage, on id: Int) -> [PushAction] {
        let data = message.encode(style: .asciiSafe).bytes
        let chunkID = nextChunkID
        nextChunkID = nextChunkID == UInt32(Int32.max) ? 1 : nextChunkID + 1
        if let hook = chunkFault, let sa = tunnels[id]?.sa, let fault = hook(sa, message.type.attribute) {
            return faultyFrames(fault, data, message: message, chunkID: chunkID, on: id)
        }
        return chunks(data, chunkID: chunkID, on: id)
    }

    /// The message's chunks, each its own write.
    private func chunks(_ data: [UInt8], chunkID: UInt32, on id: Int) -> [PushAction] {
        if data.count <= limits.maxChunkData {
            return [.write(tunnel: id, bytes: TunnelChunkEncoder.singleChunk(data, id: chunkID))]
        }
        var actions: [PushAction] = []
        var start = 0
        while start < data.count {
            let end = min(start + limits.maxChunkData, data.count)
            let ext: [TunnelChunkExtension] = end == data.count ? [.id(chunkID), .trail] : [.id(chunkID)]
            actions.append(.write(tunnel: id, bytes: TunnelChunk(data: Array(data[start..<end]), extensions: ext).encoded()))
            start = end
        }
        return actions
    }

    static let rootEnd = Array("</arms-message>".utf8)

    /// A `ChunkFault` applied to one message, with its journal entry.
    private func faultyFrames(_ fault: ChunkFault, _ data: [UInt8], message: ARMSMessage, chunkID: UInt32, on id: Int) -> [PushAction] {
        let type = message.type.attribute
        switch fault {
        case .truncate:
            var whole: [UInt8] = []
            for case .write(_, let bytes) in chunks(data, chunkID: chunkID, on: id) { whole += bytes }
            let half = whole.count / 2
            // The transport's close ends the tunnel; its channelInactive reports it to the engine.
            return [.write(tunnel: id, bytes: Array(whole[..<half])),
                    journal(id, type: type, outcome: fault.outcome,
                            detail: "fault: \(half) of \(whole.count) chunk bytes of \(type) written, then the tunnel closed"),
                    .close(tunnel: id, lastChunk: false)]
        case .malformedChunk:
            let bytes = Array("zz;id=\(chunkID);trail\r\n".utf8) + data + [13, 10]
            return [.write(tunnel: id, bytes: bytes),
                    journal(id, type: type, outcome: fault.outcome,
                            detail: "fault: \(type) sent in a chunk whose size field is not hex")]
        case .malformedXML:
            // A complete document whose last end tag does not match (the SA's parser fails at
            // once; an unterminated one would leave libarms waiting for the rest).
            let broken = Array(data.dropLast(Self.rootEnd.count)) + Array("</arms-massage>".utf8)
            return chunks(broken, chunkID: chunkID, on: id)
                + [journal(id, type: type, outcome: fault.outcome,
                           detail: "fault: \(type) sent as well-framed chunks holding broken XML (mismatched end tag)")]
        }
    }

    private static func output(_ module: UInt32, _ p: Payload, result: Int? = nil) -> PushOutput {
        PushOutput(module: module, text: String(decoding: p.bytes, as: UTF8.self), base64: p.encoding == .base64, result: result)
    }

    static func read(_ body: ResponseBody, into result: inout PushOperationResult) {
        switch body {
        case .moduleResult(let m?): result.output.append(output(m.moduleID, m.output))
        case .moduleList(let list): result.modules = list.map { PushModule(id: $0.id, version: $0.version, info: $0.info) }
        case .transactionIDs(let ids): result.transactionIDs = ids
        default: break
        }
    }

    static func read(_ body: RequestBody, into result: inout PushOperationResult) {
        switch body {
        case .statusReports(let reports):
            result.output += reports.map { output($0.moduleID, $0.report, result: $0.result.rawValue) }
        case .storedConfigs(let configs):
            result.output += configs.map { output($0.id, $0.content) }
        case .pingResult(let s, let f):
            result.pingSuccess = s
            result.pingFailure = f
        case .tracerouteResult(let hops):
            result.hops = hops.map { PushHop(hop: $0.hop, address: $0.address) }
        default: break
        }
    }

    private func journal(_ id: Int, type: String?, resultCode: Int? = nil, outcome: String, httpStatus: Int = 0,
                         bytesIn: Int = 0, detail: String?) -> PushAction {
        let t = tunnels[id]
        return .journal(JournalEntry(time: 0, role: .tunnel, sa: t?.sa, messageType: type, resultCode: resultCode,
                                     httpStatus: httpStatus, bytesIn: bytesIn, outcome: outcome, detail: detail, peer: t?.peer))
    }
}

/// Journal outcomes of the push side (besides `ExchangeOutcome`'s).
public enum PushOutcome {
    /// A request was written to the SA.
    public static let sent = "sent"
    /// Bad chunk framing: the tunnel was closed.
    public static let framingError = "framing-error"
    /// An echo probe was not answered (test switch).
    public static let echoWithheld = "echo-withheld"
    /// A message nobody waited for.
    public static let unexpected = "unexpected"
    /// A done request for a transaction the RS does not know.
    public static let unknownTransaction = "unknown-transaction"
    /// The server closed the tunnel on purpose (test hook).
    public static let dropped = "dropped"
    /// The tunnel was idle longer than the read timeout.
    public static let idle = "timeout"
}

/// Why an https-simple exchange with the SA's listener gave no ARMS answer.
public struct SimpleFailure: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
