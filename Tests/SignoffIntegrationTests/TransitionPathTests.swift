import Foundation
import HTTPTypes
import PostgresNIO
import Testing
import SignoffCore
@testable import SignoffStore

/// The one transition path, proven on the account lifecycle.
@Suite("One transition path", .timeLimit(.minutes(2)))
struct TransitionPathTests {
    static func auditCount(_ world: TestWorld, subject: UUID) async throws -> Int {
        try await world.database.withConnection { connection in
            let rows = try await connection.query("SELECT count(*)::int FROM audit_events WHERE subject_id = \(subject)", logger: world.database.logger)
            for try await count in rows.decode(Int.self) { return count }
            return 0
        }
    }

    @Test func suspendAndReactivateAreAuditedWithRoleUnitAndReason() async throws {
        try await TestWorld.with { world, client in
            let target = world.town.users["gw2"]!
            let admin = world.town.tokens["admin"]!
            let suspended = try await client.call(.post, "/users/\(target)/suspend", token: admin, json: ["reason": "借调 (seconded)", "version": 1])
            #expect(suspended.status == .ok)
            #expect(suspended.json["version"] as? Int == 2)
            world.clock.advance(by: 2 * 3600)
            let reactivated = try await client.call(.post, "/users/\(target)/reactivate", token: admin, json: ["version": 2])
            #expect(reactivated.json["status"] as? String == "active")
            #expect(reactivated.json["reactivations"] as? Int == 1)

            let history = try await client.call(.get, "/audit?subject=\(target)", token: admin)
            #expect(history.status == .ok)
            let events = try #require(history.json["events"] as? [[String: Any]])
            #expect(events.map { $0["event"] as? String } == ["create", "suspend", "reactivate"])
            let suspend = events[1]
            #expect(suspend["from_state"] as? String == "active")
            #expect(suspend["to_state"] as? String == "suspended")
            #expect(suspend["actor_role"] as? String == "admin")
            #expect(suspend["actor_unit_path"] as? String == "twp")
            #expect(suspend["actor_user_id"] as? String == world.town.users["admin"]!.uuidString)
            #expect(suspend["reason"] as? String == "借调 (seconded)")
            #expect(suspend["prev_hash"] as? String == events[0]["hash"] as? String)
            #expect(suspend["at"] as? String == "2020-02-10T00:00:00Z")
            #expect(events[2]["at"] as? String == "2020-02-10T02:00:00Z")
        }
    }

    @Test func badRequestsGetTheirOwnCodesAndChangeNothing() async throws {
        try await TestWorld.with { world, client in
            let target = world.town.users["gw2"]!
            let admin = world.town.tokens["admin"]!
            let path = "/users/\(target)/suspend"
            let cases: [(json: [String: Any]?, raw: String?, status: HTTPResponse.Status, code: String)] = [
                (["reason": "x", "colour": "red"], nil, .badRequest, "unknown_field"),
                (["reason": 42], nil, .badRequest, "invalid_type"),
                (["version": "one", "reason": "x"], nil, .badRequest, "invalid_type"),
                (nil, "{not json", .badRequest, "invalid_json"),
                ([:], nil, .unprocessableContent, "reason_required"),
                (["reason": "   "], nil, .unprocessableContent, "reason_required"),
                (["reason": "x", "version": 7], nil, .conflict, "version_conflict"),
            ]
            for entry in cases {
                let reply = try await client.call(.post, path, token: admin, json: entry.json, raw: entry.raw)
                #expect(reply.status == entry.status, "\(entry.code)")
                #expect(reply.code == entry.code)
                #expect(reply.headers[.contentType] == "application/problem+json")
                #expect(reply.json["request_id"] as? String == reply.headers[HTTPField.Name("X-Request-ID")!])
            }
            // An impossible transition: reactivating an active account.
            let impossible = try await client.call(.post, "/users/\(target)/reactivate", token: admin, json: [:])
            #expect(impossible.status == .conflict)
            #expect(impossible.code == "invalid_transition")
            // Nothing moved: one audit row (create), version 1.
            #expect(try await Self.auditCount(world, subject: target) == 1)
            #expect(try await world.services.transitions.load(AccountLifecycle.self, id: target).version == 1)
        }
    }

    @Test func aStaleVersionReturnsTheCurrentState() async throws {
        try await TestWorld.with { world, client in
            let target = world.town.users["gw2"]!
            let admin = world.town.tokens["admin"]!
            _ = try await client.call(.post, "/users/\(target)/suspend", token: admin, json: ["reason": "a", "version": 1])
            let stale = try await client.call(.post, "/users/\(target)/reactivate", token: admin, json: ["version": 1])
            #expect(stale.status == .conflict)
            #expect(stale.code == "version_conflict")
            #expect(stale.json["current_version"] as? Int == 2)
            #expect(stale.json["current_state"] as? String == "suspended")
        }
    }

