import Foundation
import HTTPTypes
import HummingbirdTesting
import PostgresNIO
import Testing
import SignoffCore
@testable import SignoffHTTP
import SignoffStore

/// 组织机构, 审计 and the rest of 账号管理 as the router serves them: a CSV upload previewed
/// with its bad lines named and nothing written, then imported whole; a record's history and
/// chain check, a tampered row named on both the record's page and the whole-trail check;
/// accounts made with a role and a reason, roles granted and taken away, a worker's slip.
@Suite("Web app: organisation, audit and accounts", .timeLimit(.minutes(3)))
struct OrganisationAuditWebTests {
    static func upload(_ client: any TestClientProtocol, _ session: WebBrowserSession, csv: String) async throws -> Reply {
        let boundary = "----signoff-test-boundary"
        let body = """
            --\(boundary)\r
            Content-Disposition: form-data; name="csrf"\r
            \r
            \(session.csrf)\r
            --\(boundary)\r
            Content-Disposition: form-data; name="file"; filename="township.csv"\r
            Content-Type: text/csv\r
            \r
            \(csv)\r
            --\(boundary)--\r

            """
        return try await client.call(.post, "/app/admin/units/import", raw: body, headers: [
            .contentType: "multipart/form-data; boundary=\(boundary)", .cookie: session.cookie,
        ])
    }

    /// Runs the check's batches here until it is finished; the page's own runner may hold the
    /// job row for a batch meanwhile (then this waits for it), as another instance would.
    static func finish(_ store: AuditCheckStore, _ id: UUID) async throws -> AuditCheck {
        for _ in 0..<2_000 {
            try await store.runBatch(id: id)
            let check = try await store.check(id: id)
            if check.status != .running { return check }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try await store.check(id: id)
    }

    static func unitCount(_ world: TestWorld) async throws -> Int {
        try await world.database.withConnection { connection in
            let rows = try await connection.query("SELECT count(*)::int FROM units", logger: world.database.logger)
            var count = 0
            for try await value in rows.decode(Int.self) { count = value }
            return count
        }
    }

    @Test func anUploadWithABadLineNamesItAndWritesNothingThenAGoodOneImportsWhole() async throws {
        try await TestWorld.with { world, client in
            let admin = try await client.webLogin("admin")
            let tree = try await client.page("/app/admin/units", admin)
            #expect(tree.status == .ok)
            #expect(tree.text.contains("联合村"))
            #expect(tree.text.contains("第3网格"))
            #expect(tree.text.contains("enctype=\"multipart/form-data\""))
            #expect(!tree.text.contains("{{"))
            let before = try await Self.unitCount(world)

            let bad = """
                record,code,parent,name,poor,id_number,phone,address
                village,v9,twp,新华村,,,,
                group,v9g1,nowhere,新华村1组,,,,
                grid,v9g1w1,v9g1,新华村第1网格,,,,
                """
            let refused = try await Self.upload(client, admin, csv: bad)
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("第3行"))
            #expect(refused.text.contains("上级单位「nowhere」"))
            #expect(refused.text.contains("什么都没有导入"))
            #expect(!refused.text.contains("确认导入"))
            #expect(try await Self.unitCount(world) == before)

            let good = bad.replacingOccurrences(of: "nowhere", with: "v9")
            let preview = try await Self.upload(client, admin, csv: good)
            #expect(preview.status == .ok, "\(preview.text)")
            #expect(preview.text.contains("单位 3 个"))
            #expect(preview.text.contains("新华村1组"))
            // The preview wrote nothing either.
            #expect(try await Self.unitCount(world) == before)
            let carried = try #require(preview.text.firstMatch(of: /name="csv" value="([^"]*)"/)?.1)
            let csv = String(carried).replacingOccurrences(of: "&#10;", with: "\n").replacingOccurrences(of: "&#39;", with: "'")
                .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&lt;", with: "<")
                .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
            #expect(csv.contains("v9g1w1"))

            let noToken = try await client.form("/app/admin/units/import/confirm", admin, ["csv": csv])
            #expect(noToken.status == .forbidden)
            #expect(try await Self.unitCount(world) == before)

            let done = try await client.form("/app/admin/units/import/confirm", admin, ["csrf": admin.csrf, "csv": csv])
            #expect(done.status == .seeOther)
            #expect(done.headers[.location] == "/app/admin/units?imported=3,0,0")
            #expect(try await Self.unitCount(world) == before + 3)
            let after = try await client.page("/app/admin/units?imported=3,0,0", admin)
            #expect(after.text.contains("新华村第1网格"))
            #expect(after.text.contains("导入完成"))

            // The same file again: every code exists now, all rows refused, nothing written.
            let again = try await client.form("/app/admin/units/import/confirm", admin, ["csrf": admin.csrf, "csv": csv])
            #expect(again.status == .unprocessableContent)
            #expect(again.text.contains("单位编码「v9」已存在"))
            #expect(try await Self.unitCount(world) == before + 3)

            // A village administrator sees the tree of their village but may not import.
            let village = try await client.webLogin("v1admin")
            let theirs = try await client.page("/app/admin/units", village)
            #expect(theirs.text.contains("联合村1组"))
            #expect(!theirs.text.contains("民主村"))
            #expect(!theirs.text.contains("导入乡镇CSV"))
        }
    }

