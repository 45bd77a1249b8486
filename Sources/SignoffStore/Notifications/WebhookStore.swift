import Foundation
import Logging
import PostgresNIO
import SignoffCore

/// An outbound webhook of a unit: events of records inside the unit are POSTed to `url`.
public struct Webhook: Sendable, Equatable {
    public var id: UUID
    public var unitID: UUID
    public var unitPath: UnitPath
    public var url: String
    public var events: [String]
    public var createdAt: Date
}

/// One delivery of one fact to one webhook; `id` is the receiver's deduplication key.
public struct WebhookDelivery: Sendable, Equatable {
    public var id: UUID
    public var webhookID: UUID
    public var event: String
    public var status: String
    public var attempts: Int
    public var nextAttemptAt: Date
    public var lastError: String?
    public var lastStatus: Int?
    public var createdAt: Date
    public var deliveredAt: Date?
}

/// A delivery claimed for sending, with what the request needs.
public struct ClaimedDelivery: Sendable {
    public var id: UUID
    public var event: String
    public var body: String
    public var attempts: Int
    public var url: String
    public var secret: String
}

/// Webhooks and their deliveries. Deliveries are queued by `NotificationStore` with the
/// notices of the same fact; a sender claims due ones (a lease, so no row is held locked
/// during the HTTP call), and records each try: delivered, or retried with exponential
/// backoff and jitter, or dead after the last try, where an administrator can replay it.
public struct WebhookStore: Sendable {
    public let database: Database
    public let clock: any WallClock
    /// Tries before a delivery is dead.
    public let maxAttempts: Int
    /// The first retry's wait; each later one doubles it, up to `maxBackoff`.
    public let baseBackoff: TimeInterval
    public let maxBackoff: TimeInterval
    /// How long a claimed delivery is hidden from other senders while its request runs.
    public let lease: TimeInterval

    public init(database: Database, clock: any WallClock, maxAttempts: Int = 5, baseBackoff: TimeInterval = 10,
                maxBackoff: TimeInterval = 3_600, lease: TimeInterval = 60) {
        self.database = database
        self.clock = clock
        self.maxAttempts = maxAttempts
        self.baseBackoff = baseBackoff
        self.maxBackoff = maxBackoff
        self.lease = lease
    }

    var logger: Logger { self.database.logger }

    /// The wait after a failed try `attempt` (1-based): base × 2^(attempt−1), capped, times a
    /// random factor in [0.5, 1] so receivers that failed together are not retried together.
    public func backoff(afterAttempt attempt: Int, jitter: Double = Double.random(in: 0.5...1)) -> TimeInterval {
        min(self.maxBackoff, self.baseBackoff * pow(2, Double(max(0, attempt - 1)))) * jitter
    }

    // MARK: Managing webhooks

    public func create(unitID: UUID, url: String, secret: String, events: [String], by actor: Principal) async throws -> Webhook {
        try await self.database.transaction { connection in
            try await self.create(unitID: unitID, url: url, secret: secret, events: events, by: actor, on: connection)
        }
    }

    /// The same, inside a transaction the caller holds (the HTTP route's, with its Idempotency-Key).
    public func create(unitID: UUID, url: String, secret: String, events: [String], by actor: Principal,
                       on connection: PostgresConnection) async throws -> Webhook {
        let now = self.clock.now()
        let id = UUID()
        let unit = try await Self.unitPath(unitID, on: connection, logger: self.logger)
        _ = try actor.assignment(as: .admin, covering: unit)
        try await connection.query("""
            INSERT INTO webhooks (id, unit_id, url, secret, events, created_by, created_at)
            VALUES (\(id), \(unitID), \(url), \(secret), \(events), \(actor.userID), \(now))
            """, logger: self.logger)
        return Webhook(id: id, unitID: unitID, unitPath: unit, url: url, events: events, createdAt: now)
    }

