import ARMSProtocol
import DigestVectors
import MockCore
import Testing

/// The service side's digests (swift-crypto) against RFC 2202, RFC 1321 and the libarms
/// heartbeat capture.
@Suite struct SwiftCryptoDigestsTests {
    @Test func reproduceThePublishedVectors() {
        let fixture = DigestVectors.fixture()
        #expect(fixture.count > HeartbeatDatagram.prefixLength)
        #expect(DigestVectors.mismatches(of: SwiftCryptoDigests(), heartbeatFixture: fixture) == [])
    }

    @Test func emptyKey() {
        #expect(DigestVectors.code(SwiftCryptoDigests(), key: [], parts: [[]]) == "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d")
    }
}
