import Foundation
import Testing

@testable import SignoffCore

@Suite struct ParkingPledgeTests {
    func register(
        plate: String = "川Q12345", policy: VehiclePolicy = Fixture.policy(), by actor: Principal = Fixture.gridWorker
    ) throws(SignoffError) -> (ParkingPledge, Effect) {
        let start = ParkingPledge.Start(
            vehicleID: Fixture.vehicleID, plate: plate, ownerPersonID: Fixture.ownerID, householdID: Fixture.householdID,
            parkingPlace: "村委会院坝", gridPath: Fixture.grid1, policy: policy)
        return try ParkingPledge.start(start, id: Fixture.pledgeID, by: actor, at: Fixture.t0)
    }

    @Test func registeringStartsTheClearanceClock() throws {
        let (pledge, effect) = try self.register(plate: "川q 123-45")
        #expect(pledge.state == .parked)
        #expect(pledge.plate.text == "川Q12345")
        #expect(pledge.parkedSince == Fixture.t0)
        #expect(pledge.clearanceDueAt == Fixture.t0.plus(days: 14))
        #expect(!pledge.isCleared(at: Fixture.t0.plus(days: 13.9)))
        #expect(pledge.isCleared(at: Fixture.t0.plus(days: 14)))
        #expect(effect == Effect(
            event: "register", actingAs: Fixture.gridWorker.assignments[0],
            payload: ["vehicle_id": .string(Fixture.vehicleID.uuidString), "plate": "川Q12345",
                      "owner_person_id": .string(Fixture.ownerID.uuidString),
                      "household_id": .string(Fixture.householdID.uuidString), "parking_place": "村委会院坝",
                      "clearance_due_at": "2020-02-24T00:00:00Z"]))
        #expect(pledge.projection == Projection(
            unitPath: Fixture.grid1, dueAt: Fixture.t0.plus(days: 14), policyVersion: "test-v1",
            subjectRef: Fixture.vehicleID, label: "川Q12345"))
    }

    @Test func aParkedPledgeHoldsTheVehiclesExclusiveKeyUntilReleased() throws {
        var (pledge, _) = try self.register()
        #expect(pledge.exclusiveKey?.text == "vehicle:\(Fixture.vehicleID.uuidString)")
        _ = try pledge.handle(.release(passID: Fixture.applicationID), by: .system, at: Fixture.t0.plus(days: 15))
        #expect(pledge.exclusiveKey == nil)
    }

    @Test func registeringRefusesABadPlateOrAnOutsider() {
        let error = expectError(.invalidValue) { () throws(SignoffError) in try self.register(plate: "川Q1234") }
        #expect(error?.extra["field"] == "plate")
        expectError(.forbiddenRole) { () throws(SignoffError) in try self.register(by: Fixture.groupLeader) }
        expectError(.outOfJurisdiction) { () throws(SignoffError) in try self.register(by: Fixture.foreignGridWorker) }
    }

    @Test func aViolationRestartsTheClockAndIsPublished() throws {
        var (pledge, _) = try self.register()
        let seen = Fixture.t0.plus(days: 5)
        let effect = try pledge.handle(.recordViolation(note: "在村道上行驶"), by: Fixture.gridWorker, at: seen)
        #expect(pledge.clearanceDueAt == seen.plus(days: 14))
        #expect(pledge.clockStartedAt == seen)
        #expect(pledge.parkedSince == Fixture.t0)
        #expect(pledge.state == .parked)
        #expect(pledge.projection.dueAt == seen.plus(days: 14))
        #expect(effect == Effect(
            event: "record_violation", actingAs: Fixture.gridWorker.assignments[0],
            payload: ["number": 1, "note": "在村道上行驶", "clock_restarted": true,
                      "clearance_due_at": "2020-02-29T00:00:00Z"],
            emitted: [DomainEvent(
                name: "vehicle.violation", key: "vehicle.violation:\(Fixture.pledgeID.uuidString):1",
                payload: ["pledge_id": .string(Fixture.pledgeID.uuidString), "vehicle_id": .string(Fixture.vehicleID.uuidString),
                          "plate": "川Q12345", "household_id": .string(Fixture.householdID.uuidString),
                          "person_id": .string(Fixture.ownerID.uuidString), "grid_path": "lianhe.v01.g01.w01",
                          "at": "2020-02-15T00:00:00Z", "number": 1, "note": "在村道上行驶"])]))

        let second = try pledge.recordViolation(note: "again", by: Fixture.otherGridWorker, at: seen.plus(days: 1))
        #expect(second.emitted.map(\.key) == ["vehicle.violation:\(Fixture.pledgeID.uuidString):2"])
        #expect(pledge.violations.map(\.number) == [1, 2])
        #expect(pledge.violations[1].clearanceDueBefore == seen.plus(days: 14))
    }

    @Test func aViolationKeepsTheClockWhenPolicySaysSo() throws {
        var (pledge, _) = try self.register(policy: Fixture.policy(restarts: false))
        let effect = try pledge.recordViolation(note: "上路", by: Fixture.gridWorker, at: Fixture.t0.plus(days: 5))
        #expect(pledge.clearanceDueAt == Fixture.t0.plus(days: 14))
        #expect(effect.payload["clock_restarted"] == false)
        #expect(effect.emitted.count == 1)
    }

    @Test func aViolationNeedsANoteAndAGridWorkerOfTheGrid() throws {
        var (pledge, _) = try self.register()
        expectRefused(&pledge, .recordViolation(note: " "), by: Fixture.gridWorker, at: Fixture.t0, .invalidValue)
        expectRefused(&pledge, .recordViolation(note: "x"), by: Fixture.branchSecretary, at: Fixture.t0, .forbiddenRole)
        expectRefused(&pledge, .recordViolation(note: "x"), by: Fixture.foreignGridWorker, at: Fixture.t0, .outOfJurisdiction)
    }

    @Test func onlyTheServiceReleasesAPledge() throws {
        var (pledge, _) = try self.register()
        let passID = UUID()
        expectRefused(&pledge, .release(passID: passID), by: Fixture.chiefLeader, at: Fixture.t0, .forbiddenRole)
        // A user who happens to have no roles is still not the service.
        let nobody = Principal(userID: UUID(), displayName: "nobody", assignments: [])
        expectRefused(&pledge, .release(passID: passID), by: nobody, at: Fixture.t0, .forbiddenRole)

        let releasedAt = Fixture.t0.plus(days: 15)
        let effect = try pledge.handle(.release(passID: passID), by: .system, at: releasedAt)
        #expect(effect == Effect(event: "release", actingAs: nil, payload: ["pass_id": .string(passID.uuidString)]))
        #expect(pledge.state == .released)
        #expect(pledge.releasedAt == releasedAt)
        #expect(pledge.releasedByPass == passID)
        #expect(pledge.projection.dueAt == nil)
        expectRefused(&pledge, .release(passID: passID), by: .system, at: releasedAt, .invalidTransition)
        expectRefused(&pledge, .recordViolation(note: "x"), by: Fixture.gridWorker, at: releasedAt, .invalidTransition)
    }
}
