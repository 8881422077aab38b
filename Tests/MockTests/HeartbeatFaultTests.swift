import ARMSProtocol
import Foundation
import MockCore
import MockRS
import MockService
import NIOConcurrencyHelpers
import Testing

/// The heartbeat receiver's datagram fault hook: drop, duplicate and corrupt, over real
/// UDP inside a running service and straight into the receiver.
@Suite struct HeartbeatFaultTests {
    static let demo = SAProfile.demo.distributionID

    @Test func eachFaultActsOnTheDatagramAndIsCounted() async throws {
        let runtime = try await HeartbeatReceiverTests.startService()
        do {
            let planned = NIOLockedValueBox<[HeartbeatDatagramFault]>([.drop, .duplicate, .corrupt, .none])
            let seen = NIOLockedValueBox<[HeartbeatDatagramFaultContext]>([])
            runtime.setHeartbeatDatagramFault { context in
                seen.withLockedValue { $0.append(context) }
                return planned.withLockedValue { $0.isEmpty ? .none : $0.removeFirst() }
            }
            let target = runtime.heartbeatEndpoints[0]
            let datagram = HeartbeatReceiverTests.demoDatagram()

            try HeartbeatReceiverTests.send(datagram, to: target)
            try await waitUntil("the drop") { runtime.heartbeatOverview.faults == ["drop": 1] }
            #expect(runtime.heartbeatSnapshot(of: Self.demo)?.sampleCount == 0)

            try HeartbeatReceiverTests.send(datagram, to: target)
            try await waitUntil("both copies") { runtime.heartbeatSnapshot(of: Self.demo)?.sampleCount == 2 }

            try HeartbeatReceiverTests.send(datagram, to: target)
            try await waitUntil("the corrupted copy") { runtime.heartbeatSnapshot(of: Self.demo)?.rejected == ["bad-mac": 1] }

            try HeartbeatReceiverTests.send(datagram, to: target)
            try await waitUntil("the untouched datagram") { runtime.heartbeatSnapshot(of: Self.demo)?.sampleCount == 3 }

            let snapshot = try #require(runtime.heartbeatSnapshot(of: Self.demo))
            #expect(snapshot.faults == ["drop": 1, "duplicate": 1, "corrupt": 1])
            let overview = runtime.heartbeatOverview
            #expect(overview.faults == ["drop": 1, "duplicate": 1, "corrupt": 1])
            #expect(overview.accepted == 3 && overview.rejectedAll == ["bad-mac": 1])

            let contexts = seen.withLockedValue { $0 }
            #expect(contexts.count == 4)
            #expect(contexts.allSatisfy { $0.claimedSA == Self.demo && $0.byteCount == datagram.count })
            #expect(contexts.allSatisfy { $0.source?.hasPrefix("127.0.0.1:") == true })

            let outcomes = runtime.journal.entries { $0.role == .heartbeat }.map(\.outcome)
            #expect(outcomes == ["fault:drop", "fault:duplicate", "ok", "fault:corrupt", "bad-mac"])

            // The control API reports the same counters.
            let client = try ControlClient(url: runtime.controlURL)
            #expect(try await client.heartbeatOverview().faults == overview.faults)
            #expect(try await client.heartbeat(of: Self.demo)?.faults == snapshot.faults)
        } catch {
            await runtime.stop()
            throw error
        }
        await runtime.stop()
    }

    @Test func faultsAreChargedToProvisionedSAsOnlyAndJournaledThinly() throws {
        let journal = Journal()
        let receiver = HeartbeatReceiver(hosts: [], port: 0, fleet: FleetStore([.demo]), journal: journal, digests: SwiftCryptoDigests())
        receiver.setDatagramFault { _ in .drop }
        var stranger = HeartbeatBuilder(distributionID: DistributionID("0001-0000-0000-0000-0000-0000-0000-0077")!)
        try stranger.append(.cpuUsage(.init(index: 0, utilization: 1)))
        let unknown = stranger.sign(passphrase: "x", digests: SwiftCryptoDigests())
        for _ in 0..<40 { #expect(receiver.receive(unknown, source: "127.0.0.1:9").isEmpty) }
        #expect(receiver.receive([1, 2, 3], source: nil).isEmpty)
        #expect(receiver.receive(HeartbeatReceiverTests.demoDatagram(), source: nil).isEmpty)

        #expect(receiver.overview.faults == ["drop": 42])
        #expect(receiver.overview.sas == [Self.demo.description])
        #expect(receiver.snapshot(of: Self.demo)?.faults == ["drop": 1])
        #expect(receiver.overview.accepted == 0 && receiver.overview.rejectedAll.isEmpty)
        // 41 global drops journal the first 10, the 16th and the 32nd; the demo SA's one drop its own.
        let entries = journal.entries { $0.outcome == "fault:drop" }
        #expect(entries.count == 13)
        #expect(entries.filter { $0.sa == Self.demo.description }.count == 1)

        // Removing the hook lets datagrams through again.
        receiver.setDatagramFault(nil)
        #expect(receiver.receive(HeartbeatReceiverTests.demoDatagram(), source: nil) == [.accepted(Self.demo, first: true, warnings: 0)])
    }

    @Test func corruptionFlipsADigestByteOrTheLastOne() throws {
        let datagram = HeartbeatReceiverTests.demoDatagram()
        let corrupted = HeartbeatDatagramFault.corrupted(datagram)
        #expect(corrupted.count == datagram.count)
        #expect(datagram.indices.filter { datagram[$0] != corrupted[$0] } == [4])

        let receiver = HeartbeatReceiver(hosts: [], port: 0, fleet: FleetStore([.demo]), journal: Journal(), digests: SwiftCryptoDigests())
        receiver.setDatagramFault { _ in .corrupt }
        let outcomes = receiver.receive(datagram, source: nil)
        guard case .rejected(.badMAC, let sa, _, 1) = try #require(outcomes.first) else {
            Issue.record("expected bad-mac, got \(outcomes)")
            return
        }
        #expect(sa == Self.demo && outcomes.count == 1)
        #expect(HeartbeatDatagramFault.corrupted([7, 8]) == [7, 0xF7])
        #expect(HeartbeatDatagramFault.corrupted([]) == [])
    }
}
