import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import SignoffCore
import SignoffStore

/// A browser as the router sees it: the session cookie, CSRF tokens, Chinese pages for every
/// failure, and the decisions going through the one transition path.
@Suite("Web app: sessions, CSRF, pages and decisions", .timeLimit(.minutes(2)))
struct WebSessionTests {
    @Test func aLoginSetsAStrictHttpOnlyCookieAndEveryPageRenders() async throws {
        try await TestWorld.with { world, client in
            let (vehicle, _) = try await client.registerVehicle(world, plate: "川Q 66001", grid: world.town.grid1, by: "gw1")
            world.clock.advance(days: 14)
            let pass = try await client.applyForPass(world, vehicle: vehicle, by: "gw1")
            let session = try await client.webLogin("gw1")

            let home = try await client.page("/app", session)
            #expect(home.status == .ok)
            #expect(home.text.contains("待我审批"))
            #expect(home.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
            let inbox = try await client.page("/app/inbox", session)
            #expect(inbox.status == .ok)
            #expect(inbox.text.contains("川Q66001"))
            #expect(inbox.text.contains("第1级 网格员"))
            for tab in ["done", "all"] {
                let other = try await client.page("/app/inbox?tab=\(tab)", session)
                #expect(other.status == .ok, "\(tab)")
            }
            let detail = try await client.page("/app/passes/\(pass)", session)
            #expect(detail.status == .ok)
            #expect(detail.text.contains("当前待签人"))
            #expect(detail.text.contains("网格员"))
            #expect(!detail.text.contains("{{"))
            let missing = try await client.page("/app/no-such-page", session)
            #expect(missing.status == .notFound)
            #expect(missing.text.contains("没有这个页面"))
        }
    }

    @Test func withoutASessionPagesRedirectToLoginAndJSONSaysLogin() async throws {
        try await TestWorld.with { _, client in
            let page = try await client.call(.get, "/app/inbox")
            #expect(page.status == .seeOther)
            #expect(page.headers[.location] == "/app/login?next=/app/inbox")
            let json = try await client.call(.post, "/app/passes/\(UUID())/sign", raw: "level=1", headers: [.accept: "application/json"])
            #expect(json.status == .unauthorized)
            #expect(json.json["result"] as? String == "login")
        }
    }

    @Test func aDecisionNeedsTheCSRFTokenAndAReplayIsTheSameDecision() async throws {
        try await TestWorld.with { world, client in
            let (vehicle, _) = try await client.registerVehicle(world, plate: "川Q 66002", grid: world.town.grid1, by: "gw1")
            world.clock.advance(days: 14)
            let pass = try await client.applyForPass(world, vehicle: vehicle, by: "gw1")
            let session = try await client.webLogin("gw1")
            let before = try await world.snapshot(pass)

            let forged = try await client.form("/app/passes/\(pass)/sign", session, ["level": "1", "csrf": String(repeating: "0", count: 64)])
            #expect(forged.status == .forbidden)
            let bare = try await client.form("/app/passes/\(pass)/sign", session, ["level": "1"])
            #expect(bare.status == .forbidden)
            #expect(try await world.snapshot(pass) == before)

            let fields = ["level": "1", "version": String(before.version), "csrf": session.csrf, "idempotency_key": "web-test-1"]
            let first = try await client.form("/app/passes/\(pass)/sign", session, fields)
            #expect(first.status == .seeOther)
            #expect(first.headers[.location] == "/app/passes/\(pass.uuidString.lowercased())?done=sign")
            let again = try await client.form("/app/passes/\(pass)/sign", session, fields, json: true)
            #expect(again.json["result"] as? String == "replayed")
            #expect(try await world.snapshot(pass).auditRows == before.auditRows + 1)

            // The same page submitted again with a new key is stale: the pass moved on.
            var stale = fields
            stale["idempotency_key"] = "web-test-2"
            let conflict = try await client.form("/app/passes/\(pass)/sign", session, stale)
            #expect(conflict.status == .conflict)
            #expect(conflict.text.contains("该事项已由他人处理"))
            let conflictJSON = try await client.form("/app/passes/\(pass)/sign", session, stale.merging(["idempotency_key": "web-test-3"]) { $1 }, json: true)
            #expect(conflictJSON.json["result"] as? String == "conflict")
            #expect((conflictJSON.json["message"] as? String)?.contains("第2级") == true)
            #expect(try await world.snapshot(pass).auditRows == before.auditRows + 1)
        }
    }

