import Testing
@testable import ARMSProtocol

@Suite struct Base64Tests {
    @Test(arguments: ["", "f", "fo", "foo", "foob", "fooba", "foobar"])
    func roundTrips(text: String) throws {
        let encoded = Base64.encodeToString(Array(text.utf8))
        #expect(try Base64.decode(encoded) == Array(text.utf8))
    }

    @Test func knownVectors() throws {
        #expect(Base64.encodeToString(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64.encodeToString(Array("fo".utf8)) == "Zm8=")
        #expect(try Base64.decode("cGFyYW0=") == Array("param".utf8))
    }

    @Test func toleratesOnlyCRLF() throws {
        #expect(try Base64.decode("Zm9v\r\nYmFy\n") == Array("foobar".utf8))
        #expect(throws: Base64.DecodeError.invalidCharacter(0x20, offset: 4)) { try Base64.decode("Zm9v YmFy") }
        #expect(throws: Base64.DecodeError.invalidCharacter(0x09, offset: 4)) { try Base64.decode("Zm9v\tYmFy") }
    }

    @Test func rejectsBadShapes() {
        #expect(throws: Base64.DecodeError.badLength(5)) { try Base64.decode("Zm9vY") }
        #expect(throws: Base64.DecodeError.misplacedPadding(offset: 3)) { try Base64.decode("Zm=v") }
        #expect(throws: Base64.DecodeError.misplacedPadding(offset: 3)) { try Base64.decode("Z===") }
    }
}
