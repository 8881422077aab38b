import ARMSProtocol
import Foundation
import MockCore
import MockRS
import NIOCore
import NIOHTTP1
import NIOPosix

/// A client of the control API for the CLI: one HTTP/1.1 request per connection, each
/// bounded by `timeout` (connect, send and the whole answer).
///
/// Find the server with `ControlClient(url:)` (`--control URL`) or
/// `ControlClient.locate(dataDirectory:)` (`--data DIR` → `DIR/control.json`).
public struct ControlClient: Sendable {
    /// Host and port of the control API; plain `http` on a loopback address.
    public let host: String
    public let port: Int
    public var timeout: TimeAmount
    /// Where the server was found, for messages ("… (from DIR/control.json)").
    public let origin: String?

    public static let defaultTimeout = TimeAmount.seconds(10)
    /// Largest answer body read.
    public static let maxResponseSize = 32 * 1024 * 1024

    /// `url` is `http://HOST:PORT` with an optional trailing `/`.
    public init(url: String, timeout: TimeAmount = ControlClient.defaultTimeout, origin: String? = nil) throws(ControlClientError) {
        var rest = Substring(url)
        guard rest.hasPrefix("http://") else { throw .invalidURL(url, "must start with http://") }
        rest = rest.dropFirst(7)
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        let host: Substring
        let portText: Substring
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw .invalidURL(url, "unclosed '['") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            guard after.hasPrefix(":") else { throw .invalidURL(url, "a port is required (http://127.0.0.1:PORT)") }
            portText = after.dropFirst()
        } else {
            guard let colon = rest.lastIndex(of: ":") else { throw .invalidURL(url, "a port is required (http://127.0.0.1:PORT)") }
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        }
        guard !host.isEmpty, !host.contains("/") else { throw .invalidURL(url, "no host") }
        guard let port = Int(portText), (1...65535).contains(port) else { throw .invalidURL(url, "\"\(portText)\" is not a port") }
        self.host = String(host)
        self.port = port
        self.timeout = timeout
        self.origin = origin
    }

    /// The client for the server that wrote `DIR/control.json`.
    public static func locate(dataDirectory: DataDirectory, timeout: TimeAmount = ControlClient.defaultTimeout) throws(ControlClientError) -> ControlClient {
        let file: DataDirectory.ControlFile?
        do { file = try dataDirectory.readControlFile() } catch { throw .badControlFile(error.description) }
        guard let file else { throw .notRunning(dataDirectory: dataDirectory.path, detail: "no \(dataDirectory.controlFilePath)") }
        if kill(file.pid, 0) != 0 && errno == ESRCH {
            throw .notRunning(dataDirectory: dataDirectory.path,
                              detail: "\(dataDirectory.controlFilePath) names process \(file.pid), which is not running")
        }
        return try ControlClient(url: file.control, timeout: timeout, origin: dataDirectory.controlFilePath)
    }

    /// `http://HOST:PORT`.
    public var url: String { "http://" + (host.contains(":") ? "[\(host)]" : host) + ":\(port)" }

    // MARK: - Typed calls

    public func status() async throws(ControlClientError) -> ServiceStatus {
        try decode(ServiceStatus.self, try await send("GET", "/api/v1/status"))
    }

    public func listSAs() async throws(ControlClientError) -> [SAProfile] {
        try decode(SAList.self, try await send("GET", "/api/v1/sas")).sas
    }

    /// nil when the SA is not provisioned.
    public func sa(_ id: DistributionID) async throws(ControlClientError) -> SAProfile? {
        let r = try await send("GET", "/api/v1/sas/\(id)", expecting: [200, 404])
        return r.status == 404 ? nil : try decode(SAProfile.self, r)
    }

    /// Adds or replaces an SA; true when it was new.
    @discardableResult
    public func putSA(_ profile: SAProfile) async throws(ControlClientError) -> Bool {
        let r = try await send("PUT", "/api/v1/sas/\(profile.distributionID)", body: SAProfileJSON.encode(profile), expecting: [200, 201])
        return r.status == 201
    }

    /// Removes an SA; returns its profile, nil when it was not provisioned.
    @discardableResult
    public func removeSA(_ id: DistributionID) async throws(ControlClientError) -> SAProfile? {
        let r = try await send("DELETE", "/api/v1/sas/\(id)", expecting: [200, 404])
        return r.status == 404 ? nil : try decode(SAProfile.self, r)
    }

    public func journal(after: Int = 0, sa: DistributionID? = nil, role: ServerRole? = nil, limit: Int? = nil)
        async throws(ControlClientError) -> JournalPage {
        var query = ["after=\(after)"]
        if let sa { query.append("sa=\(sa)") }
        if let role { query.append("role=\(role.rawValue)") }
        if let limit { query.append("limit=\(limit)") }
        return try decode(JournalPage.self, try await send("GET", "/api/v1/journal?" + query.joined(separator: "&")))
    }

    /// `GET /api/v1/sas/{id}/heartbeat`; nil when the SA is not provisioned.
    public func heartbeat(of id: DistributionID) async throws(ControlClientError) -> HeartbeatSnapshot? {
        let r = try await send("GET", "/api/v1/sas/\(id)/heartbeat", expecting: [200, 404])
        return r.status == 404 ? nil : try decode(HeartbeatSnapshot.self, r)
    }

    /// `GET /api/v1/heartbeat`.
    public func heartbeatOverview() async throws(ControlClientError) -> HeartbeatOverview {
        try decode(HeartbeatOverview.self, try await send("GET", "/api/v1/heartbeat"))
    }

    // MARK: - HTTP

    /// An answer: status and body bytes.
    public struct Answer: Sendable {
        public var status: Int
        public var body: [UInt8]
    }

    /// Sends one request and returns the answer; throws `.server` for a status not in `expecting`.
    public func send(_ method: String, _ target: String, body: [UInt8]? = nil,
                     expecting: Set<Int> = [200]) async throws(ControlClientError) -> Answer {
        let answer: Answer
        do {
            answer = try await exchange(method: method, target: target, body: body)
        } catch let error as ControlClientError {
            throw error
        } catch let error as ChannelError where error == .connectTimeout(timeout) {
            throw .timeout(url: url, seconds: seconds)
        } catch {
            if Self.isRefused(error) { throw .connectionRefused(url: url, origin: origin) }
            throw .transport(url: url, detail: "\(error)")
        }
        guard expecting.contains(answer.status) else {
            let message = (try? JSONDecoder().decode(ControlErrorBody.self, from: Data(answer.body)))?.error
                ?? String(decoding: answer.body.prefix(300), as: UTF8.self)
            throw .server(status: answer.status, message: message)
        }
        return answer
    }

    private var seconds: Double { Double(timeout.nanoseconds) / 1e9 }

    private static func isRefused(_ error: any Error) -> Bool {
        if let e = error as? NIOConnectionError {
            return e.connectionErrors.contains { ($0.error as? IOError)?.errnoCode == ECONNREFUSED }
        }
        if let e = error as? IOError { return e.errnoCode == ECONNREFUSED }
        return false
    }

    private func exchange(method: String, target: String, body: [UInt8]?) async throws -> Answer {
        let group = MultiThreadedEventLoopGroup.singleton
        let loop = group.next()
        let promise = loop.makePromise(of: Answer.self)
        var head = NIOHTTP1.HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: target)
        head.headers.add(name: "Host", value: String(url.dropFirst(7)))
        head.headers.add(name: "Accept", value: "application/json")
        head.headers.add(name: "Connection", value: "close")
        head.headers.add(name: "User-Agent", value: "warplink-mock/\(MockService.version)")
        if let body {
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: String(body.count))
        } else if method == "PUT" || method == "POST" {
            head.headers.add(name: "Content-Length", value: "0")
        }
        let requestHead = head
        let deadline = NIODeadline.now() + timeout
        let timeoutError = ControlClientError.timeout(url: url, seconds: seconds)
        let timer = loop.scheduleTask(deadline: deadline) { promise.fail(timeoutError) }

        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(
                        AnswerCollector(head: requestHead, body: body, promise: promise, limit: Self.maxResponseSize))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            timer.cancel()
            promise.fail(error)
            throw error
        }
        defer {
            timer.cancel()
            channel.close(promise: nil)
        }
        return try await promise.futureResult.get()
    }
}

