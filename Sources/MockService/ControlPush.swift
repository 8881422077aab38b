import ARMSProtocol
import Foundation
import Hummingbird
import MockCore
import MockRS
import NIOCore

// The push routes of the control API (docs/control-api.md, "Push").

extension Handlers {
    /// `GET /api/v1/sas/{id}/push`.
    func pushStatus(_ text: String) -> Response {
        let id: DistributionID
        do { id = try DistributionID(parsing: text) } catch { return badID(text, error) }
        guard let push else { return fail(.serviceUnavailable, "push is not enabled in this server") }
        guard store[id] != nil else { return fail(.notFound, "no SA \(id)") }
        return json(push.status(of: id))
    }

    /// `POST /api/v1/sas/{id}/push/{operation}` with the arguments as a JSON object
    /// (may be empty); `?wait=S` is not offered here: poll the operation.
    func startPush(_ text: String, _ operation: String, _ request: Request) async -> Response {
        let id: DistributionID
        do { id = try DistributionID(parsing: text) } catch { return badID(text, error) }
        guard let push else { return fail(.serviceUnavailable, "push is not enabled in this server") }
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: maxBodySize) } catch is NIOTooManyBytesError {
            return tooLarge()
        } catch {
            return fail(.badRequest, "cannot read the body: \(error)")
        }
        var object: [String: Any] = [:]
        if body.readableBytes > 0 {
            guard let parsed = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] else {
                return fail(.badRequest, "the body must be a JSON object of operation arguments")
            }
            object = parsed
        }
        object["operation"] = operation
        let arguments: PushOperationRequest
        do {
            let data = try JSONSerialization.data(withJSONObject: object)
            arguments = try JSONDecoder().decode(PushOperationRequest.self, from: data)
        } catch {
            return fail(.badRequest, "invalid arguments for \(operation): \(error)")
        }
        do {
            let opID = try push.submit(arguments, to: id)
            guard let result = push.result(opID) else { return fail(.internalServerError, "operation \(opID) vanished") }
            return json(result, status: .accepted)
        } catch {
            switch error {
            case .unknownSA: return fail(.notFound, error.description)
            case .notPushReady: return fail(.conflict, error.description)
            case .unknownOperation, .missingArgument: return fail(.badRequest, error.description)
            }
        }
    }

    /// `GET /api/v1/operations/{opid}[?wait=S]`: with `wait`, returns when the operation
    /// finished or after S seconds (then as it is, not marked timed out).
    func operation(_ text: String, _ query: Parameters) async -> Response {
        guard let push else { return fail(.serviceUnavailable, "push is not enabled in this server") }
        guard let opID = Int(text), opID > 0 else { return fail(.badRequest, "\"\(text)\" is not an operation id") }
        for (key, _) in query where String(key) != "wait" {
            return fail(.badRequest, "unknown query parameter \"\(key)\" (expected wait)")
        }
        var wait = 0.0
        if let t = query.get("wait") {
            guard let v = Double(t), v >= 0, v <= ControlAPI.maxWait else {
                return fail(.badRequest, "wait: \"\(t)\" is not a number of seconds from 0 to \(Int(ControlAPI.maxWait))")
            }
            wait = v
        }
        let result = wait > 0 ? await push.wait(for: opID, timeout: .milliseconds(Int64(wait * 1000)), expire: false) : push.result(opID)
        guard let result else { return fail(.notFound, "no operation \(opID)") }
        return json(result)
    }
}