    @Test func aRecordsHistoryAndChainCheckNameATamperedRow() async throws {
        try await TestWorld.with { world, client in
            let (vehicle, _) = try await client.registerVehicle(world, plate: "川Q 66001", grid: world.town.grid1, by: "gw1")
            world.clock.advance(days: 14)
            let pass = try await client.applyForPass(world, vehicle: vehicle, by: "gw1")
            let id = pass.uuidString.lowercased()
            let admin = try await client.webLogin("admin")

            let detail = try await client.page("/app/passes/\(id)", admin)
            #expect(detail.text.contains("href=\"/app/audit/\(id)\""))
            let history = try await client.page("/app/audit/\(id)", admin)
            #expect(history.status == .ok)
            #expect(history.text.contains("完整：本记录的 1 条审计记录"))
            #expect(history.text.contains("网格员"))
            #expect(history.text.contains("第1网格"))
            #expect(history.text.contains("请求编号"))
            #expect(!history.text.contains("{{"))

            // A grid worker of another village may not read it; an unknown id is not found.
            let outsider = try await client.webLogin("gw3")
            #expect(try await client.page("/app/audit/\(id)", outsider).status == .forbidden)
            #expect(try await client.page("/app/audit/\(UUID().uuidString)", admin).status == .notFound)

            // Tamper with the row behind the triggers' back, as an intruder with the database would.
            let rowID = try await world.database.withConnection { connection in
                try await connection.query("ALTER TABLE audit_events DISABLE TRIGGER audit_append_only", logger: world.database.logger)
                try await connection.query("UPDATE audit_events SET actor_name = 'someone else' WHERE subject_id = \(pass)",
                                           logger: world.database.logger)
                try await connection.query("ALTER TABLE audit_events ENABLE TRIGGER audit_append_only", logger: world.database.logger)
                let rows = try await connection.query("SELECT id FROM audit_events WHERE subject_id = \(pass)", logger: world.database.logger)
                var id = 0
                for try await value in rows.decode(Int.self) { id = value }
                return id
            }
            let tampered = try await client.page("/app/audit/\(id)", admin)
            #expect(tampered.text.contains("第1条（审计行 #\(rowID)）内容与哈希不符"))
            #expect(tampered.text.contains("audit-broken"))

            // The whole-trail check, started from the page, finds the same row first.
            let overview = try await client.page("/app/admin/audit", admin)
            #expect(overview.text.contains("开始核验"))
            let started = try await client.form("/app/admin/audit/checks", admin, ["csrf": admin.csrf])
            #expect(started.status == .seeOther)
            let location = try #require(started.headers[.location])
            let checkID = try #require(UUID(uuidString: String(location.split(separator: "/").last ?? "")))
            // Small batches, so the job takes several steps (and the page's own runner may share them).
            var store = AuditCheckStore(database: world.database, clock: world.clock)
            store.batchSize = 2
            let check = try await Self.finish(store, checkID)
            #expect(check.status == .broken)
            #expect(check.firstBrokenRow == rowID)
            #expect(check.rowsChecked == check.rowsTotal)
            let page = try await client.page(location, admin)
            #expect(page.text.contains("第一处损坏：审计行 #\(rowID)"))
            #expect(page.text.contains("href=\"/app/audit/\(id)\""))
            #expect(page.text.contains("<progress id=\"job-progress\" max=\"100\" value=\"100\""))
            #expect(!page.text.contains("http-equiv=\"refresh\""))

            let heads = try await client.page("/app/admin/audit/heads.txt", admin)
            #expect(heads.status == .ok)
            #expect(heads.headers[.contentDisposition]?.contains("signoff-audit-heads-2020-02-24.txt") == true)
            #expect(heads.text.contains("vehicle_pass/\(id)@1"))
            let lines = heads.text.split(separator: "\n").filter { !$0.hasPrefix("#") }
            let digest = try #require(heads.text.firstMatch(of: /# sha256-of-lines: ([0-9a-f]{64})/)?.1)
            #expect(digest.count == 64)
            #expect(!lines.isEmpty)
            #expect(try await client.page("/app/admin/audit", try await client.webLogin("v1admin")).status == .forbidden)
        }
    }

