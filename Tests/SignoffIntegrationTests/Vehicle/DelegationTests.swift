import Foundation
import HummingbirdTesting
import PostgresNIO
import SignoffCore
@testable import SignoffHTTP
@testable import SignoffStore
import Testing

/// Delegation 委托代签 and the 转交 of an overdue level, through the real router on a manual clock.
@Suite("Delegation and reassignment of a pass's pending level", .timeLimit(.minutes(3)))
struct DelegationTests {
    @Test func aDelegateSignsForTheDelegatorAndTheAuditNamesBothAndTheNumber() async throws {
        try await TestWorld.with { world, client in
            let deputy = try await world.addSigner("v1deputy", .branchSecretary, at: world.town.village1)
            let created = try await client.call(.post, "/delegations", token: try await world.token("v1secretary"), json: [
                "delegate_id": deputy.id.uuidString, "until": world.iso(days: 30), "reason": "到县里开会",
            ], headers: [.idempotencyKey: "delegate-1"])
            #expect(created.status == .created, "\(created.text)")
            let number = try #require(created.json["number"] as? Int)
            #expect(created.json["status"] as? String == "active")
            #expect(created.json["created_by_admin"] as? Bool == false)
            #expect((created.json["delegate"] as? [String: Any])?["name"] as? String == "支部书记 v1deputy")
            // The same key replays the first answer and creates nothing more.
            let again = try await client.call(.post, "/delegations", token: try await world.token("v1secretary"), json: [
                "delegate_id": deputy.id.uuidString, "until": world.iso(days: 30), "reason": "到县里开会",
            ], headers: [.idempotencyKey: "delegate-1"])
            #expect(again.headers[.init("Idempotent-Replayed")!] == "true")
            #expect(try await world.count("SELECT count(*)::int FROM delegations") == 1)

            let pass = try await world.filedPass(client)
            #expect(try await client.sign(world, pass: pass, by: "gw1", json: ["level": 1]).status == .ok)
            #expect(try await client.sign(world, pass: pass, by: "v1g1leader", json: ["level": 2]).status == .ok)

            // The delegate's inbox marks it 代 v1secretary 签.
            let inbox = try await client.call(.get, "/approvals/pending", token: try await world.token("v1deputy", deputy))
            let item = try #require((inbox.json["items"] as? [[String: Any]])?.first)
            let onBehalf = try #require(item["on_behalf_of"] as? [String: Any])
            #expect(onBehalf["name"] as? String == "支部书记 v1secretary")
            #expect(onBehalf["delegation_number"] as? Int == number)

            let signed = try await client.call(.post, "/passes/\(pass)/sign", token: try await world.token("v1deputy", deputy),
                                               json: ["level": 3, "delegation": number])
            #expect(signed.status == .ok, "\(signed.text)")
            let chain = try #require(signed.json["chain"] as? [[String: Any]])
            let signer = try #require(chain[2]["signer"] as? [String: Any])
            #expect(signer["name"] as? String == "支部书记 v1deputy")
            #expect(signer["on_behalf_of_name"] as? String == "支部书记 v1secretary")
            #expect(signer["on_behalf_of_user_id"] as? String == world.town.users["v1secretary"]!.uuidString)
            #expect(signer["delegation_number"] as? Int == number)

            // The audit row: acted by the delegate, for the delegator, under delegation #n.
            let audit = try await world.auditRows(of: pass, event: "sign")
            let row = try #require(audit.last)
            #expect(row.actor == deputy.id)
            #expect(row.payload["delegation_number"] as? Int == number)
            #expect(row.payload["on_behalf_of_id"] as? String == world.town.users["v1secretary"]!.uuidString)
            #expect(row.payload["on_behalf_of_name"] as? String == "支部书记 v1secretary")
            // The delegation's own history: created by the signer.
            let delegationID = try #require(UUID(uuidString: created.json["id"] as? String ?? ""))
            let history = try await world.auditRows(of: delegationID, event: "create")
            #expect(history.map(\.actor) == [world.town.users["v1secretary"]!])

            // The web timeline says it in words.
            let session = try await client.webLogin("v1secretary")
            let page = try await client.page("/app/passes/\(pass)", session)
            #expect(page.text.contains("由 支部书记 v1deputy 代 支部书记 v1secretary 签（委托 #\(number)）"))
        }
    }

