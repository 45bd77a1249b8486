import Foundation
import Logging
import PostgresNIO
import SignoffCore

/// The service's PostgreSQL: one pool for writes, and optionally one for reads on a replica.
public final class Database: Sendable {
    public let client: PostgresClient
    public let endpoint: DatabaseEndpoint
    public let logger: Logger

    public init(endpoint: DatabaseEndpoint, maxConnections: Int = 20, logger: Logger) {
        var configuration = PostgresClient.Configuration(
            host: endpoint.host, port: endpoint.port, username: endpoint.username,
            password: endpoint.password, database: endpoint.database, tls: .disable
        )
        configuration.options.maximumConnections = maxConnections
        configuration.options.minimumConnections = 0
        configuration.options.connectionIdleTimeout = .seconds(60)
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.endpoint = endpoint
        self.logger = logger
    }

    /// Runs `body` in one transaction. Errors thrown by `body` come back unwrapped, so a
    /// `SignoffError` from a machine reaches the caller as itself; the transaction is rolled back.
    @discardableResult
    public func transaction<Result: Sendable>(
        isolation: isolated (any _Concurrency.Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        do {
            return try await self.client.withConnection(isolation: isolation) { connection in
                try await Self.transaction(on: connection, logger: self.logger, body)
            }
        } catch {
            throw Self.translate(error)
        }
    }

    static func transaction<Result: Sendable>(
        isolation: isolated (any _Concurrency.Actor)? = #isolation,
        on connection: PostgresConnection,
        logger: Logger,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await connection.query("BEGIN", logger: logger)
        let result: Result
        do {
            result = try await body(connection)
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw Self.translate(error)
        }
        do {
            try await connection.query("COMMIT", logger: logger)
        } catch {
            throw Self.translate(error)
        }
        return result
    }

    @discardableResult
    public func withConnection<Result: Sendable>(
        isolation: isolated (any _Concurrency.Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        do {
            return try await self.client.withConnection(isolation: isolation) { try await body($0) }
        } catch {
            throw Self.translate(error)
        }
    }

    /// Maps constraint violations to stable codes; everything else passes through.
    static func translate(_ error: any Error) -> any Error {
        guard let psql = error as? PSQLError, let state = psql.serverInfo?[.sqlState] else { return error }
        switch state {
        case "23505":
            let constraint = psql.serverInfo?[.constraintName] ?? ""
            return SignoffError(.duplicate, "A record with the same unique value exists already.",
                                extra: ["constraint": .string(constraint)])
        case "40001", "40P01":
            return SignoffError(.versionConflict, "Another change to the same record happened at the same time. Reload and try again.")
        default:
            return error
        }
    }
}

extension Database {
    /// Runs `body` while the pool's background task runs, for CLI commands and tests.
    @discardableResult
    public static func with<Result: Sendable>(
        endpoint: DatabaseEndpoint,
        maxConnections: Int = 20,
        logger: Logger,
        _ body: @Sendable (Database) async throws -> Result
    ) async throws -> Result {
        let database = Database(endpoint: endpoint, maxConnections: maxConnections, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.client.run() }
            defer { group.cancelAll() }
            // Let the pool's run loop start before the first lease, which it would otherwise warn about.
            try await Task.sleep(for: .milliseconds(20))
            return try await body(database)
        }
    }

    /// Waits until the server answers, for at most `timeout`.
    public func waitUntilReachable(timeout: Duration = .seconds(30)) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            do {
                try await self.client.query("SELECT 1", logger: self.logger)
                return
            } catch {
                if clock.now >= deadline {
                    throw SignoffError(.databaseUnavailable, "PostgreSQL at \(self.endpoint.host):\(self.endpoint.port) did not answer: \(String(reflecting: error))")
                }
                try await Task.sleep(for: .milliseconds(200))
            }
        }
    }
}
