import Crypto
import Foundation
import Logging
import PostgresNIO
import SignoffCore

/// One numbered file of `schema/`.
public struct Migration: Sendable, Equatable {
    public var version: Int
    public var name: String
    public var sql: String

    /// SHA-256 of the file's bytes, hex.
    public var checksum: String {
        Hex.encode(SHA256.hash(data: Data(self.sql.utf8)))
    }

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

/// Applies `schema/NNNN_name.sql` in order, each in its own transaction, recorded with its checksum.
public struct Migrator: Sendable {
    public let migrations: [Migration]

    /// Serialises migrating instances: any number of them may start at once.
    static let advisoryLockKey: Int64 = 0x5349_474E_4F46_46

    public init(migrations: [Migration]) {
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// Reads every `NNNN_name.sql` of a folder.
    public static func load(from folder: URL) throws -> Migrator {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        } catch {
            throw SignoffError(.internalError, "The schema folder \(folder.path) cannot be read.")
        }
        var migrations: [Migration] = []
        for name in names where name.hasSuffix(".sql") {
            let stem = name.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]) else {
                throw SignoffError(.internalError, "Schema file \(name) is not named NNNN_name.sql.")
            }
            if migrations.contains(where: { $0.version == version }) {
                throw SignoffError(.internalError, "Two schema files share the number \(version).")
            }
            let sql = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            migrations.append(Migration(version: version, name: String(stem[stem.index(after: underscore)...]), sql: sql))
        }
        return Migrator(migrations: migrations)
    }

    /// The `schema/` folder: `SIGNOFF_SCHEMA_DIR`, else the nearest `schema/` above the working
    /// directory or the executable.
    public static func defaultFolder() throws -> URL {
        if let configured = ProcessInfo.processInfo.environment["SIGNOFF_SCHEMA_DIR"], !configured.isEmpty {
            return URL(fileURLWithPath: configured)
        }
        if let found = ProjectFolder.find("schema", containing: "0001_foundation.sql") { return found }
        throw SignoffError(.internalError, "No schema/ folder found. Run signoff from the project folder, or set SIGNOFF_SCHEMA_DIR.")
    }

    /// Applies what is missing and returns the versions applied now. Idempotent.
    @discardableResult
    public func migrate(_ database: Database) async throws -> [Int] {
        // A batch job, not a request: a migration (or a wait for another migrator's lock) may
        // take longer than the bounds that protect requests.
        try await Database.$unboundedOperations.withValue(true) { try await self.migrateUnbounded(database) }
    }

    private func migrateUnbounded(_ database: Database) async throws -> [Int] {
        let logger = database.logger
        return try await database.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(Self.advisoryLockKey))", logger: logger)
            do {
                let applied = try await self.migrate(on: connection, logger: logger)
                try await connection.query("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))", logger: logger)
                return applied
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))", logger: logger)
                throw error
            }
        }
    }

    private func migrate(on connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        try await connection.query("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version     integer PRIMARY KEY,
                name        text NOT NULL,
                checksum    text NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now()
            )
            """, logger: logger)
        var recorded: [Int: (name: String, checksum: String)] = [:]
        let rows = try await connection.query("SELECT version, name, checksum FROM schema_migrations", logger: logger)
        for try await (version, name, checksum) in rows.decode((Int, String, String).self) {
            recorded[version] = (name, checksum)
        }
        for (version, entry) in recorded.sorted(by: { $0.key < $1.key }) {
            guard let migration = self.migrations.first(where: { $0.version == version }) else {
                throw SignoffError(.migrationChecksum,
                                   "The database has migration \(version) (\(entry.name)), which this build does not know. Run a newer signoff.")
            }
            guard migration.checksum == entry.checksum else {
                throw SignoffError(.migrationChecksum,
                                   "Migration \(String(format: "%04d", version))_\(migration.name).sql changed after it was applied (checksum \(entry.checksum.prefix(12))… recorded, \(migration.checksum.prefix(12))… now). Applied migrations must never change; add a new numbered file instead.",
                                   extra: ["version": .int(version)])
            }
        }
        var applied: [Int] = []
        for migration in self.migrations where recorded[migration.version] == nil {
            try await Database.transaction(on: connection, logger: logger) { connection in
                for statement in SQLScript.statements(in: migration.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("""
                    INSERT INTO schema_migrations (version, name, checksum)
                    VALUES (\(migration.version), \(migration.name), \(migration.checksum))
                    """, logger: logger)
            }
            logger.info("applied migration", metadata: ["signoff.migration": "\(migration.version)_\(migration.name)"])
            applied.append(migration.version)
        }
        return applied
    }
}
