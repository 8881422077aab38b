/// A module the agent holds: id, version and info as the RS listed it.
public struct ModuleRecord: Equatable, Sendable {
    public var id: UInt32
    public var version: String?
    public var info: String

    public init(id: UInt32, version: String?, info: String) {
        self.id = id
        self.version = version
        self.info = info
    }

    /// The version argument scripts get: `-` when the RS sent none (agent.md §5.2).
    public var versionArgument: String { version ?? "-" }
}

/// The agent's module list, in the order modules were first seen (agent.md §6).
public struct ModuleTable: Equatable, Sendable {
    public private(set) var modules: [ModuleRecord] = []

    public init() {}

    public subscript(id: UInt32) -> ModuleRecord? { modules.first { $0.id == id } }

    /// Applies a complete module list from the RS: returns the modules that are gone
    /// (to be stopped and deleted). Kept modules take the new version and info; new
    /// ones are appended. An empty list leaves the table untouched (pull.md §5.3).
    public mutating func sync(with list: [ModuleInfo]) -> [ModuleRecord] {
        guard !list.isEmpty else { return [] }
        let ids = Set(list.map(\.id))
        let removed = modules.filter { !ids.contains($0.id) }
        modules.removeAll { !ids.contains($0.id) }
        for m in list {
            if let i = modules.firstIndex(where: { $0.id == m.id }) {
                modules[i].version = m.version
                modules[i].info = m.info
            } else {
                modules.append(ModuleRecord(id: m.id, version: m.version, info: m.info))
            }
        }
        return removed
    }

    public mutating func removeAll() -> [ModuleRecord] {
        defer { modules = [] }
        return modules
    }
}
