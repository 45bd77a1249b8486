import Foundation
import Testing

@testable import SignoffCore

@Suite struct KeyCustodyTests {
    static let custodyID = UUID(uuidString: "0E000000-0000-0000-0000-0000000000CC")!
    let clerk = KeyCustody.Custodian(userID: Fixture.gridWorker.userID, name: "网格员 张三")
    let office = KeyCustody.Custodian(userID: nil, name: "村委会办公室 (village office)")

    var deposit: KeyCustody.Deposit {
        KeyCustody.Deposit(custodian: self.clerk, receiptNumber: "KY-0012", storagePlace: "村委会保险柜")
    }

    func open(_ opening: KeyCustody.Start.Opening, by actor: Principal = Fixture.gridWorker) throws(SignoffError)
        -> (KeyCustody, Effect)
    {
        let start = KeyCustody.Start(vehicleID: Fixture.vehicleID, pledgeID: Fixture.pledgeID, ownerPersonID: Fixture.ownerID,
                                     householdID: Fixture.householdID, gridPath: Fixture.grid1, opening: opening)
        return try KeyCustody.start(start, id: Self.custodyID, by: actor, at: Fixture.t0)
    }

    @Test func aDepositRecordsCustodianReceiptAndPlace() throws {
        let (custody, effect) = try self.open(.deposit(self.deposit))
        #expect(custody.state == .held)
        #expect(custody.custodian == self.clerk)
        #expect(custody.receiptNumber == "KY-0012")
        #expect(custody.storagePlace == "村委会保险柜")
        #expect(effect == Effect(
            event: "deposit", actingAs: Fixture.gridWorker.assignments[0],
            payload: ["custodian": ["user_id": .string(Fixture.gridWorker.userID.uuidString), "name": "网格员 张三"],
                      "receipt_number": "KY-0012", "storage_place": "村委会保险柜",
                      "vehicle_id": .string(Fixture.vehicleID.uuidString)]))
        #expect(custody.projection == Projection(unitPath: Fixture.grid1, subjectRef: Fixture.vehicleID))
    }

    @Test func aDepositNeedsItsFieldsAndAGridWorker() {
        var blankReceipt = self.deposit
        blankReceipt.receiptNumber = " "
        expectError(.invalidValue) { () throws(SignoffError) in try self.open(.deposit(blankReceipt)) }
        var blankPlace = self.deposit
        blankPlace.storagePlace = ""
        expectError(.invalidValue) { () throws(SignoffError) in try self.open(.deposit(blankPlace)) }
        expectError(.forbiddenRole) { () throws(SignoffError) in try self.open(.deposit(self.deposit), by: Fixture.healthOfficer) }
        expectError(.outOfJurisdiction) { () throws(SignoffError) in
            try self.open(.deposit(self.deposit), by: Fixture.foreignGridWorker)
        }
    }

    @Test func aTransferNamesBothCustodians() throws {
        var (custody, _) = try self.open(.deposit(self.deposit))
        let effect = try custody.handle(.transfer(to: self.office, storagePlace: "村委会档案柜", receiptNumber: nil),
                                        by: Fixture.branchSecretary, at: Fixture.t0.plus(days: 1))
        #expect(effect == Effect(
            event: "transfer", actingAs: Fixture.branchSecretary.assignments[0],
            payload: ["from": ["user_id": .string(Fixture.gridWorker.userID.uuidString), "name": "网格员 张三"],
                      "to": ["user_id": nil, "name": "村委会办公室 (village office)"],
                      "storage_place": "村委会档案柜", "receipt_number": "KY-0012"]))
        #expect(custody.custodian == self.office)
        #expect(custody.storagePlace == "村委会档案柜")
        #expect(custody.history.map(\.kind) == [.deposit, .transfer])
        #expect(custody.history[1].from == self.clerk)
        #expect(custody.history[1].to == self.office)
        expectRefused(&custody, .transfer(to: self.office, storagePlace: nil, receiptNumber: nil),
                      by: Fixture.gridWorker, at: Fixture.t0, .invalidValue)
        expectRefused(&custody, .transfer(to: self.clerk, storagePlace: nil, receiptNumber: nil),
                      by: Fixture.healthOfficer, at: Fixture.t0, .forbiddenRole)
    }

    @Test func anOpenCustodyRecordIsExclusivePerVehicle() throws {
        var (custody, _) = try self.open(.decline(note: nil))
        #expect(custody.exclusiveKey?.text == "vehicle:\(Fixture.vehicleID.uuidString)")
        _ = try custody.handle(.deposit(self.deposit), by: Fixture.gridWorker, at: Fixture.t0.plus(days: 1))
        #expect(custody.exclusiveKey?.text == "vehicle:\(Fixture.vehicleID.uuidString)")
        _ = try custody.handle(.returnToOwner(passEffective: true, pledgeReleased: false), by: Fixture.gridWorker,
                               at: Fixture.t0.plus(days: 15))
        #expect(custody.exclusiveKey == nil)
    }

    @Test func theKeyGoesBackOnlyOncePassOrReleaseAllowsIt() throws {
        var (custody, _) = try self.open(.deposit(self.deposit))
        let error = expectRefused(&custody, .returnToOwner(passEffective: false, pledgeReleased: false),
                                  by: Fixture.gridWorker, at: Fixture.t0, .invalidTransition)
        #expect(error?.extra["requires"] == "pass_effective_or_pledge_released")

        var afterPass = custody
        _ = try afterPass.handle(.returnToOwner(passEffective: true, pledgeReleased: false), by: Fixture.gridWorker,
                                 at: Fixture.t0.plus(days: 15))
        #expect(afterPass.state == .returned)
        #expect(afterPass.custodian == nil)

        let effect = try custody.handle(.returnToOwner(passEffective: false, pledgeReleased: true), by: Fixture.gridWorker,
                                        at: Fixture.t0.plus(days: 15))
        #expect(effect == Effect(
            event: "return_to_owner", actingAs: Fixture.gridWorker.assignments[0],
            payload: ["from": ["user_id": .string(Fixture.gridWorker.userID.uuidString), "name": "网格员 张三"],
                      "owner_person_id": .string(Fixture.ownerID.uuidString), "pass_effective": false,
                      "pledge_released": true]))
        expectRefused(&custody, .returnToOwner(passEffective: true, pledgeReleased: true), by: Fixture.gridWorker,
                      at: Fixture.t0, .invalidTransition)
        expectRefused(&custody, .transfer(to: self.office, storagePlace: nil, receiptNumber: nil), by: Fixture.gridWorker,
                      at: Fixture.t0, .invalidTransition)
    }

    @Test func aDeclineIsPublishedAndADepositMayFollow() throws {
        var (custody, effect) = try self.open(.decline(note: "车主拒交钥匙"))
        #expect(custody.state == .declined)
        #expect(effect == Effect(
            event: "decline", actingAs: Fixture.gridWorker.assignments[0],
            payload: ["vehicle_id": .string(Fixture.vehicleID.uuidString), "note": "车主拒交钥匙"],
            emitted: [DomainEvent(
                name: "vehicle.key_declined", key: "vehicle.key_declined:\(Self.custodyID.uuidString)",
                payload: ["custody_id": .string(Self.custodyID.uuidString), "vehicle_id": .string(Fixture.vehicleID.uuidString),
                          "pledge_id": .string(Fixture.pledgeID.uuidString),
                          "household_id": .string(Fixture.householdID.uuidString),
                          "person_id": .string(Fixture.ownerID.uuidString), "grid_path": "lianhe.v01.g01.w01",
                          "at": "2020-02-10T00:00:00Z"])]))
        expectRefused(&custody, .returnToOwner(passEffective: true, pledgeReleased: true), by: Fixture.gridWorker,
                      at: Fixture.t0, .invalidTransition)
        expectRefused(&custody, .deposit(self.deposit), by: Fixture.groupLeader, at: Fixture.t0, .forbiddenRole)

        let deposit = try custody.handle(.deposit(self.deposit), by: Fixture.gridWorker, at: Fixture.t0.plus(days: 2))
        #expect(deposit.event == "deposit")
        #expect(deposit.emitted.isEmpty)
        #expect(custody.state == .held)
        #expect(custody.history.map(\.kind) == [.decline, .deposit])
        expectRefused(&custody, .deposit(self.deposit), by: Fixture.gridWorker, at: Fixture.t0, .invalidTransition)
    }
}
