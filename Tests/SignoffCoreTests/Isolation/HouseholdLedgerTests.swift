import Foundation
import Testing
@testable import SignoffCore

/// The household's ledger record: each entry and credit a transition, the rows emitted for the store.
@Suite struct HouseholdLedgerTests {
    static func ledger(points: Int = 0, entries: Int = 0) throws -> HouseholdLedger {
        try HouseholdLedger.start(.init(householdID: Fixture.householdID, gridPath: Fixture.grid1, infractionTotal: points,
                                        entryCount: entries),
                                  id: Fixture.householdID, by: .system, at: Fixture.t0).0
    }

    static func credit(points: Int = 3, household: UUID = Fixture.householdID) -> AutonomyCredit {
        AutonomyCredit(id: UUID(), householdID: household, personID: nil, gridPath: Fixture.grid1, kind: AutonomyCreditKind.allCases[0],
                       points: points, note: "主动报告", recordedAt: Fixture.t0, recordedBy: Fixture.gridWorker.userID,
                       recordedByName: Fixture.gridWorker.displayName, policyVersion: "iso-test-v1")
    }

    @Test func opensWithTheTotalsStoredBeforeAndTheHouseholdsID() throws {
        let (ledger, effect) = try HouseholdLedger.start(
            .init(householdID: Fixture.householdID, gridPath: Fixture.grid1, infractionTotal: 15, entryCount: 2, creditTotal: 4, creditCount: 1),
            id: Fixture.householdID, by: .system, at: Fixture.t0)
        #expect(ledger.infractionTotal == 15 && ledger.creditTotal == 4)
        #expect(effect.event == "open")
        #expect(effect.payload["infraction_total"] == .int(15))
        expectError(.invalidValue) { () throws(SignoffError) in
            try HouseholdLedger.start(.init(householdID: Fixture.householdID, gridPath: Fixture.grid1), id: UUID(), by: .system, at: Fixture.t0)
        }
    }

    @Test func anEntryAddsItsPointsAndEmitsItsRow() throws {
        var ledger = try Self.ledger(points: 5, entries: 1)
        let entry = Fixture.infraction(.familyNotSeparated, points: 10)
        let effect = try ledger.handle(.recordInfraction(entry), by: Fixture.gridWorker, at: Fixture.t0)
        #expect(ledger.infractionTotal == 15 && ledger.entryCount == 2 && ledger.creditTotal == 0)
        #expect(effect.event == "record_infraction")
        #expect(effect.actingAs?.role == .gridWorker)
        #expect(effect.payload["infraction_total"] == .int(15))
        #expect(effect.payload["entry"] == entry.json)
        #expect(effect.emitted.map(\.name) == [HouseholdLedger.infractionRecordedEvent])
        #expect(try HouseholdLedger.entry(in: effect.emitted[0]) == entry)
        #expect(try HouseholdLedger.credit(in: effect.emitted[0]) == nil)
    }

    @Test func aCreditNeverTouchesThePoints() throws {
        var ledger = try Self.ledger(points: 5, entries: 1)
        let credit = Self.credit()
        let effect = try ledger.handle(.recordCredit(credit), by: Fixture.gridWorker, at: Fixture.t0)
        #expect(ledger.infractionTotal == 5 && ledger.creditTotal == 3 && ledger.creditCount == 1)
        #expect(effect.event == "record_credit")
        #expect(try HouseholdLedger.credit(in: effect.emitted[0]) == credit)
    }

    @Test func theServiceRecordsOnlyEntriesOfPublishedFacts() throws {
        var ledger = try Self.ledger()
        expectRefused(&ledger, .recordInfraction(Fixture.infraction(.familyNotSeparated)), by: .system, at: Fixture.t0, .forbiddenRole)
        expectRefused(&ledger, .recordCredit(Self.credit()), by: .system, at: Fixture.t0, .forbiddenRole)
        let scored = try ledger.handle(.recordInfraction(Fixture.infraction(.keyNotHandedIn, sourceKey: "vehicle.key_declined:1")),
                                       by: .system, at: Fixture.t0)
        #expect(scored.actingAs == nil)
        #expect(ledger.infractionTotal == 5)
    }

    @Test func entriesOfAnotherHouseholdOrGridOrByAnotherGridAreRefused() throws {
        var ledger = try Self.ledger()
        expectRefused(&ledger, .recordInfraction(Fixture.infraction(.familyNotSeparated, household: Fixture.otherHouseholdID)),
                      by: Fixture.gridWorker, at: Fixture.t0, .invalidValue)
        expectRefused(&ledger, .recordCredit(Self.credit(household: Fixture.otherHouseholdID)), by: Fixture.gridWorker, at: Fixture.t0, .invalidValue)
        var moved = Fixture.infraction(.familyNotSeparated)
        moved.gridPath = Fixture.grid2
        expectRefused(&ledger, .recordInfraction(moved), by: Fixture.gridWorker, at: Fixture.t0, .invalidValue)
        expectRefused(&ledger, .recordInfraction(Fixture.infraction(.familyNotSeparated)), by: Fixture.foreignGridWorker,
                      at: Fixture.t0, .outOfJurisdiction)
    }
}
