import Testing
@testable import ARMSProtocol

@Suite struct DistributionIDTests {
    @Test func parsesAnyCaseAndFormatsUpper() throws {
        let id = try DistributionID(parsing: "0000-0123-4567-8901-2345-6789-dead-beef")
        #expect(id.version == 0)
        #expect(id.vendorCode == 0x0123_4567)
        #expect(id.saType == 0x8901)
        #expect(id.saCode == 0x2345_6789_DEAD_BEEF)
        #expect(id.description == "0000-0123-4567-8901-2345-6789-DEAD-BEEF")
    }

    @Test func bytesRoundTrip() throws {
        let id = try DistributionID(parsing: "0001-0000-1234-0080-0000-0000-DEAD-BEEF")
        #expect(id.bytes == [0x00, 0x01, 0x00, 0x00, 0x12, 0x34, 0x00, 0x80, 0, 0, 0, 0, 0xDE, 0xAD, 0xBE, 0xEF])
        #expect(try DistributionID(bytes: id.bytes) == id)
    }

    @Test(arguments: [
        ("", DistributionID.ParseError.wrongLength(0)),
        ("0001-0000-1234-0080-0000-0000-DEAD", .wrongLength(34)),
        ("0001-0000-1234-0080-0000-0000-DEAD-BEE", .badGroup(index: 7, text: "BEE")),
        ("0001-0000-1234-0080-0000-0000-DEAD-BEEG", .badGroup(index: 7, text: "BEEG")),
        ("0001_0000_1234_0080_0000_0000_DEAD_BEEF", .wrongGroupCount(1)),
        ("00001-000-1234-0080-0000-0000-DEAD-BEEF", .badGroup(index: 0, text: "00001")),
        ("0001-0000-1234-0080-0000-0000-DEAD-BEEF-0000", .wrongLength(44)),
    ])
    func rejectsBadIDs(text: String, error: DistributionID.ParseError) {
        #expect(throws: error) { try DistributionID(parsing: text) }
    }
}
