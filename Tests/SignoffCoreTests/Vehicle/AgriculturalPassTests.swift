import Foundation
import Testing

@testable import SignoffCore

@Suite struct AgriculturalPassTests {
    static let passID = UUID(uuidString: "0E000000-0000-0000-0000-0000000000AA")!

    func request(by actor: Principal = Fixture.gridWorker, purpose: String = "春耕运输化肥")
        throws(SignoffError) -> (AgriculturalPass, Effect)
    {
        let start = AgriculturalPass.Start(
            householdID: Fixture.householdID, gridPath: Fixture.grid1, vehicleDescription: "三轮农用车", plate: nil,
            purpose: purpose, route: "一组 → 乡农资站", policy: Fixture.policy())
        return try AgriculturalPass.start(start, id: Self.passID, by: actor, at: Fixture.t0)
    }

    @Test func aGridWorkerRequestsAndTheBranchSecretaryIssues() throws {
        var (pass, request) = try self.request()
        #expect(request == Effect(
            event: "request", actingAs: Fixture.gridWorker.assignments[0],
            payload: ["household_id": .string(Fixture.householdID.uuidString), "vehicle": "三轮农用车",
                      "purpose": "春耕运输化肥", "route": "一组 → 乡农资站"]))
        #expect(pass.projection == Projection(
            unitPath: Fixture.grid1, pendingRole: .branchSecretary, pendingSince: Fixture.t0, policyVersion: "test-v1",
            subjectRef: Fixture.householdID))

        let issuedAt = Fixture.t0.plus(days: 1)
        let issue = try pass.handle(.issue(serialNumber: "联合农-2020-0219"), by: Fixture.branchSecretary, at: issuedAt)
        #expect(issue == Effect(
            event: "issue", actingAs: Fixture.branchSecretary.assignments[0],
            payload: ["serial_number": "联合农-2020-0219", "valid_until": "2020-03-02T00:00:00Z"],
            emitted: [DomainEvent(
                name: "agricultural_pass.issued", key: "agricultural_pass.issued:\(pass.passID.uuidString)",
                payload: ["pass_id": .string(pass.passID.uuidString), "serial_number": "联合农-2020-0219",
                          "credential": ["kind": "agricultural_pass", "number": "联合农-2020-0219",
                                         "household_id": .string(Fixture.householdID.uuidString.lowercased()), "vehicle": "三轮农用车",
                                         "scope": "一组 → 乡农资站", "valid_from": "2020-02-11T00:00:00Z",
                                         "valid_until": "2020-03-02T00:00:00Z"]])]))
        #expect(pass.state == .issued)
        #expect(pass.validUntil == issuedAt.plus(days: 20))
        #expect(pass.projection.pendingRole == nil)
        #expect(pass.projection.dueAt == issuedAt.plus(days: 20))
    }

    @Test func requestAndIssueCheckRoleJurisdictionAndFields() throws {
        expectError(.forbiddenRole) { () throws(SignoffError) in try self.request(by: Fixture.branchSecretary) }
        expectError(.invalidValue) { () throws(SignoffError) in try self.request(purpose: " ") }
        var (pass, _) = try self.request()
        expectRefused(&pass, .issue(serialNumber: "  "), by: Fixture.branchSecretary, at: Fixture.t0, .invalidValue)
        expectRefused(&pass, .issue(serialNumber: "1"), by: Fixture.foreignSecretary, at: Fixture.t0, .outOfJurisdiction)
        expectRefused(&pass, .issue(serialNumber: "1"), by: Fixture.gridWorker, at: Fixture.t0, .forbiddenRole)
    }

    @Test func anIssuedPassShowsExpiredAfterItsValidity() throws {
        var (pass, _) = try self.request()
        _ = try pass.issue(serialNumber: "0001", by: Fixture.branchSecretary, at: Fixture.t0)
        let until = Fixture.t0.plus(days: 20)
        #expect(pass.displayStatus(at: until.plus(hours: -1)) == .issued)
        #expect(!pass.isExpired(at: until.plus(hours: -1)))
        #expect(pass.displayStatus(at: until) == .expired)
        #expect(pass.isExpired(at: until))
        #expect(pass.state == .issued)
        let error = expectRefused(&pass, .revoke(reason: "x"), by: Fixture.branchSecretary, at: until, .invalidTransition)
        #expect(error?.extra["state"] == "expired")
    }

    @Test func revokingNeedsAReasonAndEndsThePass() throws {
        var (pass, _) = try self.request()
        expectRefused(&pass, .revoke(reason: "x"), by: Fixture.branchSecretary, at: Fixture.t0, .invalidTransition)
        _ = try pass.issue(serialNumber: "0001", by: Fixture.branchSecretary, at: Fixture.t0)
        expectRefused(&pass, .revoke(reason: nil), by: Fixture.branchSecretary, at: Fixture.t0, .reasonRequired)
        let effect = try pass.handle(.revoke(reason: "用于非农运输"), by: Fixture.branchSecretary, at: Fixture.t0.plus(days: 2))
        #expect(effect == Effect(event: "revoke", actingAs: Fixture.branchSecretary.assignments[0], reason: "用于非农运输",
                                 payload: ["serial_number": "0001"],
                                 emitted: [DomainEvent(
                                     name: "agricultural_pass.revoked", key: "agricultural_pass.revoked:\(pass.passID.uuidString)",
                                     payload: ["pass_id": .string(pass.passID.uuidString), "serial_number": "0001", "reason": "用于非农运输",
                                               "revoke_credential": ["kind": "agricultural_pass", "number": "0001"]])]))
        #expect(pass.displayStatus(at: Fixture.t0.plus(days: 30)) == .revoked)
        #expect(pass.closedReason == "用于非农运输")
        expectRefused(&pass, .issue(serialNumber: "0002"), by: Fixture.branchSecretary, at: Fixture.t0, .invalidTransition)
    }

    @Test func aRequestMayBeRefusedWithAReason() throws {
        var (pass, _) = try self.request()
        expectRefused(&pass, .refuse(reason: ""), by: Fixture.branchSecretary, at: Fixture.t0, .reasonRequired)
        _ = try pass.refuse(reason: "非农用车辆", by: Fixture.branchSecretary, at: Fixture.t0)
        #expect(pass.displayStatus(at: Fixture.t0) == .refused)
        #expect(pass.projection.pendingRole == nil)
    }
}
