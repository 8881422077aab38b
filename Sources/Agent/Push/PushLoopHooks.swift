/// A timer the push loop hosts next to its tunnels (for the heartbeat sender,
/// heartbeat.md §6): the loop wakes at `nextDeadline` and calls `fire(now:)`
/// once it has passed. `fire` must not block.
public protocol PushLoopTimer: AnyObject {
    var nextDeadline: ContinuousClock.Instant? { get }
    func fire(now: ContinuousClock.Instant)
}

/// What the daemon plugs into the push loop.
public struct PushLoopHooks {
    /// Timers served by the loop's `poll` (heartbeat sender).
    public var timers: [any PushLoopTimer] = []
    /// The state became PUSH_WAIT (first confirmation): heartbeat.md §6 starts heartbeats here.
    public var enteredPushWait: () -> Void = {}
    /// The state left PUSH_WAIT (push loop torn down, reboot, pull): heartbeats stop here.
    public var leftPushWait: () -> Void = {}
    /// Every state change (the daemon logs it and runs `state-changed`).
    public var stateChanged: (AgentState, AgentState) -> Void = { _, _ in }
    /// Every libarms log line.
    public var log: (LibarmsLog) -> Void = { _ in }

    public init() {}
}

extension PushLoopHooks {
    /// Reports a state change: leaving PUSH_WAIT first, then the change, then entering it.
    func changeState(from: AgentState, to: AgentState) {
        if from == .pushWait { leftPushWait() }
        stateChanged(from, to)
        if to == .pushWait { enteredPushWait() }
    }
}
