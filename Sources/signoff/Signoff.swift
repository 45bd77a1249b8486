import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import SignoffCore
import SignoffStore

@main
struct Signoff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signoff",
        abstract: "Signoff runs a township's epidemic-control procedures as audited, signed workflows on PostgreSQL.",
        discussion: """
            Configuration comes from flags and the environment:
              DATABASE_URL        postgres://user:password@host:5432/db; without it, a private cluster is started under --data-dir
              SIGNOFF_DATA_DIR    where the private cluster lives (default .signoff)
              SIGNOFF_SCHEMA_DIR  the schema/ migrations folder (default: found above the working directory)
              SIGNOFF_LOG_LEVEL   trace, debug, info (default), notice, warning, error
            """,
        subcommands: [Serve.self, Migrate.self, UnitCommand.self, UserCommand.self, AuditCommand.self, ReportCommand.self, DemoCommand.self, BenchCommand.self, KeysCommand.self]
    )

    /// Runs the command; a `SignoffError` is reported by its sentence, not its type.
    static func main() async {
        // Swift concurrency's jobs run on the event loops that do the I/O, so an await on a
        // query or a response no longer hops between two thread pools. Nothing here blocks a
        // thread for long: child processes are waited for at start-up and shut-down only.
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let error as SignoffError {
            FileHandle.standardError.write(Data("Error: \(error.detail)\n".utf8))
            Foundation.exit(1)
        } catch {
            exit(withError: error)
        }
    }
}

/// How to reach PostgreSQL, shared by every command.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "Folder of the private PostgreSQL cluster used when DATABASE_URL is not set.")
    var dataDir: String = ProcessInfo.processInfo.environment["SIGNOFF_DATA_DIR"] ?? ".signoff"

    var logger: Logger {
        var logger = Logger(label: "signoff")
        logger.logLevel = ProcessInfo.processInfo.environment["SIGNOFF_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        return logger
    }

    /// Finds the database (starting the private cluster if needed), runs `body`, then stops
    /// the cluster if this process started it.
    /// `stopOnExit` stops the private cluster afterwards even when it was already running (left
    /// by a crash); otherwise only a cluster started here is stopped, so a command run beside
    /// `serve` leaves it alone.
    func withEndpoint<Result: Sendable>(stopOnExit: Bool = false, _ body: @Sendable (DatabaseEndpoint) async throws -> Result) async throws -> Result {
        if let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty {
            return try await body(try DatabaseEndpoint(url: url))
        }
        let logger = self.logger
        let cluster = PostgresCluster(folder: URL(fileURLWithPath: self.dataDir), logger: logger)
        let handle = try cluster.start()
        do {
            try await Self.ensureDatabase(handle.endpoint, logger: logger)
            let result = try await body(handle.endpoint)
            if handle.startedHere || stopOnExit { try cluster.stop() }
            return result
        } catch {
            if handle.startedHere || stopOnExit { try? cluster.stop() }
            throw error
        }
    }

    /// The same, with a migrated database whose pool runs for the duration of `body`.
    func withDatabase<Result: Sendable>(_ body: @Sendable (Database, DatabaseEndpoint) async throws -> Result) async throws -> Result {
        let logger = self.logger
        return try await self.withEndpoint { endpoint in
            try await Database.with(endpoint: endpoint, logger: logger) { database in
                try await database.waitUntilReachable()
                try await Migrator.load(from: Migrator.defaultFolder()).migrate(database)
                return try await body(database, endpoint)
            }
        }
    }

    /// Creates the service's database in a fresh private cluster.
    static func ensureDatabase(_ endpoint: DatabaseEndpoint, logger: Logger) async throws {
        try await Database.with(endpoint: endpoint.with(database: "postgres"), maxConnections: 1, logger: logger) { admin in
            try await admin.waitUntilReachable()
            let rows = try await admin.client.query("SELECT 1 FROM pg_database WHERE datname = \(endpoint.database)", logger: logger)
            var exists = false
            for try await _ in rows { exists = true }
            if !exists {
                try await admin.client.query(.init(unsafeSQL: "CREATE DATABASE \"\(endpoint.database)\""), logger: logger)
            }
        }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply the schema/ migrations that are missing. Safe to run again.")
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        try await self.database.withDatabase { database, _ in
            let versions = try await database.withConnection { connection in
                let rows = try await connection.query("SELECT version, name FROM schema_migrations ORDER BY version", logger: database.logger)
                var lines: [String] = []
                for try await (version, name) in rows.decode((Int, String).self) { lines.append(String(format: "%04d_%@", version, name)) }
                return lines
            }
            print("Schema is up to date: \(versions.joined(separator: ", "))")
        }
    }
}
