import Testing
@testable import MockCore

@Suite struct JournalTests {
    @Test func numbersEntriesAndDropsOldestWhenFull() {
        let journal = Journal(capacity: 3)
        for i in 0..<5 {
            journal.append(JournalEntry(time: Double(i), role: .ls, outcome: "ok"))
        }
        #expect(journal.entries().map(\.sequence) == [3, 4, 5])
        #expect(journal.droppedCount == 2)
        #expect(journal.entries(after: 4).map(\.sequence) == [5])
        #expect(journal.count { $0.time >= 3 } == 2)
        #expect(journal.nextSequence == 6)
        // Below the oldest kept, at the newest, past the newest, negative.
        #expect(journal.entries(after: 1).map(\.sequence) == [3, 4, 5])
        #expect(journal.entries(after: 5).isEmpty && journal.entries(after: 99).isEmpty)
        #expect(journal.entries(after: -7).map(\.sequence) == [3, 4, 5])
        #expect(journal.entries(after: 3) { $0.time == 4 }.map(\.sequence) == [5])
    }

    @Test func aFullJournalKeepsTheNewestAcrossManyWraps() {
        let journal = Journal(capacity: 1000)
        for i in 0..<25_000 {
            journal.append(JournalEntry(time: Double(i), role: .rs, outcome: "ok"))
        }
        let kept = journal.entries()
        #expect(kept.count == 1000 && kept.first?.sequence == 24_001 && kept.last?.sequence == 25_000)
        #expect(zip(kept, kept.dropFirst()).allSatisfy { $0.sequence + 1 == $1.sequence })
        #expect(journal.droppedCount == 24_000)
        #expect(journal.entries(after: 24_990).map(\.time) == (24_990..<25_000).map(Double.init))
    }

    @Test func fleetStoreAddsUpdatesRemoves() {
        let store = FleetStore([.demo])
        #expect(store.count == 1)
        #expect(store[SAProfile.demo.distributionID]?.lsKey == "demo-ls-key")
        store.update(SAProfile.demo.distributionID) { $0.rsKey = "changed" }
        #expect(store[SAProfile.demo.distributionID]?.rsKey == "changed")
        #expect(store.remove(SAProfile.demo.distributionID) != nil)
        #expect(store.all.isEmpty)
    }
}
