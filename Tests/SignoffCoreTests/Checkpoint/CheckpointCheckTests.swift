import Crypto
import Foundation
import Testing

@testable import SignoffCore

/// The checkpoint log's machine, its policy file, and the credentials the other machines declare.
@Suite struct CheckpointCheckTests {
    static let t0 = Fixture.t0
    static let valid = CheckpointCheck.CheckedCredential(
        kind: .vehiclePass, number: "通行证-2020-1A2B3C4D", subject: "川Q12345", validUntil: t0.plus(days: 30), keyID: "0123abcd",
        verdict: "valid")

    static func start(_ decision: CheckpointCheck.Decision, credential: CheckpointCheck.CheckedCredential? = nil, note: String? = nil,
                      checkpoint: String = "daxueshan", subject: String = "川Q12345", checkedAt: Date? = nil) -> CheckpointCheck.Start {
        CheckpointCheck.Start(checkpoint: checkpoint, direction: .entering, subject: subject, decision: decision, credential: credential,
                              note: note, checkedAt: checkedAt, onDuty: [.init(userID: Fixture.chiefLeader.userID, name: "主要领导 孙八")],
                              policy: .builtIn, townshipPath: Fixture.township)
    }

    // MARK: The machine

    @Test func aReleaseKeepsTheCredentialAndTheRoster() throws {
        let (check, effect) = try CheckpointCheck.start(Self.start(.release, credential: Self.valid), id: UUID(), by: Fixture.villageLeader,
                                                        at: Self.t0)
        #expect(check.state == .released)
        #expect(check.credential == Self.valid)
        #expect(check.onDuty.map(\.name) == ["主要领导 孙八"])
        #expect(check.projection.category == "daxueshan")
        #expect(check.projection.unitPath == Fixture.township)
        #expect(effect.event == "release")
        #expect(effect.actingAs?.role == .villageLeader)
        #expect(effect.payload["credential_number"] == .string(Self.valid.number))
        // 2020-02-10 08:00 China time is in the day shift.
        #expect(check.day == "2020-02-10" && check.shiftCode == "day")
    }

    @Test func aTurnBackNamesAReasonOfThePolicy() throws {
        let (check, effect) = try CheckpointCheck.start(Self.start(.turnBack(reason: "local_leaving")), id: UUID(), by: Fixture.gridWorker,
                                                        at: Self.t0)
        #expect(check.state == .turnedBack)
        #expect(check.reasonName == "本地人员、车辆无特殊情况流出")
        #expect(effect.event == "turn_back")
        #expect(effect.reason == "本地人员、车辆无特殊情况流出")
        expectError(.invalidValue) { () throws(SignoffError) in
            try CheckpointCheck.start(Self.start(.turnBack(reason: "no_such_reason")), id: UUID(), by: Fixture.gridWorker, at: Self.t0)
        }
    }

    @Test func aReleaseWithoutACredentialOrOnAnInvalidOneWithoutANoteIsRefused() throws {
        expectError(.missingField) { () throws(SignoffError) in
            try CheckpointCheck.start(Self.start(.release), id: UUID(), by: Fixture.villageLeader, at: Self.t0)
        }
        var expired = Self.valid
        expired.verdict = "expired"
        expectError(.reasonRequired) { () throws(SignoffError) in
            try CheckpointCheck.start(Self.start(.release, credential: expired), id: UUID(), by: Fixture.villageLeader, at: Self.t0)
        }
        let (check, _) = try CheckpointCheck.start(Self.start(.release, credential: expired, note: "急诊送医"), id: UUID(),
                                                   by: Fixture.villageLeader, at: Self.t0)
        #expect(check.state == .released && check.note == "急诊送医")
    }

    @Test func badInputIsRefusedWithItsField() throws {
        expectError(.invalidValue) { () throws(SignoffError) in
            try CheckpointCheck.start(Self.start(.turnBack(reason: "fever"), checkpoint: "nowhere"), id: UUID(), by: Fixture.gridWorker, at: Self.t0)
        }
        expectError(.invalidValue) { () throws(SignoffError) in
            try CheckpointCheck.start(Self.start(.turnBack(reason: "fever"), subject: "  "), id: UUID(), by: Fixture.gridWorker, at: Self.t0)
        }
        // A check queued offline may be dated back a week, not more, and not into the future.
        expectError(.invalidValue) { () throws(SignoffError) in
            try CheckpointCheck.start(Self.start(.turnBack(reason: "fever"), checkedAt: Self.t0.plus(days: -8)), id: UUID(),
                                      by: Fixture.gridWorker, at: Self.t0)
        }
        expectError(.invalidValue) { () throws(SignoffError) in
            try CheckpointCheck.start(Self.start(.turnBack(reason: "fever"), checkedAt: Self.t0.plus(hours: 1)), id: UUID(),
                                      by: Fixture.gridWorker, at: Self.t0)
        }
        let (late, _) = try CheckpointCheck.start(Self.start(.turnBack(reason: "fever"), checkedAt: Self.t0.plus(days: -2)), id: UUID(),
                                                  by: Fixture.gridWorker, at: Self.t0)
        #expect(late.checkedAt == Self.t0.plus(days: -2) && late.recordedAt == Self.t0 && late.day == "2020-02-08")
    }

