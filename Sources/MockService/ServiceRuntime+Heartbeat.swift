import MockRS

// The heartbeat receiver's fault hook, passed through for the scenario runner.

extension ServiceRuntime {
    /// Installs (or, with nil, removes) the heartbeat receiver's datagram fault hook: asked
    /// once per received datagram before the ledger (`.none`, `.drop`, `.duplicate`,
    /// `.corrupt`; see ``HeartbeatDatagramFault``). What it did is counted in
    /// ``heartbeatOverview`` and in the claimed SA's ``heartbeatSnapshot(of:)``.
    public func setHeartbeatDatagramFault(_ hook: HeartbeatDatagramFaultHook?) {
        heartbeatReceiver.setDatagramFault(hook)
    }
}