    @Test func anIntactTrailChecksIntactAcrossBatches() async throws {
        try await TestWorld.with { world, client in
            let admin = try await client.webLogin("admin")
            let started = try await client.form("/app/admin/audit/checks", admin, ["csrf": admin.csrf])
            let location = try #require(started.headers[.location])
            let checkID = try #require(UUID(uuidString: String(location.split(separator: "/").last ?? "")))
            // A second start while it runs shows the same job.
            var store = AuditCheckStore(database: world.database, clock: world.clock)
            store.batchSize = 3
            let check = try await Self.finish(store, checkID)
            #expect(check.status == .intact)
            #expect(check.rowsChecked == check.rowsTotal)
            #expect(check.subjectsChecked == check.subjectsTotal)
            let page = try await client.page(location, admin)
            #expect(page.text.contains("完整：所有"))
        }
    }

    @Test func accountsAreMadeWithARoleAndAReasonAndRolesChange() async throws {
        try await TestWorld.with { world, client in
            let admin = try await client.webLogin("admin")
            let form = try await client.page("/app/admin/users/new", admin)
            #expect(form.status == .ok)
            #expect(form.text.contains("第1网格（网格）"))
            let missing = try await client.form("/app/admin/users/new", admin, [
                "csrf": admin.csrf, "username": "gw9", "display_name": "新网格员", "password": "longenough1",
                "role": "grid_worker", "unit_id": world.town.grid2.id.uuidString, "reason": "",
            ])
            #expect(missing.status == .unprocessableContent)
            #expect(missing.text.contains("请填写理由"))
            let wrongUnit = try await client.form("/app/admin/users/new", admin, [
                "csrf": admin.csrf, "username": "gw9", "display_name": "新网格员", "password": "longenough1",
                "role": "grid_worker", "unit_id": world.town.village1.id.uuidString, "reason": "新增网格员",
            ])
            #expect(wrongUnit.status == .unprocessableContent)
            #expect(wrongUnit.text.contains("该角色不能设在所选单位"))
            let made = try await client.form("/app/admin/users/new", admin, [
                "csrf": admin.csrf, "username": "gw9", "display_name": "新网格员", "password": "longenough1",
                "role": "grid_worker", "unit_id": world.town.grid2.id.uuidString, "reason": "新增网格员",
            ])
            #expect(made.status == .seeOther, "\(made.text)")
            let location = try #require(made.headers[.location])
            let userID = try #require(UUID(uuidString: String(location.dropFirst("/app/admin/users/".count).prefix(36))))
            let page = try await client.page(location, admin)
            #expect(page.text.contains("账号已新建"))
            #expect(page.text.contains("网格员（第2网格）"))

            let granted = try await client.form("/app/admin/users/\(userID.uuidString.lowercased())/roles", admin, [
                "csrf": admin.csrf, "role": "group_leader", "unit_id": world.town.group1.id.uuidString, "reason": "兼任组长",
            ])
            #expect(granted.status == .seeOther)
            let revoked = try await client.form("/app/admin/users/\(userID.uuidString.lowercased())/roles/revoke", admin, [
                "csrf": admin.csrf, "role": "grid_worker", "unit_id": world.town.grid2.id.uuidString, "reason": "",
            ])
            #expect(revoked.status == .unprocessableContent)
            let revokedNow = try await client.form("/app/admin/users/\(userID.uuidString.lowercased())/roles/revoke", admin, [
                "csrf": admin.csrf, "role": "grid_worker", "unit_id": world.town.grid2.id.uuidString, "reason": "不再负责网格",
            ])
            #expect(revokedNow.status == .seeOther)
            let user = try await world.services.accounts.user(id: userID)
            #expect(user.roles.map(\.role) == [.groupLeader])
            let trail = try await world.database.withConnection { try await AuditLog.history(subjectID: userID, on: $0, logger: world.database.logger) }
            #expect(trail.map(\.event) == ["create", "grant_role", "revoke_role"])
            #expect(trail.map(\.reason) == ["新增网格员", "兼任组长", "不再负责网格"])

            // Every change of the account on the page needs a reason, a reactivation too.
            let base = "/app/admin/users/\(userID.uuidString.lowercased())"
            #expect(try await client.form(base + "/suspend", admin, ["csrf": admin.csrf, "reason": "借调"]).status == .seeOther)
            let bare = try await client.form(base + "/reactivate", admin, ["csrf": admin.csrf, "reason": " "])
            #expect(bare.status == .unprocessableContent)
            #expect(bare.text.contains("请填写理由"))
            #expect(try await client.form(base + "/reactivate", admin, ["csrf": admin.csrf, "reason": "借调结束"]).status == .seeOther)
        }
    }

