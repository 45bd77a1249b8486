import Foundation
import PostgresNIO
import Testing
import SignoffCore
@testable import SignoffStore

/// A transaction whose connection is lost ends with `503 database_unavailable` at once, and the
/// pool goes on with a new connection. Before, the ROLLBACK written to the closed connection
/// never answered (PostgresNIO drops a query it cannot write), which is how requests in flight
/// hung at an immediate PostgreSQL stop.
@Suite("A lost connection ends its transaction", .timeLimit(.minutes(1)))
struct ConnectionLossTests {
    static func expectUnavailable(_ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("the transaction succeeded")
        } catch let error as SignoffError {
            #expect(error.code == .databaseUnavailable, "\(String(reflecting: error))")
        } catch {
            Issue.record("not a SignoffError: \(String(reflecting: error))")
        }
    }

    @Test func theServerEndingTheConnectionMidTransactionIs503() async throws {
        try await TestWorld.with { world, _ in
            await Self.expectUnavailable {
                try await world.database.transaction { connection in
                    try await connection.query("SELECT 1", logger: world.database.logger)
                    // What an immediate stop does to each backend.
                    try await connection.query("SELECT pg_terminate_backend(pg_backend_pid())", logger: world.database.logger)
                }
            }
            try await world.database.withConnection { connection in
                try await connection.query("SELECT 1", logger: world.database.logger)
            }
        }
    }

    @Test func aConnectionClosedUnderTheTransactionIs503NotAHang() async throws {
        try await TestWorld.with { world, _ in
            await Self.expectUnavailable {
                try await world.database.transaction { connection in
                    try await connection.close()
                    throw SignoffError(.databaseUnavailable, "The connection to the database was lost.")
                }
            }
            try await world.database.withConnection { connection in
                try await connection.query("SELECT 1", logger: world.database.logger)
            }
        }
    }
}
