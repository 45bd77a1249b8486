import Foundation
import Logging
import PostgresNIO
import SignoffCore

/// The `timers` table: each instance's due moments, fired once each.
///
/// Only the transition path writes an instance's timers (`plan`), in the transition's one write. `fireDue`
/// claims due rows with `FOR UPDATE SKIP LOCKED`, so any number of service instances can
/// run it against one database; a row is published to the outbox and marked fired in one
/// transaction, so it fires exactly once. A row that fails is retried with backoff.
public struct TimerStore: Sendable {
    /// What one `fireDue()` did.
    public struct Report: Sendable, Equatable {
        /// Rows published to the outbox.
        public var fired = 0
        /// Rows too old when their turn came (recorded, nothing sent).
        public var stale = 0
        /// Rows that failed and wait for another try.
        public var retried = 0
        /// Seconds between each fired row's due time and its firing.
        public var lateness: [Double] = []

        public init() {}
    }

    public let database: Database
    public let clock: any WallClock
    public let policies: PolicyCatalog
    /// Tries after which a failing row is left for an operator (`last_error` says why).
    public let maxAttempts: Int
    /// Rows claimed per transaction.
    public let batchSize: Int
    /// Called for each claimed row before it is published; tests make it fail.
    let beforeFiring: @Sendable (String) throws -> Void

    public init(database: Database, clock: any WallClock, policies: PolicyCatalog, maxAttempts: Int = 8, batchSize: Int = 50,
                beforeFiring: @escaping @Sendable (String) throws -> Void = { _ in }) {
        self.database = database
        self.clock = clock
        self.policies = policies
        self.maxAttempts = maxAttempts
        self.batchSize = batchSize
        self.beforeFiring = beforeFiring
    }

    var logger: Logger { self.database.logger }

    /// Seconds a failed firing waits before try `attempt + 1`: 30 s doubling, at most an hour.
    public static func backoff(afterAttempt attempt: Int) -> TimeInterval {
        min(3_600, 30 * pow(2, Double(max(0, attempt - 1))))
    }

    // MARK: Keeping them

    /// The instance's unfired timers as they must stand after a transition (they were
    /// `previous`), or nil when the transition left them as they were (most transitions): the
    /// transition path's one write then drops the ones that no longer apply (the level was
    /// signed) and adds new ones. A key that already fired is never added again.
    struct Plan: Sendable {
        var keys: [String]
        var names: [String]
        var dues: [Date]
        var payloads: [String]
    }

    static func plan(instanceID: UUID, previous: [DueMoment], moments: [DueMoment]) throws -> Plan? {
        let keys = moments.map { $0.key(for: instanceID) }
        // The table already holds the moments the instance had before the transition.
        if Set(keys) == Set(previous.map { $0.key(for: instanceID) }) { return nil }
        return Plan(keys: keys, names: moments.map(\.name.rawValue), dues: moments.map(\.at),
                    payloads: try moments.map { try StoreCoding.json($0.payload) })
    }

    // MARK: Firing

    /// Fires every due timer, a batch per transaction, until none is left to claim.
    @discardableResult
    public func fireDue() async throws -> Report {
        var report = Report()
        report.stale = try await self.skipStale()
        var failed: [Int] = []
        while true {
            let batch = try await self.fireBatch(skipping: failed)
            report.fired += batch.report.fired
            report.stale += batch.report.stale
            report.retried += batch.report.retried
            report.lateness += batch.report.lateness
            failed += batch.failed
            // Another instance may hold the rest locked; it fires them. Stop when nothing is left to claim.
            if batch.claimed == 0 { return report }
        }
    }

