/// A parsed XML element: the small tree the ARMS decoders walk.
///
/// Character data (text and CDATA) directly inside the element is joined in
/// document order into `text`; whitespace between child elements is kept there
/// too and ignored by container decoders.
public struct XMLElement: Equatable, Sendable {
    public var name: String
    /// Attributes in document order.
    public var attributes: [(name: String, value: String)]
    public var children: [XMLElement]
    public var text: String
    /// 1-based line of the start tag, for error messages.
    public var line: Int

    public init(name: String, attributes: [(name: String, value: String)] = [], children: [XMLElement] = [], text: String = "", line: Int = 0) {
        self.name = name
        self.attributes = attributes
        self.children = children
        self.text = text
        self.line = line
    }

    public func attribute(_ name: String) -> String? {
        attributes.last(where: { $0.name == name })?.value
    }

    /// Every direct child with this name, in document order.
    public func children(named name: String) -> [XMLElement] {
        children.filter { $0.name == name }
    }

    /// The last direct child with this name (libarms: for single-valued fields the last one wins).
    public func child(_ name: String) -> XMLElement? {
        children.last(where: { $0.name == name })
    }

    public static func == (a: XMLElement, b: XMLElement) -> Bool {
        a.name == b.name && a.text == b.text && a.children == b.children
            && a.attributes.map(\.name) == b.attributes.map(\.name)
            && a.attributes.map(\.value) == b.attributes.map(\.value)
    }
}