    @Test func aWorkerMayNotRecord() {
        let worker = Principal(userID: UUID(), displayName: "务工人员", assignments: [RoleAssignment(role: .worker, unitID: UUID(), unitPath: Fixture.grid1)])
        expectError(.forbiddenRole) { () throws(SignoffError) in
            try CheckpointCheck.start(Self.start(.turnBack(reason: "fever")), id: UUID(), by: worker, at: Self.t0)
        }
    }

    @Test func aNightShiftAfterMidnightBelongsToTheDayItStarted() throws {
        let policy = CheckpointPolicy.builtIn
        // 2020-02-10 02:00 China time is 2020-02-09 18:00 UTC.
        let slot = try #require(policy.shift(at: Self.t0.plus(hours: -6)))
        #expect(slot.shift.code == "night" && slot.day == "2020-02-09")
        #expect(policy.shift(at: Self.t0.plus(hours: 13))?.shift.code == "night")
        #expect(policy.shift(at: Self.t0.plus(hours: 11))?.shift.code == "day")
    }

    // MARK: The policy file

    @Test func theShippedPolicyLoadsAndEqualsTheBuiltIn() throws {
        let text = try String(contentsOf: RepoPaths.root.appendingPathComponent("workflows/checkpoints.yaml"), encoding: .utf8)
        #expect(try CheckpointPolicy.load(yaml: text) == CheckpointPolicy.builtIn)
    }

    @Test(arguments: [
        ("checkpoints: []", "checkpoints"),
        ("shifts:\n  - {code: day, name: 白班, start: \"08:00\", end: \"20:00\"}\n  - {code: late, name: 晚班, start: \"19:00\", end: \"23:00\"}", "shifts[2]"),
        ("shifts:\n  - {code: day, name: 白班, start: \"8:00\", end: \"20:00\"}", "shifts[1].start"),
        ("duty_roles: [worker]", "duty_roles[1]"),
        ("turn_back_reasons:\n  - {code: fever, name: 体温异常}\n  - {code: fever, name: 发热}", "turn_back_reasons[2].code"),
    ])
    func aBadPolicyIsRefusedNamingItsKey(_ replacement: String, _ key: String) throws {
        let key0 = String(replacement.split(separator: ":")[0])
        var lines = Self.policyText.components(separatedBy: "\n")
        // Replace the block of the top-level key with the bad one.
        let start = try #require(lines.firstIndex { $0.hasPrefix(key0 + ":") })
        var end = start + 1
        while end < lines.count, lines[end].hasPrefix(" ") || lines[end].isEmpty { end += 1 }
        lines.replaceSubrange(start..<end, with: replacement.components(separatedBy: "\n"))
        do {
            _ = try CheckpointPolicy.load(yaml: lines.joined(separator: "\n"))
            Issue.record("the policy was accepted")
        } catch {
            #expect(error.code == .policyInvalid)
            #expect(error.extra["key"] == .string(key), "\(error.detail)")
        }
    }

    static let policyText = """
        version: "t1"
        checkpoints:
          - {code: daxueshan, name: 大雪山镇交界卡点, place: 省道}
        shifts:
          - {code: day, name: 白班, start: "08:00", end: "20:00"}
        turn_back_reasons:
          - {code: fever, name: 体温异常}
        duty_roles: [village_leader]
        recorder_roles: [village_leader]
        """

    // MARK: Credentials the machines declare

