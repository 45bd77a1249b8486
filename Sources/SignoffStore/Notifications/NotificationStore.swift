import Foundation
import Logging
import PostgresNIO
import SignoffCore

/// One in-app notice.
public struct Notice: Sendable, Equatable {
    public var id: Int
    public var event: String
    public var title: String
    public var body: String
    public var subjectKind: String
    public var subjectID: UUID
    public var createdAt: Date
    public var readAt: Date?
}

/// Turns outbox facts into notices, per `workflows/notifications.yaml`.
///
/// Each row is claimed with `FOR UPDATE SKIP LOCKED` in its own transaction, apart from the
/// vehicle-event consumer (its own `notified_at` mark). A row outside the policy, or older
/// than `stale_after_hours`, is marked and nothing is sent; a notice that is not urgent
/// waits out the quiet hours (`notify_after`). Otherwise it writes one in-app notice per
/// recipient and one webhook delivery per matching webhook, under unique keys, so a fact
/// handled twice adds nothing.
public struct NotificationStore: Sendable {
    public struct Report: Sendable, Equatable {
        /// Facts that produced notices.
        public var notified = 0
        /// In-app notices written.
        public var notices = 0
        /// Webhook deliveries queued.
        public var deliveries = 0
        /// Facts held back by the quiet hours.
        public var deferred = 0
        /// Facts too old, or with no rule: marked, nothing sent.
        public var skipped = 0
        public var failed = 0

        public init() {}
    }

    public let database: Database
    public let clock: any WallClock
    public let policies: PolicyCatalog

    public init(database: Database, clock: any WallClock, policies: PolicyCatalog) {
        self.database = database
        self.clock = clock
        self.policies = policies
    }

    var logger: Logger { self.database.logger }

    /// Handles every waiting fact, one transaction each, until none is left to claim.
    @discardableResult
    public func drain() async throws -> Report {
        let policy = try self.policies.notificationPolicy()
        var report = Report()
        report.skipped = try await self.skipStale(policy: policy)
        report.deferred = try await self.holdBackForQuietHours(policy: policy)
        var done: [Int] = []
        while let (id, outcome) = try await self.handleNext(policy: policy, skipping: done) {
            done.append(id)
            switch outcome {
            case .notified(let notices, let deliveries):
                report.notified += 1
                report.notices += notices
                report.deliveries += deliveries
            case .deferred: report.deferred += 1
            case .skipped: report.skipped += 1
            case .failed: report.failed += 1
            }
        }
        return report
    }

    /// In the quiet hours, holds back every due notice that is not urgent until they end, in one
    /// statement: a night's signatures would otherwise take a transaction each to be put off.
    /// Rows another instance holds are skipped (it holds them back itself).
    private func holdBackForQuietHours(policy: NotificationPolicy) async throws -> Int {
        let now = self.clock.now()
        guard let release = policy.quietHours.release(after: now) else { return 0 }
        let names = policy.rules.values.filter { !$0.urgent }.map(\.event).sorted()
        guard !names.isEmpty else { return 0 }
        return try await self.rowCount("""
            WITH due AS (
                SELECT id FROM outbox
                 WHERE notified_at IS NULL AND coalesce(notify_after, created_at) <= \(now) AND name = ANY(\(names))
                   FOR UPDATE SKIP LOCKED
            )
            UPDATE outbox o SET notify_after = \(release) FROM due WHERE o.id = due.id
            RETURNING o.id
            """)
    }

    /// Marks every fact too old to send in one statement; rows another instance holds are skipped.
    private func skipStale(policy: NotificationPolicy) async throws -> Int {
        let now = self.clock.now()
        let cutoff = now.addingTimeInterval(-policy.staleAfter)
        return try await self.rowCount("""
            WITH old AS (
                SELECT id FROM outbox WHERE notified_at IS NULL AND created_at < \(cutoff)
                   FOR UPDATE SKIP LOCKED
            )
            UPDATE outbox o SET notified_at = \(now) FROM old WHERE o.id = old.id
            RETURNING o.id
            """)
    }