    /// The webhooks of units inside the administrator's jurisdiction.
    public func list(for actor: Principal) async throws -> [Webhook] {
        let scopes = actor.assignments.filter { $0.role == .admin }.map { $0.unitPath.description }
        return try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT w.id, w.unit_id, u.path::text, w.url, w.events, w.created_at FROM webhooks w JOIN units u ON u.id = w.unit_id
                 WHERE w.deleted_at IS NULL AND u.path <@ ANY(\(scopes)::ltree[])
                 ORDER BY w.created_at, w.id
                """, logger: self.logger)
            var hooks: [Webhook] = []
            for try await (id, unit, path, url, events, created) in rows.decode((UUID, UUID, String, String, [String], Date).self) {
                hooks.append(Webhook(id: id, unitID: unit, unitPath: try UnitPath(path), url: url, events: events,
                                     createdAt: created))
            }
            return hooks
        }
    }

    /// Stops a webhook; its deliveries stay for the record.
    public func delete(_ id: UUID, by actor: Principal) async throws {
        try await self.database.transaction { connection in try await self.delete(id, by: actor, on: connection) }
    }

    /// The same, inside a transaction the caller holds.
    public func delete(_ id: UUID, by actor: Principal, on connection: PostgresConnection) async throws {
        let now = self.clock.now()
        let path = try await self.webhookPath(id, on: connection)
        _ = try actor.assignment(as: .admin, covering: path)
        try await connection.query("UPDATE webhooks SET deleted_at = \(now) WHERE id = \(id)", logger: self.logger)
    }

    /// Deliveries of webhooks in the administrator's jurisdiction, newest first, by status.
    public func deliveries(status: String?, for actor: Principal, limit: Int) async throws -> [WebhookDelivery] {
        let scopes = actor.assignments.filter { $0.role == .admin }.map { $0.unitPath.description }
        return try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT d.id, d.webhook_id, d.event, d.status, d.attempts, d.next_attempt_at, d.last_error, d.last_status,
                       d.created_at, d.delivered_at
                  FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id JOIN units u ON u.id = w.unit_id
                 WHERE (\(status)::text IS NULL OR d.status = \(status)) AND u.path <@ ANY(\(scopes)::ltree[])
                 ORDER BY d.created_at DESC, d.id LIMIT \(limit)
                """, logger: self.logger)
            var items: [WebhookDelivery] = []
            for try await (id, hook, event, status, attempts, next, error, last, created, delivered)
                in rows.decode((UUID, UUID, String, String, Int, Date, String?, Int?, Date, Date?).self) {
                items.append(WebhookDelivery(id: id, webhookID: hook, event: event, status: status, attempts: attempts,
                                             nextAttemptAt: next, lastError: error, lastStatus: last, createdAt: created,
                                             deliveredAt: delivered))
            }
            return items
        }
    }

    /// Sends a dead delivery again, with the same id, from a fresh count of tries.
    public func replay(_ id: UUID, by actor: Principal) async throws {
        let now = self.clock.now()
        try await self.database.transaction { connection in
            let rows = try await connection.query("""
                SELECT u.path::text, d.status FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
                  JOIN units u ON u.id = w.unit_id WHERE d.id = \(id) FOR UPDATE OF d
                """, logger: self.logger)
            var found: (String, String)?
            for try await row in rows.decode((String, String).self) { found = row }
            guard let (path, status) = found else { throw SignoffError.notFound("This delivery") }
            _ = try actor.assignment(as: .admin, covering: try UnitPath(path))
            guard status == "dead" else { throw SignoffError.invalidTransition("replay", from: status) }
            try await connection.query("""
                UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = \(now) WHERE id = \(id)
                """, logger: self.logger)
        }
    }

    // MARK: Queueing and sending

    /// Queues one delivery per live webhook whose unit covers `path` and which takes `event`
    /// (an empty event list takes all). Called in the notification's transaction.
    static func queue(
        outboxID: Int, event: String, key: String, subjectKind: String, subjectID: UUID, path: String, title: String,
        body: String, fields: [String: JSONValue], now: Date, on connection: PostgresConnection, logger: Logger
    ) async throws -> Int {
        let rows = try await connection.query("""
            SELECT w.id FROM webhooks w JOIN units u ON u.id = w.unit_id
             WHERE w.deleted_at IS NULL AND u.path @> \(path)::ltree
               AND (cardinality(w.events) = 0 OR \(event) = ANY(w.events))
             ORDER BY w.id
            """, logger: logger)
        var hooks: [UUID] = []
        for try await id in rows.decode(UUID.self) { hooks.append(id) }
        var queued = 0
        for hook in hooks {
            let id = UUID()
            let payload: [String: JSONValue] = [
                "delivery_id": .string(id.uuidString.lowercased()), "event": .string(event), "key": .string(key),
                "occurred_at": .string(now.formatted(.iso8601)),
                "subject": .object(["kind": .string(subjectKind), "id": .string(subjectID.uuidString.lowercased())]),
                "unit_path": .string(path), "title": .string(title), "body": .string(body), "data": .object(fields),
            ]
            let text = try StoreCoding.json(payload)
            let inserted = try await connection.query("""
                INSERT INTO webhook_deliveries (id, webhook_id, outbox_id, event, body, status, next_attempt_at, created_at)
                VALUES (\(id), \(hook), \(outboxID), \(event), \(text), 'pending', \(now), \(now))
                ON CONFLICT (webhook_id, outbox_id) DO NOTHING
                RETURNING 1
                """, logger: logger)
            for try await _ in inserted.decode(Int.self) { queued += 1 }
        }
        return queued
    }

    /// Claims up to `limit` due deliveries for this sender: they are hidden from other
    /// senders for `lease` while the requests run.
    public func claimDue(limit: Int = 20) async throws -> [ClaimedDelivery] {
        let now = self.clock.now()
        let hidden = now.addingTimeInterval(self.lease)
        return try await self.database.transaction { connection in
            let rows = try await connection.query("""
                WITH due AS (
                    SELECT id FROM webhook_deliveries
                     WHERE status = 'pending' AND next_attempt_at <= \(now)
                     ORDER BY next_attempt_at, id LIMIT \(limit)
                       FOR UPDATE SKIP LOCKED
                )
                UPDATE webhook_deliveries d SET next_attempt_at = \(hidden)
                  FROM due, webhooks w
                 WHERE d.id = due.id AND w.id = d.webhook_id
                RETURNING d.id, d.event, d.body, d.attempts, w.url, w.secret
                """, logger: self.logger)
            var claimed: [ClaimedDelivery] = []
            for try await (id, event, body, attempts, url, secret) in rows.decode((UUID, String, String, Int, String, String).self) {
                claimed.append(ClaimedDelivery(id: id, event: event, body: body, attempts: attempts, url: url, secret: secret))
            }
            return claimed
        }
    }

    /// How a try ended.
    public enum TryOutcome: Sendable, Equatable {
        case delivered
        case retry(at: Date)
        case dead
    }

    /// Records one try of `delivery`: `status` is the receiver's HTTP status, if it answered.
    @discardableResult
    public func record(_ delivery: ClaimedDelivery, succeeded: Bool, status: Int?, error: String?) async throws -> TryOutcome {
        let now = self.clock.now()
        let attempt = delivery.attempts + 1
        let outcome: TryOutcome
        if succeeded {
            outcome = .delivered
        } else if attempt >= self.maxAttempts {
            outcome = .dead
        } else {
            outcome = .retry(at: now.addingTimeInterval(self.backoff(afterAttempt: attempt)))
        }
        let (state, next): (String, Date) = switch outcome {
        case .delivered: ("delivered", now)
        case .dead: ("dead", now)
        case .retry(let at): ("pending", at)
        }
        try await self.database.withConnection { connection in
            try await connection.query("""
                UPDATE webhook_deliveries
                   SET status = \(state), attempts = \(attempt), next_attempt_at = \(next), last_status = \(status),
                       last_error = \(error), delivered_at = \(succeeded ? now : nil)
                 WHERE id = \(delivery.id)
                """, logger: self.logger)
        }
        return outcome
    }

    private static func unitPath(_ unitID: UUID, on connection: PostgresConnection, logger: Logger) async throws -> UnitPath {
        let rows = try await connection.query("SELECT path::text FROM units WHERE id = \(unitID)", logger: logger)
        for try await path in rows.decode(String.self) { return try UnitPath(path) }
        throw SignoffError.notFound("This unit")
    }

    private func webhookPath(_ id: UUID, on connection: PostgresConnection) async throws -> UnitPath {
        let rows = try await connection.query("""
            SELECT u.path::text FROM webhooks w JOIN units u ON u.id = w.unit_id WHERE w.id = \(id) AND w.deleted_at IS NULL
            """, logger: self.logger)
        for try await path in rows.decode(String.self) { return try UnitPath(path) }
        throw SignoffError.notFound("This webhook")
    }
}
