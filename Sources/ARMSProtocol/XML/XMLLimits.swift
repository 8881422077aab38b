/// Bounds every XML decoder applies before and while parsing.
public struct XMLLimits: Sendable, Equatable {
    /// Largest document accepted, in bytes.
    public var maxDocumentBytes: Int
    /// Deepest element nesting accepted (the root is depth 1).
    public var maxDepth: Int
    /// Most elements accepted in one document.
    public var maxElements: Int

    public init(maxDocumentBytes: Int = 4 << 20, maxDepth: Int = 16, maxElements: Int = 20_000) {
        self.maxDocumentBytes = maxDocumentBytes
        self.maxDepth = maxDepth
        self.maxElements = maxElements
    }

    /// Defaults: 4 MiB, depth 16, 20 000 elements. ARMS messages nest at most 6 deep.
    public static let `default` = XMLLimits()
}