    /// Runs a statement that returns one id per row it changed, and counts them.
    private func rowCount(_ query: PostgresQuery) async throws -> Int {
        try await self.database.withConnection { connection in
            let rows = try await connection.query(query, logger: self.logger)
            var count = 0
            for try await _ in rows.decode(Int.self) { count += 1 }
            return count
        }
    }

    enum Outcome {
        case notified(notices: Int, deliveries: Int)
        case deferred, skipped, failed
    }

    /// The notice that fell due first (`outbox_notice_queue`, schema 0016): the ones held back
    /// by the quiet hours come after every due one, so a claim does not walk them.
    private func handleNext(policy: NotificationPolicy, skipping done: [Int]) async throws -> (Int, Outcome)? {
        try await self.database.transaction { connection -> (Int, Outcome)? in
            let now = self.clock.now()
            let rows = try await connection.query("""
                SELECT id, name, key, subject_kind, subject_id, payload::text, created_at FROM outbox
                 WHERE notified_at IS NULL AND coalesce(notify_after, created_at) <= \(now)
                   AND name = ANY(\(policy.events)) AND NOT (id = ANY(\(done)))
                 ORDER BY coalesce(notify_after, created_at), id
                 LIMIT 1
                   FOR UPDATE SKIP LOCKED
                """, logger: self.logger)
            var claimed: (id: Int, name: String, key: String, kind: String, subject: UUID, payload: String, created: Date)?
            for try await row in rows.decode((Int, String, String, String, UUID, String, Date).self) {
                claimed = row
            }
            guard let claimed, let rule = policy.rules[claimed.name] else { return nil }
            if now.timeIntervalSince(claimed.created) > policy.staleAfter {
                try await self.mark(claimed.id, now: now, on: connection)
                return (claimed.id, .skipped)
            }
            if !rule.urgent, let release = policy.quietHours.release(after: now) {
                try await connection.query("UPDATE outbox SET notify_after = \(release) WHERE id = \(claimed.id)",
                                           logger: self.logger)
                return (claimed.id, .deferred)
            }
            try await connection.query("SAVEPOINT notify", logger: self.logger)
            do {
                let fields = try StoredForm.decoder().decode([String: JSONValue].self, from: Data(claimed.payload.utf8))
                let path = try await self.unitPath(of: claimed.subject, on: connection)
                let recipients = try await self.recipients(rule, fields: fields, path: path, on: connection)
                let title = NotificationPolicy.render(rule.title, fields)
                let body = NotificationPolicy.render(rule.body, fields)
                var notices = 0
                for user in recipients {
                    let inserted = try await connection.query("""
                        INSERT INTO notifications (key, user_id, event, title, body, subject_kind, subject_id, created_at)
                        VALUES (\("\(claimed.key)#\(user.uuidString.lowercased())"), \(user), \(claimed.name), \(title), \(body),
                                \(claimed.kind), \(claimed.subject), \(now))
                        ON CONFLICT (key) DO NOTHING
                        RETURNING id
                        """, logger: self.logger)
                    for try await _ in inserted.decode(Int.self) { notices += 1 }
                }
                let deliveries = try await WebhookStore.queue(
                    outboxID: claimed.id, event: claimed.name, key: claimed.key, subjectKind: claimed.kind,
                    subjectID: claimed.subject, path: path, title: title, body: body, fields: fields, now: now,
                    on: connection, logger: self.logger)
                try await self.mark(claimed.id, now: now, on: connection)
                return (claimed.id, .notified(notices: notices, deliveries: deliveries))
            } catch {
                try await connection.query("ROLLBACK TO SAVEPOINT notify", logger: self.logger)
                self.logger.warning("notification not sent", metadata: [
                    "signoff.outbox.key": "\(claimed.key)", "signoff.error": "\(String(reflecting: error))",
                ])
                // Set aside for a while, so one bad row never blocks the queue.
                try await connection.query("""
                    UPDATE outbox SET notify_after = \(now.addingTimeInterval(300)), last_error = \(String(reflecting: error))
                     WHERE id = \(claimed.id)
                    """, logger: self.logger)
                return (claimed.id, .failed)
            }
        }
    }

