import CLibXML2

/// Why a byte sequence is not an acceptable XML document.
public enum XMLParseError: Error, Equatable, Sendable, CustomStringConvertible {
    case empty
    case tooLarge(bytes: Int, limit: Int)
    case tooDeep(line: Int, limit: Int)
    case tooManyElements(limit: Int)
    /// A byte ≥ 0x80: libarms parses as US-ASCII and rejects it.
    case nonASCII(offset: Int)
    /// A DOCTYPE declaration: never legitimate in ARMS and a door to entity expansion.
    case doctypeNotAllowed
    /// Not well-formed, as libxml2 reports it.
    case malformed(line: Int, message: String)

    public var description: String {
        switch self {
        case .empty: return "XML: empty document"
        case .tooLarge(let b, let l): return "XML: document of \(b) bytes exceeds the limit of \(l)"
        case .tooDeep(let line, let l): return "XML: nesting deeper than \(l) at line \(line)"
        case .tooManyElements(let l): return "XML: more than \(l) elements"
        case .nonASCII(let o): return "XML: non-ASCII byte at offset \(o) (ARMS documents are US-ASCII)"
        case .doctypeNotAllowed: return "XML: DOCTYPE is not allowed"
        case .malformed(let line, let m): return "XML: not well-formed at line \(line): \(m)"
        }
    }
}

/// Parses a whole document into an `XMLElement` tree with libxml2's streaming
/// reader, enforcing `XMLLimits` as it goes. No network access, no DTD, no
/// external or custom entities: only the predefined entities and character
/// references are expanded.
public enum XMLDocumentParser {
    private static let initialized: Bool = {
        xmlInitParser()
        return true
    }()

    public static func parse(_ bytes: some Collection<UInt8>, limits: XMLLimits = .default) throws(XMLParseError) -> XMLElement {
        let input = Array(bytes)
        guard !input.isEmpty else { throw .empty }
        guard input.count <= limits.maxDocumentBytes else {
            throw .tooLarge(bytes: input.count, limit: limits.maxDocumentBytes)
        }
        if let bad = input.firstIndex(where: { $0 >= 0x80 }) { throw .nonASCII(offset: bad) }
        _ = initialized

        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue
            | XML_PARSE_NOWARNING.rawValue | XML_PARSE_NOCDATA.rawValue)
        let result: Result<XMLElement, XMLParseError> = input.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { base in
                guard let reader = xmlReaderForMemory(base, Int32(buffer.count), nil, "UTF-8", options) else {
                    return .failure(.malformed(line: 0, message: "cannot create parser"))
                }
                defer { xmlFreeTextReader(reader) }
                return walk(reader, limits: limits)
            }
        }
        return try result.get()
    }

    private static func walk(_ reader: xmlTextReaderPtr, limits: XMLLimits) -> Result<XMLElement, XMLParseError> {
        xmlResetLastError()
        var stack: [XMLElement] = []
        var root: XMLElement?
        var count = 0
        while true {
            let status = xmlTextReaderRead(reader)
            if status == 0 { break }
            if status < 0 { return .failure(lastError()) }
            let type = xmlTextReaderNodeType(reader)
            switch type {
            case Int32(XML_READER_TYPE_ELEMENT.rawValue):
                count += 1
                if count > limits.maxElements { return .failure(.tooManyElements(limit: limits.maxElements)) }
                let line = Int(xmlTextReaderGetParserLineNumber(reader))
                if stack.count + 1 > limits.maxDepth { return .failure(.tooDeep(line: line, limit: limits.maxDepth)) }
                var element = XMLElement(name: string(xmlTextReaderConstName(reader)), line: line)
                let isEmpty = xmlTextReaderIsEmptyElement(reader) == 1
                while xmlTextReaderMoveToNextAttribute(reader) == 1 {
                    element.attributes.append((string(xmlTextReaderConstName(reader)), string(xmlTextReaderConstValue(reader))))
                }
                if isEmpty {
                    if !attach(element, to: &stack, root: &root) { return .failure(.malformed(line: line, message: "more than one root element")) }
                } else {
                    stack.append(element)
                }
            case Int32(XML_READER_TYPE_END_ELEMENT.rawValue):
                guard let element = stack.popLast() else { return .failure(.malformed(line: 0, message: "unbalanced end tag")) }
                if !attach(element, to: &stack, root: &root) {
                    return .failure(.malformed(line: element.line, message: "more than one root element"))
                }
            case Int32(XML_READER_TYPE_TEXT.rawValue), Int32(XML_READER_TYPE_CDATA.rawValue),
                 Int32(XML_READER_TYPE_WHITESPACE.rawValue), Int32(XML_READER_TYPE_SIGNIFICANT_WHITESPACE.rawValue):
                if !stack.isEmpty { stack[stack.count - 1].text += string(xmlTextReaderConstValue(reader)) }
            case Int32(XML_READER_TYPE_DOCUMENT_TYPE.rawValue):
                return .failure(.doctypeNotAllowed)
            case Int32(XML_READER_TYPE_ENTITY_REFERENCE.rawValue):
                return .failure(.malformed(line: Int(xmlTextReaderGetParserLineNumber(reader)), message: "undeclared entity reference"))
            default:
                break // comments, processing instructions
            }
        }
        guard let root else { return .failure(.malformed(line: 0, message: "no root element")) }
        return .success(root)
    }

    private static func attach(_ element: XMLElement, to stack: inout [XMLElement], root: inout XMLElement?) -> Bool {
        if stack.isEmpty {
            if root != nil { return false }
            root = element
        } else {
            stack[stack.count - 1].children.append(element)
        }
        return true
    }

    private static func lastError() -> XMLParseError {
        guard let error = xmlGetLastError() else { return .malformed(line: 0, message: "parse error") }
        var message = error.pointee.message.map { String(cString: $0) } ?? "parse error"
        while message.last == "\n" || message.last == " " { message.removeLast() }
        return .malformed(line: Int(error.pointee.line), message: message)
    }

    private static func string(_ p: UnsafePointer<xmlChar>?) -> String {
        guard let p else { return "" }
        return String(cString: p)
    }
}