    @Test func aRejectionWithoutAReasonIsRefusedOnThePageAndNothingChanges() async throws {
        try await TestWorld.with { world, client in
            let (vehicle, _) = try await client.registerVehicle(world, plate: "川Q 66003", grid: world.town.grid1, by: "gw1")
            world.clock.advance(days: 14)
            let pass = try await client.applyForPass(world, vehicle: vehicle, by: "gw1")
            let session = try await client.webLogin("gw1")
            let before = try await world.snapshot(pass)
            let refused = try await client.form("/app/passes/\(pass)/reject", session,
                                                ["level": "1", "reason": "  ", "csrf": session.csrf, "idempotency_key": "web-r-1"])
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("请填写理由"))
            #expect(try await world.snapshot(pass) == before)
            // A NUL in a field is dropped, not sent to PostgreSQL.
            let rejected = try await client.form("/app/passes/\(pass)/reject", session,
                                                 ["level": "1", "reason": "号牌\u{0}不符", "csrf": session.csrf, "idempotency_key": "web-r-2"])
            #expect(rejected.status == .seeOther)
            let shown = try await client.call(.get, "/passes/\(pass)", token: try await world.token("gw1"))
            let chain = try #require(shown.json["chain"] as? [[String: Any]])
            #expect(chain[0]["reason"] as? String == "号牌不符")
        }
    }

    @Test func anotherJurisdictionGetsARefusalPageAndLogoutEndsTheSession() async throws {
        try await TestWorld.with { world, client in
            let (vehicle, _) = try await client.registerVehicle(world, plate: "川Q 66004", grid: world.town.grid1, by: "gw1")
            world.clock.advance(days: 14)
            let pass = try await client.applyForPass(world, vehicle: vehicle, by: "gw1")
            let outsider = try await client.webLogin("gw3")
            let refused = try await client.page("/app/passes/\(pass)", outsider)
            #expect(refused.status == .forbidden)
            #expect(refused.text.contains("不在您的辖区内"))
            let logout = try await client.form("/app/logout", outsider, ["csrf": outsider.csrf])
            #expect(logout.status == .seeOther)
            let after = try await client.page("/app/inbox", outsider)
            #expect(after.status == .seeOther)
        }
    }
}

/// A signed-in browser: its session cookie and the CSRF token its pages carry.
struct WebBrowserSession: Sendable {
    var cookie: String
    var csrf: String
}

extension TestClientProtocol {
    func webLogin(_ username: String, password: String = TestTownship.password) async throws -> WebBrowserSession {
        let page = try await self.call(.get, "/app/login")
        let setCookie = try #require(page.headers[values: .setCookie].first { $0.hasPrefix("signoff_login=") })
        let nonce = String(setCookie.dropFirst("signoff_login=".count).prefix { $0 != ";" })
        let body = "nonce=\(nonce)&login=\(username)&password=\(password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
        let reply = try await self.call(.post, "/app/login", raw: body, headers: [
            .contentType: "application/x-www-form-urlencoded", .cookie: "signoff_login=\(nonce)",
        ])
        #expect(reply.status == .seeOther, "\(reply.text)")
        let session = try #require(reply.headers[values: .setCookie].first { $0.hasPrefix("signoff_session=") })
        #expect(session.contains("HttpOnly"))
        #expect(session.contains("SameSite=Strict"))
        let token = String(session.dropFirst("signoff_session=".count).prefix { $0 != ";" })
        let home = try await self.call(.get, "/app", headers: [.cookie: "signoff_session=\(token)"])
        let csrf = try #require(home.text.firstMatch(of: /name="signoff-csrf" content="([0-9a-f]{64})"/)?.1)
        return WebBrowserSession(cookie: "signoff_session=\(token)", csrf: String(csrf))
    }

    func page(_ uri: String, _ session: WebBrowserSession) async throws -> Reply {
        try await self.call(.get, uri, headers: [.cookie: session.cookie])
    }

    func form(_ uri: String, _ session: WebBrowserSession, _ fields: [String: String], json: Bool = false) async throws -> Reply {
        let body = fields.sorted { $0.key < $1.key }.map { key, value in
            "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
        }.joined(separator: "&")
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: session.cookie]
        if json { headers[.accept] = "application/json" }
        return try await self.call(.post, uri, raw: body, headers: headers)
    }
}
