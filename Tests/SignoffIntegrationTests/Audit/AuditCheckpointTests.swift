import Foundation
import PostgresNIO
import Testing
import SignoffCore
@testable import SignoffHTTP
@testable import SignoffStore

@Suite("Signed audit checkpoints", .timeLimit(.minutes(3)))
struct AuditCheckpointTests {
    static func checkpoints(_ world: TestWorld) -> AuditCheckpointStore {
        AuditCheckpointStore(database: world.database, clock: world.clock, keys: world.services.signingKeys)
    }

    static func verify(_ world: TestWorld, _ text: String, keys: [CredentialKey]? = nil) async throws -> AuditCheckpointVerification {
        try await AuditCheckpointStore.verify(statementText: text, keys: keys ?? world.services.signingKeys.published,
                                              database: world.database, batchSize: 3)
    }

    /// Cuts the last `count` rows of a subject's trail and rewinds everything that records its end
    /// (the instance's audit seq, which is its chain head), so that a plain `audit verify` sees a whole trail.
    static func cutTail(_ world: TestWorld, subject: UUID, keep: Int) async throws {
        try await world.database.withConnection { connection in
            let logger = world.database.logger
            try await connection.query("SET session_replication_role = replica", logger: logger)
            try await connection.query("DELETE FROM audit_events WHERE subject_id = \(subject) AND seq > \(keep)", logger: logger)
            try await connection.query("UPDATE instances SET audit_seq = \(keep) WHERE id = \(subject)", logger: logger)
            try await connection.query("SET session_replication_role = origin", logger: logger)
        }
    }

    @Test func aCheckpointOfAnUntouchedTrailVerifies() async throws {
        try await TestWorld.with { world, client in
            try await AuditTrailTests.makeHistory(world, client)
            let checkpoint = try await Self.checkpoints(world).write()
            #expect(checkpoint.records == TestTownship.accounts.count + 4)
            #expect(checkpoint.subjects == TestTownship.accounts.count)
            let statement = try AuditStatement.parse(checkpoint.statement)
            #expect(statement.merkleRootHex == checkpoint.merkleRoot)
            #expect(statement.keyID == world.services.signingKeys.keyID)
            #expect(statement.createdAt == TestWorld.start)
            // History written after the checkpoint is not its business.
            try await AuditTrailTests.makeHistory(world, client)
            let result = try await Self.verify(world, checkpoint.statement)
            #expect(result.isIntact, "\(result.problems)")
            #expect(result.subjectsChecked == TestTownship.accounts.count)
            #expect(result.rowsChecked == checkpoint.records)
        }
    }

    @Test func aTailCutWithTheTriggersDisabledIsMissedByAPlainVerifyAndNamedByTheCheckpoint() async throws {
        try await TestWorld.with { world, client in
            try await AuditTrailTests.makeHistory(world, client)
            let checkpoint = try await Self.checkpoints(world).write()
            let gw1 = world.town.users["gw1"]!
            // suspend and reactivate removed: the account is ‘active’ again, as its first row says.
            try await Self.cutTail(world, subject: gw1, keep: 1)
            let plain = try await AuditTrailTests.verify(world)
            #expect(plain.isIntact, "a competent cut leaves nothing for the plain check: \(plain.subjectProblems)")
            let result = try await Self.verify(world, checkpoint.statement)
            #expect(!result.isIntact)
            #expect(!result.rootMatches)
            #expect(result.problems.map(\.subjectID) == [gw1])
            let problem = try #require(result.problems.first)
            #expect(problem.seq == 3)
            #expect(problem.subjectKind == AccountLifecycle.kind)
            #expect(problem.description.contains("only 1 of its 3 rows"))
        }
    }

    @Test func aRewrittenTailIsNamedToo() async throws {
        try await TestWorld.with { world, client in
            try await AuditTrailTests.makeHistory(world, client)
            let checkpoint = try await Self.checkpoints(world).write()
            let gw2 = world.town.users["gw2"]!
            // Its suspension and reactivation replaced by new, well-chained rows with other reasons.
            try await Self.cutTail(world, subject: gw2, keep: 1)
            let admin = try await world.actor("admin")
            _ = try await world.services.transitions.apply(AccountLifecycle.self, id: gw2, .suspend(reason: "routine"), by: admin)
            _ = try await world.services.transitions.apply(AccountLifecycle.self, id: gw2, .reactivate(reason: nil), by: admin)
            #expect(try await AuditTrailTests.verify(world).isIntact)
            let result = try await Self.verify(world, checkpoint.statement)
            #expect(result.problems.map(\.subjectID) == [gw2])
            #expect(result.problems.first?.message.contains("rewritten") == true)
        }
    }

