/// An ordered list of HTTP header fields.
///
/// Order and spelling are kept exactly as parsed or given, because libarms
/// writes (and our fixtures pin) a fixed order. Look-ups by name ignore ASCII
/// case, as HTTP specifies; where libarms matches a name case-sensitively the
/// parsers say so.
public struct HTTPHeaders: Equatable, Sendable, ExpressibleByDictionaryLiteral {
    /// One `name: value` line (value without surrounding spaces or tabs).
    public struct Field: Equatable, Sendable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The fields in wire order.
    public var fields: [Field]

    public init(_ fields: [Field] = []) {
        self.fields = fields
    }

    /// Fields in the order written, e.g. `["Content-Type": "text/xml"]`.
    public init(dictionaryLiteral elements: (String, String)...) {
        self.fields = elements.map { Field(name: $0.0, value: $0.1) }
    }

    /// Value of the first field with this name (ASCII case-insensitive), if any.
    public subscript(name: String) -> String? {
        fields.first { ByteText.equalsIgnoringCase($0.name, name) }?.value
    }

    /// Values of all fields with this name (ASCII case-insensitive), in order.
    public func values(for name: String) -> [String] {
        fields.filter { ByteText.equalsIgnoringCase($0.name, name) }.map(\.value)
    }

    /// Appends a field at the end.
    public mutating func append(name: String, value: String) {
        fields.append(Field(name: name, value: value))
    }
}
