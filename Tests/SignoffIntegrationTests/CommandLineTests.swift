import Foundation
import PostgresNIO
import Testing
import SignoffCore
@testable import SignoffStore

/// The real `signoff` binary against a test database.
@Suite("Command line", .timeLimit(.minutes(2)))
struct CommandLineTests {
    static var binary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("signoff").path
    }

    static func run(_ arguments: [String], database: DatabaseEndpoint) throws -> (status: Int32, output: String) {
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = "postgres://\(database.username):\(database.password ?? "")@\(database.host):\(database.port)/\(database.database)"
        environment["SIGNOFF_SCHEMA_DIR"] = TestCluster.schemaFolder.path
        environment["SIGNOFF_LOG_LEVEL"] = "error"
        return try ChildProcess.run([Self.binary] + arguments, environment: environment)
    }

    @Test func auditVerifyPassesOnAnIntactTrailAndNamesTheBrokenRow() async throws {
        try await TestWorld.with { world, _ in
            #expect(FileManager.default.isExecutableFile(atPath: Self.binary))
            let intact = try Self.run(["audit", "verify"], database: world.endpoint)
            #expect(intact.status == 0, "\(intact.output)")
            #expect(intact.output.contains("Audit trail intact: \(TestTownship.accounts.count) rows"))

            let id = try await world.database.withConnection { connection in
                try await connection.query("ALTER TABLE audit_events DISABLE TRIGGER audit_append_only", logger: world.database.logger)
                let rows = try await connection.query(
                    "UPDATE audit_events SET actor_name = 'someone else' WHERE seq = 1 AND subject_id = \(world.town.users["gw3"]!) RETURNING id",
                    logger: world.database.logger)
                var id = 0
                for try await value in rows.decode(Int.self) { id = value }
                try await connection.query("ALTER TABLE audit_events ENABLE TRIGGER audit_append_only", logger: world.database.logger)
                return id
            }
            let broken = try Self.run(["audit", "verify"], database: world.endpoint)
            #expect(broken.status != 0)
            #expect(broken.output.contains("first broken row: audit row \(id) "))
        }
    }

    @Test func unitImportReportsBadLinesAndWritesNothing() async throws {
        try await TestWorld.with { world, _ in
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("import-\(UUID().uuidString).csv")
            defer { try? FileManager.default.removeItem(at: file) }
            try Data("""
                record,code,parent,name,poor,id_number,phone,address
                village,v7,twp,七村,,,,
                grid,v7w1,v7,网格,,,,
                """.utf8).write(to: file)
            let bad = try Self.run(["unit", "import", file.path], database: world.endpoint)
            #expect(bad.status != 0)
            #expect(bad.output.contains("line 3:"))
            #expect(try await world.services.organisation.units(under: nil).contains { $0.code == "v7" } == false)

            try Data("""
                record,code,parent,name,poor,id_number,phone,address
                village,v7,twp,七村,,,,
                group,v7g1,v7,七村1组,,,,
                grid,v7w1,v7g1,网格,,,,
                """.utf8).write(to: file)
            let good = try Self.run(["unit", "import", file.path], database: world.endpoint)
            #expect(good.status == 0, "\(good.output)")
            #expect(good.output.contains("Imported 3 units"))
        }
    }

    @Test func migrateIsSafeToRepeat() async throws {
        try await TestWorld.with { world, _ in
            let first = try Self.run(["migrate"], database: world.endpoint)
            let second = try Self.run(["migrate"], database: world.endpoint)
            #expect(first.status == 0, "\(first.output)")
            #expect(second.output == first.output)
            #expect(second.output.contains("0001_foundation"))
        }
    }
}
