import Foundation
import HTTPTypes
import PostgresNIO
import Testing
import SignoffCore
@testable import SignoffStore

@Suite("Audit trail", .timeLimit(.minutes(2)))
struct AuditTrailTests {
    static func verify(_ world: TestWorld) async throws -> AuditVerification {
        try await world.database.withConnection { try await AuditLog.verify(on: $0, logger: world.database.logger) }
    }

    /// Some history: suspend and reactivate two accounts.
    static func makeHistory(_ world: TestWorld, _ client: some Any) async throws {
        let admin = Principal(userID: world.town.users["admin"]!, displayName: "admin",
                          assignments: [RoleAssignment(role: .admin, unitID: world.town.township.id, unitPath: world.town.township.path)])
        for name in ["gw1", "gw2"] {
            let id = world.town.users[name]!
            _ = try await world.services.transitions.apply(AccountLifecycle.self, id: id, .suspend(reason: "test"), by: admin)
            _ = try await world.services.transitions.apply(AccountLifecycle.self, id: id, .reactivate(reason: nil), by: admin)
        }
    }

    @Test func anUntouchedTrailVerifies() async throws {
        try await TestWorld.with { world, client in
            try await Self.makeHistory(world, client)
            let result = try await Self.verify(world)
            #expect(result.isIntact)
            #expect(result.rowsChecked == TestTownship.accounts.count + 4)
            #expect(result.subjectsChecked == TestTownship.accounts.count)
        }
    }

    @Test func updatesDeletesAndTruncatesAreRefusedByTheTrigger() async throws {
        try await TestWorld.with { world, client in
            try await Self.makeHistory(world, client)
            for statement in ["UPDATE audit_events SET reason = 'forged' WHERE event = 'suspend'",
                              "DELETE FROM audit_events WHERE event = 'reactivate'",
                              "TRUNCATE audit_events"] {
                let error = await #expect(throws: PSQLError.self) {
                    try await world.database.withConnection { connection in
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: world.database.logger)
                    }
                }
                #expect(error?.serverInfo?[.message]?.contains("append-only") == true, "\(statement)")
            }
            #expect(try await Self.verify(world).isIntact)
        }
    }

    @Test func aRowAlteredWithTheTriggerDisabledIsNamed() async throws {
        try await TestWorld.with { world, client in
            try await Self.makeHistory(world, client)
            let gw2 = world.town.users["gw2"]!
            let tampered = try await world.database.withConnection { connection in
                try await connection.query("ALTER TABLE audit_events DISABLE TRIGGER audit_append_only", logger: world.database.logger)
                let rows = try await connection.query("""
                    UPDATE audit_events SET reason = 'nothing happened' WHERE subject_id = \(gw2) AND event = 'suspend' RETURNING id
                    """, logger: world.database.logger)
                var id = 0
                for try await value in rows.decode(Int.self) { id = value }
                try await connection.query("ALTER TABLE audit_events ENABLE TRIGGER audit_append_only", logger: world.database.logger)
                return id
            }
            let result = try await Self.verify(world)
            #expect(!result.isIntact)
            let broken = try #require(result.firstBrokenRow)
            #expect(broken.rowID == tampered)
            #expect(broken.subjectID == gw2)
            #expect(broken.seq == 2)
            #expect(broken.description.contains("altered"))
        }
    }

    @Test func aDeletedRowAndAStateChangedBehindTheTrailAreFound() async throws {
        try await TestWorld.with { world, client in
            try await Self.makeHistory(world, client)
            let gw1 = world.town.users["gw1"]!
            let gw2 = world.town.users["gw2"]!
            try await world.database.withConnection { connection in
                try await connection.query("ALTER TABLE audit_events DISABLE TRIGGER audit_append_only", logger: world.database.logger)
                try await connection.query("DELETE FROM audit_events WHERE subject_id = \(gw1) AND event = 'reactivate'", logger: world.database.logger)
                try await connection.query("ALTER TABLE audit_events ENABLE TRIGGER audit_append_only", logger: world.database.logger)
                // A state written outside the transition path.
                try await connection.query("UPDATE instances SET state_name = 'closed' WHERE id = \(gw2)", logger: world.database.logger)
            }
            let result = try await Self.verify(world)
            #expect(!result.isIntact)
            let subjects = Set(result.subjectProblems.map(\.subjectID))
            #expect(subjects == [gw1, gw2])
            // An instance's chain head is its own record of its last audit seq (schema 0014).
            #expect(result.subjectProblems.contains { $0.subjectID == gw1 && $0.message.contains("cut from the end") })
            #expect(result.subjectProblems.contains { $0.subjectID == gw2 && $0.message.contains("current state") })
        }
    }

    @Test func aTrailCutAtItsEndWithTheHeadRewoundIsFound() async throws {
        try await TestWorld.with { world, client in
            try await Self.makeHistory(world, client)
            let gw1 = world.town.users["gw1"]!
            // Remove suspend and reactivate: the trail ends at ‘active’ again, like the record,
            // so hashes, links and states all agree. The instance's own audit_seq is its chain
            // head (schema 0014); there is no other head that could be rewound with the rows.
            try await world.database.withConnection { connection in
                try await connection.query("ALTER TABLE audit_events DISABLE TRIGGER audit_append_only", logger: world.database.logger)
                try await connection.query("DELETE FROM audit_events WHERE subject_id = \(gw1) AND seq > 1", logger: world.database.logger)
                try await connection.query("ALTER TABLE audit_events ENABLE TRIGGER audit_append_only", logger: world.database.logger)
            }
            let result = try await Self.verify(world)
            #expect(!result.isIntact)
            #expect(result.firstBrokenRow == nil)
            #expect(result.subjectProblems.map(\.subjectID) == [gw1])
            #expect(result.subjectProblems.first?.message.contains("cut from the end") == true)
        }
    }

    @Test func historyIsShownOnlyToThoseAllowed() async throws {
        try await TestWorld.with { world, client in
            let gw3 = world.town.users["gw3"]!
            #expect(try await client.call(.get, "/audit?subject=\(gw3)", token: world.town.tokens["admin"]).status == .ok)
            #expect(try await client.call(.get, "/audit?subject=\(gw3)", token: world.town.tokens["gw3"]).status == .ok)
            let villageAdmin = try await client.call(.get, "/audit?subject=\(gw3)", token: world.town.tokens["v1admin"])
            #expect(villageAdmin.status == .forbidden)
            #expect(villageAdmin.code == "out_of_jurisdiction")
            let other = try await client.call(.get, "/audit?subject=\(gw3)", token: world.town.tokens["gw1"])
            #expect(other.code == "forbidden_role")
            #expect(try await client.call(.get, "/audit?subject=\(UUID())", token: world.town.tokens["admin"]).status == .notFound)
            #expect(try await client.call(.get, "/audit", token: world.town.tokens["admin"]).code == "missing_field")
        }
    }
}

