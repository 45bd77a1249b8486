import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import SignoffCore
@testable import SignoffHTTP
@testable import SignoffStore

/// The per-account and per-address rate limits on writes: `429 too_many_requests` with
/// `Retry-After`, counted in PostgreSQL so that every instance on the database sees the same counts.
@Suite("Rate limits on writes", .timeLimit(.minutes(2)))
struct WriteLimitTests {
    static func newUser(_ name: String, _ world: TestWorld) -> [String: Any] {
        ["username": name, "display_name": name, "password": "limits-pw-123",
         "roles": [["role": "grid_worker", "unit_id": world.town.grid1.id.uuidString]]]
    }

    static func expectTooMany(_ reply: Reply, _ what: String) {
        #expect(reply.status == .tooManyRequests, "\(what): \(reply.text)")
        #expect(reply.code == "too_many_requests", "\(what)")
        let retryAfter = Int(reply.headers[.retryAfter] ?? "") ?? 0
        #expect((1...60).contains(retryAfter), "\(what): Retry-After \(retryAfter)")
    }

    @Test func anAccountPastItsLimitGets429AndNothingIsSavedUntilTheNextWindow() async throws {
        try await TestWorld.with(writeLimits: WriteLimits(perAccount: 3, perAddress: 0, windowSeconds: 60)) { world, client in
            let admin = try await world.token("admin")
            for index in 1...3 {
                let created = try await client.call(.post, "/users", token: admin, json: Self.newUser("limited\(index)", world))
                #expect(created.status == .created, "\(created.text)")
            }
            let refused = try await client.call(.post, "/users", token: admin, json: Self.newUser("limited4", world))
            Self.expectTooMany(refused, "fourth write")
            #expect(refused.headers[.contentType] == "application/problem+json")
            #expect(refused.json["scope"] as? String == "account")
            #expect(try await world.count("SELECT count(*)::int FROM users WHERE username = 'limited4'") == 0)
            // Reads are not counted, and another account has its own budget.
            #expect(try await client.call(.get, "/me", token: admin).status == .ok)
            let other = try await client.call(.post, "/users", token: try await world.token("v1admin"), json: Self.newUser("limited5", world))
            #expect(other.status == .created, "\(other.text)")
            // The next window starts afresh.
            world.clock.advance(by: 60)
            let later = try await client.call(.post, "/users", token: admin, json: Self.newUser("limited6", world))
            #expect(later.status == .created, "\(later.text)")
        }
    }

    /// A write's count is taken in the transaction its transition adopts (`Database.scoped`):
    /// when the transition is refused and rolls back, the count still stands.
    @Test func aRefusedWriteStillCountsAndChangesNothing() async throws {
        try await TestWorld.with(writeLimits: WriteLimits(perAccount: 3, perAddress: 0, windowSeconds: 60)) { world, client in
            let (vehicle, _) = try await client.registerVehicle(world, plate: "川Q33333", grid: world.town.grid1, by: "gw1")
            world.clock.advance(days: 14)
            let pass = try await client.applyForPass(world, vehicle: vehicle, by: "gw1")
            let before = try await world.snapshot(pass)
            let audit = try await world.totalAuditRows()
            // Level 3 before level 1: refused inside the transition, three times.
            for attempt in 1...3 {
                let refused = try await client.sign(world, pass: pass, by: "v1secretary")
                #expect(refused.code == "out_of_order", "attempt \(attempt): \(refused.text)")
            }
            Self.expectTooMany(try await client.sign(world, pass: pass, by: "v1secretary"), "fourth write after three refused ones")
            #expect(try await world.snapshot(pass) == before)
            #expect(try await world.totalAuditRows() == audit)
            // Another account's writes are unaffected, and the pass moves on.
            #expect(try await client.sign(world, pass: pass, by: "gw1").status == .ok)
        }
    }

