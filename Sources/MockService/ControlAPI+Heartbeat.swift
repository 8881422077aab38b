import ARMSProtocol
import Hummingbird
import MockRS

// The heartbeat routes of the control API (docs/control-api.md, "Heartbeat").

extension Handlers {
    /// `GET /api/v1/heartbeat`: the receiver's addresses and counters over all SAs.
    func heartbeatOverview() -> Response {
        guard let heartbeat else { return fail(.notFound, "this service runs no heartbeat receiver") }
        return json(heartbeat.overview)
    }

    /// `GET /api/v1/sas/{id}/heartbeat`: one provisioned SA's samples, intervals and
    /// rejections (zero counts and no samples before its first datagram).
    func heartbeatOfSA(_ text: String) -> Response {
        let id: DistributionID
        do { id = try DistributionID(parsing: text) } catch { return badID(text, error) }
        guard let heartbeat else { return fail(.notFound, "this service runs no heartbeat receiver") }
        if let snapshot = heartbeat.snapshot(of: id) { return json(snapshot) }
        guard store[id] != nil else { return fail(.notFound, "no SA \(id)") }
        return json(HeartbeatSnapshot(sa: id.description, sampleCount: 0, rejected: [:], samples: []))
    }
}
