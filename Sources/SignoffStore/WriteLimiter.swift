import Foundation
import Logging
import PostgresNIO
import SignoffCore

/// How many writes an account and a client address may make per window.
public struct WriteLimits: Sendable, Equatable {
    /// Writes per window by one signed-in account; 0 turns the limit off.
    public var perAccount: Int
    /// Writes per window from one client address (signed in or not); 0 turns the limit off.
    public var perAddress: Int
    /// The length of a window, in seconds.
    public var windowSeconds: Int

    /// Generous enough for a township: a signer clearing a full inbox, the browser and fault
    /// tests, the load test and a village office behind one address stay well below them.
    public init(perAccount: Int = 600, perAddress: Int = 6000, windowSeconds: Int = 60) {
        self.perAccount = perAccount
        self.perAddress = perAddress
        self.windowSeconds = max(1, windowSeconds)
    }

    /// `SIGNOFF_WRITE_LIMIT_ACCOUNT`, `SIGNOFF_WRITE_LIMIT_ADDRESS`, `SIGNOFF_WRITE_LIMIT_WINDOW`.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> WriteLimits {
        let defaults = WriteLimits()
        func number(_ name: String, _ fallback: Int) -> Int {
            environment[name].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }.map { max(0, $0) } ?? fallback
        }
        return WriteLimits(perAccount: number("SIGNOFF_WRITE_LIMIT_ACCOUNT", defaults.perAccount),
                           perAddress: number("SIGNOFF_WRITE_LIMIT_ADDRESS", defaults.perAddress),
                           windowSeconds: number("SIGNOFF_WRITE_LIMIT_WINDOW", defaults.windowSeconds))
    }
}

/// Counts writes per account and per client address in PostgreSQL (`write_limits`), so the
/// limits hold however many `signoff serve` instances share the database.
///
/// Fixed windows: one upsert per write adds a hit to each bucket's current window (or starts
/// a new one) and returns the counts, so counting costs one round trip and no transaction.
public struct WriteLimiter: Sendable {
    public let database: Database
    public let clock: any WallClock
    public let limits: WriteLimits
    /// How many rows each bucket is spread over (see `admit`).
    static let shards = 64

    public init(database: Database, clock: any WallClock, limits: WriteLimits = .init()) {
        self.database = database
        self.clock = clock
        self.limits = limits
    }

    /// Counts one write; throws `429 too_many_requests` with `retry_after` past either limit.
    public func admit(account: UUID?, address: String?) async throws {
        var buckets: [(name: String, limit: Int)] = []
        if let account, self.limits.perAccount > 0 { buckets.append(("account:\(account.uuidString.lowercased())", self.limits.perAccount)) }
        if let address, self.limits.perAddress > 0 { buckets.append(("address:\(address)", self.limits.perAddress)) }
        guard !buckets.isEmpty else { return }
        let now = self.clock.now()
        let window = Double(self.limits.windowSeconds)
        let start = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / window).rounded(.down) * window)
        let names = buckets.map(\.name)
        // Inside a write request this joins the transaction its transition adopts
        // (`Database.scoped`), so the count holds its row until that commits. Each bucket is
        // therefore kept in shards, one per database session (backend) modulo `shards`, and the
        // count is the sum: concurrent writes of one account or address never wait on each other.
        let statement = WriteHitStatement(buckets: names, shards: Int32(Self.shards), windowStart: start)
        let counts: [String: Int] = try await self.database.opening(keeps: true) { [logger = self.database.logger] connection in
            var counts: [String: Int] = [:]
            for (bucket, hits) in try await connection.rows(statement, logger: logger) { counts[bucket] = hits }
            return counts
        }
        // Now and then, rows of accounts and addresses not seen for two windows go.
        if Int.random(in: 0..<1000) == 0 { try? await self.prune() }
        for bucket in buckets where (counts[bucket.name] ?? 0) > bucket.limit {
            let retryAfter = max(1, Int(start.addingTimeInterval(window).timeIntervalSince(now).rounded(.up)))
            let who = bucket.name.hasPrefix("account:") ? "this account" : "this address"
            throw SignoffError(.tooManyRequests,
                               "More than \(bucket.limit) changes from \(who) within \(self.limits.windowSeconds) s. Nothing was saved; try again in \(retryAfter) s.",
                               extra: ["retry_after": .int(retryAfter), "limit": .int(bucket.limit),
                                       "window_seconds": .int(self.limits.windowSeconds),
                                       "scope": .string(bucket.name.hasPrefix("account:") ? "account" : "address")])
        }
    }

    /// Drops the rows of windows that ended long ago (buckets of accounts and addresses not seen since).
    public func prune() async throws {
        let before = self.clock.now().addingTimeInterval(-Double(self.limits.windowSeconds) * 2)
        try await self.database.withConnection { connection in
            try await connection.query("DELETE FROM write_limits WHERE window_start < \(before)", logger: self.database.logger)
        }
    }
}