/// Sends the request when the connection is up and collects the answer.
private final class AnswerCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    let head: NIOHTTP1.HTTPRequestHead
    let body: [UInt8]?
    let promise: EventLoopPromise<ControlClient.Answer>
    let limit: Int
    var status = 0
    var received: [UInt8] = []

    init(head: NIOHTTP1.HTTPRequestHead, body: [UInt8]?, promise: EventLoopPromise<ControlClient.Answer>, limit: Int) {
        self.head = head
        self.body = body
        self.promise = promise
        self.limit = limit
    }

    func channelActive(context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body { context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            status = Int(h.status.code)
        case .body(var buffer):
            guard received.count + buffer.readableBytes <= limit else {
                promise.fail(ControlClientError.transport(url: "", detail: "answer larger than \(limit) bytes"))
                context.close(promise: nil)
                return
            }
            received += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            promise.succeed(ControlClient.Answer(status: status, body: received))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ControlClientError.transport(url: "", detail: "the server closed the connection before answering"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}

/// What went wrong talking to the control API; `description` says what to do about it.
public enum ControlClientError: Error, Sendable, CustomStringConvertible {
    case invalidURL(String, String)
    case badControlFile(String)
    /// No server for the data directory (no control.json, or its process is gone).
    case notRunning(dataDirectory: String, detail: String)
    case connectionRefused(url: String, origin: String?)
    case timeout(url: String, seconds: Double)
    case transport(url: String, detail: String)
    /// The server answered with an error status.
    case server(status: Int, message: String)
    case badAnswer(String)

    public var description: String {
        switch self {
        case .invalidURL(let u, let why):
            return "invalid control URL \"\(u)\": \(why)"
        case .badControlFile(let s):
            return s
        case .notRunning(let dir, let detail):
            return "no warplink-mock server is running for data directory \(dir) (\(detail)).\n"
                + "Start one with: warplink-mock serve --data \(dir)"
        case .connectionRefused(let url, let origin):
            var s = "nothing is listening on \(url)"
            if let origin { s += " (named in \(origin); the server may have stopped)" }
            return s + ".\nStart the server with: warplink-mock serve [--data DIR], or pass the right --control URL"
        case .timeout(let url, let s):
            return "no answer from \(url) within \(s) s"
        case .transport(let url, let detail):
            return url.isEmpty ? detail : "\(url): \(detail)"
        case .server(let status, let message):
            return "the server answered \(status): \(message)"
        case .badAnswer(let s):
            return "unexpected answer from the server: \(s)"
        }
    }
}

extension ControlClient {
    fileprivate func decode<T: Decodable>(_ type: T.Type, _ answer: Answer) throws(ControlClientError) -> T {
        do { return try JSONDecoder().decode(type, from: Data(answer.body)) } catch {
            throw .badAnswer("\(error)")
        }
    }
}
