import Foundation
import Testing

@testable import SignoffCore

@Suite struct InfractionLedgerTests {
    func request(_ kind: InfractionKind, note: String? = "去了邻居家") -> InfractionLedger.Request {
        InfractionLedger.Request(householdID: Fixture.householdID, personID: Fixture.returneePersonID,
                                 gridPath: Fixture.grid1, kind: kind, note: note)
    }

    @Test func aGridWorkerRecordsAnInfractionAtThePolicysWeight() throws {
        let id = UUID()
        let entry = try InfractionLedger.record(self.request(.visitedOtherHousehold), policy: Fixture.isolationPolicy(),
                                                id: id, by: Fixture.gridWorker, at: Fixture.t0)
        #expect(entry == InfractionEntry(
            id: id, householdID: Fixture.householdID, personID: Fixture.returneePersonID, gridPath: Fixture.grid1,
            kind: .visitedOtherHousehold, points: 10, note: "去了邻居家", sourceKey: nil, recordedAt: Fixture.t0,
            recordedBy: Fixture.gridWorker.userID, recordedByName: Fixture.gridWorker.displayName,
            policyVersion: "iso-test-v1"))
        let blank = try InfractionLedger.record(self.request(.noIsolationBarrier, note: "  "), policy: Fixture.isolationPolicy(),
                                                id: UUID(), by: Fixture.gridWorker, at: Fixture.t0)
        #expect(blank.note == nil)
        #expect(blank.points == 5)
    }

    @Test func recordingByHandNeedsAGridWorkerOfTheGrid() {
        let policy = Fixture.isolationPolicy()
        expectError(.forbiddenRole) { () throws(SignoffError) in
            try InfractionLedger.record(self.request(.familyNotSeparated), policy: policy, id: UUID(),
                                        by: Fixture.healthOfficer, at: Fixture.t0)
        }
        expectError(.outOfJurisdiction) { () throws(SignoffError) in
            try InfractionLedger.record(self.request(.familyNotSeparated), policy: policy, id: UUID(),
                                        by: Fixture.foreignGridWorker, at: Fixture.t0)
        }
    }

    @Test(arguments: [InfractionKind.vehicleOnRoadBeforeClearance, .keyNotHandedIn])
    func vehicleInfractionsAreNotRecordedByHand(kind: InfractionKind) {
        let error = expectError(.invalidValue) { () throws(SignoffError) in
            try InfractionLedger.record(self.request(kind), policy: Fixture.isolationPolicy(), id: UUID(),
                                        by: Fixture.gridWorker, at: Fixture.t0)
        }
        #expect(error?.extra["field"] == "kind")
        #expect(error?.detail.contains(kind.rawValue) == true)
    }

    @Test func aVehicleViolationScoresItsPointsUnderTheEventsKey() throws {
        // The event exactly as the parking pledge publishes it.
        var pledge = try ParkingPledge.start(
            ParkingPledge.Start(vehicleID: Fixture.vehicleID, plate: "川Q12345", ownerPersonID: Fixture.ownerID,
                                householdID: Fixture.householdID, parkingPlace: "院坝", gridPath: Fixture.grid1,
                                policy: Fixture.policy()),
            id: Fixture.pledgeID, by: Fixture.gridWorker, at: Fixture.t0).0
        let event = try #require(try pledge.recordViolation(note: "在村道上行驶", by: Fixture.gridWorker, at: Fixture.t0).emitted.first)
        let id = UUID()
        let consumed = Fixture.t0.plus(hours: 1)
        let entry = try #require(try InfractionLedger.entry(for: event, policy: Fixture.isolationPolicy(), id: id, at: consumed))
        #expect(entry == InfractionEntry(
            id: id, householdID: Fixture.householdID, personID: Fixture.ownerID, gridPath: Fixture.grid1,
            kind: .vehicleOnRoadBeforeClearance, points: 5, note: "川Q12345: 在村道上行驶",
            sourceKey: "vehicle.violation:\(Fixture.pledgeID.uuidString):1", recordedAt: consumed,
            recordedBy: Principal.systemUserID, recordedByName: Principal.system.displayName, policyVersion: "iso-test-v1"))
        // Delivered twice, the same fact carries the same key: the ledger's unique index keeps one entry.
        let again = try #require(try InfractionLedger.entry(for: event, policy: Fixture.isolationPolicy(), id: UUID(), at: consumed))
        #expect(again.sourceKey == entry.sourceKey)
    }

    @Test func aKeyDeclineScoresItsPointsUnderTheEventsKey() throws {
        let custodyID = UUID()
        let (_, effect) = try KeyCustody.start(
            KeyCustody.Start(vehicleID: Fixture.vehicleID, pledgeID: Fixture.pledgeID, ownerPersonID: Fixture.ownerID,
                             householdID: Fixture.householdID, gridPath: Fixture.grid1, opening: .decline(note: "不愿交")),
            id: custodyID, by: Fixture.gridWorker, at: Fixture.t0)
        let event = try #require(effect.emitted.first)
        let entry = try #require(try InfractionLedger.entry(for: event, policy: Fixture.isolationPolicy(), id: UUID(), at: Fixture.t0))
        #expect(entry.kind == .keyNotHandedIn)
        #expect(entry.points == 5)
        #expect(entry.householdID == Fixture.householdID)
        #expect(entry.personID == Fixture.ownerID)
        #expect(entry.gridPath == Fixture.grid1)
        #expect(entry.sourceKey == "vehicle.key_declined:\(custodyID.uuidString)")
        #expect(entry.recordedBy == Principal.systemUserID)
    }

    @Test func otherEventsScoreNothingAndBrokenOnesAreRefused() throws {
        let other = DomainEvent(name: "vehicle.pass_effective", key: "k", payload: [:])
        #expect(try InfractionLedger.entry(for: other, policy: Fixture.isolationPolicy(), id: UUID(), at: Fixture.t0) == nil)
        let broken = DomainEvent(name: "vehicle.violation", key: "vehicle.violation:x:1",
                                 payload: ["household_id": "not-a-uuid", "grid_path": "lianhe.v01.g01.w01"])
        let error = expectError(.invalidValue) { () throws(SignoffError) in
            try InfractionLedger.entry(for: broken, policy: Fixture.isolationPolicy(), id: UUID(), at: Fixture.t0)
        }
        #expect(error?.extra["field"] == "household_id")
    }

    @Test func theTotalIsTheSumOfTheEntries() {
        #expect(InfractionLedger.total(of: []) == 0)
        #expect(InfractionLedger.total(of: [Fixture.infraction(.familyMemberVisited),
                                            Fixture.infraction(.visitedOtherHousehold, points: 10)]) == 15)
    }

    @Test func autonomyCreditIsItsOwnLedger() throws {
        let request = AutonomyCreditLedger.Request(householdID: Fixture.householdID, personID: nil, gridPath: Fixture.grid1,
                                                   kind: .preventionWork, note: "参与卡口值守")
        let credit = try AutonomyCreditLedger.record(request, policy: Fixture.isolationPolicy(), id: UUID(),
                                                     by: Fixture.gridWorker, at: Fixture.t0)
        #expect(credit.points == 10)
        #expect(credit.note == "参与卡口值守")
        #expect(credit.policyVersion == "iso-test-v1")
        #expect(AutonomyCreditLedger.total(of: [credit, credit]) == 20)
        var blank = request
        blank.note = " "
        expectError(.invalidValue) { () throws(SignoffError) in
            try AutonomyCreditLedger.record(blank, policy: Fixture.isolationPolicy(), id: UUID(), by: Fixture.gridWorker, at: Fixture.t0)
        }
        expectError(.outOfJurisdiction) { () throws(SignoffError) in
            try AutonomyCreditLedger.record(request, policy: Fixture.isolationPolicy(), id: UUID(), by: Fixture.foreignGridWorker,
                                            at: Fixture.t0)
        }
    }
}
