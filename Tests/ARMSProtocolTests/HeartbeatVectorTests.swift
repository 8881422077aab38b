import Foundation
import Testing
@testable import ARMSProtocol

/// Shared inputs for the heartbeat tests: the vectors of heartbeat.md §8 and the
/// captured libarms 5.33 datagram.
enum HeartbeatTestData {
    /// Parses whitespace-separated hex; on lines starting with a 4-digit offset
    /// followed by two spaces (a hex dump), the offset is dropped.
    static func bytes(hex text: String) -> [UInt8] {
        var out = [UInt8]()
        for line in text.split(separator: "\n") {
            var tokens = line.split(separator: " ")
            if line.count > 6, line.dropFirst(4).hasPrefix("  ") { tokens.removeFirst() }
            for token in tokens { out.append(UInt8(token, radix: 16)!) }
        }
        return out
    }

    static func hexString(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    static let passphrase = "s3cret-passphrase"
    static let workedExampleID = DistributionID("0001-0000-1234-0080-0000-0000-DEAD-BEEF")!
    static let fixtureID = DistributionID("0001-0000-1234-0056-0000-0000-0000-0001")!

    /// The inputs of the worked example, in the order they are set.
    static let workedExampleStatistics: [HeartbeatStatistic] = [
        .cpuUsage(.init(index: 0, utilization: 12)),
        .cpuDetail(.init(index: 0, idle: 88, interrupt: 1, user: 7, system: 3, other: 1)),
        .memory(.init(index: 0, used: 134_217_728, free: 402_653_184)),
        .disk(.init(index: 0, used: 1_073_741_824, free: 3_221_225_472)),
        .trafficRate(.init(index: 0, inOctets: 12500, outOctets: 3400, inPackets: 20, outPackets: 15,
                           inErrors: 0, outErrors: 0)),
        .radioWave(.init(index: 0, status: .running, maximum: 80, minimum: 40, average: 60)),
    ]

    /// The final datagram of heartbeat.md §8, copied from the hex dump.
    static let workedExample = bytes(hex: """
        0000  00 01 00 14 df c0 f0 32 f8 3f 62 41 57 89 8e 1c
        0010  b9 df 67 37 9f 4e 2d d9 00 11 00 10 00 01 00 00
        0020  12 34 00 80 00 00 00 00 de ad be ef 00 33 00 03
        0030  00 00 0c 00 34 00 07 00 00 58 01 07 03 01 00 35
        0040  00 12 00 00 00 00 00 00 08 00 00 00 00 00 00 00
        0050  18 00 00 00 00 37 00 12 00 00 00 00 00 00 40 00
        0060  00 00 00 00 00 00 c0 00 00 00 00 39 00 32 00 00
        0070  00 00 00 00 00 00 30 d4 00 00 00 00 00 00 0d 48
        0080  00 00 00 00 00 00 00 14 00 00 00 00 00 00 00 0f
        0090  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
        00a0  00 2c 00 06 00 00 00 50 28 3c
        """)

    /// The 44-byte minimal datagram of heartbeat.md §8.
    static let minimal = bytes(hex: """
        00 01 00 14 91 cb f4 22 da c2 b6 51 52 ea 9f 0f ce 7b 3d 85 54 12 9d a5
        00 11 00 10 00 01 00 00 12 34 00 80 00 00 00 00 de ad be ef
        """)

    /// What simple-armsd sets on every tick, in its order (heartbeat.md §5, §8).
    static let fixtureStatistics: [HeartbeatStatistic] = [
        .cpuUsage(.init(index: 0, utilization: 50)),
        .memory(.init(index: 0, used: 65536, free: 32768)),
        .trafficRate(.init(index: 0, inOctets: 1024, outOctets: 2048, inPackets: 1, outPackets: 2,
                           inErrors: 0, outErrors: 0)),
        .trafficRate(.init(index: 1, inOctets: 2048, outOctets: 1024, inPackets: 2, outPackets: 1,
                           inErrors: 0, outErrors: 0)),
    ]

    /// Tests/Fixtures/libarms-5.33-heartbeat.bin.
    static func fixture() throws -> [UInt8] {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/libarms-5.33-heartbeat.bin")
        return Array(try Data(contentsOf: url))
    }

    /// The 44-byte prefix of `id` with a zero digest, then `tail` (unsigned,
    /// for decoder tests that do not look at the digest).
    static func unsigned(_ tail: [UInt8], id: DistributionID = workedExampleID) -> [UInt8] {
        HeartbeatBuilder(distributionID: id).unsignedDatagram + tail
    }
}

@Suite struct HeartbeatVectorTests {
    typealias T = HeartbeatTestData

