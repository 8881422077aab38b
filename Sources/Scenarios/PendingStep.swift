import ARMSProtocol
import Foundation
import MockCore
import MockRS
import MockService

/// A push step running beside the scenario's polling loop; its outcome (timeline notes and
/// failures) is handed back once, when it finished.
final class PendingStep: @unchecked Sendable {
    struct Outcome {
        var notes: [TimelineEvent] = []
        var failures: [String] = []
    }

    private let lock = NSLock()
    private var result: Outcome?

    /// The outcome once the step finished, else nil.
    var outcome: Outcome? { lock.withLock { result } }

    private func finish(_ o: Outcome) { lock.withLock { result = o } }

    static func push(_ request: PushOperationRequest, step: Step, number: Int, sa: DistributionID, runtime: ServiceRuntime) -> PendingStep {
        let pending = PendingStep()
        let at = "step \(number) (line \(step.line))"
        Task {
            var o = Outcome()
            let id: Int
            do { id = try runtime.startPush(request, to: sa) } catch {
                o.failures.append("\(at): push \(request.operation) not sent: \(error)")
                pending.finish(o)
                return
            }
            let result = await runtime.tunnelServer.wait(for: id, timeout: .seconds(30))
            var summary = "push \(request.operation) #\(id): " + (result?.state.rawValue ?? "no result")
            if let code = result?.resultCode { summary += ", result \(code)" }
            if let error = result?.error { summary += ", \(error)" }
            o.notes.append(TimelineEvent(time: Date().timeIntervalSince1970, source: "step", text: summary))
            if let x = step.pushExpect {
                o.failures += check(result, x, at: at)
            } else if result?.state != .succeeded {
                o.failures.append("\(at): \(summary) (expected succeeded)")
            }
            pending.finish(o)
        }
        return pending
    }

    static func check(_ result: PushOperationResult?, _ x: PushExpectation, at: String) -> [String] {
        guard let result else { return ["\(at): the push has no result"] }
        var out: [String] = []
        if let s = x.state, result.state.rawValue != s {
            out.append("\(at): push \(result.operation) ended \(result.state.rawValue), expected \(s)" + (result.error.map { " (\($0))" } ?? ""))
        }
        if let code = x.resultCode, result.resultCode != code {
            out.append("\(at): push \(result.operation) result \(result.resultCode.map(String.init) ?? "none"), expected \(code)")
        }
        if let text = x.output {
            let all = result.output.map(\.text).joined(separator: "\n")
            if !all.contains(text) { out.append("\(at): push \(result.operation) output does not contain \"\(text)\" (got \"\(all.prefix(200))\")") }
        }
        return out
    }
}