    @Test func aDelegationOutsideItsPeriodDoesNotApply() async throws {
        try await TestWorld.with { world, client in
            let deputy = try await world.addSigner("v1deputy", .branchSecretary, at: world.town.village1)
            let pass = try await world.passAtLevel3(client)
            let created = try await client.call(.post, "/delegations", token: try await world.token("v1secretary"), json: [
                "delegate_id": deputy.id.uuidString, "from": world.iso(days: 1), "until": world.iso(days: 2), "reason": "下周外出",
            ])
            #expect(created.status == .created, "\(created.text)")
            #expect(created.json["status"] as? String == "scheduled")
            let number = try #require(created.json["number"] as? Int)

            // Before its period: no mark in the inbox, and signing under it is refused.
            let early = try await client.call(.get, "/approvals/pending", token: try await world.token("v1deputy", deputy))
            #expect((early.json["items"] as? [[String: Any]])?.first?["on_behalf_of"] == nil)
            let before = try await world.snapshot(pass)
            let refused = try await client.call(.post, "/passes/\(pass)/sign", token: try await world.token("v1deputy", deputy),
                                                json: ["level": 3, "delegation": number])
            #expect(refused.status == .conflict)
            #expect(refused.code == "delegation_inactive")
            #expect(try await world.snapshot(pass) == before)

            // After it: refused again.
            world.clock.advance(by: 2 * 86_400 + 60)
            let late = try await client.call(.post, "/passes/\(pass)/sign", token: try await world.token("v1deputy", deputy),
                                             json: ["level": 3, "delegation": number])
            #expect(late.code == "delegation_inactive")
            let list = try await client.call(.get, "/delegations", token: try await world.token("v1secretary"))
            #expect((list.json["delegations"] as? [[String: Any]])?.first?["status"] as? String == "expired")
        }
    }

