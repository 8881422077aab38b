import ARMSProtocol
import Foundation
import Hummingbird
import Logging
import MockCore
import MockRS
import NIOCore
import ServiceLifecycle

/// The loopback JSON-over-HTTP control API (docs/control-api.md) over a fleet store, a
/// journal and a status provider. It binds 127.0.0.1 only.
///
/// ```swift
/// let api = ControlAPI(store: store, journal: journal) { ServiceStatus(endpoints: …) }
/// let port = try await api.start()     // port 0 picks a free one
/// …
/// await api.stop()
/// ```
public actor ControlAPI {
    /// Largest request body accepted (413 above).
    public static let defaultMaxBodySize = 1024 * 1024
    /// Default and largest `limit` of `GET /api/v1/journal`.
    public static let defaultJournalLimit = 100
    public static let maxJournalLimit = 1000

    public nonisolated let store: FleetStore
    public nonisolated let journal: Journal
    /// The port asked for; 0 lets the system pick one.
    public nonisolated let requestedPort: Int
    public nonisolated let maxBodySize: Int
    private let handlers: Handlers
    private var running: (task: Task<Void, Never>, port: Int, group: ServiceGroup)?
    /// The launch in progress, so that concurrent `start()` calls share it.
    private var startup: Task<Int, any Error>?

    /// `status` is called for every `GET /api/v1/status`; the API sets the `sas`,
    /// `journalEntries` and `journalDropped` counts of what it returns.
    /// - Parameter push: the tunnel endpoint that runs push operations; `nil` answers the
    ///   push routes 503.
    public init(store: FleetStore, journal: Journal, port: Int = 0, maxBodySize: Int = ControlAPI.defaultMaxBodySize,
                heartbeat: HeartbeatReceiver? = nil, push: TunnelServer? = nil,
                status: @escaping @Sendable () -> ServiceStatus = { ServiceStatus() }) {
        self.store = store
        self.journal = journal
        self.requestedPort = port
        self.maxBodySize = maxBodySize
        self.handlers = Handlers(store: store, journal: journal, maxBodySize: maxBodySize, heartbeat: heartbeat, push: push, status: status)
    }

    /// Longest `?wait=` of the operation routes, in seconds.
    public static let maxWait = 600.0

    /// Why the API could not start.
    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Binds 127.0.0.1 and serves in the background; returns the bound port. Calling it
    /// again while running returns the same port.
    @discardableResult
    public func start() async throws -> Int {
        if let running { return running.port }
        if let startup { return try await startup.value }
        let t = Task { try await self.launch() }
        startup = t
        defer { startup = nil }
        return try await t.value
    }

    private func launch() async throws -> Int {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: JSONErrorMiddleware())
        let h = handlers
        router.get("/api/v1/status") { _, _ in h.status() }
        router.get("/api/v1/sas") { _, _ in h.listSAs() }
        router.get("/api/v1/sas/:id") { _, context in h.getSA(context.parameters.get("id") ?? "") }
        router.put("/api/v1/sas/:id") { request, context in await h.putSA(context.parameters.get("id") ?? "", request) }
        router.delete("/api/v1/sas/:id") { _, context in h.deleteSA(context.parameters.get("id") ?? "") }
        router.get("/api/v1/journal") { request, _ in h.journal(request.uri.queryParameters) }
        router.get("/api/v1/heartbeat") { _, _ in h.heartbeatOverview() }
        router.get("/api/v1/sas/:id/heartbeat") { _, context in h.heartbeatOfSA(context.parameters.get("id") ?? "") }
        router.get("/api/v1/sas/:id/push") { _, context in h.pushStatus(context.parameters.get("id") ?? "") }
        router.post("/api/v1/sas/:id/push/:operation") { request, context in
            await h.startPush(context.parameters.get("id") ?? "", context.parameters.get("operation") ?? "", request)
        }
        router.get("/api/v1/operations/:opid") { request, context in
            await h.operation(context.parameters.get("opid") ?? "", request.uri.queryParameters)
        }

        var logger = Logger(label: "warplink-mock.control")
        logger.logLevel = .critical
        let (ports, portSink) = AsyncStream<Int>.makeStream()
        let failure = FailureBox()
        let app = Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .seconds(30))),
            configuration: .init(address: .hostname("127.0.0.1", port: requestedPort), serverName: "warplink-mock"),
            onServerRunning: { channel in portSink.yield(channel.localAddress?.port ?? 0) },
            logger: logger)
        // In a service group of its own, so that stop() can shut it down gracefully: the
        // listener closes first, then open connections finish. (Cancelling the server task
        // instead can race a connection being accepted at that moment.)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task {
            do { try await group.run() } catch { failure.set(error) }
            portSink.finish()
        }
        for await port in ports {
            running = (task, port, group)
            return port
        }
        throw StartError(description: "control API: cannot listen on 127.0.0.1:\(requestedPort): "
                         + (failure.get().map { "\($0)" } ?? "the server stopped"))
    }

    /// The bound port while running.
    public var port: Int? { running?.port }

    /// `http://127.0.0.1:PORT` while running.
    public var url: String? { running.map { "http://127.0.0.1:\($0.port)" } }

    /// Stops listening and closes connections; waits for the server to finish, at most
    /// `stopTimeout` (it keeps shutting down in the background after that).
    public func stop() async {
        guard let running else { return }
        self.running = nil
        await running.group.triggerGracefulShutdown()
        let finished = await withTaskGroup(of: Bool.self) { group in
            group.addTask { await running.task.value; return true }
            group.addTask { try? await Task.sleep(for: ControlAPI.stopTimeout); return false }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        // Connections still open after the grace period (idle keep-alive clients) are cut.
        if !finished { running.task.cancel() }
    }

    /// Longest `stop()` waits for the server to finish.
    public static let stopTimeout = Duration.seconds(5)
}