    @Test func twoInstancesOnOneDatabaseShareTheCounts() async throws {
        let limits = WriteLimits(perAccount: 4, perAddress: 0, windowSeconds: 60)
        try await TestWorld.with(writeLimits: limits) { world, first in
            // A second service with its own router and pool state, on the same database.
            let services = SignoffServices(database: world.database, clock: world.clock,
                                           accountSettings: TestWorld.accountSettings(), writeLimits: limits)
            let app = Application(router: buildRouter(services), logger: TestCluster.logger)
            try await app.test(.router) { second in
                let admin = try await world.token("admin")
                var statuses: [HTTPResponse.Status] = []
                for index in 1...5 {
                    let client: any TestClientProtocol = index.isMultiple(of: 2) ? second : first
                    statuses.append(try await client.call(.post, "/users", token: admin, json: Self.newUser("shared\(index)", world)).status)
                }
                #expect(statuses == [.created, .created, .created, .created, .tooManyRequests])
                Self.expectTooMany(try await first.call(.post, "/users", token: admin, json: Self.newUser("shared6", world)), "first instance")
                Self.expectTooMany(try await second.call(.post, "/users", token: admin, json: Self.newUser("shared7", world)), "second instance")
            }
        }
    }

    @Test func oneAddressPastItsLimitGets429ForEveryAccount() async throws {
        // Over real sockets, so requests come from 127.0.0.1; logins count as writes too.
        try await TestWorld.with(writeLimits: WriteLimits(perAccount: 0, perAddress: 3, windowSeconds: 60), live: true) { world, client in
            let logins = ["admin", "gw1", "gw2"]
            for login in logins {
                let reply = try await client.call(.post, "/auth/login", json: ["login": login, "password": TestTownship.password])
                #expect(reply.status == .ok, "\(login): \(reply.text)")
            }
            let refused = try await client.call(.post, "/auth/login", json: ["login": "chief", "password": TestTownship.password])
            Self.expectTooMany(refused, "fourth login from one address")
            #expect(refused.json["scope"] as? String == "address")
            let write = try await client.call(.post, "/users", token: try await world.token("admin"), json: Self.newUser("byaddress", world))
            Self.expectTooMany(write, "a write by another account from the same address")
            #expect(try await client.call(.get, "/ready").status == .ok)
        }
    }

    @Test func aWebFormPastTheLimitGetsAChinesePageAndTheOutboxIsToldToWait() async throws {
        try await TestWorld.with(writeLimits: WriteLimits(perAccount: 50, perAddress: 0, windowSeconds: 60)) { world, client in
            let (vehicle, _) = try await client.registerVehicle(world, plate: "川Q 66901", grid: world.town.grid1, by: "gw1")
            world.clock.advance(days: 14)
            let pass = try await client.applyForPass(world, vehicle: vehicle, by: "gw1")
            let session = try await client.webLogin("gw1")
            let before = try await world.snapshot(pass)
            // gw1 has used up this window's writes (counted by the same limiter the routes use).
            let gw1 = try #require(world.town.users["gw1"])
            await #expect(throws: SignoffError.self) {
                for _ in 0..<60 { try await world.services.writeLimiter.admit(account: gw1, address: nil) }
            }
            let fields = ["level": "1", "version": String(before.version), "csrf": session.csrf, "idempotency_key": "limit-web-1"]
            let page = try await client.form("/app/passes/\(pass)/sign", session, fields)
            #expect(page.status == .tooManyRequests)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(page.text.contains("操作太频繁，请稍后再试"), "\(page.text)")
            #expect(page.headers[.retryAfter] != nil)
            let outbox = try await client.form("/app/passes/\(pass)/sign", session, fields, json: true)
            #expect(outbox.status == .tooManyRequests)
            #expect(outbox.headers[.retryAfter] != nil)
            #expect(try await world.snapshot(pass) == before)
            // Once the window has passed, the same decision with the same key goes through.
            world.clock.advance(by: 60)
            let signed = try await client.form("/app/passes/\(pass)/sign", session, fields)
            #expect(signed.status == .seeOther, "\(signed.text)")
        }
    }
}

extension WriteLimitTests {
    @Test func oldWindowsArePruned() async throws {
        try await TestWorld.with(writeLimits: WriteLimits(perAccount: 10, perAddress: 0, windowSeconds: 60)) { world, _ in
            let limiter = world.services.writeLimiter
            try await limiter.admit(account: UUID(), address: nil)
            world.clock.advance(by: 60)
            try await limiter.admit(account: UUID(), address: nil)
            try await limiter.prune()
            #expect(try await world.count("SELECT count(*)::int FROM write_limits") == 2, "the last window's row stays")
            world.clock.advance(by: 121)
            try await limiter.prune()
            #expect(try await world.count("SELECT count(*)::int FROM write_limits") == 0)
        }
    }
}
