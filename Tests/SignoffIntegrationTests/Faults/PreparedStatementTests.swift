import Foundation
import PostgresNIO
import Testing
import SignoffCore
@testable import SignoffStore

/// The sign path's statements are prepared once per connection (`PreparedStatements.swift`).
/// PostgresNIO remembers a failed preparation for the connection's life, so a statement first
/// prepared at a bad moment would fail on that connection ever after; the connection is closed
/// instead and the pool opens a fresh one.
@Suite("Prepared statements on the sign path", .timeLimit(.minutes(1)))
struct PreparedStatementTests {
    @Test func aPreparationThatFailedDoesNotSpoilItsConnection() async throws {
        let endpoint = try await TestCluster.shared.freshDatabase()
        // Generous waits: opening the replacement connection may take a while on a loaded machine.
        let limits = DatabaseLimits(connectionWait: .seconds(30), operation: .seconds(60))
        try await Database.with(endpoint: endpoint, maxConnections: 1, limits: limits, logger: TestCluster.logger) { database in
            let logger = database.logger
            let statement = LoadInstanceStatement(id: UUID(), kind: "account")
            // The first preparation on the pool's one connection happens inside a transaction
            // that has already failed, so PostgreSQL refuses it (25P02).
            await #expect(throws: (any Error).self) {
                try await database.transaction { connection in
                    _ = try? await connection.query("SELECT 1 / 0", logger: logger)
                    _ = try await connection.rows(statement, logger: logger)
                }
            }
            // The statement works on a fresh connection and finds nothing. A lease taken while
            // the old one is still closing is refused as unavailable (a client retries those);
            // without the close, every try would fail with the remembered preparation error.
            var rows: Int?
            for _ in 0..<50 where rows == nil {
                do {
                    rows = try await database.withConnection { connection in
                        try await connection.rows(statement, logger: logger).count
                    }
                } catch let error as SignoffError where error.code == .databaseUnavailable {
                    try await Task.sleep(for: .milliseconds(100))
                } catch {
                    Issue.record("not a refusal as unavailable: \(String(reflecting: error))")
                    throw error
                }
            }
            #expect(rows == 0)
            // A refusal of the data (not of the statement) keeps the connection and the statement.
            let pid = try await database.withConnection { connection in
                try await connection.query("SELECT pg_backend_pid()", logger: logger).collect().first!.decode(Int32.self)
            }
            await #expect(throws: (any Error).self) {
                try await database.withConnection { connection in
                    _ = try await connection.rows(ClaimKeyStatement(userID: UUID(), key: "key\u{0}", lockName: "lock"), logger: logger)
                }
            }
            let samePid = try await database.withConnection { connection in
                try await connection.query("SELECT pg_backend_pid()", logger: logger).collect().first!.decode(Int32.self)
            }
            #expect(samePid == pid)
        }
    }
}