    /// Records every timer too old to be worth sending in one statement (after an outage, or
    /// the demo's 2020 history on a service started today); rows another instance holds are skipped.
    private func skipStale() async throws -> Int {
        let now = self.clock.now()
        let cutoff = now.addingTimeInterval(-(try self.policies.notificationPolicy().staleAfter))
        return try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                WITH old AS (
                    SELECT id FROM timers WHERE fired_at IS NULL AND next_attempt_at <= \(now) AND due_at < \(cutoff)
                       FOR UPDATE SKIP LOCKED
                )
                UPDATE timers t SET fired_at = \(now), outcome = 'stale' FROM old WHERE t.id = old.id
                RETURNING t.id
                """, logger: self.logger)
            var count = 0
            for try await _ in rows.decode(Int.self) { count += 1 }
            return count
        }
    }

    private struct Claimed {
        var id: Int
        var key: String
        var instanceID: UUID
        var kind: String
        var name: String
        var dueAt: Date
        var payload: String
        var attempts: Int
    }

    private func fireBatch(skipping failed: [Int]) async throws -> (report: Report, claimed: Int, failed: [Int]) {
        let staleAfter = try self.policies.notificationPolicy().staleAfter
        return try await self.database.transaction { connection in
            let now = self.clock.now()
            let rows = try await connection.query("""
                SELECT id, key, instance_id, kind, name, due_at, payload::text, attempts FROM timers
                 WHERE fired_at IS NULL AND next_attempt_at <= \(now) AND attempts < \(self.maxAttempts)
                   AND NOT (id = ANY(\(failed)))
                 ORDER BY next_attempt_at, id
                 LIMIT \(self.batchSize)
                   FOR UPDATE SKIP LOCKED
                """, logger: self.logger)
            var claimed: [Claimed] = []
            for try await (id, key, instance, kind, name, due, payload, attempts)
                in rows.decode((Int, String, UUID, String, String, Date, String, Int).self) {
                claimed.append(Claimed(id: id, key: key, instanceID: instance, kind: kind, name: name, dueAt: due,
                                       payload: payload, attempts: attempts))
            }
            var report = Report()
            var newlyFailed: [Int] = []
            for timer in claimed {
                if now.timeIntervalSince(timer.dueAt) > staleAfter {
                    try await connection.query("""
                        UPDATE timers SET fired_at = \(now), outcome = 'stale' WHERE id = \(timer.id)
                        """, logger: self.logger)
                    report.stale += 1
                    continue
                }
                try await connection.query("SAVEPOINT fire", logger: self.logger)
                do {
                    try self.beforeFiring(timer.key)
                    // For the notices only (`OutboxRoutes`): done for the vehicle-event consumer at once.
                    let name = "timer.\(timer.name)"
                    let delivered: Date? = OutboxRoutes.consumers(of: name).contains(.vehicleEvents) ? nil : now
                    try await connection.query("""
                        INSERT INTO outbox (name, key, subject_kind, subject_id, payload, created_at, delivered_at)
                        VALUES (\(name), \("timer:\(timer.key)"), \(timer.kind), \(timer.instanceID),
                                \(timer.payload)::jsonb, \(now), \(delivered))
                        ON CONFLICT (key) DO NOTHING
                        """, logger: self.logger)
                    try await connection.query("""
                        UPDATE timers SET fired_at = \(now), outcome = 'fired' WHERE id = \(timer.id)
                        """, logger: self.logger)
                    report.fired += 1
                    report.lateness.append(max(0, now.timeIntervalSince(timer.dueAt)))
                } catch {
                    try await connection.query("ROLLBACK TO SAVEPOINT fire", logger: self.logger)
                    let reason = String(reflecting: Database.translate(error))
                    let next = now.addingTimeInterval(Self.backoff(afterAttempt: timer.attempts + 1))
                    self.logger.warning("timer not fired", metadata: [
                        "signoff.timer.key": "\(timer.key)", "signoff.error": "\(reason)",
                    ])
                    try await connection.query("""
                        UPDATE timers SET attempts = attempts + 1, last_error = \(reason), next_attempt_at = \(next)
                         WHERE id = \(timer.id)
                        """, logger: self.logger)
                    report.retried += 1
                    newlyFailed.append(timer.id)
                }
            }
            return (report, claimed.count, newlyFailed)
        }
    }

    /// How many unfired timers are due now, for the metrics gauge.
    public func dueCount() async throws -> Int {
        let now = self.clock.now()
        return try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT count(*)::int FROM timers WHERE fired_at IS NULL AND next_attempt_at <= \(now) AND attempts < \(self.maxAttempts)
                """, logger: self.logger)
            for try await count in rows.decode(Int.self) { return count }
            return 0
        }
    }
}