/// A thread-safe slot for the error that ended the server task.
private final class FailureBox: @unchecked Sendable {
    private let lock = NSLock()
    private var error: (any Error)?

    func set(_ e: any Error) { lock.withLock { error = e } }
    func get() -> (any Error)? { lock.withLock { error } }
}

/// The route handlers; plain values over the thread-safe store and journal.
struct Handlers: Sendable {
    let store: FleetStore
    let journal: Journal
    let maxBodySize: Int
    let heartbeat: HeartbeatReceiver?
    let push: TunnelServer?
    let statusProvider: @Sendable () -> ServiceStatus

    init(store: FleetStore, journal: Journal, maxBodySize: Int, heartbeat: HeartbeatReceiver? = nil, push: TunnelServer? = nil,
         status: @escaping @Sendable () -> ServiceStatus) {
        self.store = store
        self.journal = journal
        self.maxBodySize = maxBodySize
        self.heartbeat = heartbeat
        self.push = push
        self.statusProvider = status
    }

    func status() -> Response {
        var s = statusProvider()
        s.counts["sas"] = store.count
        s.counts["journalEntries"] = journal.count()
        s.counts["journalDropped"] = journal.droppedCount
        return json(s)
    }

    func listSAs() -> Response { json(SAList(sas: store.all)) }

    func getSA(_ text: String) -> Response {
        let id: DistributionID
        do { id = try DistributionID(parsing: text) } catch { return badID(text, error) }
        guard let p = store[id] else { return fail(.notFound, "no SA \(id)") }
        return json(p)
    }

