/// Why bytes are not an acceptable ARMS document. Each case names what was wrong.
public enum ARMSDecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not well-formed, too large, too deep, non-ASCII…
    case xml(XMLParseError)
    /// The root element is not `<arms-message>`.
    case notARMSMessage(root: String)
    /// `<arms-message>` holds neither `<arms-request>` nor `<arms-response>`.
    case missingEnvelope
    /// A request was expected and a response came, or the other way round.
    case unexpectedKind(expected: String, found: String)
    case missingType(element: String)
    case unknownType(String)
    /// A required element is absent (path below the envelope, e.g. `result-code`).
    case missingElement(String)
    /// An integer element or attribute that is not bare decimal digits.
    case badInteger(element: String, text: String)
    /// An attribute libarms does not declare for this element; libarms would mis-parse the rest.
    case unexpectedAttribute(element: String, attribute: String)
    /// An attribute whose value cannot be used (e.g. a module id that is not decimal).
    case badAttribute(element: String, attribute: String, value: String)
    case badBase64(element: String, Base64.DecodeError)
    /// A child element inside an element that holds text.
    case elementInText(element: String, child: String)
    /// More occurrences than libarms accepts.
    case tooMany(element: String, limit: Int)
    /// Elements in an order libarms does not accept (e.g. `module` after `md-config`).
    case outOfOrder(String)

    public var description: String {
        switch self {
        case .xml(let e): return e.description
        case .notARMSMessage(let root): return "ARMS: root element is <\(root)>, expected <arms-message>"
        case .missingEnvelope: return "ARMS: <arms-message> holds no <arms-request> or <arms-response>"
        case .unexpectedKind(let e, let f): return "ARMS: expected <\(e)>, found <\(f)>"
        case .missingType(let e): return "ARMS: <\(e)> has no type attribute"
        case .unknownType(let t): return "ARMS: unknown message type \"\(t)\""
        case .missingElement(let p): return "ARMS: required element <\(p)> is missing"
        case .badInteger(let e, let t): return "ARMS: <\(e)> must be a bare decimal integer, got \"\(t)\""
        case .unexpectedAttribute(let e, let a): return "ARMS: attribute \"\(a)\" is not allowed on <\(e)>"
        case .badAttribute(let e, let a, let v): return "ARMS: <\(e) \(a)=\"\(v)\"> is not a usable value"
        case .badBase64(let e, let b): return "ARMS: <\(e)>: \(b)"
        case .elementInText(let e, let c): return "ARMS: <\(e)> holds text and must not contain <\(c)>"
        case .tooMany(let e, let l): return "ARMS: more than \(l) <\(e)> elements"
        case .outOfOrder(let what): return "ARMS: \(what)"
        }
    }

    /// The result code an SA answers a pushed request with when decoding failed this way (push.md §5.7).
    public var resultCode: ResultCode {
        switch self {
        case .xml, .notARMSMessage, .missingEnvelope, .unexpectedAttribute, .elementInText: return .invalidXML
        case .missingType, .unknownType, .unexpectedKind: return .invalidMessageType
        case .missingElement, .badInteger, .badAttribute, .badBase64, .outOfOrder: return .invalidParameter
        case .tooMany(let element, _): return element == "md-command" ? .multipleRequest : .invalidParameter
        }
    }
}

/// How strictly decoders read integers.
public enum IntegerRule: Sendable {
    /// Only `-?[0-9]+`; anything else is `badInteger`. For checking what peers send.
    case bare
    /// As libarms' `strtol`: leading whitespace allowed, empty text is 0, and trailing
    /// characters make an optional value count as absent (a required one as `badInteger`).
    case libarms
}

/// Options for decoding ARMS documents.
public struct ARMSDecodeOptions: Sendable {
    public var limits: XMLLimits
    public var integers: IntegerRule

    public init(limits: XMLLimits = .default, integers: IntegerRule = .bare) {
        self.limits = limits
        self.integers = integers
    }

    public static let strict = ARMSDecodeOptions()
    /// What a libarms client tolerates (for the agent).
    public static let libarms = ARMSDecodeOptions(integers: .libarms)
}
