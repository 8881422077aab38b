@_exported import ARMSProtocol

/// Versions the agent reports (`armsd -V`, the `firmware-info` it sends by default).
public enum AgentVersion {
    /// This agent's version.
    public static let agent = "0.1.0"
    /// The libarms release whose behaviour the agent reproduces.
    public static let libarmsCompatible = "5.33"
    /// The description libarms' armsd registers (sent in `<description>`).
    public static let description = "armsd"
}