    @Test func aDelegationToSomeoneWithoutTheRoleOrJurisdictionIsRefusedWithAClearCode() async throws {
        try await TestWorld.with { world, client in
            let token = try await world.token("v1secretary")
            func attempt(_ fields: [String: Any]) async throws -> Reply {
                var json: [String: Any] = ["until": world.iso(days: 3), "reason": "外出"]
                json.merge(fields) { $1 }
                return try await client.call(.post, "/delegations", token: token, json: json)
            }
            // Same role, another village: it does not cover 联合村.
            let otherVillage = try await attempt(["delegate_id": world.town.users["v2secretary"]!.uuidString])
            #expect(otherVillage.status == .unprocessableContent)
            #expect(otherVillage.code == "delegation_invalid")
            // Another role over the same village.
            #expect(try await attempt(["delegate_id": world.town.users["v1stationed"]!.uuidString]).code == "delegation_invalid")
            // Oneself.
            #expect(try await attempt(["delegate_id": world.town.users["v1secretary"]!.uuidString]).code == "delegation_invalid")
            let deputy = try await world.addSigner("v1deputy", .branchSecretary, at: world.town.village1)
            // A period that ends before it starts, or lasts past 90 days.
            #expect(try await attempt(["delegate_id": deputy.id.uuidString, "from": world.iso(days: 3), "until": world.iso(days: 1)])
                .code == "delegation_invalid")
            #expect(try await attempt(["delegate_id": deputy.id.uuidString, "until": world.iso(days: 120)]).code == "delegation_invalid")
            #expect(try await attempt(["delegate_id": deputy.id.uuidString, "reason": "  "]).code == "reason_required")
            #expect(try await world.count("SELECT count(*)::int FROM instances WHERE kind = 'delegation'") == 0)

            // Someone other than the signer or an administrator cannot delegate their duties.
            let stranger = try await client.call(.post, "/delegations", token: try await world.token("gw1"), json: [
                "delegator_id": world.town.users["v1secretary"]!.uuidString, "delegate_id": deputy.id.uuidString,
                "until": world.iso(days: 3), "reason": "外出",
            ])
            #expect(stranger.code == "forbidden_role")
            // The township office can.
            let byAdmin = try await client.call(.post, "/delegations", token: try await world.token("admin"), json: [
                "delegator_id": world.town.users["v1secretary"]!.uuidString, "delegate_id": deputy.id.uuidString,
                "until": world.iso(days: 3), "reason": "住院",
            ])
            #expect(byAdmin.status == .created, "\(byAdmin.text)")
            #expect(byAdmin.json["created_by_admin"] as? Bool == true)
            // An overlapping one for the same role and unit is refused.
            let overlap = try await attempt(["delegate_id": deputy.id.uuidString, "from": world.iso(days: 1)])
            #expect(overlap.status == .conflict)
            #expect(overlap.code == "delegation_overlap")
            #expect(try await world.count("SELECT count(*)::int FROM instances WHERE kind = 'delegation'") == 1)
        }
    }

    @Test func fourEyesCountsBothTheDelegateAndThePersonSignedFor() async throws {
        try await TestWorld.with { world, client in
            // A delegate who signed level 2 in person may not sign level 3 for someone.
            let both = try await world.addSigner("v1both", .groupLeader, at: world.town.group1,
                                                 also: [(.branchSecretary, world.town.village1)])
            let pass = try await world.filedPass(client)
            let delegated = try await client.call(.post, "/delegations", token: try await world.token("v1secretary"), json: [
                "delegate_id": both.id.uuidString, "until": world.iso(days: 3), "reason": "外出",
            ])
            #expect(delegated.status == .created, "\(delegated.text)")
            let number = try #require(delegated.json["number"] as? Int)
            #expect(try await client.sign(world, pass: pass, by: "gw1", json: ["level": 1]).status == .ok)
            #expect(try await client.call(.post, "/passes/\(pass)/sign", token: try await world.token("v1both", both), json: ["level": 2]).status == .ok)
            let twice = try await client.call(.post, "/passes/\(pass)/sign", token: try await world.token("v1both", both),
                                              json: ["level": 3, "delegation": number])
            #expect(twice.code == "repeated_signer")
            #expect(twice.json["signed_level"] as? Int == 2)

            // A delegator who signed level 2 cannot have level 3 signed on their behalf either.
            let revoke = try await client.call(.post, "/delegations/\(number)/revoke", token: try await world.token("v1secretary"), json: [:])
            #expect(revoke.status == .ok)
            let second = try await client.call(.post, "/delegations", token: try await world.token("v1both", both), json: [
                "delegate_id": world.town.users["v1secretary"]!.uuidString, "role": "branch_secretary",
                "unit_id": world.town.village1.id.uuidString, "until": world.iso(days: 3), "reason": "外出",
            ])
            #expect(second.status == .created, "\(second.text)")
            let secondNumber = try #require(second.json["number"] as? Int)
            let onBehalf = try await client.call(.post, "/passes/\(pass)/sign", token: try await world.token("v1secretary"),
                                                 json: ["level": 3, "delegation": secondNumber])
            #expect(onBehalf.code == "repeated_signer")
            #expect(onBehalf.json["user_id"] as? String == both.id.uuidString)
            // In their own right the secretary signs: another person than the level 2 signer.
            let own = try await client.call(.post, "/passes/\(pass)/sign", token: try await world.token("v1secretary"), json: ["level": 3])
            #expect(own.status == .ok, "\(own.text)")
        }
    }

    @Test func revocationEndsADelegation() async throws {
        try await TestWorld.with { world, client in
            let deputy = try await world.addSigner("v1deputy", .branchSecretary, at: world.town.village1)
            let pass = try await world.passAtLevel3(client)
            let created = try await client.call(.post, "/delegations", token: try await world.token("v1secretary"), json: [
                "delegate_id": deputy.id.uuidString, "until": world.iso(days: 3), "reason": "外出",
            ])
            let number = try #require(created.json["number"] as? Int)
            let marked = try await client.call(.get, "/approvals/pending", token: try await world.token("v1deputy", deputy))
            #expect((marked.json["items"] as? [[String: Any]])?.first?["on_behalf_of"] != nil)

            // Only the two people or an administrator may end it.
            let stranger = try await client.call(.post, "/delegations/\(number)/revoke", token: try await world.token("v2secretary"), json: [:])
            #expect(stranger.code == "forbidden_role")
            let revoked = try await client.call(.post, "/delegations/\(number)/revoke", token: try await world.token("v1secretary"),
                                                json: ["reason": "提前回来了"])
            #expect(revoked.status == .ok, "\(revoked.text)")
            #expect(revoked.json["status"] as? String == "revoked")
            #expect(revoked.json["revoked_reason"] as? String == "提前回来了")
            let delegationID = try #require(UUID(uuidString: created.json["id"] as? String ?? ""))
            #expect(try await world.auditRows(of: delegationID, event: "revoke").count == 1)

            let unmarked = try await client.call(.get, "/approvals/pending", token: try await world.token("v1deputy", deputy))
            #expect((unmarked.json["items"] as? [[String: Any]])?.first?["on_behalf_of"] == nil)
            let refused = try await client.call(.post, "/passes/\(pass)/sign", token: try await world.token("v1deputy", deputy), json: ["level": 3, "delegation": number])
            #expect(refused.code == "delegation_inactive")
            let again = try await client.call(.post, "/delegations/\(number)/revoke", token: try await world.token("v1secretary"), json: [:])
            #expect(again.code == "invalid_transition")
            // Unknown numbers and strangers' reads answer not_found.
            #expect(try await client.call(.get, "/delegations/999", token: try await world.token("v1secretary")).code == "not_found")
            #expect(try await client.call(.get, "/delegations/\(number)", token: try await world.token("gw1")).code == "not_found")
            #expect(try await client.call(.get, "/delegations/x", token: try await world.token("gw1")).code == "invalid_id")
        }
    }

    @Test func anAdministratorReassignsAnOverdueLevelAndTheRemindersFollowTheNewHolder() async throws {
        try await TestWorld.with { world, client in
            let deputy = try await world.addSigner("v1deputy", .branchSecretary, at: world.town.village1)
            let pass = try await world.passAtLevel3(client)
            try await world.services.notificationWorker.runOnce()
            func reassign(_ json: [String: Any], by username: String = "admin") async throws -> Reply {
                try await client.call(.post, "/passes/\(pass)/reassign", token: try await world.token(username), json: json)
            }
            let toDeputy: [String: Any] = ["level": 3, "to_user_id": deputy.id.uuidString, "reason": "支部书记住院"]
            // Not overdue yet.
            let early = try await reassign(toDeputy)
            #expect(early.status == .conflict)
            #expect(early.code == "not_overdue")

            world.clock.advance(by: 24 * 3_600 + 60)
            try await world.services.notificationWorker.runOnce()
            // Both holders of the role were reminded at the limit.
            #expect(try await world.notices(of: "v1secretary", event: "timer.level_limit").count == 1)
            #expect(try await world.notices(ofUser: deputy.id, event: "timer.level_limit") == 1)

            #expect(try await reassign(toDeputy, by: "v1secretary").code == "forbidden_role")
            #expect(try await reassign(["level": 3, "to_user_id": deputy.id.uuidString, "reason": " "]).code == "reason_required")
            #expect(try await reassign(["level": 3, "to_user_id": world.town.users["v2secretary"]!.uuidString, "reason": "换人"])
                .code == "delegation_invalid")
            #expect(try await reassign(["level": 2, "to_user_id": deputy.id.uuidString, "reason": "换人"]).code == "out_of_order")
            let done = try await reassign(toDeputy)
            #expect(done.status == .ok, "\(done.text)")
            #expect(done.json["assigned_to_user_id"] as? String == deputy.id.uuidString)
            #expect(done.json["overdue"] as? Bool == false)
            let audit = try #require(try await world.auditRows(of: pass, event: "reassign").first)
            #expect(audit.reason == "支部书记住院")
            #expect(audit.payload["to_user_id"] as? String == deputy.id.uuidString)

            // The old holder no longer sees or signs it; the new one does.
            let oldInbox = try await client.call(.get, "/approvals/pending", token: try await world.token("v1secretary"))
            #expect((oldInbox.json["items"] as? [[String: Any]])?.isEmpty == true)
            let old = try await client.call(.post, "/passes/\(pass)/sign", token: try await world.token("v1secretary"), json: ["level": 3])
            #expect(old.status == .forbidden)
            #expect(old.code == "level_reassigned")
            let newInbox = try await client.call(.get, "/approvals/pending", token: try await world.token("v1deputy", deputy))
            #expect((newInbox.json["items"] as? [[String: Any]])?.first?["assigned_to_name"] as? String == "支部书记 v1deputy")

            // The next reminder goes to the new holder only, a full limit after the reassignment.
            world.clock.advance(by: 12 * 3_600)
            try await world.services.notificationWorker.runOnce()
            #expect(try await world.notices(ofUser: deputy.id, event: "timer.level_limit") == 1)
            world.clock.advance(by: 12 * 3_600 + 60)
            try await world.services.notificationWorker.runOnce()
            #expect(try await world.notices(ofUser: deputy.id, event: "timer.level_limit") == 2)
            #expect(try await world.notices(of: "v1secretary", event: "timer.level_limit").count == 1)

            let signed = try await client.call(.post, "/passes/\(pass)/sign", token: try await world.token("v1deputy", deputy),
                                               json: ["level": 3])
            #expect(signed.status == .ok, "\(signed.text)")
            #expect((signed.json["chain"] as? [[String: Any]])?[2]["status"] as? String == "signed")
        }
    }
}