@Suite("HTTP basics", .timeLimit(.minutes(2)))
struct HTTPBasicsTests {
    @Test func healthReadyAndMetricsAnswer() async throws {
        try await TestWorld.with { _, client in
            let health = try await client.call(.get, "/health")
            #expect(health.status == .ok)
            #expect(health.json["status"] as? String == "ok")
            #expect(try await client.call(.get, "/ready").json["status"] as? String == "ready")
            let metrics = try await client.call(.get, "/metrics")
            #expect(metrics.status == .ok)
            #expect(metrics.headers[.contentType]?.hasPrefix("text/plain") == true)
        }
    }

    @Test func everyResponseCarriesARequestID() async throws {
        try await TestWorld.with { _, client in
            let first = try await client.call(.get, "/health")
            let second = try await client.call(.get, "/nowhere")
            let firstID = try #require(first.headers[HTTPField.Name("X-Request-ID")!])
            #expect(!firstID.isEmpty)
            #expect(second.status == .notFound)
            #expect(second.code == "not_found")
            #expect(second.json["request_id"] as? String == second.headers[HTTPField.Name("X-Request-ID")!])
            #expect(second.headers[HTTPField.Name("X-Request-ID")!] != firstID)
        }
    }

    @Test func aKnownAddressWithAnotherMethodIs405WithAllow() async throws {
        try await TestWorld.with { world, client in
            let reply = try await client.call(.delete, "/users/\(world.town.users["gw1"]!)", token: world.town.tokens["admin"])
            #expect(reply.status == .methodNotAllowed)
            #expect(reply.code == "method_not_allowed")
            #expect(reply.headers[.allow] == "GET")
            let unknown = try await client.call(.delete, "/nowhere/at/all", token: world.town.tokens["admin"])
            #expect(unknown.status == .notFound)
        }
    }

    @Test func anOversizedBodyIsRefused() async throws {
        try await TestWorld.with { world, client in
            let huge = "{\"login\":\"" + String(repeating: "x", count: 64 * 1024) + "\",\"password\":\"x\"}"
            let reply = try await client.call(.post, "/auth/login", raw: huge)
            #expect(reply.status == .contentTooLarge)
            #expect(reply.code == "payload_too_large")
        }
    }
}
