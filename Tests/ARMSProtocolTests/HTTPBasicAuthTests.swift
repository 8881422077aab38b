import Testing
@testable import ARMSProtocol

@Suite struct HTTPBasicAuthTests {
    @Test func headerValueForTheCapturedClients() {
        let ls = BasicCredentials(distributionID: DistributionID("0001-0000-0000-0000-0000-0000-0000-0001")!, key: "testkey123")
        #expect(ls.headerValue == "Basic MDAwMS0wMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAxOnRlc3RrZXkxMjM=")
        let rs = BasicCredentials(distributionID: DistributionID("0001-0000-1234-0056-0000-0000-0000-0001")!, key: "rs-secret")
        #expect(rs.headerValue == "Basic MDAwMS0wMDAwLTEyMzQtMDA1Ni0wMDAwLTAwMDAtMDAwMC0wMDAxOnJzLXNlY3JldA==")
        #expect(rs.user == "0001-0000-1234-0056-0000-0000-0000-0001")
    }

    @Test func distributionIDIsWrittenUpperCase() {
        let c = BasicCredentials(distributionID: DistributionID("0001-0000-abcd-0056-0000-0000-0000-00ff")!, key: "k")
        #expect(c.user == "0001-0000-ABCD-0056-0000-0000-0000-00FF")
    }

    @Test func parsesBack() throws {
        let c = try BasicCredentials(parsingHeaderValue: "Basic MDAwMS0wMDAwLTEyMzQtMDA1Ni0wMDAwLTAwMDAtMDAwMC0wMDAxOnJzLXNlY3JldA==")
        #expect(c == BasicCredentials(user: "0001-0000-1234-0056-0000-0000-0000-0001", password: "rs-secret"))
    }

    @Test(arguments: [
        BasicCredentials(user: "a", password: "b:c:d"),
        BasicCredentials(user: "", password: ""),
        BasicCredentials(user: "dist", password: ""),
        BasicCredentials(user: "ü", password: "ключ"),
    ])
    func roundTrips(credentials: BasicCredentials) throws {
        #expect(try BasicCredentials(parsingHeaderValue: credentials.headerValue) == credentials)
    }

    @Test func splitsAtTheFirstColon() throws {
        let value = "Basic " + Base64.encodeToString(Array("user:pa:ss".utf8))
        let c = try BasicCredentials(parsingHeaderValue: value)
        #expect(c.user == "user" && c.password == "pa:ss")
    }

    @Test func schemeAnyCaseAndSurroundingSpaces() throws {
        let encoded = Base64.encodeToString(Array("u:p".utf8))
        for value in ["basic \(encoded)", "BASIC \(encoded)", "  Basic   \(encoded)  ", "Basic\t\(encoded)"] {
            #expect(try BasicCredentials(parsingHeaderValue: value) == BasicCredentials(user: "u", password: "p"))
        }
    }

    @Test func errors() {
        #expect(throws: BasicAuthError.notBasic) { try BasicCredentials(parsingHeaderValue: "Bearer abc") }
        #expect(throws: BasicAuthError.notBasic) { try BasicCredentials(parsingHeaderValue: "BasicdTpw") }
        #expect(throws: BasicAuthError.notBasic) { try BasicCredentials(parsingHeaderValue: "") }
        #expect(throws: BasicAuthError.emptyCredentials) { try BasicCredentials(parsingHeaderValue: "Basic") }
        #expect(throws: BasicAuthError.emptyCredentials) { try BasicCredentials(parsingHeaderValue: "Basic   ") }
        #expect(throws: BasicAuthError.invalidBase64(.invalidCharacter(0x21, offset: 0))) {
            try BasicCredentials(parsingHeaderValue: "Basic !!!!")
        }
        #expect(throws: BasicAuthError.invalidBase64(.badLength(5))) { try BasicCredentials(parsingHeaderValue: "Basic dTpwc") }
        #expect(throws: BasicAuthError.missingColon) {
            try BasicCredentials(parsingHeaderValue: "Basic " + Base64.encodeToString(Array("nocolon".utf8)))
        }
        #expect(throws: BasicAuthError.notUTF8) {
            try BasicCredentials(parsingHeaderValue: "Basic " + Base64.encodeToString([0xFF, 0x3A, 0x41]))
        }
        #expect(throws: BasicAuthError.notUTF8) {
            try BasicCredentials(parsingHeaderValue: "Basic " + Base64.encodeToString([0x41, 0x3A, 0xC3]))
        }
    }
}
