/// A `<module>` entry: one module of the SA's module list.
public struct ModuleInfo: Equatable, Sendable {
    /// Module id (unsigned decimal on the wire).
    public var id: UInt32
    /// The `version` attribute; `nil` when absent.
    public var version: String?
    /// `install-order`: accepted and ignored by libarms.
    public var installOrder: String?
    /// The element text: the module's "info" (location) string, often empty.
    public var info: String

    public init(id: UInt32, version: String? = nil, installOrder: String? = nil, info: String = "") {
        self.id = id
        self.version = version
        self.installOrder = installOrder
        self.info = info
    }
}

/// An `<md-config>` entry: one module's configuration.
public struct ModuleConfig: Equatable, Sendable {
    public var id: UInt32
    /// `content-type`: allowed in the RS pull response only (not in configure pushes).
    public var contentType: String?
    /// `commit-order`: accepted and ignored by libarms.
    public var commitOrder: String?
    public var content: Payload

    public init(id: UInt32, content: Payload, contentType: String? = nil, commitOrder: String? = nil) {
        self.id = id
        self.content = content
        self.contentType = contentType
        self.commitOrder = commitOrder
    }
}