    @Test func aRetriedRequestWithTheSameKeyReplaysTheFirstResponse() async throws {
        try await TestWorld.with { world, client in
            let target = world.town.users["gw2"]!
            let admin = world.town.tokens["admin"]!
            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "phone-retry-0001"]
            let body: [String: Any] = ["reason": "信号差 (poor signal)", "version": 1]
            let first = try await client.call(.post, "/users/\(target)/suspend", token: admin, json: body, headers: key)
            #expect(first.status == .ok)
            world.clock.advance(by: 60)
            let retry = try await client.call(.post, "/users/\(target)/suspend", token: admin, json: body, headers: key)
            #expect(retry.status == first.status)
            #expect(retry.body == first.body)
            #expect(retry.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(try await Self.auditCount(world, subject: target) == 2)

            // The same key with another request is refused and changes nothing.
            let reused = try await client.call(.post, "/users/\(target)/reactivate", token: admin, json: ["version": 2], headers: key)
            #expect(reused.status == .unprocessableContent)
            #expect(reused.code == "idempotency_key_reused")
            #expect(try await world.services.transitions.load(AccountLifecycle.self, id: target).machine.state == .suspended)
            #expect(try await Self.auditCount(world, subject: target) == 2)
        }
    }

    @Test func twoConcurrentTransitionsOnOneVersionHaveExactlyOneWinner() async throws {
        try await TestWorld.with { world, client in
            let target = world.town.users["gw2"]!
            let admins = [world.town.tokens["admin"]!, world.town.tokens["v1admin"]!]
            // Repeat to give the race many chances to interleave.
            for round in 0..<5 {
                let version = try await world.services.transitions.load(AccountLifecycle.self, id: target).version
                let before = try await Self.auditCount(world, subject: target)
                let command = round.isMultiple(of: 2) ? "suspend" : "reactivate"
                let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
                    for token in admins {
                        group.addTask {
                            try await client.call(.post, "/users/\(target)/\(command)", token: token,
                                                  json: ["reason": "race \(round)", "version": version])
                        }
                    }
                    var replies: [Reply] = []
                    for try await reply in group { replies.append(reply) }
                    return replies
                }
                #expect(replies.filter { $0.status == .ok }.count == 1)
                let loser = try #require(replies.first { $0.status != .ok })
                #expect(loser.status == .conflict)
                #expect(loser.code == "version_conflict")
                #expect(loser.json["current_version"] as? Int == version + 1)
                // Exactly one audit row was added: the loser left none.
                #expect(try await Self.auditCount(world, subject: target) == before + 1)
            }
        }
    }

    /// The chain trigger (schema 0014): an instance's audit row takes its seq from the instance's
    /// own audit_seq and its prev_hash from the row before; what a caller writes in those columns
    /// is ignored, and a row that the instance's transition did not advance audit_seq for is refused.
    @Test func anInstancesAuditRowIsNumberedAndLinkedByTheDatabaseOrRefused() async throws {
        try await TestWorld.with { world, _ in
            let target = world.town.users["gw2"]!
            let logger = world.database.logger
            let before = try await Self.auditCount(world, subject: target)
            let insert: PostgresQuery = """
                INSERT INTO audit_events (subject_kind, subject_id, seq, event, from_state, to_state, actor_name, at, prev_hash, hash)
                VALUES ('account', \(target), 99, 'note', 'active', 'active', 'someone', now(), '\\x00'::bytea, '\\x00'::bytea)
                RETURNING seq, prev_hash, hash
                """
            // Without the instance's own advance: refused, and nothing is written.
            await #expect {
                try await world.database.transaction { connection in
                    try await connection.query(insert, logger: logger).collect()
                }
            } throws: { error in
                String(reflecting: error).contains("SO002")
            }
            #expect(try await Self.auditCount(world, subject: target) == before)

            // With it: numbered and linked by the database, whatever the caller wrote.
            let (seq, prev, hash, lastHash): (Int, Data, Data, Data) = try await world.database.transaction { connection in
                let last = try await connection.query(
                    "SELECT hash FROM audit_events WHERE subject_id = \(target) ORDER BY seq DESC LIMIT 1", logger: logger)
                var lastHash = Data()
                for try await hash in last.decode(Data.self) { lastHash = hash }
                try await connection.query("UPDATE instances SET audit_seq = audit_seq + 1 WHERE id = \(target)", logger: logger)
                for try await (seq, prev, hash) in try await connection.query(insert, logger: logger).decode((Int, Data, Data).self) {
                    return (seq, prev, hash, lastHash)
                }
                throw SignoffError(.internalError, "no row")
            }
            #expect(seq == before + 1)
            #expect(prev == lastHash)
            #expect(hash.count == 32)
            let verification = try await world.database.withConnection { try await AuditLog.verify(.subject(target), on: $0, logger: logger) }
            #expect(verification.isIntact, "\(verification.subjectProblems)")
        }
    }
}
