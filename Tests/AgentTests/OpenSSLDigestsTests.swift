import Agent
import ARMSProtocol
import DigestVectors
import Testing

/// The agent's digests (system OpenSSL) against RFC 2202, RFC 1321 and the libarms
/// heartbeat capture.
@Suite struct OpenSSLDigestsTests {
    @Test func reproduceThePublishedVectors() {
        let fixture = DigestVectors.fixture()
        #expect(fixture.count > HeartbeatDatagram.prefixLength)
        #expect(DigestVectors.mismatches(of: OpenSSLDigests(), heartbeatFixture: fixture) == [])
    }

    @Test func emptyAndLongKeysAndOneKeyFromSeveralTasks() async {
        // An empty passphrase is a valid (if poor) HMAC key; RFC 2104 hashes keys over 64 bytes.
        let digests = OpenSSLDigests()
        let empty = DigestVectors.code(digests, key: [], parts: [[]])
        #expect(empty == "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d")
        // One prepared key used from several tasks at once gives the same code every time.
        let key = Array(repeating: UInt8(0xAA), count: 80)
        let data = Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)
        let codes = await withTaskGroup(of: String.self) { group in
            for _ in 0..<8 { group.addTask { DigestVectors.code(digests, key: key, parts: [data]) } }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(codes == Array(repeating: "aa4ae5e15272d00e95705637ce8a3b55ed402112", count: 8))
    }
}
