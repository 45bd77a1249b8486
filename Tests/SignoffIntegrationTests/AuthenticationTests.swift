import Foundation
import HTTPTypes
import Testing
import SignoffCore
@testable import SignoffStore

@Suite("Login, tokens and lockout", .timeLimit(.minutes(2)))
struct AuthenticationTests {
    @Test func loginIssuesATokenThatWorksUntilLogout() async throws {
        try await TestWorld.with { world, client in
            let login = try await client.call(.post, "/auth/login", json: ["login": "gw1", "password": TestTownship.password])
            #expect(login.status == .ok)
            let token = try #require(login.json["token"] as? String)
            #expect(token.hasPrefix("sgf_"))

            let me = try await client.call(.get, "/me", token: token)
            #expect(me.status == .ok)
            #expect(me.json["username"] as? String == "gw1")

            #expect(try await client.call(.post, "/auth/logout", token: token).status == .noContent)
            let after = try await client.call(.get, "/me", token: token)
            #expect(after.status == .unauthorized)
            #expect(after.code == "unauthenticated")
        }
    }

    @Test func tokensStoreOnlyAHash() async throws {
        try await TestWorld.with { world, client in
            let login = try await client.call(.post, "/auth/login", json: ["login": "gw1", "password": TestTownship.password])
            let token = try #require(login.json["token"] as? String)
            let stored = try await world.database.withConnection { connection in
                let rows = try await connection.query("SELECT token_hash FROM auth_tokens", logger: world.database.logger)
                var hashes: [Data] = []
                for try await hash in rows.decode(Data.self) { hashes.append(hash) }
                return hashes
            }
            #expect(stored.contains(AccountStore.digest(token)))
            #expect(!stored.contains(Data(token.utf8)))
        }
    }

    @Test func tokenExpires() async throws {
        try await TestWorld.with { world, client in
            let token = world.town.tokens["gw1"]!
            #expect(try await client.call(.get, "/me", token: token).status == .ok)
            world.clock.advance(by: world.services.accounts.settings.tokenLifetime + 1)
            let expired = try await client.call(.get, "/me", token: token)
            #expect(expired.status == .unauthorized)
            #expect(expired.code == "unauthenticated")
        }
    }

    @Test func wrongPasswordAndUnknownLoginLookTheSame() async throws {
        try await TestWorld.with { _, client in
            let wrong = try await client.call(.post, "/auth/login", json: ["login": "gw1", "password": "not the password"])
            let unknown = try await client.call(.post, "/auth/login", json: ["login": "nobody", "password": "not the password"])
            #expect(wrong.status == .unauthorized)
            #expect(wrong.code == "invalid_credentials")
            #expect(unknown.status == .unauthorized)
            #expect(unknown.code == "invalid_credentials")
            #expect(wrong.json["detail"] as? String == unknown.json["detail"] as? String)
        }
    }

    @Test func repeatedFailuresLockTheAccountForAWhile() async throws {
        try await TestWorld.with { world, client in
            let settings = world.services.accounts.settings
            for _ in 0..<settings.maxFailures {
                let reply = try await client.call(.post, "/auth/login", json: ["login": "gw1", "password": "guess guess"])
                #expect(reply.status == .unauthorized)
            }
            // Locked: even the right password is refused, with a Retry-After.
            let locked = try await client.call(.post, "/auth/login", json: ["login": "gw1", "password": TestTownship.password])
            #expect(locked.status == .tooManyRequests)
            #expect(locked.code == "too_many_attempts")
            let retryAfter = try #require(locked.headers[.retryAfter].flatMap { Int($0) })
            #expect(retryAfter > 0 && retryAfter <= Int(settings.lockDuration))
            // Another account is not affected.
            #expect(try await client.call(.post, "/auth/login", json: ["login": "gw2", "password": TestTownship.password]).status == .ok)

            world.clock.advance(by: settings.lockDuration + 1)
            let unlocked = try await client.call(.post, "/auth/login", json: ["login": "gw1", "password": TestTownship.password])
            #expect(unlocked.status == .ok)
        }
    }

    @Test func suspendedAccountsCannotLogInOrUseTheirTokens() async throws {
        try await TestWorld.with { world, client in
            let token = world.town.tokens["gw1"]!
            let suspend = try await client.call(.post, "/users/\(world.town.users["gw1"]!)/suspend",
                                                token: world.town.tokens["admin"], json: ["reason": "离岗 (left post)"])
            #expect(suspend.status == .ok)
            #expect(suspend.json["status"] as? String == "suspended")
            #expect(try await client.call(.get, "/me", token: token).status == .unauthorized)
            let login = try await client.call(.post, "/auth/login", json: ["login": "gw1", "password": TestTownship.password])
            #expect(login.status == .forbidden)
            #expect(login.code == "account_suspended")
        }
    }
}

@Suite("401 versus 403", .timeLimit(.minutes(2)))
struct AuthorizationTests {
    @Test func noTokenIs401AndAWrongRoleIs403() async throws {
        try await TestWorld.with { world, client in
            let anonymous = try await client.call(.get, "/users")
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.code == "unauthenticated")

            let bogus = try await client.call(.get, "/users", token: "sgf_not_a_real_token")
            #expect(bogus.status == .unauthorized)

            let gridWorker = try await client.call(.get, "/users", token: world.town.tokens["gw1"])
            #expect(gridWorker.status == .forbidden)
            #expect(gridWorker.code == "forbidden_role")

            #expect(try await client.call(.get, "/users", token: world.town.tokens["admin"]).status == .ok)
        }
    }

    @Test func anAdministratorActsOnlyInsideTheirSubtree() async throws {
        try await TestWorld.with { world, client in
            let villageAdmin = world.town.tokens["v1admin"]!
            // gw3 lives in village 2.
            let outside = try await client.call(.post, "/users/\(world.town.users["gw3"]!)/suspend",
                                                token: villageAdmin, json: ["reason": "test"])
            #expect(outside.status == .forbidden)
            #expect(outside.code == "out_of_jurisdiction")
            let inside = try await client.call(.post, "/users/\(world.town.users["gw1"]!)/suspend",
                                               token: villageAdmin, json: ["reason": "test"])
            #expect(inside.status == .ok)

            // Listing shows only village 1's accounts.
            let list = try await client.call(.get, "/users", token: villageAdmin)
            let names = Set((list.json["users"] as? [[String: Any]] ?? []).compactMap { $0["username"] as? String })
            #expect(names.contains("gw1"))
            #expect(!names.contains("gw3"))
        }
    }
}
