import Foundation
import PostgresNIO
import Testing
import SignoffCore
@testable import SignoffStore

@Suite("Migrations", .timeLimit(.minutes(2)))
struct MigrationTests {
    static func appliedVersions(_ database: Database) async throws -> [Int] {
        try await database.withConnection { connection in
            let rows = try await connection.query("SELECT version FROM schema_migrations ORDER BY version", logger: database.logger)
            var versions: [Int] = []
            for try await version in rows.decode(Int.self) { versions.append(version) }
            return versions
        }
    }

    @Test func migrateIsIdempotent() async throws {
        let endpoint = try await TestCluster.shared.freshDatabase(migrated: false)
        try await Database.with(endpoint: endpoint, maxConnections: 2, logger: TestCluster.logger) { database in
            let migrator = try Migrator.load(from: TestCluster.schemaFolder)
            let first = try await migrator.migrate(database)
            #expect(first == migrator.migrations.map(\.version))
            #expect(try await migrator.migrate(database) == [])
            #expect(try await Self.appliedVersions(database) == migrator.migrations.map(\.version))
        }
    }

    @Test func aChangedAppliedMigrationIsRefused() async throws {
        let endpoint = try await TestCluster.shared.freshDatabase(migrated: true)
        try await Database.with(endpoint: endpoint, maxConnections: 2, logger: TestCluster.logger) { database in
            var migrations = try Migrator.load(from: TestCluster.schemaFolder).migrations
            migrations[0].sql += "\n-- edited after it was applied\n"
            let error = await #expect(throws: SignoffError.self) {
                try await Migrator(migrations: migrations).migrate(database)
            }
            #expect(error?.code == .migrationChecksum)
            #expect(error?.detail.contains("0001_foundation.sql changed after it was applied") == true)
        }
    }

    @Test func concurrentMigratorsApplyEachFileOnce() async throws {
        let endpoint = try await TestCluster.shared.freshDatabase(migrated: false)
        let migrator = try Migrator.load(from: TestCluster.schemaFolder)
        // Four instances starting at once, each with its own pool.
        let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await Database.with(endpoint: endpoint, maxConnections: 1, logger: TestCluster.logger) { database in
                        try await migrator.migrate(database)
                    }
                }
            }
            var all: [[Int]] = []
            for try await versions in group { all.append(versions) }
            return all
        }
        // Exactly one instance applied the files; the others found them applied.
        #expect(applied.filter { !$0.isEmpty } == [migrator.migrations.map(\.version)])
        let versions = try await Database.with(endpoint: endpoint, maxConnections: 1, logger: TestCluster.logger) { database in
            try await Self.appliedVersions(database)
        }
        #expect(versions == migrator.migrations.map(\.version))
    }

    @Test func scriptsSplitAroundFunctionBodiesAndComments() {
        let statements = SQLScript.statements(in: """
            -- a comment; with a semicolon
            CREATE TABLE a (x text DEFAULT ';');
            CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;
            /* block; comment */ SELECT 1
            """)
        #expect(statements.count == 3)
        #expect(statements[1].hasSuffix("END $$"))
        #expect(statements[0].contains("DEFAULT ';'"))
    }
}
