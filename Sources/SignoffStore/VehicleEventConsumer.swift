import Foundation
import Logging
import PostgresNIO
import SignoffCore

/// Turns the vehicle workflows' published facts (`vehicle.violation`, `vehicle.key_declined`)
/// into household infraction entries.
///
/// Each outbox row is handled in its own transaction: claimed with `FOR UPDATE SKIP LOCKED`
/// (so any number of stateless instances can drain one database without taking the same
/// row), mapped by `InfractionLedger.entry(for:)`, inserted under its unique source key (a
/// redelivered fact adds nothing), handed to every open isolation of the household through
/// the transition path, and marked delivered. A row that fails is rolled back to a savepoint,
/// counted with its error, and set aside after `maxAttempts` so it never blocks the queue.
public struct VehicleEventConsumer: Sendable {
    /// What one `drain()` did.
    public struct Report: Sendable, Equatable {
        /// Rows marked delivered.
        public var delivered = 0
        /// Of those, rows that added a ledger entry.
        public var scored = 0
        /// Of those, rows whose fact was counted before (a redelivery).
        public var duplicates = 0
        /// Rows that failed this time; they are retried by a later drain.
        public var failed = 0

        public init() {}
    }

    public let isolation: IsolationStore
    /// Attempts after which a failing row is left for an operator (`outbox.last_error` says why).
    public let maxAttempts: Int

    public init(isolation: IsolationStore, maxAttempts: Int = 5) {
        self.isolation = isolation
        self.maxAttempts = maxAttempts
    }

    var database: Database { self.isolation.database }
    var logger: Logger { self.isolation.database.logger }

    /// Delivers every waiting event, one transaction each, until none is left to claim.
    @discardableResult
    public func drain() async throws -> Report {
        var report = Report()
        var failed: [Int] = []
        while let outcome = try await self.deliverNext(skipping: failed) {
            switch outcome {
            case .scored: report.delivered += 1; report.scored += 1
            case .duplicate: report.delivered += 1; report.duplicates += 1
            case .ignored: report.delivered += 1
            case .failed(let id):
                report.failed += 1
                failed.append(id)
            }
        }
        return report
    }

    enum Outcome {
        case scored, duplicate, ignored
        case failed(Int)
    }

    private struct Claimed {
        var id: Int
        var event: DomainEvent
    }

    /// Claims and handles the oldest waiting row; nil when there is none this instance may take.
    func deliverNext(skipping failed: [Int]) async throws -> Outcome? {
        let policy = try self.isolation.policy()
        let names = InfractionLedger.scoredEvents.keys.sorted()
        return try await self.database.transaction { connection -> Outcome? in
            let rows = try await connection.query("""
                SELECT id, name, key, payload::text FROM outbox
                 WHERE delivered_at IS NULL AND name = ANY(\(names)) AND attempts < \(self.maxAttempts)
                   AND NOT (id = ANY(\(failed)))
                 ORDER BY id
                 LIMIT 1
                   FOR UPDATE SKIP LOCKED
                """, logger: self.logger)
            var claimed: Claimed?
            for try await (id, name, key, payload) in rows.decode((Int, String, String, String).self) {
                let fields = try StoredForm.decoder().decode([String: JSONValue].self, from: Data(payload.utf8))
                claimed = Claimed(id: id, event: DomainEvent(name: name, key: key, payload: fields))
            }
            guard let claimed else { return nil }
            let now = self.isolation.transitions.clock.now()
            try await connection.query("SAVEPOINT deliver", logger: self.logger)
            let outcome: Outcome
            do {
                outcome = try await self.deliver(claimed.event, policy: policy, at: now, on: connection)
            } catch {
                try await connection.query("ROLLBACK TO SAVEPOINT deliver", logger: self.logger)
                let reason = String(reflecting: Database.translate(error))
                self.logger.warning("outbox event not delivered", metadata: [
                    "signoff.outbox.id": "\(claimed.id)", "signoff.outbox.key": "\(claimed.event.key)",
                    "signoff.error": "\(reason)",
                ])
                try await connection.query("""
                    UPDATE outbox SET attempts = attempts + 1, last_error = \(reason) WHERE id = \(claimed.id)
                    """, logger: self.logger)
                return .failed(claimed.id)
            }
            try await connection.query("UPDATE outbox SET delivered_at = \(now) WHERE id = \(claimed.id)", logger: self.logger)
            return outcome
        }
    }

    private func deliver(
        _ event: DomainEvent, policy: IsolationPolicy, at now: Date, on connection: PostgresConnection
    ) async throws -> Outcome {
        guard let entry = try InfractionLedger.entry(for: event, policy: policy, id: UUID(), at: now) else { return .ignored }
        let gridPath = try await self.isolation.lockHousehold(entry.householdID, on: connection)
        guard gridPath == entry.gridPath else {
            throw SignoffError.invalidValue("grid_path", "The event \(event.key) names grid \(entry.gridPath), but the household is in \(gridPath).")
        }
        let recorded = try await self.isolation.append(entry, by: .system, on: connection)
        return recorded == nil ? .duplicate : .scored
    }
}