    @Test func aTamperedStatementIsRefused() async throws {
        try await TestWorld.with { world, client in
            try await AuditTrailTests.makeHistory(world, client)
            let text = try await Self.checkpoints(world).write().statement
            let statement = try AuditStatement.parse(text)
            let gw1 = world.town.users["gw1"]!.uuidString.lowercased()
            let headLine = try #require(text.split(separator: "\n").first { $0.hasPrefix(gw1) })
            let fewer = text.replacingOccurrences(of: "records \(statement.records)", with: "records \(statement.records - 2)")
            let lowered = text.replacingOccurrences(of: String(headLine), with: String(headLine).replacingOccurrences(of: "\(gw1) 3 ", with: "\(gw1) 1 "))
            let dropped = text.replacingOccurrences(of: String(headLine) + "\n", with: "")
                .replacingOccurrences(of: "subjects \(statement.subjects)", with: "subjects \(statement.subjects - 1)")
            let cut = String(text.prefix(text.count - 20))
            for (name, forged, expected) in [
                ("count", fewer, AuditStatement.Refusal.badSignature),
                ("head", lowered, .headsDoNotMatchRoot),
                ("dropped head", dropped, .badSignature),
            ] {
                await #expect(throws: expected, "\(name)") { try await Self.verify(world, forged) }
            }
            await #expect(throws: AuditStatement.Refusal.self) { try await Self.verify(world, cut) }
            // Signed by a key the township never published.
            let stranger = SigningKeys.ephemeral(now: TestWorld.start)
            await #expect(throws: AuditStatement.Refusal.unknownKey(world.services.signingKeys.keyID)) {
                try await Self.verify(world, text, keys: stranger.published)
            }
        }
    }

    @Test func theDailyCheckpointIsWrittenOnceADayHoweverManyInstancesRun() async throws {
        try await TestWorld.with { world, client in
            try await AuditTrailTests.makeHistory(world, client)
            // A second service instance on the same database, with the same key.
            let other = SignoffServices(database: world.database, clock: world.clock, signingKeys: world.services.signingKeys)
            let workers = [world.services.notificationWorker, other.notificationWorker, world.services.notificationWorker]
            let written = try await withThrowingTaskGroup(of: Bool.self) { group in
                for worker in workers { group.addTask { try await worker.runOnce().checkpoint != nil } }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(written == 1)
            #expect(try await world.services.notificationWorker.runOnce().checkpoint == nil)
            // The next China-time day (2020-02-11 00:00 +08:00 is 16 h after the start at 08:00).
            world.clock.advance(by: 16 * 3_600)
            let next = try #require(try await other.notificationWorker.runOnce().checkpoint)
            #expect(next.trigger == .daily)
            let all = try await Self.checkpoints(world).recent()
            #expect(all.count == 2)
            #expect(all.allSatisfy { $0.trigger == .daily })
            #expect(try await Self.verify(world, next.statement).isIntact)
        }
    }

    @Test func theAdminAuditPageOffersTheSignedStatement() async throws {
        try await TestWorld.with { world, client in
            let checkpoint = try await Self.checkpoints(world).write()
            let session = try await client.webLogin("admin")
            let page = try await client.page("/app/admin/audit", session)
            #expect(page.text.contains("签名链头"))
            #expect(page.text.contains("/app/admin/audit/checkpoints/\(checkpoint.id.uuidString.lowercased())"))
            let file = try await client.page("/app/admin/audit/checkpoints/\(checkpoint.id.uuidString.lowercased())", session)
            #expect(file.status == .ok)
            #expect(file.text == checkpoint.statement)
            #expect(file.headers[.contentDisposition]?.contains(checkpoint.filename) == true)
            let gw1 = try await client.webLogin("gw1")
            #expect(try await client.page("/app/admin/audit/checkpoints/\(checkpoint.id.uuidString.lowercased())", gw1).status == .forbidden)
            // Written from the page, too.
            let written = try await client.form("/app/admin/audit/checkpoints", session, ["csrf": session.csrf])
            #expect(written.status == .seeOther)
            #expect(try await Self.checkpoints(world).recent().count == 2)
        }
    }
}

@Suite("Signed audit checkpoints on the command line", .timeLimit(.minutes(2)))
struct AuditCheckpointCommandTests {
    @Test func checkpointThenVerifyAgainstItFindsACutThatThePlainVerifyMisses() async throws {
        try await TestWorld.with { world, client in
            try await AuditTrailTests.makeHistory(world, client)
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("checkpoint-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: folder) }
            let data = folder.appendingPathComponent("data").path
            let file = folder.appendingPathComponent("statement.txt").path
            let written = try CommandLineTests.run(["audit", "checkpoint", "--data-dir", data, "--out", file], database: world.endpoint)
            #expect(written.status == 0, "\(written.output)")
            #expect(written.output.contains("\(TestTownship.accounts.count + 4) rows in \(TestTownship.accounts.count) chains"))
            let intact = try CommandLineTests.run(["audit", "verify", "--data-dir", data, "--against", file], database: world.endpoint)
            #expect(intact.status == 0, "\(intact.output)")
            #expect(intact.output.contains("Audit trail matches the checkpoint"))

            let gw1 = world.town.users["gw1"]!
            try await AuditCheckpointTests.cutTail(world, subject: gw1, keep: 1)
            #expect(try CommandLineTests.run(["audit", "verify"], database: world.endpoint).status == 0)
            let cut = try CommandLineTests.run(["audit", "verify", "--data-dir", data, "--against", file], database: world.endpoint)
            #expect(cut.status != 0)
            #expect(cut.output.contains("does NOT match"))
            #expect(cut.output.contains("account/\(gw1.uuidString.lowercased())"))

            // A statement edited to match the cut trail is refused.
            let text = try String(contentsOfFile: file, encoding: .utf8)
            let statement = try AuditStatement.parse(text)
            try text.replacingOccurrences(of: "records \(statement.records)", with: "records \(statement.records - 2)")
                .write(toFile: file, atomically: true, encoding: .utf8)
            let forged = try CommandLineTests.run(["audit", "verify", "--data-dir", data, "--against", file], database: world.endpoint)
            #expect(forged.status != 0)
            #expect(forged.output.contains("REFUSED"))
            #expect(forged.output.contains("signature does not match"))
        }
    }
}
