import Foundation
import Testing

@testable import SignoffCore

@Suite struct PassApplicationTests {
    let cleared = Fixture.t0.plus(days: 14)

    func start(policy: VehiclePolicy = Fixture.policy(), at now: Date? = nil, by actor: Principal = Fixture.gridWorker)
        throws(SignoffError) -> (PassApplication, Effect)
    {
        let start = PassApplication.Start(
            vehicleID: Fixture.vehicleID, pledgeID: Fixture.pledgeID, plate: try LicensePlate("川Q12345"),
            gridPath: Fixture.grid1, clearanceDueAt: self.cleared, policy: policy)
        return try PassApplication.start(start, id: Fixture.applicationID, by: actor, at: now ?? self.cleared)
    }

    func applied(policy: VehiclePolicy = Fixture.policy()) throws(SignoffError) -> PassApplication {
        try self.start(policy: policy).0
    }

    /// Signs levels in order with the given signers, an hour apart from `from`.
    func signAll(_ app: inout PassApplication, _ signers: [Principal], from: Date) throws(SignoffError) {
        for (index, signer) in signers.enumerated() {
            _ = try app.handle(.sign(), by: signer, at: from.plus(hours: Double(index + 1)))
        }
    }

    // MARK: - Applying

    @Test func applyingOpensRoundOneAtLevelOne() throws {
        let (app, effect) = try self.start()
        #expect(app.state == .pending)
        #expect(effect == Effect(
            event: "apply", actingAs: Fixture.gridWorker.assignments[0],
            payload: ["vehicle_id": .string(Fixture.vehicleID.uuidString), "pledge_id": .string(Fixture.pledgeID.uuidString),
                      "plate": "川Q12345", "policy_version": "test-v1", "round": 1, "pending_level": 1,
                      "pending_role": "grid_worker"]))
        #expect(app.projection == Projection(
            unitPath: Fixture.grid1, pendingRole: .gridWorker, pendingSince: self.cleared,
            dueAt: self.cleared.plus(hours: 24), policyVersion: "test-v1", subjectRef: Fixture.vehicleID, pendingLevel: 1,
            label: "川Q12345"))
        #expect(app.rounds.count == 1)
    }

    @Test func anOpenApplicationIsExclusivePerVehicleUntilEffectiveOrWithdrawn() throws {
        var app = try self.applied()
        #expect(app.exclusiveKey?.text == "vehicle:\(Fixture.vehicleID.uuidString)")
        var withdrawn = app
        _ = try withdrawn.handle(.withdraw(reason: nil), by: Fixture.gridWorker, at: self.cleared.plus(hours: 1))
        #expect(withdrawn.exclusiveKey == nil)
        try self.signAll(&app, Fixture.chain, from: self.cleared)
        #expect(app.state == .effective)
        #expect(app.exclusiveKey == nil)
    }

    @Test func applyingBeforeClearanceNamesTheDueDate() {
        let error = expectError(.clearanceNotReached) { () throws(SignoffError) in
            try self.start(at: self.cleared.plus(hours: -1))
        }
        #expect(error?.extra["due_at"] == "2020-02-24T00:00:00Z")
        #expect(error?.code.httpStatus == 422)
    }

    @Test func applyingExactlyAtClearanceIsAllowed() throws {
        #expect(try self.start(at: self.cleared).0.state == .pending)
    }

    @Test func onlyAGridWorkerOfTheGridApplies() {
        expectError(.forbiddenRole) { () throws(SignoffError) in try self.start(by: Fixture.groupLeader) }
        expectError(.outOfJurisdiction) { () throws(SignoffError) in try self.start(by: Fixture.foreignGridWorker) }
    }

    // MARK: - The chain

    @Test func fiveSignaturesInOrderMakeThePassEffective() throws {
        var app = try self.applied()
        let expectedNext: [(Int, Role)] = [(2, .groupLeader), (3, .branchSecretary), (4, .villageLeader), (5, .chiefLeader)]
        for (index, signer) in Fixture.chain.prefix(4).enumerated() {
            let at = self.cleared.plus(hours: Double(index + 1))
            let effect = try app.sign(by: signer, at: at)
            let level = index + 1
            #expect(effect == Effect(
                event: "sign", actingAs: signer.assignments[0],
                payload: ["round": 1, "level": .int(level), "role": .string(Fixture.policy().chain[index].role.rawValue),
                          "pending_level": .int(expectedNext[index].0),
                          "pending_role": .string(expectedNext[index].1.rawValue)]))
            #expect(app.state == .pending)
            #expect(app.projection.pendingRole == expectedNext[index].1)
            #expect(app.projection.pendingSince == at)
        }
        let last = self.cleared.plus(hours: 5)
        let effect = try app.sign(by: Fixture.chiefLeader, at: last)
        #expect(app.state == .effective)
        #expect(app.passNumber == "通行证-2020-1A2B3C4D")
        #expect(app.effectiveFrom == last)
        #expect(app.effectiveUntil == last.plus(days: 30))
        #expect(effect == Effect(
            event: "sign", actingAs: Fixture.chiefLeader.assignments[0],
            payload: ["round": 1, "level": 5, "role": "chief_leader", "pass_number": "通行证-2020-1A2B3C4D",
                      "effective_until": "2020-03-25T05:00:00Z"],
            emitted: [DomainEvent(
                name: "vehicle_pass.effective", key: "vehicle_pass.effective:\(Fixture.applicationID.uuidString)",
                payload: ["application_id": .string(Fixture.applicationID.uuidString),
                          "vehicle_id": .string(Fixture.vehicleID.uuidString),
                          "pledge_id": .string(Fixture.pledgeID.uuidString), "plate": "川Q12345",
                          "pass_number": "通行证-2020-1A2B3C4D", "effective_from": "2020-02-24T05:00:00Z",
                          "effective_until": "2020-03-25T05:00:00Z",
                          "credential": ["kind": "vehicle_pass", "number": "通行证-2020-1A2B3C4D", "plate": "川Q12345",
                                         "scope": "车辆上路通行", "valid_from": "2020-02-24T05:00:00Z",
                                         "valid_until": "2020-03-25T05:00:00Z"]])]))
        #expect(app.projection == Projection(unitPath: Fixture.grid1, policyVersion: "test-v1", subjectRef: Fixture.vehicleID,
                                             serialNumber: "通行证-2020-1A2B3C4D", label: "川Q12345"))
        #expect(app.currentRound.signatures.map(\.userID) == Fixture.chain.map(\.userID))
        #expect(app.currentRound.signatures.map(\.role) == [.gridWorker, .groupLeader, .branchSecretary, .villageLeader, .chiefLeader])
        #expect(app.currentRound.signatures[1] == PassApplication.Signature(
            level: 2, role: .groupLeader, userID: Fixture.groupLeader.userID, name: "组长 王五",
            unitID: Fixture.unitID(Fixture.group1), unitPath: Fixture.group1, at: self.cleared.plus(hours: 2)))
        #expect(app.progress.map(\.status) == Array(repeating: .signed, count: 5))
    }

    @Test func theCurrentRoundShowsEachLevel() throws {
        var app = try self.applied()
        try self.signAll(&app, Array(Fixture.chain.prefix(2)), from: self.cleared)
        #expect(app.progress.map(\.status) == [.signed, .signed, .pending, .waiting, .waiting])
        #expect(app.progress[2].pendingSince == self.cleared.plus(hours: 2))
        #expect(app.progress[2].dueAt == self.cleared.plus(hours: 26))
        _ = try app.reject(reason: "车主信息不全", by: Fixture.branchSecretary, at: self.cleared.plus(hours: 3))
        #expect(app.progress.map(\.status) == [.signed, .signed, .rejected, .waiting, .waiting])
        #expect(app.progress[2].reason == "车主信息不全")
    }

    @Test func theOverdueDateFollowsEachLevelsLimit() throws {
        var app = try self.applied(policy: Fixture.policy(limits: [2, 4, 6, 8, 10]))
        #expect(app.projection.dueAt == self.cleared.plus(hours: 2))
        _ = try app.sign(by: Fixture.gridWorker, at: self.cleared.plus(hours: 5))
        #expect(app.projection.pendingSince == self.cleared.plus(hours: 5))
        #expect(app.projection.dueAt == self.cleared.plus(hours: 9))
    }

    @Test func aLaterLevelCannotSignFirst() throws {
        var app = try self.applied()
        let error = expectRefused(&app, .sign(), by: Fixture.branchSecretary, at: self.cleared, .outOfOrder)
        #expect(error?.extra["pending_level"] == 1)
        #expect(error?.extra["pending_role"] == "grid_worker")
        expectRefused(&app, .sign(), by: Fixture.chiefLeader, at: self.cleared, .outOfOrder)
        expectRefused(&app, .reject(reason: "no"), by: Fixture.villageLeader, at: self.cleared, .outOfOrder)
    }

    @Test func anEarlierLevelCannotSignAgainLater() throws {
        var app = try self.applied()
        try self.signAll(&app, Array(Fixture.chain.prefix(2)), from: self.cleared)
        // The grid worker's level has passed; a second grid worker of the grid is out of order too.
        expectRefused(&app, .sign(), by: Fixture.otherGridWorker, at: self.cleared.plus(hours: 3), .outOfOrder)
    }

    @Test func aStatedLevelMustBeThePendingOne() throws {
        var app = try self.applied()
        expectRefused(&app, .sign(level: 2), by: Fixture.gridWorker, at: self.cleared, .outOfOrder)
        expectRefused(&app, .reject(reason: "x", level: 3), by: Fixture.gridWorker, at: self.cleared, .outOfOrder)
        _ = try app.handle(.sign(level: 1), by: Fixture.gridWorker, at: self.cleared)
        #expect(app.pendingLevel?.level == 2)
    }

    @Test func aRoleOutsideTheChainIsForbidden() throws {
        var app = try self.applied()
        let error = expectRefused(&app, .sign(), by: Fixture.healthOfficer, at: self.cleared, .forbiddenRole)
        #expect(error?.extra["required_roles"] == ["grid_worker"])
        expectRefused(&app, .sign(), by: Fixture.admin, at: self.cleared, .forbiddenRole)
        expectRefused(&app, .reject(reason: "x"), by: Fixture.admin, at: self.cleared, .forbiddenRole)
    }

    @Test func aSignerOfAnotherUnitIsOutOfJurisdiction() throws {
        var app = try self.applied()
        expectRefused(&app, .sign(), by: Fixture.foreignGridWorker, at: self.cleared, .outOfJurisdiction)
        _ = try app.sign(by: Fixture.gridWorker, at: self.cleared)
        expectRefused(&app, .sign(), by: Fixture.foreignGroupLeader, at: self.cleared, .outOfJurisdiction)
        _ = try app.sign(by: Fixture.groupLeader, at: self.cleared)
        expectRefused(&app, .sign(), by: Fixture.foreignSecretary, at: self.cleared, .outOfJurisdiction)
        expectRefused(&app, .reject(reason: "x"), by: Fixture.foreignSecretary, at: self.cleared, .outOfJurisdiction)
        // A chain role held only elsewhere is no turn here: the pending role is what they lack.
        expectRefused(&app, .sign(), by: Fixture.foreignGridWorker, at: self.cleared, .forbiddenRole)
    }

    @Test func oneSignerNeverSignsTwoLevelsOfARound() throws {
        var app = try self.applied()
        _ = try app.sign(by: Fixture.gridWorker, at: self.cleared)
        let effect = try app.sign(by: Fixture.doubleHatted, at: self.cleared)
        #expect(effect.actingAs?.role == .groupLeader)
        let error = expectRefused(&app, .sign(), by: Fixture.doubleHatted, at: self.cleared, .repeatedSigner)
        #expect(error?.extra["signed_level"] == 2)
        expectRefused(&app, .reject(reason: "x"), by: Fixture.doubleHatted, at: self.cleared, .repeatedSigner)
    }

    @Test func aSignerWithTwoChainRolesSignsThePendingOnesLevel() throws {
        var app = try self.applied()
        // Level 1 pending: the double-hatted holds neither grid_worker nor the turn.
        expectRefused(&app, .sign(), by: Fixture.doubleHatted, at: self.cleared, .outOfOrder)
        try self.signAll(&app, [Fixture.gridWorker, Fixture.groupLeader], from: self.cleared)
        let effect = try app.sign(by: Fixture.doubleHatted, at: self.cleared.plus(hours: 3))
        #expect(effect.actingAs == RoleAssignment(role: .branchSecretary, unitID: Fixture.unitID(Fixture.village1),
                                                  unitPath: Fixture.village1))
    }

    @Test func oneSignerNeverSignsTwoLevelsAcrossRounds() throws {
        let gridAndGroup = Fixture.actor("网格员兼组长", (.gridWorker, Fixture.grid1), (.groupLeader, Fixture.group1))
        var app = try self.applied()
        _ = try app.sign(by: gridAndGroup, at: self.cleared)
        _ = try app.reject(reason: "需补材料", by: Fixture.groupLeader, at: self.cleared.plus(hours: 1))
        _ = try app.resubmit(clearanceDueAt: self.cleared, note: nil, by: Fixture.gridWorker, at: self.cleared.plus(hours: 2))
        _ = try app.sign(by: Fixture.gridWorker, at: self.cleared.plus(hours: 3))
        // They signed level 1 in round 1, so level 2 in round 2 would put them at two levels.
        expectRefused(&app, .sign(), by: gridAndGroup, at: self.cleared.plus(hours: 4), .repeatedSigner)
        // The group leader rejected at level 2 before and may act at level 2 again.
        _ = try app.sign(by: Fixture.groupLeader, at: self.cleared.plus(hours: 4))
        #expect(app.pendingLevel?.level == 3)
    }

    @Test func theSameSignerMaySignTheSameLevelInANewRound() throws {
        var app = try self.applied()
        try self.signAll(&app, Array(Fixture.chain.prefix(2)), from: self.cleared)
        _ = try app.reject(reason: "照片不清", by: Fixture.branchSecretary, at: self.cleared.plus(hours: 3))
        _ = try app.resubmit(clearanceDueAt: self.cleared, note: "已补照片", by: Fixture.gridWorker, at: self.cleared.plus(hours: 4))
        try self.signAll(&app, Fixture.chain, from: self.cleared.plus(hours: 4))
        #expect(app.state == .effective)
        #expect(app.rounds.count == 2)
    }

    // MARK: - Reject, resubmit, withdraw

    @Test func aRejectNeedsAReason() throws {
        var app = try self.applied()
        let error = expectRefused(&app, .reject(reason: nil), by: Fixture.gridWorker, at: self.cleared, .reasonRequired)
        #expect(error?.extra["field"] == "reason")
        expectRefused(&app, .reject(reason: "  \n"), by: Fixture.gridWorker, at: self.cleared, .reasonRequired)
    }

    @Test func rejectThenResubmitStartsANewRoundAndKeepsTheOld() throws {
        var app = try self.applied()
        try self.signAll(&app, Array(Fixture.chain.prefix(3)), from: self.cleared)
        let rejectedAt = self.cleared.plus(hours: 10)
        let reject = try app.handle(.reject(reason: " 车辆停放地点不符 "), by: Fixture.villageLeader, at: rejectedAt)
        #expect(reject == Effect(event: "reject", actingAs: Fixture.villageLeader.assignments[0], reason: "车辆停放地点不符",
                                 payload: ["round": 1, "level": 4, "role": "village_leader"]))
        #expect(app.state == .rejected)
        #expect(app.projection.pendingRole == nil)
        expectRefused(&app, .sign(), by: Fixture.villageLeader, at: rejectedAt, .invalidTransition)

        let resubmittedAt = self.cleared.plus(days: 1)
        let resubmit = try app.handle(.resubmit(clearanceDueAt: self.cleared, note: "已更正"), by: Fixture.otherGridWorker,
                                      at: resubmittedAt)
        #expect(resubmit == Effect(event: "resubmit", actingAs: Fixture.otherGridWorker.assignments[0],
                                   payload: ["round": 2, "pending_level": 1, "pending_role": "grid_worker", "note": "已更正"]))
        #expect(app.state == .pending)
        #expect(app.projection.pendingRole == .gridWorker)
        #expect(app.projection.pendingSince == resubmittedAt)
        #expect(app.rounds.map(\.number) == [1, 2])
        #expect(app.rounds[0].signatures.count == 3)
        #expect(app.rounds[0].rejection?.reason == "车辆停放地点不符")
        #expect(app.rounds[0].rejection?.signer.userID == Fixture.villageLeader.userID)
        #expect(app.rounds[1].signatures.isEmpty)
        #expect(app.rounds[1].note == "已更正")
        // Level 3 of round 1 does not count in round 2.
        expectRefused(&app, .sign(), by: Fixture.branchSecretary, at: resubmittedAt, .outOfOrder)
    }

    @Test func resubmitIsForTheApplicantSideOfARejectedApplication() throws {
        var app = try self.applied()
        expectRefused(&app, .resubmit(clearanceDueAt: self.cleared, note: nil), by: Fixture.gridWorker, at: self.cleared,
                      .invalidTransition)
        _ = try app.reject(reason: "x", by: Fixture.gridWorker, at: self.cleared)
        expectRefused(&app, .resubmit(clearanceDueAt: self.cleared, note: nil), by: Fixture.groupLeader, at: self.cleared,
                      .forbiddenRole)
        expectRefused(&app, .resubmit(clearanceDueAt: self.cleared, note: nil), by: Fixture.foreignGridWorker,
                      at: self.cleared, .outOfJurisdiction)
    }

    @Test func resubmitChecksClearanceAgainAfterAViolation() throws {
        var app = try self.applied()
        _ = try app.reject(reason: "车辆曾上路", by: Fixture.gridWorker, at: self.cleared)
        let restarted = self.cleared.plus(days: 14)
        let error = expectRefused(&app, .resubmit(clearanceDueAt: restarted, note: nil), by: Fixture.gridWorker,
                                  at: self.cleared.plus(days: 1), .clearanceNotReached)
        #expect(error?.extra["due_at"] == "2020-03-09T00:00:00Z")
    }

    @Test func withdrawEndsAPendingOrRejectedApplication() throws {
        var pending = try self.applied()
        let effect = try pending.handle(.withdraw(reason: "车主放弃"), by: Fixture.gridWorker, at: self.cleared)
        #expect(effect == Effect(event: "withdraw", actingAs: Fixture.gridWorker.assignments[0], reason: "车主放弃",
                                 payload: ["round": 1]))
        #expect(pending.state == .withdrawn)
        #expect(pending.projection.pendingRole == nil)
        expectRefused(&pending, .sign(), by: Fixture.gridWorker, at: self.cleared, .invalidTransition)
        expectRefused(&pending, .withdraw(reason: nil), by: Fixture.gridWorker, at: self.cleared, .invalidTransition)

        var rejected = try self.applied()
        _ = try rejected.reject(reason: "x", by: Fixture.gridWorker, at: self.cleared)
        _ = try rejected.withdraw(reason: nil, by: Fixture.gridWorker, at: self.cleared)
        #expect(rejected.state == .withdrawn)
        expectRefused(&rejected, .resubmit(clearanceDueAt: self.cleared, note: nil), by: Fixture.gridWorker,
                      at: self.cleared, .invalidTransition)
    }

    @Test func anEffectivePassTakesNoMoreEvents() throws {
        var app = try self.applied()
        try self.signAll(&app, Fixture.chain, from: self.cleared)
        expectRefused(&app, .sign(), by: Fixture.chiefLeader, at: self.cleared, .invalidTransition)
        expectRefused(&app, .reject(reason: "x"), by: Fixture.chiefLeader, at: self.cleared, .invalidTransition)
        expectRefused(&app, .withdraw(reason: nil), by: Fixture.gridWorker, at: self.cleared, .invalidTransition)
    }

    @Test func anEffectivePassShowsExpiredAfterItsValidity() throws {
        var app = try self.applied()
        try self.signAll(&app, Fixture.chain, from: self.cleared)
        let until = try #require(app.effectiveUntil)
        #expect(app.displayStatus(at: until.plus(hours: -1)) == "effective")
        #expect(app.displayStatus(at: until) == "expired")
        #expect(app.isExpired(at: until))
    }

    // MARK: - Policy version pinning

    @Test func anApplicationKeepsThePolicyItStartedUnder() throws {
        let v1 = Fixture.policy(version: "v1", limits: [24, 24, 24, 48, 48])
        var app = try self.applied(policy: v1)
        // The township changes the file: three levels, other limits.
        let v2 = try VehiclePolicy(
            version: "v2", clearanceDays: 7, violationRestartsClock: false,
            chain: [.init(level: 1, role: .gridWorker, limitHours: 6), .init(level: 2, role: .branchSecretary, limitHours: 6),
                    .init(level: 3, role: .chiefLeader, limitHours: 6)],
            passValidityDays: 10, agriculturalPassValidityDays: 10)
        let newer = try self.applied(policy: v2)
        #expect(newer.projection.policyVersion == "v2")
        #expect(newer.projection.dueAt == self.cleared.plus(hours: 6))

        try self.signAll(&app, Array(Fixture.chain.prefix(2)), from: self.cleared)
        _ = try app.reject(reason: "x", by: Fixture.branchSecretary, at: self.cleared.plus(hours: 3))
        _ = try app.resubmit(clearanceDueAt: self.cleared, note: nil, by: Fixture.gridWorker, at: self.cleared.plus(hours: 4))
        #expect(app.projection.policyVersion == "v1")
        #expect(app.projection.dueAt == self.cleared.plus(hours: 28))
        #expect(app.chain == v1.chain)
        try self.signAll(&app, Fixture.chain, from: self.cleared.plus(hours: 4))
        #expect(app.rounds[1].signatures.count == 5)
        #expect(app.effectiveUntil == app.effectiveFrom?.plus(days: 30))
    }

    @Test func aStoredApplicationDecodesToTheSameMachine() throws {
        var app = try self.applied()
        try self.signAll(&app, Array(Fixture.chain.prefix(2)), from: self.cleared)
        let data = try JSONEncoder().encode(app)
        let decoded = try JSONDecoder().decode(PassApplication.self, from: data)
        #expect(snapshot(decoded) == snapshot(app))
        #expect(decoded.projection == app.projection)
    }
}
