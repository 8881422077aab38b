import ARMSProtocol
import Foundation
import MockCore
import MockRS
import NIOCore

extension ControlClient {
    /// `GET /api/v1/sas/{id}/push`: tunnels and push-readiness; nil when the SA is not provisioned.
    public func pushStatus(_ id: DistributionID) async throws(ControlClientError) -> PushStatus? {
        let r = try await send("GET", "/api/v1/sas/\(id)/push", expecting: [200, 404])
        return r.status == 404 ? nil : try decodePush(PushStatus.self, r)
    }

    /// `POST /api/v1/sas/{id}/push/{operation}`: starts an operation and returns it (state
    /// `sent`/`queued`). Throws `.server(409, …)` when the SA is not push-ready.
    public func startPush(_ request: PushOperationRequest, to id: DistributionID) async throws(ControlClientError) -> PushOperationResult {
        let body: [UInt8]
        do { body = Array(try JSONEncoder().encode(request)) } catch { throw .badAnswer("cannot encode arguments: \(error)") }
        let r = try await send("POST", "/api/v1/sas/\(id)/push/\(request.operation)", body: body, expecting: [202])
        return try decodePush(PushOperationResult.self, r)
    }

    /// `GET /api/v1/operations/{opid}?wait=S`: the operation once it finished, or as it is
    /// after `wait` seconds. nil when the id is unknown.
    public func operation(_ opID: Int, wait: Double = 0) async throws(ControlClientError) -> PushOperationResult? {
        var client = self
        client.timeout = timeout + .nanoseconds(Int64(wait * 1e9))
        let target = "/api/v1/operations/\(opID)" + (wait > 0 ? "?wait=\(wait)" : "")
        let r = try await client.send("GET", target, expecting: [200, 404])
        return r.status == 404 ? nil : try decodePush(PushOperationResult.self, r)
    }

    /// Starts an operation and waits up to `timeout` seconds for it to finish.
    public func push(_ request: PushOperationRequest, to id: DistributionID, timeout: Double) async throws(ControlClientError)
        -> PushOperationResult {
        let started = try await startPush(request, to: id)
        return try await operation(started.id, wait: timeout) ?? started
    }

    fileprivate func decodePush<T: Decodable>(_ type: T.Type, _ answer: Answer) throws(ControlClientError) -> T {
        do { return try JSONDecoder().decode(type, from: Data(answer.body)) } catch {
            throw .badAnswer("\(error)")
        }
    }
}