/// A signer added for a test, with a token.
struct ExtraSigner: Sendable {
    var id: UUID
    var token: String
}

extension TestWorld {
    /// Adds an account holding `role` at `unit` (and any `also`), with the town's password.
    func addSigner(_ username: String, _ role: Role, at unit: OrgUnit, also: [(Role, OrgUnit)] = []) async throws -> ExtraSigner {
        let hash = try await self.services.accounts.hashPassword(TestTownship.password)
        let user = try await self.services.accounts.createUser(
            .init(username: username, displayName: "\(role.chineseName) \(username)", password: nil,
                  roles: [(role, unit.id)] + also.map { ($0.0, $0.1.id) }, passwordHash: hash),
            by: .bootstrap(self.town.township))
        return ExtraSigner(id: user.id, token: try await self.services.accounts.issueToken(userID: user.id).token)
    }

    /// A fresh token for an added signer (the clock may have passed the first one's lifetime).
    func token(_ username: String, _ signer: ExtraSigner) async throws -> String {
        try await self.services.accounts.issueToken(userID: signer.id).token
    }

    /// `days` from now on the manual clock, as RFC 3339.
    func iso(days: Double) -> String {
        self.clock.now().addingTimeInterval(days * 86_400).formatted(.iso8601)
    }

    /// A filed pass signed at levels 1 and 2, waiting for the branch secretary.
    func passAtLevel3(_ client: some TestClientProtocol) async throws -> UUID {
        let pass = try await self.filedPass(client)
        #expect(try await client.sign(self, pass: pass, by: "gw1", json: ["level": 1]).status == .ok)
        #expect(try await client.sign(self, pass: pass, by: "v1g1leader", json: ["level": 2]).status == .ok)
        return pass
    }

