import ARMSProtocol
import MockCore
import MockRS

// Fault hooks of the running service (see docs/fault-hooks.md): pass-throughs to the
// LS/RS exchange servers and the tunnel endpoint, for the scenario runner and tests.

/// Installs a connection fault hook on exchange servers and, if given, the tunnel listener
/// (nothing when `hook` is nil, so a configuration without one leaves them untouched).
func applyConnectionFaultHook(_ hook: ConnectionFaultHook?, to servers: [ExchangeServer], tunnel: TunnelServer?) {
    guard let hook else { return }
    for server in servers { server.setConnectionFaultHook(hook) }
    tunnel?.setConnectionFaultHook(hook)
}

extension ServiceRuntime {
    /// Replaces the exchange fault hook of the LS and the RS (`nil` answers normally).
    public func setFaultHook(_ hook: ExchangeFaultHook?) {
        locationServer.exchange.setFaultHook(hook)
        remoteServer.exchange.setFaultHook(hook)
    }

    /// Replaces the connection fault hook of the LS, RS and tunnel listeners (`nil` faults
    /// none); the context's `role` tells which listener accepted.
    public func setConnectionFaultHook(_ hook: ConnectionFaultHook?) {
        locationServer.exchange.setConnectionFaultHook(hook)
        remoteServer.exchange.setConnectionFaultHook(hook)
        tunnelServer.setConnectionFaultHook(hook)
    }

    /// Result code of the push-confirmation-start answer in a tunnel, by SA (`nil` = 100).
    /// Another code is answered alone: libarms reconnects on 3xx/4xx, stops pushing on 2xx/5xx.
    public func setConfirmAnswer(_ hook: (@Sendable (String) -> ResultCode?)?) { tunnelServer.setConfirmAnswer(hook) }

    /// How to answer a tunnel open request, by the SA it claims (`nil` = open normally).
    public func setTunnelOpenFault(_ hook: (@Sendable (String?) -> TunnelOpenFault?)?) { tunnelServer.setTunnelOpenFault(hook) }

    /// What to do with an RS→SA message on a tunnel, by SA and message type (`nil` = write it).
    public func setChunkFault(_ hook: (@Sendable (String, String) -> ChunkFault?)?) { tunnelServer.setChunkFault(hook) }
}