    private func mark(_ id: Int, now: Date, on connection: PostgresConnection) async throws {
        try await connection.query("UPDATE outbox SET notified_at = \(now) WHERE id = \(id)", logger: self.logger)
    }

    private func unitPath(of subject: UUID, on connection: PostgresConnection) async throws -> String {
        let rows = try await connection.query("SELECT unit_path::text FROM instances WHERE id = \(subject)", logger: self.logger)
        for try await path in rows.decode(String.self) { return path }
        throw SignoffError.notFound("The record of this event")
    }

    /// The accounts an event goes to: role holders at units covering the record, or the named persons.
    private func recipients(
        _ rule: NotificationPolicy.Rule, fields: [String: JSONValue], path: String, on connection: PostgresConnection
    ) async throws -> [UUID] {
        var roles: [String] = []
        var persons: [UUID] = []
        var assignees: [UUID] = []
        for audience in rule.audiences {
            switch audience {
            case .role(let role): roles.append(role.rawValue)
            case .pendingRole:
                // A level handed to one holder (转交) reminds that holder only.
                if case .string(let text)? = fields["assignee_id"], let assignee = UUID(uuidString: text) {
                    assignees.append(assignee)
                } else if case .string(let role)? = fields["role"] {
                    roles.append(role)
                }
            case .persons:
                if case .array(let items)? = fields["person_ids"] {
                    persons += items.compactMap { if case .string(let text) = $0 { UUID(uuidString: text) } else { nil } }
                }
            }
        }
        let rows = try await connection.query("""
            SELECT DISTINCT ra.user_id FROM role_assignments ra JOIN units u ON u.id = ra.unit_id
             WHERE ra.role = ANY(\(roles)) AND u.path @> \(path)::ltree
            UNION
            SELECT id FROM users WHERE person_id = ANY(\(persons))
            UNION
            SELECT id FROM users WHERE id = ANY(\(assignees))
            ORDER BY 1
            """, logger: self.logger)
        var users: [UUID] = []
        for try await user in rows.decode(UUID.self) { users.append(user) }
        return users
    }

    // MARK: Reading

    /// The newest notices of `userID`, and how many are unread.
    public func list(for userID: UUID, unreadOnly: Bool, limit: Int) async throws -> (items: [Notice], unread: Int) {
        try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                SELECT id, event, title, body, subject_kind, subject_id, created_at, read_at FROM notifications
                 WHERE user_id = \(userID) AND (NOT \(unreadOnly) OR read_at IS NULL)
                 ORDER BY id DESC LIMIT \(limit)
                """, logger: self.logger)
            var items: [Notice] = []
            for try await (id, event, title, body, kind, subject, created, read)
                in rows.decode((Int, String, String, String, String, UUID, Date, Date?).self) {
                items.append(Notice(id: id, event: event, title: title, body: body, subjectKind: kind, subjectID: subject,
                                    createdAt: created, readAt: read))
            }
            let count = try await connection.query("""
                SELECT count(*)::int FROM notifications WHERE user_id = \(userID) AND read_at IS NULL
                """, logger: self.logger)
            var unread = 0
            for try await value in count.decode(Int.self) { unread = value }
            return (items, unread)
        }
    }

    /// Marks one notice of `userID` read (`not_found` for someone else's), or all when `id` is nil.
    @discardableResult
    public func markRead(_ id: Int?, for userID: UUID) async throws -> Int {
        let now = self.clock.now()
        return try await self.database.withConnection { connection in
            let rows = try await connection.query("""
                UPDATE notifications SET read_at = coalesce(read_at, \(now))
                 WHERE user_id = \(userID) AND (\(id)::bigint IS NULL OR id = \(id))
                   AND (read_at IS NULL OR \(id)::bigint IS NOT NULL)
                RETURNING id
                """, logger: self.logger)
            var count = 0
            for try await _ in rows.decode(Int.self) { count += 1 }
            if id != nil, count == 0 { throw SignoffError.notFound("This notification") }
            return count
        }
    }
}