    struct AuditRow: Sendable {
        var actor: UUID?
        var reason: String?
        var payloadText: String

        var payload: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(self.payloadText.utf8)) as? [String: Any]) ?? [:]
        }
    }

    func auditRows(of subject: UUID, event: String) async throws -> [AuditRow] {
        try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT actor_user_id, reason, payload::text FROM audit_events WHERE subject_id = \(subject) AND event = \(event) ORDER BY id
                """, logger: self.database.logger)
            var found: [AuditRow] = []
            for try await (actor, reason, payload) in rows.decode((UUID?, String?, String).self) {
                found.append(AuditRow(actor: actor, reason: reason, payloadText: payload))
            }
            return found
        }
    }

    func notices(ofUser user: UUID, event: String) async throws -> Int {
        try await self.database.withConnection { connection in
            let rows = try await connection.query(
                "SELECT count(*)::int FROM notifications WHERE user_id = \(user) AND event = \(event)", logger: self.database.logger)
            for try await count in rows.decode(Int.self) { return count }
            return 0
        }
    }
}

/// The web pages: 委托代签 for a signer, 转交 on the administrators' pending overview.
@Suite("Delegation and reassignment web pages", .timeLimit(.minutes(3)))
struct DelegationWebTests {
    @Test func aSignerNamesADelegateOnTheWebAndTheDelegateSignsForThemThenRevokes() async throws {
        try await TestWorld.with { world, client in
            let deputy = try await world.addSigner("v1deputy", .branchSecretary, at: world.town.village1)
            let pass = try await world.passAtLevel3(client)
            let secretary = try await client.webLogin("v1secretary")
            let page = try await client.page("/app/delegations", secretary)
            #expect(page.status == .ok)
            let choice = try #require(page.text.firstMatch(of: /<option value="(branch_secretary\|[0-9a-f-]+\|[0-9a-f-]+)">支部书记 v1deputy/)?.1)
            let missing = try await client.form("/app/delegations", secretary, [
                "csrf": secretary.csrf, "idempotency_key": "web-d-0", "delegate": String(choice),
                "from": WebText.localInput(world.clock.now()), "until": WebText.localInput(world.clock.now().addingTimeInterval(86_400)),
                "reason": " ",
            ])
            #expect(missing.status == .unprocessableContent)
            #expect(missing.text.contains("请填写理由后再提交"))
            let created = try await client.form("/app/delegations", secretary, [
                "csrf": secretary.csrf, "idempotency_key": "web-d-1", "delegate": String(choice),
                "from": WebText.localInput(world.clock.now()), "until": WebText.localInput(world.clock.now().addingTimeInterval(3 * 86_400)),
                "reason": "到县里开会",
            ])
            #expect(created.status == .seeOther, "\(created.text)")
            let listed = try await client.page("/app/delegations", secretary)
            #expect(listed.text.contains("委托 #1"))
            #expect(listed.text.contains("生效中"))

            let delegate = try await client.webLogin("v1deputy")
            let inbox = try await client.page("/app/inbox", delegate)
            #expect(inbox.text.contains("代 支部书记 v1secretary 签（委托 #1）"))
            let detail = try await client.page("/app/passes/\(pass)", delegate)
            #expect(detail.text.contains("name=\"delegation\" value=\"1\""))
            let version = try await world.snapshot(pass).version
            let signed = try await client.form("/app/passes/\(pass)/sign", delegate, [
                "csrf": delegate.csrf, "idempotency_key": "web-s-1", "level": "3", "version": String(version), "delegation": "1",
            ])
            #expect(signed.status == .seeOther, "\(signed.text)")
            let after = try await client.page("/app/passes/\(pass)", secretary)
            #expect(after.text.contains("由 支部书记 v1deputy 代 支部书记 v1secretary 签（委托 #1）"))
            _ = deputy

            let revoked = try await client.form("/app/delegations/1/revoke", secretary, [
                "csrf": secretary.csrf, "idempotency_key": "web-r-1", "reason": "提前回来了",
            ], json: true)
            #expect(revoked.status == .ok, "\(revoked.text)")
            #expect(revoked.json["result"] as? String == "ok")
            #expect(try await client.page("/app/delegations", secretary).text.contains("已撤销"))
            // Without the CSRF token nothing happens.
            let forged = try await client.form("/app/delegations", secretary, ["delegate": String(choice), "reason": "x"])
            #expect(forged.status == .forbidden)
        }
    }

    @Test func theTownshipOfficeReassignsAnOverdueItemFromThePendingOverview() async throws {
        try await TestWorld.with { world, client in
            _ = try await world.addSigner("v1deputy", .branchSecretary, at: world.town.village1)
            let pass = try await world.passAtLevel3(client)
            let admin = try await client.webLogin("admin")
            #expect(!(try await client.page("/app/admin", admin).text.contains("/reassign")))
            let early = try await client.page("/app/admin/passes/\(pass)/reassign", admin)
            #expect(early.text.contains("只有逾期的事项才能转交"))

            world.clock.advance(by: 25 * 3_600)
            let admin2 = try await client.webLogin("admin")
            let overview = try await client.page("/app/admin", admin2)
            #expect(overview.text.contains("/app/admin/passes/\(pass.uuidString.lowercased())/reassign"))
            let form = try await client.page("/app/admin/passes/\(pass)/reassign", admin2)
            let deputy = try #require(form.text.firstMatch(of: /<option value="([0-9a-f-]+)">支部书记 v1deputy/)?.1)
            #expect(!form.text.contains(">支部书记 v2secretary"))
            let version = try await world.snapshot(pass).version
            let noReason = try await client.form("/app/admin/passes/\(pass)/reassign", admin2, [
                "csrf": admin2.csrf, "idempotency_key": "web-a-0", "level": "3", "version": String(version), "to": String(deputy),
                "reason": "",
            ])
            #expect(noReason.status == .unprocessableContent)
            #expect(noReason.text.contains("请填写理由"))
            let done = try await client.form("/app/admin/passes/\(pass)/reassign", admin2, [
                "csrf": admin2.csrf, "idempotency_key": "web-a-1", "level": "3", "version": String(version), "to": String(deputy),
                "reason": "支部书记住院",
            ])
            #expect(done.status == .seeOther, "\(done.text)")

            let original = try await client.webLogin("v1secretary")
            let page = try await client.page("/app/passes/\(pass)", original)
            #expect(page.text.contains("转交给 支部书记 v1deputy 办理，您不能再签"))
            #expect(!page.text.contains("action=\"/app/passes/\(pass.uuidString.lowercased())/sign\""))
            let holder = try await client.webLogin("v1deputy")
            #expect(try await client.page("/app/passes/\(pass)", holder).text.contains("action=\"/app/passes/\(pass.uuidString.lowercased())/sign\""))
        }
    }
}
