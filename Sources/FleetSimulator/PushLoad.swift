import MockCore
import ARMSProtocol
import MockRS
import MockService

/// Sends one md-command to an SA: nil when it came back as sent (the simulated SA
/// echoes its command), else why not.
public struct PushSender: Sendable {
    public var send: @Sendable (DistributionID, String) async -> String?

    public init(send: @escaping @Sendable (DistributionID, String) async -> String?) { self.send = send }

    static func verdict(_ result: PushOperationResult, _ command: String) -> String? {
        guard result.state == .succeeded else { return "push \(result.state.rawValue): \(result.error ?? "result \(result.resultCode ?? 0)")" }
        return result.output.first?.text == command ? nil : "push: the answer is not the command's echo"
    }

    /// Through the RS of a mock in this process.
    public static func inProcess(_ runtime: ServiceRuntime, timeout: Duration = .seconds(10)) -> PushSender {
        PushSender { id, command in
            do {
                return verdict(try await runtime.push(.mdCommand(command, module: FleetProvisioning.moduleID), to: id, timeout: timeout), command)
            } catch {
                return "push: \(error)"
            }
        }
    }

    /// Through a mock's control API (start, then wait for the operation).
    public static func control(_ client: ControlClient, timeout: Double = 10) -> PushSender {
        PushSender { id, command in
            do {
                return verdict(try await client.push(.mdCommand(command, module: FleetProvisioning.moduleID), to: id, timeout: timeout), command)
            } catch {
                return "push: \(error)"
            }
        }
    }
}

/// md-command pushes at a fixed rate to push-ready SAs picked at random (seeded), each
/// timed and counted in the fleet's figures. At most `maxInFlight` at once: a push due
/// while that many are out waits for one of them (the rate drops). A push due while no
/// SA is push-ready is skipped.
public struct PushLoad: Sendable {
    public let fleet: Fleet
    public let rate: Double
    public let sender: PushSender
    public let seed: UInt64
    public let maxInFlight: Int

    public init(fleet: Fleet, rate: Double, sender: PushSender, seed: UInt64 = 1, maxInFlight: Int = 2000) {
        self.fleet = fleet
        self.rate = rate
        self.sender = sender
        self.seed = seed
        self.maxInFlight = maxInFlight
    }

    /// Pushes until the task is cancelled or `duration` passed, then waits for those in flight.
    public func run(for duration: Duration? = nil) async {
        guard rate > 0 else { return }
        let clock = ContinuousClock()
        let start = clock.now
        let end = duration.map { start + $0 }
        var random = SplitMix64(seed: seed)
        let fleet = self.fleet
        let sender = self.sender
        await withTaskGroup(of: Void.self) { group in
            var sent = 0
            var inFlight = 0
            var serial = 0
            while !Task.isCancelled {
                let now = clock.now
                if let end, now >= end { break }
                let elapsed = start.duration(to: now)
                let due = Int(rate * (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
                while sent < due && !Task.isCancelled {
                    sent += 1
                    while inFlight >= maxInFlight, await group.next() != nil { inFlight -= 1 }
                    guard let id = fleet.randomReadySA(using: &random) else { continue }
                    serial += 1
                    let command = "fleet push \(serial)"
                    inFlight += 1
                    group.addTask {
                        let begin = ContinuousClock.now
                        var failure = await sender.send(id, command)
                        // An SA counts as ready once it answered the confirmation; the mock marks it
                        // push-ready when that answer is processed, a moment later. A push that falls
                        // in between is sent again, a few times at most.
                        var retries = 0
                        while let f = failure, f.contains("is not push-ready"), retries < 10, !Task.isCancelled {
                            retries += 1
                            try? await Task.sleep(for: .milliseconds(20))
                            failure = await sender.send(id, command)
                        }
                        let d = begin.duration(to: .now)
                        if let failure { fleet.error(failure) }
                        fleet.recordPush(succeeded: failure == nil, latency: Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
                    }
                }
                try? await Task.sleep(for: .milliseconds(2))
            }
            await group.waitForAll()
        }
    }
}