    @Test func aWorkersAccountGetsAPrintableSlipWithItsCode() async throws {
        try await TestWorld.with { world, client in
            let household = try await world.household(in: world.town.grid1, code: "hh-slip")
            let admin = try await client.webLogin("admin")
            let search = try await client.page("/app/admin/workers/new?q=hh-slip", admin)
            #expect(search.status == .ok)
            #expect(search.text.contains(household.person.name))
            let slip = try await client.form("/app/admin/workers", admin, [
                "csrf": admin.csrf, "person_id": household.person.id.uuidString, "phone": "13900001111", "reason": "外出务工需要健康证",
            ])
            #expect(slip.status == .created, "\(slip.text)")
            let code = try #require(slip.text.firstMatch(of: /aria-label="激活码 ([0-9]{8})"/)?.1)
            #expect(slip.text.contains(String(code.prefix(4)) + " " + String(code.dropFirst(4))))
            #expect(slip.text.contains("/app/activate"))
            #expect(slip.text.contains("13900001111"))
            // The code works once, as the grid worker's would.
            try await world.services.workers.activate(login: "13900001111", code: String(code), password: "worker-password")
            let again = try await client.page("/app/admin/workers/new?q=hh-slip", admin)
            #expect(again.text.contains("已有账号"))
        }
    }
}
