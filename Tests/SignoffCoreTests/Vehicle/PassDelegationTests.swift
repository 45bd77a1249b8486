import Foundation
import Testing

@testable import SignoffCore

/// 代签 and 转交 on the pure machines: who may act, what the signature records, four eyes.
@Suite struct PassDelegationTests {
    let cleared = Fixture.t0.plus(days: 14)
    static let deputy = Fixture.actor("支部书记 副职", (.branchSecretary, Fixture.village1))

    /// A pass signed at levels 1 and 2 (by `levelTwo`), waiting for the branch secretary.
    func atLevelThree(levelTwo: Principal = Fixture.groupLeader) throws(SignoffError) -> PassApplication {
        let start = PassApplication.Start(
            vehicleID: Fixture.vehicleID, pledgeID: Fixture.pledgeID, plate: try LicensePlate("川Q12345"),
            gridPath: Fixture.grid1, clearanceDueAt: self.cleared, policy: Fixture.policy())
        var app = try PassApplication.start(start, id: Fixture.applicationID, by: Fixture.gridWorker, at: self.cleared).0
        _ = try app.handle(.sign(), by: Fixture.gridWorker, at: self.cleared)
        _ = try app.handle(.sign(), by: levelTwo, at: self.cleared)
        return app
    }

    func grant(from delegator: Principal = Fixture.branchSecretary, to delegate: Principal = Self.deputy, number: Int = 7,
               days: Double = 3, active: Bool = true) -> DelegationGrant {
        DelegationGrant(number: number, delegator: Delegation.Person(userID: delegator.userID, name: delegator.displayName),
                        delegateID: delegate.userID, role: .branchSecretary, unitPath: Fixture.village1,
                        from: self.cleared, until: self.cleared.plus(days: days), active: active)
    }

    /// The code a step fails with, or nil when it succeeds.
    func failure(_ body: () throws -> Void) -> SignoffError.Code? {
        do {
            try body()
            return nil
        } catch let error as SignoffError {
            return error.code
        } catch {
            return .internalError
        }
    }

    @Test func aDelegateSignsForTheDelegatorAndTheSignatureSaysSo() throws {
        var app = try self.atLevelThree()
        let effect = try app.handle(.sign(level: 3, delegation: self.grant()), by: Self.deputy, at: self.cleared.plus(hours: 1))
        let signature = try #require(app.currentRound.signatures.last)
        #expect(signature.userID == Self.deputy.userID)
        #expect(signature.onBehalfOf?.userID == Fixture.branchSecretary.userID)
        #expect(signature.delegationNumber == 7)
        #expect(effect.payload["delegation_number"] == .int(7))
        #expect(effect.payload["on_behalf_of_name"] == .string("支部书记 赵六"))
    }

    @Test func aGrantOutsideItsPeriodRevokedOrSomeoneElsesIsRefused() throws {
        var app = try self.atLevelThree()
        let late = self.cleared.plus(days: 4)
        #expect(failure { _ = try app.handle(.sign(delegation: self.grant()), by: Self.deputy, at: late) } == .delegationInactive)
        #expect(failure { _ = try app.handle(.sign(delegation: self.grant(active: false)), by: Self.deputy, at: self.cleared) } == .delegationInactive)
        #expect(failure { _ = try app.handle(.sign(delegation: self.grant(to: Fixture.doubleHatted)), by: Self.deputy, at: self.cleared) } == .delegationInvalid)
        #expect(app.currentRound.signatures.count == 2)
    }

    @Test func fourEyesCountsTheDelegateAndThePersonSignedFor() throws {
        // The delegate signed level 2 in person.
        var first = try self.atLevelThree(levelTwo: Fixture.doubleHatted)
        #expect(failure {
            _ = try first.handle(.sign(delegation: self.grant(to: Fixture.doubleHatted)), by: Fixture.doubleHatted, at: self.cleared)
        } == .repeatedSigner)
        // The delegator signed level 2 in person; someone else may not sign level 3 for them.
        var second = try self.atLevelThree(levelTwo: Fixture.doubleHatted)
        #expect(failure {
            _ = try second.handle(.sign(delegation: self.grant(from: Fixture.doubleHatted, to: Fixture.branchSecretary)),
                                  by: Fixture.branchSecretary, at: self.cleared)
        } == .repeatedSigner)
        // In their own right, the other secretary signs.
        _ = try second.handle(.sign(), by: Fixture.branchSecretary, at: self.cleared)
        #expect(second.currentRound.signatures.count == 3)
    }

    @Test func aReassignedLevelWaitsForItsNewHolderOrTheirDelegateOnly() throws {
        var app = try self.atLevelThree()
        let overdue = self.cleared.plus(hours: 25)
        #expect(failure { _ = try app.handle(.reassign(level: 3, to: Self.deputy, reason: "住院"), by: Fixture.admin, at: self.cleared) } == .notOverdue)
        #expect(failure { _ = try app.handle(.reassign(level: 3, to: Fixture.foreignSecretary, reason: "住院"), by: Fixture.admin, at: overdue) } == .delegationInvalid)
        _ = try app.handle(.reassign(level: 3, to: Self.deputy, reason: "住院"), by: Fixture.admin, at: overdue)
        #expect(app.pendingReassignment?.to.userID == Self.deputy.userID)
        #expect(app.pendingDueAt == overdue.plus(hours: 24))
        #expect(app.dueMoments.first?.payload["assignee_id"] == .string(Self.deputy.userID.uuidString))
        #expect(app.dueMoments.first?.occurrence == "r1l3a1")
        #expect(failure { _ = try app.handle(.sign(), by: Fixture.branchSecretary, at: overdue) } == .levelReassigned)
        // The new holder's delegate may sign for them.
        let helper = Fixture.branchSecretary
        _ = try app.handle(.sign(delegation: self.grant(from: Self.deputy, to: helper, days: 5)), by: helper, at: overdue)
        #expect(app.currentRound.signatures.last?.onBehalfOf?.userID == Self.deputy.userID)
    }

    @Test func aDelegationNeedsTheSameRoleOverTheUnitAnotherPersonAndASanePeriod() throws {
        func make(_ delegate: Principal, by actor: Principal = Fixture.branchSecretary, from: Date? = nil, until: Date? = nil) -> SignoffError.Code? {
            let start = Delegation.Start(number: 1, delegator: Fixture.branchSecretary, delegate: delegate, role: .branchSecretary,
                                         unitID: Fixture.branchSecretary.assignments[0].unitID, from: from ?? Fixture.t0,
                                         until: until ?? Fixture.t0.plus(days: 3), reason: "外出")
            do {
                _ = try Delegation.start(start, id: UUID(), by: actor, at: Fixture.t0)
                return nil
            } catch {
                return error.code
            }
        }
        #expect(make(Self.deputy) == nil)
        #expect(make(Self.deputy, by: Fixture.admin) == nil)
        #expect(make(Self.deputy, by: Fixture.gridWorker) == .forbiddenRole)
        #expect(make(Fixture.foreignSecretary) == .delegationInvalid)
        #expect(make(Fixture.villageLeader) == .delegationInvalid)
        #expect(make(Fixture.branchSecretary) == .delegationInvalid)
        #expect(make(Self.deputy, from: Fixture.t0.plus(days: 2), until: Fixture.t0.plus(days: 1)) == .delegationInvalid)
        #expect(make(Self.deputy, until: Fixture.t0.plus(days: 91)) == .delegationInvalid)
    }
}