    @Test func aPassTakingEffectDeclaresItsCredentialAndARevocationWithdrawsIt() throws {
        let start = PassApplication.Start(vehicleID: Fixture.vehicleID, pledgeID: Fixture.pledgeID, plate: try LicensePlate("川Q12345"),
                                          gridPath: Fixture.grid1, clearanceDueAt: Self.t0, policy: Fixture.policy())
        var pass = try PassApplication.start(start, id: Fixture.applicationID, by: Fixture.gridWorker, at: Self.t0).0
        var last: Effect?
        for (index, signer) in Fixture.chain.enumerated() {
            last = try pass.handle(.sign(), by: signer, at: Self.t0.plus(hours: Double(index + 1)))
        }
        let event = try #require(last?.emitted.first)
        let claim = try #require(CredentialClaim(event: event))
        #expect(claim.kind == .vehiclePass && claim.holder == .plate("川Q12345"))
        #expect(claim.number == pass.passNumber && claim.validUntil == pass.effectiveUntil && claim.validFrom == pass.effectiveFrom)
        expectError(.forbiddenRole) { () throws(SignoffError) in try pass.handle(.revoke(reason: "x"), by: Fixture.gridWorker, at: Self.t0.plus(days: 1)) }
        expectError(.reasonRequired) { () throws(SignoffError) in try pass.handle(.revoke(reason: " "), by: Fixture.admin, at: Self.t0.plus(days: 1)) }
        let revoked = try pass.handle(.revoke(reason: "违规载客"), by: Fixture.admin, at: Self.t0.plus(days: 1))
        #expect(pass.state == .revoked)
        let revocation = try #require(revoked.emitted.first.flatMap(CredentialClaim.revocation(in:)))
        #expect(revocation.kind == .vehiclePass && revocation.number == pass.passNumber)
        expectError(.invalidTransition) { () throws(SignoffError) in try pass.handle(.revoke(reason: "again"), by: Fixture.admin, at: Self.t0.plus(days: 2)) }
    }

    @Test func aCertificateAndAnAgriculturalPassDeclareTheirCredentials() throws {
        var request = try CertificateRequest.start(
            .init(personID: UUID(), householdID: Fixture.householdID, gridPath: Fixture.grid1,
                  destination: .init(province: "广东", city: "东莞", employer: nil), policy: .builtIn),
            id: UUID(), by: Fixture.gridWorker, at: Self.t0).0
        _ = try request.handle(.verify(note: nil), by: Fixture.gridWorker, at: Self.t0)
        let issued = try request.handle(.recordExam(.pass(certificateNumber: "LH-JK-2020-00009")), by: Fixture.healthOfficer, at: Self.t0)
        let claim = try #require(issued.emitted.first.flatMap(CredentialClaim.init(event:)))
        #expect(claim.kind == .healthCertificate && claim.holder == .person(request.personID) && claim.scope == "四川省外 广东 东莞")
        let revoked = try request.handle(.revoke(reason: "复查异常"), by: Fixture.healthOfficer, at: Self.t0.plus(days: 1))
        #expect(revoked.emitted.first.flatMap(CredentialClaim.revocation(in:))?.number == "LH-JK-2020-00009")

        var farm = try AgriculturalPass.start(
            .init(householdID: Fixture.householdID, gridPath: Fixture.grid1, vehicleDescription: "三轮农用车", plate: nil, purpose: "春耕",
                  route: "本户—乡农资站", policy: Fixture.policy()),
            id: UUID(), by: Fixture.gridWorker, at: Self.t0).0
        let farmIssued = try farm.handle(.issue(serialNumber: "LH-NY-2020-0001"), by: Fixture.branchSecretary, at: Self.t0)
        let farmClaim = try #require(farmIssued.emitted.first.flatMap(CredentialClaim.init(event:)))
        #expect(farmClaim.holder == .household(Fixture.householdID, vehicle: "三轮农用车") && farmClaim.scope == "本户—乡农资站")
        #expect(farmClaim.validUntil == Self.t0.plus(days: 20))
    }

    @Test func aClaimSurvivesTheOutboxPayload() throws {
        let claim = CredentialClaim(kind: .agriculturalPass, number: "LH-NY-2020-0002", holder: .plate("川Q·N0002"), scope: "路线",
                                    validFrom: Self.t0, validUntil: Self.t0.plus(days: 1))
        let event = DomainEvent(name: "x", key: "k", payload: [CredentialClaim.payloadKey: claim.payload])
        let data = try StoredForm.encoder().encode(event)
        let decoded = try StoredForm.decoder().decode(DomainEvent.self, from: data)
        #expect(CredentialClaim(event: decoded) == claim)
        #expect(CredentialClaim(event: DomainEvent(name: "x", key: "k", payload: [:])) == nil)
    }
}