    func putSA(_ text: String, _ request: Request) async -> Response {
        let id: DistributionID
        do { id = try DistributionID(parsing: text) } catch { return badID(text, error) }
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > maxBodySize {
            return tooLarge()
        }
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: maxBodySize) } catch is NIOTooManyBytesError {
            return tooLarge()
        } catch {
            return fail(.badRequest, "cannot read the body: \(error)")
        }
        let profile: SAProfile
        do { profile = try SAProfileJSON.decode(Array(body.readableBytesView)) } catch {
            return fail(.badRequest, "invalid SA profile: \(error)")
        }
        guard profile.distributionID == id else {
            return fail(.badRequest, "distributionID \(profile.distributionID) in the body does not match \(id) in the path")
        }
        let previous = store.put(profile)
        return json(profile, status: previous == nil ? .created : .ok)
    }

    func deleteSA(_ text: String) -> Response {
        let id: DistributionID
        do { id = try DistributionID(parsing: text) } catch { return badID(text, error) }
        guard let removed = store.remove(id) else { return fail(.notFound, "no SA \(id)") }
        return json(removed)
    }

    func journal(_ query: Parameters) -> Response {
        for (key, _) in query where !["after", "sa", "role", "limit"].contains(String(key)) {
            return fail(.badRequest, "unknown query parameter \"\(key)\" (expected after, sa, role, limit)")
        }
        var after = 0
        if let t = query.get("after") {
            guard let v = Int(t), v >= 0 else { return fail(.badRequest, "after: \"\(t)\" is not a number ≥ 0") }
            after = v
        }
        var limit = ControlAPI.defaultJournalLimit
        if let t = query.get("limit") {
            guard let v = Int(t), (1...ControlAPI.maxJournalLimit).contains(v) else {
                return fail(.badRequest, "limit: \"\(t)\" is not a number from 1 to \(ControlAPI.maxJournalLimit)")
            }
            limit = v
        }
        var sa: String?
        if let t = query.get("sa") {
            do { sa = try DistributionID(parsing: t).description } catch { return fail(.badRequest, "sa: \"\(t)\": \(error)") }
        }
        var role: ServerRole?
        if let t = query.get("role") {
            guard let r = ServerRole(matching: t) else {
                return fail(.badRequest, "role: \"\(t)\" is not one of \(ServerRole.allNames.joined(separator: ", "))")
            }
            role = r
        }
        // Everything below `upTo` is already in the journal when it is read.
        let upTo = journal.nextSequence - 1
        let matching = journal.entries(after: after) { e in (sa == nil || e.sa == sa) && (role == nil || e.role == role) }
        let page = Array(matching.prefix(limit))
        let more = matching.count > limit
        let next = more ? (page.last?.sequence ?? after) : max(after, upTo, page.last?.sequence ?? 0)
        return json(JournalPage(entries: page, next: next, more: more, dropped: journal.droppedCount))
    }

    // MARK: Responses

    func badID(_ text: String, _ error: DistributionID.ParseError) -> Response {
        fail(.badRequest, "\"\(text)\" is not a distribution id: \(error)")
    }

    func tooLarge() -> Response {
        fail(.contentTooLarge, "request body larger than \(maxBodySize) bytes")
    }
}

func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
    let bytes = ControlJSON.encode(value)
    return Response(status: status, headers: [.contentType: "application/json"],
                    body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes + [0x0A])))
}

func fail(_ status: HTTPResponse.Status, _ message: String) -> Response {
    json(ControlErrorBody(error: message), status: status)
}

/// Answers every error, the router's "no such route" included, with a JSON body.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            if error.status == .notFound {
                let path = request.uri.path
                if let allowed = Self.allowedMethods(path) {
                    var r = fail(.methodNotAllowed, "\(request.method) is not allowed on \(path) (allowed: \(allowed))")
                    r.headers[.allow] = allowed
                    return r
                }
                return fail(.notFound, "no such route: \(request.method) \(path) (see docs/control-api.md)")
            }
            return fail(error.status, error.body ?? error.status.reasonPhrase)
        } catch is NIOTooManyBytesError {
            return fail(.contentTooLarge, "request body too large")
        } catch {
            return fail(.internalServerError, "\(error)")
        }
    }

    static func allowedMethods(_ path: String) -> String? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard parts.count >= 3, parts[0] == "api", parts[1] == "v1" else { return nil }
        switch (parts.count, parts[2]) {
        case (3, "status"), (3, "sas"), (3, "journal"), (3, "heartbeat"): return "GET"
        case (4, "sas"): return "GET, PUT, DELETE"
        case (5, "sas") where parts[4] == "heartbeat": return "GET"
        case (5, "sas") where parts[4] == "push": return "GET"
        case (6, "sas") where parts[4] == "push": return "POST"
        case (4, "operations"): return "GET"
        default: return nil
        }
    }
}

extension ServerRole {
    /// The role named `text`, compared without regard to case (`ls`, `LS`, `Tunnel`).
    public init?(matching text: String) {
        guard let r = Self.all.first(where: { $0.rawValue.lowercased() == text.lowercased() }) else { return nil }
        self = r
    }

    static let all: [ServerRole] = [.ls, .rs, .tunnel, .simple, .heartbeat, .control, .proxy]
    static var allNames: [String] { all.map(\.rawValue) }
}
