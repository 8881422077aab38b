import Testing

/// The agent is synchronous by design (poll loops, scripts run to completion), so many of
/// its tests block the thread they run on for a while. Swift Testing runs them on the
/// Swift concurrency pool, which on a 2-core machine has two threads, and the in-process
/// servers of other suites (mocks, control API) need that pool too. Tests of suites
/// marked `.blocksPoolThread` therefore run one at a time: a test waiting its turn
/// suspends instead of blocking, so at most one pool thread is ever held by them.
struct BlocksPoolThread: SuiteTrait, TestTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        guard testCase != nil else { return try await function() }
        await PoolGate.shared.enter()
        do {
            try await function()
        } catch {
            await PoolGate.shared.leave()
            throw error
        }
        await PoolGate.shared.leave()
    }
}

extension Trait where Self == BlocksPoolThread {
    /// Run this suite's tests one at a time with the other blocking suites (see `BlocksPoolThread`).
    static var blocksPoolThread: Self { Self() }
}

/// A one-holder async lock: waiters suspend in arrival order.
actor PoolGate {
    static let shared = PoolGate()
    private var held = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func enter() async {
        if !held {
            held = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func leave() {
        if waiting.isEmpty {
            held = false
        } else {
            waiting.removeFirst().resume()
        }
    }
}
