import NIOConcurrencyHelpers
import NIOCore

/// Channels a server keeps open on its own, outside any exchange it waits for (connections
/// running a connection fault, proxy relays), so that `stop()` can close them at once
/// instead of waiting for their timeouts.
public final class OpenChannels: Sendable {
    private let open = NIOLockedValueBox<[ObjectIdentifier: Channel]>([:])

    public init() {}

    func add(_ channel: Channel) { open.withLockedValue { $0[ObjectIdentifier(channel)] = channel } }
    func remove(_ channel: Channel) { _ = open.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(channel)) } }

    /// How many are open right now.
    public var count: Int { open.withLockedValue { $0.count } }

    /// Closes every one of them (each still gets its journal entry, where it writes one).
    public func closeAll() async {
        let channels = open.withLockedValue { Array($0.values) }
        for channel in channels { try? await channel.close() }
    }
}
