/// The service side of WarpLinkMock in one process: the fleet file (`FleetFile`), the data
/// directory agents are pointed at (`DataDirectory`), the loopback control API
/// (`ControlAPI`) and its client (`ControlClient`). `warplink-mock serve` wires these to the
/// Location and Remote Servers of MockLS and MockRS.
public enum MockService {
    /// The version `warplink-mock --version` and `GET /api/v1/status` report.
    public static let version = "0.1.0"
}
