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
