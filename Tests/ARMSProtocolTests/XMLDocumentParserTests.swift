import Testing
@testable import ARMSProtocol

@Suite struct XMLDocumentParserTests {
    func parse(_ s: String, limits: XMLLimits = .default) throws(XMLParseError) -> XMLElement {
        try XMLDocumentParser.parse(Array(s.utf8), limits: limits)
    }

    @Test func buildsTreeWithTextAttributesAndCDATA() throws {
        let root = try parse(#"<?xml version="1.0" encoding="US-ASCII" ?>"# + "\r\n<a x=\"1\"><b>t&amp;&#65;</b><c><![CDATA[<raw>]]></c><d/></a>\n")
        #expect(root.name == "a")
        #expect(root.attribute("x") == "1")
        #expect(root.children.map(\.name) == ["b", "c", "d"])
        #expect(root.child("b")?.text == "t&A")
        #expect(root.child("c")?.text == "<raw>")
    }

    @Test func rejectsNonASCII() {
        #expect(throws: XMLParseError.nonASCII(offset: 3)) { try parse("<a>\u{e9}</a>") }
    }

    @Test func rejectsJunkAfterRoot() {
        #expect { try parse("<a></a><b/>") } throws: { error in
            guard case .malformed = error as? XMLParseError else { return false }
            return true
        }
        #expect { try parse("<a></a>junk") } throws: { ($0 as? XMLParseError).map { if case .malformed = $0 { true } else { false } } ?? false }
    }

    @Test func rejectsUnclosedAndTruncated() {
        for doc in ["<a><b></a>", "<a>", "<a><b>text", "", "<a x='1></a>"] {
            #expect(throws: XMLParseError.self) { try parse(doc) }
        }
    }

    @Test func rejectsDoctypeAndEntities() {
        #expect(throws: XMLParseError.doctypeNotAllowed) {
            try parse(#"<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>"#)
        }
        #expect(throws: XMLParseError.self) { try parse("<a>&nope;</a>") }
    }

    @Test func enforcesLimits() {
        let deep = String(repeating: "<x>", count: 40) + String(repeating: "</x>", count: 40)
        #expect(throws: XMLParseError.tooDeep(line: 1, limit: 16)) { try parse(deep) }
        let wide = "<a>" + String(repeating: "<b/>", count: 50) + "</a>"
        #expect(throws: XMLParseError.tooManyElements(limit: 10)) {
            try parse(wide, limits: XMLLimits(maxElements: 10))
        }
        #expect(throws: XMLParseError.tooLarge(bytes: 207, limit: 100)) {
            try parse(wide, limits: XMLLimits(maxDocumentBytes: 100))
        }
        #expect(throws: XMLParseError.empty) { try parse("") }
    }

    @Test func deepNestingBeyondLibxmlDefaultIsBoundedNotCrashing() {
        let n = 100_000
        let doc = String(repeating: "<x>", count: n) + String(repeating: "</x>", count: n)
        #expect(throws: XMLParseError.self) { try parse(doc, limits: XMLLimits(maxDocumentBytes: 1 << 21)) }
    }
}