    @Test func workedExampleIsReproducedByteForByte() throws {
        var builder = HeartbeatBuilder(distributionID: T.workedExampleID)
        for statistic in T.workedExampleStatistics { try builder.append(statistic) }
        let datagram = builder.sign(passphrase: T.passphrase, digests: testDigests)

        #expect(datagram.count == 170)
        #expect(T.hexString(datagram[4..<24]) == "dfc0f032f83f624157898e1cb9df67379f4e2dd9")
        #expect(datagram == T.workedExample)
        // The unsigned form differs only in the zeroed digest.
        #expect(builder.unsignedDatagram[4..<24].allSatisfy { $0 == 0 })
        #expect(builder.unsignedDatagram[24...] == T.workedExample[24...])
    }

    @Test func workedExampleDecodesAndVerifies() throws {
        let datagram = try HeartbeatDatagram(decoding: T.workedExample)
        #expect(datagram.distributionID == T.workedExampleID)
        #expect(datagram.statistics == T.workedExampleStatistics)
        #expect(datagram.unknownStatistics.isEmpty)
        #expect(datagram.warnings.isEmpty)
        #expect(T.hexString(datagram.digest) == "dfc0f032f83f624157898e1cb9df67379f4e2dd9")
        #expect(datagram.verify(passphrase: T.passphrase, digests: testDigests))
        #expect(!datagram.verify(passphrase: "s3cret-passphrasE", digests: testDigests))
    }

    @Test func minimalDatagramIsReproducedAndDecoded() throws {
        let built = HeartbeatBuilder(distributionID: T.workedExampleID).sign(passphrase: T.passphrase, digests: testDigests)
        #expect(built.count == 44)
        #expect(built == T.minimal)

        let datagram = try HeartbeatDatagram(decoding: T.minimal)
        #expect(datagram.distributionID == T.workedExampleID)
        #expect(datagram.statistics.isEmpty)
        #expect(datagram.verify(passphrase: T.passphrase, digests: testDigests))
    }

    @Test func libarmsCaptureDecodesToTheSampleDaemonValues() throws {
        let bytes = try T.fixture()
        #expect(bytes.count == 181)

        let datagram = try HeartbeatDatagram(decoding: bytes)
        #expect(datagram.distributionID == T.fixtureID)
        #expect(datagram.distributionID.description == "0001-0000-1234-0056-0000-0000-0000-0001")
        #expect(datagram.statistics == T.fixtureStatistics)
        #expect(datagram.statistics.map(\.index) == [0, 0, 0, 1])
        #expect(datagram.warnings.isEmpty)
        #expect(T.hexString(datagram.digest) == "b964245bd659a22f860b8528492793596a903811")
    }

    @Test func libarmsCaptureVerifiesOnlyWithItsPassphrase() throws {
        let datagram = try HeartbeatDatagram(decoding: try T.fixture())
        #expect(datagram.verify(passphrase: "s3cret-passphrase", digests: testDigests))
        #expect(!datagram.verify(passphrase: "v6-passphrase", digests: testDigests))
        #expect(!datagram.verify(passphrase: "", digests: testDigests))
        #expect(datagram.verify(anyOf: ["v6-passphrase", "s3cret-passphrase"], digests: testDigests))
        #expect(datagram.verify(anyOf: ["s3cret-passphrase", "v6-passphrase"], digests: testDigests))
        #expect(!datagram.verify(anyOf: ["v6-passphrase", "s3cret-passphrase "], digests: testDigests))
        #expect(!datagram.verify(anyOf: [String](), digests: testDigests))
    }

    @Test func encoderReproducesTheLibarmsCapture() throws {
        var builder = HeartbeatBuilder(distributionID: T.fixtureID)
        for statistic in T.fixtureStatistics { try builder.append(statistic) }
        #expect(builder.sign(passphrase: "s3cret-passphrase", digests: testDigests) == (try T.fixture()))
    }

    @Test func tamperingBreaksTheDigest() throws {
        // A flipped bit in the id, in a statistic value or in the last byte:
        // still well-formed, no longer authentic.
        for offset in [30, 43, 50, 169] {
            var bytes = T.workedExample
            bytes[offset] ^= 0x01
            let datagram = try HeartbeatDatagram(decoding: bytes)
            #expect(!datagram.verify(passphrase: T.passphrase, digests: testDigests), "flip at \(offset)")
        }
        // A changed digest byte fails as well.
        for offset in [4, 23] {
            var bytes = T.workedExample
            bytes[offset] ^= 0x80
            #expect(!(try HeartbeatDatagram(decoding: bytes)).verify(passphrase: T.passphrase, digests: testDigests))
        }
    }
}
